/**
 * Demo data loader.
 *
 * Library: `seedTables({ client | outputs, tableNames, data })` writes customers, SKUs, promos and
 * delivery slots (an idempotent overwrite: running it again resets them to the seed values).
 *
 * CLI (`npm run seed -- [--outputs FILE] [--data FILE]`): reads table names (and `Endpoint`, absent = real
 * AWS) from `.stepsaga/outputs.json` (flat keys or the `cdk deploy --outputs-file` nested form) and loads
 * `seed/demo.json`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { awsClientSettings } from '../client/aws';
import { readOutputs } from '../client/outputs';
import type { SeedData, TableId } from '../lib/contract';
import type { SeedReport as EmptyTablesReport, PluginContext } from '../localcloud/plugin';

/** The demo data `npm start` loads (the app config's seed hook). */
export const DEMO_DATA_FILE = resolve(import.meta.dirname, '../seed/demo.json');

const nonNegativeInt = z.number().int().min(0);
const seedSchema = z.strictObject({
  accounts: z.array(
    z.strictObject({ customerId: z.string().min(1), name: z.string(), balance: nonNegativeInt }),
  ),
  inventory: z.array(
    z.strictObject({
      sku: z.string().min(1),
      name: z.string(),
      price: nonNegativeInt,
      stock: nonNegativeInt,
    }),
  ),
  promos: z.array(
    z.strictObject({
      code: z.string().min(1),
      discountPercent: z.number().int().min(0).max(100),
      usesLeft: nonNegativeInt,
    }),
  ),
  deliverySlots: z.array(
    z.strictObject({ slotId: z.string().min(1), capacity: nonNegativeInt, booked: nonNegativeInt }),
  ),
}) satisfies z.ZodType<SeedData>;

/** Validates seed data; the error names every bad field. */
export function parseSeedData(value: unknown, source = 'seed data'): SeedData {
  const parsed = seedSchema.safeParse(value);
  if (!parsed.success) {
    const details = parsed.error.issues
      .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('\n');
    throw new Error(`Invalid ${source}:\n${details}`);
  }
  return parsed.data;
}

export function loadSeedFile(path: string): SeedData {
  return parseSeedData(JSON.parse(readFileSync(path, 'utf8')), path);
}

/** The tables seeded, and where each record list goes. */
const SEEDED: ReadonlyArray<[TableId, keyof SeedData]> = [
  ['Accounts', 'accounts'],
  ['Inventory', 'inventory'],
  ['Promos', 'promos'],
  ['DeliverySlots', 'deliverySlots'],
];

export interface SeedOptions {
  /**
   * A DocumentClient, or the outputs of the target to create one for (its endpoint, region and the
   * standard credential chain, client/aws.ts).
   */
  client?: DynamoDBDocumentClient;
  outputs?: Readonly<Record<string, string>>;
  tableNames: Partial<Record<TableId, string>>;
  data: SeedData;
  /** Seed only these tables (default: all of them). */
  only?: readonly TableId[];
}

export interface SeedReport {
  [table: string]: number;
}

/** Writes the seed data (overwriting items with the same keys). Returns the count per table. */
export async function seedTables(options: SeedOptions): Promise<SeedReport> {
  const data = parseSeedData(options.data);
  const doc =
    options.client ??
    DynamoDBDocumentClient.from(new DynamoDBClient(awsClientSettings(options.outputs ?? {})));
  const report: SeedReport = {};
  try {
    for (const [table, list] of SEEDED) {
      if (options.only && !options.only.includes(table)) continue;
      const tableName = options.tableNames[table];
      if (!tableName) throw new Error(`No table name for ${table}`);
      const items: object[] = data[list];
      for (let i = 0; i < items.length; i += 25) {
        let requests: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> = {
          [tableName]: items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: { ...item } } })),
        };
        for (let attempt = 0; Object.keys(requests).length > 0; attempt++) {
          if (attempt > 8) throw new Error(`DynamoDB kept items of ${tableName} unprocessed`);
          if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          const out = await doc.send(new BatchWriteCommand({ RequestItems: requests }));
          requests = (out.UnprocessedItems ?? {}) as typeof requests;
        }
      }
      report[tableName] = items.length;
    }
  } finally {
    if (!options.client) doc.destroy();
  }
  return report;
}

/**
 * Seeds the tables the outputs name (`<Table>TableName`) that are empty: a table that already holds items
 * (data kept by `--persist`) is left as it is, so a restart never resets balances or stock.
 */
export async function seedEmptyTables(
  ctx: PluginContext,
  dataFile = DEMO_DATA_FILE,
): Promise<EmptyTablesReport> {
  const tableNames: Partial<Record<TableId, string>> = {};
  for (const [table] of SEEDED) {
    const name = ctx.outputs[`${table}TableName`];
    if (name) tableNames[table] = name;
  }
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: ctx.endpoint, region: ctx.region, credentials: ctx.credentials }),
  );
  try {
    const kept: TableId[] = [];
    const empty: TableId[] = [];
    for (const [table, name] of Object.entries(tableNames) as [TableId, string][]) {
      const scan = await client.send(new ScanCommand({ TableName: name, Limit: 1, Select: 'COUNT' }));
      if ((scan.Count ?? 0) > 0 || scan.LastEvaluatedKey !== undefined) kept.push(table);
      else empty.push(table);
    }
    const counts =
      empty.length > 0
        ? await seedTables({ client, tableNames, data: loadSeedFile(dataFile), only: empty })
        : {};
    return { counts, kept };
  } finally {
    client.destroy();
  }
}

/**
 * Reads a CloudFormation outputs file: flat `{ "ApiUrl": ... }` or the nested
 * `cdk deploy --outputs-file` form `{ "OrderSaga-dev": { "ApiUrl": ... } }` (the one parser,
 * client/outputs.ts).
 */
export function readOutputsFile(path: string): Record<string, string> {
  try {
    return readOutputs(path);
  } catch (error) {
    throw new Error(`Cannot read outputs file ${path}: ${(error as Error).message}`);
  }
}

/** `--name value` from argv. */
export function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: readonly string[]): Promise<void> {
  const outputsPath = resolve(argValue(argv, '--outputs') ?? '.stepsaga/outputs.json');
  const dataPath = resolve(argValue(argv, '--data') ?? 'seed/demo.json');
  const outputs = readOutputsFile(outputsPath);
  const tableNames: Partial<Record<TableId, string>> = {};
  for (const [table] of SEEDED) {
    const name = outputs[`${table}TableName`];
    if (!name) throw new Error(`${outputsPath} has no ${table}TableName output`);
    tableNames[table] = name;
  }
  const report = await seedTables({ outputs, tableNames, data: loadSeedFile(dataPath) });
  for (const [table, count] of Object.entries(report)) console.log(`${table}: ${count} item(s)`);
  console.log(`Seeded from ${dataPath} (${outputs.Endpoint ?? 'AWS'})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`seed failed: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
