/** Loads the demo data (`seed/demo.json`) into the deployed tables, through the edge like any client. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLES, type TableId } from '../../lib/contract';
import { loadSeedFile, seedTables } from '../../scripts/seed';
import { LOCAL_REGION } from '../types';

export const DEMO_DATA_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../seed/demo.json',
);

/** What seeding did: items written per table, and the tables left alone because they held data. */
export interface SeedReport {
  counts: Record<string, number>;
  /** Tables that already had items (a `--persist`ed directory): never overwritten. */
  kept: TableId[];
}

/**
 * Seeds the tables the outputs name (`<Table>TableName`) that are empty: a table that already holds items
 * (data kept by `--persist`) is left as it is, so a restart never resets balances or stock.
 */
export async function seedDemoData(
  endpoint: string,
  outputs: Record<string, string>,
  dataFile = DEMO_DATA_FILE,
): Promise<SeedReport> {
  const tableNames: Partial<Record<TableId, string>> = {};
  for (const table of Object.keys(TABLES) as TableId[]) {
    const name = outputs[`${table}TableName`];
    if (name) tableNames[table] = name;
  }
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'localcloud', secretAccessKey: 'localcloud' },
    }),
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
