/** Loads the demo data (`seed/demo.json`) into the deployed tables, through the edge like any client. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLES, type TableId } from '../../lib/contract';
import { loadSeedFile, seedTables } from '../../scripts/seed';
import { LOCAL_REGION } from '../types';

export const DEMO_DATA_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../seed/demo.json',
);

/** Seeds every table the outputs name (`<Table>TableName`); returns the item count per table. */
export async function seedDemoData(
  endpoint: string,
  outputs: Record<string, string>,
  dataFile = DEMO_DATA_FILE,
): Promise<Record<string, number>> {
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
    return await seedTables({ client, tableNames, data: loadSeedFile(dataFile) });
  } finally {
    client.destroy();
  }
}
