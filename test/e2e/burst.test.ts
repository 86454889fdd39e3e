/**
 * A burst never cancels an order (issue #12): clean orders, all POSTed at once, against a Lambda
 * concurrency limit far below the burst, so that Lambda throttles the saga's Tasks (429
 * `TooManyRequestsException`) over and over. The throttle retrier (`Saga.THROTTLE_RETRY`) must carry every
 * order through: each one CONFIRMED, each customer charged and each SKU's stock taken exactly once, and the
 * run must really have been throttled (the local Lambda's throttle count, per function).
 *
 * Each order has its own customer, SKU and delivery slot, with room to spare: nothing but the burst (no
 * scarce data, no contended item) stands between an order and CONFIRMED.
 *
 * On a local cloud of its own, whatever STEPSAGA_TARGET says: the local cloud is the target whose
 * concurrency limit a test can set (`--lambda-concurrency`). Its Retry scale is the chaos runs' default
 * (0.05), which must not shrink a throttle's retry (localcloud/stepfunctions/asl/retry.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi } from '../../chaos/actors';
import { checkInvariants } from '../../chaos/invariants';
import {
  type Clients,
  clientsFor,
  filterFor,
  mapLimit,
  putDataset,
  readBusiness,
  readExecutions,
  readFinal,
  readLambdaStats,
} from '../../chaos/observe';
import { waitForExecutions } from '../../chaos/run';
import { type ChaosTarget, makeTarget, parseOutputs } from '../../client/target';
import { type OrderSagaInput, type SeedData, STEP_NAMES } from '../../lib/contract';
import type { LocalCloud } from '../../localcloud/cloud';
import { Saga } from '../../toolkit/construct/saga';
import { startTestCloud } from '../support/localcloud';

/** The account's concurrency: the Api function and the steps of every saga share these. */
const LAMBDA_CONCURRENCY = 3;
const ORDERS = 30;
const PRICE = 1_200;
const BALANCE = 100_000;
const STOCK = 50;

let cloud: LocalCloud;
let target: ChaosTarget;
let clients: Clients;

beforeAll(async () => {
  cloud = await startTestCloud({ lambdaConcurrency: LAMBDA_CONCURRENCY, retryScale: 0.05 });
  target = makeTarget('local', parseOutputs(cloud.outputs, 'local cloud'), cloud.endpoint);
  clients = clientsFor(target);
}, 300_000);

afterAll(async () => {
  clients?.destroy();
  await cloud?.close();
});

/** `n` orders of 2 units, each with its own customer, SKU and slot. */
function burst(n: number): { data: SeedData; orders: OrderSagaInput[] } {
  const ns = `burst-${Date.now().toString(36)}`;
  const ids = Array.from({ length: n }, (_, i) => `${ns}-${i}`);
  return {
    data: {
      accounts: ids.map((id) => ({ customerId: `${id}-customer`, name: 'Burst customer', balance: BALANCE })),
      inventory: ids.map((id) => ({ sku: `${id}-sku`, name: 'Burst article', price: PRICE, stock: STOCK })),
      promos: [],
      deliverySlots: ids.map((id) => ({ slotId: `${id}-slot`, capacity: 10, booked: 0 })),
    },
    orders: ids.map((id) => ({
      orderId: id,
      customerId: `${id}-customer`,
      items: [{ sku: `${id}-sku`, quantity: 2 }],
      deliverySlot: `${id}-slot`,
    })),
  };
}

/** The longest the executions may take to settle: a step's throttle retrier at its worst, twice over. */
const SETTLE_MS = 2 * throttleWaitsMs() + 60_000;

/** The waits of `Saga.THROTTLE_RETRY` at their longest (full jitter waits at most the capped interval). */
function throttleWaitsMs(): number {
  const { interval, backoffRate = 2, maxAttempts = 3, maxDelay } = Saga.THROTTLE_RETRY;
  let total = 0;
  for (let i = 0; i < maxAttempts; i++)
    total += Math.min((interval?.toSeconds() ?? 1) * backoffRate ** i, maxDelay?.toSeconds() ?? Infinity);
  return total * 1000;
}

describe('a burst against the Lambda concurrency limit', () => {
  it(
    `${ORDERS} orders at once, ${LAMBDA_CONCURRENCY} concurrent executions: throttled, and every order CONFIRMED with exact balances and stock`,
    async () => {
      const { data, orders } = burst(ORDERS);
      await putDataset(clients, target, data);
      const filter = filterFor(data);
      const start = await readBusiness(clients, target, filter);
      const throttledBefore = (await readLambdaStats(target))?.throttledByFunction ?? {};

      // Act: every order at once. A POST the throttled Api function could not answer (5xx) is sent again, as
      // a client does (the API is idempotent by orderId).
      const retry = { retryServerErrors: { forMs: 120_000, onRetry: () => undefined } };
      const answers = await mapLimit(orders, orders.length, (order) =>
        callApi(target, 'POST', 'orders', JSON.stringify(order), retry),
      );
      const names = new Set(orders.map((o) => o.orderId));
      // A throttled step may rightly wait out its whole throttle retrier (up to 270 s) before it runs: wait
      // for that on a slow machine (a fast one settles in a minute or two).
      await waitForExecutions(target, clients, names, { timeoutMs: SETTLE_MS });

      // Assess
      expect(answers.map((a) => a.status).filter((s) => s !== 202)).toEqual([]);
      const [final, executions, stats] = await Promise.all([
        readFinal(clients, target, filter),
        readExecutions(clients, target, names),
        readLambdaStats(target),
      ]);
      const outcomes = final.orders
        .filter((o) => names.has(o.orderId))
        .map((o) => `${o.orderId} ${o.status}${o.reason ? ` (${o.failedStep}: ${o.reason})` : ''}`);
      expect(outcomes.filter((o) => !o.endsWith(' CONFIRMED'))).toEqual([]);
      expect(outcomes).toHaveLength(ORDERS);
      expect(executions.map((e) => e.status)).toEqual(orders.map(() => 'SUCCEEDED'));
      expect(final.accounts.map((a) => a.balance)).toEqual(orders.map(() => BALANCE - 2 * PRICE));
      expect(final.inventory.map((i) => i.stock)).toEqual(orders.map(() => STOCK - 2));
      expect(final.deliverySlots.map((s) => s.booked)).toEqual(orders.map(() => 1));
      const report = checkInvariants({ start, final, executions, deadLetters: [], orderIds: [...names] });
      expect(report.results.flatMap((r) => r.violations)).toEqual([]);
      // Throttled for real: Lambda refused the saga's own steps, not only the Api function (how often depends
      // on the machine's speed: 25 at load average ~5 on 2 cores, over 100 at ~15).
      const stepThrottles = Object.entries(stats?.throttledByFunction ?? {})
        .filter(([name]) => STEP_NAMES.some((step) => name.includes(step)))
        .reduce((sum, [name, n]) => sum + n - (throttledBefore[name] ?? 0), 0);
      expect(stepThrottles).toBeGreaterThan(0);
    },
    SETTLE_MS + 180_000,
  );
});
