/**
 * `npm run bench:aws-shape [-- --json]`: what the saga costs on AWS, measured from real executions on the
 * local cloud, and how heavy its Lambdas are.
 *
 * - per path (success, each failure point, a failing compensation, a retried step): state transitions
 *   (states entered + retries, which is what Standard workflows bill), Lambda invocations, DynamoDB write
 *   and read request units (counted at the edge from each request: transactional writes 2 WRU per item,
 *   standard writes 1, consistent reads 1 RRU, eventually consistent 0.5; items are under 1 KB), and the
 *   cost per million sagas for Standard and Express at the prices in PRICES;
 * - each Lambda bundle's size and its init time in a fresh Node.js process (load the bundle, then serve a
 *   first event), with the AWS SDK bundled (what the stack ships) and provided by the runtime (external),
 *   and with and without `--enable-source-maps`.
 *
 * Figures go to docs/cost.md. This is a benchmark: it prints, it asserts nothing.
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { build } from 'esbuild';
import { createApiClient } from '../client/api';
import { requireOutput } from '../client/outputs';
import { type FaultPlan, FUNCTIONS, type FunctionId, type OrderSagaInput, stackName } from '../lib/contract';
import { ensureAssembly } from '../localcloud/assembly';
import { startLocalCloud } from '../localcloud/cloud';
import type { AwsRequest } from '../localcloud/types';
import { putBenchItems, tapDynamoDb, watchExecutions } from './support';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Published on-demand prices, us-east-1, as read on 2026-11-22 (aws.amazon.com/<service>/pricing). */
export const PRICES = {
  date: '2026-11-22',
  region: 'us-east-1',
  standardPerTransition: 0.025 / 1000,
  expressPerRequest: 1.0 / 1e6,
  expressPerGbSecond: 0.00001667,
  lambdaPerRequest: 0.2 / 1e6,
  lambdaArmPerGbSecond: 0.0000133334,
  dynamoPerWru: 0.625 / 1e6,
  dynamoPerRru: 0.125 / 1e6,
  apiGatewayRestPerRequest: 3.5 / 1e6,
} as const;

const { values: args } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const say = (line: string) => {
  if (!args.json) console.log(line);
};

interface PathSpec {
  name: string;
  promo?: boolean;
  faults?: FaultPlan;
  expected: 'SUCCEEDED' | 'FAILED';
}

const PATHS: PathSpec[] = [
  { name: 'success', expected: 'SUCCEEDED' },
  { name: 'success with promo', promo: true, expected: 'SUCCEEDED' },
  { name: 'fail at ReservePromo', promo: true, faults: { ReservePromo: 'fail' }, expected: 'FAILED' },
  { name: 'fail at ReserveStock', faults: { ReserveStock: 'fail' }, expected: 'FAILED' },
  { name: 'fail at ChargePayment', faults: { ChargePayment: 'fail' }, expected: 'FAILED' },
  { name: 'fail at BookDelivery', faults: { BookDelivery: 'fail' }, expected: 'FAILED' },
  { name: 'fail at ConfirmOrder', faults: { ConfirmOrder: 'fail' }, expected: 'FAILED' },
  {
    name: 'compensation fails (DLQ)',
    faults: { ConfirmOrder: 'fail', RefundPayment: 'fail' },
    expected: 'FAILED',
  },
  { name: 'transient:2 at ReserveStock', faults: { ReserveStock: 'transient:2' }, expected: 'SUCCEEDED' },
];

interface Units {
  wru: number;
  rru: number;
}

/** Request units of one DynamoDB request (items under 1 KB written, 4 KB read). */
function unitsOf(req: AwsRequest): Units {
  const op = req.target?.split('.')[1] ?? '';
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return { wru: 0, rru: 0 };
  }
  const consistent = body.ConsistentRead === true;
  switch (op) {
    case 'TransactWriteItems':
      return { wru: 2 * ((body.TransactItems as unknown[] | undefined)?.length ?? 0), rru: 0 };
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return { wru: 1, rru: 0 };
    case 'BatchWriteItem':
      return {
        wru: Object.values((body.RequestItems as Record<string, unknown[]>) ?? {}).reduce(
          (n, r) => n + r.length,
          0,
        ),
        rru: 0,
      };
    case 'GetItem':
    case 'Query':
      return { wru: 0, rru: consistent ? 1 : 0.5 };
    case 'TransactGetItems':
      return { wru: 0, rru: 2 * ((body.TransactItems as unknown[] | undefined)?.length ?? 0) };
    case 'BatchGetItem':
      return {
        wru: 0,
        rru: Object.values((body.RequestItems as Record<string, { Keys?: unknown[] }>) ?? {}).reduce(
          (n, r) => n + (r.Keys?.length ?? 0),
          0,
        ),
      };
    default:
      return { wru: 0, rru: 0 };
  }
}

