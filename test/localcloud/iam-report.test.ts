/**
 * The minimal-privilege report, proven on a run: a local cloud with IAM enforcement on runs a
 * representative set of sagas through the API — every step and every compensation, the review (approve,
 * reject), a cancel landing in a step's Retry backoff (stop + redrive), the resume of an aborted execution
 * and of two NEEDS_ATTENTION orders (the Redrive function over the DLQ) — 11 order scenarios, 12 orders —
 * and 4 transfer scenarios, 5 money transfers (both steps, both compensations, dead letters replayed by
 * the transfer's Redrive function). The report built from its decisions must find every grant of every
 * role exercised, or justified in scripts/iam-allow-list.json, and no denial. A grant the stack no longer needs (or a new path the saga takes without a grant) fails
 * here with the report's own text.
 *
 * Real Retry intervals (retryScale 1), as in test/e2e/lifecycle.test.ts: a cancel must land in a backoff.
 * Synchronisation is by polling what a user sees (the order, the execution history), never by sleeping.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetExecutionHistoryCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../../client/api';
import { TransferDriver } from '../../client/transfer';
import type { OrderSagaInput } from '../../lib/contract';
import type { TransferInput } from '../../lib/transfer-contract';
import type { LocalCloud } from '../../localcloud/cloud';
import { type DecisionRecord, grantsOf } from '../../localcloud/iam/enforcer';
import {
  allowListEntryOf,
  buildReport,
  formatReport,
  type RoleReport,
  readAllowList,
} from '../../scripts/iam-report';
import { startTestCloud } from '../support/localcloud';
import { untilExecutionEnds, untilStepFailedOnce } from '../support/waiting';
import { settled, untilOrder } from '../support/world';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let cloud: LocalCloud;
let api: ApiClient;
let sfn: SFNClient;
let lambda: LambdaClient;
const decisions: DecisionRecord[] = [];
let reports: RoleReport[];

type Order = Record<string, unknown>;
const awaitingReview = (o: Order) => o.status === 'AWAITING_REVIEW';
const resumable = (o: Order) => typeof (o.links as Order | undefined)?.resume === 'string';
let counter = 0;

/** Demo data (seed/demo.json): customer-3 can pay for SKU-2 (250000, over the review threshold). */
function order(overrides: Partial<OrderSagaInput> = {}): OrderSagaInput {
  return {
    orderId: `iam-${Date.now().toString(36)}-${++counter}`,
    customerId: 'customer-1',
    items: [{ sku: 'SKU-1', quantity: 1 }],
    deliverySlot: '2026-12-02T10',
    ...overrides,
  };
}
const big = () => order({ customerId: 'customer-3', items: [{ sku: 'SKU-2', quantity: 1 }] });

async function place(input: OrderSagaInput): Promise<string> {
  const response = await api.post<{ executionArn?: string }>('orders', input);
  expect(response.status, response.text).toBe(202);
  return String(response.body.executionArn);
}

async function post(orderId: string, action: string, body: unknown = {}): Promise<Order> {
  const response = await api.post<Order>(`orders/${encodeURIComponent(orderId)}/${action}`, body);
  expect(response.status, `${action} ${orderId}: ${response.text}`).toBe(202);
  return response.body;
}

const until = (orderId: string, done: (o: Order) => boolean) => untilOrder(api, orderId, done, 150_000);

