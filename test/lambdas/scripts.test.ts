import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AccountRecord, PromoRecord } from '../../lib/contract';
import { formatReport } from '../../scripts/redrive';
import { loadSeedFile, parseSeedData, readOutputsFile, seedTables } from '../../scripts/seed';
import { createTables, demoData, getItem, type LocalTables } from '../support/dynamodb-local';

let local: LocalTables;
const dir = mkdtempSync(join(tmpdir(), 'stepsaga-scripts-'));

beforeAll(async () => {
  local = await createTables();
});

describe('seed', () => {
  it('seed/demo.json is valid and has the data the demo scenarios need', () => {
    const data = loadSeedFile('seed/demo.json');
    expect(data.accounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ customerId: 'customer-1', balance: 100000 }),
        expect.objectContaining({ customerId: 'customer-2', balance: 1000 }),
      ]),
    );
    expect(data.inventory).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sku: 'SKU-1', price: 1500, stock: 100 }),
        expect.objectContaining({ sku: 'SKU-2', price: 250000, stock: 5 }),
      ]),
    );
    expect(data.promos).toEqual(
      expect.arrayContaining([
        { code: 'WELCOME10', discountPercent: 10, usesLeft: 3 },
        expect.objectContaining({ code: 'EXPIRED', usesLeft: 0 }),
      ]),
    );
    expect(data.deliverySlots).toEqual(
      expect.arrayContaining([expect.objectContaining({ slotId: '2026-12-01T10', capacity: 50 })]),
    );
  });

  it('loads the demo data, and running it again resets changed items (idempotent overwrite)', async () => {
    const report = await seedTables({ client: local.doc, tableNames: local.tables, data: demoData() });
    await seedTables({
      client: local.doc,
      tableNames: local.tables,
      data: { ...demoData(), accounts: [{ customerId: 'customer-1', name: 'Ada', balance: 1 }] },
    });
    await seedTables({ client: local.doc, tableNames: local.tables, data: demoData() });
    expect(report[local.tables.Accounts]).toBe(3);
    expect((await getItem<AccountRecord>(local, 'Accounts', { customerId: 'customer-1' }))?.balance).toBe(
      100000,
    );
    expect((await getItem<PromoRecord>(local, 'Promos', { code: 'WELCOME10' }))?.usesLeft).toBe(3);
  });

  it('rejects invalid seed data naming each bad field', () => {
    const bad = { ...demoData(), inventory: [{ sku: 'X', name: 'x', price: -1, stock: 1.5 }], extra: [] };
    expect(() => parseSeedData(bad, 'bad.json')).toThrow(
      /bad\.json[\s\S]*inventory\.0\.price[\s\S]*inventory\.0\.stock/,
    );
    expect(() => parseSeedData(bad)).toThrow(/extra/);
  });
});

describe('outputs files', () => {
  it('reads flat and cdk --outputs-file nested forms', () => {
    const flat = join(dir, 'flat.json');
    const nested = join(dir, 'nested.json');
    writeFileSync(flat, JSON.stringify({ RedriveFunctionName: 'fn', Endpoint: 'http://127.0.0.1:4566' }));
    writeFileSync(
      nested,
      JSON.stringify({ OrderSaga: { RedriveFunctionName: 'fn', OrdersTableName: 'orders' } }),
    );
    expect(readOutputsFile(flat)).toEqual({ RedriveFunctionName: 'fn', Endpoint: 'http://127.0.0.1:4566' });
    expect(readOutputsFile(nested)).toEqual({ RedriveFunctionName: 'fn', OrdersTableName: 'orders' });
    expect(() => readOutputsFile(join(dir, 'missing.json'))).toThrow(/Cannot read outputs file/);
  });
});

describe('redrive report', () => {
  it('prints what succeeded, failed and was skipped', () => {
    const text = formatReport({
      processed: 3,
      succeeded: [{ messageId: 'm1', orderId: 'o-1', step: 'RefundPayment', detail: 'order CANCELLED' }],
      failed: [{ messageId: 'm2', orderId: 'o-2', step: 'CancelDelivery', detail: 'UnknownSlot: gone' }],
      skipped: [{ messageId: 'm3', orderId: 'o-3', step: 'ReleaseStock', detail: 'order is still PENDING' }],
      remaining: 2,
    });
    expect(text).toContain('3 message(s) processed, 1 succeeded, 1 failed, 1 skipped, 2 left on the DLQ');
    expect(text).toContain('o-1 RefundPayment: order CANCELLED');
    expect(text).toContain('o-2 CancelDelivery: UnknownSlot: gone');
  });
});
