/**
 * The invariants of the order saga, checked over what can be observed from outside: the tables (scanned
 * through the AWS SDK, against any endpoint), the executions (Step Functions API) and the DLQ. Pure: it
 * takes observations and returns every violation as a readable line naming the order or item at fault.
 *
 * Accounting model. For every customer, SKU, promo and slot present in the starting snapshot:
 *   start = final + what confirmed orders took + what NEEDS_ATTENTION orders still hold
 * where a NEEDS_ATTENTION order "holds" exactly the effects whose compensation is waiting in the DLQ (its
 * action key is still DONE). A cancelled order holds nothing. Anything else is money or stock created or
 * lost, and is reported against the item.
 */
import {
  COMPENSATION_NAMES,
  COMPENSATION_OF,
  type CompensationName,
  type DeadLetterMessage,
  type IdempotencyRecord,
  type OrderRecord,
  type PricedLine,
  type SeedData,
  STATE_NAMES,
  STEP_NAMES,
  type StepName,
} from '../lib/contract';
import { type PlannedSaga, pathOf, plannedDeadLetters } from './plan';

/** The business tables (what conservation is about). */
export type BusinessSnapshot = SeedData;

/** Everything the checker reads at the end of a run. */
export interface FinalObservation extends BusinessSnapshot {
  orders: OrderRecord[];
  idempotencyKeys: IdempotencyRecord[];
}

export type ExecutionStatus =
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'PENDING_REDRIVE';

export interface ExecutionObservation {
  /** Execution name (= orderId). */
  name: string;
  status: ExecutionStatus | string;
  /** The Fail state's error for FAILED executions (`OrderFailed`, `CompensationFailed`). */
  error?: string;
}

export interface InvariantInput {
  /** Business items before the run (only these items are checked for conservation). */
  start: BusinessSnapshot;
  final: FinalObservation;
  /** Executions of the run's orders; omit to skip the order ↔ execution checks. */
  executions?: ExecutionObservation[];
  /** DLQ messages at the end (all of them; messages for other orders are ignored). */
  deadLetters?: Array<Pick<DeadLetterMessage, 'orderId' | 'step'>>;
  /** The run's order ids; default: every order in `final.orders`. */
  orderIds?: readonly string[];
  /** Fault plans of the run: enables the plan-conformance check. */
  plans?: readonly PlannedSaga[];
  /** Orders as they were before the redrive (plan conformance compares the DLQ hand-offs with the plan). */
  ordersBeforeRedrive?: OrderRecord[];
  /**
   * DLQ messages before the redrive. A confirmed order whose execution failed with `CompensationFailed` is
   * consistent only if the pivot guard handed it to the DLQ (the guard could not tell whether the
   * confirmation had committed, so the unwind stopped there, and the redrive found it committed).
   */
  deadLettersBeforeRedrive?: Array<Pick<DeadLetterMessage, 'orderId' | 'step'>>;
}

export const INVARIANTS = {
  api: 'every order accepted once: 202 naming its orderId; a repeated POST returns the same order',
  money: 'money conserved: Σ balances + Σ charges of confirmed orders (+ charges awaiting redrive) = start',
  stock: 'stock conserved per SKU: stock + units of confirmed orders (+ units awaiting redrive) = start',
  promos: 'promo uses conserved: uses left + confirmed orders with the promo (+ awaiting redrive) = start',
  slots: 'slot bookings conserved: booked − confirmed orders in the slot (− awaiting redrive) = start',
  nonNegative: 'nothing negative: balances, stock, promo uses, bookings ≥ 0 and bookings ≤ capacity',
  confirmed:
    'every confirmed order charged exactly once: every step DONE, ChargePayment amount = order total',
  cancelled: 'every cancelled order left no effect: each of its step keys COMPENSATED or TOMBSTONE',
  keys: 'every IdempotencyKeys record consistent with its order and business item',
  executions: 'every order status consistent with its execution and the DLQ',
  plans: 'every outcome consistent with its fault plan',
} as const;
export type InvariantId = keyof typeof INVARIANTS;

export interface InvariantResult {
  id: InvariantId;
  description: string;
  /** How many things (items, orders, records) the check looked at. */
  checked: number;
  violations: string[];
}

export interface InvariantReport {
  results: InvariantResult[];
  violations: number;
}

