/**
 * The saga's whole life through the API: cancel (before, during a step's Retry backoff, while a step's
 * function runs, after each step, after confirm, racing the pivot), manual review (approve, reject,
 * deadline, late decision) and resume (an aborted execution, a NEEDS_ATTENTION order, an order whose
 * outcome write was dead-lettered).
 *
 * This file starts its own local cloud with the real Retry intervals (retryScale 1), so that a step in
 * backoff stays there long enough for a cancel to land in it. Synchronisation is by polling the state a
 * user sees (the order, the execution history), never by sleeping.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OrderSagaInput, TEST_REVIEW_TIMEOUT_SECONDS } from '../../lib/contract';
import { faultScenariosUnavailable, startTarget, type Target } from '../support/target';
import { stepInvocation, untilStepFailedOnce, untilStepInvoked } from '../support/waiting';
import { SagaWorld, settled, untilOrder } from '../support/world';

let target: Target;
let world: SagaWorld;
let doc: DynamoDBDocumentClient;
let sfn: SFNClient;
/** A customer who can pay for several SKU-2 (250000 each, over the review threshold of 100000). */
let rich: string;

beforeAll(async () => {
  target = await startTarget({ retryScale: 1 });
  world = new SagaWorld(target, `e2e${Date.now().toString(36)}life`);
  await world.seed();
  doc = DynamoDBDocumentClient.from(new DynamoDBClient(target.sdk));
  sfn = new SFNClient(target.sdk);
  rich = `${world.id('rich')}`;
  await doc.send(
    new PutCommand({
      TableName: String(target.outputs.AccountsTableName),
      Item: { customerId: rich, name: 'Alan (e2e)', balance: 10_000_000 },
    }),
  );
}, 300_000);

afterAll(async () => {
  sfn?.destroy();
  doc?.destroy();
  await target?.close();
});

const withFaults = it.skipIf(faultScenariosUnavailable() !== undefined);

function order(overrides: Partial<OrderSagaInput> & Pick<OrderSagaInput, 'items'>): OrderSagaInput {
  return { orderId: world.id('life'), customerId: world.customer1, deliverySlot: world.slot, ...overrides };
}

async function place(input: OrderSagaInput): Promise<string> {
  const response = await world.api.post<{ executionArn?: string }>('orders', input);
  expect(response.status, response.text).toBe(202);
  return String(response.body.executionArn);
}

const until = (orderId: string, done: (order: Record<string, unknown>) => boolean, timeoutMs?: number) =>
  untilOrder(world.api, orderId, done, timeoutMs);

async function cancel(orderId: string) {
  return world.api.post<Record<string, unknown>>(`orders/${encodeURIComponent(orderId)}/cancel`, {});
}