interface PathResult {
  path: string;
  status: string;
  transitions: number;
  statesEntered: number;
  retries: number;
  lambdaInvocations: number;
  lambdaMs: number;
  wru: number;
  rru: number;
  durationMs: number;
  costPerMillion: { standard: number; express: number };
}

function costPerMillion(r: Omit<PathResult, 'costPerMillion'>): { standard: number; express: number } {
  const lambdaGbSeconds = (r.lambdaMs / 1000) * 0.25; // 256 MB functions, billed per ms
  const common =
    r.lambdaInvocations * PRICES.lambdaPerRequest +
    lambdaGbSeconds * PRICES.lambdaArmPerGbSecond +
    r.wru * PRICES.dynamoPerWru +
    r.rru * PRICES.dynamoPerRru +
    PRICES.apiGatewayRestPerRequest;
  // Express: billed per request + duration rounded up to 100 ms, in 64 MB chunks (a small state: one chunk).
  const expressSeconds = Math.ceil(r.durationMs / 100) / 10;
  const express = PRICES.expressPerRequest + expressSeconds * (64 / 1024) * PRICES.expressPerGbSecond;
  return {
    standard: 1e6 * (common + r.transitions * PRICES.standardPerTransition),
    express: 1e6 * (common + express),
  };
}

type Cloud = Awaited<ReturnType<typeof startLocalCloud>>;

async function measurePaths(cloud: Cloud): Promise<PathResult[]> {
  let units: Units = { wru: 0, rru: 0 };
  tapDynamoDb(cloud, (req) => {
    const u = unitsOf(req);
    units = { wru: units.wru + u.wru, rru: units.rru + u.rru };
  });
  const executions = watchExecutions(cloud);
  const items = await putBenchItems(cloud, 'cost');
  const api = createApiClient({ apiUrl: requireOutput(cloud.outputs, 'ApiUrl') });
  const results: PathResult[] = [];
  let seq = 0;
  for (const spec of PATHS) {
    seq += 1;
    const input: OrderSagaInput = {
      orderId: `cost-${seq}`,
      customerId: items.customerId,
      items: [{ sku: items.sku, quantity: 1 }],
      deliverySlot: items.slotId,
      ...(spec.promo ? { promoCode: items.promoCode } : {}),
      ...(spec.faults ? { faults: spec.faults } : {}),
    };
    units = { wru: 0, rru: 0 };
    const response = await api.post<{ executionArn?: string }>('orders', input);
    const arn = response.body.executionArn;
    if (response.status !== 202 || !arn)
      throw new Error(`POST /orders → ${response.status} ${response.text}`);
    const status = await executions.finished(arn);
    const list = executions.events(arn);
    const time = (e: { timestamp?: Date | string } | undefined) =>
      e?.timestamp ? new Date(e.timestamp).getTime() : 0;
    const statesEntered = list.filter((e) => e.type?.endsWith('StateEntered')).length;
    const scheduled = list.filter(
      (e) => e.type === 'LambdaFunctionScheduled' || e.type === 'TaskScheduled',
    ).length;
    const taskStates = list.filter((e) => e.type === 'TaskStateEntered').length;
    const retries = scheduled - taskStates;
    let lambdaMs = 0;
    let started: number | undefined;
    for (const e of list) {
      if (e.type === 'LambdaFunctionStarted') started = time(e);
      if (started !== undefined && /^LambdaFunction(Succeeded|Failed|TimedOut)$/.test(e.type ?? '')) {
        lambdaMs += time(e) - started;
        started = undefined;
      }
    }
    // The API's own writes and reads belong to the saga too (they ran before the execution started).
    const base = {
      path: spec.name,
      status,
      transitions: statesEntered + retries,
      statesEntered,
      retries,
      lambdaInvocations: list.filter((e) => e.type === 'LambdaFunctionScheduled').length + 1,
      lambdaMs,
      wru: units.wru,
      rru: units.rru,
      durationMs: time(list.at(-1)) - time(list[0]),
    };
    results.push({ ...base, costPerMillion: costPerMillion(base) });
    if (status !== spec.expected) throw new Error(`${spec.name}: expected ${spec.expected}, got ${status}`);
  }
  return results;
}

interface BundleResult {
  function: FunctionId;
  bundledKiB: number;
  externalSdkKiB: number;
  initMs: { bundled: number; bundledNoSourceMaps: number; externalSdk: number };
  /** Load + first event served, for the functions measured that way (fresh process, median of 3). */
  firstEventMs?: { bundled: number; bundledNoSourceMaps: number; externalSdk: number };
}

