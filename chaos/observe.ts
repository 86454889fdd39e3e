/**
 * Reading the system from outside, through the ordinary AWS SDK clients, against any endpoint: table
 * scans, executions, the DLQ (peeked without consuming it), and the redrive function.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ChaosTarget } from '../client/target';
import type {
  AccountRecord,
  DeadLetterMessage,
  DeliverySlotRecord,
  IdempotencyRecord,
  InventoryRecord,
  OrderRecord,
  PromoRecord,
  SeedData,
} from '../lib/contract';
import type { LambdaStats } from '../localcloud/lambda/service';
import { THROTTLE_ERRORS } from '../toolkit/construct/saga-errors';
import type { BusinessSnapshot, ExecutionObservation, FinalObservation } from './invariants';

export interface Clients {
  dynamodb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sfn: SFNClient;
  sqs: SQSClient;
  lambda: LambdaClient;
  destroy(): void;
}

export function clientsFor(target: ChaosTarget): Clients {
  const config = {
    region: target.aws.region,
    credentials: target.aws.credentials,
    ...(target.aws.endpoint ? { endpoint: target.aws.endpoint } : {}),
    maxAttempts: 5,
  };
  const dynamodb = new DynamoDBClient(config);
  const doc = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const sfn = new SFNClient(config);
  const sqs = new SQSClient(config);
  const lambda = new LambdaClient(config);
  return {
    dynamodb,
    doc,
    sfn,
    sqs,
    lambda,
    destroy() {
      for (const client of [dynamodb, sfn, sqs, lambda]) client.destroy();
    },
  };
}

/** Every item of a table (consistent reads, all pages). */
export async function scanAll<T>(doc: DynamoDBDocumentClient, table: string): Promise<T[]> {
  const items: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: table,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...((page.Items ?? []) as T[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

export interface ItemFilter {
  customers?: ReadonlySet<string>;
  skus?: ReadonlySet<string>;
  promos?: ReadonlySet<string>;
  slots?: ReadonlySet<string>;
}

/** The items of a dataset, as a filter (so a run only accounts for the data it owns). */
export function filterFor(data: SeedData): ItemFilter {
  return {
    customers: new Set(data.accounts.map((a) => a.customerId)),
    skus: new Set(data.inventory.map((i) => i.sku)),
    promos: new Set(data.promos.map((p) => p.code)),
    slots: new Set(data.deliverySlots.map((s) => s.slotId)),
  };
}

const keep = <T>(items: T[], allowed: ReadonlySet<string> | undefined, key: (item: T) => string) =>
  allowed ? items.filter((item) => allowed.has(key(item))) : items;

export async function readBusiness(
  clients: Clients,
  target: ChaosTarget,
  filter: ItemFilter = {},
): Promise<BusinessSnapshot> {
  const o = target.outputs;
  const [accounts, inventory, promos, deliverySlots] = await Promise.all([
    scanAll<AccountRecord>(clients.doc, o.AccountsTableName),
    scanAll<InventoryRecord>(clients.doc, o.InventoryTableName),
    scanAll<PromoRecord>(clients.doc, o.PromosTableName),
    scanAll<DeliverySlotRecord>(clients.doc, o.DeliverySlotsTableName),
  ]);
  return {
    accounts: keep(accounts, filter.customers, (a) => a.customerId),
    inventory: keep(inventory, filter.skus, (i) => i.sku),
    promos: keep(promos, filter.promos, (p) => p.code),
    deliverySlots: keep(deliverySlots, filter.slots, (s) => s.slotId),
  };
}

export async function readFinal(
  clients: Clients,
  target: ChaosTarget,
  filter: ItemFilter = {},
): Promise<FinalObservation> {
  const [business, orders, idempotencyKeys] = await Promise.all([
    readBusiness(clients, target, filter),
    scanAll<OrderRecord>(clients.doc, target.outputs.OrdersTableName),
    scanAll<IdempotencyRecord>(clients.doc, target.outputs.IdempotencyKeysTableName),
  ]);
  return { ...business, orders, idempotencyKeys };
}

/** Writes a dataset with PutItem (BatchWrite), leaving every other item alone. */
export async function putDataset(clients: Clients, target: ChaosTarget, data: SeedData): Promise<void> {
  const o = target.outputs;
  const writes: Array<[string, Record<string, unknown>]> = [
    ...data.accounts.map((item): [string, Record<string, unknown>] => [o.AccountsTableName, { ...item }]),
    ...data.inventory.map((item): [string, Record<string, unknown>] => [o.InventoryTableName, { ...item }]),
    ...data.promos.map((item): [string, Record<string, unknown>] => [o.PromosTableName, { ...item }]),
    ...data.deliverySlots.map((item): [string, Record<string, unknown>] => [
      o.DeliverySlotsTableName,
      { ...item },
    ]),
  ];
  for (let i = 0; i < writes.length; i += 25) {
    const batch = writes.slice(i, i + 25);
    let request: Record<string, Array<{ PutRequest: { Item: Record<string, unknown> } }>> = {};
    for (const [table, item] of batch) {
      request[table] = [...(request[table] ?? []), { PutRequest: { Item: item } }];
    }
    for (let attempt = 0; Object.keys(request).length > 0; attempt++) {
      if (attempt > 10) throw new Error('BatchWriteItem kept returning unprocessed items');
      const out = await clients.doc.send(new BatchWriteCommand({ RequestItems: request }));
      request = (out.UnprocessedItems ?? {}) as typeof request;
      if (Object.keys(request).length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * A page of the local cloud (`GET <endpoint>/_localcloud/<page>`), or undefined where none answers (AWS,
 * LocalStack).
 */
export async function readLocalCloudPage<T>(
  endpoint: string | undefined,
  page: string,
): Promise<T | undefined> {
  if (!endpoint) return undefined;
  const response = await fetch(`${endpoint}/_localcloud/${page}`, {
    signal: AbortSignal.timeout(10_000),
  }).catch(() => undefined);
  return response?.ok ? ((await response.json()) as T) : undefined;
}

/**
 * The local cloud's Lambda figures (`/_localcloud/lambda`: its concurrency limit and the throttles so
 * far); undefined on AWS and LocalStack, where the `AWS/Lambda` `Throttles` metric counts them.
 */
export function readLambdaStats(target: ChaosTarget): Promise<LambdaStats | undefined> {
  return readLocalCloudPage<LambdaStats>(target.aws.endpoint, 'lambda');
}

/** The states of an execution whose Lambda Task was throttled at least once (`Lambda.TooManyRequestsException`). */
export async function throttledStates(clients: Clients, executionArn: string): Promise<Set<string>> {
  const throttled = new Set<string>();
  let current = '';
  let nextToken: string | undefined;
  do {
    const page = await clients.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }),
    );
    for (const event of page.events ?? []) {
      const entered = event.stateEnteredEventDetails?.name;
      if (entered && event.type?.endsWith('StateEntered')) current = entered;
      const error = event.lambdaFunctionFailedEventDetails?.error ?? event.taskFailedEventDetails?.error;
      if (THROTTLE_ERRORS.some((name) => name === error)) throttled.add(current);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return throttled;
}

/** Executions of the state machine whose name is in `names` (all of them when omitted), with Fail errors. */
export async function readExecutions(
  clients: Clients,
  target: ChaosTarget,
  names?: ReadonlySet<string>,
): Promise<ExecutionObservation[]> {
  const listed: Array<{ name: string; executionArn: string; status: string }> = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: target.outputs.StateMachineArn,
        maxResults: 1000,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const e of page.executions ?? []) {
      if (e.name && e.executionArn && e.status && (!names || names.has(e.name))) {
        listed.push({ name: e.name, executionArn: e.executionArn, status: e.status });
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return mapLimit(listed, 16, async (e) => {
    if (e.status !== 'FAILED') return { name: e.name, status: e.status };
    const described = await clients.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
    return { name: e.name, status: e.status, ...(described.error ? { error: described.error } : {}) };
  });
}

/** Messages on the DLQ (visible + in flight), the way `ApproximateNumberOfMessages*` count them. */
export async function dlqDepth(clients: Clients, target: ChaosTarget): Promise<number> {
  const out = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: target.outputs.DlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

export type PeekedLetter = Pick<DeadLetterMessage, 'orderId' | 'step' | 'error'>;

/**
 * Reads every DLQ message without consuming it: receive with a visibility timeout (so each message is seen
 * once), then make them all visible again. Bodies that are not dead letters are returned with orderId '?'.
 */
export async function peekDeadLetters(clients: Clients, target: ChaosTarget): Promise<PeekedLetter[]> {
  const letters: PeekedLetter[] = [];
  const seen = new Set<string>();
  const receipts: Array<{ Id: string; ReceiptHandle: string }> = [];
  try {
    for (;;) {
      const out = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: target.outputs.DlqUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 60,
          WaitTimeSeconds: 0,
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      for (const m of messages) {
        if (m.ReceiptHandle) receipts.push({ Id: `m${receipts.length}`, ReceiptHandle: m.ReceiptHandle });
        if (!m.MessageId || seen.has(m.MessageId)) continue;
        seen.add(m.MessageId);
        letters.push(parseLetter(m.Body));
      }
    }
  } finally {
    for (let i = 0; i < receipts.length; i += 10) {
      await clients.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: target.outputs.DlqUrl,
          Entries: receipts.slice(i, i + 10).map((r) => ({ ...r, VisibilityTimeout: 0 })),
        }),
      );
    }
  }
  return letters;
}

function parseLetter(body: string | undefined): PeekedLetter {
  try {
    const parsed: unknown = JSON.parse(body ?? '');
    if (typeof parsed === 'object' && parsed !== null) {
      const p = parsed as Record<string, unknown>;
      if (typeof p.orderId === 'string' && typeof p.step === 'string') {
        return {
          orderId: p.orderId,
          step: p.step as DeadLetterMessage['step'],
          error: String(p.error ?? ''),
        };
      }
    }
  } catch {
    // fall through: not a dead letter
  }
  return { orderId: '?', step: 'ReleasePromo', error: `unparseable DLQ body: ${String(body).slice(0, 200)}` };
}

/** Invokes the Redrive function once; returns its decoded payload (or throws with the function error). */
export async function invokeRedrive(clients: Clients, target: ChaosTarget): Promise<unknown> {
  const out = await clients.lambda.send(
    new InvokeCommand({ FunctionName: target.outputs.RedriveFunctionName, Payload: Buffer.from('{}') }),
  );
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  if (out.FunctionError)
    throw new Error(`Redrive function failed: ${out.FunctionError}: ${text.slice(0, 500)}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}
