import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountRecord, PromoRecord } from '../../lib/contract';
import { formatReport } from '../../scripts/redrive';
import { loadSeedFile, parseSeedData, readOutputsFile, seedTables } from '../../scripts/seed';
import { createTables, demoData, getItem, type LocalTables } from '../support/dynamodb-local';

let local: LocalTables;
const dir = mkdtempSync(join(tmpdir(), 'stepsaga-scripts-'));

/** Runs a script through tsx the way `npm run` does; resolves with its exit code and output. */
function runScript(
  script: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, ...args],
      { env: process.env },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

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
      JSON.stringify({ 'OrderSaga-dev': { RedriveFunctionName: 'fn', OrdersTableName: 'orders' } }),
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

describe('npm run seed', () => {
  it('loads seed/demo.json into the tables named in an outputs file', async () => {
    const target = await createTables();
    const outputs = join(dir, 'seed-outputs.json');
    writeFileSync(
      outputs,
      JSON.stringify({
        'OrderSaga-dev': {
          Endpoint: target.endpoint,
          AccountsTableName: target.tables.Accounts,
          InventoryTableName: target.tables.Inventory,
          PromosTableName: target.tables.Promos,
          DeliverySlotsTableName: target.tables.DeliverySlots,
        },
      }),
    );
    const run = await runScript('scripts/seed.ts', ['--outputs', outputs]);
    expect(run.stderr).not.toContain('seed failed');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${target.tables.Inventory}: 3 item(s)`);
    expect((await getItem<PromoRecord>(target, 'Promos', { code: 'WELCOME10' }))?.usesLeft).toBe(3);
  });

  it('fails with a clear message when the outputs file lacks a table', async () => {
    const outputs = join(dir, 'incomplete.json');
    writeFileSync(outputs, JSON.stringify({ AccountsTableName: 'a' }));
    const run = await runScript('scripts/seed.ts', ['--outputs', outputs]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('has no InventoryTableName output');
  });
});

describe('npm run redrive', () => {
  let lambdaApi: Server;
  let endpoint: string;
  const responses = new Map<string, { status: number; headers?: Record<string, string>; body: string }>();

  beforeAll(async () => {
    // A Lambda Invoke endpoint (POST /2015-03-31/functions/<name>/invocations) answering canned payloads.
    lambdaApi = createServer((req, res) => {
      const name = decodeURIComponent(/functions\/([^/]+)\/invocations/.exec(req.url ?? '')?.[1] ?? '');
      const canned = responses.get(name) ?? { status: 404, body: '{"message":"Function not found"}' };
      req.resume();
      req.on('end', () => {
        res.writeHead(canned.status, { 'Content-Type': 'application/json', ...canned.headers });
        res.end(canned.body);
      });
    });
    await new Promise<void>((resolve) => lambdaApi.listen(0, '127.0.0.1', resolve));
    const address = lambdaApi.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => lambdaApi.close(resolve));
  });

  const outputsFor = (functionName: string) => {
    const path = join(dir, `redrive-${functionName}.json`);
    writeFileSync(path, JSON.stringify({ RedriveFunctionName: functionName, Endpoint: endpoint }));
    return path;
  };

  it('prints the report and exits 0 when everything succeeded', async () => {
    responses.set('redrive-ok', {
      status: 200,
      body: JSON.stringify({
        processed: 1,
        succeeded: [{ messageId: 'm1', orderId: 'o-1', step: 'RefundPayment', detail: 'order CANCELLED' }],
        failed: [],
        skipped: [],
        remaining: 0,
      }),
    });
    const run = await runScript('scripts/redrive.ts', ['--outputs', outputsFor('redrive-ok')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1 succeeded, 0 failed');
    expect(run.stdout).toContain('o-1 RefundPayment: order CANCELLED');
  });

  it('exits 1 when a compensation failed again, or when the function itself failed', async () => {
    responses.set('redrive-failing', {
      status: 200,
      body: JSON.stringify({
        processed: 1,
        succeeded: [],
        failed: [{ messageId: 'm2', orderId: 'o-2', step: 'CancelDelivery', detail: 'UnknownSlot: gone' }],
        skipped: [],
        remaining: 1,
      }),
    });
    responses.set('redrive-broken', {
      status: 200,
      headers: { 'X-Amz-Function-Error': 'Unhandled' },
      body: JSON.stringify({
        errorType: 'ConfigurationError',
        errorMessage: 'Environment variable DLQ_URL is not set',
      }),
    });
    const failing = await runScript('scripts/redrive.ts', ['--outputs', outputsFor('redrive-failing')]);
    const broken = await runScript('scripts/redrive.ts', ['--outputs', outputsFor('redrive-broken')]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('o-2 CancelDelivery: UnknownSlot: gone');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('DLQ_URL is not set');
  });
});
