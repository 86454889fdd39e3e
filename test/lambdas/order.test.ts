import { beforeAll, describe, expect, it } from 'vitest';
import { confirmOrder, failureReason, recordFailure, rejectOrder } from '../../lambdas/domain/order';
import type { OrderRecord, OrderSagaState } from '../../lib/contract';
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
const orderOf = (orderId: string) => getItem<OrderRecord>(local, 'Orders', { orderId });

const priced = {
  ReserveStock: {
    lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: 1500 }],
    subtotal: 3000,
    discount: 0,
    total: 3000,
  },
};

async function pendingOrder(overrides: Partial<OrderSagaState> = {}): Promise<OrderSagaState> {
  const saga = sagaInput(newOrderId(), { results: priced, ...overrides });
  const now = new Date().toISOString();
  await putItem(local, 'Orders', {
    orderId: saga.orderId,
    status: 'PENDING',
    customerId: saga.customerId,
    items: saga.items,
    deliverySlot: saga.deliverySlot,
    requestHash: 'test',
    createdAt: now,
    updatedAt: now,
  });
  return saga;
}

const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler'] });

beforeAll(async () => {
  local = await createTables();
});

describe('ConfirmOrder', () => {
  it('moves the order PENDING → CONFIRMED with its total, once', async () => {
    const saga = await pendingOrder();
    let confirmations = 0;
    const hooks = { onConfirmed: () => confirmations++ };
    const results = await Promise.all([confirmOrder(saga, deps(), hooks), confirmOrder(saga, deps(), hooks)]);
    results.push(await confirmOrder(saga, deps(), hooks));
    expect(results).toEqual(Array(3).fill({ status: 'CONFIRMED', total: 3000 }));
    expect(await orderOf(saga.orderId)).toMatchObject({ status: 'CONFIRMED', total: 3000 });
    expect(confirmations).toBe(1);
  });

  it.each(['CANCELLING', 'CANCELLED'])(
    'refuses a %s order with OrderCancelled, changing nothing (a cancel decided first wins the pivot)',
    async (status) => {
      const saga = await pendingOrder();
      await putItem(local, 'Orders', { ...(await orderOf(saga.orderId)), status });
      const error = await thrown(() => confirmOrder(saga, deps()));
      expect(error.name).toBe('OrderCancelled');
      expect(await orderOf(saga.orderId)).toMatchObject({ status });
      expect(await idempotencyRecords(local, saga.orderId)).toEqual([]);
    },
  );

  it('fails with OrderNotPending for a missing order, writing nothing', async () => {
    const saga = sagaInput(newOrderId(), { results: priced });
    const error = await thrown(() => confirmOrder(saga, deps()));
    expect(error.name).toBe('OrderNotPending');
    expect(error.message).toContain('does not exist');
    expect(await orderOf(saga.orderId)).toBeUndefined();
    expect(await idempotencyRecords(local, saga.orderId)).toEqual([]);
  });
});

describe('RejectOrder', () => {
  it('before the confirmation: tombstones it, and a late ConfirmOrder refuses', async () => {
    const saga = await pendingOrder();
    expect((await rejectOrder(saga, deps())).outcome).toBe('tombstoned');
    expect((await rejectOrder(saga, deps())).outcome).toBe('already-tombstoned');
    expect((await thrown(() => confirmOrder(saga, deps()))).name).toBe('SagaStepCancelled');
    expect(await orderOf(saga.orderId)).toMatchObject({ status: 'PENDING' });
  });

  it('after a committed confirmation: throws OrderAlreadyConfirmed and leaves the order confirmed', async () => {
    const saga = await pendingOrder();
    await confirmOrder(saga, deps());
    const error = await thrown(() => rejectOrder(saga, deps()));
    expect(error.name).toBe('OrderAlreadyConfirmed');
    expect(await orderOf(saga.orderId)).toMatchObject({ status: 'CONFIRMED' });
    expect(await idempotencyRecords(local, saga.orderId)).toMatchObject([
      { step: 'ConfirmOrder', state: 'DONE' },
    ]);
  });

  it('through the handlers: ConfirmOrder crash-after-commit, then RejectOrder reports OrderAlreadyConfirmed', async () => {
    const confirm = await loadHandler('confirm-order', local, { STEPSAGA_FAULTS: 'on' });
    const reject = await loadHandler('reject-order', local, { STEPSAGA_FAULTS: 'on' });
    const saga = await pendingOrder({ faults: { ConfirmOrder: 'crash-after-commit' } });
    expect((await thrown(() => confirm(stepEvent(saga), lambdaContext()))).name).toBe('CrashAfterCommit');
    expect((await thrown(() => reject(stepEvent(saga), lambdaContext()))).name).toBe('OrderAlreadyConfirmed');
    expect(await orderOf(saga.orderId)).toMatchObject({ status: 'CONFIRMED', total: 3000 });
  });
});