const scenarios: Record<string, () => Promise<Order>> = {
  /** Every forward step, with a promo. */
  async confirmed() {
    const input = order({ promoCode: 'WELCOME10' });
    await place(input);
    const final = await until(input.orderId, settled);
    const history = await api.get(`orders/${input.orderId}/history`);
    expect(history.status, history.text).toBe(200);
    return final;
  },
  /** A step's business refusal: its own compensation runs first and tombstones it (PutItem). */
  async expiredPromo() {
    const input = order({ promoCode: 'EXPIRED' });
    await place(input);
    return until(input.orderId, settled);
  },
  async stockShort() {
    const input = order({ promoCode: 'WELCOME10', items: [{ sku: 'SKU-1', quantity: 999 }] });
    await place(input);
    return until(input.orderId, settled);
  },
  async cannotPay() {
    const input = order({ customerId: 'customer-2' });
    await place(input);
    return until(input.orderId, settled);
  },
  /** The pivot fails: every compensation runs (RejectOrder tombstones), RecordFailure records it. */
  async unwound() {
    const input = order({ promoCode: 'HALFOFF', faults: { ConfirmOrder: 'fail' } });
    await place(input);
    return until(input.orderId, settled);
  },
  async reviewApproved() {
    const input = big();
    await place(input);
    await until(input.orderId, awaitingReview);
    await post(input.orderId, 'review', { decision: 'approve' });
    return until(input.orderId, settled);
  },
  async reviewRejected() {
    const input = big();
    await place(input);
    await until(input.orderId, awaitingReview);
    await post(input.orderId, 'review', { decision: 'reject' });
    return until(input.orderId, settled);
  },
  /** A cancel while ChargePayment waits out its Retry backoff: the Api stops and redrives the execution. */
  async cancelledInBackoff() {
    const input = order({ faults: { ChargePayment: 'transient:3' } });
    const executionArn = await place(input);
    await untilStepFailedOnce(
      async (arn) =>
        (await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 }))).events ??
        [],
      executionArn,
      'ChargePayment',
    );
    await post(input.orderId, 'cancel');
    return until(input.orderId, settled);
  },
  /** An operator stopped the execution during its review; resume redrives it. */
  async resumedAborted() {
    const input = big();
    const executionArn = await place(input);
    await until(input.orderId, awaitingReview);
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'iam-report test' }));
    await until(input.orderId, resumable);
    await post(input.orderId, 'resume');
    await until(input.orderId, awaitingReview);
    await post(input.orderId, 'review', { decision: 'approve' });
    return until(input.orderId, settled);
  },
  /**
   * Orders whose compensations (or the pivot guard) keep failing end NEEDS_ATTENTION with dead letters;
   * resuming each invokes the Redrive function, which replays that order's letters (every compensation
   * between them) and hands the other order's back to the queue.
   */
  async resumedDeadLetters() {
    const inputs = [
      order({
        promoCode: 'HALFOFF',
        faults: {
          BookDelivery: 'fail',
          CancelDelivery: 'fail',
          RefundPayment: 'fail',
          ReleaseStock: 'fail',
          ReleasePromo: 'fail',
        },
      }),
      order({ faults: { ConfirmOrder: 'fail', RejectOrder: 'fail' } }),
    ];
    for (const input of inputs) await place(input);
    for (const input of inputs) await until(input.orderId, resumable);
    const finals: Order[] = [];
    for (const input of inputs) {
      await post(input.orderId, 'resume');
      finals.push(await until(input.orderId, settled));
    }
    return { status: finals.map((o) => o.status).join(',') };
  },
  /**
   * RecordFailure keeps failing: the outcome is never written (the order stays PENDING, nothing for the
   * API to resume) and its letter waits for the operator's redrive (`npm run redrive`: an Invoke of the
   * Redrive function), which records the failure.
   */
  async redrivenRecordFailure() {
    const input = order({ faults: { ChargePayment: 'fail', RecordFailure: 'fail' } });
    const executionArn = await place(input);
    await untilExecutionEnds(sfn, executionArn, { timeoutMs: 150_000 });
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: String(cloud.outputs.RedriveFunctionName),
        Payload: new TextEncoder().encode(JSON.stringify({ orderId: input.orderId })),
      }),
    );
    expect(out.FunctionError, new TextDecoder().decode(out.Payload)).toBeUndefined();
    return until(input.orderId, settled);
  },
  /** The transfer saga (demo accounts): both steps. */
  transferred: () => transfer({ from: 'acct-alice', to: 'acct-bob' }),
  /** Debit refused (acct-carol holds 0): CreditBack tombstones it (PutItem). */
  transferRefused: () => transfer({ from: 'acct-carol', to: 'acct-alice' }),
  /** Credit committed, then crashed: DebitBack and CreditBack reverse both (UpdateItem). */
  transferUnwound: () =>
    transfer({ from: 'acct-alice', to: 'acct-bob', faults: { Credit: 'crash-after-commit' } }),
  /**
   * Two transfers whose Credit fails and whose compensations keep failing: both dead-lettered. The
   * transfer Redrive function replays the first one's (handing the second one's back), then the rest.
   */
  transfersRedriven: async () => {
    const faults = { Credit: 'fail', DebitBack: 'fail', CreditBack: 'fail' } as const;
    const [first, second] = [transferId(), transferId()];
    await Promise.all(
      [first, second].map((id) => transfer({ from: 'acct-alice', to: 'acct-bob', faults }, id)),
    );
    return transferDriver(async (driver) => {
      const one = await driver.redrive(first);
      const rest = await driver.redrive();
      return { status: `${one.succeeded.length} then ${rest.succeeded.length} replayed` };
    });
  },
};
const transferId = () => `iam-${Date.now().toString(36)}-${++counter}`;
async function transferDriver<T>(use: (driver: TransferDriver) => Promise<T>): Promise<T> {
  const driver = new TransferDriver(
    { endpoint: cloud.endpoint, region: 'us-east-1', credentials },
    cloud.outputs,
  );
  try {
    return await use(driver);
  } finally {
    driver.close();
  }
}
function transfer(input: Omit<TransferInput, 'transferId' | 'amount'>, id = transferId()): Promise<Order> {
  return transferDriver((driver) => driver.run({ transferId: id, amount: 100, ...input }));
}
const EXPECTED: Record<keyof typeof scenarios, string> = {
  confirmed: 'CONFIRMED',
  expiredPromo: 'CANCELLED',
  stockShort: 'CANCELLED',
  cannotPay: 'CANCELLED',
  unwound: 'CANCELLED',
  reviewApproved: 'CONFIRMED',
  reviewRejected: 'CANCELLED',
  cancelledInBackoff: 'CANCELLED',
  resumedAborted: 'CONFIRMED',
  resumedDeadLetters: 'CANCELLED,CANCELLED',
  redrivenRecordFailure: 'CANCELLED',
  transferred: 'SUCCEEDED',
  transferRefused: 'FAILED',
  transferUnwound: 'FAILED',
  transfersRedriven: '2 then 2 replayed',
};
const outcomes: Record<string, string> = {};

