import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readLambdaStats } from '../chaos/observe';
import { DEFAULT_REVIEW_THRESHOLD, MIN_REVIEW_THRESHOLD } from '../chaos/plan';
import { persistedCloud, randomKillPoint } from '../chaos/process';
import { formatReport, runChaos } from '../chaos/run';
import { runTransferChaos } from '../chaos/transfer';
import { type ChaosTarget, makeTarget, parseOutputs, readOutputsFile } from '../client/target';
import { ensureAssembly } from '../localcloud/assembly';

const USAGE = `usage: npm run chaos -- --sagas N --seed S [--saga order|transfer] [--concurrency C] [--target local|localstack|aws]
                      [--outputs FILE] [--namespace NS] [--no-timeouts] [--retry-scale X]
                      [--assembly DIR] [--json] [--persist DIR [--kill-at random|N]]
                      [--review-threshold N] [--lambda-concurrency N]

  --saga S       which saga: order (default) or transfer (money conserved across all accounts; the
                  options below are the order saga's, except --target, --outputs and --retry-scale)
  --review-threshold N  the target stack's review threshold in minor units (-c reviewThreshold; default
                  100000): the review sagas order an article priced over it
  --lambda-concurrency N  a burst run: the local cloud's Lambda concurrency limit (npm start's
                  --lambda-concurrency; target local only, and a running local cloud must have been
                  started with the same N); the report counts the Lambda throttles either way, and
                  API calls answered 5xx (a throttled Api function) are sent again with backoff in
                  every run
  --persist DIR   run a local cloud of its own with --persist DIR in a child process (own process group)
  --kill-at X     SIGKILL that whole process group once X orders were posted (random: a point drawn from
                  the seed, anywhere up to all of them posted, i.e. while executions run), restart it on
                  the same DIR and port, then settle, redrive and check as usual`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function wholeNumber(name: string, raw: string | undefined, fallback: number | undefined, min = 0): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min)
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, got "${raw}"`);
  return value;
}

const ROOT = path.resolve(import.meta.dirname, '..');

/** The given assembly, or the dev-stage assembly with faults on, synthesized when stale. */
async function faultsAssembly(dir: string | undefined): Promise<string> {
  return path.resolve(ROOT, dir ?? (await ensureAssembly()));
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

/**
 * `--lambda-concurrency N` on a local cloud chaos did not start: refused unless that cloud's limit is N
 * (a running cloud's limit is set when it starts).
 */
async function assertLambdaConcurrency(target: ChaosTarget, wanted: number, where: string): Promise<void> {
  const stats = await readLambdaStats(target);
  if (stats?.concurrencyLimit === wanted) return;
  throw new UsageError(
    `--lambda-concurrency ${wanted}: the running local cloud at ${where} ${
      stats
        ? `has a Lambda concurrency limit of ${stats.concurrencyLimit}`
        : 'does not tell its Lambda concurrency limit'
    }, and a running cloud's limit cannot be changed. Restart it with npm start -- --lambda-concurrency ${wanted}, ` +
      'or stop it so that chaos starts a local cloud of its own',
  );
}

