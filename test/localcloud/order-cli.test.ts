/**
 * The trace CLI (`npm run order`) against a real local cloud: cancel once a step is done, and the three
 * answers to a review (approve, reject, leave it to the deadline). Assertions read the trace a person
 * reads and the exit code.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireOutput } from '../../client/outputs';
import { sdkConfig, sharedCloud } from '../support/localcloud';

const cloud = sharedCloud();
const dir = mkdtempSync(join(tmpdir(), 'stepsaga-order-cli-'));
const outputsFile = join(dir, 'outputs.json');
/** This file's own rich customer (the demo's customer-3 balance), so that other files' orders do not move it. */
const RICH = `order-cli-${Date.now().toString(36)}-customer`;

beforeAll(async () => {
  writeFileSync(outputsFile, JSON.stringify(cloud.outputs));
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(sdkConfig(cloud)));
  await db.send(
    new PutCommand({
      TableName: requireOutput(cloud.outputs, 'AccountsTableName'),
      Item: { customerId: RICH, name: 'Alan (order CLI)', balance: 5_000_000 },
    }),
  );
  db.destroy();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** `npm run order -- <args>` against the test's cloud; resolves with its exit code and output. */
function order(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/order.ts', '--outputs', outputsFile, ...args],
      { env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** An espresso machine for a rich customer: above the review threshold. */
const BIG = ['--customer', RICH, '--sku', 'SKU-2', '--qty', '1'];

describe('npm run order', () => {
  it('--cancel-after ReserveStock cancels once the stock is reserved and traces the unwind: stock and balance unchanged', async () => {
    // Act
    const run = await order(...BIG, '--cancel-after', 'ReserveStock');
    // Assess
    expect(run.stderr).not.toContain('error:');
    expect(run.code).toBe(0);
    expect(run.stdout, run.stdout).toMatch(/✓ ReserveStock .*total 250000/);
    expect(run.stdout).toContain('→ ReserveStock is done: cancelling');
    expect(run.stdout).toMatch(/POST \/orders\/[\w-]+\/cancel → 202 CANCELLING/);
    expect(run.stdout).toMatch(/↩ ReleaseStock .*done/);
    expect(run.stdout).not.toMatch(/✓ ChargePayment/);
    expect(run.stdout).toMatch(/order CANCELLED .*reason CustomerCancelled/);
    expect(run.stdout).toMatch(/after: .*balance 5000000 \(±0\) · SKU-2 stock \d+ \(±0\)/);
  });

  it('--review approve decides once the order is AWAITING_REVIEW: the order is charged and CONFIRMED', async () => {
    // Act
    const run = await order(...BIG, '--review', 'approve', '--note', 'regular customer');
    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('⏸ RequestReview');
    expect(run.stdout).toMatch(/POST \/orders\/[\w-]+\/review → 202 PENDING/);
    expect(run.stdout).toMatch(/✓ RequestReview .*review approved: regular customer/);
    expect(run.stdout).toMatch(/order CONFIRMED · total 250000/);
    expect(run.stdout).toMatch(/after: .*balance 4750000 \(-250000\) · SKU-2 stock \d+ \(-1\)/);
  });

  it('--review reject unwinds at once: CANCELLED with reason ReviewRejected, stock back', async () => {
    // Act
    const run = await order(...BIG, '--review', 'reject');
    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/POST \/orders\/[\w-]+\/review → 202 CANCELLING/);
    expect(run.stdout).toMatch(/✗ RequestReview .*ReviewRejected/);
    expect(run.stdout).toMatch(/↩ ReleaseStock .*done/);
    expect(run.stdout).toMatch(/order CANCELLED .*reason ReviewRejected/);
    expect(run.stdout).toMatch(/after: .*balance \d+ \(±0\) · SKU-2 stock \d+ \(±0\)/);
  });

  it('--review wait leaves the order to its deadline: CANCELLED with reason ReviewTimedOut', async () => {
    // Act (the faults=on stack's review deadline is 20 s)
    const run = await order(...BIG, '--review', 'wait');
    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('→ leaving the review to its deadline');
    expect(run.stdout).toMatch(/⏱ RequestReview .*States\.Timeout/);
    expect(run.stdout).toMatch(/order CANCELLED .*reason ReviewTimedOut/);
    expect(run.stdout).toMatch(/after: .*SKU-2 stock \d+ \(±0\)/);
  }, 90_000);

  it('--review on an order below the threshold says it never waited and exits 1; bad options are usage errors', async () => {
    // Act
    const small = await order('--customer', 'customer-1', '--sku', 'SKU-1', '--review', 'approve');
    const badStep = await order(...BIG, '--cancel-after', 'Shipping');
    const badReview = await order(...BIG, '--review', 'maybe');
    // Assess
    expect(small.code).toBe(1);
    expect(small.stdout).toMatch(/order CONFIRMED/);
    expect(small.stdout).toContain('--review approve: the order never waited for a review');
    expect(badStep.code).toBe(2);
    expect(badStep.stderr).toContain('--cancel-after Shipping: not a step');
    expect(badReview.code).toBe(2);
    expect(badReview.stderr).toContain('--review maybe: one of approve, reject, wait');
  });
});
