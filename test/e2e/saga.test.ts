/**
 * The demo scenarios of the saga, end to end through the API of a target: the local cloud by default
 * (started here from the real synthesized assembly), or a LocalStack/AWS stack
 * (`STEPSAGA_TARGET=localstack|aws STEPSAGA_OUTPUTS=file`). Each run creates its own customers, SKUs,
 * promos and slot with the demo data's values under unique ids, so runs never interfere and a persistent
 * target can be reused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderSagaInput } from '../../lib/contract';
import { faultScenariosUnavailable } from '../support/target';
import { type SagaWorld, startWorld } from '../support/world';

let world: SagaWorld;

beforeAll(async () => {
  world = await startWorld('saga');
});

afterAll(async () => {
  await world?.close();
});

function order(overrides: Partial<OrderSagaInput> & Pick<OrderSagaInput, 'items'>): OrderSagaInput {
  return {
    orderId: world.id('order'),
    customerId: world.customer1,
    deliverySlot: world.slot,
    ...overrides,
  };
}

/** Scenarios with a fault plan: they need a stack with fault injection on (always, on the local cloud). */
const withFaults = it.skipIf(faultScenariosUnavailable() !== undefined);

describe('the order saga, through the API', () => {
  it('confirms an order without a promo and charges price × quantity', async () => {
    // Prepare
    const input = order({ items: [{ sku: world.sku1, quantity: 2 }] });
    const before = await world.snapshot();

    // Act
    const result = await world.run(input);

    // Assess
    expect(result.execution).toBe('SUCCEEDED');
    expect(result.order).toMatchObject({ status: 'CONFIRMED', total: 3000 });
    const after = await world.snapshot();
    expect(world.delta(before, after)).toEqual(world.confirmedDelta(2));
  });

  it('applies WELCOME10: 10 % off and one promo use', async () => {
    const input = order({ items: [{ sku: world.sku1, quantity: 2 }], promoCode: world.welcome10 });
    const before = await world.snapshot();

    const result = await world.run(input);

    expect(result.execution).toBe('SUCCEEDED');
    expect(result.order).toMatchObject({ status: 'CONFIRMED', total: 2700 });
    expect(world.delta(before, await world.snapshot())).toEqual({
      balances: { [world.customer1]: -2700 },
      stock: { [world.sku1]: -2 },
      promoUses: { [world.welcome10]: -1 },
      slotBookings: { [world.slot]: 1 },
    });
  });

  it('fails at the first step with an EXPIRED promo, with nothing to compensate', async () => {
    const input = order({ items: [{ sku: world.sku1, quantity: 1 }], promoCode: world.expired });
    const before = await world.snapshot();

    const result = await world.run(input);

    expect(result.execution).toBe('FAILED');
    expect(result.order).toMatchObject({ status: 'CANCELLED', failedStep: 'ReservePromo' });
    expect(String(result.order.reason)).toContain('PromoExhausted');
    expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
    expect(result.statesEntered).not.toContain('ReserveStock');
  });

  it('releases the promo when the stock is short (quantity 999 with WELCOME10)', async () => {
    const input = order({ items: [{ sku: world.sku1, quantity: 999 }], promoCode: world.welcome10 });
    const before = await world.snapshot();

    const result = await world.run(input);

    expect(result.order).toMatchObject({ status: 'CANCELLED', failedStep: 'ReserveStock' });
    expect(String(result.order.reason)).toContain('InsufficientStock');
    expect(result.statesEntered).toEqual(expect.arrayContaining(['ReleaseStock', 'ReleasePromo']));
    expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
  });

  // 1 × SKU-1 with 10% off is 1350, over customer-2's 1000 and under the review threshold (SKU-2 orders
  // wait for a reviewer: test/e2e/lifecycle.test.ts).
  it('releases stock and promo when customer-2 cannot pay for 1 × SKU-1', async () => {
    const input = order({
      customerId: world.customer2,
      items: [{ sku: world.sku1, quantity: 1 }],
      promoCode: world.welcome10,
    });
    const before = await world.snapshot();

    const result = await world.run(input);

    expect(result.order).toMatchObject({ status: 'CANCELLED', failedStep: 'ChargePayment' });
    expect(String(result.order.reason)).toContain('InsufficientFunds');
    expect(world.compensationOrder(result.statesEntered)).toEqual([
      'RefundPayment',
      'ReleaseStock',
      'ReleasePromo',
    ]);
    expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
  });

  withFaults('puts everything back when ConfirmOrder fails', async () => {
    const input = order({
      items: [{ sku: world.sku1, quantity: 3 }],
      promoCode: world.welcome10,
      faults: { ConfirmOrder: 'fail' },
    });
    const before = await world.snapshot();

    const result = await world.run(input);

    expect(result.order).toMatchObject({ status: 'CANCELLED', failedStep: 'ConfirmOrder' });
    expect(world.compensationOrder(result.statesEntered)).toEqual([
      'RejectOrder',
      'CancelDelivery',
      'RefundPayment',
      'ReleaseStock',
      'ReleasePromo',
    ]);
    expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
  });

  withFaults(
    'sends a compensation that keeps failing to the DLQ (NEEDS_ATTENTION), and redrive finishes it (CANCELLED)',
    async () => {
      // Prepare: ConfirmOrder fails, and the refund keeps failing through its retries
      const input = order({
        items: [{ sku: world.sku1, quantity: 1 }],
        faults: { ConfirmOrder: 'fail', RefundPayment: 'fail' },
      });
      const before = await world.snapshot();

      // Act
      const result = await world.run(input);

      // Assess: the unwind went on past the failed refund, the money is still charged, the DLQ has it
      expect(result.execution).toBe('FAILED');
      expect(result.order).toMatchObject({
        status: 'NEEDS_ATTENTION',
        failedCompensations: ['RefundPayment'],
      });
      expect(result.statesEntered).toEqual(expect.arrayContaining(['RefundPaymentToDLQ', 'ReleaseStock']));
      expect(world.delta(before, await world.snapshot())).toEqual({
        ...world.noChange,
        balances: { [world.customer1]: -1500 },
      });
      const messages = await world.deadLetters(input.orderId);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({
        orderId: input.orderId,
        step: 'RefundPayment',
        error: 'InjectedFailure',
      });

      // Act: redrive (replays without the fault plan: the outage is over)
      const report = await world.redrive();

      // Assess
      expect(report.succeeded).toEqual(
        expect.arrayContaining([expect.objectContaining({ orderId: input.orderId })]),
      );
      expect(await world.getOrder(input.orderId)).toMatchObject({ status: 'CANCELLED' });
      expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
      expect(await world.deadLetters(input.orderId)).toHaveLength(0);
    },
  );

  withFaults(
    'parks the outcome in the DLQ when RecordFailure keeps failing, and redrive records it (never stuck PENDING)',
    async () => {
      // Prepare: BookDelivery fails; then the read-model write itself keeps failing through its retries
      const input = order({
        items: [{ sku: world.sku1, quantity: 1 }],
        faults: { BookDelivery: 'fail', RecordFailure: 'fail' },
      });
      const before = await world.snapshot();

      // Act
      const result = await world.run(input);

      // Assess: every effect is undone, but the order could not leave PENDING: the DLQ holds the write
      expect(result.execution).toBe('FAILED');
      expect(result.statesEntered).toEqual(expect.arrayContaining(['RecordFailureToDLQ']));
      expect(result.order).toMatchObject({ status: 'PENDING' });
      expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
      const messages = await world.deadLetters(input.orderId);
      expect(messages).toEqual([
        expect.objectContaining({ orderId: input.orderId, step: 'RecordFailure', error: 'InjectedFailure' }),
      ]);

      // Act: redrive
      await world.redrive();

      // Assess
      expect(await world.getOrder(input.orderId)).toMatchObject({
        status: 'CANCELLED',
        failedStep: 'BookDelivery',
      });
      expect(await world.deadLetters(input.orderId)).toHaveLength(0);
    },
  );

  withFaults(
    'undoes a step that committed but reported failure (crash after commit at ChargePayment)',
    async () => {
      const input = order({
        items: [{ sku: world.sku1, quantity: 1 }],
        faults: { ChargePayment: 'crash-after-commit' },
      });
      const before = await world.snapshot();

      const result = await world.run(input);

      expect(result.order).toMatchObject({ status: 'CANCELLED', failedStep: 'ChargePayment' });
      expect(world.compensationOrder(result.statesEntered)[0]).toBe('RefundPayment');
      expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
    },
  );

  withFaults(
    'keeps a confirmation that committed but reported failure: the pivot guard ends the saga confirmed',
    async () => {
      const input = order({
        items: [{ sku: world.sku1, quantity: 1 }],
        faults: { ConfirmOrder: 'crash-after-commit' },
      });
      const before = await world.snapshot();

      const result = await world.run(input);

      expect(result.execution).toBe('SUCCEEDED');
      expect(result.order).toMatchObject({ status: 'CONFIRMED', total: 1500 });
      expect(result.statesEntered).toContain('RejectOrder');
      expect(result.statesEntered).not.toContain('CancelDelivery');
      expect(world.delta(before, await world.snapshot())).toEqual(world.confirmedDelta(1));
    },
  );

  withFaults(
    'never unwinds a confirmed order when the pivot guard cannot decide; redrive keeps it confirmed',
    async () => {
      // Prepare: ConfirmOrder commits then reports a failure, and its guard keeps failing
      const input = order({
        items: [{ sku: world.sku1, quantity: 2 }],
        faults: { ConfirmOrder: 'crash-after-commit', RejectOrder: 'fail' },
      });
      const before = await world.snapshot();
      const charged = world.confirmedDelta(2);

      // Act
      const result = await world.run(input);

      // Assess: the unwind stopped at the guard; the confirmed order keeps its payment and stock
      expect(result.statesEntered).toContain('RejectOrderToDLQ');
      expect(result.statesEntered).not.toContain('CancelDelivery');
      expect(result.order).toMatchObject({ status: 'CONFIRMED', total: 3000 });
      expect(world.delta(before, await world.snapshot())).toEqual(charged);
      const [letter] = await world.deadLetters(input.orderId);
      expect(letter).toMatchObject({
        step: 'RejectOrder',
        resume: ['CancelDelivery', 'RefundPayment', 'ReleaseStock', 'ReleasePromo'],
      });

      // Act: the guard now answers OrderAlreadyConfirmed
      await world.redrive();

      // Assess
      expect(await world.getOrder(input.orderId)).toMatchObject({ status: 'CONFIRMED' });
      expect(world.delta(before, await world.snapshot())).toEqual(charged);
      expect(await world.deadLetters(input.orderId)).toHaveLength(0);
    },
  );

  withFaults(
    'resumes the unwind in redrive when the guard of an unconfirmed order kept failing',
    async () => {
      const input = order({
        items: [{ sku: world.sku1, quantity: 1 }],
        promoCode: world.welcome10,
        faults: { ConfirmOrder: 'fail', RejectOrder: 'fail' },
      });
      const before = await world.snapshot();

      const result = await world.run(input);

      expect(result.order).toMatchObject({ status: 'NEEDS_ATTENTION', failedCompensations: ['RejectOrder'] });
      expect(world.compensationOrder(result.statesEntered)).toEqual(['RejectOrder']);

      const report = await world.redrive();

      expect(report.succeeded).toEqual(
        expect.arrayContaining([expect.objectContaining({ orderId: input.orderId })]),
      );
      expect(await world.getOrder(input.orderId)).toMatchObject({ status: 'CANCELLED' });
      expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
      expect(await world.deadLetters(input.orderId)).toHaveLength(0);
    },
  );

  withFaults('retries transient errors and charges once when a step is delivered twice', async () => {
    const input = order({
      items: [{ sku: world.sku1, quantity: 1 }],
      faults: { ReserveStock: 'transient:2', ChargePayment: 'duplicate' },
    });
    const before = await world.snapshot();

    const result = await world.run(input);

    expect(result.execution).toBe('SUCCEEDED');
    expect(result.retries.ReserveStock).toBe(2);
    expect(world.delta(before, await world.snapshot())).toEqual(world.confirmedDelta(1));
  });

  withFaults('compensates a step whose Lambda timed out again on its one timeout retry', async () => {
    const input = order({ items: [{ sku: world.sku1, quantity: 1 }], faults: { BookDelivery: 'timeout' } });
    const before = await world.snapshot();

    const result = await world.run(input);

    expect(result.order).toMatchObject({ status: 'CANCELLED', failedStep: 'BookDelivery' });
    // Timed out twice: a timeout is an unknown outcome, attempted once more before the saga unwinds.
    expect(result.retries.BookDelivery).toBe(1);
    expect(world.compensationOrder(result.statesEntered)).toEqual([
      'CancelDelivery',
      'RefundPayment',
      'ReleaseStock',
    ]);
    expect(world.delta(before, await world.snapshot())).toEqual(world.noChange);
  });

  it('is idempotent by orderId: the same body returns the same execution, another body is a 409', async () => {
    const input = order({ items: [{ sku: world.sku1, quantity: 1 }] });

    const first = await world.api.post<{ executionArn: string }>('orders', input);
    const again = await world.api.post<{ executionArn: string }>('orders', input);
    const other = await world.api.post<{ message: string }>('orders', {
      ...input,
      items: [{ sku: world.sku1, quantity: 2 }],
    });

    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.executionArn).toBe(first.body.executionArn);
    expect(other.status).toBe(409);
    expect(other.body.message).toContain(input.orderId);
    const settled = await world.waitForOrder(input.orderId);
    expect(settled.status).toBe('CONFIRMED');
  });

  withFaults('reports the order and its step timeline', async () => {
    const input = order({ items: [{ sku: world.sku1, quantity: 1 }], faults: { BookDelivery: 'fail' } });
    await world.run(input);

    const status = await world.api.get<Record<string, unknown>>(`orders/${input.orderId}`);
    const history = await world.api.get<{ steps: Array<{ name: string; status: string }> }>(
      `orders/${input.orderId}/history`,
    );
    const missing = await world.api.get<{ message: string }>('orders/no-such-order');

    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      orderId: input.orderId,
      status: 'CANCELLED',
      failedStep: 'BookDelivery',
    });
    expect(history.status).toBe(200);
    const names = history.body.steps.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining(['ReserveStock', 'ChargePayment', 'BookDelivery', 'CancelDelivery']),
    );
    expect(history.body.steps.find((s) => s.name === 'BookDelivery')?.status).toMatch(/failed|caught/);
    expect(missing.status).toBe(404);
  });
});