/** Business-rule errors: data made the saga fail, not a fault. Anything else that fails a step is a fault. */
export const DATA_ERRORS = [
  'PromoExhausted',
  'PromoNotFound',
  'InsufficientStock',
  'UnknownSku',
  'InsufficientFunds',
  'UnknownCustomer',
  'SlotFull',
  'UnknownSlot',
] as const;

const FORWARD = new Set<string>(STEP_NAMES);
const COMPENSATIONS = new Set<string>(COMPENSATION_NAMES);
const STEP_OF_COMPENSATION = Object.fromEntries(STEP_NAMES.map((s) => [COMPENSATION_OF[s], s])) as Record<
  CompensationName,
  StepName
>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The priced lines recorded by a ReserveStock key (its result, or its effect as a fallback). */
function reservedLines(key: IdempotencyRecord | undefined): PricedLine[] | undefined {
  for (const source of [key?.result, key?.effect]) {
    if (isRecord(source) && Array.isArray(source.lines)) {
      return source.lines.filter(
        (l): l is PricedLine => isRecord(l) && typeof l.sku === 'string' && num(l.quantity) !== undefined,
      );
    }
  }
  return undefined;
}

function chargedAmount(key: IdempotencyRecord | undefined): number | undefined {
  return (
    (isRecord(key?.result) ? num(key.result.amount) : undefined) ??
    (isRecord(key?.effect) ? num(key.effect.amount) : undefined)
  );
}

function reservedTotal(key: IdempotencyRecord | undefined): number | undefined {
  return isRecord(key?.result) ? num(key.result.total) : undefined;
}

