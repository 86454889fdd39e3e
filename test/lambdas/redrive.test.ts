import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bookDelivery } from '../../lambdas/domain/delivery';
import { chargePayment } from '../../lambdas/domain/payment';
import { type InvokePort, type RedriveDeps, redriveDeadLetters } from '../../lambdas/domain/redrive';
import { reserveStock } from '../../lambdas/domain/stock';
import type {
  AccountRecord,
  CompensationName,
  DeadLetterMessage,
  DeadLetterStep,
  InventoryRecord,
  OrderRecord,
  OrderSagaState,
} from '../../lib/contract';
import { createTables, getItem, type LocalTables, newOrderId, putItem } from '../support/dynamodb-local';
import {
  executionArnOf,
  type Handler,
  lambdaContext,
  loadHandler,
  sagaInput,
  stepEvent,
} from '../support/handlers';
import { type LocalSqs, startSqs } from '../support/sqs-local';

let local: LocalTables;
let localSqs: LocalSqs;
let sqs: SQSClient;
let dlqUrl: string;
let compensations: Record<string, Handler>;
const invoked: { functionName: string; faults: unknown }[] = [];

const FUNCTION_NAMES: Partial<Record<DeadLetterStep, string>> = {
  ReleaseStock: 'OrderSaga-ReleaseStockFunction',
  RefundPayment: 'OrderSaga-RefundPaymentFunction',
  CancelDelivery: 'OrderSaga-CancelDeliveryFunction',
  RecordFailure: 'OrderSaga-RecordFailureFunction',
};

/** Invokes the compensation handlers in-process, shaped like a RequestResponse Lambda invoke. */
const invokeInProcess: InvokePort = async (functionName, event) => {
  invoked.push({ functionName, faults: event.saga.faults });
  const handler = compensations[functionName];
  if (!handler)
    return { ok: false, error: 'ResourceNotFoundException', cause: `no function ${functionName}` };
  try {
    return { ok: true, result: await handler(event, lambdaContext()) };
  } catch (error) {
    return { ok: false, error: (error as Error).name, cause: (error as Error).message };
  }
};

const deps = (): RedriveDeps => ({
  sqs,
  dlqUrl,
  doc: local.doc,
  ordersTable: local.tables.Orders,
  invoke: invokeInProcess,
  compensationFunctions: FUNCTION_NAMES,
  visibilityTimeoutSeconds: 1,
});

const orderOf = (orderId: string) => getItem<OrderRecord>(local, 'Orders', { orderId });

async function sendDeadLetter(step: DeadLetterStep, input: OrderSagaState, queueUrl = dlqUrl): Promise<void> {
  const body: DeadLetterMessage = {
    orderId: input.orderId,
    step,
    error: 'States.TaskFailed',
    cause: 'the compensation kept failing',
    executionArn: executionArnOf(input.orderId),
    input,
  };
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
}

// Each test has a dead-letter queue of its own: messages an earlier test left (skipped, or failed again)
// would become visible again after their visibility timeout and be redriven by the next test.
let queues = 0;
beforeEach(async () => {
  queues += 1;
  dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `OrderSagaDlq-${queues}` })))
    .QueueUrl as string;
});

async function orderNeedingAttention(saga: OrderSagaState, failed: CompensationName[]): Promise<void> {
  const now = new Date().toISOString();
  await putItem(local, 'Orders', {
    orderId: saga.orderId,
    status: 'NEEDS_ATTENTION',
    customerId: saga.customerId,
    items: saga.items,
    deliverySlot: saga.deliverySlot,
    requestHash: 'test',
    failedStep: 'ConfirmOrder',
    reason: 'InjectedFailure: Injected failure in ConfirmOrder',
    failedCompensations: new Set(failed),
    createdAt: now,
    updatedAt: now,
  });
}

/** The order as `POST /orders/{id}/cancel` left it: CANCELLING, its outcome not recorded yet. */
async function orderCancelledByCustomer(saga: OrderSagaState): Promise<void> {
  await putItem(local, 'Orders', {
    orderId: saga.orderId,
    status: 'CANCELLING',
    cancelReason: 'CustomerCancelled',
    customerId: saga.customerId,
    items: saga.items,
    deliverySlot: saga.deliverySlot,
    requestHash: 'test',
  });
}

