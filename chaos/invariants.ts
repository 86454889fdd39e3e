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
  CANCEL_REASONS,
  COMPENSATION_NAMES,
  COMPENSATION_OF,
  type CompensationName,
  DATA_ERRORS,
  type DeadLetterMessage,
  type IdempotencyRecord,
  type OrderRecord,
  type PricedLine,
  REVIEW_REJECTED,
  type SeedData,
  STATE_NAMES,
  STATES_TIMEOUT,
  STEP_NAMES,
  type StepName,
} from '../lib/contract';
import { THROTTLE_ERRORS } from '../toolkit/construct/saga-errors';
import { type ActionObservation, type PlannedSaga, pathOf, plannedDeadLetters } from './plan';

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
  /**
   * Orders whose plan keys a fault on `$$.State.RetryCount` (`crash-after-commit`, `transient:N`) in a
   * Task that Lambda throttled. A throttle's retry advances RetryCount without running the function, so
   * the fault fired on another run than planned, or not at all (a crash planned for the first attempt
   * never fires when that attempt was throttled). Plan conformance lists their deviations apart
   * (`InvariantReport.shiftedByThrottles`) instead of counting them as violations; every other invariant
   * still holds them.
   */
  throttleShifted?: ReadonlySet<string>;
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
  /**
   * What the run's customers, reviewers and operators did and were answered (chaos/actors.ts): enables
   * the `actions` check, and admits an execution an operator stopped after its order had its outcome.
   */
  actions?: readonly ActionObservation[];
  /** The stack's review threshold: a confirmed order whose total reaches it must have been approved. */
  reviewThreshold?: number;
}

export const INVARIANTS = {
  api: 'every order accepted once: 202 naming its orderId; a repeated POST returns the same order',
  money: 'money conserved: Σ balances + Σ charges of confirmed orders (+ charges awaiting redrive) = start',
  stock: 'stock conserved per SKU: stock + units of confirmed orders (+ units awaiting redrive) = start',
  promos: 'promo uses conserved: uses left + confirmed orders with the promo (+ awaiting redrive) = start',
  slots: 'slot bookings conserved: booked − confirmed orders in the slot (− awaiting redrive) = start',
  nonNegative: 'nothing negative: balances, stock, promo uses, bookings ≥ 0 and bookings ≤ capacity',
  confirmed:
    'no confirmed order lost an effect, and each was charged exactly once: every step DONE, ChargePayment amount = order total',
  cancelled:
    'every cancelled order left no effect: each of its step keys COMPENSATED or TOMBSTONE (stock, balance, promo use and booking given back)',
  outcome:
    'every order has exactly one final outcome (CONFIRMED xor CANCELLED {failed step | CustomerCancelled | ReviewRejected | ReviewTimedOut} xor NEEDS_ATTENTION) and its execution agrees',
  keys: 'every IdempotencyKeys record consistent with its order and business item',
  executions: 'every order status consistent with its execution and the DLQ',
  plans: 'every outcome consistent with its fault plan',
  actions:
    'every cancel, review decision and resume did what its answer said (a cancel after the pivot: 409, still CONFIRMED), and a cancel reason only where someone cancelled, rejected or let the review deadline pass',
  iam: "IAM denied no call during the run: the stack's roles are sufficient (local cloud targets: GET /_localcloud/iam)",
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
  /** Plan deviations of the `throttleShifted` orders (not violations: see InvariantInput). */
  shiftedByThrottles?: string[];
  violations: number;
}

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

/** Whether an order's reason is a cancel (no failed step) rather than a step's error. */
function isCancelReason(reason: unknown): boolean {
  return (CANCEL_REASONS as readonly unknown[]).includes(reason);
}

