/**
 * The local Lambda service through the AWS SDK over real HTTP (an Edge with only Lambda registered):
 * isolation, concurrency, timeouts, crash containment, logs and AWS error shapes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ResourceConflictException,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Edge } from '../../localcloud/edge';
import { LambdaService } from '../../localcloud/lambda/service';

let edge: Edge;
let lambda: LambdaService;
let client: LambdaClient;
let workDir: string;
const logs: Array<{ fn: string; line: string }> = [];

const SOURCE = `
const { threadId } = require('node:worker_threads');
exports.handler = async (event, context) => {
  console.log('event', JSON.stringify(event));
  switch (event.action) {
    case 'env': return { color: process.env.COLOR, region: process.env.AWS_REGION, endpoint: process.env.AWS_ENDPOINT_URL, fn: process.env.AWS_LAMBDA_FUNCTION_NAME, handler: process.env._HANDLER };
    case 'context': return { requestId: context.awsRequestId, name: context.functionName, arn: context.invokedFunctionArn, memory: context.memoryLimitInMB, remaining: context.getRemainingTimeInMillis(), group: context.logGroupName };
    case 'sleep': await new Promise((r) => setTimeout(r, event.ms)); return { threadId };
    case 'spin': for (;;) {}
    case 'throw': { const e = new Error('card declined'); e.name = 'PaymentDeclined'; throw e; }
    case 'exit': process.exit(7);
    case 'reject': Promise.reject(new Error('nobody awaits me')); await new Promise((r) => setTimeout(r, 100)); return 'late';
    case 'timer-throw': setTimeout(() => { throw new Error('thrown in a timer'); }, 1); await new Promise((r) => setTimeout(r, 100)); return 'late';
    default: return { threadId, echo: event };
  }
};
`;

/** Module-level code that keeps the CPU busy for 1.5 s, the way loading a large bundle does. */
const BUSY_INIT = 'for (const end = Date.now() + 1500; Date.now() < end; ) {}';

function writeFunction(name: string, source: string, file = 'index.js'): string {
  const dir = path.join(workDir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, file), source);
  return dir;
}

async function invoke(name: string, event: unknown, logType?: 'Tail') {
  const out = await client.send(
    new InvokeCommand({
      FunctionName: name,
      Payload: Buffer.from(JSON.stringify(event)),
      ...(logType ? { LogType: logType } : {}),
    }),
  );
  return {
    payload: JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')) as Record<
      string,
      unknown
    >,
    functionError: out.FunctionError,
    logResult: out.LogResult,
    version: out.ExecutedVersion,
  };
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'lambda-test-'));
  edge = new Edge({ port: 0 });
  lambda = new LambdaService({
    dataDir: path.join(workDir, 'data'),
    endpoint: () => edge.endpoint,
    maxContainersPerFunction: 4,
    onLog: (fn, line) => logs.push({ fn, line }),
  });
  edge.register(lambda);
  await edge.listen();
  client = new LambdaClient({
    endpoint: edge.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  for (const [name, color] of [
    ['blue', 'BLUE'],
    ['green', 'GREEN'],
  ] as const) {
    await lambda.createFunction({
      name,
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      codeDir: writeFunction(name, SOURCE),
      environment: { COLOR: color },
      timeoutSeconds: 1,
      memoryMb: 256,
    });
  }
});