async function resolveTarget(
  name: string,
  outputsFile: string | undefined,
  retryScale: number,
  assemblyDir: string | undefined,
  lambdaConcurrency: number | undefined,
): Promise<{ target: ChaosTarget; close: () => Promise<void> }> {
  const noop = async () => {};
  if (name === 'localstack' || name === 'aws') {
    const file = outputsFile ?? process.env.STEPSAGA_OUTPUTS;
    if (!file)
      throw new UsageError(
        `--target ${name} needs --outputs FILE (the stack outputs, e.g. from cdk deploy --outputs-file)`,
      );
    const { outputs, endpoint } = await readOutputsFile(file);
    const edge =
      name === 'localstack'
        ? (endpoint ?? process.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566')
        : undefined;
    return { target: makeTarget(name, outputs, edge), close: noop };
  }
  if (name !== 'local') throw new UsageError(`--target must be local, localstack or aws, got "${name}"`);
  if (outputsFile && !existsSync(outputsFile)) throw new UsageError(`--outputs ${outputsFile}: no such file`);
  const file = outputsFile ?? path.join(ROOT, '.stepsaga/outputs.json');
  if (existsSync(file)) {
    // The default file may be left over from an older `npm start` (a stack without today's outputs):
    // only a file given with --outputs must be usable; a stale default one means "start a cloud".
    const read = await readOutputsFile(file).catch((error: unknown) => {
      if (outputsFile) throw error;
      process.stderr.write(
        `chaos: ignoring ${file} (${error instanceof Error ? error.message : String(error)})\n`,
      );
      return undefined;
    });
    const { outputs, endpoint } = read ?? { outputs: undefined, endpoint: undefined };
    if (outputs && endpoint && (await answers(endpoint))) {
      process.stderr.write(`chaos: using the running local cloud at ${endpoint} (${file})\n`);
      const target = makeTarget('local', outputs, endpoint);
      if (lambdaConcurrency !== undefined) await assertLambdaConcurrency(target, lambdaConcurrency, endpoint);
      return { target, close: noop };
    }
    if (outputsFile)
      throw new Error(`${outputsFile}: the local cloud at ${endpoint ?? '(no Endpoint)'} does not answer`);
  }
  process.stderr.write(
    `chaos: starting a local cloud (retry scale ${retryScale}${lambdaConcurrency !== undefined ? `, Lambda concurrency ${lambdaConcurrency}` : ''})\n`,
  );
  const { startLocalCloud } = await import('../localcloud/cloud');
  const cloud = await startLocalCloud({
    port: 0,
    assembly: await faultsAssembly(assemblyDir),
    retryScale,
    quiet: true,
    ...(lambdaConcurrency !== undefined ? { lambdaConcurrency } : {}),
  });
  return {
    target: makeTarget('local', parseOutputs(cloud.outputs, 'local cloud'), cloud.endpoint),
    close: () => cloud.close(),
  };
}

/** `--kill-at`: a number of posted orders, or `random` (drawn from the seed, 1..sagas). */
function killPoint(raw: string, sagas: number, seed: number): number {
  return raw === 'random' ? randomKillPoint(sagas, seed) : wholeNumber('kill-at', raw, undefined, 0);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sagas: { type: 'string' },
      saga: { type: 'string', default: 'order' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      target: { type: 'string', default: process.env.STEPSAGA_TARGET ?? 'local' },
      outputs: { type: 'string' },
      namespace: { type: 'string' },
      'no-timeouts': { type: 'boolean', default: false },
      'retry-scale': { type: 'string', default: '0.05' },
      assembly: { type: 'string' },
      json: { type: 'boolean', default: false },
      persist: { type: 'string' },
      'kill-at': { type: 'string' },
      'review-threshold': { type: 'string' },
      'lambda-concurrency': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const sagas = wholeNumber('sagas', values.sagas, undefined, 1);
  const seed = wholeNumber('seed', values.seed, undefined);
  const concurrency = wholeNumber('concurrency', values.concurrency, 16, 1);
  const reviewThreshold = wholeNumber(
    'review-threshold',
    values['review-threshold'],
    DEFAULT_REVIEW_THRESHOLD,
    MIN_REVIEW_THRESHOLD,
  );
  const lambdaConcurrency =
    values['lambda-concurrency'] === undefined
      ? undefined
      : wholeNumber('lambda-concurrency', values['lambda-concurrency'], undefined, 1);
  if (lambdaConcurrency !== undefined && values.target !== 'local')
    throw new UsageError(
      `--lambda-concurrency sets the local cloud's Lambda concurrency limit: it needs --target local, not ${values.target} ` +
        "(on AWS the account's concurrency quota and the functions' reserved concurrency set it)",
    );
  const retryScale = Number(values['retry-scale']);
  if (!(retryScale > 0))
    throw new UsageError(`--retry-scale must be a positive number, got "${values['retry-scale']}"`);
  // A fresh namespace per run by default, so a rerun on a long-lived cloud starts from clean data.
  const namespace = values.namespace ?? `chaos${seed}-${Date.now().toString(36)}`;

  if (values['kill-at'] !== undefined && values.persist === undefined)
    throw new UsageError('--kill-at needs --persist DIR (a restart must find what the killed cloud left)');
  if (values.persist !== undefined && (values.target !== 'local' || values.outputs !== undefined))
    throw new UsageError(
      '--persist runs a local cloud of its own: no --target other than local, no --outputs',
    );
  if (values.saga !== 'order' && values.saga !== 'transfer')
    throw new UsageError(`--saga must be order or transfer, got "${values.saga}"`);
  if (values.saga === 'transfer') {
    const { target, close } = await resolveTarget(
      values.target,
      values.outputs,
      retryScale,
      values.assembly,
      lambdaConcurrency,
    );
    try {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const report = await runTransferChaos(target.aws, target.outputs, {
        seed,
        sagas,
        concurrency,
        namespace,
        log,
      });
      process.stdout.write(`${report.lines.join('\n')}\n`);
      return report.violations > 0 ? 1 : 0;
    } finally {
      await close();
    }
  }
  const killAt = values['kill-at'] === undefined ? undefined : killPoint(values['kill-at'], sagas, seed);
  const persisted =
    values.persist === undefined
      ? undefined
      : await persistedCloud({
          dir: values.persist,
          assembly: await faultsAssembly(values.assembly),
          retryScale,
          ...(killAt !== undefined ? { killAfterPosted: killAt } : {}),
          ...(lambdaConcurrency !== undefined ? { lambdaConcurrency } : {}),
          log: (line) => process.stderr.write(`${line}\n`),
        });
  const { target, close } =
    persisted ??
    (await resolveTarget(values.target, values.outputs, retryScale, values.assembly, lambdaConcurrency));
  const interrupt = persisted?.interrupt;
  if (killAt !== undefined) process.stderr.write(`chaos: kill -9 once ${killAt} orders were posted\n`);
  try {
    const report = await runChaos(target, {
      seed,
      sagas,
      concurrency,
      namespace,
      timeouts: !values['no-timeouts'],
      reviewThreshold,
      warmUp: target.name === 'local' ? concurrency : 0,
      log: (line) => process.stderr.write(`${line}\n`),
      ...(interrupt ? { interrupt } : {}),
    });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    return report.violations > 0 ? 1 : 0;
  } finally {
    await close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (
      error instanceof UsageError ||
      (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`${error.message}\n${USAGE}\n`);
    } else {
      process.stderr.write(
        `chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exitCode = 2;
  },
);
