/**
 * Races on the last units and the last money: many concurrent orders compete for a scarce resource; the
 * conditional transactions must let exactly as many through as the resource covers, and nothing ever goes
 * negative (sampled while the race runs, and checked by the invariants at the end). Each race uses its
 * own customer, SKU and slot (PutItem), so the demo data is untouched.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
} from '../../chaos/observe';
import { waitForExecutions, warmUp } from '../../chaos/run';
import type { ChaosTarget } from '../../client/target';
import type { OrderSagaInput, SeedData } from '../../lib/contract';
import { chaosTarget, startTarget, type Target } from '../support/target';

let target: Target;
let chaos: ChaosTarget;
let clients: Clients;
const run = Date.now().toString(36);

beforeAll(async () => {
  target = await startTarget();
  chaos = chaosTarget(target);
  clients = clientsFor(chaos);
  if (target.name === 'local') await warmUp(clients, 16);
}, 300_000);

afterAll(async () => {
  clients?.destroy();
  await target?.close();
});

interface RaceResult {
  statuses: Map<string, string>;
  failedSteps: Map<string, string | undefined>;
  lowest: { balance: number; stock: number };
  final: Awaited<ReturnType<typeof readFinal>>;
  violations: string[];
}

/** POSTs every order at once, samples the customer's balance and the SKU's stock until all executions end. */
async function race(data: SeedData, orders: OrderSagaInput[]): Promise<RaceResult> {
  await putDataset(clients, chaos, data);
  const filter = filterFor(data);
  const start = await readBusiness(clients, chaos, filter);
  const customerId = data.accounts[0]!.customerId;
  const sku = data.inventory[0]!.sku;
  const lowest = { balance: Number.POSITIVE_INFINITY, stock: Number.POSITIVE_INFINITY };
  const sample = async () => {
    const [account, item] = await Promise.all([
      clients.doc.send(
        new GetCommand({
          TableName: chaos.outputs.AccountsTableName,
          Key: { customerId },
          ConsistentRead: true,
        }),
      ),
      clients.doc.send(
        new GetCommand({ TableName: chaos.outputs.InventoryTableName, Key: { sku }, ConsistentRead: true }),
      ),
    ]);
    lowest.balance = Math.min(lowest.balance, Number(account.Item?.balance));
    lowest.stock = Math.min(lowest.stock, Number(item.Item?.stock));
  };
  let racing = true;
  const sampler = (async () => {
    while (racing) await sample();
  })();
  const responses = await mapLimit(orders, orders.length, (order) =>
    chaos.api({ method: 'POST', path: 'orders', body: JSON.stringify(order) }),
  );
  expect(responses.map((r) => r.status).filter((s) => s !== 202)).toEqual([]);
  const names = new Set(orders.map((o) => o.orderId));
  await waitForExecutions(chaos, clients, names, { timeoutMs: 240_000 });
  racing = false;
  await sampler;
  await sample();
  const [final, executions] = await Promise.all([
    readFinal(clients, chaos, filter),
    readExecutions(clients, chaos, names),
  ]);
  const report = checkInvariants({ start, final, executions, deadLetters: [], orderIds: [...names] });
  const mine = final.orders.filter((o) => names.has(o.orderId));
  return {
    statuses: new Map(mine.map((o) => [o.orderId, o.status])),
    failedSteps: new Map(mine.map((o) => [o.orderId, o.failedStep])),
    lowest,
    final,
    violations: report.results.flatMap((r) => r.violations),
  };
}

/** One customer, one SKU and one roomy slot, and `n` orders of one unit each from that customer. */
function contest(kind: string, n: number, world: { balance: number; price: number; stock: number }) {
  const ns = `race-${kind}-${run}`;
  const data: SeedData = {
    accounts: [{ customerId: `${ns}-customer`, name: 'Race customer', balance: world.balance }],
    inventory: [{ sku: `${ns}-sku`, name: `Race ${kind}`, price: world.price, stock: world.stock }],
    promos: [],
    deliverySlots: [{ slotId: `${ns}-slot`, capacity: 1_000, booked: 0 }],
  };
  const orders = Array.from({ length: n }, (_, i) => ({
    orderId: `${ns}-${i}`,
    customerId: `${ns}-customer`,
    items: [{ sku: `${ns}-sku`, quantity: 1 }],
    deliverySlot: `${ns}-slot`,
  }));
  return { data, orders };
}

const count = (statuses: Map<string, string>, status: string) =>
  [...statuses.values()].filter((s) => s === status).length;

describe('concurrency races', () => {
  it('200 concurrent orders for the last 10 units: exactly 10 confirmed, stock 0, never negative', async () => {
    const { data, orders } = contest('stock', 200, { balance: 10_000_000, price: 700, stock: 10 });

    const result = await race(data, orders);

    expect(count(result.statuses, 'CONFIRMED')).toBe(10);
    expect(count(result.statuses, 'CANCELLED')).toBe(190);
    expect(new Set([...result.failedSteps.values()].filter(Boolean))).toEqual(new Set(['ReserveStock']));
    expect(result.final.inventory[0]!.stock).toBe(0);
    expect(result.lowest.stock).toBeGreaterThanOrEqual(0);
    expect(result.final.accounts[0]!.balance).toBe(10_000_000 - 10 * 700);
    expect(result.violations).toEqual([]);
  }, 300_000);

  it('100 concurrent orders against a balance that covers 10: exactly 10 confirmed, balance 0, never negative', async () => {
    const { data, orders } = contest('money', 100, { balance: 10 * 1_250, price: 1_250, stock: 1_000 });

    const result = await race(data, orders);

    expect(count(result.statuses, 'CONFIRMED')).toBe(10);
    expect(count(result.statuses, 'CANCELLED')).toBe(90);
    // The race under test is the balance. The 100 orders also share one SKU item, so DynamoDB may cancel
    // some ReserveStock transactions for contention until their transient retries run out: those orders
    // are cancelled before paying, which is fine. Nothing else may fail them.
    const failedAt = [...result.failedSteps.values()].filter(Boolean);
    expect(new Set(failedAt).has('ChargePayment')).toBe(true);
    expect(failedAt.every((step) => step === 'ChargePayment' || step === 'ReserveStock')).toBe(true);
    expect(result.final.accounts[0]!.balance).toBe(0);
    expect(result.lowest.balance).toBeGreaterThanOrEqual(0);
    expect(result.final.inventory[0]!.stock).toBe(1_000 - 10);
    expect(result.violations).toEqual([]);
  }, 300_000);
});
