/**
 * Reproducible chaos scenarios: a dataset (customers, SKUs, promos, delivery slots under a namespace, so
 * the demo data is never touched) and, per saga, an order (`OrderSagaInput`) with a `FaultPlan` drawn from
 * the fault model of docs/reliability.md. Same seed and saga count → the same dataset and the same plans.
 * Saga `i` draws from its own stream (`seed`, `i`), so its plan does not depend on how many sagas run.
 *
 * Each plan also carries what the saga must do if the data never gets in the way (`expected`): the
 * invariant checker compares it with what happened.
 */
import {
  COMPENSATION_OF,
  type CompensationName,
  type FaultMode,
  type FaultPlan,
  type OrderItem,
  type OrderSagaInput,
  type OrderStatus,
  type SagaOperation,
  type SeedData,
  STEP_NAMES,
  type StepName,
} from '../lib/contract';
import { mixSeed, Random } from './random';

/** The scenario family a saga was drawn from (the report groups outcomes by it). */
export const FAULT_KINDS = [
  'clean',
  'fail',
  'transient',
  'timeout',
  'crash-after-commit',
  'duplicate',
  'compensation-fail',
  'compensation-glitch',
  'combination',
  'cancel',
  'review',
  'abort-resume',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * When an actor (customer, reviewer, operator) acts on a saga: right after the POST, once a step has
 * committed (its IdempotencyKeys record exists: the saga is between that step and the next, or in the
 * next), or once the order is CONFIRMED (after the pivot).
 */
export type ActionMoment = { at: 'placed' } | { at: 'after'; step: StepName } | { at: 'confirmed' };

/** What a reviewer does with an order waiting in AWAITING_REVIEW (`cancel`: the customer cancels instead). */
export const REVIEW_CHOICES = ['approve', 'reject', 'wait', 'cancel'] as const;
export type ReviewChoice = (typeof REVIEW_CHOICES)[number];

/**
 * Someone acting on a saga while it runs, beside its fault plan:
 * - `cancel`: `POST /orders/{id}/cancel` at `moment` (before, racing or after the pivot ConfirmOrder);
 * - `review`: the order is over the review threshold; once AWAITING_REVIEW, `POST /orders/{id}/review`
 *   approve or reject, a customer cancel, or nothing (`wait`: the deadline passes);
 * - `abort`: an operator's `StopExecution` at `moment`, then `POST /orders/{id}/resume`.
 */
export type SagaAction =
  | { kind: 'cancel'; moment: ActionMoment }
  | { kind: 'review'; choice: ReviewChoice }
  | { kind: 'abort'; moment: ActionMoment };

/** The outcome a saga's fault plan leads to when no business rule (stock, funds...) intervenes. */
export type PlannedOutcome =
  | { outcome: 'confirmed' }
  | { outcome: 'cancelled' | 'needs-attention'; failedStep: StepName; deadLettered: CompensationName[] };

export interface PlannedSaga {
  index: number;
  kind: FaultKind;
  /** The POST /orders body is this input (orderId included); `faults` is omitted when empty. */
  input: OrderSagaInput;
  /** POST the same body twice, concurrently (a client retry): it must still be one order, one execution. */
  postTwice: boolean;
  /** What the fault plan alone makes of the saga (the action, if any, may cancel it instead). */
  expected: PlannedOutcome;
  /** Someone acting on the saga while it runs (kinds `cancel`, `review`, `abort-resume`). */
  action?: SagaAction;
}

export interface ChaosScenario {
  seed: number;
  namespace: string;
  dataset: SeedData;
  sagas: PlannedSaga[];
}

export interface ScenarioOptions {
  seed: number;
  sagas: number;
  /** Prefix of every order id and data item id. Default `chaos<seed>`. */
  namespace?: string;
  /** Include `timeout` faults (each costs a Lambda timeout). Default true. */
  timeouts?: boolean;
  /** Relative weights of the fault kinds. Defaults: {@link DEFAULT_WEIGHTS}. */
  weights?: Partial<Record<FaultKind, number>>;
  /**
   * The target stack's review threshold (minor units, `-c reviewThreshold`): the `review` sagas order an
   * article priced over it; every other order stays well under it. Default {@link DEFAULT_REVIEW_THRESHOLD}.
   */
  reviewThreshold?: number;
}

/** The stack's default review threshold (lib/order-saga-stack.ts REVIEW_DEFAULTS.threshold). */
export const DEFAULT_REVIEW_THRESHOLD = 100_000;
/** The smallest threshold the chaos data works with: its other orders total at most ~20000. */
export const MIN_REVIEW_THRESHOLD = 50_000;

export const DEFAULT_WEIGHTS: Readonly<Record<FaultKind, number>> = {
  clean: 22,
  fail: 14,
  transient: 10,
  timeout: 4,
  'crash-after-commit': 12,
  duplicate: 10,
  'compensation-fail': 12,
  'compensation-glitch': 8,
  combination: 8,
  cancel: 10,
  review: 8,
  'abort-resume': 6,
};

/** `transient:N` with N up to this is recovered by the forward Retry (and the compensation Retry). */
export const MAX_RECOVERED_TRANSIENT = 2;

const FORWARD_FAILURES: readonly FaultMode[] = ['fail', 'crash-after-commit'];
/** Compensation faults the compensation Retry absorbs. */
const GLITCHES: readonly FaultMode[] = ['transient:1', 'transient:2', 'duplicate'];

/** Forward steps this order goes through, in order (ReservePromo only with a promo code). */
export function pathOf(input: Pick<OrderSagaInput, 'promoCode'>): StepName[] {
  return STEP_NAMES.filter((step) => step !== 'ReservePromo' || input.promoCode !== undefined);
}

/** Compensations the unwind runs when `failedStep` fails: its own first, then the earlier ones in reverse. */
export function unwindOf(input: Pick<OrderSagaInput, 'promoCode'>, failedStep: StepName): CompensationName[] {
  const path = pathOf(input);
  const upTo = path.indexOf(failedStep);
  if (upTo < 0) return [];
  return path
    .slice(0, upTo + 1)
    .reverse()
    .map((step) => COMPENSATION_OF[step]);
}

/** True when a mode makes an operation fail for good (retries do not help). */
export function isPermanentFailure(mode: FaultMode | undefined): boolean {
  if (mode === undefined) return false;
  if (mode === 'fail' || mode === 'timeout') return true;
  const transient = /^transient:(\d+)$/.exec(mode);
  return transient !== null && Number(transient[1]) > MAX_RECOVERED_TRANSIENT;
}

/**
 * True when a compensation with this mode ends in the DLQ. `crash-after-commit` crashes only on the first
 * attempt (a real crash happens once), so its retry finds the work done and the compensation succeeds.
 */
export function deadLetters(mode: FaultMode | undefined): boolean {
  return isPermanentFailure(mode);
}

/**
 * Compensations the plan sends to the DLQ when the saga unwinds from `failedStep`. The pivot's guard
 * (RejectOrder) that cannot decide stops the unwind there: the rest is resumed by redrive, not run (or
 * dead-lettered) by the execution.
 */
export function plannedDeadLetters(input: OrderSagaInput, failedStep: StepName): CompensationName[] {
  const parked: CompensationName[] = [];
  for (const compensation of unwindOf(input, failedStep)) {
    if (!deadLetters(input.faults?.[compensation])) continue;
    parked.push(compensation);
    if (compensation === COMPENSATION_OF.ConfirmOrder) break;
  }
  return parked;
}

/** What the fault plan alone makes of the saga (see {@link PlannedOutcome}). */
export function predictOutcome(input: OrderSagaInput): PlannedOutcome {
  for (const step of pathOf(input)) {
    const mode = input.faults?.[step];
    const fails = isPermanentFailure(mode) || mode === 'crash-after-commit';
    if (!fails) continue;
    // The pivot: a ConfirmOrder that committed is confirmed, whatever it reported.
    if (step === 'ConfirmOrder' && mode === 'crash-after-commit') return { outcome: 'confirmed' };
    const deadLettered = plannedDeadLetters(input, step);
    return {
      outcome: deadLettered.length > 0 ? 'needs-attention' : 'cancelled',
      failedStep: step,
      deadLettered,
    };
  }
  return { outcome: 'confirmed' };
}

function datasetFor(namespace: string, sagas: number, reviewThreshold: number): SeedData {
  const id = (kind: string, n: number) => `${namespace}-${kind}-${n}`;
  const scale = Math.max(1, sagas);
  return {
    accounts: [
      ...Array.from({ length: 6 }, (_, i) => ({
        customerId: id('rich', i + 1),
        name: `Chaos rich customer ${i + 1}`,
        // Enough for their share of the ordinary orders and of the review sagas' luxury articles.
        balance: (20_000 + Math.ceil(reviewThreshold / 2)) * scale,
      })),
      // Poor customers run out of money after a few orders: InsufficientFunds under concurrency.
      ...Array.from({ length: 2 }, (_, i) => ({
        customerId: id('poor', i + 1),
        name: `Chaos poor customer ${i + 1}`,
        balance: 9_000,
      })),
    ],
    inventory: [
      ...[499, 1250, 2999, 75, 1999].map((price, i) => ({
        sku: id('sku', i + 1),
        name: `Chaos article ${i + 1}`,
        price,
        stock: 6 * scale,
      })),
      // A scarce article: InsufficientStock races.
      {
        sku: id('scarce', 1),
        name: 'Chaos scarce article',
        price: 3333,
        stock: Math.max(4, Math.ceil(scale / 25)),
      },
      // An article over the review threshold (even with the largest promo discount): review sagas only.
      {
        sku: id('luxury', 1),
        name: 'Chaos luxury article',
        price: Math.ceil(reviewThreshold * 1.5),
        stock: 2 * scale,
      },
    ],
    promos: [
      { code: id('promo', 1), discountPercent: 10, usesLeft: scale },
      { code: id('promo-scarce', 1), discountPercent: 25, usesLeft: Math.max(2, Math.ceil(scale / 50)) },
      { code: id('promo-used-up', 1), discountPercent: 50, usesLeft: 0 },
    ],
    deliverySlots: [
      { slotId: id('slot', 1), capacity: scale, booked: 0 },
      { slotId: id('slot', 2), capacity: scale, booked: 0 },
      { slotId: id('slot-tight', 1), capacity: Math.max(3, Math.ceil(scale / 40)), booked: 0 },
    ],
  };
}

function orderFor(rng: Random, namespace: string, index: number, data: SeedData): OrderSagaInput {
  const id = (kind: string, n: number) => `${namespace}-${kind}-${n}`;
  const customerRoll = rng.weighted({ rich: 88, poor: 10, unknown: 2 });
  const customerId =
    customerRoll === 'unknown'
      ? id('nobody', 1)
      : customerRoll === 'poor'
        ? rng.pick(data.accounts.filter((a) => a.customerId.includes('-poor-'))).customerId
        : rng.pick(data.accounts.filter((a) => a.customerId.includes('-rich-'))).customerId;
  const ampleSkus = data.inventory.filter((s) => s.sku.includes('-sku-')).map((s) => s.sku);
  const skus = rng.sample(ampleSkus, rng.int(1, 3));
  if (rng.chance(0.1)) skus[0] = id('scarce', 1);
  if (rng.chance(0.015)) skus[0] = id('no-such-sku', 1);
  const items: OrderItem[] = [...new Set(skus)].map((sku) => ({ sku, quantity: rng.int(1, 3) }));
  const promoRoll = rng.weighted({ none: 68, ample: 22, scarce: 7, usedUp: 3 });
  const promoCode =
    promoRoll === 'ample'
      ? id('promo', 1)
      : promoRoll === 'scarce'
        ? id('promo-scarce', 1)
        : promoRoll === 'usedUp'
          ? id('promo-used-up', 1)
          : undefined;
  const slotRoll = rng.weighted({ ample: 89, tight: 10, unknown: 1 });
  const deliverySlot =
    slotRoll === 'tight'
      ? id('slot-tight', 1)
      : slotRoll === 'unknown'
        ? id('no-such-slot', 1)
        : id('slot', rng.int(1, 2));
  return {
    orderId: `${namespace}-order-${String(index).padStart(5, '0')}`,
    customerId,
    items,
    ...(promoCode !== undefined ? { promoCode } : {}),
    deliverySlot,
  };
}

/**
 * A review saga's order: a rich customer, one luxury article (over the threshold even with a promo),
 * an ample slot, sometimes the ample promo: nothing in the data stops it before the review.
 */
function reviewOrderFor(rng: Random, namespace: string, index: number, data: SeedData): OrderSagaInput {
  const id = (kind: string, n: number) => `${namespace}-${kind}-${n}`;
  const customerId = rng.pick(data.accounts.filter((a) => a.customerId.includes('-rich-'))).customerId;
  return {
    orderId: `${namespace}-order-${String(index).padStart(5, '0')}`,
    customerId,
    items: [{ sku: id('luxury', 1), quantity: 1 }],
    ...(rng.chance(0.3) ? { promoCode: id('promo', 1) } : {}),
    deliverySlot: id('slot', rng.int(1, 2)),
  };
}

/** Steps after which a cancel or a stop may come, before the pivot (BookDelivery: racing ConfirmOrder). */
function momentBeforePivot(rng: Random, path: readonly StepName[]): ActionMoment {
  const steps = path.filter((step) => step !== 'ConfirmOrder');
  return rng.chance(0.2) ? { at: 'placed' } : { at: 'after', step: rng.pick(steps) };
}

/** The step after `moment`'s (the one a cancel or a stop is likely to land in). */
function nextStep(path: readonly StepName[], moment: ActionMoment): StepName | undefined {
  if (moment.at === 'confirmed') return undefined;
  return moment.at === 'placed' ? path[0] : path[path.indexOf(moment.step) + 1];
}

/**
 * The action of the `cancel`, `review` and `abort-resume` kinds, and the faults that go with it: a
 * `transient:2` in the step after the moment (so the cancel or stop often lands in its Retry backoff:
 * "during" the step), a `fail` somewhere (a stop during the unwind), or, after a review, a failing step.
 */
function actionFor(
  rng: Random,
  kind: 'cancel' | 'review' | 'abort-resume',
  order: OrderSagaInput,
): { action: SagaAction; faults: FaultPlan } {
  const path = pathOf(order);
  const faults: FaultPlan = {};
  switch (kind) {
    case 'cancel': {
      const roll = rng.weighted({ before: 50, racing: 25, after: 25 });
      const moment: ActionMoment =
        roll === 'after'
          ? { at: 'confirmed' }
          : roll === 'racing'
            ? { at: 'after', step: 'BookDelivery' }
            : momentBeforePivot(rng, path);
      const next = nextStep(path, moment);
      if (next !== undefined && rng.chance(0.5)) faults[next] = `transient:${MAX_RECOVERED_TRANSIENT}`;
      return { action: { kind: 'cancel', moment }, faults };
    }
    case 'review': {
      const choice = rng.weighted<ReviewChoice>({ approve: 40, reject: 25, wait: 20, cancel: 15 });
      if (rng.chance(0.2)) faults[rng.pick(AFTER_REVIEW)] = 'fail';
      return { action: { kind: 'review', choice }, faults };
    }
    case 'abort-resume': {
      const moment = momentBeforePivot(rng, path);
      const roll = rng.weighted({ clean: 50, transient: 25, fail: 25 });
      const next = nextStep(path, moment);
      if (roll === 'transient' && next !== undefined) faults[next] = `transient:${MAX_RECOVERED_TRANSIENT}`;
      if (roll === 'fail') faults[rng.pick(path)] = 'fail';
      return { action: { kind: 'abort', moment }, faults };
    }
  }
}

/** Steps that run after the review (money moves only once a reviewer approved). */
const AFTER_REVIEW: readonly StepName[] = ['ChargePayment', 'BookDelivery', 'ConfirmOrder'];

function faultsFor(rng: Random, kind: FaultKind, order: OrderSagaInput, timeouts: boolean): FaultPlan {
  const path = pathOf(order);
  const faults: FaultPlan = {};
  const forwardFailure = (): StepName => {
    const step = rng.pick(path);
    faults[step] = timeouts && rng.chance(0.1) ? 'timeout' : rng.pick(FORWARD_FAILURES);
    return step;
  };
  switch (kind) {
    case 'clean':
      break;
    case 'fail':
      faults[rng.pick(path)] = 'fail';
      break;
    case 'transient':
      for (const step of rng.sample(path, rng.int(1, 2)))
        faults[step] = `transient:${rng.int(1, MAX_RECOVERED_TRANSIENT)}`;
      break;
    case 'timeout':
      faults[rng.pick(path)] = 'timeout';
      break;
    case 'crash-after-commit':
      faults[rng.pick(path)] = 'crash-after-commit';
      break;
    case 'duplicate':
      for (const step of rng.sample(path, rng.int(1, 3))) faults[step] = 'duplicate';
      break;
    case 'compensation-fail': {
      const failed = forwardFailure();
      const unwind = unwindOf(order, failed);
      for (const compensation of rng.sample(unwind, rng.int(1, 2))) {
        faults[compensation] = rng.chance(0.25) ? 'crash-after-commit' : 'fail';
      }
      break;
    }
    case 'compensation-glitch': {
      const failed = forwardFailure();
      for (const compensation of rng.sample(unwindOf(order, failed), rng.int(1, 3))) {
        faults[compensation] = rng.pick(GLITCHES);
      }
      break;
    }
    case 'combination': {
      // Any mix over the order's steps and their compensations, the pivot guard included.
      const operations: SagaOperation[] = [...path, ...path.map((s) => COMPENSATION_OF[s])];
      const modes: FaultMode[] = ['fail', 'crash-after-commit', 'duplicate', 'transient:1', 'transient:2'];
      if (timeouts) modes.push('timeout');
      for (const op of rng.sample(operations, rng.int(2, 4))) faults[op] = rng.pick(modes);
      break;
    }
    case 'cancel':
    case 'review':
    case 'abort-resume':
      throw new Error(`${kind} sagas draw their faults with their action (actionFor)`);
  }
  return faults;
}

/** Builds the scenario for a seed: dataset and one plan per saga. Pure and deterministic. */
export function generateScenario(options: ScenarioOptions): ChaosScenario {
  const { seed, sagas } = options;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!Number.isInteger(sagas) || sagas < 0)
    throw new RangeError(`sagas must be a whole number, got ${sagas}`);
  const namespace = options.namespace ?? `chaos${seed}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$/.test(namespace)) {
    throw new RangeError(
      `namespace must be 1-41 letters, digits, '-' or '_', got ${JSON.stringify(namespace)}`,
    );
  }
  const timeouts = options.timeouts ?? true;
  const reviewThreshold = options.reviewThreshold ?? DEFAULT_REVIEW_THRESHOLD;
  if (!Number.isSafeInteger(reviewThreshold) || reviewThreshold < MIN_REVIEW_THRESHOLD) {
    throw new RangeError(
      `reviewThreshold must be a whole number ≥ ${MIN_REVIEW_THRESHOLD} (the chaos data's ordinary orders must stay under it), got ${reviewThreshold}`,
    );
  }
  const weights: Record<FaultKind, number> = { ...DEFAULT_WEIGHTS, ...options.weights };
  if (!timeouts) weights.timeout = 0;
  const dataset = datasetFor(namespace, sagas, reviewThreshold);
  const plans: PlannedSaga[] = [];
  for (let index = 0; index < sagas; index++) {
    const rng = new Random(mixSeed(seed, index));
    let order = orderFor(rng, namespace, index, dataset);
    const kind = rng.weighted(weights);
    let faults: FaultPlan;
    let action: SagaAction | undefined;
    if (kind === 'cancel' || kind === 'review' || kind === 'abort-resume') {
      if (kind === 'review') order = reviewOrderFor(rng, namespace, index, dataset);
      ({ action, faults } = actionFor(rng, kind, order));
    } else {
      faults = faultsFor(rng, kind, order, timeouts);
    }
    const input: OrderSagaInput = Object.keys(faults).length > 0 ? { ...order, faults } : order;
    plans.push({
      index,
      kind,
      input,
      postTwice: rng.chance(0.05),
      expected: predictOutcome(input),
      ...(action ? { action } : {}),
    });
  }
  return { seed, namespace, dataset, sagas: plans };
}

/** An answer of the REST API as the checker needs it: the HTTP status (0: no answer) and the error `code`. */
export interface ApiAnswer {
  status: number;
  code?: string;
  /** What an accepted resume did: `redriven` (the execution) or `dead-letters-redriven` (the DLQ). */
  action?: string;
}

/** What one actor saw and was answered. */
export interface ActionObservation {
  orderId: string;
  index: number;
  action: SagaAction;
  /**
   * `reached`: the moment came (for a review: the order was seen AWAITING_REVIEW) and the actor acted;
   * `settled`: the order got its outcome first (the actor still acted, except a reviewer);
   * `gave-up`: neither within the actor's deadline.
   */
  trigger: 'reached' | 'settled' | 'gave-up';
  /** The order's status read right before acting. */
  statusBefore?: OrderStatus;
  /** Cancel or review: the POST's answer. Abort: the answer of POST resume. */
  answer?: ApiAnswer;
  /** Abort: the execution's status right after StopExecution. */
  stoppedStatus?: string;
  /** A failure of the actor itself (SDK error), reported as a violation. */
  error?: string;
}
