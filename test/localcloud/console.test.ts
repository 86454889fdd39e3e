/**
 * The console in a real browser (Debian's chromium driven by playwright-core) against a real local
 * cloud: the classic demos are started from the page, and the assertions read what a person reads
 * (status text, aria attributes), never pixels. Screenshots are kept under test-results/console/.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransferDriver } from '../../client/transfer';
import { sdkConfig, sharedCloud } from '../support/localcloud';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve('test-results/console');
const README_SHOT = path.resolve('docs/images/console-compensated.png');

const cloud = sharedCloud();
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: apt-get update && apt-get install -y chromium (.ci/run does this)`,
    );
  mkdirSync(SHOTS, { recursive: true });
  profile = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-chromium-'));
  // A fresh profile per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function openConsole(width = 1280, height = 800): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height });
  await page.goto(`${cloud.endpoint}/_console/`);
  await page.getByRole('button', { name: 'Start order' }).waitFor();
  return page;
}

/** Loads a preset and starts the order (the two clicks), then waits for the execution to end. */
async function runPreset(page: Page, preset: string): Promise<string> {
  await page.getByRole('button', { name: preset, exact: true }).click();
  await page.getByRole('button', { name: 'Start order' }).click();
  await expect
    .poll(() => page.locator('#execution-title').textContent(), { timeout: 20_000 })
    .toMatch(/order-/);
  const title = (await page.locator('#execution-title').textContent()) ?? '';
  await expect
    .poll(() => page.locator('#execution-summary .badge').first().textContent(), { timeout: 60_000 })
    .toMatch(/SUCCEEDED|FAILED|TIMED_OUT|ABORTED/);
  return title.replace('Execution ', '');
}

/** Starts the "Needs review" preset and waits until the page offers Approve/Reject; returns the order id. */
async function startWaitingForReview(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Needs review', exact: true }).click();
  await page.getByRole('button', { name: 'Start order' }).click();
  await page.getByRole('button', { name: 'Approve', exact: true }).waitFor({ timeout: 20_000 });
  expect(await page.locator('#order-actions .badge').textContent()).toBe('AWAITING_REVIEW');
  expect(await page.getByRole('button', { name: 'Reject', exact: true }).count()).toBe(1);
  const title = (await page.locator('#execution-title').textContent()) ?? '';
  return title.replace('Execution ', '');
}

const stateStatus = (page: Page, name: string) =>
  page.locator(`#graph [data-state="${name}"]`).getAttribute('data-status');