beforeAll(async () => {
  cloud = await startTestCloud({ seed: true, retryScale: 1, iam: true });
  cloud.iam.onDecision((record) => decisions.push(record));
  api = createApiClient({ apiUrl: cloud.apiUrl as string, region: 'us-east-1', credentials });
  sfn = new SFNClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials });
  lambda = new LambdaClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials });
  // Three at a time: enough overlap to keep the run short, little enough that a loaded 2-core machine
  // does not push a step past its Lambda timeout.
  const queue = Object.entries(scenarios);
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [name, run] = next;
        outcomes[name] = String((await run()).status);
      }
    }),
  );
  reports = buildReport([...cloud.iam.listRoles().map(grantsOf), ...decisions]);
  process.stdout.write(`${formatReport(reports)}\n`);
}, 600_000);

afterAll(async () => {
  sfn?.destroy();
  lambda?.destroy();
  await cloud?.close();
});

describe('the minimal-privilege report over a representative run', () => {
  it('ran every scenario to the outcome a real deployment gives', () => {
    expect(outcomes).toEqual(EXPECTED);
  });

  it('finds every grant of every role exercised, or justified in the allow-list', () => {
    expect(reports.map((r) => r.logicalId)).toEqual(
      expect.arrayContaining(['ApiFunctionRoleF04A0202', 'SagaStateMachineRoleE2963104']),
    );
    const unexercised = reports.flatMap((r) =>
      r.unexercised.map((u) => `${r.logicalId}: ${u.action} on ${u.resource}`),
    );
    expect(unexercised, formatReport(reports)).toEqual([]);
  });

  it('logs no denial: the roles are enough', () => {
    const denied = reports.flatMap((r) =>
      r.denials.map((d) => `${r.logicalId}: ${d.action} on ${d.resource} (${d.decision} ×${d.count})`),
    );
    expect(denied, formatReport(reports)).toEqual([]);
  });

  it('keeps no stale allow-list entry: each one covers a grant of the stack', () => {
    // An entry may cover a grant this run happens to exercise (the allow-list serves the e2e suite's
    // report too, `npm run iam-report`); one that covers no grant at all justifies nothing.
    const allowList = readAllowList();
    const used = new Set(
      cloud.iam
        .listRoles()
        .map(grantsOf)
        .flatMap((g) => g.grants.map((grant) => allowListEntryOf(g.logicalId, grant, allowList))),
    );
    const stale = allowList.filter((_, i) => !used.has(i));
    expect(stale).toEqual([]);
  });
});
