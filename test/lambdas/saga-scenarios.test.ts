/**
 * The demo scenarios (success, a failing step at each position, a failing compensation), run through the real handlers against DynamoDB Local, ordered the way the
 * state machine orders them (toolkit/construct/saga.ts): forward steps with Retry on TransientError; on failure the
 * failed step's own compensation first, then the earlier ones in reverse; a compensation that keeps
 * failing is dead-lettered and the unwind goes on; RecordFailure last. The local cloud runs the same
 * scenarios end to end through the real state machine.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  COMPENSATION_OF,
  type CompensationName,
  FUNCTIONS,
  type FunctionId,
  type OrderRecord,
  type OrderSagaInput,
  type OrderSagaState,
  STEP_NAMES,
  type StepName,
} from '../../lib/contract';
import {
  createTables,
  getItem,
  type LocalTables,
  loadSeed,
  newOrderId,
  putItem,
} from '../support/dynamodb-local';
import { type Handler, lambdaContext, loadHandler, stepEvent } from '../support/handlers';

let local: LocalTables;
const handlers = new Map<FunctionId, Handler>();

const FORWARD_ATTEMPTS = 3;
const COMPENSATION_ATTEMPTS = 3;

async function invoke(fn: FunctionId, state: OrderSagaState, attempts: number): Promise<unknown> {
  const handler = handlers.get(fn);
  if (!handler) throw new Error(`no handler for ${fn}`);
  for (let retryCount = 0; ; retryCount++) {
    try {
      return await handler(stepEvent(state, retryCount), lambdaContext());
    } catch (error) {
      const retryable = fn in COMPENSATION_OF ? (error as Error).name === 'TransientError' : true;
      if (!retryable || retryCount + 1 >= attempts) throw error;
    }
  }
}

type Outcome = 'OrderConfirmed' | 'OrderFailed' | 'CompensationFailed';

async function runSaga(input: OrderSagaInput): Promise<{ outcome: Outcome; state: OrderSagaState }> {
  const now = new Date().toISOString();
  await putItem(local, 'Orders', {
    ...input,
    faults: undefined,
    status: 'PENDING',
    requestHash: 'scenario',
    createdAt: now,
    updatedAt: now,
  });
  const state: OrderSagaState = { ...structuredClone(input), results: {} };
  const steps = STEP_NAMES.filter((s) => s !== 'ReservePromo' || state.promoCode);
  const done: StepName[] = [];
  for (const step of steps) {
    try {
      const result = await invoke(step, state, FORWARD_ATTEMPTS);
      (state.results as Record<string, unknown>)[step] = result;
      done.push(step);
    } catch (error) {
      const { name, message } = error as Error;
      state.failure = {
        step,
        error: name,
        cause: JSON.stringify({ errorType: name, errorMessage: message }),
      };
      for (const failedOrDone of [step, ...done.reverse()]) {
        const compensation: CompensationName = COMPENSATION_OF[failedOrDone];
        try {
          await invoke(compensation, state, COMPENSATION_ATTEMPTS);
        } catch (compensationError) {
          if ((compensationError as Error).name === 'OrderAlreadyConfirmed')
            return { outcome: 'OrderConfirmed', state };
          state.deadLettered = {
            ...state.deadLettered,
            [compensation]: { messageId: `dlq-${compensation}` },
          };
        }
      }
      await invoke('RecordFailure', state, FORWARD_ATTEMPTS);
      return { outcome: state.deadLettered ? 'CompensationFailed' : 'OrderFailed', state };
    }
  }
  return { outcome: 'OrderConfirmed', state };
}

/** Balances, stock, promo uses and slot bookings the scenarios touch. */
async function snapshot() {
  const num = async (
    table: 'Accounts' | 'Inventory' | 'Promos' | 'DeliverySlots',
    key: Record<string, string>,
    attr: string,
  ) => Number((await getItem(local, table, key))?.[attr]);
  return {
    customer1: await num('Accounts', { customerId: 'customer-1' }, 'balance'),
    customer2: await num('Accounts', { customerId: 'customer-2' }, 'balance'),
    sku1: await num('Inventory', { sku: 'SKU-1' }, 'stock'),
    sku2: await num('Inventory', { sku: 'SKU-2' }, 'stock'),
    welcome10: await num('Promos', { code: 'WELCOME10' }, 'usesLeft'),
    slot: await num('DeliverySlots', { slotId: '2026-12-01T10' }, 'booked'),
  };
}

const order = (overrides: Partial<OrderSagaInput> = {}): OrderSagaInput => ({
  orderId: newOrderId('scenario'),
  customerId: 'customer-1',
  items: [{ sku: 'SKU-1', quantity: 2 }],
  deliverySlot: '2026-12-01T10',
  ...overrides,
});
const orderOf = (orderId: string) => getItem<OrderRecord>(local, 'Orders', { orderId });

beforeAll(async () => {
  local = await createTables();
  await loadSeed(local);
  for (const fn of Object.keys(FUNCTIONS) as FunctionId[]) {
    if (fn === 'Api' || fn === 'Redrive') continue;
    handlers.set(
      fn,
      await loadHandler(FUNCTIONS[fn].entry.replace(/\.ts$/, ''), local, { STEPSAGA_FAULTS: 'on' }),
    );
  }
});

