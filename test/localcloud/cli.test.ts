/**
 * `npm start` (localcloud/cli.ts) as a child process: it prints one `ready` line, writes the outputs file,
 * loads the demo data, and SIGINT stops everything it started (the DynamoDB Local JVM included).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../client/api';
import { parseCliArgs, UsageError } from '../../localcloud/cli';
import { staleReason } from '../../localcloud/synth';
import { ensureAssembly } from '../support/localcloud';
import { pollUntil } from '../support/waiting';

const CLI = path.resolve('localcloud/cli.ts');
let assembly: string;
let dir: string;

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

const until = <T>(what: string, probe: () => T | undefined, timeoutMs: number) =>
  pollUntil(what, probe, { timeoutMs });

/** A quiet start on the test assembly without the demo data, its outputs in `dir/<outputs>`. */
const unseeded = (outputs: string) => [
  '--port',
  '0',
  '--assembly',
  assembly,
  '--no-synth',
  '--no-seed',
  '--quiet',
  '--outputs',
  path.join(dir, outputs),
];

/** The CLI's `ready` line, once printed (an exit before it fails with the CLI's stderr). */
const untilReady = (cli: Run) =>
  until(
    'the ready line',
    () => {
      if (cli.child.exitCode !== null) throw new Error(`npm start exited early:\n${cli.stderr()}`);
      return cli
        .stdout()
        .split('\n')
        .find((l) => l.startsWith('ready'));
    },
    150_000,
  );

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  assembly = await ensureAssembly();
  dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-cli-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('prints one ready line, writes outputs.json, seeds, and SIGINT leaves no child process', async () => {
    const outputsFile = path.join(dir, 'outputs.json');
    const iamLog = path.join(dir, 'iam.jsonl');
    const mockFile = path.join(dir, 'MockConfigFile.json');
    writeFileSync(
      mockFile,
      JSON.stringify({
        StateMachines: {
          Checkout: { TestCases: { HappyPath: { Pay: 'Paid' }, SadPath: { Pay: 'Declined' } } },
        },
        MockedResponses: {
          Paid: { '0': { Return: { ok: true } } },
          Declined: { '0': { Throw: { Error: 'Declined', Cause: 'no funds' } } },
        },
      }),
    );
    const cli = run([
      '--port',
      '0',
      '--assembly',
      assembly,
      '--no-synth',
      '--outputs',
      outputsFile,
      '--mock-config',
      mockFile,
      '--iam-log',
      iamLog,
      '--quiet',
    ]);
    try {
      const readyLine = await untilReady(cli);
      const outputs = JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, string>;
      const health = (await (await fetch(`${outputs.Endpoint}/_localcloud/health`)).json()) as {
        status: string;
        processes: { dynamoDbLocal: number };
      };
      const dynamodb = new DynamoDBClient({
        endpoint: outputs.Endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      const customer = await dynamodb.send(
        new GetItemCommand({
          TableName: outputs.AccountsTableName,
          Key: { customerId: { S: 'customer-1' } },
        }),
      );
      dynamodb.destroy();
      // A call through the REST API: API Gateway invokes the Api function, which reads the Orders table.
      const api = createApiClient({
        apiUrl: outputs.ApiUrl as string,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      const order = await api.get('orders/cli-no-such-order');

      expect(readyLine).toMatch(/; IAM enforced \(\d+ roles, decisions in /);
      expect(readyLine).toContain(`decisions in ${iamLog});`);
      expect(order.status).toBe(404);
      expect(readyLine).toContain(outputs.ApiUrl);
      expect(readyLine).toContain(outputs.ConsoleUrl);
      expect(readyLine).toContain(outputs.Endpoint);
      expect(readyLine).toContain(`mocks loaded: 2 test cases from ${mockFile}`);
      expect(outputs.ConsoleUrl).toBe(`${outputs.Endpoint}/_console/`);
      expect(outputs.StateMachineArn).toMatch(/^arn:aws:states:/);
      expect(customer.Item?.balance?.N).toBeDefined();
      expect(health.status).toBe('ready');
      expect(alive(health.processes.dynamoDbLocal)).toBe(true);

      cli.child.kill('SIGINT');
      const code = await cli.exited;
      await until(
        'the JVM to exit',
        () => (alive(health.processes.dynamoDbLocal) ? undefined : true),
        10_000,
      );

      expect(code).toBe(0);
      expect(alive(health.processes.dynamoDbLocal)).toBe(false);

      // --iam-log: each role's grants at deploy, then one JSON line per decision of a role or service.
      const lines = readFileSync(iamLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toContainEqual(
        expect.objectContaining({
          type: 'grants',
          logicalId: expect.stringMatching(/^ApiFunctionRole/),
          grants: expect.arrayContaining([
            expect.objectContaining({
              action: 'dynamodb:GetItem',
              resource: expect.stringContaining('Orders'),
            }),
          ]),
        }),
      );
      expect(lines).toContainEqual(
        expect.objectContaining({
          type: 'decision',
          principal: 'apigateway.amazonaws.com',
          action: 'lambda:InvokeFunction',
          resource: expect.stringMatching(/^arn:aws:lambda:us-east-1:000000000000:function:.*ApiFunction/),
          decision: 'allow',
          via: 'apigateway',
          matched: expect.objectContaining({ kind: 'resource' }),
        }),
      );
      expect(lines).toContainEqual(
        expect.objectContaining({
          type: 'decision',
          principal: expect.stringMatching(/^arn:aws:sts::000000000000:assumed-role\/.*ApiFunctionRole.*\//),
          role: expect.stringMatching(/^arn:aws:iam::000000000000:role\/.*ApiFunctionRole/),
          action: 'dynamodb:GetItem',
          resource: expect.stringMatching(/^arn:aws:dynamodb:us-east-1:000000000000:table\/.*Orders/),
          decision: 'allow',
          via: 'edge',
          matched: expect.objectContaining({
            kind: 'identity',
            actionPattern: 'dynamodb:GetItem',
            resourcePattern: expect.stringContaining('Orders'),
          }),
        }),
      );
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });

  it('takes the JVM down with it even when killed with SIGKILL', async () => {
    const cli = run([...unseeded('k.json'), '--iam', 'off']);
    try {
      const readyLine = await untilReady(cli);
      const outputs = JSON.parse(readFileSync(path.join(dir, 'k.json'), 'utf8')) as Record<string, string>;
      const health = (await (await fetch(`${outputs.Endpoint}/_localcloud/health`)).json()) as {
        processes: { dynamoDbLocal: number };
      };
      const iam = (await (await fetch(`${outputs.Endpoint}/_localcloud/iam`)).json()) as { enabled: boolean };
      expect(readyLine).toContain('; IAM not enforced (--iam off);');
      expect(iam.enabled).toBe(false);

      cli.child.kill('SIGKILL');
      await cli.exited;
      await until(
        'the JVM to exit',
        () => (alive(health.processes.dynamoDbLocal) ? undefined : true),
        10_000,
      );

      expect(alive(health.processes.dynamoDbLocal)).toBe(false);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });

  it('turns IAM off with STEPSAGA_IAM=off, and says so in the ready line', async () => {
    const cli = run(unseeded('e.json'), { STEPSAGA_IAM: 'off' });
    try {
      const readyLine = await untilReady(cli);
      const outputs = JSON.parse(readFileSync(path.join(dir, 'e.json'), 'utf8')) as Record<string, string>;
      const iam = (await (await fetch(`${outputs.Endpoint}/_localcloud/iam`)).json()) as { enabled: boolean };

      expect(readyLine).toContain('; IAM not enforced (STEPSAGA_IAM=off);');
      expect(iam.enabled).toBe(false);
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });

  it('names the fix when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const cli = run([
        '--port',
        String(port),
        '--assembly',
        assembly,
        '--no-synth',
        '--outputs',
        path.join(dir, 'x.json'),
      ]);
      const code = await cli.exited;

      expect(code).toBe(1);
      expect(cli.stderr()).toContain(`Port ${port} is already in use`);
      expect(cli.stderr()).toContain('--port');
    } finally {
      blocker.close();
    }
  });
});

describe('npm start: arguments', () => {
  it('parses the options with their defaults', () => {
    expect(parseCliArgs([])).toMatchObject({ port: 4566, seed: true, assembly: 'cdk.out', synth: true });
    expect(
      parseCliArgs(['--port', '0', '--persist', 'data', '--no-seed', '--retry-scale', '0.01']),
    ).toMatchObject({ port: 0, persistDir: 'data', seed: false, retryScale: 0.01 });
    expect(parseCliArgs([]).iam).toBeUndefined();
    expect(parseCliArgs(['--iam', 'off', '--iam-log', 'd.jsonl'])).toMatchObject({
      iam: false,
      iamLog: 'd.jsonl',
    });
    expect(parseCliArgs(['--iam', 'on'])).toMatchObject({ iam: true });
  });

  it('rejects bad values with a message naming the option', () => {
    expect(() => parseCliArgs(['--port', 'http'])).toThrow(UsageError);
    expect(() => parseCliArgs(['--port', '70000'])).toThrow(/--port/);
    expect(() => parseCliArgs(['--retry-scale', '-1'])).toThrow(/--retry-scale/);
    expect(() => parseCliArgs(['--bogus'])).toThrow(/bogus/);
    expect(() => parseCliArgs(['--iam', 'no'])).toThrow("--iam must be on or off, got 'no'");
  });

  it('asks for a synth when the assembly is missing, stale or synthesized with other context', () => {
    const sources = path.join(dir, 'src');
    const fresh = path.join(dir, 'fresh');
    const noFaults = path.join(dir, 'no-faults');
    const unmarked = path.join(dir, 'unmarked');
    mkdirSync(sources, { recursive: true });
    for (const [assemblyDir, context] of [
      [fresh, { faults: 'on' }],
      [noFaults, {}],
      [unmarked, undefined],
    ] as const) {
      mkdirSync(assemblyDir, { recursive: true });
      if (context) writeFileSync(path.join(assemblyDir, 'stepsaga-synth.json'), JSON.stringify({ context }));
      writeFileSync(path.join(assemblyDir, 'manifest.json'), '{}');
    }
    const wanted = { context: { faults: 'on' }, sources: [sources] };

    expect(staleReason(path.join(dir, 'nowhere'), wanted)).toMatch(/missing/);
    // (an assembly the local cloud synthesized itself is up to date: test/localcloud/synth.test.ts)
    expect(staleReason(noFaults, wanted)).toMatch(/not synthesized with -c faults=on/);
    expect(staleReason(unmarked, wanted)).toMatch(/not synthesized with -c faults=on/);
    expect(staleReason(fresh, { sources: [sources] })).toMatch(/not synthesized with no extra context/);
    expect(staleReason(fresh, wanted)).toMatch(/synthesized by another command since/);
    writeFileSync(path.join(sources, 'handler.ts'), '// changed after the synth');
    utimesSync(path.join(sources, 'handler.ts'), new Date(), new Date(Date.now() + 5_000));
    expect(staleReason(fresh, wanted)).toMatch(/changed/);
  });
});
