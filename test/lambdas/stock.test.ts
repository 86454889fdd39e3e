import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { releaseStock, reserveStock } from '../../lambdas/domain/stock';
import type { InventoryRecord } from '../../lib/contract';
import {
  createTables,
  getItem,
  idempotencyRecords,
  type LocalTables,
  localClient,
  newOrderId,
  putItem,
} from '../support/dynamodb-local';
import { lambdaContext, loadHandler, sagaInput, stepEvent, thrown } from '../support/handlers';

let local: LocalTables;
const deps = () => ({ doc: local.doc, tables: local.tables });
const stockOf = async (sku: string) => (await getItem<InventoryRecord>(local, 'Inventory', { sku }))?.stock;

async function freshSku(stock: number, price = 1500): Promise<string> {
  const sku = newOrderId('SKU');
  await putItem(local, 'Inventory', { sku, name: 'test item', price, stock });
  return sku;
}

beforeAll(async () => {
  local = await createTables();
});

describe('ReserveStock', () => {
  it('reserves every line and computes the total once, with the promo discount', async () => {
    // Prepare
    const beans = await freshSku(100, 1500);
    const jug = await freshSku(40, 899);
    const saga = sagaInput(newOrderId(), {
      items: [
        { sku: beans, quantity: 2 },
        { sku: jug, quantity: 1 },
      ],
      promoCode: 'WELCOME10',
      results: { ReservePromo: { code: 'WELCOME10', discountPercent: 10 } },
    });
    // Act
    const result = await reserveStock(saga, deps());
    // Assess
    expect(result).toEqual({
      lines: [
        { sku: beans, quantity: 2, unitPrice: 1500 },
        { sku: jug, quantity: 1, unitPrice: 899 },
      ],
      subtotal: 3899,
      discount: 389,
      total: 3510,
    });
    expect([await stockOf(beans), await stockOf(jug)]).toEqual([98, 39]);
  });

  it('without a promo the total is the subtotal', async () => {
    const sku = await freshSku(10, 250000);
    const result = await reserveStock(sagaInput(newOrderId(), { items: [{ sku, quantity: 2 }] }), deps());
    expect(result).toMatchObject({ subtotal: 500000, discount: 0, total: 500000 });
  });

  it('is all or none: one short line fails with InsufficientStock and no SKU changes', async () => {
    const plenty = await freshSku(100);
    const scarce = await freshSku(5);
    const saga = sagaInput(newOrderId(), {
      items: [
        { sku: plenty, quantity: 3 },
        { sku: scarce, quantity: 6 },
      ],
    });
    const error = await thrown(() => reserveStock(saga, deps()));
    expect(error.name).toBe('InsufficientStock');
    expect(error.message).toContain(`${scarce}: 6 requested, 5 available`);
    expect([await stockOf(plenty), await stockOf(scarce)]).toEqual([100, 5]);
    expect(await idempotencyRecords(local, saga.orderId)).toEqual([]);
  });

  it('fails with UnknownSku for a SKU that does not exist, changing nothing', async () => {
    const known = await freshSku(100);
    const saga = sagaInput(newOrderId(), {
      items: [
        { sku: known, quantity: 1 },
        { sku: 'SKU-DOES-NOT-EXIST', quantity: 1 },
      ],
    });
    const error = await thrown(() => reserveStock(saga, deps()));
    expect(error.name).toBe('UnknownSku');
    expect(error.message).toContain('SKU-DOES-NOT-EXIST');
    expect(await stockOf(known)).toBe(100);
  });

  it('replays a duplicate with the recorded result and one effect, even after the price changed', async () => {
    const sku = await freshSku(10, 1000);
    const saga = sagaInput(newOrderId(), { items: [{ sku, quantity: 4 }] });
    const first = await reserveStock(saga, deps());
    await putItem(local, 'Inventory', { sku, name: 'test item', price: 9999, stock: 6 });
    const second = await reserveStock(saga, deps());
    expect(second).toEqual(first);
    expect(await stockOf(sku)).toBe(6);
  });

  it('concurrent orders for the last unit: exactly one wins', async () => {
    const sku = await freshSku(1);
    const orders = Array.from({ length: 8 }, () =>
      sagaInput(newOrderId(), { items: [{ sku, quantity: 1 }] }),
    );
    const settled = await Promise.allSettled(orders.map((saga) => reserveStock(saga, deps())));
    const winners = settled.filter((s) => s.status === 'fulfilled');
    const losers = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).name] : []));
    expect(winners).toHaveLength(1);
    // A loser saw the stock gone: collisions with the winner's transaction are retried in the function.
    expect(losers).toEqual(Array(7).fill('InsufficientStock'));
    expect(await stockOf(sku)).toBe(0);
  });

  it('concurrent orders on a hot item with stock for all: every one is reserved', async () => {
    const sku = await freshSku(100);
    const orders = Array.from({ length: 16 }, () =>
      sagaInput(newOrderId(), { items: [{ sku, quantity: 2 }] }),
    );

    const settled = await Promise.allSettled(orders.map((saga) => reserveStock(saga, deps())));

    expect(settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason))).toEqual([]);
    expect(await stockOf(sku)).toBe(100 - 16 * 2);
  });

  // DynamoDB cancels a transaction that collides with a concurrent one on the same item (a hot SKU).
  // DynamoDB Local serialises transactions, so the collision is injected in front of it, on the wire.
  const collidingDeps = (collisions: number) => {
    const client = localClient(local.endpoint);
    let left = collisions;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'TransactWriteItemsCommand' && left > 0) {
          left -= 1;
          throw new TransactionCanceledException({
            message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
            $metadata: {},
            CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'collide' },
    );
    const doc = DynamoDBDocumentClient.from(client);
    return { deps: { doc, tables: local.tables }, close: () => client.destroy() };
  };

  it('retries a transaction cancelled by a concurrent write in the function, then reserves once', async () => {
    const sku = await freshSku(10);
    const saga = sagaInput(newOrderId(), { items: [{ sku, quantity: 3 }] });
    const { deps: colliding, close } = collidingDeps(4);
    try {
      const reserved = await reserveStock(saga, colliding);

      expect(reserved.lines).toEqual([{ sku, quantity: 3, unitPrice: 1500 }]);
      expect(await stockOf(sku)).toBe(7);
    } finally {
      close();
    }
  });

  it('hands a transaction that keeps colliding to the state machine as TransientError, changing nothing', async () => {
    const sku = await freshSku(10);
    const saga = sagaInput(newOrderId(), { items: [{ sku, quantity: 3 }] });
    const { deps: colliding, close } = collidingDeps(5);
    try {
      const error = await thrown(() => reserveStock(saga, colliding));

      expect(error.name).toBe('TransientError');
      expect(error.message).toContain('TransactionConflict');
      expect(await stockOf(sku)).toBe(10);
      expect(await idempotencyRecords(local, saga.orderId)).toEqual([]);
    } finally {
      close();
    }
  });
});