/** What each forward step takes, in words (for "never given back"). */
const EFFECT_OF: Record<StepName, string> = {
  ReservePromo: 'the promo use',
  ReserveStock: 'the stock',
  ChargePayment: 'the charge',
  BookDelivery: 'the slot booking',
  ConfirmOrder: 'the confirmation',
};

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
  let shiftedByThrottles: string[] | undefined;
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
    const byCancel = isCancelReason(order.reason);
    const id = `order ${order.orderId} (CANCELLED ${byCancel ? `by ${order.reason}` : `at ${order.failedStep ?? '?'}`})`;
    for (const step of STEP_NAMES) {
      const key = keyOf(order.orderId, step);
      if (key?.state === 'DONE')
        cancelled.push(`${id}: ${step} key still DONE (${EFFECT_OF[step]} never given back)`);
    }
    if (!byCancel && (order.failedStep === undefined || !FORWARD.has(order.failedStep))) {
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

  // ---- One final outcome per order, with its reason, and an execution that agrees with the reason.
  const outcome: string[] = [];
  const executionOf = new Map((input.executions ?? []).map((e) => [e.name, e]));
  for (const order of orders.values()) {
    const id = `order ${order.orderId} (${order.status}${order.reason ? `, ${order.reason}` : ''})`;
    if (order.taskToken !== undefined) outcome.push(`${id}: a review task token is still stored`);
    if (order.status === 'CONFIRMED') {
      for (const field of ['reason', 'failedStep', 'cancelReason'] as const) {
        if (order[field] !== undefined)
          outcome.push(`${id}: confirmed, yet ${field} is ${fmt(order[field])}`);
      }
      if (order.reviewDecision !== undefined && order.reviewDecision !== 'approve')
        outcome.push(`${id}: confirmed, yet the reviewer decided ${order.reviewDecision}`);
      const total = num(order.total);
      if (input.reviewThreshold !== undefined && total !== undefined && total >= input.reviewThreshold) {
        if (order.reviewDecision !== 'approve')
          outcome.push(
            `${id}: confirmed with total ${total} ≥ review threshold ${input.reviewThreshold}, never approved`,
          );
      }
      continue;
    }
    if (order.status !== 'CANCELLED' && order.status !== 'NEEDS_ATTENTION') {
      outcome.push(`${id}: no final outcome (${order.status})`);
      continue;
    }
    const byCancel = isCancelReason(order.reason);
    if (byCancel && order.failedStep !== undefined)
      outcome.push(`${id}: both a cancel reason and a failed step (${order.failedStep})`);
    if (!byCancel && (order.failedStep === undefined || typeof order.reason !== 'string'))
      outcome.push(`${id}: neither a cancel reason nor a failed step with its error`);
    if (order.cancelReason !== undefined && order.cancelReason !== order.reason)
      outcome.push(`${id}: decided as ${order.cancelReason}, recorded as ${fmt(order.reason)}`);
    if (order.reviewDecision === 'reject' && order.reason !== REVIEW_REJECTED)
      outcome.push(`${id}: the reviewer rejected it, yet the reason is ${fmt(order.reason)}`);
    const execution = executionOf.get(order.orderId);
    // A CompensationFailed execution was redriven from the DLQ: its error names the unwind, not the cause.
    if (execution?.status !== 'FAILED' || execution.error === STATE_NAMES.failCompensation) continue;
    const error = execution.error ?? '';
    const agrees =
      order.reason === 'ReviewTimedOut'
        ? error === STATES_TIMEOUT
        : order.reason === 'ReviewRejected'
          ? error === REVIEW_REJECTED || error === 'OrderCancelled'
          : order.reason === 'CustomerCancelled'
            ? error !== REVIEW_REJECTED
            : typeof order.reason === 'string' &&
              error !== '' &&
              (order.reason === error || order.reason.startsWith(`${error}:`));
    if (!agrees)
      outcome.push(`${id}: execution FAILED with ${error || 'no error'}, which is not that reason`);
  }
  result('outcome', orders.size, outcome);

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
  // An operator may stop an execution after its order got its outcome (between ConfirmOrder or
  // RecordFailure and the end state): resume then refuses (409, the order has its outcome) and the
  // execution stays ABORTED. Consistent, as long as the order did settle.
  const abortedAfterOutcome = new Set(
    (input.actions ?? [])
      .filter((a) => a.action.kind === 'abort' && a.answer?.status === 409)
      .map((a) => a.orderId)
      .filter((orderId) => {
        const s = orders.get(orderId)?.status;
        return s === 'CONFIRMED' || s === 'CANCELLED' || s === 'NEEDS_ATTENTION';
      }),
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
    } else if (!(execution.status === 'ABORTED' && abortedAfterOutcome.has(orderId))) {
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
    const shifted: string[] = [];
    for (const saga of input.plans) {
      const order = orders.get(saga.input.orderId);
      // A throttle may move a fault, never fail an order: one that failed with it stays a violation.
      const sink =
        input.throttleShifted?.has(saga.input.orderId) &&
        !THROTTLE_ERRORS.some((error) => order?.reason?.includes(error))
          ? shifted
          : plan;
      if (!order) continue; // reported above
      const id = `order ${order.orderId} (saga #${saga.index}, ${saga.kind}, faults ${fmt(saga.input.faults ?? {})})`;
      const expected = saga.expected;
      if (order.status === 'CONFIRMED') {
        if (expected.outcome !== 'confirmed')
          sink.push(`${id}: CONFIRMED, planned to fail at ${expected.failedStep}`);
        continue;
      }
      if (order.status !== 'CANCELLED' && order.status !== 'NEEDS_ATTENTION') continue;
      // Cancelled by someone (customer, reviewer, deadline): the `actions` check holds it to the answers.
      if (isCancelReason(order.reason)) continue;
      const failedStep = order.failedStep;
      if (failedStep === undefined || !FORWARD.has(failedStep)) continue; // reported above
      const path = pathOf(saga.input);
      const byData = DATA_ERRORS.some((name) => order.reason?.includes(name));
      const plannedAt = expected.outcome === 'confirmed' ? undefined : expected.failedStep;
      if (plannedAt === undefined && !byData) {
        sink.push(
          `${id}: ${order.status} at ${failedStep} (${order.reason ?? 'no reason'}), planned to be confirmed`,
        );
      } else if (plannedAt !== undefined && failedStep !== plannedAt) {
        const earlier = path.indexOf(failedStep) < path.indexOf(plannedAt);
        if (!(earlier && byData)) {
          sink.push(
            `${id}: ${order.status} at ${failedStep} (${order.reason ?? 'no reason'}), planned to fail at ${plannedAt}`,
          );
        }
      }
      const handedOff = failedCompensationsOf(before.get(order.orderId) ?? order);
      const planned = plannedDeadLetters(saga.input, failedStep);
      if (input.ordersBeforeRedrive !== undefined && !sameSet(handedOff, planned)) {
        sink.push(
          `${id}: compensations dead-lettered [${handedOff.join(',')}], planned [${planned.join(',')}]`,
        );
      }
      const stepOf = (c: CompensationName) => STEP_OF_COMPENSATION[c];
      for (const c of handedOff) {
        if (!path.includes(stepOf(c)))
          sink.push(`${id}: dead-lettered ${c} for a step the order does not have`);
      }
    }
    result('plans', input.plans.length, plan);
    if (shifted.length > 0) shiftedByThrottles = shifted;
  }

  // ---- What the customers, reviewers and operators were answered, against what became of the order.
  if (input.actions !== undefined) {
    result('actions', input.actions.length, checkActions(input.actions, orders, executionOf));
  }

  return {
    results,
    violations: results.reduce((sum, r) => sum + r.violations.length, 0),
    ...(shiftedByThrottles ? { shiftedByThrottles } : {}),
  };
}

