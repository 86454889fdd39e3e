/**
 * Kill -9 in the middle (the bounded CI version of `npm run chaos -- --kill-at random --persist DIR`): a
 * local cloud with `--persist` in a child process of its own process group, a chaos batch with faults,
 * SIGKILL to the whole group while executions are in flight, a restart on the same directory, then settle,
 * redrive and the chaos invariants. A few seeds and kill moments; each one a fresh directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CloudProcess } from '../../chaos/process';
import { formatReport, runChaos } from '../../chaos/run';
import { makeTarget, parseOutputs } from '../../chaos/target';
import { ensureAssembly } from '../../localcloud/assembly';
import { freePort } from '../../localcloud/dynamodb/local';

const MOMENTS = [
  { seed: 101, sagas: 24, killAfterPosted: 6 },
  { seed: 202, sagas: 24, killAfterPosted: 18 },
];

describe('kill -9 of a --persist local cloud in the middle of a chaos batch', () => {
  for (const { seed, sagas, killAfterPosted } of MOMENTS)
    it(`seed ${seed}: SIGKILL after ${killAfterPosted}/${sagas} orders posted, restart, invariant violations 0`, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-kill-'));
      const cloud = new CloudProcess({
        persistDir: dir,
        port: await freePort(),
        assembly: await ensureAssembly(),
        retryScale: 0.05,
        outputsFile: path.join(dir, 'outputs.json'),
      });
      try {
        await cloud.start();
        const target = makeTarget('local', parseOutputs(cloud.outputs(), 'outputs'), cloud.endpoint);
        let restartLine = '';
        const report = await runChaos(target, {
          seed,
          sagas,
          concurrency: 6,
          namespace: `kill${seed}`,
          warmUp: 4,
          settleTimeoutMs: 240_000,
          interrupt: {
            afterPosted: killAfterPosted,
            crash: async () => {
              await cloud.kill9();
              restartLine = await cloud.start();
            },
          },
        });
        expect(restartLine).toMatch(/restored \d+ executions/);
        expect(report.violations, formatReport(report)).toBe(0);
      } finally {
        await cloud.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 420_000);
});
