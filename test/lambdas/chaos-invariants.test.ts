/**
 * The invariant checker against DynamoDB Local: a hand-made consistent world passes, and each kind of
 * corruption (money created, stock lost, a leaked charge, an orphan key, a status that contradicts its
 * execution, ...) is caught and named. A checker that cannot fail proves nothing.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  checkInvariants,
  type ExecutionObservation,
  type InvariantId,
  type InvariantInput,
} from '../../chaos/invariants';
import { clientsFor, filterFor, putDataset, readBusiness, readFinal } from '../../chaos/observe';
import type { ActionObservation } from '../../chaos/plan';
import { type PlannedSaga, predictOutcome } from '../../chaos/plan';
import type { ChaosTarget, TargetOutputs as Outputs } from '../../client/target';
import type { IdempotencyRecord, OrderRecord, OrderSagaInput, SeedData } from '../../lib/contract';
import { createTables } from '../support/dynamodb-local';

let worldCount = 0;

/** Fresh tables under their own prefix, as a target the observers can read. */
async function freshTarget(): Promise<ChaosTarget> {
  const prefix = `inv${Date.now().toString(36)}-${++worldCount}`;
  const local = await createTables(prefix);
  local.client.destroy();
  const names = local.tables;
  const outputs: Outputs = {
    ApiUrl: 'http://unused/',
    StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:unused',
    DlqUrl: 'http://unused/queue',
    AccountsTableName: names.Accounts,
    InventoryTableName: names.Inventory,
    PromosTableName: names.Promos,
    DeliverySlotsTableName: names.DeliverySlots,
    OrdersTableName: names.Orders,
    IdempotencyKeysTableName: names.IdempotencyKeys,
    RedriveFunctionName: 'unused',
    FaultInjection: 'on',
  };
  return {
    name: 'dynamodb-local',
    aws: {
      region: 'us-east-1',
      endpoint: local.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    },
    outputs,
    api: () => Promise.reject(new Error('no API in this test')),
  };
}

const START: SeedData = {
  accounts: [
    { customerId: 'c1', name: 'One', balance: 10_000 },
    { customerId: 'c2', name: 'Two', balance: 5_000 },
  ],
  inventory: [
    { sku: 'A', name: 'A', price: 1_000, stock: 10 },
    { sku: 'B', name: 'B', price: 500, stock: 5 },
  ],
  promos: [{ code: 'P', discountPercent: 10, usesLeft: 3 }],
  deliverySlots: [{ slotId: 'S', capacity: 5, booked: 0 }],
};

const now = '2026-11-22T00:00:00.000Z';
const key = (
  orderId: string,
  step: IdempotencyRecord['step'],
  state: IdempotencyRecord['state'],
  result?: unknown,
) =>
  ({
    orderId,
    step,
    state,
    ...(result !== undefined ? { result } : {}),
    createdAt: now,
    updatedAt: now,
    expiresAt: 2e9,
  }) as IdempotencyRecord;
/** A ReserveStock result of one line, without a discount. */
const reservation = (sku: string, quantity: number, unitPrice: number) => ({
  lines: [{ sku, quantity, unitPrice }],
  subtotal: quantity * unitPrice,
  discount: 0,
  total: quantity * unitPrice,
});
const order = (o: Partial<OrderRecord> & Pick<OrderRecord, 'orderId' | 'status' | 'customerId' | 'items'>) =>
  ({ deliverySlot: 'S', requestHash: 'h', createdAt: now, updatedAt: now, ...o }) as OrderRecord;

/**
 * A consistent world: one confirmed order (with promo), one cancelled at ChargePayment, one waiting for
 * the redrive of its RefundPayment (so it still holds its charge).
 */