describe('demo scenarios', () => {
  it('success without promo: confirmed, charged 3000, stock and slot taken', async () => {
    const before = await snapshot();
    const input = order();
    const { outcome } = await runSaga(input);
    expect(outcome).toBe('OrderConfirmed');
    expect(await orderOf(input.orderId)).toMatchObject({ status: 'CONFIRMED', total: 3000 });
    expect(await snapshot()).toEqual({
      ...before,
      customer1: before.customer1 - 3000,
      sku1: before.sku1 - 2,
      slot: before.slot + 1,
    });
  });

  it('success with WELCOME10: 10 % off, one use taken', async () => {
    const before = await snapshot();
    const input = order({ promoCode: 'WELCOME10' });
    expect((await runSaga(input)).outcome).toBe('OrderConfirmed');
    expect(await orderOf(input.orderId)).toMatchObject({ status: 'CONFIRMED', total: 2700 });
    expect(await snapshot()).toEqual({
      ...before,
      customer1: before.customer1 - 2700,
      sku1: before.sku1 - 2,
      welcome10: before.welcome10 - 1,
      slot: before.slot + 1,
    });
  });

  it('EXPIRED promo fails at the first step with nothing to compensate', async () => {
    const before = await snapshot();
    const input = order({ promoCode: 'EXPIRED' });
    const { outcome } = await runSaga(input);
    expect(outcome).toBe('OrderFailed');
    expect(await orderOf(input.orderId)).toMatchObject({
      status: 'CANCELLED',
      failedStep: 'ReservePromo',
      reason: 'PromoExhausted: Promo code EXPIRED has no uses left',
    });
    expect(await snapshot()).toEqual(before);
  });

  it('quantity 999 with WELCOME10: InsufficientStock, the promo use is given back', async () => {
    const before = await snapshot();
    const input = order({ promoCode: 'WELCOME10', items: [{ sku: 'SKU-1', quantity: 999 }] });
    expect((await runSaga(input)).outcome).toBe('OrderFailed');
    expect(await orderOf(input.orderId)).toMatchObject({ status: 'CANCELLED', failedStep: 'ReserveStock' });
    expect((await orderOf(input.orderId))?.reason).toMatch(
      /^InsufficientStock: Not enough stock of SKU-1: 999 requested/,
    );
    expect(await snapshot()).toEqual(before);
  });

  it('customer-2 buys 2 × SKU-2 with WELCOME10: InsufficientFunds, stock and promo released', async () => {
    const before = await snapshot();
    const input = order({
      customerId: 'customer-2',
      promoCode: 'WELCOME10',
      items: [{ sku: 'SKU-2', quantity: 2 }],
    });
    expect((await runSaga(input)).outcome).toBe('OrderFailed');
    expect(await orderOf(input.orderId)).toMatchObject({
      status: 'CANCELLED',
      failedStep: 'ChargePayment',
      reason: 'InsufficientFunds: Customer customer-2 cannot pay 450000: balance is 1000',
    });
    expect(await snapshot()).toEqual(before);
  });

  it('failure injected at ConfirmOrder: everything released, balances and stock back to start', async () => {
    const before = await snapshot();
    const input = order({ promoCode: 'WELCOME10', faults: { ConfirmOrder: 'fail' } });
    expect((await runSaga(input)).outcome).toBe('OrderFailed');
    expect(await orderOf(input.orderId)).toMatchObject({ status: 'CANCELLED', failedStep: 'ConfirmOrder' });
    expect(await snapshot()).toEqual(before);
  });

  it('transient failures are retried and the order still confirms', async () => {
    const input = order({ faults: { ReserveStock: 'transient:2', ChargePayment: 'transient:1' } });
    expect((await runSaga(input)).outcome).toBe('OrderConfirmed');
    expect(await orderOf(input.orderId)).toMatchObject({ status: 'CONFIRMED' });
  });

  it('ConfirmOrder crash after commit: RejectOrder finds it confirmed, nothing is unwound', async () => {
    const before = await snapshot();
    const input = order({ faults: { ConfirmOrder: 'crash-after-commit' } });
    expect((await runSaga(input)).outcome).toBe('OrderConfirmed');
    expect(await orderOf(input.orderId)).toMatchObject({ status: 'CONFIRMED', total: 3000 });
    expect(await snapshot()).toEqual({
      ...before,
      customer1: before.customer1 - 3000,
      sku1: before.sku1 - 2,
      slot: before.slot + 1,
    });
  });

  it('ChargePayment crash after commit: its own compensation refunds it first', async () => {
    const before = await snapshot();
    const input = order({ faults: { ChargePayment: 'crash-after-commit' } });
    expect((await runSaga(input)).outcome).toBe('OrderFailed');
    expect(await orderOf(input.orderId)).toMatchObject({ status: 'CANCELLED', failedStep: 'ChargePayment' });
    expect(await snapshot()).toEqual(before);
  });

  it('a compensation that keeps failing: NEEDS_ATTENTION naming it, the rest still unwound', async () => {
    const before = await snapshot();
    const input = order({ faults: { ConfirmOrder: 'fail', RefundPayment: 'fail' } });
    expect((await runSaga(input)).outcome).toBe('CompensationFailed');
    const recorded = await orderOf(input.orderId);
    expect(recorded).toMatchObject({ status: 'NEEDS_ATTENTION', failedStep: 'ConfirmOrder' });
    expect(recorded?.failedCompensations).toEqual(new Set(['RefundPayment']));
    expect(await snapshot()).toEqual({ ...before, customer1: before.customer1 - 3000 });
  });
});
