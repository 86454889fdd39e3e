/**
 * The saga's lifecycle in the functions: every forward step refuses a cancelled order in its own
 * transaction (OrderCancelled, nothing taken), RequestReview parks the order with its task token, and
 * RecordFailure writes why the saga unwound (CustomerCancelled, ReviewRejected, ReviewTimedOut or the
 * failed step's own error).
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { confirmOrder, recordFailure, requestReview } from '../../lambdas/domain/order';
import { reserveStock } from '../../lambdas/domain/stock';
import type { OrderRecord, OrderSagaState, OrderStatus, StepName } from '../../lib/contract';
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

beforeAll(async () => {
  local = await createTables();
});

/** A saga over its own promo, SKU, account and slot, with its order in `status`. */
async function orderIn(status: OrderStatus, extra: Partial<OrderRecord> = {}): Promise<OrderSagaState> {
  const id = newOrderId();
  const saga = sagaInput(id, {
    customerId: `customer-${id}`,
    items: [{ sku: `SKU-${id}`, quantity: 2 }],
    promoCode: `PROMO-${id}`,
    deliverySlot: `slot-${id}`,
    results: {
      ReservePromo: { code: `PROMO-${id}`, discountPercent: 10 },
      ReserveStock: {
        lines: [{ sku: `SKU-${id}`, quantity: 2, unitPrice: 1500 }],
        subtotal: 3000,
        discount: 300,
        total: 2700,
      },
    },
  });
  await Promise.all([
    putItem(local, 'Promos', { code: `PROMO-${id}`, discountPercent: 10, usesLeft: 5 }),
    putItem(local, 'Inventory', { sku: `SKU-${id}`, name: 'test item', price: 1500, stock: 10 }),
    putItem(local, 'Accounts', { customerId: `customer-${id}`, name: 'Test', balance: 10_000 }),
    putItem(local, 'DeliverySlots', { slotId: `slot-${id}`, capacity: 5, booked: 0 }),
    putItem(local, 'Orders', {
      orderId: id,
      status,
      customerId: saga.customerId,
      items: saga.items,
      promoCode: saga.promoCode,
      deliverySlot: saga.deliverySlot,
      requestHash: 'test',
      createdAt: '2026-12-01T09:00:00.000Z',
      updatedAt: '2026-12-01T09:00:00.000Z',
      ...extra,
    }),
  ]);
  return saga;
}

/** What the forward steps take: promo uses, stock, balance, booked places. */
async function resourcesOf(saga: OrderSagaState) {
  const id = saga.orderId;
  return {
    usesLeft: (await getItem(local, 'Promos', { code: `PROMO-${id}` }))?.usesLeft,
    stock: (await getItem(local, 'Inventory', { sku: `SKU-${id}` }))?.stock,
    balance: (await getItem(local, 'Accounts', { customerId: `customer-${id}` }))?.balance,
    booked: (await getItem(local, 'DeliverySlots', { slotId: `slot-${id}` }))?.booked,
  };
}

const untouched = { usesLeft: 5, stock: 10, balance: 10_000, booked: 0 };

const FORWARD_STEPS: [StepName, string, Partial<typeof untouched>][] = [
  ['ReservePromo', 'reserve-promo', { usesLeft: 4 }],
  ['ReserveStock', 'reserve-stock', { stock: 8 }],
  ['ChargePayment', 'charge-payment', { balance: 7300 }],
  ['BookDelivery', 'book-delivery', { booked: 1 }],
];

describe('the step engine refuses a cancelled order (OrderCancelled)', () => {
  it.each(FORWARD_STEPS)(
    '%s refuses a CANCELLING or CANCELLED order, taking nothing; a PENDING or AWAITING_REVIEW one goes through',
    async (_step, entry, taken) => {
      const handler = await loadHandler(entry, local);
      for (const status of ['CANCELLING', 'CANCELLED'] as const) {
        const saga = await orderIn(status);
        const error = await thrown(() => handler(stepEvent(saga), lambdaContext()));
        expect(error.name).toBe('OrderCancelled');
        expect(await resourcesOf(saga)).toEqual(untouched);
        expect(await idempotencyRecords(local, saga.orderId)).toEqual([]);
        expect((await orderOf(saga.orderId))?.status).toBe(status);
      }
      for (const status of ['PENDING', 'AWAITING_REVIEW'] as const) {
        const saga = await orderIn(status);
        await handler(stepEvent(saga), lambdaContext());
        expect(await resourcesOf(saga)).toEqual({ ...untouched, ...taken });
      }
    },
  );

  it('the cancel wins over the step business refusal (a cancelled order that could not pay is OrderCancelled)', async () => {
    const saga = await orderIn('CANCELLING');
    await putItem(local, 'Accounts', { customerId: saga.customerId, name: 'Test', balance: 1 });
    const handler = await loadHandler('charge-payment', local);
    expect((await thrown(() => handler(stepEvent(saga), lambdaContext()))).name).toBe('OrderCancelled');
  });

  it('a step that committed before the cancel replays its result (its effect is left to the compensation)', async () => {
    const saga = await orderIn('PENDING');
    const first = await reserveStock(saga, deps());
    await putItem(local, 'Orders', { ...(await orderOf(saga.orderId)), status: 'CANCELLING' });
    const replay = await reserveStock(saga, deps());
    expect(replay).toEqual(first);
    expect((await resourcesOf(saga)).stock).toBe(8);
  });
});