describe('cancel', () => {
  withFaults.each(['ReservePromo', 'ReserveStock', 'ChargePayment', 'BookDelivery', 'ConfirmOrder'] as const)(
    'while %s is in its Retry backoff: the saga unwinds at once, everything is put back, reason CustomerCancelled',
    async (step) => {
      // Prepare: the step fails transiently (then would work): the cancel lands in its backoff, after
      // every step before it committed.
      const input = order({
        items: [{ sku: world.sku1, quantity: 2 }],
        promoCode: world.welcome10,
        faults: { [step]: 'transient:3' },
      });
      const before = await world.snapshot();
      const executionArn = await place(input);
      await untilStepFailedOnce((arn) => world.history(arn), executionArn, step);

      // Act
      const response = await cancel(input.orderId);

      // Assess
      expect(response.status, response.text).toBe(202);
      expect(response.body).toMatchObject({
        orderId: input.orderId,
        status: 'CANCELLING',
        reason: 'CustomerCancelled',
      });
      const final = await until(input.orderId, settled);
      expect(final).toMatchObject({ status: 'CANCELLED', reason: 'CustomerCancelled' });
      expect(final.failedStep).toBeUndefined();
      expect(final.links).not.toHaveProperty('cancel');
      expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
    },
  );

  withFaults(
    'while ChargePayment is executing (its function invoked, not answered): the saga unwinds, everything is put back, reason CustomerCancelled',
    async () => {
      // Prepare: ChargePayment's function runs past its timeout (nothing done): the cancel lands while it
      // is invoked, after ReservePromo and ReserveStock committed.
      const input = order({
        items: [{ sku: world.sku1, quantity: 2 }],
        promoCode: world.welcome10,
        faults: { ChargePayment: 'timeout' },
      });
      const before = await world.snapshot();
      const executionArn = await place(input);
      await untilStepInvoked((arn) => world.history(arn), executionArn, 'ChargePayment', { inFlight: true });

      // Act
      const response = await cancel(input.orderId);

      // Assess: the cancel stopped the execution while ChargePayment's invocation was in flight, and the
      // redriven saga unwound every effect.
      expect(response.status, response.text).toBe(202);
      const final = await until(input.orderId, settled, 120_000);
      expect(final).toMatchObject({ status: 'CANCELLED', reason: 'CustomerCancelled' });
      expect(final.failedStep).toBeUndefined();
      const history = await world.history(executionArn);
      expect(stepInvocation(history, 'ChargePayment', 'ExecutionAborted').inFlight).toBe(true);
      expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
    },
    150_000,
  );

  it('right after the order is placed: nothing is charged, reserved or booked', async () => {
    const input = order({ items: [{ sku: world.sku1, quantity: 1 }] });
    const before = await world.snapshot();
    await place(input);

    const response = await cancel(input.orderId);

    // The cancel committed first, or the saga confirmed first: never both, never half.
    const final = await until(input.orderId, settled);
    if (response.status === 202) {
      expect(final).toMatchObject({ status: 'CANCELLED', reason: 'CustomerCancelled' });
      expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
    } else {
      expect(response.body).toMatchObject({ code: 'AlreadyConfirmed' });
      expect(final.status).toBe('CONFIRMED');
    }
  });

  it('after confirm: 409 AlreadyConfirmed, the order stays confirmed', async () => {
    const input = order({ items: [{ sku: world.sku1, quantity: 1 }] });
    const result = await world.run(input);
    expect(result.order.status).toBe('CONFIRMED');
    expect(result.order.links).not.toHaveProperty('cancel');

    const response = await cancel(input.orderId);

    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: 'AlreadyConfirmed' });
    expect(String(response.body.message)).toContain('CONFIRMED');
    expect((await world.getOrder(input.orderId)).status).toBe('CONFIRMED');
  });

  withFaults('twice: the same 202 answer; an unknown order: 404', async () => {
    const input = order({
      items: [{ sku: world.sku1, quantity: 1 }],
      faults: { ReserveStock: 'transient:3' },
    });
    const executionArn = await place(input);
    await untilStepFailedOnce((arn) => world.history(arn), executionArn, 'ReserveStock');

    const first = await cancel(input.orderId);
    const second = await cancel(input.orderId);
    await until(input.orderId, settled);
    const third = await cancel(input.orderId);
    const unknown = await cancel(world.id('nobody'));

    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(third.body).toEqual(first.body);
    expect(unknown.status).toBe(404);
  });

  it('racing the pivot: 100 orders each cancelled at a random moment end CONFIRMED xor CANCELLED, with balances and stock to match', async () => {
    // Prepare: a customer, SKU and slot of its own, enough for every order.
    const customerId = world.id('racer');
    const sku = world.id('RACE-SKU');
    const slot = world.id('race-slot');
    const tables = target.outputs;
    await Promise.all([
      doc.send(
        new PutCommand({
          TableName: String(tables.AccountsTableName),
          Item: { customerId, name: 'racer', balance: 1_000_000 },
        }),
      ),
      doc.send(
        new PutCommand({
          TableName: String(tables.InventoryTableName),
          Item: { sku, name: 'race', price: 700, stock: 1000 },
        }),
      ),
      doc.send(
        new PutCommand({
          TableName: String(tables.DeliverySlotsTableName),
          Item: { slotId: slot, capacity: 1000, booked: 0 },
        }),
      ),
    ]);
    // How fast a saga runs against how fast a cancel gets through the Api decides who wins, and that varies
    // with the machine's load (measured here: 86 confirmed / 14 cancelled in one run, 100 / 0 in the next),
    // so a race left to itself may not race. Where faults are on, every other order's ConfirmOrder fails
    // transiently three times (it confirms on its fourth attempt, after seconds of jittered backoff): the
    // pivot is then slow, and its cancels reach it first; the others' pivot is a single write.
    const slowPivot = faultScenariosUnavailable() === undefined;
    const orders = Array.from({ length: 100 }, (_, i) =>
      order({
        customerId,
        deliverySlot: slot,
        items: [{ sku, quantity: 1 }],
        ...(slowPivot && i % 2 === 1 ? { faults: { ConfirmOrder: 'transient:3' } } : {}),
      }),
    );

    // Act: every order placed, and cancelled at a moment spread over its whole saga: once the order is
    // placed, or once a step's function was invoked (ConfirmOrder's: racing the pivot itself), then after a
    // random number (0-3) of polls of its own state.
    const moments = ['placed', 'ReserveStock', 'ChargePayment', 'BookDelivery', 'ConfirmOrder'] as const;
    const momentOf = (i: number) => moments[i % moments.length] as (typeof moments)[number];
    const answers = await mapLimit(orders, 20, async (input, i) => {
      const executionArn = await place(input);
      const moment = momentOf(i);
      if (moment !== 'placed') await untilStepInvoked((arn) => world.history(arn), executionArn, moment);
      const polls = Math.floor(Math.random() * 4);
      for (let p = 0; p < polls; p++) await world.getOrder(input.orderId);
      return (await cancel(input.orderId)).status;
    });
    const finals = await mapLimit(orders, 20, (input) => until(input.orderId, settled, 180_000));

    // Assess
    const confirmed = finals.filter((o) => o.status === 'CONFIRMED');
    const cancelled = finals.filter((o) => o.status === 'CANCELLED');
    expect(confirmed.length + cancelled.length).toBe(100);
    // The race raced: cancels landed on both sides of the pivot.
    const outcomes = moments.map(
      (moment) =>
        `${moment}: ${finals.filter((o, i) => momentOf(i) === moment && o.status === 'CONFIRMED').length} confirmed`,
    );
    if (slowPivot) {
      expect(confirmed.length, outcomes.join(', ')).toBeGreaterThan(0);
      expect(cancelled.length, outcomes.join(', ')).toBeGreaterThan(0);
    }
    finals.forEach((final, i) => {
      // A 202 means the cancel won; a 409 means the confirmation had already committed.
      expect(final.status).toBe(answers[i] === 202 ? 'CANCELLED' : 'CONFIRMED');
      if (final.status === 'CANCELLED') expect(final.reason).toBe('CustomerCancelled');
    });
    const read = async (table: string, key: Record<string, string>, field: string) =>
      Number(
        (await doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item?.[field],
      );
    expect(await read(String(tables.AccountsTableName), { customerId }, 'balance')).toBe(
      1_000_000 - 700 * confirmed.length,
    );
    expect(await read(String(tables.InventoryTableName), { sku }, 'stock')).toBe(1000 - confirmed.length);
  }, 400_000);
});

