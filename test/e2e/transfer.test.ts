/**
 * The money transfer saga (the toolkit's second saga) end to end on the local cloud: the real synthesized
 * `TransferSaga-dev` stack, its Lambdas on DynamoDB Local. Each test writes its own accounts under unique
 * ids and asserts what a user sees: the execution's outcome and the balances.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putAccounts, TransferDriver } from '../../client/transfer';
import { TRANSFER_ID_ATTRIBUTE, type TransferInput } from '../../lib/transfer-contract';
import { startTarget, type Target } from '../support/target';

let target: Target;
let driver: TransferDriver;
let counter = 0;
const run = `t${Date.now().toString(36)}`;

beforeAll(async () => {
  target = await startTarget();
  driver = new TransferDriver(target.sdk, target.outputs);
});

afterAll(async () => {
  driver?.close();
  await target?.close();
});

/** Two fresh accounts with these balances, and a transfer between them. */
async function accounts(from: number, to: number) {
  const n = ++counter;
  const ids = { from: `${run}-src-${n}`, to: `${run}-dst-${n}` };
  await putAccounts(driver.doc, driver.accountsTable, { [ids.from]: from, [ids.to]: to });
  const transfer = (amount: number, extra: Partial<TransferInput> = {}): TransferInput => ({
    transferId: `${run}-transfer-${n}`,
    ...ids,
    amount,
    ...extra,
  });
  const balances = async () => [await driver.balance(ids.from), await driver.balance(ids.to)];
  return { ids, transfer, balances };
}

describe('the transfer saga on the local cloud', () => {
  it('moves the amount from the source to the destination', async () => {
    const { transfer, balances } = await accounts(1000, 50);

    const result = await driver.run(transfer(300));

    expect(result.status).toBe('SUCCEEDED');
    expect(await balances()).toEqual([700, 350]);
  });

  it('fails on insufficient funds and changes nothing', async () => {
    const { transfer, balances } = await accounts(100, 0);

    const result = await driver.run(transfer(101));

    expect(result.status).toBe('FAILED');
    expect(await balances()).toEqual([100, 0]);
  });

  it('fails for an unknown destination after the debit, and credits the source back', async () => {
    const { transfer, balances } = await accounts(500, 0);

    const result = await driver.run(transfer(200, { to: `${run}-nobody` }));

    expect(result.status).toBe('FAILED');
    expect(await balances()).toEqual([500, 0]);
    expect(await driver.balance(`${run}-nobody`)).toBeUndefined();
  });

  it('unwinds an injected failure in Credit: the debit is credited back', async () => {
    const { transfer, balances } = await accounts(500, 10);

    const result = await driver.run(transfer(200, { faults: { Credit: 'fail' } }));

    expect(result.status).toBe('FAILED');
    expect(await balances()).toEqual([500, 10]);
  });

  it('parks a compensation that keeps failing on the DLQ, and its redrive credits the source back', async () => {
    const { transfer, balances } = await accounts(500, 10);

    // Credit fails, and so does CreditBack on every retry: the debit stays, CreditBack is dead-lettered.
    const result = await driver.run(transfer(200, { faults: { Credit: 'fail', CreditBack: 'fail' } }));
    expect(result).toEqual({ status: 'FAILED', error: 'CompensationFailed' });
    expect(await balances()).toEqual([300, 10]);

    // The outage is over: redrive replays CreditBack (without the fault plan) and deletes the message. Scoped
    // to this transfer: other files share this cloud and its DLQ.
    const report = await driver.redrive(transfer(0).transferId);
    expect(report.succeeded).toEqual([
      expect.objectContaining({
        [TRANSFER_ID_ATTRIBUTE]: transfer(0).transferId,
        step: 'CreditBack',
        detail: 'compensated',
      }),
    ]);
    expect(report.remaining).toBe(0);
    expect(await balances()).toEqual([500, 10]);

    // The DLQ is empty: a second run replays nothing and moves no money.
    expect(await driver.redrive(transfer(0).transferId)).toMatchObject({ processed: 0, remaining: 0 });
    expect(await balances()).toEqual([500, 10]);
  });

  it('debits back a Credit that committed and then crashed, once, even delivered twice', async () => {
    const { transfer, balances } = await accounts(500, 10);

    const result = await driver.run(
      transfer(200, { faults: { Credit: 'crash-after-commit', DebitBack: 'duplicate' } }),
    );

    expect(result.status).toBe('FAILED');
    expect(await balances()).toEqual([500, 10]);
  });

  it('moves the money exactly once when every step is delivered twice', async () => {
    const { transfer, balances } = await accounts(1000, 0);

    const result = await driver.run(transfer(250, { faults: { Debit: 'duplicate', Credit: 'duplicate' } }));

    expect(result.status).toBe('SUCCEEDED');
    expect(await balances()).toEqual([750, 250]);
  });

  it('a duplicate start of the same transfer runs nothing twice', async () => {
    const { transfer, balances } = await accounts(1000, 0);
    const input = transfer(100);

    const first = await driver.start(input);
    const second = await driver.start(input);

    expect(second).toBe(first);
    expect((await driver.outcome(first)).status).toBe('SUCCEEDED');
    expect(await balances()).toEqual([900, 100]);
  });
});
