/**
 * `npm run order -- --customer customer-1 --sku SKU-1 --qty 2 [--promo WELCOME10] [--slot 2026-12-01T10]
 *                   [--fail-at STEP] [--fail-compensation COMPENSATION] [--fault OP=MODE] [--outputs FILE]
 *                   [--cancel-after STEP] [--review approve|reject|wait] [--note TEXT]`
 *
 * Starts one order through the API of a running target (the local cloud by default, or any stack whose
 * outputs file you pass), follows its execution history live and prints a trace a person can read, then
 * the balances, stock, promo uses and slot bookings before and after.
 *
 * `--cancel-after STEP` cancels the order (`POST /orders/{id}/cancel`) as soon as the history shows STEP
 * done, and traces the unwind. `--review approve|reject` decides (`POST /orders/{id}/review`) once an
 * order above the review threshold is AWAITING_REVIEW; `--review wait` leaves it to the deadline.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createApiClient } from '../client/api';
import { clientConfig, readOutputs, requireOutput } from '../client/outputs';
import {
  COMPENSATION_NAMES,
  type CompensationName,
  type FaultPlan,
  isFaultMode,
  type OrderSagaInput,
  type SagaOperation,
  STATE_NAMES,
  STEP_NAMES,
  type StepName,
} from '../lib/contract';

const USAGE = `usage: npm run order -- --customer ID --sku SKU --qty N [--sku SKU --qty N ...]
                      [--promo CODE] [--slot SLOT] [--order-id ID]
                      [--fail-at STEP] [--fail-compensation COMPENSATION] [--fault OPERATION=MODE ...]
                      [--cancel-after STEP] [--review approve|reject|wait] [--note TEXT]
                      [--outputs FILE]
  STEP:          ${STEP_NAMES.join(', ')}
  COMPENSATION:  ${COMPENSATION_NAMES.join(', ')}
  MODE:          fail, transient:N, timeout, crash-after-commit, duplicate`;

const color = process.stdout.isTTY
  ? {
      dim: '\x1b[2m',
      red: '\x1b[31m',
      green: '\x1b[32m',
      yellow: '\x1b[33m',
      cyan: '\x1b[36m',
      bold: '\x1b[1m',
      off: '\x1b[0m',
    }
  : { dim: '', red: '', green: '', yellow: '', cyan: '', bold: '', off: '' };

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Snapshot {
  balance?: number;
  stock: Record<string, number | undefined>;
  promoUsesLeft?: number;
  slotBooked?: number;
  slotCapacity?: number;
}

function isStep(value: string): value is StepName {
  return (STEP_NAMES as readonly string[]).includes(value);
}
function isCompensation(value: string): value is CompensationName {
  return (COMPENSATION_NAMES as readonly string[]).includes(value);
}

export type ReviewChoice = 'approve' | 'reject' | 'wait';
const REVIEW_CHOICES: readonly ReviewChoice[] = ['approve', 'reject', 'wait'];

export interface OrderArgs {
  input: OrderSagaInput;
  outputsFile?: string;
  /** Cancel once this step is done. */
  cancelAfter?: StepName;
  /** What to do once the order waits for a review. */
  review?: ReviewChoice;
  /** The reviewer's note sent with `--review approve|reject`. */
  note?: string;
}