function consistentWorld() {
  const final: SeedData = {
    accounts: [
      { customerId: 'c1', name: 'One', balance: 8_200 },
      { customerId: 'c2', name: 'Two', balance: 4_000 },
    ],
    inventory: [
      { sku: 'A', name: 'A', price: 1_000, stock: 8 },
      { sku: 'B', name: 'B', price: 500, stock: 5 },
    ],
    promos: [{ code: 'P', discountPercent: 10, usesLeft: 2 }],
    deliverySlots: [{ slotId: 'S', capacity: 5, booked: 1 }],
  };
  const orders: OrderRecord[] = [
    order({
      orderId: 'o-conf',
      status: 'CONFIRMED',
      customerId: 'c1',
      items: [{ sku: 'A', quantity: 2 }],
      promoCode: 'P',
      total: 1_800,
    }),
    order({
      orderId: 'o-canc',
      status: 'CANCELLED',
      customerId: 'c2',
      items: [{ sku: 'B', quantity: 1 }],
      failedStep: 'ChargePayment',
      reason: 'InsufficientFunds: balance too low',
    }),
    order({
      orderId: 'o-na',
      status: 'NEEDS_ATTENTION',
      customerId: 'c2',
      items: [{ sku: 'B', quantity: 2 }],
      failedStep: 'BookDelivery',
      reason: 'SlotFull: no capacity',
      failedCompensations: ['RefundPayment'],
    }),
    // Cancelled by someone: a customer (while ChargePayment was in its backoff), a review deadline.
    order({
      orderId: 'o-cust',
      status: 'CANCELLED',
      customerId: 'c1',
      items: [{ sku: 'A', quantity: 1 }],
      reason: 'CustomerCancelled',
      cancelReason: 'CustomerCancelled',
    }),
    order({
      orderId: 'o-rev',
      status: 'CANCELLED',
      customerId: 'c1',
      items: [{ sku: 'A', quantity: 1 }],
      total: 1_000,
      reason: 'ReviewTimedOut',
    }),
  ];
  const keys: IdempotencyRecord[] = [
    key('o-conf', 'ReservePromo', 'DONE', { code: 'P', discountPercent: 10 }),
    key('o-conf', 'ReserveStock', 'DONE', {
      lines: [{ sku: 'A', quantity: 2, unitPrice: 1_000 }],
      subtotal: 2_000,
      discount: 200,
      total: 1_800,
    }),
    key('o-conf', 'ChargePayment', 'DONE', { amount: 1_800 }),
    key('o-conf', 'BookDelivery', 'DONE', { slotId: 'S' }),
    key('o-conf', 'ConfirmOrder', 'DONE', { status: 'CONFIRMED', total: 1_800 }),
    key('o-canc', 'ReserveStock', 'COMPENSATED', reservation('B', 1, 500)),
    key('o-canc', 'ChargePayment', 'TOMBSTONE'),
    key('o-na', 'ReserveStock', 'COMPENSATED', reservation('B', 2, 500)),
    key('o-na', 'ChargePayment', 'DONE', { amount: 1_000 }),
    key('o-na', 'BookDelivery', 'TOMBSTONE'),
    key('o-cust', 'ReserveStock', 'COMPENSATED', reservation('A', 1, 1_000)),
    key('o-cust', 'ChargePayment', 'TOMBSTONE'),
    key('o-rev', 'ReserveStock', 'COMPENSATED', reservation('A', 1, 1_000)),
  ];
  const executions: ExecutionObservation[] = [
    { name: 'o-conf', status: 'SUCCEEDED' },
    { name: 'o-canc', status: 'FAILED', error: 'InsufficientFunds' },
    { name: 'o-na', status: 'FAILED', error: 'CompensationFailed' },
    { name: 'o-cust', status: 'FAILED', error: 'OrderCancelled' },
    { name: 'o-rev', status: 'FAILED', error: 'States.Timeout' },
  ];
  const deadLetters: InvariantInput['deadLetters'] = [{ orderId: 'o-na', step: 'RefundPayment' }];
  // The people: a cancel after the pivot (refused), a cancel during ChargePayment (accepted), a reviewer
  // who let the deadline pass.
  const actions: ActionObservation[] = [
    {
      orderId: 'o-conf',
      index: 0,
      action: { kind: 'cancel', moment: { at: 'confirmed' } },
      trigger: 'reached',
      statusBefore: 'CONFIRMED',
      answer: { status: 409, code: 'AlreadyConfirmed' },
    },
    {
      orderId: 'o-cust',
      index: 3,
      action: { kind: 'cancel', moment: { at: 'after', step: 'ReserveStock' } },
      trigger: 'reached',
      statusBefore: 'PENDING',
      answer: { status: 202 },
    },
    {
      orderId: 'o-rev',
      index: 4,
      action: { kind: 'review', choice: 'wait' },
      trigger: 'reached',
      statusBefore: 'AWAITING_REVIEW',
    },
  ];
  return { final, orders, keys, executions, deadLetters, actions, reviewThreshold: 100_000 };
}

