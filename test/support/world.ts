/**
 * The world an end-to-end scenario runs in: a target (the local cloud by default, or LocalStack/AWS via
 * `STEPSAGA_TARGET` + `STEPSAGA_OUTPUTS`), an API client, AWS SDK clients, and this run's own demo items
 * (the values of seed/demo.json under unique ids) so that scenarios assert exact deltas on any target.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiClient } from '../../client/api';
import { type Outputs, requireOutput } from '../../client/outputs';
import { COMPENSATION_NAMES, type DeadLetterMessage, type OrderSagaInput } from '../../lib/contract';
import { startTarget, type Target } from './target';
import { pollUntil, untilExecutionEnds } from './waiting';

export interface Snapshot {
  balances: Record<string, number>;
  stock: Record<string, number>;
  promoUses: Record<string, number>;
  slotBookings: Record<string, number>;
}

export interface RunResult {
  execution: string;
  order: Record<string, unknown>;
  /** Names of the states entered, in order. */
  statesEntered: string[];
  /** Retries per Task state (attempts − 1). */
  retries: Record<string, number>;
  events: HistoryEvent[];
}

export interface RedriveReport {
  succeeded: Array<{ orderId: string; step: string }>;
  failed: Array<{ orderId: string; step: string }>;
  [key: string]: unknown;
}

const COMPENSATIONS = new Set<string>(COMPENSATION_NAMES);

export class SagaWorld {
  readonly customer1: string;
  readonly customer2: string;
  readonly sku1: string;
  readonly sku2: string;
  readonly welcome10: string;
  readonly expired: string;
  readonly slot: string;
  readonly noChange: Snapshot = { balances: {}, stock: {}, promoUses: {}, slotBookings: {} };
  readonly api: ApiClient;
  private readonly db: DynamoDBDocumentClient;
  private readonly sfn: SFNClient;
  private readonly sqs: SQSClient;
  private readonly lambda: LambdaClient;
  private counter = 0;

  readonly outputs: Outputs;

  constructor(
    private readonly target: Target,
    private readonly runId: string,
  ) {
    this.outputs = target.outputs;
    this.api = target.api;
    this.db = DynamoDBDocumentClient.from(new DynamoDBClient(target.sdk));
    this.sfn = new SFNClient(target.sdk);
    this.sqs = new SQSClient(target.sdk);
    this.lambda = new LambdaClient(target.sdk);
    this.customer1 = `${runId}-customer-1`;
    this.customer2 = `${runId}-customer-2`;
    this.sku1 = `${runId}-SKU-1`;
    this.sku2 = `${runId}-SKU-2`;
    this.welcome10 = `${runId}-WELCOME10`.toUpperCase();
    this.expired = `${runId}-EXPIRED`.toUpperCase();
    this.slot = `${runId}-2026-12-01T10`;
  }

  id(prefix: string): string {
    this.counter += 1;
    return `${this.runId}-${prefix}-${this.counter}`;
  }

  private table(name: string): string {
    return requireOutput(this.outputs, `${name}TableName`);
  }

  /** Writes this run's copy of the demo data (seed/demo.json values, unique ids). */
  async seed(): Promise<void> {
    const puts: Array<[string, Record<string, unknown>]> = [
      ['Accounts', { customerId: this.customer1, name: 'Ada (e2e)', balance: 100000 }],
      ['Accounts', { customerId: this.customer2, name: 'Grace (e2e)', balance: 1000 }],
      ['Inventory', { sku: this.sku1, name: 'Espresso beans (e2e)', price: 1500, stock: 100 }],
      ['Inventory', { sku: this.sku2, name: 'Espresso machine (e2e)', price: 250000, stock: 5 }],
      ['Promos', { code: this.welcome10, discountPercent: 10, usesLeft: 3 }],
      ['Promos', { code: this.expired, discountPercent: 50, usesLeft: 0 }],
      ['DeliverySlots', { slotId: this.slot, capacity: 50, booked: 0 }],
    ];
    await Promise.all(
      puts.map(([table, Item]) => this.db.send(new PutCommand({ TableName: this.table(table), Item }))),
    );
  }

  async snapshot(): Promise<Snapshot> {
    const get = async (table: string, Key: Record<string, string>, field: string): Promise<number> => {
      const item = (
        await this.db.send(new GetCommand({ TableName: this.table(table), Key, ConsistentRead: true }))
      ).Item;
      const value = item?.[field];
      if (typeof value !== 'number')
        throw new Error(`${table} ${JSON.stringify(Key)} has no numeric ${field}`);
      return value;
    };
    const [b1, b2, s1, s2, p1, p2, slot] = await Promise.all([
      get('Accounts', { customerId: this.customer1 }, 'balance'),
      get('Accounts', { customerId: this.customer2 }, 'balance'),
      get('Inventory', { sku: this.sku1 }, 'stock'),
      get('Inventory', { sku: this.sku2 }, 'stock'),
      get('Promos', { code: this.welcome10 }, 'usesLeft'),
      get('Promos', { code: this.expired }, 'usesLeft'),
      get('DeliverySlots', { slotId: this.slot }, 'booked'),
    ]);
    return {
      balances: { [this.customer1]: b1, [this.customer2]: b2 },
      stock: { [this.sku1]: s1, [this.sku2]: s2 },
      promoUses: { [this.welcome10]: p1, [this.expired]: p2 },
      slotBookings: { [this.slot]: slot },
    };
  }