afterAll(async () => {
  client?.destroy();
  await edge?.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('Lambda service', () => {
  it('gives each function its own environment and the runtime variables', async () => {
    const blue = await invoke('blue', { action: 'env' });
    const green = await invoke('green', { action: 'env' });

    expect(blue.payload).toEqual({
      color: 'BLUE',
      region: 'us-east-1',
      endpoint: edge.endpoint,
      fn: 'blue',
      handler: 'index.handler',
    });
    expect(green.payload.color).toBe('GREEN');
  });

  it('passes a Lambda context object', async () => {
    const { payload, version } = await invoke('blue', { action: 'context' });

    expect(payload).toMatchObject({
      name: 'blue',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:blue',
      memory: '256',
      group: '/aws/lambda/blue',
    });
    expect(payload.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.remaining).toBeGreaterThan(0);
    expect(payload.remaining).toBeLessThanOrEqual(1000);
    expect(version).toBe('$LATEST');
  });

  it('runs concurrent invocations in separate warm workers, up to the pool size', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => invoke('green', { action: 'sleep', ms: 200 })),
    );

    const threads = new Set(results.map((r) => r.payload.threadId));
    expect(threads.size).toBeGreaterThan(1);
    expect(threads.size).toBeLessThanOrEqual(4);
  });

  it('ends containers idle for the idle limit (memory follows load); the next invoke is a cold start', async () => {
    await lambda.createFunction({
      name: 'idle',
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      codeDir: writeFunction('idle', SOURCE),
      environment: {},
      timeoutSeconds: 1,
      memoryMb: 128,
    });
    await Promise.all(Array.from({ length: 3 }, () => invoke('idle', { action: 'sleep', ms: 100 })));
    const warm = lambda.containerCount('idle');
    expect(warm).toBeGreaterThan(0);

    lambda.reapIdle(Date.now() + 60_000); // a minute later: still within the 5-minute idle limit
    expect(lambda.containerCount('idle')).toBe(warm);
    lambda.reapIdle(Date.now() + 5 * 60_000);
    expect(lambda.containerCount('idle')).toBe(0);

    const again = await invoke('idle', { action: 'echo' }, 'Tail');
    expect(again.functionError).toBeUndefined();
    expect(Buffer.from(again.logResult ?? '', 'base64').toString('utf8')).toMatch(
      /REPORT RequestId: .*\tInit Duration: \d+\.\d\d ms/,
    );
    expect(lambda.containerCount('idle')).toBe(1);
  });

  it('terminates a function that exceeds its timeout and keeps serving', async () => {
    const timedOut = await invoke('blue', { action: 'spin' });
    const after = await invoke('blue', { action: 'echo', n: 1 });

    expect(timedOut.functionError).toBe('Unhandled');
    expect(timedOut.payload).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Task timed out after 1\.00 seconds$/),
    });
    expect(after.payload.echo).toEqual({ action: 'echo', n: 1 });
  });

  it.each([
    ['throw', 'PaymentDeclined', 'card declined'],
    ['exit', 'Runtime.ExitError', 'Runtime exited with error: exit status 7'],
    ['reject', 'Runtime.UnhandledPromiseRejection', 'Error: nobody awaits me'],
    ['timer-throw', 'Error', 'thrown in a timer'],
  ])(
    'contains a crashing handler (%s) with the Node.js runtime error shape',
    async (action, errorType, message) => {
      const crashed = await invoke('green', { action });
      const after = await invoke('green', { action: 'echo' });

      expect(crashed.functionError).toBe('Unhandled');
      expect(crashed.payload.errorType).toBe(errorType);
      expect(String(crashed.payload.errorMessage)).toContain(message);
      expect(after.functionError).toBeUndefined();
    },
  );

  it('starts the function timeout when the handler is called: a slow init does not time out', async () => {
    // Prepare: a module that spends 1.5 s at load (like a big bundle on a busy machine), 1 s timeout.
    await lambda.createFunction({
      name: 'slow-init',
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      codeDir: writeFunction('slow-init', `${BUSY_INIT}\n${SOURCE}`),
      environment: {},
      timeoutSeconds: 1,
      memoryMb: 256,
    });

    // Act: the first (cold) invocation, then a handler slower than the timeout in the same warm container.
    const cold = await invoke('slow-init', { action: 'echo', n: 1 }, 'Tail');
    const slowHandler = await invoke('slow-init', { action: 'sleep', ms: 1500 });

    // Assess
    expect(cold.functionError).toBeUndefined();
    expect(cold.payload.echo).toEqual({ action: 'echo', n: 1 });
    const report = Buffer.from(cold.logResult ?? '', 'base64').toString('utf8');
    expect(report).toMatch(/REPORT RequestId: .*\tInit Duration: \d+\.\d\d ms/);
    expect(slowHandler.functionError).toBe('Unhandled');
    expect(slowHandler.payload.errorType).toBe('Sandbox.Timedout');
  });

  it('retries an init that outlives the init limit inside the invoke, under the function timeout', async () => {
    // Prepare: a 1 s init limit (Lambda: 10 s), a module that takes 1.5 s to load.
    const shortInit = new LambdaService({
      dataDir: path.join(workDir, 'data-short-init'),
      endpoint: () => edge.endpoint,
      initTimeoutSeconds: 1,
    });
    for (const [name, timeoutSeconds] of [
      ['init-retried', 5],
      ['init-too-slow', 1],
    ] as const) {
      await shortInit.createFunction({
        name,
        handler: 'index.handler',
        runtime: 'nodejs22.x',
        codeDir: writeFunction(name, `${BUSY_INIT}\n${SOURCE}`),
        environment: {},
        timeoutSeconds,
        memoryMb: 256,
      });
    }

    try {
      // Act
      const retried = await shortInit.invoke('init-retried', '{"action":"echo"}', { logType: 'Tail' });
      const tooSlow = await shortInit.invoke('init-too-slow', '{"action":"echo"}');

      // Assess: the retried init fits in 5 s; in 1 s it does not, and the invoke times out.
      expect(retried.functionError).toBeUndefined();
      expect(JSON.parse(retried.payload)).toMatchObject({ echo: { action: 'echo' } });
      expect(Buffer.from(retried.logTail ?? '', 'base64').toString('utf8')).toMatch(
        /INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: timeout/,
      );
      expect(tooSlow.functionError).toBe('Unhandled');
      expect(JSON.parse(tooSlow.payload)).toMatchObject({ errorType: 'Sandbox.Timedout' });
    } finally {
      await shortInit.close();
    }
  });

  it('answers the Node.js runtime init error when the module throws at load, and logs INIT_REPORT', async () => {
    await lambda.createFunction({
      name: 'broken-init',
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      codeDir: writeFunction(
        'broken-init',
        "const e = new Error('missing TABLE_NAME'); e.name = 'ConfigError'; throw e;\nexports.handler = async () => 1;",
      ),
      environment: {},
      timeoutSeconds: 1,
      memoryMb: 256,
    });

    const { payload, functionError, logResult } = await invoke('broken-init', {}, 'Tail');

    expect(functionError).toBe('Unhandled');
    expect(payload).toMatchObject({ errorType: 'ConfigError', errorMessage: 'missing TABLE_NAME' });
    expect(Buffer.from(logResult ?? '', 'base64').toString('utf8')).toMatch(
      /INIT_REPORT Init Duration: .*Status: error\tError Type: ConfigError/,
    );
  });

  it('returns the trace of a thrown error like the Node.js runtime', async () => {
    const { payload } = await invoke('blue', { action: 'throw' });

    expect(payload.trace).toEqual(
      expect.arrayContaining([expect.stringContaining('PaymentDeclined: card declined')]),
    );
  });

  it('captures console output per function and returns the log tail on request', async () => {
    const { logResult } = await invoke('blue', { action: 'echo', marker: 'tail-me' }, 'Tail');

    const tail = Buffer.from(logResult ?? '', 'base64').toString('utf8');
    expect(tail).toMatch(/START RequestId: \S+ Version: \$LATEST/);
    expect(tail).toMatch(/\tINFO\tevent \{"action":"echo","marker":"tail-me"\}/);
    expect(tail).toMatch(/REPORT RequestId: \S+\tDuration: /);
    expect(logs.some((l) => l.fn === 'blue' && l.line.includes('tail-me'))).toBe(true);
    expect(logs.some((l) => l.fn === 'green' && l.line.includes('tail-me'))).toBe(false);
  });

  it('creates a function from a zip (CommonJS and ESM handlers), lists and describes it', async () => {
    const cjs = zipSync({
      'src/app.js': new TextEncoder().encode('exports.main = async (e) => ({ cjs: e.x });'),
    });
    const esm = zipSync({
      'index.mjs': new TextEncoder().encode('export const handler = async (e) => ({ esm: e.x });'),
    });

    await client.send(
      new CreateFunctionCommand({
        FunctionName: 'zipped-cjs',
        Runtime: 'nodejs22.x',
        Handler: 'src/app.main',
        Role: 'arn:aws:iam::000000000000:role/r',
        Code: { ZipFile: cjs },
      }),
    );
    await client.send(
      new CreateFunctionCommand({
        FunctionName: 'zipped-esm',
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Role: 'arn:aws:iam::000000000000:role/r',
        Code: { ZipFile: esm },
        Environment: { Variables: { A: '1' } },
      }),
    );

    expect((await invoke('zipped-cjs', { x: 1 })).payload).toEqual({ cjs: 1 });
    expect((await invoke('zipped-esm', { x: 2 })).payload).toEqual({ esm: 2 });
    const listed = await client.send(new ListFunctionsCommand({}));
    expect(listed.Functions?.map((f) => f.FunctionName)).toEqual(
      expect.arrayContaining(['blue', 'green', 'zipped-cjs', 'zipped-esm']),
    );
    const got = await client.send(new GetFunctionCommand({ FunctionName: 'zipped-esm' }));
    expect(got.Configuration).toMatchObject({
      FunctionName: 'zipped-esm',
      Handler: 'index.handler',
      Timeout: 3,
      MemorySize: 128,
      Environment: { Variables: { A: '1' } },
      State: 'Active',
    });
  });

  it('answers AWS-shaped errors and changes nothing on bad input', async () => {
    const notFound = client.send(new InvokeCommand({ FunctionName: 'nope' }));
    await expect(notFound).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(notFound).rejects.toMatchObject({
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope:$LATEST',
      $metadata: { httpStatusCode: 404 },
    });

    const duplicate = client.send(
      new CreateFunctionCommand({
        FunctionName: 'blue',
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Role: 'arn:aws:iam::000000000000:role/r',
        Code: { ZipFile: zipSync({ 'index.js': new Uint8Array() }) },
      }),
    );
    await expect(duplicate).rejects.toBeInstanceOf(ResourceConflictException);

    const badRuntime = client.send(
      new CreateFunctionCommand({
        FunctionName: 'py',
        Runtime: 'python3.12',
        Handler: 'index.handler',
        Role: 'arn:aws:iam::000000000000:role/r',
        Code: { ZipFile: zipSync({ 'index.py': new Uint8Array() }) },
      }),
    );
    await expect(badRuntime).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(lambda.listFunctions().map((f) => f.FunctionName)).not.toContain('py');
    expect((await invoke('blue', { action: 'env' })).payload.color).toBe('BLUE');
  });

  it('refuses an Event invocation over 256 KiB with 413 up front, and never runs it', async () => {
    // Prepare: events of exactly 262 144 bytes (the asynchronous limit) and one byte more.
    const eventOf = (marker: string, bytes: number): Buffer => {
      const event = { marker, padding: '' };
      event.padding = 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify(event)));
      return Buffer.from(JSON.stringify(event));
    };
    const tooLarge = `too-large-${Date.now()}`;
    const atLimit = `at-limit-${Date.now()}`;

    // Act
    const refused = await client
      .send(
        new InvokeCommand({
          FunctionName: 'blue',
          InvocationType: 'Event',
          Payload: eventOf(tooLarge, 262_145),
        }),
      )
      .catch((error: unknown) => error);
    const accepted = await client.send(
      new InvokeCommand({
        FunctionName: 'blue',
        InvocationType: 'Event',
        Payload: eventOf(atLimit, 262_144),
      }),
    );

    // Assess
    expect(refused).toMatchObject({
      name: 'RequestEntityTooLargeException',
      message: 'Request must be smaller than 262144 bytes for the InvokeFunction operation',
      $metadata: { httpStatusCode: 413 },
    });
    expect(accepted.StatusCode).toBe(202);
    const deadline = Date.now() + 10_000;
    while (!logs.some(({ line }) => line.includes(atLimit)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(logs.some(({ line }) => line.includes(atLimit))).toBe(true);
    expect(logs.some(({ line }) => line.includes(tooLarge))).toBe(false);
  });
});