describe('manual review (orders of at least 100000: one SKU-2)', () => {
  const big = () => order({ customerId: rich, items: [{ sku: world.sku2, quantity: 1 }] });
  const review = (orderId: string, body: unknown) =>
    world.api.post<Record<string, unknown>>(`orders/${encodeURIComponent(orderId)}/review`, body);
  const awaiting = (o: Record<string, unknown>) => o.status === 'AWAITING_REVIEW';

  it('waits for a reviewer before charging; approve confirms it; a second decision is a 409', async () => {
    const input = big();
    const before = await world.snapshot();
    await place(input);
    const waiting = await until(input.orderId, awaiting);
    expect(waiting.links).toMatchObject({ cancel: expect.any(String), review: expect.any(String) });
    expect(world.delta(before, await world.snapshot()).balances).toEqual({});

    const approved = await review(input.orderId, { decision: 'approve', note: 'known customer' });
    const second = await review(input.orderId, { decision: 'reject' });

    expect(approved.status, approved.text).toBe(202);
    expect(approved.body).toMatchObject({ status: 'PENDING', decision: 'approve' });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'NotAwaitingReview' });
    const final = await until(input.orderId, settled);
    expect(final).toMatchObject({
      status: 'CONFIRMED',
      review: { decision: 'approve', note: 'known customer' },
    });
    expect(world.delta(before, await world.snapshot()).stock).toEqual({ [world.sku2]: -1 });
  });

  it('reject cancels it with reason ReviewRejected and puts the stock back', async () => {
    const input = big();
    const before = await world.snapshot();
    await place(input);
    await until(input.orderId, awaiting);

    const rejected = await review(input.orderId, { decision: 'reject', note: 'suspicious' });

    expect(rejected.status, rejected.text).toBe(202);
    const final = await until(input.orderId, settled);
    expect(final).toMatchObject({ status: 'CANCELLED', reason: 'ReviewRejected' });
    expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
  });

  it('a customer cancel during the review wakes the saga at once (reason CustomerCancelled)', async () => {
    const input = big();
    const before = await world.snapshot();
    await place(input);
    await until(input.orderId, awaiting);

    expect((await cancel(input.orderId)).status).toBe(202);

    const final = await until(input.orderId, settled, (TEST_REVIEW_TIMEOUT_SECONDS * 1000) / 2);
    expect(final).toMatchObject({ status: 'CANCELLED', reason: 'CustomerCancelled' });
    expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
  });

  it('past the deadline it is cancelled with reason ReviewTimedOut, and a late decision is a 409', async () => {
    const input = big();
    const before = await world.snapshot();
    await place(input);
    await until(input.orderId, awaiting);

    const final = await until(input.orderId, settled, (TEST_REVIEW_TIMEOUT_SECONDS + 60) * 1000);
    const late = await review(input.orderId, { decision: 'approve' });

    expect(final).toMatchObject({ status: 'CANCELLED', reason: 'ReviewTimedOut' });
    expect(late.status).toBe(409);
    expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
  }, 120_000);

  it('a decision whose first attempt died before reaching the saga: the same decision again is 202 and reaches it', async () => {
    const input = big();
    const executionArn = await place(input);
    await until(input.orderId, awaiting);
    // The first attempt's write (the decision, the token kept), then the API died: no SendTaskFailure.
    const orders = String(target.outputs.OrdersTableName);
    const { Item } = await doc.send(new GetCommand({ TableName: orders, Key: { orderId: input.orderId } }));
    await doc.send(
      new PutCommand({
        TableName: orders,
        Item: { ...Item, status: 'CANCELLING', reviewDecision: 'reject', cancelReason: 'ReviewRejected' },
      }),
    );

    const retried = await review(input.orderId, { decision: 'reject' });
    const other = await review(input.orderId, { decision: 'approve' });

    expect(retried.status, retried.text).toBe(202);
    expect(other.body).toMatchObject({ code: 'NotAwaitingReview' });
    const final = await until(input.orderId, settled, (TEST_REVIEW_TIMEOUT_SECONDS * 1000) / 2);
    expect(final).toMatchObject({ status: 'CANCELLED', reason: 'ReviewRejected' });
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReviewRejected' });
    expect((await review(input.orderId, { decision: 'reject' })).status).toBe(202);
  });

  it('refuses a bad decision with a 400 naming the field', async () => {
    const response = await review(world.id('any'), { decision: 'maybe', extra: 1 });

    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain('decision');
    expect(JSON.stringify(response.body)).toContain('extra');
  });
});