describe('ReleaseStock', () => {
  it('puts back exactly the reserved units, once', async () => {
    const a = await freshSku(20);
    const b = await freshSku(20);
    const saga = sagaInput(newOrderId(), {
      items: [
        { sku: a, quantity: 3 },
        { sku: b, quantity: 7 },
      ],
    });
    await reserveStock(saga, deps());
    const outcomes = [(await releaseStock(saga, deps())).outcome, (await releaseStock(saga, deps())).outcome];
    expect(outcomes).toEqual(['compensated', 'already-compensated']);
    expect([await stockOf(a), await stockOf(b)]).toEqual([20, 20]);
  });

  it('before the action tombstones it: the late ReserveStock refuses and stock is untouched', async () => {
    const sku = await freshSku(20);
    const saga = sagaInput(newOrderId(), { items: [{ sku, quantity: 3 }] });
    expect((await releaseStock(saga, deps())).outcome).toBe('tombstoned');
    const late = await thrown(() => reserveStock(saga, deps()));
    expect(late.name).toBe('SagaStepCancelled');
    expect(await stockOf(sku)).toBe(20);
  });
});

describe('stock handlers with faults on', () => {
  it('crash-after-commit: the stock is taken, then ReleaseStock puts it back', async () => {
    const reserve = await loadHandler('reserve-stock', local, { STEPSAGA_FAULTS: 'on' });
    const release = await loadHandler('release-stock', local, { STEPSAGA_FAULTS: 'on' });
    const sku = await freshSku(10);
    const saga = sagaInput(newOrderId(), {
      items: [{ sku, quantity: 4 }],
      faults: { ReserveStock: 'crash-after-commit' },
    });
    const error = await thrown(() => reserve(stepEvent(saga), lambdaContext()));
    expect(error.name).toBe('CrashAfterCommit');
    expect(await stockOf(sku)).toBe(6);
    await release(stepEvent(saga), lambdaContext());
    expect(await stockOf(sku)).toBe(10);
  });

  it('duplicate: runs twice, returns the replayed result, takes the stock once', async () => {
    const reserve = await loadHandler('reserve-stock', local, { STEPSAGA_FAULTS: 'on' });
    const sku = await freshSku(10, 700);
    const saga = sagaInput(newOrderId(), {
      items: [{ sku, quantity: 2 }],
      faults: { ReserveStock: 'duplicate' },
    });
    const result = await reserve(stepEvent(saga), lambdaContext());
    expect(result).toMatchObject({ total: 1400 });
    expect(await stockOf(sku)).toBe(8);
  });

  it('transient:2 fails the first two attempts with TransientError, then reserves', async () => {
    const reserve = await loadHandler('reserve-stock', local, { STEPSAGA_FAULTS: 'on' });
    const sku = await freshSku(10);
    const saga = sagaInput(newOrderId(), {
      items: [{ sku, quantity: 1 }],
      faults: { ReserveStock: 'transient:2' },
    });
    const attempts = [
      (await thrown(() => reserve(stepEvent(saga, 0), lambdaContext()))).name,
      (await thrown(() => reserve(stepEvent(saga, 1), lambdaContext()))).name,
    ];
    const third = await reserve(stepEvent(saga, 2), lambdaContext());
    expect(attempts).toEqual(['TransientError', 'TransientError']);
    expect(third).toMatchObject({ total: 1500 });
    expect(await stockOf(sku)).toBe(9);
  });

  it('timeout: outlives the remaining time and changes nothing', async () => {
    const reserve = await loadHandler('reserve-stock', local, { STEPSAGA_FAULTS: 'on' });
    const sku = await freshSku(10);
    const saga = sagaInput(newOrderId(), {
      items: [{ sku, quantity: 1 }],
      faults: { ReserveStock: 'timeout' },
    });
    const context = lambdaContext(20);
    const error = await thrown(() => reserve(stepEvent(saga), context));
    expect(error.name).toBe('Sandbox.Timedout');
    expect(context.getRemainingTimeInMillis()).toBe(0);
    expect(await stockOf(sku)).toBe(10);
  });

  it('fail: InjectedFailure before anything is reserved', async () => {
    const reserve = await loadHandler('reserve-stock', local, { STEPSAGA_FAULTS: 'on' });
    const sku = await freshSku(10);
    const saga = sagaInput(newOrderId(), { items: [{ sku, quantity: 1 }], faults: { ReserveStock: 'fail' } });
    expect((await thrown(() => reserve(stepEvent(saga), lambdaContext()))).name).toBe('InjectedFailure');
    expect(await stockOf(sku)).toBe(10);
  });

  it('with faults off the same plan is ignored', async () => {
    const reserve = await loadHandler('reserve-stock', local, { STEPSAGA_FAULTS: 'off' });
    const sku = await freshSku(10);
    const saga = sagaInput(newOrderId(), { items: [{ sku, quantity: 1 }], faults: { ReserveStock: 'fail' } });
    await reserve(stepEvent(saga), lambdaContext());
    expect(await stockOf(sku)).toBe(9);
  });
});