describe('RequestReview', () => {
  it('parks a PENDING order in AWAITING_REVIEW with the task token and the total', async () => {
    const saga = await orderIn('PENDING');
    const handler = await loadHandler('request-review', local);
    const event = stepEvent(saga);
    const result = await handler(
      { ...event, context: { ...event.context, taskToken: 'token-1' } },
      lambdaContext(),
    );
    expect(result).toEqual({ orderId: saga.orderId, status: 'AWAITING_REVIEW' });
    expect(await orderOf(saga.orderId)).toMatchObject({
      status: 'AWAITING_REVIEW',
      taskToken: 'token-1',
      total: 2700,
    });
  });

  it('a redriven wait stores its new token over the old one', async () => {
    const saga = await orderIn('AWAITING_REVIEW', { taskToken: 'old-token' });
    await requestReview(saga, 'new-token', deps());
    expect(await orderOf(saga.orderId)).toMatchObject({ status: 'AWAITING_REVIEW', taskToken: 'new-token' });
  });

  it('refuses a cancelled order with OrderCancelled and a settled one with OrderNotPending, storing no token', async () => {
    const cancelling = await orderIn('CANCELLING');
    const confirmed = await orderIn('CONFIRMED');
    const refused = [
      await thrown(() => requestReview(cancelling, 'token', deps())),
      await thrown(() => requestReview(confirmed, 'token', deps())),
    ];
    expect(refused.map((e) => e.name)).toEqual(['OrderCancelled', 'OrderNotPending']);
    expect((await orderOf(cancelling.orderId))?.taskToken).toBeUndefined();
    expect((await orderOf(confirmed.orderId))?.taskToken).toBeUndefined();
  });

  it('without a task token fails with InvalidSagaInput', async () => {
    const saga = await orderIn('PENDING');
    expect((await thrown(() => requestReview(saga, undefined, deps()))).name).toBe('InvalidSagaInput');
    expect((await orderOf(saga.orderId))?.status).toBe('PENDING');
  });
});

