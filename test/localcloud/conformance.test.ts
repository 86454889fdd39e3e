/**
 * The AWS-recorded Step Functions cases (`conformance/cases/*.json`, taken from LocalStack's snapshot tests,
 * which were recorded against AWS) run against a local cloud through `conformance/adapter.mjs`, which uses
 * only the ordinary AWS SDK clients; the recorded TestState calls (`cases/teststate-*.json`) through
 * `conformance/teststate.mjs` (the SDK's TestStateCommand). Every case must pass except those listed, with the reason, in
 * `conformance/known-failures.json`; a listed case that passes must leave the list (it stays honest).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADAPTER,
  CONFORMANCE_RETRY_SCALE,
  corpusFiles,
  mergeCorpora,
  RUNNER,
  TESTSTATE_RUNNER,
  testStateFiles,
} from '../../conformance/run';
import type { LocalCloud } from '../../localcloud/cloud';
import { startTestCloud } from '../support/localcloud';

const KNOWN_FAILURES: Record<string, string> = JSON.parse(
  readFileSync(path.resolve('conformance/known-failures.json'), 'utf8'),
);

let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startTestCloud({ assembly: false, retryScale: CONFORMANCE_RETRY_SCALE });
});

afterAll(async () => {
  await cloud?.close();
});

function runCorpus(
  endpoint: string,
  corpus: string,
  runner: readonly string[] = [RUNNER, ADAPTER],
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...runner, '--corpus', corpus, '--concurrency', '8'], {
      env: { ...process.env, STEPSAGA_ENDPOINT: endpoint },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}

/** Runs a corpus; every case must pass but the known failures, and no known failure may pass. */
async function checkCorpus(files: readonly string[], runner?: readonly string[]): Promise<void> {
  const corpus = mergeCorpora(files);
  try {
    const { stdout } = await runCorpus(cloud.endpoint, corpus.file, runner);

    const lines = stdout.split('\n');
    const failed = lines.filter((l) => l.startsWith('FAIL ')).map((l) => l.split(' ')[1] ?? '');
    const passed = lines.filter((l) => l.startsWith('PASS ')).map((l) => l.split(' ')[1] ?? '');
    expect(passed.length + failed.length, 'every case reported').toBe(corpus.count);
    const unexpected = lines.filter((l) => l.startsWith('FAIL ') && !(l.split(' ')[1]! in KNOWN_FAILURES));
    expect(unexpected, 'cases that fail and are not in conformance/known-failures.json').toEqual([]);
    const fixed = passed.filter((id) => id in KNOWN_FAILURES);
    expect(fixed, 'known failures that pass now: remove them from the list').toEqual([]);
  } finally {
    corpus.dispose();
  }
}

describe('conformance', () => {
  it('passes the AWS-recorded cases through the AWS SDK, except the known failures', {
    timeout: 600_000,
  }, async () => {
    await checkCorpus(corpusFiles());
  });

  it('answers the AWS-recorded TestState calls through the SDK TestStateCommand, except the known failures', {
    timeout: 300_000,
  }, async () => {
    await checkCorpus(testStateFiles(), [TESTSTATE_RUNNER]);
  });
});
