/**
 * `npm run conformance [-- --corpus FILE] [--only id,id] [--concurrency N] [--verbose]`: runs the
 * AWS-recorded Step Functions cases with `conformance/adapter.mjs` (ordinary AWS SDK clients only), then
 * the recorded TestState calls (`cases/teststate-*.json`) with `conformance/teststate.mjs` (the SDK's
 * TestStateCommand).
 *
 * The corpus is every `conformance/cases/*.json` (or the `--corpus` files given), merged into one run per
 * mode (`teststate-*.json` files are TestState cases).
 * Against STEPSAGA_ENDPOINT when it is set (a running local cloud, LocalStack...), otherwise against a
 * fresh local cloud started here (bare services, no assembly) and stopped afterwards.
 * Prints one line per case and the runner's `N passed, M failed`, and exits with its code (1 if any failed).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCloud } from '../localcloud/cloud';

const here = path.dirname(fileURLToPath(import.meta.url));
export const RUNNER = process.env.STEPSAGA_CONFORMANCE_RUNNER ?? path.join(here, 'runner.mjs');
export const ADAPTER = path.join(here, 'adapter.mjs');
/** The TestState mode: runner and adapter in one (it reuses runner.mjs's compareCase). */
export const TESTSTATE_RUNNER = path.join(here, 'teststate.mjs');
export const CASES_DIR = path.join(here, 'cases');
/**
 * Retry intervals of the local cloud the corpus runs on: the recordings' outcomes and event orders do not
 * depend on how long a retry waits, so they run at 1/100 of the time (Wait states, Task timeouts and
 * heartbeats keep real time: the recorded functions sleep in real time too).
 */
export const CONFORMANCE_RETRY_SCALE = 0.01;

/** A corpus of TestState calls (`teststate-*.json`) rather than executions. */
export function isTestStateCorpus(file: string): boolean {
  return path.basename(file).startsWith('teststate-');
}

/** The execution corpus files: every `cases/*.json` but the TestState ones, sorted. */
export function corpusFiles(dir = CASES_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !isTestStateCorpus(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The TestState corpus files: `cases/teststate-*.json`, sorted. */
export function testStateFiles(dir = CASES_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && isTestStateCorpus(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Merges corpus files into one temporary file for the runner; refuses an id that two files share. */
export function mergeCorpora(files: readonly string[]): { file: string; count: number; dispose: () => void } {
  const seen = new Map<string, string>();
  const cases: unknown[] = [];
  for (const file of files) {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(parsed)) throw new Error(`${file}: a corpus is a JSON array of cases`);
    for (const c of parsed as Array<{ id?: unknown }>) {
      if (typeof c.id !== 'string') throw new Error(`${file}: a case without a string id`);
      const other = seen.get(c.id);
      if (other) throw new Error(`case id ${c.id} is in both ${other} and ${file}`);
      seen.set(c.id, file);
      cases.push(c);
    }
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'stepsaga-conformance-'));
  const file = path.join(dir, 'corpus.json');
  writeFileSync(file, JSON.stringify(cases));
  return { file, count: cases.length, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Splits `--corpus FILE` options (repeatable) from the arguments passed on to the runner. */
function splitArgs(argv: readonly string[]): { corpora: string[]; rest: string[] } {
  const corpora: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--corpus') {
      const file = argv[++i];
      if (!file) throw new Error('--corpus needs a file');
      corpora.push(path.resolve(file));
    } else rest.push(arg);
  }
  return { corpora, rest };
}

function runChild(args: string[], endpoint: string): Promise<number> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, STEPSAGA_ENDPOINT: endpoint },
    stdio: 'inherit',
  });
  return new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  const { corpora, rest } = splitArgs(process.argv.slice(2));
  const executions = corpora.length > 0 ? corpora.filter((f) => !isTestStateCorpus(f)) : corpusFiles();
  const testStates = corpora.length > 0 ? corpora.filter(isTestStateCorpus) : testStateFiles();
  const external = process.env.STEPSAGA_ENDPOINT;
  const cloud = external
    ? undefined
    : await startLocalCloud({ port: 0, assembly: false, quiet: true, retryScale: CONFORMANCE_RETRY_SCALE });
  const endpoint = external ?? cloud?.endpoint ?? '';
  let code = 0;
  try {
    if (executions.length > 0) {
      const merged = mergeCorpora(executions);
      try {
        code = Math.max(code, await runChild([RUNNER, ADAPTER, '--corpus', merged.file, ...rest], endpoint));
      } finally {
        merged.dispose();
      }
    }
    if (testStates.length > 0) {
      const merged = mergeCorpora(testStates);
      try {
        console.log('TestState:');
        code = Math.max(code, await runChild([TESTSTATE_RUNNER, '--corpus', merged.file, ...rest], endpoint));
      } finally {
        merged.dispose();
      }
    }
  } finally {
    await cloud?.close();
  }
  return code;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(2);
    },
  );
}
