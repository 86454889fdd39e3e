/**
 * Helpers for tests against the DynamoDB Local started by `dynamodb-local.global.ts`: the contract tables
 * under a unique prefix per test file, seed data, and plain reads of what a test needs to assert.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import type { TableNames } from '../../lambdas/shared/config';
import type { SeedData } from '../../lib/contract';
import { TABLES, type TableId } from '../../lib/contract';
import { seedTables } from '../../scripts/seed';
import demo from '../../seed/demo.json';

export interface LocalTables {
  endpoint: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  /** Table-name env vars (contract `TABLES[*].env`) for handlers under test. */
  env: Record<string, string>;
}

export function localClient(endpoint: string = inject('dynamodbEndpoint')): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

function tableDefinition(id: TableId, name: string): CreateTableCommandInput {
  const def = TABLES[id];
  const sortKey = 'sortKey' in def ? def.sortKey : undefined;
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: def.partitionKey, AttributeType: 'S' },
      ...(sortKey ? [{ AttributeName: sortKey, AttributeType: 'S' as const }] : []),
    ],
    KeySchema: [
      { AttributeName: def.partitionKey, KeyType: 'HASH' },
      ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
    ],
  };
}

/** Creates every contract table under a fresh prefix (so test files never see each other's data). */
export async function createTables(prefix = `t${randomUUID().slice(0, 8)}`): Promise<LocalTables> {
  const endpoint = inject('dynamodbEndpoint');
  const client = localClient(endpoint);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const tables = Object.fromEntries(
    (Object.keys(TABLES) as TableId[]).map((id) => [id, `${prefix}-${id}`]),
  ) as TableNames;
  await Promise.all(
    (Object.keys(TABLES) as TableId[]).map(async (id) => {
      await client.send(new CreateTableCommand(tableDefinition(id, tables[id])));
      const ttl = TABLES[id] as { ttl?: string };
      if (ttl.ttl) {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: tables[id],
            TimeToLiveSpecification: { AttributeName: ttl.ttl, Enabled: true },
          }),
        );
      }
    }),
  );
  const env = Object.fromEntries(
    (Object.keys(TABLES) as TableId[]).map((id) => [TABLES[id].env, tables[id]]),
  );
  return { endpoint, client, doc, tables, env };
}

/** The demo data from `seed/demo.json` (a fresh copy each call). */
export function demoData(): SeedData {
  return structuredClone(demo) as SeedData;
}

/** Loads seed data (the demo data by default) into the tables. */
export async function loadSeed(local: LocalTables, data: SeedData = demoData()): Promise<void> {
  await seedTables({ client: local.doc, tableNames: local.tables, data });
}

export async function getItem<T = Record<string, unknown>>(
  local: LocalTables,
  table: TableId,
  key: Record<string, string>,
): Promise<T | undefined> {
  const out = await local.doc.send(
    new GetCommand({ TableName: local.tables[table], Key: key, ConsistentRead: true }),
  );
  return out.Item as T | undefined;
}

export async function putItem(
  local: LocalTables,
  table: TableId,
  item: Record<string, unknown>,
): Promise<void> {
  await local.doc.send(new PutCommand({ TableName: local.tables[table], Item: item }));
}

export async function idempotencyRecords(
  local: LocalTables,
  orderId: string,
): Promise<Record<string, unknown>[]> {
  const out = await local.doc.send(
    new QueryCommand({
      TableName: local.tables.IdempotencyKeys,
      KeyConditionExpression: 'orderId = :o',
      ExpressionAttributeValues: { ':o': orderId },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

/** A unique order id for one test. */
export function newOrderId(label = 'order'): string {
  return `${label}-${randomUUID().slice(0, 12)}`;
}