export function parseOrderArgs(argv: string[]): OrderArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      customer: { type: 'string' },
      sku: { type: 'string', multiple: true },
      qty: { type: 'string', multiple: true },
      promo: { type: 'string' },
      slot: { type: 'string', default: '2026-12-01T10' },
      'order-id': { type: 'string' },
      'fail-at': { type: 'string' },
      'fail-compensation': { type: 'string' },
      fault: { type: 'string', multiple: true },
      outputs: { type: 'string' },
      'cancel-after': { type: 'string' },
      review: { type: 'string' },
      note: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) throw new UsageError('');
  if (!values.customer) throw new UsageError('--customer is required');
  const skus = values.sku ?? [];
  const quantities = values.qty ?? [];
  if (skus.length === 0) throw new UsageError('--sku is required');
  if (quantities.length > skus.length) throw new UsageError('more --qty than --sku');
  const items = skus.map((sku, i) => {
    const raw = quantities[i] ?? '1';
    const quantity = Number(raw);
    if (!Number.isInteger(quantity) || quantity < 1) throw new UsageError(`--qty ${raw}: a whole number ≥ 1`);
    return { sku, quantity };
  });

  const faults: FaultPlan = {};
  const failAt = values['fail-at'];
  const failCompensation = values['fail-compensation'];
  if (failAt !== undefined) {
    if (!isStep(failAt)) throw new UsageError(`--fail-at ${failAt}: not a step (${STEP_NAMES.join(', ')})`);
    faults[failAt] = 'fail';
  }
  if (failCompensation !== undefined) {
    if (!isCompensation(failCompensation)) {
      throw new UsageError(
        `--fail-compensation ${failCompensation}: not a compensation (${COMPENSATION_NAMES.join(', ')})`,
      );
    }
    faults[failCompensation] = 'fail';
    // A compensation runs only when a later step fails: fail at the last step unless told otherwise.
    if (failAt === undefined) faults.ConfirmOrder = 'fail';
  }
  for (const spec of values.fault ?? []) {
    const [operation, mode] = spec.split('=');
    const known = operation !== undefined && (isStep(operation) || isCompensation(operation));
    if (!known) throw new UsageError(`--fault ${spec}: "${operation}" is not a step or compensation`);
    if (mode === undefined || !isFaultMode(mode))
      throw new UsageError(`--fault ${spec}: unknown mode "${mode}"`);
    faults[operation as SagaOperation] = mode;
  }

  const input: OrderSagaInput = {
    orderId:
      values['order-id'] ?? `order-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
    customerId: values.customer,
    items,
    deliverySlot: values.slot,
    ...(values.promo ? { promoCode: values.promo } : {}),
    ...(Object.keys(faults).length > 0 ? { faults } : {}),
  };
  const cancelAfter = values['cancel-after'];
  if (cancelAfter !== undefined && !isStep(cancelAfter))
    throw new UsageError(`--cancel-after ${cancelAfter}: not a step (${STEP_NAMES.join(', ')})`);
  const review = values.review;
  const isReview = (value: string): value is ReviewChoice =>
    (REVIEW_CHOICES as readonly string[]).includes(value);
  if (review !== undefined && !isReview(review))
    throw new UsageError(`--review ${review}: one of ${REVIEW_CHOICES.join(', ')}`);
  if (values.note !== undefined && review !== 'approve' && review !== 'reject')
    throw new UsageError('--note goes with --review approve or --review reject');
  return {
    input,
    ...(values.outputs ? { outputsFile: values.outputs } : {}),
    ...(cancelAfter !== undefined ? { cancelAfter } : {}),
    ...(review !== undefined ? { review } : {}),
    ...(values.note !== undefined ? { note: values.note } : {}),
  };
}

async function snapshot(
  db: DynamoDBDocumentClient,
  tables: Record<'accounts' | 'inventory' | 'promos' | 'slots', string>,
  input: OrderSagaInput,
): Promise<Snapshot> {
  const get = async (TableName: string, Key: Record<string, string>) =>
    (await db.send(new GetCommand({ TableName, Key, ConsistentRead: true }))).Item;
  const [account, promo, slot, ...stock] = await Promise.all([
    get(tables.accounts, { customerId: input.customerId }),
    input.promoCode ? get(tables.promos, { code: input.promoCode }) : undefined,
    get(tables.slots, { slotId: input.deliverySlot }),
    ...input.items.map((item) => get(tables.inventory, { sku: item.sku })),
  ]);
  const num = (value: unknown) => (typeof value === 'number' ? value : undefined);
  return {
    balance: num(account?.balance),
    stock: Object.fromEntries(input.items.map((item, i) => [item.sku, num(stock[i]?.stock)])),
    promoUsesLeft: num(promo?.usesLeft),
    slotBooked: num(slot?.booked),
    slotCapacity: num(slot?.capacity),
  };
}

function describeSnapshot(s: Snapshot, input: OrderSagaInput, before?: Snapshot): string {
  const delta = (now: number | undefined, then: number | undefined) => {
    if (!before || now === undefined || then === undefined) return '';
    const d = now - then;
    return d === 0
      ? ` ${color.dim}(±0)${color.off}`
      : ` ${d < 0 ? color.yellow : color.green}(${d > 0 ? '+' : ''}${d})${color.off}`;
  };
  const show = (v: number | undefined) => (v === undefined ? 'n/a' : String(v));
  const parts = [`balance ${show(s.balance)}${delta(s.balance, before?.balance)}`];
  for (const item of input.items) {
    parts.push(
      `${item.sku} stock ${show(s.stock[item.sku])}${delta(s.stock[item.sku], before?.stock[item.sku])}`,
    );
  }
  if (input.promoCode) {
    parts.push(
      `${input.promoCode} uses left ${show(s.promoUsesLeft)}${delta(s.promoUsesLeft, before?.promoUsesLeft)}`,
    );
  }
  parts.push(
    `slot ${input.deliverySlot} booked ${show(s.slotBooked)}/${show(s.slotCapacity)}${delta(s.slotBooked, before?.slotBooked)}`,
  );
  return parts.join(' · ');
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The human message inside a Lambda error Cause (`{"errorType","errorMessage","trace"}`), else the cause. */
function causeMessage(cause: string | undefined): string {
  const parsed = parseJson(cause);
  if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) return String(parsed.errorMessage);
  return cause ?? '';
}

function summariseResult(state: string, output: unknown): string {
  if (!output || typeof output !== 'object') return '';
  const results = (output as { results?: Record<string, unknown> }).results;
  const result = results?.[state];
  if (!result || typeof result !== 'object') return '';
  const r = result as Record<string, unknown>;
  if (state === 'ReservePromo') return `${r.code}: ${r.discountPercent} % off`;
  if (state === 'ReserveStock' && Array.isArray(r.lines)) {
    const lines = (r.lines as Array<{ sku: string; quantity: number; unitPrice: number }>)
      .map((l) => `${l.quantity} × ${l.sku} @ ${l.unitPrice}`)
      .join(' + ');
    return `${lines} = ${r.subtotal}${r.discount ? ` − ${r.discount}` : ''} → total ${r.total}`;
  }
  if (state === 'ChargePayment') return `charged ${r.amount}`;
  if (state === 'BookDelivery') return `slot ${r.slotId}`;
  if (state === 'ConfirmOrder') return `order ${r.status}, total ${r.total}`;
  if (state === STATE_NAMES.requestReview)
    return `review ${r.decision === 'approve' ? 'approved' : String(r.decision)}${r.note ? `: ${String(r.note)}` : ''}`;
  return '';
}

const COMPENSATIONS = new Set<string>(COMPENSATION_NAMES);

/** Turns history events into trace lines; keeps per-state attempt counts. */
export class TraceFormatter {
  private readonly attempts = new Map<string, number>();
  /** States whose last attempt failed: their exit is a Catch, not a success. */
  private readonly failed = new Set<string>();
  private current = '';
  constructor(private readonly start: number) {}

  /** The Task state the last event belongs to. */
  get state(): string {
    return this.current;
  }

  /** Whether `name`'s last attempt failed (its exit then is a Catch, not a success). */
  failedLast(name: string): boolean {
    return this.failed.has(name);
  }

  format(event: HistoryEvent): string | undefined {
    const at = event.timestamp
      ? ((event.timestamp.getTime() - this.start) / 1000).toFixed(3).padStart(7)
      : '       ';
    const line = (mark: string, name: string, text = '') =>
      `  ${color.dim}${at}${color.off}  ${mark} ${name.padEnd(22)} ${text}`.trimEnd();
    const kind = (name: string) => (COMPENSATIONS.has(name) ? `${color.dim}(compensation)${color.off} ` : '');
    switch (event.type) {
      case 'TaskStateEntered': {
        const name = event.stateEnteredEventDetails?.name ?? '';
        this.current = name;
        this.attempts.set(name, 0);
        this.failed.delete(name);
        return undefined;
      }
      case 'LambdaFunctionScheduled':
      case 'TaskScheduled': {
        this.failed.delete(this.current);
        const n = (this.attempts.get(this.current) ?? 0) + 1;
        this.attempts.set(this.current, n);
        return n > 1 ? line(`${color.yellow}↻${color.off}`, this.current, `retry, attempt ${n}`) : undefined;
      }
      case 'TaskStarted':
        return this.current === STATE_NAMES.requestReview
          ? line(`${color.cyan}⏸${color.off}`, this.current, 'waiting for a reviewer (AWAITING_REVIEW)')
          : undefined;
      case 'ExecutionAborted':
        return line(
          `${color.yellow}⏹${color.off}`,
          'execution stopped',
          event.executionAbortedEventDetails?.error ?? '',
        );
      case 'ExecutionRedriven':
        return line(`${color.cyan}⟳${color.off}`, 'execution redriven', 'continues where it stopped');
      case 'LambdaFunctionFailed':
      case 'TaskFailed': {
        const d = event.lambdaFunctionFailedEventDetails ?? event.taskFailedEventDetails;
        this.failed.add(this.current);
        return line(
          `${color.red}✗${color.off}`,
          this.current,
          `${kind(this.current)}${d?.error}: ${causeMessage(d?.cause)}`,
        );
      }
      case 'LambdaFunctionTimedOut':
      case 'TaskTimedOut': {
        const d = event.lambdaFunctionTimedOutEventDetails ?? event.taskTimedOutEventDetails;
        this.failed.add(this.current);
        return line(
          `${color.red}⏱${color.off}`,
          this.current,
          `${kind(this.current)}${d?.error ?? 'States.Timeout'}`,
        );
      }
      case 'TaskStateExited': {
        const name = event.stateExitedEventDetails?.name ?? '';
        const output = parseJson(event.stateExitedEventDetails?.output);
        if (this.failed.has(name)) return undefined;
        if (name.endsWith('ToDLQ'))
          return line(`${color.red}✉${color.off}`, name, 'sent to the dead-letter queue');
        if (COMPENSATIONS.has(name)) return line(`${color.green}↩${color.off}`, name, `${kind(name)}done`);
        return line(`${color.green}✓${color.off}`, name, summariseResult(name, output));
      }
      case 'PassStateEntered': {
        const name = event.stateEnteredEventDetails?.name ?? '';
        if (name.endsWith('Failed')) {
          return line(
            `${color.cyan}⤺${color.off}`,
            name,
            `unwinding from ${name.slice(0, -'Failed'.length)}`,
          );
        }
        return undefined;
      }
      case 'ChoiceStateExited':
        return undefined;
      case 'FailStateEntered':
        return line(`${color.red}■${color.off}`, event.stateEnteredEventDetails?.name ?? '', '');
      case 'SucceedStateEntered':
        return line(`${color.green}■${color.off}`, event.stateEnteredEventDetails?.name ?? '', '');
      default:
        return undefined;
    }
  }
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseOrderArgs>;
  try {
    parsed = parseOrderArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError || (error instanceof Error && 'code' in error)) {
      if (error.message) console.error(`error: ${error.message}\n`);
      console.error(USAGE);
      return error.message ? 2 : 0;
    }
    throw error;
  }
  const { input } = parsed;
  const outputs = readOutputs(parsed.outputsFile);
  const config = clientConfig(outputs);
  const api = createApiClient({
    apiUrl: requireOutput(outputs, 'ApiUrl'),
    region: config.region,
    credentials: config.credentials,
  });
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(config));
  const sfn = new SFNClient(config);
  const tables = {
    accounts: requireOutput(outputs, 'AccountsTableName'),
    inventory: requireOutput(outputs, 'InventoryTableName'),
    promos: requireOutput(outputs, 'PromosTableName'),
    slots: requireOutput(outputs, 'DeliverySlotsTableName'),
  };

  const items = input.items.map((i) => `${i.quantity} × ${i.sku}`).join(', ');
  console.log(
    `${color.bold}order ${input.orderId}${color.off} · ${input.customerId} · ${items}` +
      `${input.promoCode ? ` · promo ${input.promoCode}` : ''} · slot ${input.deliverySlot}`,
  );
  if (input.faults) {
    console.log(
      `faults: ${Object.entries(input.faults)
        .map(([op, mode]) => `${op}=${mode}`)
        .join(', ')}`,
    );
  }
  const before = await snapshot(db, tables, input);
  console.log(`before: ${describeSnapshot(before, input)}`);

  const started = Date.now();
  const response = await api.post<{ executionArn?: string; message?: string }>('orders', input);
  if (response.status !== 202) {
    console.error(`${color.red}POST /orders → ${response.status}${color.off} ${response.text}`);
    return 1;
  }
  const executionArn = response.body.executionArn;
  if (!executionArn) throw new Error(`POST /orders answered 202 without an executionArn: ${response.text}`);
  console.log(`${color.dim}POST /orders → 202, execution ${executionArn}${color.off}\n`);

  const trace = new TraceFormatter(started);
  const orderPath = `orders/${encodeURIComponent(input.orderId)}`;
  const note = (text: string) => console.log(`  ${color.cyan}→ ${text}${color.off}`);
  /** POST an action; prints what the API answered. */
  const act = async (action: string, body: unknown) => {
    const answer = await api.post<Record<string, unknown>>(`${orderPath}/${action}`, body);
    const what =
      answer.status < 300 ? String(answer.body.status ?? '') : String(answer.body.message ?? answer.text);
    note(`POST /${orderPath}/${action} → ${answer.status} ${what}`);
    return answer.status;
  };
  let cancelled = false;
  let reviewed = false;
  let waitingForReview = false;
  let seen = 0;
  let status = 'RUNNING';
  // Five minutes for the saga; a review wait adds its own deadline (TimeoutSeconds) once it starts.
  const unwindMs = 5 * 60_000;
  let deadline = Date.now() + unwindMs;
  while (Date.now() < deadline) {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    for (const event of events.slice(seen)) {
      const text = trace.format(event);
      if (text) console.log(text);
      const exited = event.type === 'TaskStateExited' ? event.stateExitedEventDetails?.name : undefined;
      if (!cancelled && parsed.cancelAfter && exited === parsed.cancelAfter && !trace.failedLast(exited)) {
        cancelled = true;
        note(`${parsed.cancelAfter} is done: cancelling`);
        await act('cancel', {});
      }
      if (event.type === 'TaskStarted' && trace.state === STATE_NAMES.requestReview) waitingForReview = true;
      const reviewWait = event.taskScheduledEventDetails?.timeoutInSeconds;
      if (event.type === 'TaskScheduled' && trace.state === STATE_NAMES.requestReview && reviewWait)
        deadline = Math.max(deadline, Date.now() + reviewWait * 1000 + unwindMs);
    }
    seen = events.length;
    if (waitingForReview && !reviewed && parsed.review) {
      // The review Task has started; the order is AWAITING_REVIEW once RequestReview stored its token.
      const order = await api.get<{ status?: string; links?: { review?: string } }>(orderPath);
      if (order.body.status === 'AWAITING_REVIEW' && order.body.links?.review) {
        reviewed = true;
        if (parsed.review === 'wait') note('leaving the review to its deadline');
        else
          await act('review', {
            decision: parsed.review,
            ...(parsed.note !== undefined ? { note: parsed.note } : {}),
          });
      } else if (order.body.status !== 'PENDING') {
        waitingForReview = false;
      }
    }
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    status = described.status ?? 'UNKNOWN';
    if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
      // A cancel may stop the execution and redrive it at once (to wake a step in its backoff): an
      // ABORTED execution whose order is still unwinding is about to go on.
      const order =
        cancelled && status === 'ABORTED' ? await api.get<{ status?: string }>(orderPath) : undefined;
      if (order?.body.status !== 'CANCELLING') break;
    }
    // Fast while a cancel is still to come (its moment is right after a step), else a relaxed poll.
    await new Promise((resolve) => setTimeout(resolve, parsed.cancelAfter && !cancelled ? 20 : 150));
  }

  const order = await api.get<Record<string, unknown>>(orderPath);
  const o = order.body;
  const orderStatus = String(o.status ?? 'unknown');
  const statusColor =
    orderStatus === 'CONFIRMED' ? color.green : orderStatus === 'CANCELLED' ? color.yellow : color.red;
  console.log(
    `\nexecution ${status} · order ${statusColor}${color.bold}${orderStatus}${color.off}` +
      `${o.total !== undefined ? ` · total ${o.total}` : ''}` +
      `${o.failedStep ? ` · failed at ${o.failedStep}: ${o.reason ?? ''}` : o.reason ? ` · reason ${String(o.reason)}` : ''}` +
      `${Array.isArray(o.failedCompensations) && o.failedCompensations.length ? ` · in the DLQ: ${o.failedCompensations.join(', ')} (npm run redrive)` : ''}` +
      ` · ${((Date.now() - started) / 1000).toFixed(2)} s`,
  );
  const after = await snapshot(db, tables, input);
  console.log(`after:  ${describeSnapshot(after, input, before)}`);
  let missed = false;
  if (parsed.cancelAfter && !cancelled) {
    console.log(
      `${color.yellow}--cancel-after ${parsed.cancelAfter}: the step never completed, no cancel sent${color.off}`,
    );
    missed = true;
  }
  if (parsed.review && !reviewed) {
    console.log(
      `${color.yellow}--review ${parsed.review}: the order never waited for a review (its total is below the review threshold, or it stopped before)${color.off}`,
    );
    missed = true;
  }
  return (status === 'SUCCEEDED' || status === 'FAILED') && !missed ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