type World = ReturnType<typeof consistentWorld>;

/** Writes a world to fresh tables, reads it back through the SDK, and checks it. */
async function check(world: World, extra: Partial<InvariantInput> = {}) {
  const target = await freshTarget();
  const clients = clientsFor(target);
  try {
    await putDataset(clients, target, START);
    const start = await readBusiness(clients, target, filterFor(START));
    await putDataset(clients, target, world.final);
    for (const o of world.orders) {
      const item: Record<string, unknown> = { ...o };
      if (o.failedCompensations) item.failedCompensations = new Set(o.failedCompensations);
      await clients.doc.send(new PutCommand({ TableName: target.outputs.OrdersTableName, Item: item }));
    }
    for (const k of world.keys) {
      await clients.doc.send(
        new PutCommand({ TableName: target.outputs.IdempotencyKeysTableName, Item: { ...k } }),
      );
    }
    const final = await readFinal(clients, target, filterFor(START));
    return checkInvariants({
      start,
      final,
      executions: world.executions,
      deadLetters: world.deadLetters,
      actions: world.actions,
      reviewThreshold: world.reviewThreshold,
      ...extra,
    });
  } finally {
    clients.destroy();
  }
}

const violationsOf = (report: Awaited<ReturnType<typeof check>>, id: InvariantId) =>
  report.results.find((r) => r.id === id)?.violations ?? [];