/** A first event per function measured end to end (the Api and one step stand for the rest). */
function firstEvents(
  outputs: Record<string, string>,
): Partial<Record<FunctionId, { env: Record<string, string>; event: unknown }>> {
  const tables = {
    ORDERS_TABLE_NAME: outputs.OrdersTableName ?? '',
    IDEMPOTENCY_TABLE_NAME: outputs.IdempotencyKeysTableName ?? '',
    ACCOUNTS_TABLE_NAME: outputs.AccountsTableName ?? '',
  };
  return {
    Api: {
      env: { ...tables, STATE_MACHINE_ARN: outputs.StateMachineArn ?? '' },
      event: {
        resource: '/orders/{orderId}',
        path: '/orders/init-probe',
        httpMethod: 'GET',
        headers: {},
        multiValueHeaders: {},
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        pathParameters: { orderId: 'init-probe' },
        stageVariables: null,
        requestContext: {
          requestId: 'init',
          stage: 'v1',
          resourcePath: '/orders/{orderId}',
          httpMethod: 'GET',
        },
        body: null,
        isBase64Encoded: false,
      },
    },
    ChargePayment: {
      env: tables,
      event: {
        saga: {
          orderId: `init-probe-${Date.now()}`,
          customerId: 'cost-customer',
          items: [{ sku: 'COST-SKU', quantity: 1 }],
          deliverySlot: 'cost-slot',
          results: {
            ReserveStock: {
              lines: [{ sku: 'COST-SKU', quantity: 1, unitPrice: 1500 }],
              subtotal: 1500,
              discount: 0,
              total: 1500,
            },
          },
        },
        context: {
          executionArn: 'arn:aws:states:us-east-1:000000000000:execution:init:probe',
          retryCount: 0,
        },
      },
    },
  };
}

const execFileAsync = promisify(execFile);

/**
 * Median of `runs` fresh processes: require the bundle, serve one event, print the elapsed ms. The child
 * calls the local cloud served by this process, so it must not be waited for synchronously.
 */