describe('console (chromium)', () => {
  it('selects the transfer saga: its graph, no order form, and a transfer started elsewhere in its list', async () => {
    const page = await openConsole();
    await page.getByRole('combobox', { name: 'Saga' }).selectOption('transfer');
    await page.waitForURL(/[?]saga=transfer/);
    await page.locator('#graph [data-state="Debit"]').waitFor();
    expect(await page.locator('#start-panel').isHidden()).toBe(true);
    const driver = new TransferDriver(sdkConfig(cloud), cloud.outputs);
    const transferId = `console-${Date.now().toString(36)}`;
    try {
      expect((await driver.run({ transferId, from: 'acct-alice', to: 'acct-bob', amount: 1 })).status).toBe(
        'SUCCEEDED',
      );
    } finally {
      driver.close();
    }
    await expect
      .poll(() => page.locator('#executions').textContent(), { timeout: 20_000 })
      .toContain(transferId);
    await page.close();
  });

  it('shows "fail at ChargePayment": stock reserved then released, payment caught, confirmation never reached', async () => {
    // Prepare
    const page = await openConsole();
    // Act
    const orderId = await runPreset(page, 'Fail at ChargePayment');
    // Assess
    expect(await page.locator('#execution-summary .badge').first().textContent()).toBe('FAILED');
    expect(await stateStatus(page, 'ReserveStock')).toBe('succeeded');
    expect(await stateStatus(page, 'ChargePayment')).toMatch(/caught|failed/);
    expect(await stateStatus(page, 'ReleaseStock')).toBe('succeeded');
    expect(await stateStatus(page, 'ConfirmOrder')).toBe('not-reached');
    expect(await page.locator('#graph [data-state="ChargePayment"]').getAttribute('aria-label')).toContain(
      'Caught',
    );
    expect(await page.locator('#graph [data-state="ConfirmOrder"]').getAttribute('aria-label')).toContain(
      'Not reached',
    );
    // the execution appears in the list without a reload
    await expect.poll(() => page.locator('#executions').textContent()).toContain(orderId);
    // keyboard: focus the failed step, press Enter, read its error
    await page.locator('#graph [data-state="ChargePayment"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#state-detail').textContent()).toContain('InjectedFailure');
    expect(await page.locator('#history').textContent()).toContain('ExecutionFailed');
    await page.screenshot({ path: path.join(SHOTS, 'fail-at-charge-payment.png'), fullPage: true });
    await page.close();
  });

  it('parks a failed compensation in the DLQ and redrives it from the page until the order is CANCELLED', async () => {
    // Prepare
    const page = await openConsole();
    // Act
    const orderId = await runPreset(page, 'Compensation fails');
    // Assess: the unwind went on past the failed compensation, which is in the DLQ
    expect(await stateStatus(page, 'RefundPayment')).toBe('caught');
    expect(await stateStatus(page, 'RefundPaymentToDLQ')).toBe('succeeded');
    expect(await stateStatus(page, 'ReleaseStock')).toBe('succeeded');
    const dlqRow = page.locator('#dlq tr', { hasText: orderId });
    await expect.poll(() => dlqRow.count(), { timeout: 15_000 }).toBe(1);
    expect(await dlqRow.textContent()).toContain('RefundPayment');
    await expect
      .poll(() => page.locator(`#data [data-order="${orderId}"]`).locator('..').textContent(), {
        timeout: 15_000,
      })
      .toContain('NEEDS_ATTENTION');
    await page.locator('#graph [data-state="RefundPayment"]').click();
    // the whole graph fits the panel at 1280×800, readable (not shrunk below 70 %)
    await page.getByRole('button', { name: 'Fit' }).click();
    const zoom = Number.parseInt((await page.locator('#zoom-level').textContent()) ?? '0', 10);
    expect(zoom).toBeGreaterThanOrEqual(70);
    // the Catch hop out of the failed compensation is drawn taken, the forward edges not taken faded
    expect(
      await page.locator('#graph [data-edge="RefundPayment->RefundPaymentToDLQ#0"]').getAttribute('class'),
    ).toContain('taken');
    expect(
      await page.locator('#graph [data-edge^="ChargePayment->BookDelivery"]').getAttribute('class'),
    ).toContain('untaken');
    await page.screenshot({ path: path.join(SHOTS, 'compensation-failed.png'), fullPage: true });
    // The README's picture: what a person sees at 1280×800.
    await page.screenshot({ path: path.join(SHOTS, 'compensation-failed-viewport.png') });
    if (process.env.STEPSAGA_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(path.dirname(README_SHOT), { recursive: true });
      copyFileSync(path.join(SHOTS, 'compensation-failed-viewport.png'), README_SHOT);
    }

    // Act: redrive
    await page.getByRole('button', { name: 'Redrive' }).click();
    // Assess
    await expect
      .poll(() => page.locator('#redrive-report').textContent(), { timeout: 30_000 })
      .toMatch(/Redrive report/);
    await expect.poll(() => dlqRow.count(), { timeout: 15_000 }).toBe(0);
    await expect
      .poll(() => page.locator(`#data [data-order="${orderId}"]`).locator('..').textContent(), {
        timeout: 15_000,
      })
      .toContain('CANCELLED');
    await page.screenshot({ path: path.join(SHOTS, 'after-redrive.png'), fullPage: true });
    await page.close();
  });

  it('approves an order waiting for review from the page: the filter finds it AWAITING_REVIEW, then it is CONFIRMED', async () => {
    // Prepare: an order above the review threshold waits for a reviewer
    const page = await openConsole();
    const orderId = await startWaitingForReview(page);
    await page.getByLabel('Filter orders by status').selectOption('AWAITING_REVIEW');
    await expect
      .poll(() => page.locator(`#data [data-order="${orderId}"]`).count(), { timeout: 15_000 })
      .toBe(1);
    // Act
    await page.getByLabel('Review note').fill('known customer');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    // Assess: the saga goes on to the end; the buttons are gone once the order has its outcome
    await expect
      .poll(() => page.locator('#execution-summary .badge').first().textContent(), { timeout: 30_000 })
      .toBe('SUCCEEDED');
    expect(await stateStatus(page, 'RequestReview')).toBe('succeeded');
    expect(await stateStatus(page, 'ConfirmOrder')).toBe('succeeded');
    await expect.poll(() => page.locator('#order-actions .badge').textContent()).toBe('CONFIRMED');
    expect(await page.locator('#order-actions button').count()).toBe(0);
    await expect
      .poll(() => page.locator(`#data [data-order="${orderId}"]`).count(), { timeout: 15_000 })
      .toBe(0);
    await page.getByLabel('Filter orders by status').selectOption('CONFIRMED');
    await expect
      .poll(() => page.locator(`#data [data-order="${orderId}"]`).count(), { timeout: 15_000 })
      .toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'review-approved.png'), fullPage: true });
    await page.close();
  });

  it.each([
    ['Cancel', 'CustomerCancelled', undefined, 'cancelled.png'],
    ['Reject', 'ReviewRejected', 'address does not match', 'review-rejected.png'],
  ] as const)(
    '%s on an order waiting for review, from the page: the wait ends at once, the stock comes back, nothing is charged, the order is CANCELLED (%s)',
    async (button, reason, note, shot) => {
      // Prepare
      const page = await openConsole();
      const orderId = await startWaitingForReview(page);
      // Act
      if (note) await page.getByLabel('Review note').fill(note);
      await page.getByRole('button', { name: button, exact: true }).click();
      // Assess: the review wait is woken (not left to its deadline) and the unwind runs at once
      await expect
        .poll(() => page.locator('#execution-summary .badge').first().textContent(), { timeout: 15_000 })
        .toBe('FAILED');
      expect(await stateStatus(page, 'RequestReview')).toMatch(/caught|failed/);
      expect(await stateStatus(page, 'ReleaseStock')).toBe('succeeded');
      expect(await stateStatus(page, 'ChargePayment')).toBe('not-reached');
      await expect.poll(() => page.locator('#order-actions .badge').textContent()).toBe('CANCELLED');
      expect(await page.locator('#order-actions').textContent()).toContain(reason);
      expect(await page.locator('#order-actions button').count()).toBe(0);
      await expect
        .poll(() => page.locator(`#data [data-order="${orderId}"]`).locator('..').textContent(), {
          timeout: 15_000,
        })
        .toContain(reason);
      await page.screenshot({ path: path.join(SHOTS, shot), fullPage: true });
      await page.close();
    },
  );

  it('resumes an order whose execution an operator stopped: Resume redrives it, the review is asked again and approving it confirms the order', async () => {
    // Prepare: an order waits for its review, and an operator stops its execution (StopExecution)
    const page = await openConsole();
    const orderId = await startWaitingForReview(page);
    const sfn = new SFNClient(sdkConfig(cloud));
    const executionArn = `${String(cloud.outputs.StateMachineArn).replace(':stateMachine:', ':execution:')}:${orderId}`;
    try {
      await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'console test' }));
      await expect
        .poll(() => page.locator('#execution-summary .badge').first().textContent(), { timeout: 15_000 })
        .toBe('ABORTED');
      await page.getByRole('button', { name: 'Resume', exact: true }).waitFor({ timeout: 15_000 });
      expect(await page.locator('#order-actions .badge').textContent()).toBe('AWAITING_REVIEW');
      expect(await page.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(1);
      // Act
      await page.getByRole('button', { name: 'Resume', exact: true }).click();
      // Assess: the page says what was done; the execution runs again and asks for the review again
      await expect
        .poll(() => page.locator('#order-action-result').textContent(), { timeout: 15_000 })
        .toBe(`resume: ${orderId} is AWAITING_REVIEW (redriven).`);
      expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).not.toBe('ABORTED');
      // The redriven review has its new token once its invoke answered (TaskSubmitted after the redrive);
      // an approval before that would carry the stopped wait's token.
      await expect
        .poll(
          async () => {
            const { events = [] } = await sfn.send(
              new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 50 }),
            );
            const submitted = events.findIndex((e) => e.type === 'TaskSubmitted');
            const redriven = events.findIndex((e) => e.type === 'ExecutionRedriven');
            return submitted !== -1 && submitted < redriven;
          },
          { timeout: 20_000 },
        )
        .toBe(true);
      // The page refreshes the order's links on its own: Resume goes, Approve stays.
      await expect
        .poll(() => page.getByRole('button', { name: 'Resume', exact: true }).count(), { timeout: 15_000 })
        .toBe(0);
      await page.getByRole('button', { name: 'Approve', exact: true }).click();
      await expect
        .poll(() => page.locator('#execution-summary .badge').first().textContent(), { timeout: 30_000 })
        .toBe('SUCCEEDED');
      await expect.poll(() => page.locator('#order-actions .badge').textContent()).toBe('CONFIRMED');
      expect(await page.locator('#order-actions button').count()).toBe(0);
      await page.screenshot({ path: path.join(SHOTS, 'resumed.png'), fullPage: true });
    } finally {
      sfn.destroy();
      await page.close();
    }
  });

  it('stays usable on a narrow window: the graph and the form fit the width', async () => {
    // Prepare
    const page = await openConsole(420, 900);
    // Act
    await page.locator('#graph svg').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    // Assess
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.locator('#graph [data-state]').count()).toBeGreaterThan(10);
    await page.screenshot({ path: path.join(SHOTS, 'narrow.png'), fullPage: true });
    await page.close();
  });
});