/** Receives until `count` messages are visible again (after their visibility timeout) or the deadline. */
async function visibleMessages(count: number, deadlineMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + deadlineMs;
  const bodies = new Map<string, string>();
  while (Date.now() < deadline && bodies.size < count) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 1,
        WaitTimeSeconds: 1,
      }),
    );
    for (const m of out.Messages ?? []) bodies.set(m.MessageId ?? '', m.Body ?? '');
  }
  return [...bodies.values()];
}

/** Redrives until a run replays something (held or failed messages reappear after their visibility timeout). */
async function redriveUntilSucceeded(deadlineMs = 10_000): Promise<string[]> {
  const succeeded: string[] = [];
  const deadline = Date.now() + deadlineMs;
  while (succeeded.length === 0 && Date.now() < deadline) {
    const run = await redriveDeadLetters(deps());
    succeeded.push(...run.succeeded.map((e) => `${e.orderId}:${e.step}`));
    if (succeeded.length === 0) await new Promise((resolve) => setTimeout(resolve, 100)); // poll interval
  }
  return succeeded;
}

beforeAll(async () => {
  local = await createTables();
  localSqs = await startSqs();
  sqs = localSqs.sqs;
  // Faults ON in the compensations: proves redrive strips the plan that made them fail.
  compensations = {
    [FUNCTION_NAMES.ReleaseStock as string]: await loadHandler('release-stock', local, {
      STEPSAGA_FAULTS: 'on',
    }),
    [FUNCTION_NAMES.RefundPayment as string]: await loadHandler('refund-payment', local, {
      STEPSAGA_FAULTS: 'on',
    }),
    [FUNCTION_NAMES.CancelDelivery as string]: await loadHandler('cancel-delivery', local, {
      STEPSAGA_FAULTS: 'on',
    }),
    [FUNCTION_NAMES.RecordFailure as string]: await loadHandler('record-failure', local, {
      STEPSAGA_FAULTS: 'on',
    }),
  };
});

afterAll(async () => {
  await localSqs?.close();
});

