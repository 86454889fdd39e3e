import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FUNCTIONS, OUTPUTS, stackName } from '../../lib/contract';
import { TRANSFER_STEPS } from '../../lib/transfer-contract';
import { PROJECT_ROOT } from '../../toolkit/construct/saga-function';

const NEEDED_SERVICES = [
  'stepfunctions',
  'lambda',
  'dynamodb',
  'sqs',
  'apigateway',
  'iam',
  'logs',
  'cloudwatch',
  'sts',
  's3',
  'ssm',
  'cloudformation',
];

interface ComposeFile {
  services: Record<
    string,
    { image: string; ports: string[]; environment: Record<string, string>; volumes: string[] }
  >;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const outdir = mkdtempSync(path.join(tmpdir(), 'stepsaga-cdklocal-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('LocalStack path', () => {
  it('docker-compose.yml runs LocalStack on 4566 with the services the stack needs and the Docker socket', () => {
    const compose = parse(readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as ComposeFile;
    const localstack = compose.services.localstack;

    expect(localstack?.image).toMatch(/^localstack\/localstack:\d/);
    expect(localstack?.ports.some((p) => p.endsWith(':4566:4566') || p === '4566:4566')).toBe(true);
    expect(localstack?.environment.SERVICES?.split(',').sort()).toEqual([...NEEDED_SERVICES].sort());
    expect(localstack?.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
  });

  it('deploy:localstack refuses clearly, and deploys nothing, when LocalStack is not running', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;

    const result = await run(process.execPath, ['--import', 'tsx', 'scripts/deploy-localstack.ts'], {
      ...process.env,
      AWS_ENDPOINT_URL: endpoint,
    });

    expect(result.code).toBe(1);
    expect(result.output).toContain(`LocalStack does not answer on ${endpoint}/_localstack/health`);
    expect(result.output).not.toContain('cdklocal bootstrap');
  });

  it('cdklocal (over the pinned CDK CLI) synthesizes the faults=on assembly with every Lambda bundle (CJS, source map, keepNames)', async () => {
    const result = await run(
      process.execPath,
      [
        'node_modules/aws-cdk-local/bin/cdklocal',
        'synth',
        '--quiet',
        '-c',
        'faults=on',
        '-o',
        outdir,
        '--no-notices',
      ],
      {
        ...process.env,
        CDK_DISABLE_CLI_TELEMETRY: 'true',
        CDK_DISABLE_VERSION_CHECK: '1',
        AWS_EC2_METADATA_DISABLED: 'true',
        // The full synth, CDK's template validation included (the infra project turns it off).
        CDK_VALIDATION: 'true',
      },
    );

    expect(result.code, result.output.slice(-2000)).toBe(0);
    const template = JSON.parse(
      readFileSync(path.join(outdir, `${stackName('dev')}.template.json`), 'utf8'),
    ) as {
      Outputs: Record<string, unknown>;
    };
    expect(Object.keys(template.Outputs).sort()).toEqual([...OUTPUTS].sort());
    const bundles = readdirSync(outdir).filter(
      (d) => d.startsWith('asset.') && existsSync(path.join(outdir, d, 'index.js')),
    );
    // The order saga's functions and the transfer saga's (a step and a compensation per step, and redrive).
    expect(bundles).toHaveLength(Object.keys(FUNCTIONS).length + 2 * Object.keys(TRANSFER_STEPS).length + 1);
    for (const bundle of bundles) {
      const code = readFileSync(path.join(outdir, bundle, 'index.js'), 'utf8');
      expect(existsSync(path.join(outdir, bundle, 'index.js.map'))).toBe(true);
      expect(code.startsWith('"use strict";'), 'CommonJS output').toBe(true);
      expect(code.trimEnd().endsWith('//# sourceMappingURL=index.js.map')).toBe(true);
      // keepNames: minified classes get their names back, so error.name survives bundling.
      expect(code).toContain(',"name",{value:');
    }
  }, 300_000);
});
