/**
 * `npm run bench [-- --json] [--sagas N]`: how fast the local cloud runs the saga, in one run.
 *
 * - start-up: `npm start`'s command to `ready` (JVM included, a child process), and the deploy alone;
 * - sagas per second and p50/p99 latency (POST to terminal status) at concurrency 1, 8 and 32, for the
 *   success path and for a path that compensates three steps (fail at BookDelivery);
 * - the ceiling: DynamoDB Local's own TransactWriteItems rate (measured directly, same JVM, concurrency
 *   32) divided by the DynamoDB writes one saga makes (counted at the edge), and achieved / ceiling;
 * - peak memory of the whole local cloud (this process, with its Lambda workers, plus the JVM);
 * - with `--persist`: the same again on a local cloud persisting to a fresh directory (`npm start --
 *   --persist DIR`: journals, DynamoDB Local on disk), start-up with an empty DIR included, and the ratio
 *   with/without persistence of each figure.
 *
 * Figures go to docs/performance.md. This is a benchmark: it prints, it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createApiClient } from '../client/api';
import { requireOutput } from '../client/outputs';
import type { FaultPlan, OrderSagaInput } from '../lib/contract';
import { ensureAssembly } from '../localcloud/assembly';
import { startLocalCloud } from '../localcloud/cloud';
import { type HistoryEventLike, putBenchItems, tapDynamoDb, watchExecutions } from './support';

const ROOT = path.resolve(import.meta.dirname, '..');

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    sagas: { type: 'string', default: '160' },
    concurrency: { type: 'string', default: '1,8,32' },
    persist: { type: 'boolean', default: false },
  },
});
const SAGAS_AT_32 = Number(args.sagas);
const LEVELS = args.concurrency.split(',').map(Number);
const say = (line: string) => {
  if (!args.json) console.log(line);
};

const DYNAMODB_WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
]);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** CPU time (user + system) used so far, in ms, from a /proc stat file (0 where there is none). */
function cpuMsOfStat(file: string): number {
  try {
    // Fields 14 and 15 (utime, stime) after the parenthesised command name, in clock ticks (USER_HZ = 100).
    const fields = readFileSync(file, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}
const cpuMsOf = (pid: number | undefined) => (pid ? cpuMsOfStat(`/proc/${pid}/stat`) : 0);
/** CPU of this process's main thread alone: the edge, API Gateway, Step Functions, IAM, the proxies. */
const mainThreadCpuMs = () => cpuMsOfStat(`/proc/self/task/${process.pid}/stat`);

/** CPU time of this process (main thread and every Lambda worker thread), in ms. */
function nodeCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** `npm start` as a user runs it: command to the `ready` line, in a child process. */
async function measureStartup(
  assembly: string,
  persist: boolean,
): Promise<{ commandToReadyMs: number; reportedReadyMs?: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stepsaga-bench-start-'));
  // `--persist` on an empty directory: the first start of a persisted local cloud.
  const persistArgs = persist ? ['--persist', path.join(dir, 'persist')] : [];
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'localcloud/cli.ts',
      '--port',
      '0',
      '--assembly',
      assembly,
      '--no-synth',
      '--outputs',
      path.join(dir, 'outputs.json'),
      ...persistArgs,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    return await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no "ready" line within 60 s:\n${out}`)), 60_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => /\bready\b/.test(l));
        if (line) {
          clearTimeout(timer);
          const reported = /ready in ([\d.]+)\s*s/.exec(line)?.[1];
          resolve({
            commandToReadyMs: performance.now() - started,
            ...(reported ? { reportedReadyMs: Number(reported) * 1000 } : {}),
          });
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited with ${code} before "ready":\n${out}`));
      });
    });
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('close', resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

interface LevelResult {
  path: string;
  concurrency: number;
  sagas: number;
  sagasPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  unexpected: number;
  /** CPU per saga: the local cloud's Node.js process (main thread + Lambda workers) and the JVM. */
  cpuMsPerSaga: { localCloud: number; mainThread: number; dynamoDbLocal: number };
  /** Mean per saga: time inside Lambda Tasks (scheduled → result) and DynamoDB answer time at the edge. */
  timeMsPerSaga: { inLambdaTasks: number; dynamoDbAtTheEdge: number };
}

/** Time between each Lambda Task's LambdaFunctionScheduled and its result, summed over an execution. */
function lambdaTaskMs(history: HistoryEventLike[]): number {
  let total = 0;
  let scheduled: number | undefined;
  for (const event of history) {
    const at = event.timestamp ? new Date(event.timestamp).getTime() : undefined;
    if (event.type === 'LambdaFunctionScheduled') scheduled = at;
    else if (/^LambdaFunction(Succeeded|Failed|TimedOut)$/.test(event.type ?? '') && scheduled && at) {
      total += at - scheduled;
      scheduled = undefined;
    }
  }
  return total;
}

type Startup = Awaited<ReturnType<typeof measureStartup>>;

async function main(): Promise<void> {
  const assembly = path.resolve(ROOT, await ensureAssembly());
  say('start-up: npm start, command to ready …');
  const startup = await measureStartup(assembly, false);
  if (!args.persist) {
    await benchCloud(assembly, startup);
    return;
  }
  say('start-up: npm start -- --persist DIR (empty), command to ready …');
  const persistedStartup = await measureStartup(assembly, true);
  const plain = await benchCloud(assembly, startup);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stepsaga-bench-persist-'));
  say(`--persist ${dir}:`);
  try {
    const persisted = await benchCloud(assembly, persistedStartup, dir);
    const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
    const ratios = {
      commandToReady: ratio(persistedStartup.commandToReadyMs, startup.commandToReadyMs),
      throughput: persisted.throughput.map((r, i) => ({
        path: r.path,
        concurrency: r.concurrency,
        sagasPerSecond: ratio(r.sagasPerSecond, plain.throughput[i]?.sagasPerSecond ?? 0),
        p99: ratio(r.p99Ms, plain.throughput[i]?.p99Ms ?? 0),
      })),
    };
    if (args.json)
      console.log(JSON.stringify({ withoutPersist: plain, withPersist: persisted, ratios }, null, 2));
    say(
      `--persist vs in memory: start-up command → ready ${(persistedStartup.commandToReadyMs / 1000).toFixed(2)} s vs ${(startup.commandToReadyMs / 1000).toFixed(2)} s (×${ratios.commandToReady.toFixed(2)})`,
    );
    for (const r of ratios.throughput)
      say(
        `  ${r.path.padEnd(12)} c=${String(r.concurrency).padStart(2)}  sagas/s ×${r.sagasPerSecond.toFixed(2)}  p99 ×${r.p99.toFixed(2)}`,
      );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The throughput levels, the ceiling and peak memory on one local cloud (persisting to `persistDir`). */
async function benchCloud(assembly: string, startup: Startup, persistDir?: string) {
  const cloud = await startLocalCloud({
    port: 0,
    assembly,
    quiet: true,
    onLog: () => {},
    ...(persistDir ? { persistDir } : {}),
  });
  let peakRss = 0;
  let peakNodeRss = 0;
  let peakJvmRss = 0;
  const sample = () => {
    const node = process.memoryUsage.rss();
    const jvm = rssOf(cloud.dynamoDbPid);
    peakRss = Math.max(peakRss, node + jvm);
    peakNodeRss = Math.max(peakNodeRss, node);
    peakJvmRss = Math.max(peakJvmRss, jvm);
  };
  const sampler = setInterval(sample, 100);
  try {
    // Count DynamoDB writes as they pass the edge.
    let writes = 0;
    let dynamoDbMs = 0;
    tapDynamoDb(cloud, (req, ms) => {
      const op = req.target?.split('.')[1];
      if (op && DYNAMODB_WRITES.has(op)) writes += 1;
      dynamoDbMs += ms;
    });
    const { finished, events } = watchExecutions(cloud);
    const arns: string[] = [];
    const items = await putBenchItems(cloud, 'bench');
    const table = (name: string) => requireOutput(cloud.outputs, `${name}TableName`);
    const api = createApiClient({ apiUrl: requireOutput(cloud.outputs, 'ApiUrl') });
    let seq = 0;
    const runOne = async (
      faults: FaultPlan | undefined,
      expected: string,
    ): Promise<{ ms: number; ok: boolean }> => {
      seq += 1;
      const input: OrderSagaInput = {
        orderId: `bench-${process.pid}-${seq}`,
        customerId: items.customerId,
        items: [{ sku: items.sku, quantity: 1 }],
        deliverySlot: items.slotId,
        ...(faults ? { faults } : {}),
      };
      const t0 = performance.now();
      const response = await api.post<{ executionArn?: string }>('orders', input);
      if (response.status !== 202 || !response.body.executionArn)
        return { ms: performance.now() - t0, ok: false };
      arns.push(response.body.executionArn);
      const status = await finished(response.body.executionArn);
      return { ms: performance.now() - t0, ok: status === expected };
    };
    const level = async (
      name: string,
      faults: FaultPlan | undefined,
      expected: string,
      concurrency: number,
      n: number,
    ) => {
      const latencies: number[] = [];
      let unexpected = 0;
      let next = 0;
      const firstArn = arns.length;
      const dynamoDb0 = dynamoDbMs;
      const cpu0 = { node: nodeCpuMs(), main: mainThreadCpuMs(), jvm: cpuMsOf(cloud.dynamoDbPid) };
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < n) {
            next += 1;
            const { ms, ok } = await runOne(faults, expected);
            latencies.push(ms);
            if (!ok) unexpected += 1;
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      const cpuMsPerSaga = {
        localCloud: (nodeCpuMs() - cpu0.node) / n,
        mainThread: (mainThreadCpuMs() - cpu0.main) / n,
        dynamoDbLocal: (cpuMsOf(cloud.dynamoDbPid) - cpu0.jvm) / n,
      };
      latencies.sort((a, b) => a - b);
      // Where a saga's time goes, from the history's timestamps and the edge's DynamoDB timings: exact at
      // c=1 (one saga at a time), a sum of overlapping times above it.
      const inLambdaTasks = arns.slice(firstArn).reduce((sum, arn) => sum + lambdaTaskMs(events(arn)), 0) / n;
      const timeMsPerSaga = { inLambdaTasks, dynamoDbAtTheEdge: (dynamoDbMs - dynamoDb0) / n };
      const result: LevelResult = {
        path: name,
        concurrency,
        sagas: n,
        sagasPerSecond: n / seconds,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        unexpected,
        cpuMsPerSaga,
        timeMsPerSaga,
      };
      say(
        `  ${name.padEnd(12)} c=${String(concurrency).padStart(2)}  ${String(n).padStart(4)} sagas  ` +
          `${result.sagasPerSecond.toFixed(1).padStart(6)} sagas/s  p50 ${result.p50Ms.toFixed(0).padStart(5)} ms  ` +
          `p99 ${result.p99Ms.toFixed(0).padStart(5)} ms  unexpected ${unexpected}  ` +
          `CPU/saga: local cloud ${cpuMsPerSaga.localCloud.toFixed(1)} ms (main thread ${cpuMsPerSaga.mainThread.toFixed(1)}), ` +
          `DynamoDB Local ${cpuMsPerSaga.dynamoDbLocal.toFixed(1)} ms`,
      );
      if (concurrency === 1)
        say(
          `    per saga (means): in Lambda Tasks ${inLambdaTasks.toFixed(1)} ms; DynamoDB answering at the edge ` +
            `${timeMsPerSaga.dynamoDbAtTheEdge.toFixed(1)} ms (every call, the API function's too)`,
        );
      return result;
    };

    say('warm-up …');
    await level('warm-up', undefined, 'SUCCEEDED', 8, 40);
    say('throughput (POST → terminal status):');
    const results: LevelResult[] = [];
    const sizeFor = (c: number) => Math.max(20, Math.round((SAGAS_AT_32 * Math.max(c, 4)) / 32));
    const writesBefore = writes;
    const sagasBefore = seq;
    for (const c of LEVELS) results.push(await level('success', undefined, 'SUCCEEDED', c, sizeFor(c)));
    const writesPerSaga = (writes - writesBefore) / (seq - sagasBefore);
    for (const c of LEVELS) {
      results.push(await level('compensate3', { BookDelivery: 'fail' }, 'FAILED', c, sizeFor(c)));
    }

    // The ceiling: DynamoDB Local's own TransactWriteItems rate, two-item transactions like a saga step.
    const direct = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: (await cloud.services.dynamodb.ready()).toString(),
        region: 'us-east-1',
        credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
      }),
    );
    let txCount = 0;
    const txCpu0 = { node: nodeCpuMs(), jvm: cpuMsOf(cloud.dynamoDbPid) };
    const txDeadline = performance.now() + 5000;
    const txStarted = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async (_, worker) => {
        let i = 0;
        while (performance.now() < txDeadline) {
          i += 1;
          await direct.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Update: {
                    TableName: table('Accounts'),
                    Key: { customerId: items.customerId },
                    UpdateExpression: 'SET balance = balance - :one',
                    ConditionExpression: 'balance >= :one',
                    ExpressionAttributeValues: { ':one': 0 },
                  },
                },
                {
                  Put: {
                    TableName: table('IdempotencyKeys'),
                    Item: { orderId: `bench-tx-${worker}-${i}`, step: 'Bench', state: 'DONE' },
                    ConditionExpression: 'attribute_not_exists(orderId)',
                  },
                },
              ],
            }),
          );
          txCount += 1;
        }
      }),
    );
    const txPerSecond = txCount / ((performance.now() - txStarted) / 1000);
    // The JVM's CPU per transaction when nothing else runs (the client's share is this process's).
    const txCpuMs = {
      dynamoDbLocal: (cpuMsOf(cloud.dynamoDbPid) - txCpu0.jvm) / txCount,
      client: (nodeCpuMs() - txCpu0.node) / txCount,
    };
    const ceiling = txPerSecond / writesPerSaga;
    const at32 = results.find((r) => r.path === 'success' && r.concurrency === 32);
    sample();

    const report = {
      machine: {
        cpus: os.cpus().length,
        node: process.version,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      },
      startup: {
        ...startup,
        inProcessReadyMs: cloud.timings.readyMs,
        deployMs: cloud.timings.deployMs,
        dynamoDbBootMs: cloud.timings.dynamoDbMs,
      },
      throughput: results,
      ceiling: {
        dynamoDbTransactWritesPerSecond: txPerSecond,
        dynamoDbWritesPerSaga: writesPerSaga,
        sagasPerSecond: ceiling,
        ratioAt32: at32 ? at32.sagasPerSecond / ceiling : undefined,
        cpuMsPerTransaction: txCpuMs,
        // With every core busy, sagas/s ≤ cores × 1000 / (CPU per saga of both processes); the ratio to the
        // ceiling cannot exceed the JVM's share of that CPU.
        cpuBoundRatioAt32: at32
          ? at32.cpuMsPerSaga.dynamoDbLocal / (at32.cpuMsPerSaga.dynamoDbLocal + at32.cpuMsPerSaga.localCloud)
          : undefined,
      },
      peakRssMiB: peakRss / 2 ** 20,
      peakRssMiBOf: { localCloud: peakNodeRss / 2 ** 20, dynamoDbLocal: peakJvmRss / 2 ** 20 },
      unexpectedOutcomes: results.reduce((sum, r) => sum + r.unexpected, 0),
    };
    if (args.json) {
      if (!args.persist) console.log(JSON.stringify(report, null, 2));
    } else {
      say(
        `start-up: command → ready ${(startup.commandToReadyMs / 1000).toFixed(2)} s; in-process ready ${(cloud.timings.readyMs / 1000).toFixed(2)} s (DynamoDB Local ${(cloud.timings.dynamoDbMs / 1000).toFixed(2)} s), deploy ${(cloud.timings.deployMs / 1000).toFixed(2)} s`,
      );
      say(
        `ceiling: DynamoDB Local ${txPerSecond.toFixed(0)} TransactWriteItems/s ÷ ${writesPerSaga.toFixed(2)} writes/saga = ${ceiling.toFixed(1)} sagas/s; ` +
          `achieved at c=32 ${at32?.sagasPerSecond.toFixed(1) ?? 'n/a'} sagas/s → ratio ${report.ceiling.ratioAt32?.toFixed(2) ?? 'n/a'}`,
      );
      say(
        `CPU: DynamoDB Local ${txCpuMs.dynamoDbLocal.toFixed(2)} ms per transaction alone (client ${txCpuMs.client.toFixed(2)} ms); ` +
          `at c=32 a saga costs the local cloud ${at32?.cpuMsPerSaga.localCloud.toFixed(1) ?? 'n/a'} ms and DynamoDB Local ${at32?.cpuMsPerSaga.dynamoDbLocal.toFixed(1) ?? 'n/a'} ms ` +
          `→ the JVM's share ${report.ceiling.cpuBoundRatioAt32?.toFixed(2) ?? 'n/a'} bounds the ratio when the cores are the limit`,
      );
      say(
        `peak memory (node + workers + JVM): ${report.peakRssMiB.toFixed(0)} MiB ` +
          `(each alone at its peak: local cloud ${report.peakRssMiBOf.localCloud.toFixed(0)} MiB, DynamoDB Local ${report.peakRssMiBOf.dynamoDbLocal.toFixed(0)} MiB); unexpected outcomes: ${report.unexpectedOutcomes}`,
      );
    }
    return report;
  } finally {
    clearInterval(sampler);
    await cloud.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