describe('resume', () => {
  it('an aborted execution: POST resume redrives it and the order goes on to CONFIRMED', async () => {
    // Prepare: stop the execution while it waits for its review.
    const input = order({ customerId: rich, items: [{ sku: world.sku2, quantity: 1 }] });
    const executionArn = await place(input);
    await until(input.orderId, (o) => o.status === 'AWAITING_REVIEW');
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'e2e' }));
    const stopped = await until(
      input.orderId,
      (o) => typeof (o.links as Record<string, unknown>).resume === 'string',
    );
    expect(stopped.status).toBe('AWAITING_REVIEW');

    // Act
    const resumed = await world.api.post<Record<string, unknown>>(`orders/${input.orderId}/resume`, {});

    // Assess: redriven; the review is asked again (a new token) and approving it confirms the order.
    expect(resumed.status, resumed.text).toBe(202);
    expect(resumed.body).toMatchObject({ orderId: input.orderId, action: 'redriven' });
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
    await until(input.orderId, (o) => o.status === 'AWAITING_REVIEW');
    const approved = await world.api.post(`orders/${input.orderId}/review`, { decision: 'approve' });
    expect(approved.status, approved.text).toBe(202);
    expect((await until(input.orderId, settled)).status).toBe('CONFIRMED');
    const again = await world.api.post<Record<string, unknown>>(`orders/${input.orderId}/resume`, {});
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'NotResumable' });
  }, 120_000);

  withFaults.each([
    [
      'a NEEDS_ATTENTION order (ReleaseStock dead-lettered)',
      { BookDelivery: 'fail', ReleaseStock: 'fail' },
      { status: 'NEEDS_ATTENTION', failedCompensations: ['ReleaseStock'] },
    ],
    [
      // The unwind put everything back, then RecordFailure failed after its retries: its write is parked.
      'an order whose outcome write failed (RecordFailure dead-lettered), still PENDING',
      { BookDelivery: 'fail', RecordFailure: 'fail' },
      { status: 'PENDING' },
    ],
  ] as const)(
    '%s: its execution ended CompensationFailed; POST resume redrives its dead letters and it ends CANCELLED',
    async (_what, faults, stuck) => {
      const input = order({ items: [{ sku: world.sku1, quantity: 1 }], faults });
      const before = await world.snapshot();
      const executionArn = await place(input);
      const waiting = await until(
        input.orderId,
        (o) => typeof (o.links as Record<string, unknown>).resume === 'string',
        120_000,
      );
      expect(waiting).toMatchObject(stuck);
      expect(await sfn.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({
        status: 'FAILED',
        error: 'CompensationFailed',
      });

      const resumed = await world.api.post<Record<string, unknown>>(`orders/${input.orderId}/resume`, {});

      expect(resumed.status, resumed.text).toBe(202);
      expect(resumed.body).toMatchObject({ action: 'dead-letters-redriven', status: 'CANCELLED' });
      const final = await world.getOrder(input.orderId);
      expect(final).toMatchObject({ status: 'CANCELLED', failedStep: 'BookDelivery' });
      expect(final.links).not.toHaveProperty('resume');
      expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
    },
    180_000,
  );
});

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return results;
}
