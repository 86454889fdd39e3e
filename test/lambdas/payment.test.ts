import { beforeAll, describe, expect, it } from 'vitest';
import { chargePayment, refundPayment } from '../../lambdas/domain/payment';
import type { AccountRecord, ReserveStockResult } from '../../lib/contract';
import {
  createTables,
  getItem,
  idempotencyRecords,
  type LocalTables,
  newOrderId,
  putItem,
} from '../support/dynamodb-local';
import { lambdaContext, loadHandler, sagaInput, stepEvent, thrown } from '../support/handlers';

let local: LocalTables;
const deps = () => ({ doc: local.doc, tables: local.tables });
const balanceOf = async (customerId: string) =>
  (await getItem<AccountRecord>(local, 'Accounts', { customerId }))?.balance;

async function freshCustomer(balance: number): Promise<string> {
  const customerId = newOrderId('customer');
  await putItem(local, 'Accounts', { customerId, name: 'Test Customer', balance });
  return customerId;
}

function priced(total: number): { ReserveStock: ReserveStockResult } {
  return {
    ReserveStock: {
      lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: total }],
      subtotal: total,
      discount: 0,
      total,
    },
  };
}

beforeAll(async () => {
  local = await createTables();
});

describe('ChargePayment', () => {
  it('debits the order total computed by ReserveStock', async () => {
    const customerId = await freshCustomer(100000);
    const saga = sagaInput(newOrderId(), { customerId, results: priced(3510) });
    expect(await chargePayment(saga, deps())).toEqual({ amount: 3510 });
    expect(await balanceOf(customerId)).toBe(96490);
  });

  it('fails with InsufficientFunds naming the balance, changing nothing', async () => {
    const customerId = await freshCustomer(1000);
    const saga = sagaInput(newOrderId(), { customerId, results: priced(450000) });
    const error = await thrown(() => chargePayment(saga, deps()));
    expect(error.name).toBe('InsufficientFunds');
    expect(error.message).toContain('balance is 1000');
    expect(await balanceOf(customerId)).toBe(1000);
    expect(await idempotencyRecords(local, saga.orderId)).toEqual([]);
  });

  it('fails with UnknownCustomer for an account that does not exist', async () => {
    const saga = sagaInput(newOrderId(), { customerId: 'nobody', results: priced(10) });
    expect((await thrown(() => chargePayment(saga, deps()))).name).toBe('UnknownCustomer');
    expect(await getItem(local, 'Accounts', { customerId: 'nobody' })).toBeUndefined();
  });

  it('refuses to run without a total (InvalidSagaInput)', async () => {
    const customerId = await freshCustomer(100);
    const error = await thrown(() => chargePayment(sagaInput(newOrderId(), { customerId }), deps()));
    expect(error.name).toBe('InvalidSagaInput');
    expect(await balanceOf(customerId)).toBe(100);
  });

  it('charges a duplicate only once', async () => {
    const customerId = await freshCustomer(10000);
    const saga = sagaInput(newOrderId(), { customerId, results: priced(2500) });
    const results = await Promise.all([chargePayment(saga, deps()), chargePayment(saga, deps())]);
    results.push(await chargePayment(saga, deps()));
    expect(results).toEqual([{ amount: 2500 }, { amount: 2500 }, { amount: 2500 }]);
    expect(await balanceOf(customerId)).toBe(7500);
  });

  it('concurrent orders that together exceed the balance: exactly one is charged', async () => {
    const customerId = await freshCustomer(1000);
    const orders = Array.from({ length: 5 }, () =>
      sagaInput(newOrderId(), { customerId, results: priced(600) }),
    );
    const settled = await Promise.allSettled(orders.map((saga) => chargePayment(saga, deps())));
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    expect(await balanceOf(customerId)).toBe(400);
  });
});

describe('RefundPayment', () => {
  it('credits exactly the recorded amount, once, whatever total the state now carries', async () => {
    const customerId = await freshCustomer(10000);
    const saga = sagaInput(newOrderId(), { customerId, results: priced(2500) });
    await chargePayment(saga, deps());
    const tampered = { ...saga, results: priced(9999) };
    const outcomes = [
      (await refundPayment(tampered, deps())).outcome,
      (await refundPayment(saga, deps())).outcome,
    ];
    expect(outcomes).toEqual(['compensated', 'already-compensated']);
    expect(await balanceOf(customerId)).toBe(10000);
  });

  it('before the charge tombstones it: a late ChargePayment refuses', async () => {
    const customerId = await freshCustomer(10000);
    const saga = sagaInput(newOrderId(), { customerId, results: priced(2500) });
    expect((await refundPayment(saga, deps())).outcome).toBe('tombstoned');
    expect((await refundPayment(saga, deps())).outcome).toBe('already-tombstoned');
    expect((await thrown(() => chargePayment(saga, deps()))).name).toBe('SagaStepCancelled');
    expect(await balanceOf(customerId)).toBe(10000);
  });

  it('through the handlers: crash-after-commit then refund leaves the balance as it was', async () => {
    const charge = await loadHandler('charge-payment', local, { STEPSAGA_FAULTS: 'on' });
    const refund = await loadHandler('refund-payment', local, { STEPSAGA_FAULTS: 'on' });
    const customerId = await freshCustomer(5000);
    const saga = sagaInput(newOrderId(), {
      customerId,
      results: priced(1200),
      faults: { ChargePayment: 'crash-after-commit', RefundPayment: 'duplicate' },
    });
    expect((await thrown(() => charge(stepEvent(saga), lambdaContext()))).name).toBe('CrashAfterCommit');
    expect(await balanceOf(customerId)).toBe(3800);
    await refund(stepEvent(saga), lambdaContext());
    expect(await balanceOf(customerId)).toBe(5000);
  });

  it('an injected compensation failure (fail) leaves the charge in place for the DLQ path', async () => {
    const charge = await loadHandler('charge-payment', local, { STEPSAGA_FAULTS: 'on' });
    const refund = await loadHandler('refund-payment', local, { STEPSAGA_FAULTS: 'on' });
    const customerId = await freshCustomer(5000);
    const saga = sagaInput(newOrderId(), {
      customerId,
      results: priced(1000),
      faults: { RefundPayment: 'fail' },
    });
    await charge(stepEvent(saga), lambdaContext());
    expect((await thrown(() => refund(stepEvent(saga), lambdaContext()))).name).toBe('InjectedFailure');
    expect(await balanceOf(customerId)).toBe(4000);
  });
});