describe('RecordFailure', () => {
  it('records CANCELLED with the failed step and the decoded reason; a re-run writes the same', async () => {
    const saga = await pendingOrder({
      failure: {
        step: 'ReserveStock',
        error: 'InsufficientStock',
        cause: lambdaCause('InsufficientStock', 'Not enough stock of SKU-1: 999 requested, 100 available'),
      },
    });
    const first = await recordFailure(saga, deps());
    const afterFirst = await orderOf(saga.orderId);
    const second = await recordFailure(saga, deps());
    const afterSecond = await orderOf(saga.orderId);
    expect(first).toMatchObject({ status: 'CANCELLED', changed: true, previousStatus: 'PENDING' });
    expect(second).toMatchObject({ status: 'CANCELLED', changed: false });
    expect(afterFirst).toMatchObject({
      status: 'CANCELLED',
      failedStep: 'ReserveStock',
      reason: 'InsufficientStock: Not enough stock of SKU-1: 999 requested, 100 available',
    });
    expect({ ...afterSecond, updatedAt: '' }).toEqual({ ...afterFirst, updatedAt: '' });
  });

  it('records NEEDS_ATTENTION with the dead-lettered compensations as a set', async () => {
    const saga = await pendingOrder({
      failure: {
        step: 'ConfirmOrder',
        error: 'InjectedFailure',
        cause: lambdaCause('InjectedFailure', 'boom'),
      },
      deadLettered: { RefundPayment: { MessageId: 'm-1' }, ReleaseStock: { MessageId: 'm-2' } },
    });
    const handler = await loadHandler('record-failure', local);
    await handler(stepEvent(saga), lambdaContext());
    const order = await orderOf(saga.orderId);
    expect(order).toMatchObject({
      status: 'NEEDS_ATTENTION',
      failedStep: 'ConfirmOrder',
      reason: 'InjectedFailure: boom',
    });
    expect(order?.failedCompensations).toEqual(new Set(['RefundPayment', 'ReleaseStock']));
  });

  it('never puts back a compensation that redrive settled meanwhile (a replayed RecordFailure)', async () => {
    const saga = await pendingOrder({
      failure: { step: 'ConfirmOrder', error: 'InjectedFailure' },
      deadLettered: { RefundPayment: { MessageId: 'm-1' }, ReleaseStock: { MessageId: 'm-2' } },
    });
    await recordFailure(saga, deps());
    // Redrive settled RefundPayment; ReleaseStock is still in the DLQ.
    await putItem(local, 'Orders', {
      ...(await orderOf(saga.orderId)),
      failedCompensations: new Set(['ReleaseStock']),
    });

    const replayed = await recordFailure(saga, deps());

    expect(replayed).toMatchObject({ changed: false, previousStatus: 'NEEDS_ATTENTION' });
    expect((await orderOf(saga.orderId))?.failedCompensations).toEqual(new Set(['ReleaseStock']));
  });

  it('never overwrites a confirmed order', async () => {
    const saga = await pendingOrder({ failure: { step: 'ConfirmOrder', error: 'CrashAfterCommit' } });
    await confirmOrder(saga, deps());
    const recorded = await recordFailure(saga, deps());
    expect(recorded).toMatchObject({ changed: false, previousStatus: 'CONFIRMED' });
    expect(await orderOf(saga.orderId)).toMatchObject({ status: 'CONFIRMED' });
  });

  it('keeps the Cause when it is not a Lambda error, and the error alone when there is none', () => {
    expect(failureReason({ step: 'ChargePayment', error: 'States.Timeout', cause: 'Task timed out' })).toBe(
      'States.Timeout: Task timed out',
    );
    expect(failureReason({ step: 'ChargePayment', error: 'States.TaskFailed' })).toBe('States.TaskFailed');
  });
});