async function firstEventTime(
  file: string,
  runs: number,
  nodeOptions: string,
  env: Record<string, string>,
  event: unknown,
): Promise<number> {
  const script = `const t=performance.now();const m=require(${JSON.stringify(file)});
const ctx={awsRequestId:'init',functionName:'probe',functionVersion:'$LATEST',invokedFunctionArn:'arn:aws:lambda:us-east-1:000000000000:function:probe',memoryLimitInMB:'256',logGroupName:'/aws/lambda/probe',logStreamName:'probe',callbackWaitsForEmptyEventLoop:true,getRemainingTimeInMillis:()=>5000,done(){},fail(){},succeed(){}};
const ev=JSON.parse(process.env.PROBE_EVENT);if(ev.saga)ev.saga.orderId+='-'+process.pid;
Promise.resolve(m.handler(ev,ctx)).then(()=>{process.stdout.write(String(performance.now()-t));process.exit(0)},(e)=>{console.error(e);process.exit(1)});`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout: out } = await execFileAsync(process.execPath, ['-e', script], {
      env: {
        ...process.env,
        ...env,
        PROBE_EVENT: JSON.stringify(event),
        NODE_OPTIONS: nodeOptions,
        NODE_PATH: path.join(ROOT, 'node_modules'),
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    times.push(Number(out));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

/** Median of `runs` fresh Node processes loading a bundle (require + handler lookup). */
function loadTime(file: string, runs: number, nodeOptions: string): number {
  const script = `const t=performance.now();const m=require(${JSON.stringify(file)});if(typeof m.handler!=='function')throw new Error('no handler');process.stdout.write(String(performance.now()-t));`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['-e', script], {
      env: {
        ...process.env,
        NODE_OPTIONS: nodeOptions,
        NODE_PATH: path.join(ROOT, 'node_modules'),
        AWS_REGION: 'us-east-1',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    times.push(Number(out));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

async function measureBundles(assembly: string, cloud: Cloud): Promise<BundleResult[]> {
  const probes = firstEvents(cloud.outputs);
  const probeEnv = { AWS_ENDPOINT_URL: cloud.endpoint, AWS_REGION: 'us-east-1' };
  const template = JSON.parse(
    readFileSync(path.join(assembly, `${stackName('dev')}.template.json`), 'utf8'),
  ) as {
    Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
  };
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-bundles-'));
  try {
    const results: BundleResult[] = [];
    for (const [id, spec] of Object.entries(FUNCTIONS) as Array<
      [FunctionId, (typeof FUNCTIONS)[FunctionId]]
    >) {
      const resource = Object.entries(template.Resources).find(
        ([logicalId, r]) => r.Type === 'AWS::Lambda::Function' && logicalId.startsWith(`${id}Function`),
      );
      const key = resource?.[1].Properties.Code?.S3Key;
      if (!key) throw new Error(`No Lambda function for ${id} in the template`);
      // Copied out of the repository so the project's "type": "module" does not apply to the CJS bundle.
      const assetDir = path.join(assembly, `asset.${key.replace(/\.zip$/, '')}`);
      const bundledDir = path.join(scratch, `${id}-bundled`);
      mkdirSync(bundledDir);
      for (const file of ['index.js', 'index.js.map'])
        copyFileSync(path.join(assetDir, file), path.join(bundledDir, file));
      writeFileSync(path.join(bundledDir, 'package.json'), '{"type":"commonjs"}');
      const bundled = path.join(bundledDir, 'index.js');
      const external = path.join(scratch, `${id}.js`);
      await build({
        entryPoints: [path.join(ROOT, 'lambdas/handlers', spec.entry)],
        outfile: external,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node22',
        minify: true,
        keepNames: true,
        external: ['@aws-sdk/*'],
        logLevel: 'silent',
      });
      writeFileSync(path.join(scratch, 'package.json'), '{"type":"commonjs"}');
      const probe = probes[id];
      const firstEventMs = probe
        ? {
            bundled: await firstEventTime(
              bundled,
              3,
              '--enable-source-maps',
              { ...probeEnv, ...probe.env },
              probe.event,
            ),
            bundledNoSourceMaps: await firstEventTime(
              bundled,
              3,
              '',
              { ...probeEnv, ...probe.env },
              probe.event,
            ),
            externalSdk: await firstEventTime(external, 3, '', { ...probeEnv, ...probe.env }, probe.event),
          }
        : undefined;
      results.push({
        ...(firstEventMs ? { firstEventMs } : {}),
        function: id,
        bundledKiB: statSync(bundled).size / 1024,
        externalSdkKiB: statSync(external).size / 1024,
        initMs: {
          bundled: loadTime(bundled, 3, '--enable-source-maps'),
          bundledNoSourceMaps: loadTime(bundled, 3, ''),
          externalSdk: loadTime(external, 3, ''),
        },
      });
    }
    return results;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const assembly = path.resolve(ROOT, await ensureAssembly());
  const cloud = await startLocalCloud({ port: 0, assembly, quiet: true, onLog: () => {}, retryScale: 0.01 });
  try {
    await run(assembly, cloud);
  } finally {
    await cloud.close();
  }
}

async function run(assembly: string, cloud: Cloud): Promise<void> {
  say('state transitions, invocations and request units per saga (one execution per path, local cloud):');
  const paths = await measurePaths(cloud);
  if (!args.json) {
    console.log(
      '  path                          transitions  λ calls   WRU   RRU   $/1M Standard   $/1M Express',
    );
    for (const r of paths) {
      console.log(
        `  ${r.path.padEnd(30)}${String(r.transitions).padStart(6)}${String(r.lambdaInvocations).padStart(10)}` +
          `${r.wru.toFixed(0).padStart(6)}${r.rru.toFixed(1).padStart(6)}` +
          `${r.costPerMillion.standard.toFixed(2).padStart(16)}${r.costPerMillion.express.toFixed(2).padStart(15)}`,
      );
    }
  }
  say('bundles: size and load time in a fresh Node.js process (median of 3; takes a few minutes) …');
  const bundles = await measureBundles(assembly, cloud);
  if (!args.json) {
    console.log(
      '  function         bundled KiB  ext-SDK KiB  load ms (bundled, +source maps)  (bundled)  (ext SDK)',
    );
    for (const b of bundles) {
      console.log(
        `  ${b.function.padEnd(16)}${b.bundledKiB.toFixed(0).padStart(12)}${b.externalSdkKiB.toFixed(0).padStart(13)}` +
          `${b.initMs.bundled.toFixed(0).padStart(34)}${b.initMs.bundledNoSourceMaps.toFixed(0).padStart(11)}${b.initMs.externalSdk.toFixed(0).padStart(11)}`,
      );
    }
    console.log('  load + first event served (ms; bundled +source maps / bundled / external SDK):');
    for (const b of bundles) {
      if (b.firstEventMs) {
        console.log(
          `  ${b.function.padEnd(16)}${b.firstEventMs.bundled.toFixed(0).padStart(8)}${b.firstEventMs.bundledNoSourceMaps.toFixed(0).padStart(8)}${b.firstEventMs.externalSdk.toFixed(0).padStart(8)}`,
        );
      }
    }
  }
  if (args.json) console.log(JSON.stringify({ prices: PRICES, paths, bundles }, null, 2));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
