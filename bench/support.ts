/**
 * What both benchmarks need from a running local cloud: their own, practically inexhaustible demo items;
 * a tap on the DynamoDB requests passing the edge; and executions' events as they happen (so waiting for
 * an execution puts no polling load on the runtime being measured).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { requireOutput } from '../client/outputs';
import type { LocalCloud } from '../localcloud/cloud';
import type { AwsRequest } from '../localcloud/types';

export interface BenchItems {
  customerId: string;
  sku: string;
  promoCode: string;
  slotId: string;
}

/** Writes a customer, SKU (price 1500), promo (10 %) and slot that a benchmark cannot exhaust. */
export async function putBenchItems(cloud: LocalCloud, prefix: string): Promise<BenchItems> {
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: cloud.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    }),
  );
  const items: BenchItems = {
    customerId: `${prefix}-customer`,
    sku: `${prefix}-SKU`.toUpperCase(),
    promoCode: `${prefix}10`.toUpperCase(),
    slotId: `${prefix}-slot`,
  };
  const put = (table: string, Item: Record<string, unknown>) =>
    db.send(new PutCommand({ TableName: requireOutput(cloud.outputs, `${table}TableName`), Item }));
  await Promise.all([
    put('Accounts', { customerId: items.customerId, name: prefix, balance: 1e12 }),
    put('Inventory', { sku: items.sku, name: prefix, price: 1500, stock: 1e9 }),
    put('Promos', { code: items.promoCode, discountPercent: 10, usesLeft: 1e9 }),
    put('DeliverySlots', { slotId: items.slotId, capacity: 1e9, booked: 0 }),
  ]);
  return items;
}

/**
 * Calls `observe` for every DynamoDB request that passes the edge, once answered, with the time the edge
 * took to answer it (the proxy hop and DynamoDB Local). A decorator, benchmarks only.
 */
export function tapDynamoDb(cloud: LocalCloud, observe: (req: AwsRequest, ms: number) => void): void {
  const dynamodb = cloud.services.dynamodb;
  const handle = dynamodb.handle.bind(dynamodb);
  dynamodb.handle = async (req: AwsRequest) => {
    const started = performance.now();
    try {
      return await handle(req);
    } finally {
      observe(req, performance.now() - started);
    }
  };
}

export interface HistoryEventLike {
  type?: string;
  timestamp?: Date | string;
}

const TERMINAL = /^Execution(Succeeded|Failed|TimedOut|Aborted)$/;

/** Records every execution's events and resolves `finished(arn)` with its final status. */
export function watchExecutions(cloud: LocalCloud): {
  finished(executionArn: string): Promise<string>;
  events(executionArn: string): HistoryEventLike[];
} {
  const events = new Map<string, HistoryEventLike[]>();
  const done = new Map<string, string>();
  const waiters = new Map<string, (status: string) => void>();
  cloud.services.states.onEvent((executionArn, event) => {
    const e = event as HistoryEventLike;
    const list = events.get(executionArn) ?? [];
    list.push(e);
    events.set(executionArn, list);
    const status = TERMINAL.exec(e.type ?? '')?.[1]?.toUpperCase();
    if (!status) return;
    done.set(executionArn, status);
    waiters.get(executionArn)?.(status);
    waiters.delete(executionArn);
  });
  return {
    finished: (executionArn) =>
      new Promise<string>((resolve) => {
        const status = done.get(executionArn);
        if (status) resolve(status);
        else waiters.set(executionArn, resolve);
      }),
    events: (executionArn) => events.get(executionArn) ?? [],
  };
}
