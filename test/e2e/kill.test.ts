/**
 * Kill -9 in the middle: the bounded CI version of `npm run chaos -- --sagas N --kill-at random --persist
 * DIR`, through the same code (`persistedCloud`, `runChaos`): a local cloud with `--persist` in a child
 * process of its own process group, a chaos batch with faults, SIGKILL to the whole group while executions
 * are in flight, a restart on the same directory (every running execution taken over), then settle,
 * redrive and the chaos invariants, and the console lists every order's execution. A few seeds and kill
 * moments, each on a fresh directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateScenario } from '../../chaos/plan';
import { persistedCloud, randomKillPoint } from '../../chaos/process';
import { formatReport, runChaos } from '../../chaos/run';
import type { ExecutionsResponse } from '../../localcloud/console/api';
import { ensureAssembly } from '../support/localcloud';

const SAGAS = 24;
const CONCURRENCY = 6;
/** Seeds and kill moments (orders posted when the SIGKILL comes): early, late, and the seed's own. */
const RUNS = [
  { seed: 101, killAfterPosted: 6 },
  { seed: 202, killAfterPosted: 18 },
  { seed: 303, killAfterPosted: randomKillPoint(SAGAS, 303) },
];

describe('kill -9 of a --persist local cloud in the middle of a chaos batch', () => {
  for (const { seed, killAfterPosted } of RUNS)
    it(`seed ${seed}: SIGKILL after ${killAfterPosted}/${SAGAS} orders posted, restart, invariant violations 0`, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-kill-'));
      const persisted = await persistedCloud({
        dir,
        assembly: await ensureAssembly(),
        retryScale: 0.05,
        killAfterPosted,
      });
      const batch = { seed, sagas: SAGAS, namespace: `kill${seed}` };
      try {
        const report = await runChaos(persisted.target, {
          ...batch,
          concurrency: CONCURRENCY,
          warmUp: CONCURRENCY,
          settleTimeoutMs: 240_000,
          ...(persisted.interrupt ? { interrupt: persisted.interrupt } : {}),
        });
        // The restart took over the executions the kill left running.
        expect(persisted.restartLine()).toMatch(/restored \d+ executions \([1-9]\d* continuing\)/);
        expect(report.violations, formatReport(report)).toBe(0);
        // Every order was accepted (a refused POST is a violation), and the console lists its execution.
        const listed = (await (
          await fetch(`${persisted.cloud.endpoint}/_console/api/executions`)
        ).json()) as ExecutionsResponse;
        const names = new Set(listed.executions.map((x) => x.name));
        const orders = generateScenario(batch).sagas.map((saga) => saga.input.orderId);
        expect(orders.filter((orderId) => !names.has(orderId))).toEqual([]);
      } finally {
        await persisted.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 480_000);
});