describe('checkInvariants', () => {
  it('passes a consistent world (confirmed, cancelled by a step, a customer and a deadline, awaiting redrive)', async () => {
    const report = await check(consistentWorld());
    expect(report.results.flatMap((r) => r.violations)).toEqual([]);
    expect(report.violations).toBe(0);
    expect(report.results.find((r) => r.id === 'money')?.checked).toBe(2);
  });

  const corruptions: Array<[string, InvariantId, RegExp, (w: World) => void]> = [
    [
      'money created',
      'money',
      /account c1: .*created 100/,
      (w) => {
        w.final.accounts[0]!.balance = 8_300;
      },
    ],
    [
      'stock lost',
      'stock',
      /SKU B: stock 4/,
      (w) => {
        w.final.inventory[1]!.stock = 4;
      },
    ],
    [
      'a promo use lost',
      'promos',
      /promo P: uses left 3/,
      (w) => {
        w.final.promos[0]!.usesLeft = 3;
      },
    ],
    [
      'a slot booked twice',
      'slots',
      /slot S: booked 2/,
      (w) => {
        w.final.deliverySlots[0]!.booked = 2;
      },
    ],
    [
      'a negative balance',
      'nonNegative',
      /account c2: balance -1/,
      (w) => {
        w.final.accounts[1]!.balance = -1;
      },
    ],
    [
      'overbooking',
      'nonNegative',
      /slot S: booked 6 > capacity 5/,
      (w) => {
        w.final.deliverySlots[0]!.booked = 6;
      },
    ],
    [
      'a confirmed order charged a wrong amount',
      'confirmed',
      /order o-conf \(CONFIRMED\): charged 1700, order total 1800/,
      (w) => {
        w.keys[2]!.result = { amount: 1_700 };
      },
    ],
    [
      'a confirmed order missing a step',
      'confirmed',
      /order o-conf \(CONFIRMED\): BookDelivery key is absent/,
      (w) => {
        w.keys.splice(3, 1);
      },
    ],
    [
      'a cancelled order whose stock was never released',
      'cancelled',
      /order o-canc \(CANCELLED at ChargePayment\): ReserveStock key still DONE/,
      (w) => {
        w.keys[5]!.state = 'DONE';
      },
    ],
    [
      'an orphan key',
      'keys',
      /key \(ghost, ChargePayment\): no such order/,
      (w) => {
        w.keys.push(key('ghost', 'ChargePayment', 'DONE', { amount: 1 }));
      },
    ],
    [
      'a key booking another slot',
      'keys',
      /key \(o-conf, BookDelivery\): booked slot T, order slot S/,
      (w) => {
        w.keys[3]!.result = { slotId: 'T' };
      },
    ],
    [
      'a reservation for other quantities',
      'keys',
      /key \(o-conf, ReserveStock\): reserved/,
      (w) => {
        w.keys[1]!.result = {
          lines: [{ sku: 'A', quantity: 3, unitPrice: 1_000 }],
          subtotal: 3_000,
          discount: 300,
          total: 1_800,
        };
      },
    ],
    [
      'a confirmed order whose execution failed',
      'executions',
      /order o-conf \(CONFIRMED\): execution FAILED \(InjectedFailure\), yet the order is confirmed/,
      (w) => {
        w.executions[0] = { name: 'o-conf', status: 'FAILED', error: 'InjectedFailure' };
      },
    ],
    [
      'a needs-attention order with nothing in the DLQ',
      'executions',
      /order o-na \(NEEDS_ATTENTION\): failedCompensations \[RefundPayment\] but DLQ holds \[\]/,
      (w) => {
        w.deadLetters!.splice(0, 1);
      },
    ],
    [
      'an execution still running',
      'executions',
      /order o-canc \(CANCELLED\): execution RUNNING, expected SUCCEEDED or FAILED/,
      (w) => {
        w.executions[1] = { name: 'o-canc', status: 'RUNNING' };
      },
    ],
    [
      'an order left PENDING',
      'executions',
      /order o-canc \(PENDING\): still PENDING/,
      (w) => {
        w.orders[1]!.status = 'PENDING';
      },
    ],
    [
      'a customer-cancelled order whose charge was never refunded',
      'cancelled',
      /order o-cust \(CANCELLED by CustomerCancelled\): ChargePayment key still DONE \(the charge never given back\)/,
      (w) => {
        w.keys[11]!.state = 'DONE';
        w.keys[11]!.result = { amount: 1_000 };
      },
    ],
    [
      'a confirmed order whose charge was refunded',
      'confirmed',
      /order o-conf \(CONFIRMED\): ChargePayment key is COMPENSATED, expected DONE/,
      (w) => {
        w.keys[2]!.state = 'COMPENSATED';
      },
    ],
    [
      'a confirmed order that was also cancelled',
      'outcome',
      /order o-conf \(CONFIRMED\): confirmed, yet cancelReason is CustomerCancelled/,
      (w) => {
        w.orders[0]!.cancelReason = 'CustomerCancelled';
      },
    ],
    [
      'a cancelled order with a cancel reason and a failed step',
      'outcome',
      /order o-cust \(CANCELLED, CustomerCancelled\): both a cancel reason and a failed step \(ChargePayment\)/,
      (w) => {
        w.orders[3]!.failedStep = 'ChargePayment';
      },
    ],
    [
      'an order left CANCELLING',
      'outcome',
      /order o-cust \(CANCELLING, CustomerCancelled\): no final outcome \(CANCELLING\)/,
      (w) => {
        w.orders[3]!.status = 'CANCELLING';
      },
    ],
    [
      'a review timeout whose execution failed with another error',
      'outcome',
      /order o-rev \(CANCELLED, ReviewTimedOut\): execution FAILED with InjectedFailure, which is not that reason/,
      (w) => {
        w.executions[4] = { name: 'o-rev', status: 'FAILED', error: 'InjectedFailure' };
      },
    ],
    [
      'a step failure whose execution names another error',
      'outcome',
      /order o-canc \(CANCELLED, InsufficientFunds: balance too low\): execution FAILED with SlotFull/,
      (w) => {
        w.executions[1] = { name: 'o-canc', status: 'FAILED', error: 'SlotFull' };
      },
    ],
    [
      'an order over the review threshold confirmed without an approval',
      'outcome',
      /order o-conf \(CONFIRMED\): confirmed with total 1800 ≥ review threshold 1800, never approved/,
      (w) => {
        w.reviewThreshold = 1_800;
      },
    ],
    [
      'a cancel after the pivot that was accepted',
      'actions',
      /order o-conf \(saga #0, cancel confirmed; CONFIRMED\): a cancel after the pivot was answered 202; it must be 409 and stay CONFIRMED/,
      (w) => {
        w.actions[0]!.answer = { status: 202 };
      },
    ],
    [
      'a customer cancel nobody asked for',
      'actions',
      /order o-cust \(CANCELLED, CustomerCancelled\): nobody asked for that \(no actor on this order\)/,
      (w) => {
        w.actions.splice(1, 1);
      },
    ],
    [
      'an approved review that timed out',
      'actions',
      /order o-rev \(saga #4, review approve; CANCELLED, ReviewTimedOut\): the approval was accepted \(202\), yet the order was not approved/,
      (w) => {
        w.actions[2] = {
          ...w.actions[2]!,
          action: { kind: 'review', choice: 'approve' },
          answer: { status: 202 },
        };
      },
    ],
    [
      'a resume that failed',
      'actions',
      /order o-canc \(saga #1, abort placed; .*\): resume answered 500/,
      (w) => {
        w.actions.push({
          orderId: 'o-canc',
          index: 1,
          action: { kind: 'abort', moment: { at: 'placed' } },
          trigger: 'reached',
          statusBefore: 'PENDING',
          stoppedStatus: 'ABORTED',
          answer: { status: 500 },
        });
      },
    ],
  ];

  it.each(corruptions)('catches %s', async (_label, id, message, corrupt) => {
    const world = consistentWorld();
    corrupt(world);
    const report = await check(world);
    expect(violationsOf(report, id)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
    expect(report.violations).toBeGreaterThan(0);
  });

  it('accepts a confirmed order whose unwind stopped at the pivot guard, and only that', async () => {
    // ConfirmOrder committed but reported a failure; its guard kept failing, so the execution handed the
    // guard to the DLQ and failed with CompensationFailed; the redrive then found the order confirmed.
    const stoppedAtGuard = consistentWorld();
    stoppedAtGuard.executions[0] = { name: 'o-conf', status: 'FAILED', error: 'CompensationFailed' };
    const guardLetter = { orderId: 'o-conf', step: 'RejectOrder' as const };
    const accepted = await check(stoppedAtGuard, {
      deadLettersBeforeRedrive: [guardLetter, { orderId: 'o-na', step: 'RefundPayment' }],
    });
    expect(violationsOf(accepted, 'executions')).toEqual([]);

    const noGuardLetter = await check(stoppedAtGuard, {
      deadLettersBeforeRedrive: [{ orderId: 'o-conf', step: 'CancelDelivery' }],
    });
    expect(violationsOf(noGuardLetter, 'executions')).toEqual([
      'order o-conf (CONFIRMED): execution FAILED (CompensationFailed), yet the order is confirmed',
    ]);
  });

  it('accepts an execution an operator stopped after its order had its outcome, and only that', async () => {
    // The stop came between RecordFailure and the end state: the order is CANCELLED, resume refused.
    const stoppedLate = consistentWorld();
    stoppedLate.executions[1] = { name: 'o-canc', status: 'ABORTED' };
    const withOperator = consistentWorld();
    withOperator.executions[1] = { name: 'o-canc', status: 'ABORTED' };
    withOperator.actions.push({
      orderId: 'o-canc',
      index: 1,
      action: { kind: 'abort', moment: { at: 'after', step: 'ReserveStock' } },
      trigger: 'reached',
      statusBefore: 'PENDING',
      stoppedStatus: 'ABORTED',
      answer: { status: 409, code: 'NotResumable' },
    });

    const accepted = await check(withOperator);
    const refused = await check(stoppedLate);

    expect(accepted.results.flatMap((r) => r.violations)).toEqual([]);
    expect(violationsOf(refused, 'executions')).toEqual([
      'order o-canc (CANCELLED): execution ABORTED, expected SUCCEEDED or FAILED',
    ]);
  });

  it('accepts a resume that redrove the dead letters of an execution that had ended FAILED, and only of one', async () => {
    // The operator's stop came after the execution ended CompensationFailed with the order unsettled
    // (RecordFailure dead-lettered): POST resume redrives the order's dead letters, 202.
    const resumeOf = (stoppedStatus: 'FAILED' | 'ABORTED') => {
      const world = consistentWorld();
      world.actions.push({
        orderId: 'o-canc',
        index: 1,
        action: { kind: 'abort', moment: { at: 'after', step: 'ReserveStock' } },
        trigger: 'reached',
        statusBefore: 'PENDING',
        stoppedStatus,
        answer: { status: 202, action: 'dead-letters-redriven' },
      });
      return check(world);
    };

    expect(violationsOf(await resumeOf('FAILED'), 'actions')).toEqual([]);
    expect(violationsOf(await resumeOf('ABORTED'), 'actions')).toEqual([
      expect.stringMatching(/resumed its dead letters \(202\) while its execution was ABORTED/),
    ]);
  });

  /** The plan of the confirmed order `o-conf` of `consistentWorld`, had it been given `faults`. */
  const confirmedOrderPlanned = (
    kind: PlannedSaga['kind'],
    faults: OrderSagaInput['faults'],
  ): PlannedSaga[] => {
    const input: OrderSagaInput = {
      orderId: 'o-conf',
      customerId: 'c1',
      items: [{ sku: 'A', quantity: 2 }],
      promoCode: 'P',
      deliverySlot: 'S',
      faults,
    };
    return [{ index: 0, kind, input, postTwice: false, expected: predictOutcome(input) }];
  };

  it('catches an outcome its fault plan cannot explain', async () => {
    const world = consistentWorld();
    const plans = confirmedOrderPlanned('fail', { ChargePayment: 'fail' });
    const report = await check(world, { plans });
    expect(violationsOf(report, 'plans')).toEqual([
      expect.stringMatching(/o-conf .*CONFIRMED, planned to fail at ChargePayment/),
    ]);
  });

  it('lists apart, not as a violation, the deviation of a fault keyed on RetryCount in a throttled Task', async () => {
    // A crash planned for ReserveStock's first attempt: that attempt was throttled, so the function first
    // ran with RetryCount 1, did not crash, and the order was confirmed.
    const world = consistentWorld();
    const plans = confirmedOrderPlanned('crash-after-commit', { ReserveStock: 'crash-after-commit' });

    const throttled = await check(world, { plans, throttleShifted: new Set(['o-conf']) });
    const unthrottled = await check(world, { plans, throttleShifted: new Set(['o-other']) });

    expect(throttled.results.flatMap((r) => r.violations)).toEqual([]);
    expect(throttled.shiftedByThrottles).toEqual([
      expect.stringMatching(/o-conf .*CONFIRMED, planned to fail at ReserveStock/),
    ]);
    expect(violationsOf(unthrottled, 'plans')).toEqual([
      expect.stringMatching(/o-conf .*CONFIRMED, planned to fail at ReserveStock/),
    ]);
    expect(unthrottled.shiftedByThrottles).toBeUndefined();
  });

  it('still counts an order a throttle failed as a violation, throttled Task or not', async () => {
    const world = consistentWorld();
    const cancelled = world.orders.find((o) => o.orderId === 'o-canc');
    if (cancelled) cancelled.reason = 'Lambda.TooManyRequestsException: Rate Exceeded.';
    const input: OrderSagaInput = {
      orderId: 'o-canc',
      customerId: 'c2',
      items: [{ sku: 'B', quantity: 1 }],
      deliverySlot: 'S',
      faults: { ChargePayment: 'transient:1' },
    };
    const plans: PlannedSaga[] = [
      { index: 1, kind: 'transient', input, postTwice: false, expected: predictOutcome(input) },
    ];

    const report = await check(world, { plans, throttleShifted: new Set(['o-canc']) });

    expect(violationsOf(report, 'plans')).toEqual([
      expect.stringMatching(/o-canc .*CANCELLED at ChargePayment \(Lambda\.TooManyRequestsException/),
    ]);
    expect(report.shiftedByThrottles).toBeUndefined();
  });
});
