/**
 * ReserveStock / ReleaseStock: every line of the order or none, in ONE transaction across SKUs.
 *
 * Prices are read (consistently) first and each write is conditioned on `stock >= :q AND price = :price`,
 * so the total recorded here is exactly what the reserved units cost. The order total is computed once,
 * here, and carried in the state: subtotal = Σ quantity × price, discount = floor(subtotal × promo% / 100).
 */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { OrderItem, OrderSagaState, PricedLine, ReserveStockResult } from '../../lib/contract';
import { TransientError } from '../../toolkit/runtime/errors';
import {
  type CompensationResult,
  type Item,
  runAction,
  runCompensation,
} from '../../toolkit/runtime/step-engine';
import { InsufficientStockError, UnknownSkuError } from '../shared/errors';
import { type CancellableDeps, guardedStoreOf, storeOf } from '../shared/step-handler';

export type StockDeps = CancellableDeps<'Inventory' | 'IdempotencyKeys'>;

/** What ReserveStock records as its effect: the units taken per SKU. */
interface StockEffect {
  lines: { sku: string; quantity: number }[];
}

/** Merges repeated SKUs (one transaction may touch each item only once), keeping first-seen order. */
export function mergeLines(items: readonly OrderItem[]): OrderItem[] {
  const merged = new Map<string, number>();
  for (const { sku, quantity } of items) merged.set(sku, (merged.get(sku) ?? 0) + quantity);
  return [...merged].map(([sku, quantity]) => ({ sku, quantity }));
}

/** The order total, in integer minor units. */
export function priceOrder(lines: PricedLine[], discountPercent: number): ReserveStockResult {
  const subtotal = lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
  const discount = Math.floor((subtotal * discountPercent) / 100);
  return { lines, subtotal, discount, total: subtotal - discount };
}

async function readPrices(deps: StockDeps, skus: string[]): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  let keys: Record<string, unknown>[] = skus.map((sku) => ({ sku }));
  for (let attempt = 0; keys.length > 0; attempt++) {
    if (attempt > 5) throw new TransientError('Inventory read kept returning unprocessed keys');
    const out = await deps.doc.send(
      new BatchGetCommand({
        RequestItems: { [deps.tables.Inventory]: { Keys: keys, ConsistentRead: true } },
      }),
    );
    for (const item of out.Responses?.[deps.tables.Inventory] ?? []) found.set(String(item.sku), item);
    keys = out.UnprocessedKeys?.[deps.tables.Inventory]?.Keys ?? [];
  }
  return found;
}

export async function reserveStock(saga: OrderSagaState, deps: StockDeps): Promise<ReserveStockResult> {
  return runAction(guardedStoreOf(deps), {
    sagaId: saga.orderId,
    step: 'ReserveStock',
    async plan() {
      const items = mergeLines(saga.items);
      const inventory = await readPrices(
        deps,
        items.map((i) => i.sku),
      );
      const lines: PricedLine[] = items.map(({ sku, quantity }) => {
        const record = inventory.get(sku);
        if (!record) throw new UnknownSkuError(sku);
        return { sku, quantity, unitPrice: Number(record.price) };
      });
      const result = priceOrder(lines, saga.results?.ReservePromo?.discountPercent ?? 0);
      const effect: StockEffect = { lines: items };
      return {
        writes: lines.map((line) => ({
          Update: {
            TableName: deps.tables.Inventory,
            Key: { sku: line.sku },
            UpdateExpression: 'SET stock = stock - :q',
            ConditionExpression: 'attribute_exists(sku) AND stock >= :q AND price = :price',
            ExpressionAttributeValues: { ':q': line.quantity, ':price': line.unitPrice },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        })),
        result,
        effect: { ...effect },
        onConditionFailed(index, old) {
          const line = lines[index] as PricedLine;
          if (!old) return new UnknownSkuError(line.sku);
          if (Number(old.stock) < line.quantity) {
            return new InsufficientStockError(line.sku, line.quantity, Number(old.stock));
          }
          return new TransientError(`The price of ${line.sku} changed while stock was being reserved: retry`);
        },
      };
    },
  });
}

export async function releaseStock(saga: OrderSagaState, deps: StockDeps): Promise<CompensationResult> {
  return runCompensation(storeOf(deps), {
    sagaId: saga.orderId,
    step: 'ReserveStock',
    compensation: 'ReleaseStock',
    reverse(record) {
      const { lines } = record.effect as unknown as StockEffect;
      return {
        writes: lines.map((line) => ({
          Update: {
            TableName: deps.tables.Inventory,
            Key: { sku: line.sku },
            UpdateExpression: 'SET stock = stock + :q',
            ConditionExpression: 'attribute_exists(sku)',
            ExpressionAttributeValues: { ':q': line.quantity },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        })),
        onConditionFailed: (index) => new UnknownSkuError(lines[index]?.sku ?? '?'),
      };
    },
  });
}