const SETTLED = new Set(['CONFIRMED', 'CANCELLED', 'NEEDS_ATTENTION']);
const answerText = (a: ActionObservation['answer']) =>
  a === undefined ? 'no answer' : `${a.status}${a.code ? ` ${a.code}` : ''}`;

/** The `actions` check: each answer against the order's outcome, and each cancel reason against who acted. */
function checkActions(
  actions: readonly ActionObservation[],
  orders: ReadonlyMap<string, OrderRecord>,
  executions: ReadonlyMap<string, ExecutionObservation>,
): string[] {
  const violations: string[] = [];
  const byOrder = new Map(actions.map((a) => [a.orderId, a]));
  for (const seen of actions) {
    const order = orders.get(seen.orderId);
    if (!order) continue; // reported by `executions`
    const { action, answer } = seen;
    const what =
      action.kind === 'review'
        ? `review ${action.choice}`
        : `${action.kind} ${action.moment.at === 'after' ? `after ${action.moment.step}` : action.moment.at}`;
    const id = `order ${order.orderId} (saga #${seen.index}, ${what}; ${order.status}${order.reason ? `, ${order.reason}` : ''})`;
    const fail = (message: string) => violations.push(`${id}: ${message}`);
    if (seen.error !== undefined) {
      fail(`the actor failed: ${seen.error}`);
      continue;
    }
    if (seen.trigger === 'gave-up') {
      fail(`its moment never came and the order never settled (last seen ${seen.statusBefore ?? 'absent'})`);
      continue;
    }
    const cancelledBy = isCancelReason(order.reason) ? order.reason : undefined;
    // A cancel's answer decides the order: 202 → cancelled by the customer; 409 AlreadyConfirmed →
    // confirmed; 409 NotCancellable → it already had another outcome.
    const checkCancel = (after: string) => {
      if (answer?.status === 202) {
        if (order.reason !== 'CustomerCancelled')
          fail(`the cancel ${after} was accepted (202), yet the order is not CANCELLED by CustomerCancelled`);
      } else if (answer?.status === 409 && answer.code === 'AlreadyConfirmed') {
        if (order.status !== 'CONFIRMED') fail(`the cancel ${after} was refused as already confirmed`);
      } else if (answer?.status === 409 && answer.code === 'NotCancellable') {
        if (order.status === 'CONFIRMED' || order.reason === 'CustomerCancelled')
          fail(`the cancel ${after} was refused (409 NotCancellable)`);
      } else {
        fail(`the cancel ${after} was answered ${answerText(answer)}`);
      }
    };
    switch (action.kind) {
      case 'cancel': {
        checkCancel(seen.trigger === 'reached' ? 'at its moment' : 'after the order settled');
        const afterPivot = action.moment.at === 'confirmed' && seen.trigger === 'reached';
        if (afterPivot && !(answer?.status === 409 && order.status === 'CONFIRMED'))
          fail(
            `a cancel after the pivot was answered ${answerText(answer)}; it must be 409 and stay CONFIRMED`,
          );
        break;
      }
      case 'review': {
        if (seen.trigger !== 'reached') {
          // Never seen waiting: the data stopped it before the review (or the deadline passed between polls).
          const early = order.failedStep === 'ReservePromo' || order.failedStep === 'ReserveStock';
          if (!early && order.reason !== 'ReviewTimedOut')
            fail('never seen AWAITING_REVIEW, yet it neither failed before the review nor timed out');
          break;
        }
        if (action.choice === 'wait') {
          if (order.reason !== 'ReviewTimedOut') fail('nobody decided, yet it did not end ReviewTimedOut');
        } else if (action.choice === 'cancel') {
          if (answer?.status === 409 && answer.code === 'NotCancellable') {
            if (order.reason !== 'ReviewTimedOut')
              fail('the cancel during the review was refused, yet the review did not time out');
          } else checkCancel('during the review');
        } else if (answer?.status === 202) {
          if (action.choice === 'reject' && order.reason !== REVIEW_REJECTED)
            fail('the rejection was accepted (202), yet the order is not CANCELLED by ReviewRejected');
          if (
            action.choice === 'approve' &&
            (cancelledBy !== undefined || order.reviewDecision !== 'approve')
          )
            fail('the approval was accepted (202), yet the order was not approved and carried on');
        } else if (answer?.status === 409) {
          if (order.reason !== 'ReviewTimedOut')
            fail(`the ${action.choice} was refused (${answerText(answer)}), yet the review did not time out`);
        } else {
          fail(`the ${action.choice} was answered ${answerText(answer)}`);
        }
        break;
      }
      case 'abort': {
        if (seen.stoppedStatus === 'RUNNING') fail('StopExecution left the execution RUNNING');
        const settled = SETTLED.has(order.status);
        if (answer?.status === 202 && answer.action === 'dead-letters-redriven') {
          // The execution had ended on its own with the outcome parked in the DLQ (NEEDS_ATTENTION, or a
          // dead-lettered RecordFailure): the resume redrove the order's dead letters, not the execution.
          if (seen.stoppedStatus !== 'FAILED')
            fail(`resumed its dead letters (202) while its execution was ${seen.stoppedStatus}`);
        } else if (answer?.status === 202) {
          if (seen.stoppedStatus !== 'ABORTED')
            fail(`resumed (202) an execution that was ${seen.stoppedStatus}`);
          const final = executions.get(order.orderId)?.status;
          if (final !== undefined && final !== 'SUCCEEDED' && final !== 'FAILED')
            fail(`resumed (202), yet its execution ended ${final}`);
        } else if (answer?.status === 409 && answer.code === 'NotResumable') {
          // Refused: the execution had ended on its own, or was stopped after the order had its outcome.
          if (!settled) fail(`resume refused (409) while the order had no outcome`);
        } else {
          fail(`resume answered ${answerText(answer)}`);
        }
        break;
      }
    }
  }
  // Every cancel reason needs someone who caused it.
  for (const order of orders.values()) {
    const reason = isCancelReason(order.reason) ? order.reason : undefined;
    if (reason === undefined) continue;
    const seen = byOrder.get(order.orderId);
    const action = seen?.action;
    const accepted = seen?.answer?.status === 202;
    const explained =
      reason === 'CustomerCancelled'
        ? accepted && (action?.kind === 'cancel' || (action?.kind === 'review' && action.choice === 'cancel'))
        : reason === 'ReviewRejected'
          ? accepted && action?.kind === 'review' && action.choice === 'reject'
          : action?.kind === 'review' && !(accepted && action.choice !== 'wait');
    if (!explained) {
      violations.push(
        `order ${order.orderId} (${order.status}, ${reason}): nobody ${
          reason === 'ReviewTimedOut' ? 'let its review run out' : 'asked for that'
        } (${seen ? `the ${action?.kind} was answered ${answerText(seen.answer)}` : 'no actor on this order'})`,
      );
    }
  }
  return violations;
}