describe('redrive', () => {
  it('replays failed compensations: deletes what succeeds, keeps what fails, CANCELLED only when none is left', async () => {
    // Prepare: stock, customer and slot for two orders whose compensations were dead-lettered.
    const sku = newOrderId('SKU');
    const customerId = newOrderId('customer');
    const slotId = newOrderId('slot');
    await putItem(local, 'Inventory', { sku, name: 'beans', price: 1000, stock: 10 });
    await putItem(local, 'Accounts', { customerId, name: 'Ada', balance: 50_000 });
    await putItem(local, 'DeliverySlots', { slotId, capacity: 5, booked: 0 });
    const base = { customerId, items: [{ sku, quantity: 2 }], deliverySlot: slotId };
    const faults = { ReleaseStock: 'fail', RefundPayment: 'fail', CancelDelivery: 'fail' } as const;

    const a = sagaInput(newOrderId('a'), { ...base, faults });
    a.results = { ReserveStock: await reserveStock(a, { doc: local.doc, tables: local.tables }) };
    a.results.ChargePayment = await chargePayment(a, { doc: local.doc, tables: local.tables });
    await orderNeedingAttention(a, ['ReleaseStock', 'RefundPayment']);

    const b = sagaInput(newOrderId('b'), { ...base, faults });
    b.results = { ReserveStock: await reserveStock(b, { doc: local.doc, tables: local.tables }) };
    b.results.ChargePayment = await chargePayment(b, { doc: local.doc, tables: local.tables });
    await bookDelivery(b, { doc: local.doc, tables: local.tables });
    await orderNeedingAttention(b, ['RefundPayment', 'CancelDelivery']);
    // The slot is gone: CancelDelivery keeps failing (UnknownSlot) until it is restored.
    await local.client.send(
      new DeleteItemCommand({ TableName: local.tables.DeliverySlots, Key: { slotId: { S: slotId } } }),
    );

    const c = sagaInput(newOrderId('c'), base);
    await putItem(local, 'Orders', {
      orderId: c.orderId,
      status: 'PENDING',
      customerId,
      items: c.items,
      deliverySlot: slotId,
    });

    await sendDeadLetter('ReleaseStock', a);
    await sendDeadLetter('RefundPayment', a);
    await sendDeadLetter('RefundPayment', b);
    await sendDeadLetter('CancelDelivery', b);
    await sendDeadLetter('ReleaseStock', c);
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: '{"not":"a dead letter"' }));

    // Act
    const report = await redriveDeadLetters(deps());

    // Assess
    expect(report.processed).toBe(6);
    expect(report.succeeded.map((e) => `${e.orderId}:${e.step}`).sort()).toEqual(
      [`${a.orderId}:ReleaseStock`, `${a.orderId}:RefundPayment`, `${b.orderId}:RefundPayment`].sort(),
    );
    expect(report.failed.map((e) => e.step ?? 'malformed').sort()).toEqual(['CancelDelivery', 'malformed']);
    expect(report.failed.find((e) => e.step === 'CancelDelivery')?.detail).toContain('UnknownSlot');
    expect(report.failed.find((e) => !e.step)?.detail).toContain('malformed');
    expect(report.skipped).toEqual([expect.objectContaining({ orderId: c.orderId, step: 'ReleaseStock' })]);
    expect(report.remaining).toBe(3);
    expect(invoked.every((call) => call.faults === undefined)).toBe(true);

    expect(await orderOf(a.orderId)).toMatchObject({ status: 'CANCELLED' });
    expect((await orderOf(a.orderId))?.failedCompensations).toBeUndefined();
    expect(await orderOf(b.orderId)).toMatchObject({
      status: 'NEEDS_ATTENTION',
      failedCompensations: new Set(['CancelDelivery']),
    });
    expect((await getItem<InventoryRecord>(local, 'Inventory', { sku }))?.stock).toBe(8); // b's 2 still held
    expect((await getItem<AccountRecord>(local, 'Accounts', { customerId }))?.balance).toBe(50_000);

    const left = await visibleMessages(3);
    expect(left).toHaveLength(3);
    expect(left.filter((body) => body.includes('CancelDelivery'))).toHaveLength(1);

    // Act again once the slot is back: the last failed compensation succeeds, b becomes CANCELLED.
    await putItem(local, 'DeliverySlots', { slotId, capacity: 5, booked: 1 });
    // Its message reappears once the visibility timeout of the receive above lapses: redrive until it did.
    expect(await redriveUntilSucceeded()).toEqual([`${b.orderId}:CancelDelivery`]);
    expect(await orderOf(b.orderId)).toMatchObject({ status: 'CANCELLED' });
    expect((await getItem(local, 'DeliverySlots', { slotId }))?.booked).toBe(0);
  });

  it('records an outcome the execution could not write, then replays the compensations it held back', async () => {
    // Prepare: BookDelivery failed; RefundPayment was dead-lettered; then RecordFailure kept failing
    // too, so the order is still PENDING with two letters on the DLQ.
    const sku = newOrderId('SKU');
    const customerId = newOrderId('customer');
    await putItem(local, 'Inventory', { sku, name: 'kettle', price: 2_000, stock: 5 });
    await putItem(local, 'Accounts', { customerId, name: 'Grace', balance: 10_000 });
    const saga = sagaInput(newOrderId('e'), {
      customerId,
      items: [{ sku, quantity: 1 }],
      faults: { RefundPayment: 'fail', RecordFailure: 'fail' },
    });
    saga.results = { ReserveStock: await reserveStock(saga, { doc: local.doc, tables: local.tables }) };
    saga.results.ChargePayment = await chargePayment(saga, { doc: local.doc, tables: local.tables });
    await compensations[FUNCTION_NAMES.ReleaseStock as string]?.(
      { saga, context: { executionArn: executionArnOf(saga.orderId), retryCount: 0 } },
      lambdaContext(),
    );
    saga.failure = { step: 'BookDelivery', error: 'SlotFull', cause: 'no capacity left' };
    saga.deadLettered = { RefundPayment: { messageId: 'm-1' } };
    await putItem(local, 'Orders', {
      orderId: saga.orderId,
      status: 'PENDING',
      customerId,
      items: saga.items,
      deliverySlot: saga.deliverySlot,
      requestHash: 'test',
    });
    await sendDeadLetter('RefundPayment', saga); // met first: held back while the order is PENDING
    await sendDeadLetter('RecordFailure', saga);

    // Act
    const report = await redriveDeadLetters({ ...deps(), visibilityTimeoutSeconds: 30 });

    // Assess: one run settles both, the outcome first.
    expect(report.succeeded.map((e) => `${e.step}: ${e.detail}`)).toEqual([
      'RecordFailure: order NEEDS_ATTENTION: outcome recorded',
      'RefundPayment: order CANCELLED',
    ]);
    expect(report.skipped).toEqual([]);
    expect(report.remaining).toBe(0);
    expect(await orderOf(saga.orderId)).toMatchObject({
      status: 'CANCELLED',
      failedStep: 'BookDelivery',
      reason: 'SlotFull: no capacity left',
    });
    expect((await getItem<AccountRecord>(local, 'Accounts', { customerId }))?.balance).toBe(10_000);
    expect((await getItem<InventoryRecord>(local, 'Inventory', { sku }))?.stock).toBe(5);
  });

  it('settles a RecordFailure message whose outcome an earlier attempt already wrote, without rewriting it', async () => {
    const saga = sagaInput(newOrderId('f'), { faults: { RecordFailure: 'fail' } });
    saga.failure = { step: 'ChargePayment', error: 'InsufficientFunds', cause: 'balance too low' };
    saga.deadLettered = { RefundPayment: { messageId: 'm-2' }, ReleaseStock: { messageId: 'm-3' } };
    // RecordFailure had committed NEEDS_ATTENTION; redrive then settled ReleaseStock.
    await orderNeedingAttention(saga, ['RefundPayment']);
    await sendDeadLetter('RecordFailure', saga);
    const calls = invoked.length;

    const report = await redriveDeadLetters({ ...deps(), visibilityTimeoutSeconds: 30 });

    expect(report.succeeded.map((e) => `${e.step}: ${e.detail}`)).toEqual([
      'RecordFailure: order NEEDS_ATTENTION: outcome already recorded',
    ]);
    expect(invoked.length).toBe(calls);
    expect((await orderOf(saga.orderId))?.failedCompensations).toEqual(new Set(['RefundPayment']));
  });

  it('records the outcome of a cancelled order (CANCELLING) whose RecordFailure was dead-lettered', async () => {
    // Prepare: the customer cancelled, the unwind released the stock, then RecordFailure kept failing:
    // the execution ended CompensationFailed with the order still CANCELLING (resume refuses that).
    const sku = newOrderId('SKU');
    await putItem(local, 'Inventory', { sku, name: 'mug', price: 800, stock: 4 });
    const saga = sagaInput(newOrderId('h'), {
      items: [{ sku, quantity: 1 }],
      faults: { RecordFailure: 'fail' },
    });
    saga.results = { ReserveStock: await reserveStock(saga, { doc: local.doc, tables: local.tables }) };
    await compensations[FUNCTION_NAMES.ReleaseStock as string]?.(stepEvent(saga), lambdaContext());
    saga.failure = { step: 'ChargePayment', error: 'OrderCancelled', cause: 'the customer cancelled' };
    await orderCancelledByCustomer(saga);
    await sendDeadLetter('RecordFailure', saga);

    const report = await redriveDeadLetters({ ...deps(), visibilityTimeoutSeconds: 30 });

    expect(report.succeeded.map((e) => `${e.step}: ${e.detail}`)).toEqual([
      'RecordFailure: order CANCELLED: outcome recorded',
    ]);
    expect(report.remaining).toBe(0);
    expect(await orderOf(saga.orderId)).toMatchObject({ status: 'CANCELLED', reason: 'CustomerCancelled' });
    expect((await getItem<InventoryRecord>(local, 'Inventory', { sku }))?.stock).toBe(4);
  });

  it('holds back a compensation of a CANCELLING order until its unwind recorded it, then refunds once', async () => {
    // Prepare: the customer cancelled; RefundPayment was dead-lettered and the execution is still unwinding
    // (ReleaseStock and RecordFailure are still to come), so the order is CANCELLING.
    const sku = newOrderId('SKU');
    const customerId = newOrderId('customer');
    await putItem(local, 'Inventory', { sku, name: 'teapot', price: 3_000, stock: 6 });
    await putItem(local, 'Accounts', { customerId, name: 'Ada', balance: 20_000 });
    const saga = sagaInput(newOrderId('i'), {
      customerId,
      items: [{ sku, quantity: 2 }],
      faults: { RefundPayment: 'fail' },
    });
    saga.results = { ReserveStock: await reserveStock(saga, { doc: local.doc, tables: local.tables }) };
    saga.results.ChargePayment = await chargePayment(saga, { doc: local.doc, tables: local.tables });
    saga.failure = { step: 'BookDelivery', error: 'OrderCancelled', cause: 'the customer cancelled' };
    saga.deadLettered = { RefundPayment: { messageId: 'm-4' } };
    await orderCancelledByCustomer(saga);
    await sendDeadLetter('RefundPayment', saga);

    // Act: a redrive while the execution is still unwinding.
    const early = await redriveDeadLetters(deps());

    // Assess: held back, nothing refunded yet.
    expect(early.succeeded).toEqual([]);
    expect(early.skipped).toEqual([
      expect.objectContaining({
        step: 'RefundPayment',
        detail: 'order is still CANCELLING: its execution is still unwinding',
      }),
    ]);
    expect((await getItem<AccountRecord>(local, 'Accounts', { customerId }))?.balance).toBe(14_000);

    // Act: the execution finishes its unwind, recording the parked compensation; then redrive again.
    const { faults: _, ...unwinding } = saga;
    await compensations[FUNCTION_NAMES.ReleaseStock as string]?.(stepEvent(unwinding), lambdaContext());
    await compensations[FUNCTION_NAMES.RecordFailure as string]?.(stepEvent(unwinding), lambdaContext());
    expect(await orderOf(saga.orderId)).toMatchObject({
      status: 'NEEDS_ATTENTION',
      failedCompensations: new Set(['RefundPayment']),
    });
    expect(await redriveUntilSucceeded()).toEqual([`${saga.orderId}:RefundPayment`]);

    // Assess: settled, the money back once, the stock back, nothing left on the DLQ.
    expect(await orderOf(saga.orderId)).toMatchObject({ status: 'CANCELLED', reason: 'CustomerCancelled' });
    expect((await getItem<AccountRecord>(local, 'Accounts', { customerId }))?.balance).toBe(20_000);
    expect((await getItem<InventoryRecord>(local, 'Inventory', { sku }))?.stock).toBe(6);
    const queue = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: dlqUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(queue.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('a replay of a compensation that had in fact gone through is a no-op', async () => {
    const sku = newOrderId('SKU');
    await putItem(local, 'Inventory', { sku, name: 'jug', price: 500, stock: 3 });
    const saga = sagaInput(newOrderId('d'), { items: [{ sku, quantity: 1 }] });
    await reserveStock(saga, { doc: local.doc, tables: local.tables });
    await compensations[FUNCTION_NAMES.ReleaseStock as string]?.(
      { saga, context: { executionArn: executionArnOf(saga.orderId), retryCount: 0 } },
      lambdaContext(),
    );
    await orderNeedingAttention(saga, ['ReleaseStock']);
    await sendDeadLetter('ReleaseStock', saga);
    const report = await redriveDeadLetters({ ...deps(), visibilityTimeoutSeconds: 30 });
    expect(report.succeeded).toEqual([
      expect.objectContaining({ orderId: saga.orderId, detail: 'order CANCELLED' }),
    ]);
    expect((await getItem<InventoryRecord>(local, 'Inventory', { sku }))?.stock).toBe(3);
  });

  it('checks its time budget before every message: it stops mid-batch, hands the rest back and reports them', async () => {
    // Arrange: three parked compensations on a queue of their own, received in one batch.
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'OrderSagaDlqBudget' })))
      .QueueUrl as string;
    for (const id of ['g1', 'g2', 'g3']) {
      const saga = sagaInput(newOrderId(id));
      await orderNeedingAttention(saga, ['ReleaseStock']);
      await sendDeadLetter('ReleaseStock', saga, queueUrl);
    }
    const calls = invoked.length;

    // Act: the first replay uses up the budget (one replay can take a compensation's whole timeout).
    const report = await redriveDeadLetters({
      ...deps(),
      dlqUrl: queueUrl,
      visibilityTimeoutSeconds: 30,
      reserveMs: 10_000,
      remainingMs: () => (invoked.length > calls ? 9_000 : 60_000),
    });

    // Assess: one replayed, two reported as remaining and visible again at once (not after 30 s), so the
    // function returns its report inside its timeout and the next run picks them up.
    expect(invoked.length - calls).toBe(1);
    expect(report.processed).toBe(1);
    expect(report.succeeded).toHaveLength(1);
    expect(report.remaining).toBe(2);
    const again = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    expect(again.Messages ?? []).toHaveLength(2);
  });
});
