/**
 * The AWS-recorded Step Functions cases (../shared/conformance) run against a local cloud through the
 * project's adapter, which uses only the ordinary AWS SDK clients.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../localcloud/cloud';

const RUNNER = process.env.STEPSAGA_CONFORMANCE_RUNNER ?? path.resolve('../shared/conformance/run.mjs');
const ADAPTER = path.resolve('conformance/adapter.mjs');

let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startLocalCloud({ port: 0, assembly: false, quiet: true });
});

afterAll(async () => {
  await cloud?.close();
});

function runCorpus(endpoint: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUNNER, ADAPTER, '--concurrency', '8'], {
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
  it('passes every AWS-recorded case through the AWS SDK', async () => {
    expect(existsSync(RUNNER), `conformance runner at ${RUNNER}`).toBe(true);

    const { code, stdout } = await runCorpus(cloud.endpoint);

    const failures = stdout.split('\n').filter((line) => line.startsWith('FAIL'));
    expect(failures).toEqual([]);
    expect(stdout).toMatch(/^20 passed, 0 failed$/m);
    expect(code).toBe(0);
  });
});
