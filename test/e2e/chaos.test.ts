/**
 * Chaos in CI: 200 sagas with seeded fault plans (business failures at every step, transient errors,
 * timeouts, crashes after commit, duplicates, failing compensations and mixes of them) and people acting
 * on them (customers cancelling before, racing and after the pivot; reviewers approving, rejecting or
 * letting the 20 s deadline pass; operators stopping executions and resuming them), run through the API,
 * redriven, then checked: zero invariant violations. Reproduce with `npm run chaos -- --sagas 200 --seed 7`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosReport, formatReport, runChaos } from '../../chaos/run';
import type { ChaosTarget } from '../../client/target';
import { chaosTarget, faultScenariosUnavailable, startTarget, type Target } from '../support/target';

const SEED = 7;
const SAGAS = 200;

let target: Target;
let chaos: ChaosTarget;
let report: ChaosReport;

beforeAll(async () => {
  target = await startTarget();
  chaos = chaosTarget(target);
}, 300_000);

afterAll(async () => {
  await target?.close();
});

describe(`chaos: ${SAGAS} sagas, seed ${SEED}`, () => {
  it.skipIf(faultScenariosUnavailable() !== undefined)(
    'conserves money, stock, promo uses and bookings, and explains every outcome: zero violations',
    async () => {
      report = await runChaos(chaos, {
        seed: SEED,
        sagas: SAGAS,
        concurrency: 8,
        warmUp: 8,
        namespace: `ci${SEED}-${Date.now().toString(36)}`,
        settleTimeoutMs: 420_000,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${formatReport(report)}\n`);
      expect(report.invariants.results.flatMap((r) => r.violations)).toEqual([]);
      expect(report.violations).toBe(0);
    },
    600_000,
  );

  it('exercised every path: confirmed, cancelled at several steps, dead-lettered and redriven to an empty DLQ', () => {
    expect(report.outcomes.pending + report.outcomes.missing).toBe(0);
    expect(report.outcomes.confirmed).toBeGreaterThan(50);
    expect(report.outcomes.cancelled).toBeGreaterThan(20);
    expect(Object.keys(report.cancelledByStep).length).toBeGreaterThanOrEqual(4);
    expect(report.dlq.beforeRedrive).toBeGreaterThan(0);
    expect(report.outcomes.redriven).toBeGreaterThan(0);
    expect(report.outcomes['needs-attention']).toBe(0);
    expect(report.dlq.afterRedrive).toBe(0);
  });

  it('exercised the lifecycle: cancels won and lost, reviews approved, rejected and timed out, aborted executions resumed', () => {
    expect(report.cancelledByReason.CustomerCancelled).toBeGreaterThan(0);
    expect(report.actions.cancelsTooLate).toBeGreaterThan(0);
    expect(report.actions.approvedConfirmed).toBeGreaterThan(0);
    expect(report.cancelledByReason.ReviewRejected).toBeGreaterThan(0);
    expect(report.cancelledByReason.ReviewTimedOut).toBeGreaterThan(0);
    expect(report.actions.resumed).toBeGreaterThan(0);
    expect(report.invariants.results.find((r) => r.id === 'actions')?.checked).toBeGreaterThan(30);
  });
});
