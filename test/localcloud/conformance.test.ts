/**
 * The AWS-recorded Step Functions cases (`conformance/cases/*.json`, taken from LocalStack's snapshot tests,
 * which were recorded against AWS) run against a local cloud through `conformance/adapter.mjs`, which uses
 * only the ordinary AWS SDK clients. Every case must pass except those listed, with the reason, in
 * `conformance/known-failures.json`; a listed case that passes must leave the list (it stays honest).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTER, CONFORMANCE_RETRY_SCALE, corpusFiles, mergeCorpora, RUNNER } from '../../conformance/run';
import { type LocalCloud, startLocalCloud } from '../../localcloud/cloud';

const KNOWN_FAILURES: Record<string, string> = JSON.parse(
  readFileSync(path.resolve('conformance/known-failures.json'), 'utf8'),
);

let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startLocalCloud({
    port: 0,
    assembly: false,
    quiet: true,
    retryScale: CONFORMANCE_RETRY_SCALE,
  });
});

afterAll(async () => {
  await cloud?.close();
});

function runCorpus(endpoint: string, corpus: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUNNER, ADAPTER, '--corpus', corpus, '--concurrency', '8'], {
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

describe('conformance', () => {
  it('passes the AWS-recorded cases through the AWS SDK, except the known failures', {
    timeout: 600_000,
  }, async () => {
    const corpus = mergeCorpora(corpusFiles());
    try {
      const { stdout } = await runCorpus(cloud.endpoint, corpus.file);

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
  });
});