describe('Lambda service under a burst', () => {
  /** A handler that calls back the test's hold server and answers only when the test lets it go. */
  const HOLD_SOURCE = `
const http = require('node:http');
exports.handler = (event) => new Promise((resolve, reject) => {
  http.get(event.url + '?id=' + encodeURIComponent(event.id), (res) => {
    res.resume();
    res.on('end', () => resolve({ done: event.id }));
  }).on('error', reject);
});
`;
  let burstEdge: Edge;
  let burst: LambdaService;
  let burstClient: LambdaClient;
  let holdServer: Server;
  let holdUrl: string;
  const held: ServerResponse[] = [];
  const arrivals: string[] = [];
  let onArrival: () => void = () => undefined;

  /** Resolves once `n` invocations in all have reached the hold server. */
  const arrived = (n: number): Promise<void> =>
    new Promise((resolve) => {
      const check = () => {
        if (arrivals.length >= n) resolve();
      };
      const previous = onArrival;
      onArrival = () => {
        previous();
        check();
      };
      check();
    });
  const releaseAll = (): void => {
    for (const res of held.splice(0)) res.end('ok');
  };
  const hold = (functionName: string, id: string) =>
    burst.invoke(functionName, JSON.stringify({ url: holdUrl, id }));

  beforeAll(async () => {
    holdServer = createServer((req, res) => {
      arrivals.push(new URL(req.url ?? '/', 'http://hold').searchParams.get('id') ?? '');
      held.push(res);
      onArrival();
    });
    await new Promise<void>((resolve) => holdServer.listen(0, '127.0.0.1', resolve));
    holdUrl = `http://127.0.0.1:${(holdServer.address() as AddressInfo).port}/`;
    burstEdge = new Edge({ port: 0 });
    // An account of 4 concurrent executions, 2 containers per function.
    burst = new LambdaService({
      dataDir: path.join(workDir, 'burst-data'),
      endpoint: () => burstEdge.endpoint,
      maxContainersPerFunction: 2,
      concurrencyLimit: 4,
      onLog: (fn, line) => logs.push({ fn, line }),
    });
    burstEdge.register(burst);
    await burstEdge.listen();
    burstClient = new LambdaClient({
      endpoint: burstEdge.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const spec = {
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      environment: {},
      timeoutSeconds: 30,
      memoryMb: 128,
    };
    await burst.createFunction({ ...spec, name: 'held', codeDir: writeFunction('held', HOLD_SOURCE) });
    await burst.createFunction({
      ...spec,
      name: 'reserved',
      codeDir: writeFunction('reserved', HOLD_SOURCE),
      reservedConcurrency: 1,
    });
  });

  afterAll(async () => {
    releaseAll();
    burstClient?.destroy();
    await burstEdge?.close();
    await new Promise((resolve) => holdServer?.close(resolve));
  });

  it('throttles a synchronous invoke beyond the concurrency limit at once; those within it wait for a container and all complete', async () => {
    // Prepare: the account's 4 minus the reserved function's 1 leaves 3 for "held", which has 2
    // containers: two invocations run, the third waits for a container.
    const within = ['a', 'b', 'c'].map((id) => hold('held', id));
    await arrived(2);

    // Act: one more while all three are in flight
    const throttled = await burstClient
      .send(
        new InvokeCommand({
          FunctionName: 'held',
          Payload: Buffer.from(JSON.stringify({ url: holdUrl, id: 'd' })),
        }),
      )
      .catch((error: unknown) => error);

    // Assess: refused at once (the three are still held), with AWS's error and reason
    expect(throttled).toMatchObject({
      name: 'TooManyRequestsException',
      message: 'Rate Exceeded.',
      Reason: 'ConcurrentInvocationLimitExceeded',
      $metadata: { httpStatusCode: 429 },
    });
    expect([...arrivals].sort()).toEqual(['a', 'b']);
    expect(burst.concurrency('held').throttled).toBe(1);
    expect(burst.stats()).toMatchObject({
      concurrencyLimit: 4,
      throttled: 1,
      throttledByFunction: { held: 1 },
    });
    releaseAll();
    await arrived(3);
    releaseAll();
    const results = await Promise.all(within);
    expect(results.map((r) => [r.statusCode, JSON.parse(r.payload)])).toEqual([
      [200, { done: 'a' }],
      [200, { done: 'b' }],
      [200, { done: 'c' }],
    ]);
    expect(arrivals).not.toContain('d');
    expect(burst.concurrency().inFlight).toBe(0);
  });

  it('throttles a function at its reserved concurrency with ReservedFunctionConcurrentInvocationLimitExceeded', async () => {
    arrivals.length = 0;
    const first = hold('reserved', 'r1');
    await arrived(1);

    const throttled = await burstClient
      .send(
        new InvokeCommand({
          FunctionName: 'reserved',
          Payload: Buffer.from(JSON.stringify({ url: holdUrl, id: 'r2' })),
        }),
      )
      .catch((error: unknown) => error);

    expect(throttled).toMatchObject({
      name: 'TooManyRequestsException',
      message: 'Rate Exceeded.',
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    });
    releaseAll();
    expect((await first).statusCode).toBe(200);
  });

  it('queues Event invocations under a burst instead of refusing them, and runs every one', async () => {
    arrivals.length = 0;
    // Prepare: "held" at its limit (3 in flight)
    const sync = ['s1', 's2', 's3'].map((id) => hold('held', id));
    await arrived(2);

    // Act: a burst of 6 Event invocations while the function has no concurrency left
    const accepted = await Promise.all(
      ['e1', 'e2', 'e3', 'e4', 'e5', 'e6'].map((id) =>
        burstClient.send(
          new InvokeCommand({
            FunctionName: 'held',
            InvocationType: 'Event',
            Payload: Buffer.from(JSON.stringify({ url: holdUrl, id })),
          }),
        ),
      ),
    );

    // Assess: every event accepted (202), none run yet; then all run as concurrency frees up
    expect(accepted.map((a) => a.StatusCode)).toEqual([202, 202, 202, 202, 202, 202]);
    expect(burst.concurrency('held')).toMatchObject({ inFlight: 3, queuedEvents: 6 });
    for (let seen = 3; seen <= 9; seen++) {
      releaseAll();
      await arrived(seen);
    }
    releaseAll();
    await Promise.all(sync);
    expect([...arrivals].sort()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 's1', 's2', 's3']);
    expect(logs.some(({ line }) => /Asynchronous invocation .* was (not run|discarded)/.test(line))).toBe(
      false,
    );
  });
});