  /** The delta of one confirmed order of `units` × SKU-1 (price 1500) for customer-1, without promo. */
  confirmedDelta(units: number): Snapshot {
    return {
      balances: { [this.customer1]: -1500 * units },
      stock: { [this.sku1]: -units },
      promoUses: {},
      slotBookings: { [this.slot]: 1 },
    };
  }

  /** What changed between two snapshots (only non-zero differences). */
  delta(before: Snapshot, after: Snapshot): Snapshot {
    const diff = (a: Record<string, number>, b: Record<string, number>) =>
      Object.fromEntries(
        Object.keys(b)
          .map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)] as const)
          .filter(([, d]) => d !== 0),
      );
    return {
      balances: diff(before.balances, after.balances),
      stock: diff(before.stock, after.stock),
      promoUses: diff(before.promoUses, after.promoUses),
      slotBookings: diff(before.slotBookings, after.slotBookings),
    };
  }

  /** Starts an order through the API and waits until its execution is over. */
  async run(input: OrderSagaInput): Promise<RunResult> {
    const response = await this.api.post<{ executionArn?: string }>('orders', input);
    if (response.status !== 202 || !response.body.executionArn) {
      throw new Error(`POST /orders answered ${response.status}: ${response.text}`);
    }
    const executionArn = response.body.executionArn;
    const execution = await this.waitForExecution(executionArn);
    const events = await this.history(executionArn);
    const statesEntered: string[] = [];
    const attempts: Record<string, number> = {};
    let current = '';
    for (const event of events) {
      const entered = event.stateEnteredEventDetails?.name;
      if (entered && event.type?.endsWith('StateEntered')) {
        statesEntered.push(entered);
        current = entered;
      }
      if (event.type === 'LambdaFunctionScheduled' || event.type === 'TaskScheduled') {
        attempts[current] = (attempts[current] ?? 0) + 1;
      }
    }
    const retries = Object.fromEntries(Object.entries(attempts).map(([k, n]) => [k, n - 1]));
    return { execution, order: await this.getOrder(input.orderId), statesEntered, retries, events };
  }

  compensationOrder(statesEntered: string[]): string[] {
    return statesEntered.filter((s) => COMPENSATIONS.has(s));
  }

  async getOrder(orderId: string): Promise<Record<string, unknown>> {
    const response = await this.api.get<Record<string, unknown>>(`orders/${encodeURIComponent(orderId)}`);
    if (response.status !== 200)
      throw new Error(`GET /orders/${orderId} answered ${response.status}: ${response.text}`);
    return response.body;
  }

  /** Polls the order until it leaves PENDING and its execution is over. */
  async waitForOrder(orderId: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const order = await untilOrder(this.api, orderId, (o) => o.status !== 'PENDING', timeoutMs);
    if (typeof order.executionArn === 'string') await this.waitForExecution(order.executionArn, timeoutMs);
    return order;
  }

  async waitForExecution(executionArn: string, timeoutMs = 120_000): Promise<string> {
    const { status } = await untilExecutionEnds(this.sfn, executionArn, { timeoutMs, intervalMs: 100 });
    return String(status);
  }

  async history(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(
        new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  /** The DLQ messages of one order (peeked: they stay in the queue). */
  async deadLetters(orderId: string): Promise<DeadLetterMessage[]> {
    const queueUrl = requireOutput(this.outputs, 'DlqUrl');
    const seen = new Map<string, DeadLetterMessage>();
    for (let round = 0; round < 3; round++) {
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
          WaitTimeSeconds: 0,
        }),
      );
      for (const message of Messages) {
        if (message.MessageId && message.Body)
          seen.set(message.MessageId, JSON.parse(message.Body) as DeadLetterMessage);
      }
    }
    return [...seen.values()].filter((m) => m.orderId === orderId);
  }

  /** Runs the Redrive function (as `npm run redrive` does) and returns its report. */
  async redrive(): Promise<RedriveReport> {
    const result = await this.lambda.send(
      new InvokeCommand({
        FunctionName: requireOutput(this.outputs, 'RedriveFunctionName'),
        Payload: Buffer.from('{}'),
      }),
    );
    const text = Buffer.from(result.Payload ?? new Uint8Array()).toString('utf8');
    if (result.FunctionError) throw new Error(`Redrive failed: ${text}`);
    return JSON.parse(text) as RedriveReport;
  }

  close(): Promise<void> {
    return this.target.close();
  }
}

/** An order with its outcome: confirmed, cancelled, or waiting for an operator. */
export const settled = (order: Record<string, unknown>): boolean =>
  ['CONFIRMED', 'CANCELLED', 'NEEDS_ATTENTION'].includes(String(order.status));

/** Polls GET /orders/{id} until `done` holds (the state a user sees is the synchronisation). */
export async function untilOrder<T extends Record<string, unknown>>(
  api: ApiClient,
  orderId: string,
  done: (order: T) => boolean,
  timeoutMs = 90_000,
): Promise<T> {
  let last = '';
  return pollUntil(
    () => `order ${orderId} to get there, last seen: ${last}`,
    async () => {
      const response = await api.get<T>(`orders/${encodeURIComponent(orderId)}`);
      last = response.text;
      return response.status === 200 && done(response.body) ? response.body : undefined;
    },
    { timeoutMs },
  );
}

/** Starts (or connects to) the target and writes this run's demo items. */
export async function startWorld(name: string): Promise<SagaWorld> {
  const target = await startTarget();
  const runId = `e2e${Date.now().toString(36)}${name.slice(0, 3)}`;
  const world = new SagaWorld(target, runId);
  await world.seed();
  return world;
}
