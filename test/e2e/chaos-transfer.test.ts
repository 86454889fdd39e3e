/**
 * `npm run chaos -- --saga transfer`: the plan is seeded, and the checks hold on a clean run and fail on a
 * world that breaks the saga's promise (an "unknown" account that exists takes money it must not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTransfers, runTransferChaos } from '../../chaos/transfer';
import { putAccounts, TransferDriver } from '../../client/transfer';
import { startTarget, type Target } from '../support/target';

let target: Target;

beforeAll(async () => {
  target = await startTarget();
});

afterAll(async () => {
  await target?.close();
});

const options = (namespace: string) => ({
  seed: 5,
  sagas: 40,
  concurrency: 8,
  namespace,
  log: () => undefined,
});

describe('transfer chaos', () => {
  it('plans the same transfers for the same seed, with unknown accounts and faults among them', () => {
    const a = planTransfers(options('p'));
    expect(planTransfers(options('p'))).toEqual(a);
    expect(a.transfers.some((t) => t.to === a.unknown || t.from === a.unknown)).toBe(true);
    expect(a.transfers.some((t) => t.faults !== undefined)).toBe(true);
  });

  it('finds no violation on a clean run', async () => {
    const report = await runTransferChaos(
      target.sdk,
      target.outputs,
      options(`clean${Date.now().toString(36)}`),
    );
    expect(report.lines.at(-1)).toBe('invariant violations: 0');
    // On a local cloud the run's IAM decisions are counted, and a denial would be a violation.
    expect(report.lines).toContainEqual(
      target.name === 'local'
        ? expect.stringMatching(/^IAM: [1-9]\d* decisions, 0 denials$/)
        : 'IAM: not observed (the target is not a local cloud)',
    );
  });

  it('reports the transfers to an account that should not exist', async () => {
    const namespace = `broken${Date.now().toString(36)}`;
    const driver = new TransferDriver(target.sdk, target.outputs);
    await putAccounts(driver.doc, driver.accountsTable, { [planTransfers(options(namespace)).unknown]: 0 });
    driver.close();

    const report = await runTransferChaos(target.sdk, target.outputs, options(namespace));

    expect(report.violations).toBeGreaterThan(0);
    expect(report.lines.join('\n')).toMatch(/acct-unknown was created|SUCCEEDED with Debit\+Credit DONE/);
  });
});