const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`] });

describe('ConfirmOrder', () => {
  it('forgets a review token left on an approved order (the API died before removing it)', async () => {
    const saga = await orderIn('PENDING', { reviewDecision: 'approve', taskToken: 'token-1' });
    await confirmOrder(saga, deps());
    const order = await orderOf(saga.orderId);
    expect(order).toMatchObject({ status: 'CONFIRMED', reviewDecision: 'approve' });
    expect(order?.taskToken).toBeUndefined();
  });
});

describe('RecordFailure: why the order was cancelled', () => {
  const cases: [string, OrderStatus, Partial<OrderRecord>, NonNullable<OrderSagaState['failure']>, string][] =
    [
      [
        'a customer cancel (the step refused with OrderCancelled)',
        'CANCELLING',
        { cancelReason: 'CustomerCancelled' },
        { step: 'ChargePayment', error: 'OrderCancelled', cause: lambdaCause('OrderCancelled', 'refused') },
        'CustomerCancelled',
      ],
      [
        'a customer cancel during the review (the wait failed with OrderCancelled)',
        'CANCELLING',
        { cancelReason: 'CustomerCancelled' },
        { step: 'RequestReview', error: 'OrderCancelled', cause: 'cancelled by the customer' },
        'CustomerCancelled',
      ],
      [
        'a rejected review',
        'CANCELLING',
        { cancelReason: 'ReviewRejected', reviewDecision: 'reject' },
        { step: 'RequestReview', error: 'ReviewRejected', cause: 'too risky' },
        'ReviewRejected',
      ],
      [
        'the review deadline',
        'AWAITING_REVIEW',
        { taskToken: 'token-1' },
        { step: 'RequestReview', error: 'States.Timeout' },
        'ReviewTimedOut',
      ],
    ];

  it.each(cases)(
    '%s: CANCELLED with that reason, no failed step, no task token left',
    async (_label, status, extra, failure, reason) => {
      const saga = await orderIn(status, extra);
      const recorded = await recordFailure({ ...saga, failure }, deps());
      expect(recorded).toMatchObject({ status: 'CANCELLED', reason, changed: true, previousStatus: status });
      const order = await orderOf(saga.orderId);
      expect(order).toMatchObject({ status: 'CANCELLED', reason });
      expect(order?.failedStep).toBeUndefined();
      expect(order?.taskToken).toBeUndefined();
    },
  );

  it.each([
    [
      'a rejection',
      'CANCELLING',
      { cancelReason: 'ReviewRejected', reviewDecision: 'reject', reviewNote: 'no' },
    ],
    ['an approval', 'PENDING', { reviewDecision: 'approve', reviewNote: 'ok' }],
  ] as const)(
    '%s recorded on the order that never reached the wait (its deadline came first): ReviewTimedOut, no decision left',
    async (_label, status, decided) => {
      const saga = await orderIn(status, { ...decided, taskToken: 'token-1' });
      const failure = { step: 'RequestReview' as const, error: 'States.Timeout' };
      expect(await recordFailure({ ...saga, failure }, deps())).toMatchObject({ reason: 'ReviewTimedOut' });
      const order = await orderOf(saga.orderId);
      expect(order).toMatchObject({ status: 'CANCELLED', reason: 'ReviewTimedOut' });
      expect([order?.reviewDecision, order?.reviewNote, order?.cancelReason, order?.taskToken]).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
    },
  );

  it('a step that failed on its own: its error and message, with the failed step', async () => {
    const saga = await orderIn('PENDING');
    const failure = {
      step: 'ChargePayment' as const,
      error: 'InsufficientFunds',
      cause: lambdaCause('InsufficientFunds', 'Customer c cannot pay 2700: balance is 1'),
    };
    await recordFailure({ ...saga, failure }, deps());
    expect(await orderOf(saga.orderId)).toMatchObject({
      status: 'CANCELLED',
      failedStep: 'ChargePayment',
      reason: 'InsufficientFunds: Customer c cannot pay 2700: balance is 1',
    });
  });

  it('a cancel landing between its read and its write: the outcome is taken again, CustomerCancelled', async () => {
    const saga = await orderIn('PENDING');
    const failure = { step: 'ReservePromo' as const, error: 'PromoExhausted', cause: 'no uses left' };
    // The real table; the customer's cancel (the API's write) lands right after RecordFailure read PENDING.
    let cancelled = false;
    const doc = {
      send: async (command: Parameters<typeof local.doc.send>[0]) => {
        const out = await local.doc.send(command);
        if (!cancelled && command instanceof GetCommand) {
          cancelled = true;
          await local.doc.send(
            new UpdateCommand({
              TableName: local.tables.Orders,
              Key: { orderId: saga.orderId },
              UpdateExpression: 'SET #status = :c, cancelReason = :r',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':c': 'CANCELLING', ':r': 'CustomerCancelled' },
            }),
          );
        }
        return out;
      },
    } as unknown as typeof local.doc;

    const recorded = await recordFailure({ ...saga, failure }, { doc, tables: local.tables });

    expect(cancelled).toBe(true);
    expect(recorded).toMatchObject({ status: 'CANCELLED', reason: 'CustomerCancelled' });
    expect(await orderOf(saga.orderId)).toMatchObject({
      status: 'CANCELLED',
      reason: 'CustomerCancelled',
      cancelReason: 'CustomerCancelled',
    });
  });

  it('a cancelled saga whose compensation was dead-lettered: NEEDS_ATTENTION, still with the cancel reason', async () => {
    const saga = await orderIn('CANCELLING', { cancelReason: 'CustomerCancelled' });
    await recordFailure(
      {
        ...saga,
        failure: { step: 'BookDelivery', error: 'OrderCancelled' },
        deadLettered: { RefundPayment: { MessageId: 'm-1' } },
      },
      deps(),
    );
    const order = await orderOf(saga.orderId);
    expect(order).toMatchObject({ status: 'NEEDS_ATTENTION', reason: 'CustomerCancelled' });
    expect(order?.failedCompensations).toEqual(new Set(['RefundPayment']));
  });
});
