/**
 * The order saga's console extras (the app config's `console` hook, see `stepsaga.config.ts`): the
 * start-an-order form's choices, the data panels (accounts, inventory, promos, delivery slots, orders),
 * and the order API behind the order actions bar (`GET /orders/{id}`, `POST /orders/{id}/{action}`).
 * Everything goes through the edge as an ordinary AWS client: DynamoDB for the tables, the order API
 * (SigV4-signed) for orders. The page's side is `order-console.web.ts`, which reads the types below.
 */
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ORDER_ID_PATTERN } from '../lambdas/domain/order-request';
import { ORDER_ACTIONS, ORDER_STATUSES, type OrderStatus, type OutputName } from '../lib/contract';
import { type ConsoleExtension, type PluginContext, PluginError } from '../localcloud/plugin';
import { type ApiClient, createApiClient } from './api';

type Item = Record<string, unknown>;

/** `GET /_console/api/choices`'s `app`: what the start form offers, read from the tables. */
export interface OrderChoices {
  customers: string[];
  skus: string[];
  promos: string[];
  slots: string[];
}

/** `GET /_console/api/data`: the data panels. */
export type OrderData = Awaited<ReturnType<typeof data>>;

/** The order API's `GET /orders/{id}` (the console's `item`): what the order actions bar shows. */
export interface OrderView {
  orderId: string;
  status: OrderStatus;
  reason?: string;
  failedStep?: string;
  review?: { decision: string; note?: string };
  /** The actions possible now, each only where the order's status allows it. */
  links: { cancel?: string; resume?: string; review?: string };
}

function documentClient(ctx: PluginContext): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: ctx.endpoint, region: ctx.region, credentials: ctx.credentials }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

function api(ctx: PluginContext): ApiClient {
  return createApiClient({ apiUrl: ctx.output('ApiUrl'), region: ctx.region, credentials: ctx.credentials });
}

function checkOrderId(orderId: string): void {
  if (!ORDER_ID_PATTERN.test(orderId))
    throw new PluginError(400, `Not an order id: ${JSON.stringify(orderId)}`);
}

/** The tables of the data panels, and the order list (30 newest, filtered by `orderStatus`). */
async function data(ctx: PluginContext, query: URLSearchParams) {
  const orderStatus = query.get('orderStatus') || undefined;
  const statusFilter = ORDER_STATUSES.find((s) => s === orderStatus);
  if (orderStatus && !statusFilter)
    throw new PluginError(
      400,
      `Unknown order status filter "${orderStatus}": one of ${ORDER_STATUSES.join(', ')}`,
    );
  const db = documentClient(ctx);
  const scan = async (output: OutputName) => {
    const items: Item[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const page = await db.send(
        new ScanCommand({ TableName: ctx.output(output), ConsistentRead: true, ExclusiveStartKey }),
      );
      items.push(...((page.Items ?? []) as Item[]));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey && items.length < 500);
    return items;
  };
  try {
    const [accounts, inventory, promos, deliverySlots, orders] = await Promise.all([
      scan('AccountsTableName'),
      scan('InventoryTableName'),
      scan('PromosTableName'),
      scan('DeliverySlotsTableName'),
      scan('OrdersTableName'),
    ]);
    const byKey = (key: string) => (a: Item, b: Item) => String(a[key]).localeCompare(String(b[key]));
    orders.sort((a, b) => String(b.updatedAt ?? '').localeCompare(String(a.updatedAt ?? '')));
    const failedCompensations = (o: Item) =>
      o.failedCompensations instanceof Set ? [...o.failedCompensations] : o.failedCompensations;
    return {
      accounts: accounts.sort(byKey('customerId')),
      inventory: inventory.sort(byKey('sku')),
      promos: promos.sort(byKey('code')),
      deliverySlots: deliverySlots.sort(byKey('slotId')),
      orders: orders
        .filter((o) => !statusFilter || o.status === statusFilter)
        .slice(0, 30)
        .map((o) => ({
          orderId: o.orderId,
          status: o.status,
          customerId: o.customerId,
          total: o.total,
          failedStep: o.failedStep,
          reason: o.reason,
          failedCompensations: failedCompensations(o),
          updatedAt: o.updatedAt,
        })),
    };
  } finally {
    db.destroy();
  }
}

export const orderConsole: ConsoleExtension<OrderChoices, OrderData> = {
  async choices(ctx) {
    const panels = await data(ctx, new URLSearchParams()).catch(() => undefined);
    return {
      customers: panels?.accounts.map((a) => String(a.customerId)) ?? [],
      skus: panels?.inventory.map((i) => String(i.sku)) ?? [],
      promos: panels?.promos.map((p) => String(p.code)) ?? [],
      slots: panels?.deliverySlots.map((s) => String(s.slotId)) ?? [],
    };
  },
  data,
  /** `POST /orders` on the order API, SigV4-signed, answered as the API answered. */
  async start(ctx, body) {
    const response = await api(ctx).post('orders', body);
    return { status: response.status, body: response.body };
  },
  /** `GET /orders/{id}` of the order API: status, reason and the actions possible now (`links`). */
  async item(ctx, orderId) {
    checkOrderId(orderId);
    const response = await api(ctx).get(`orders/${orderId}`);
    return { status: response.status, body: response.body };
  },
  /** The order's status and last change, read from the Orders table (cheap: the stream's change mark). */
  async itemMark(ctx, orderId) {
    const db = documentClient(ctx);
    try {
      const out = await db.send(
        new GetCommand({
          TableName: ctx.output('OrdersTableName'),
          Key: { orderId },
          ConsistentRead: true,
          ProjectionExpression: '#s, updatedAt',
          ExpressionAttributeNames: { '#s': 'status' },
        }),
      );
      return out.Item ? `${String(out.Item.status)}@${String(out.Item.updatedAt)}` : 'none';
    } finally {
      db.destroy();
    }
  },
  actions: ORDER_ACTIONS,
  /** `POST /orders/{id}/{cancel|resume|review}` on the order API, SigV4-signed. */
  async action(ctx, orderId, action, body) {
    checkOrderId(orderId);
    const response = await api(ctx).post(`orders/${orderId}/${action}`, body);
    return { status: response.status, body: response.body };
  },
  web: fileURLToPath(new URL('./order-console.web.ts', import.meta.url)),
};