function failedCompensationsOf(order: OrderRecord | undefined): CompensationName[] {
  const raw: unknown = order?.failedCompensations;
  const list = raw instanceof Set ? [...raw] : Array.isArray(raw) ? raw : [];
  return list.filter((c): c is CompensationName => typeof c === 'string' && COMPENSATIONS.has(c)).sort();
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function unitsBySku(items: ReadonlyArray<{ sku: string; quantity: number }>): Map<string, number> {
  const units = new Map<string, number>();
  for (const item of items) units.set(item.sku, (units.get(item.sku) ?? 0) + item.quantity);
  return units;
}

/** What one order's effects amount to on the business items. */
interface Holding {
  money: Map<string, number>;
  units: Map<string, number>;
  promoUses: Map<string, number>;
  bookings: Map<string, number>;
}

function emptyHolding(): Holding {
  return { money: new Map(), units: new Map(), promoUses: new Map(), bookings: new Map() };
}

function add(map: Map<string, number>, key: string, amount: number): void {
  map.set(key, (map.get(key) ?? 0) + amount);
}

const fmt = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** Checks every invariant and returns each violation as one readable line. */
export function checkInvariants(input: InvariantInput): InvariantReport {
  const { start, final } = input;
  const scope = new Set(
    input.orderIds ?? [
      ...final.orders.map((o) => o.orderId),
      ...final.idempotencyKeys.map((k) => k.orderId),
      ...(input.executions ?? []).map((e) => e.name),
    ],
  );
  const orders = new Map(final.orders.filter((o) => scope.has(o.orderId)).map((o) => [o.orderId, o]));
  const keysByOrder = new Map<string, Map<string, IdempotencyRecord>>();
  for (const key of final.idempotencyKeys) {
    if (!scope.has(key.orderId)) continue;
    const byStep = keysByOrder.get(key.orderId) ?? new Map<string, IdempotencyRecord>();
    byStep.set(key.step, key);
    keysByOrder.set(key.orderId, byStep);
  }
  const keyOf = (orderId: string, step: string) => keysByOrder.get(orderId)?.get(step);
  const results: InvariantResult[] = [];
  const result = (id: InvariantId, checked: number, violations: string[]) =>
    results.push({ id, description: INVARIANTS[id], checked, violations });

  // ---- What each order holds, by the read model (confirmed) and by the keys awaiting redrive.
  const taken = emptyHolding();
  for (const order of orders.values()) {
    if (order.status === 'CONFIRMED') {
      const total = num(order.total) ?? reservedTotal(keyOf(order.orderId, 'ReserveStock')) ?? 0;
      add(taken.money, order.customerId, total);
      for (const [sku, units] of unitsBySku(order.items ?? [])) add(taken.units, sku, units);
      if (order.promoCode !== undefined) add(taken.promoUses, order.promoCode, 1);
      add(taken.bookings, order.deliverySlot, 1);
      continue;
    }
    if (order.status !== 'NEEDS_ATTENTION' && order.status !== 'PENDING') continue;
    // Awaiting redrive: the effects whose compensation is in the DLQ (PENDING: whatever is DONE so far).
    const pending = new Set(failedCompensationsOf(order));
    for (const step of STEP_NAMES) {
      const key = keyOf(order.orderId, step);
      if (key?.state !== 'DONE') continue;
      if (order.status === 'NEEDS_ATTENTION' && !pending.has(COMPENSATION_OF[step])) continue;
      if (step === 'ChargePayment') add(taken.money, order.customerId, chargedAmount(key) ?? 0);
      if (step === 'ReserveStock')
        for (const line of reservedLines(key) ?? []) add(taken.units, line.sku, line.quantity);
      if (step === 'ReservePromo' && order.promoCode !== undefined) add(taken.promoUses, order.promoCode, 1);
      if (step === 'BookDelivery') add(taken.bookings, order.deliverySlot, 1);
    }
  }

  // ---- Conservation, per item.
  const finalAccounts = new Map(final.accounts.map((a) => [a.customerId, a]));
  const money: string[] = [];
  let startMoney = 0;
  let endMoney = 0;
  let takenMoney = 0;
  for (const account of start.accounts) {
    const now = finalAccounts.get(account.customerId);
    if (!now) {
      money.push(`account ${account.customerId}: present at start, missing at the end`);
      continue;
    }
    const took = taken.money.get(account.customerId) ?? 0;
    startMoney += account.balance;
    endMoney += now.balance;
    takenMoney += took;
    if (now.balance + took !== account.balance) {
      const delta = now.balance + took - account.balance;
      money.push(
        `account ${account.customerId}: balance ${now.balance} + charges ${took} = ${now.balance + took}, started at ${account.balance} (${delta > 0 ? 'created' : 'lost'} ${Math.abs(delta)})`,
      );
    }
  }
  if (money.length > 0) {
    money.push(
      `totals: balances ${endMoney} + charges ${takenMoney} = ${endMoney + takenMoney}, started at ${startMoney}`,
    );
  }
  result('money', start.accounts.length, money);

  const finalInventory = new Map(final.inventory.map((i) => [i.sku, i]));
  const stock: string[] = [];
  for (const item of start.inventory) {
    const now = finalInventory.get(item.sku);
    if (!now) {
      stock.push(`SKU ${item.sku}: present at start, missing at the end`);
      continue;
    }
    const took = taken.units.get(item.sku) ?? 0;
    if (now.stock + took !== item.stock) {
      stock.push(
        `SKU ${item.sku}: stock ${now.stock} + units sold ${took} = ${now.stock + took}, started at ${item.stock}`,
      );
    }
    if (now.price !== item.price)
      stock.push(`SKU ${item.sku}: price changed from ${item.price} to ${now.price}`);
  }
  result('stock', start.inventory.length, stock);

  const finalPromos = new Map(final.promos.map((p) => [p.code, p]));
  const promos: string[] = [];
  for (const promo of start.promos) {
    const now = finalPromos.get(promo.code);
    if (!now) {
      promos.push(`promo ${promo.code}: present at start, missing at the end`);
      continue;
    }
    const used = taken.promoUses.get(promo.code) ?? 0;
    if (now.usesLeft + used !== promo.usesLeft) {
      promos.push(
        `promo ${promo.code}: uses left ${now.usesLeft} + used ${used} = ${now.usesLeft + used}, started at ${promo.usesLeft}`,
      );
    }
  }
  result('promos', start.promos.length, promos);

  const finalSlots = new Map(final.deliverySlots.map((s) => [s.slotId, s]));
  const slots: string[] = [];
  for (const slot of start.deliverySlots) {
    const now = finalSlots.get(slot.slotId);
    if (!now) {
      slots.push(`slot ${slot.slotId}: present at start, missing at the end`);
      continue;
    }
    const booked = taken.bookings.get(slot.slotId) ?? 0;
    if (now.booked - booked !== slot.booked) {
      slots.push(
        `slot ${slot.slotId}: booked ${now.booked} − orders ${booked} = ${now.booked - booked}, started at ${slot.booked}`,
      );
    }
  }
  result('slots', start.deliverySlots.length, slots);

  // ---- Nothing negative (over everything in the final tables, in scope or not).
  const negative: string[] = [];
  for (const a of final.accounts)
    if (!(a.balance >= 0)) negative.push(`account ${a.customerId}: balance ${fmt(a.balance)}`);
  for (const i of final.inventory) if (!(i.stock >= 0)) negative.push(`SKU ${i.sku}: stock ${fmt(i.stock)}`);
  for (const p of final.promos)
    if (!(p.usesLeft >= 0)) negative.push(`promo ${p.code}: uses left ${fmt(p.usesLeft)}`);
  for (const s of final.deliverySlots) {
    if (!(s.booked >= 0)) negative.push(`slot ${s.slotId}: booked ${fmt(s.booked)}`);
    if (s.booked > s.capacity) negative.push(`slot ${s.slotId}: booked ${s.booked} > capacity ${s.capacity}`);
  }
  result(
    'nonNegative',
    final.accounts.length + final.inventory.length + final.promos.length + final.deliverySlots.length,
    negative,
  );

  // ---- Confirmed orders: every step DONE, charged exactly the total.
  const confirmed: string[] = [];
  let confirmedCount = 0;
  for (const order of orders.values()) {
    if (order.status !== 'CONFIRMED') continue;
    confirmedCount++;
    const id = `order ${order.orderId} (CONFIRMED)`;
    for (const step of pathOf(order)) {
      const key = keyOf(order.orderId, step);
      if (key?.state !== 'DONE')
        confirmed.push(`${id}: ${step} key is ${key?.state ?? 'absent'}, expected DONE`);
    }
    const charged = chargedAmount(keyOf(order.orderId, 'ChargePayment'));
    const reserved = reservedTotal(keyOf(order.orderId, 'ReserveStock'));
    if (num(order.total) === undefined) confirmed.push(`${id}: no total on the order`);
    if (charged === undefined) confirmed.push(`${id}: ChargePayment key records no amount`);
    else if (num(order.total) !== undefined && charged !== order.total) {
      confirmed.push(`${id}: charged ${charged}, order total ${order.total}`);
    }
    if (reserved !== undefined && charged !== undefined && reserved !== charged) {
      confirmed.push(`${id}: ReserveStock computed total ${reserved}, ChargePayment charged ${charged}`);
    }
    if (failedCompensationsOf(order).length > 0) {
      confirmed.push(
        `${id}: failedCompensations ${failedCompensationsOf(order).join(',')} on a confirmed order`,
      );
    }
  }
  result('confirmed', confirmedCount, confirmed);

  // ---- Cancelled orders: nothing left DONE.
  const cancelled: string[] = [];
  let cancelledCount = 0;
  for (const order of orders.values()) {
    if (order.status !== 'CANCELLED') continue;
    cancelledCount++;
    const id = `order ${order.orderId} (CANCELLED at ${order.failedStep ?? '?'})`;
    for (const step of STEP_NAMES) {
      const key = keyOf(order.orderId, step);
      if (key?.state === 'DONE')
        cancelled.push(`${id}: ${step} key still DONE (its effect was never undone)`);
    }
    if (order.failedStep === undefined || !FORWARD.has(order.failedStep)) {
      cancelled.push(`${id}: failedStep ${fmt(order.failedStep)} is not a step name`);
    }
    if (typeof order.reason !== 'string' || order.reason.length === 0)
      cancelled.push(`${id}: no reason recorded`);
    if (failedCompensationsOf(order).length > 0) {
      cancelled.push(
        `${id}: failedCompensations ${failedCompensationsOf(order).join(',')} left on a cancelled order`,
      );
    }
  }
  result('cancelled', cancelledCount, cancelled);

  // ---- IdempotencyKeys records: valid, and agreeing with their order and business item.
  const keys: string[] = [];
  let keyCount = 0;
  for (const key of final.idempotencyKeys) {
    if (!scope.has(key.orderId)) continue;
    keyCount++;
    const id = `key (${key.orderId}, ${key.step})`;
    const order = orders.get(key.orderId);
    if (!order) {
      keys.push(`${id}: no such order in the Orders table`);
      continue;
    }
    if (!FORWARD.has(key.step) && !COMPENSATIONS.has(key.step)) keys.push(`${id}: unknown step name`);
    if (key.state !== 'DONE' && key.state !== 'COMPENSATED' && key.state !== 'TOMBSTONE') {
      keys.push(`${id}: unknown state ${fmt(key.state)}`);
    }
    if (!FORWARD.has(key.step)) continue;
    const step = key.step as StepName;
    if (!pathOf(order).includes(step)) keys.push(`${id}: the order has no promo code, yet the key exists`);
    if (key.state === 'TOMBSTONE') continue;
    if (key.result === undefined) keys.push(`${id}: ${key.state} without a recorded result`);
    if (step === 'ReserveStock') {
      const lines = reservedLines(key);
      const want = unitsBySku(order.items ?? []);
      const got = unitsBySku(lines ?? []);
      const same =
        lines !== undefined && want.size === got.size && [...want].every(([s, q]) => got.get(s) === q);
      if (!same) keys.push(`${id}: reserved ${fmt(lines)} but the order is for ${fmt(order.items)}`);
      const total = reservedTotal(key);
      if (total === undefined || !Number.isInteger(total) || total < 0)
        keys.push(`${id}: total ${fmt(total)} is not whole minor units`);
    }
    if (step === 'ChargePayment') {
      const amount = chargedAmount(key);
      const reserved = reservedTotal(keyOf(order.orderId, 'ReserveStock'));
      if (amount === undefined || !Number.isInteger(amount) || amount < 0)
        keys.push(`${id}: amount ${fmt(amount)} is not whole minor units`);
      else if (reserved !== undefined && amount !== reserved)
        keys.push(`${id}: charged ${amount}, order total ${reserved}`);
      const customer = isRecord(key.effect) ? key.effect.customerId : undefined;
      if (customer !== undefined && customer !== order.customerId)
        keys.push(`${id}: charged ${fmt(customer)}, order customer ${order.customerId}`);
    }
    if (step === 'ReservePromo' && isRecord(key.result) && key.result.code !== order.promoCode) {
      keys.push(`${id}: reserved promo ${fmt(key.result.code)}, order promo ${fmt(order.promoCode)}`);
    }
    if (step === 'BookDelivery' && isRecord(key.result) && key.result.slotId !== order.deliverySlot) {
      keys.push(`${id}: booked slot ${fmt(key.result.slotId)}, order slot ${order.deliverySlot}`);
    }
    if (step === 'ConfirmOrder' && key.state === 'DONE' && order.status !== 'CONFIRMED') {
      keys.push(`${id}: confirmation committed, but the order is ${order.status}`);
    }
    if (step === 'ConfirmOrder' && key.state === 'COMPENSATED') {
      keys.push(`${id}: a committed confirmation was compensated (the pivot cannot be undone)`);
    }
  }
  result('keys', keyCount, keys);

  // ---- Order status ↔ execution ↔ DLQ.
  const executionsChecked = input.executions !== undefined;
  const executions = new Map((input.executions ?? []).map((e) => [e.name, e]));
  const letters = new Map<string, string[]>();
  for (const letter of input.deadLetters ?? []) {
    if (!scope.has(letter.orderId)) continue;
    letters.set(letter.orderId, [...(letters.get(letter.orderId) ?? []), letter.step]);
  }
  const guardHandedOff = new Set(
    (input.deadLettersBeforeRedrive ?? [])
      .filter((letter) => letter.step === COMPENSATION_OF.ConfirmOrder)
      .map((letter) => letter.orderId),
  );
  const status: string[] = [];
  for (const orderId of scope) {
    const order = orders.get(orderId);
    const execution = executions.get(orderId);
    const dlq = letters.get(orderId) ?? [];
    if (!order) {
      status.push(
        `order ${orderId}: not in the Orders table${execution ? ` (execution ${execution.status})` : ''}`,
      );
      continue;
    }
    const id = `order ${orderId} (${order.status})`;
    const failed = failedCompensationsOf(order);
    if (order.status === 'PENDING') status.push(`${id}: still PENDING at the end`);
    if (order.status === 'NEEDS_ATTENTION' && failed.length === 0)
      status.push(`${id}: no failedCompensations`);
    if (order.status !== 'NEEDS_ATTENTION' && failed.length > 0)
      status.push(`${id}: failedCompensations ${failed.join(',')}`);
    if (input.deadLetters !== undefined && !sameSet(failed, dlq)) {
      status.push(
        `${id}: failedCompensations [${failed.join(',')}] but DLQ holds [${[...dlq].sort().join(',')}]`,
      );
    }
    if (dlq.length !== new Set(dlq).size)
      status.push(`${id}: duplicate DLQ messages [${[...dlq].sort().join(',')}]`);
    if (!executionsChecked) continue;
    if (!execution) {
      status.push(`${id}: no execution named ${orderId}`);
      continue;
    }
    const e = `execution ${execution.status}${execution.error ? ` (${execution.error})` : ''}`;
    if (execution.status === 'SUCCEEDED') {
      if (order.status !== 'CONFIRMED') status.push(`${id}: ${e}, expected CONFIRMED`);
    } else if (execution.status === 'FAILED') {
      // Fail `OrderFailed` carries the failed step's error name (ErrorPath $.failure.error); Fail
      // `CompensationFailed` carries its own name. A NEEDS_ATTENTION order redriven to the end is CANCELLED.
      if (order.status === 'CONFIRMED') {
        const stoppedAtGuard =
          execution.error === STATE_NAMES.failCompensation && guardHandedOff.has(orderId);
        if (!stoppedAtGuard) status.push(`${id}: ${e}, yet the order is confirmed`);
      } else if (execution.error === STATE_NAMES.failCompensation) {
        if (order.status !== 'NEEDS_ATTENTION' && order.status !== 'CANCELLED') {
          status.push(`${id}: ${e}, expected NEEDS_ATTENTION (or CANCELLED once redriven)`);
        }
      } else if (order.status !== 'CANCELLED') {
        status.push(`${id}: ${e}, expected CANCELLED`);
      }
    } else {
      status.push(`${id}: ${e}, expected SUCCEEDED or FAILED`);
    }
  }
  for (const [orderId, list] of letters) {
    if (!orders.has(orderId)) status.push(`DLQ message(s) ${list.join(',')} for unknown order ${orderId}`);
  }
  result('executions', scope.size, status);

  // ---- Plan conformance: an outcome the fault plan cannot explain is a bug.
  if (input.plans) {
    const plan: string[] = [];
    const before = new Map((input.ordersBeforeRedrive ?? []).map((o) => [o.orderId, o]));
    for (const saga of input.plans) {
      const order = orders.get(saga.input.orderId);
      if (!order) continue; // reported above
      const id = `order ${order.orderId} (saga #${saga.index}, ${saga.kind}, faults ${fmt(saga.input.faults ?? {})})`;
      const expected = saga.expected;
      if (order.status === 'CONFIRMED') {
        if (expected.outcome !== 'confirmed')
          plan.push(`${id}: CONFIRMED, planned to fail at ${expected.failedStep}`);
        continue;
      }
      if (order.status !== 'CANCELLED' && order.status !== 'NEEDS_ATTENTION') continue;
      const failedStep = order.failedStep;
      if (failedStep === undefined || !FORWARD.has(failedStep)) continue; // reported above
      const path = pathOf(saga.input);
      const byData = DATA_ERRORS.some((name) => order.reason?.includes(name));
      const plannedAt = expected.outcome === 'confirmed' ? undefined : expected.failedStep;
      if (plannedAt === undefined && !byData) {
        plan.push(
          `${id}: ${order.status} at ${failedStep} (${order.reason ?? 'no reason'}), planned to be confirmed`,
        );
      } else if (plannedAt !== undefined && failedStep !== plannedAt) {
        const earlier = path.indexOf(failedStep) < path.indexOf(plannedAt);
        if (!(earlier && byData)) {
          plan.push(
            `${id}: ${order.status} at ${failedStep} (${order.reason ?? 'no reason'}), planned to fail at ${plannedAt}`,
          );
        }
      }
      const handedOff = failedCompensationsOf(before.get(order.orderId) ?? order);
      const planned = plannedDeadLetters(saga.input, failedStep);
      if (input.ordersBeforeRedrive !== undefined && !sameSet(handedOff, planned)) {
        plan.push(
          `${id}: compensations dead-lettered [${handedOff.join(',')}], planned [${planned.join(',')}]`,
        );
      }
      const stepOf = (c: CompensationName) => STEP_OF_COMPENSATION[c];
      for (const c of handedOff) {
        if (!path.includes(stepOf(c)))
          plan.push(`${id}: dead-lettered ${c} for a step the order does not have`);
      }
    }
    result('plans', input.plans.length, plan);
  }

  return { results, violations: results.reduce((sum, r) => sum + r.violations.length, 0) };
}
