/**
 * Redrive of failed compensations (docs/operations.md, "Runbook: an order is `NEEDS_ATTENTION`").
 *
 * A compensation that exhausted its retries left a `DeadLetterMessage` on the DLQ and the order in
 * NEEDS_ATTENTION. Once the outage is over, redrive replays each message: it invokes the compensation
 * function with `{saga: input without faults, context}`; compensations are idempotent, so a replay of
 * one that in fact went through is a no-op. Succeeded → the step leaves the order's
 * `failedCompensations`, the order becomes CANCELLED when none is left, and the message is deleted
 * (in that order, so a crash in between only causes a harmless replay). Failed again → the message stays
 * (it reappears after its visibility timeout). An order still PENDING is still unwinding: skipped.
 *
 * A message from the pivot guard (RejectOrder) carries `resume`: the guard could not decide whether the
 * confirmation committed, so the state machine stopped the unwind there. If the guard now answers
 * `OrderAlreadyConfirmed`, the order is confirmed and nothing is undone (the message is settled). If it
 * succeeds (tombstone), the rest of the unwind runs here, in order; a compensation that fails is parked
 * on the DLQ as a message of its own and added to the order's `failedCompensations`.
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import {
  COMPENSATION_NAMES,
  type CompensationName,
  DEAD_LETTER_STEPS,
  type DeadLetterMessage,
  type DeadLetterStep,
  type OrderSagaState,
  type OrderStatus,
  STATE_NAMES,
  type StepEvent,
} from '../../lib/contract';

const RECORD_FAILURE = STATE_NAMES.recordFailure;

export type InvokeOutcome = { ok: true; result?: unknown } | { ok: false; error: string; cause?: string };

/** Invokes a function synchronously (RequestResponse). The Lambda SDK in production; in-process in tests. */
export type InvokePort = (functionName: string, event: StepEvent) => Promise<InvokeOutcome>;

export interface RedriveDeps {
  sqs: SQSClient;
  dlqUrl: string;
  doc: DynamoDBDocumentClient;
  ordersTable: string;
  invoke: InvokePort;
  /** `{ "<CompensationName or RecordFailure>": "<function name>" }` (env `COMPENSATION_FUNCTIONS`). */
  compensationFunctions: Partial<Record<DeadLetterStep, string>>;
  /**
   * Milliseconds left for this run. Checked before every message (one replay can take a compensation's
   * whole timeout): below `reserveMs`, redrive stops, hands the received messages it did not reach back
   * to the queue and reports them as remaining.
   */
  remainingMs?: () => number;
  reserveMs?: number;
  /** How long a received message stays invisible (a failure reappears after it). Default 30 s. */
  visibilityTimeoutSeconds?: number;
  onOrderCancelled?(orderId: string): void;
  /**
   * Only this order's dead letters (POST /orders/{orderId}/resume, `npm run redrive -- --order ID`): the
   * others are received, left untouched and handed back to the queue at the end.
   */
  orderId?: string;
}

export interface RedriveEntry {
  messageId: string;
  orderId?: string;
  step?: DeadLetterStep;
  /** What happened: the new order status, the error, or why it was skipped. */
  detail?: string;
}

export interface RedriveReport {
  processed: number;
  succeeded: RedriveEntry[];
  failed: RedriveEntry[];
  skipped: RedriveEntry[];
  /** Messages left on the DLQ by this run (failed and skipped), plus any not reached in time. */
  remaining: number;
}

const nonEmpty = () => z.string().check(z.minLength(1));
const deadLetterSchema = z.looseObject({
  orderId: nonEmpty(),
  step: z.enum(DEAD_LETTER_STEPS as [DeadLetterStep, ...DeadLetterStep[]]),
  error: z.optional(z.string()),
  cause: z.optional(z.string()),
  executionArn: nonEmpty(),
  input: z.looseObject({ orderId: nonEmpty(), customerId: z.string(), items: z.array(z.unknown()) }),
  resume: z.optional(z.array(z.enum(COMPENSATION_NAMES as [CompensationName, ...CompensationName[]]))),
});

/** The guard's answer meaning "the pivot committed: keep the saga, undo nothing". */
export const PIVOT_COMMITTED = 'OrderAlreadyConfirmed';

export function parseDeadLetter(body: string | undefined): DeadLetterMessage {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    throw new Error('malformed message: body is not JSON');
  }
  const parsed = deadLetterSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(body)').join(', ');
    throw new Error(`malformed message: bad or missing ${fields}`);
  }
  return parsed.data as unknown as DeadLetterMessage;
}

/** The saga state replayed to the compensation: the outage is over, so no injected faults. */
export function replayInput(message: DeadLetterMessage): OrderSagaState {
  const { faults: _faults, compensationError: _error, ...input } = message.input;
  return input;
}

async function orderStatus(deps: RedriveDeps, orderId: string): Promise<OrderStatus | undefined> {
  const out = await deps.doc.send(
    new GetCommand({
      TableName: deps.ordersTable,
      Key: { orderId },
      ConsistentRead: true,
      ProjectionExpression: '#s',
      ExpressionAttributeNames: { '#s': 'status' },
    }),
  );
  return out.Item?.status as OrderStatus | undefined;
}

/** Removes `step` from the order's failed compensations; CANCELLED once none is left. Returns the status. */
async function settleOrder(deps: RedriveDeps, orderId: string, step: DeadLetterStep): Promise<string> {
  try {
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.ordersTable,
        Key: { orderId },
        UpdateExpression: 'DELETE failedCompensations :step SET updatedAt = :now',
        ConditionExpression: 'attribute_exists(orderId)',
        ExpressionAttributeValues: { ':step': new Set([step]), ':now': new Date().toISOString() },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException)
      return 'order not found (compensation replayed anyway)';
    throw error;
  }
  try {
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.ordersTable,
        Key: { orderId },
        UpdateExpression: 'SET #status = :cancelled, updatedAt = :now',
        ConditionExpression: 'attribute_not_exists(failedCompensations) AND #status = :attention',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':cancelled': 'CANCELLED',
          ':attention': 'NEEDS_ATTENTION',
          ':now': new Date().toISOString(),
        },
      }),
    );
    deps.onOrderCancelled?.(orderId);
    return 'CANCELLED';
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException)
      return (await orderStatus(deps, orderId)) ?? 'unknown';
    throw error;
  }
}

/** Adds `step` to the order's failed compensations (the order stays or becomes NEEDS_ATTENTION). */
async function markFailed(deps: RedriveDeps, orderId: string, step: CompensationName): Promise<void> {
  await deps.doc.send(
    new UpdateCommand({
      TableName: deps.ordersTable,
      Key: { orderId },
      UpdateExpression: 'ADD failedCompensations :step SET #status = :attention, updatedAt = :now',
      ConditionExpression: 'attribute_exists(orderId) AND #status <> :confirmed',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':step': new Set([step]),
        ':attention': 'NEEDS_ATTENTION',
        ':confirmed': 'CONFIRMED',
        ':now': new Date().toISOString(),
      },
    }),
  );
}

async function invokeCompensation(
  deps: RedriveDeps,
  letter: DeadLetterMessage,
  step: DeadLetterStep,
): Promise<InvokeOutcome> {
  const functionName = deps.compensationFunctions[step];
  if (!functionName) {
    return {
      ok: false,
      error: 'NotConfigured',
      cause: `no function configured for ${step} in COMPENSATION_FUNCTIONS`,
    };
  }
  try {
    return await deps.invoke(functionName, {
      saga: replayInput(letter),
      context: { executionArn: letter.executionArn, retryCount: 0 },
    });
  } catch (error) {
    return { ok: false, error: (error as Error).name, cause: (error as Error).message };
  }
}

/**
 * Runs the rest of an unwind that a pivot guard stopped. Each compensation is idempotent (a step that
 * never ran gets a tombstone). ReleasePromo only applies to an order with a promo code, as in the state
 * machine. Returns the compensations that failed again (each parked as its own DLQ message).
 */
async function resumeUnwind(deps: RedriveDeps, letter: DeadLetterMessage): Promise<CompensationName[]> {
  const failed: CompensationName[] = [];
  for (const step of letter.resume ?? []) {
    if (step === 'ReleasePromo' && !letter.input.promoCode) continue;
    const outcome = await invokeCompensation(deps, letter, step);
    if (outcome.ok) continue;
    failed.push(step);
    const parked: DeadLetterMessage = {
      orderId: letter.orderId,
      step,
      error: outcome.error,
      ...(outcome.cause ? { cause: outcome.cause } : {}),
      executionArn: letter.executionArn,
      input: letter.input,
    };
    await markFailed(deps, letter.orderId, step);
    await deps.sqs.send(
      new SendMessageCommand({ QueueUrl: deps.dlqUrl, MessageBody: JSON.stringify(parked) }),
    );
  }
  return failed;
}

/** `held-back`: a compensation of an order still PENDING, left on the DLQ (it may go later in this run). */
type RedriveResult = 'done' | 'held-back';

async function redriveOne(
  deps: RedriveDeps,
  message: Message,
  report: RedriveReport,
): Promise<RedriveResult> {
  const messageId = message.MessageId ?? '?';
  let letter: DeadLetterMessage;
  try {
    letter = parseDeadLetter(message.Body);
  } catch (error) {
    report.failed.push({ messageId, detail: (error as Error).message });
    return 'done';
  }
  const entry: RedriveEntry = { messageId, orderId: letter.orderId, step: letter.step };
  const deleteMessage = () =>
    deps.sqs.send(new DeleteMessageCommand({ QueueUrl: deps.dlqUrl, ReceiptHandle: message.ReceiptHandle }));
  const status = await orderStatus(deps, letter.orderId);
  if (letter.step === RECORD_FAILURE) {
    if (status !== undefined && status !== 'PENDING') {
      // A replay whose outcome is already written (an earlier attempt committed): nothing to do.
      await deleteMessage();
      report.succeeded.push({ ...entry, detail: `order ${status}: outcome already recorded` });
      return 'done';
    }
    // The unwind finished but its outcome was never written: write it now (the order leaves PENDING).
    const outcome = await invokeCompensation(deps, letter, letter.step);
    if (!outcome.ok) {
      report.failed.push({
        ...entry,
        detail: outcome.cause ? `${outcome.error}: ${outcome.cause}` : outcome.error,
      });
      return 'done';
    }
    await deleteMessage();
    const recorded = await orderStatus(deps, letter.orderId);
    if (recorded === 'CANCELLED') deps.onOrderCancelled?.(letter.orderId);
    report.succeeded.push({ ...entry, detail: `order ${recorded ?? 'unknown'}: outcome recorded` });
    return 'done';
  }
  if (status === 'PENDING') {
    report.skipped.push({ ...entry, detail: 'order is still PENDING: its execution is still unwinding' });
    return 'held-back';
  }
  const outcome = await invokeCompensation(deps, letter, letter.step);
  if (!outcome.ok && letter.resume && outcome.error === PIVOT_COMMITTED) {
    // The pivot had committed: the saga stands, nothing is undone.
    const orderNow = await settleOrder(deps, letter.orderId, letter.step);
    await deleteMessage();
    report.succeeded.push({
      ...entry,
      detail: `order ${orderNow}: the confirmation had committed, nothing undone`,
    });
    return 'done';
  }
  if (!outcome.ok) {
    report.failed.push({
      ...entry,
      detail: outcome.cause ? `${outcome.error}: ${outcome.cause}` : outcome.error,
    });
    return 'done';
  }
  const failedAgain = await resumeUnwind(deps, letter);
  const orderNow = await settleOrder(deps, letter.orderId, letter.step);
  await deleteMessage();
  report.succeeded.push({
    ...entry,
    detail:
      failedAgain.length > 0
        ? `order ${orderNow}; resumed the unwind, parked again: ${failedAgain.join(', ')}`
        : `order ${orderNow}${letter.resume?.length ? '; resumed the unwind' : ''}`,
  });
  return 'done';
}

/** The orderId of a DLQ message, or undefined if its body is not a dead letter. */
function parseOrderIdOf(message: Message): string | undefined {
  try {
    return parseDeadLetter(message.Body).orderId;
  } catch {
    return undefined;
  }
}

/** Replays the DLQ until it is empty (or time runs short). */
export async function redriveDeadLetters(deps: RedriveDeps): Promise<RedriveReport> {
  const report: RedriveReport = { processed: 0, succeeded: [], failed: [], skipped: [], remaining: 0 };
  const reserveMs = deps.reserveMs ?? 10_000;
  const seen = new Set<string>();
  const heldBack: Message[] = [];
  const others: Message[] = [];
  let outOfTime = false;
  let notReached = 0;
  const timeIsShort = () => deps.remainingMs !== undefined && deps.remainingMs() < reserveMs;
  receiving: for (;;) {
    if (timeIsShort()) {
      outOfTime = true;
      break;
    }
    const batch = await deps.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deps.dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: deps.visibilityTimeoutSeconds ?? 30,
      }),
    );
    const messages = (batch.Messages ?? []).filter((m) => !seen.has(m.MessageId ?? ''));
    if (messages.length === 0) break;
    for (const [index, message] of messages.entries()) {
      if (timeIsShort()) {
        outOfTime = true;
        // Visible again now rather than after the visibility timeout: the next run (or consumer) gets them,
        // and the queue count below includes them; one still in flight is counted here.
        const released = await Promise.all(
          messages.slice(index).map((m) =>
            deps.sqs
              .send(
                new ChangeMessageVisibilityCommand({
                  QueueUrl: deps.dlqUrl,
                  ReceiptHandle: m.ReceiptHandle ?? '',
                  VisibilityTimeout: 0,
                }),
              )
              .then(
                () => true,
                () => false,
              ),
          ),
        );
        notReached += released.filter((ok) => !ok).length;
        break receiving;
      }
      seen.add(message.MessageId ?? '');
      if (deps.orderId !== undefined && parseOrderIdOf(message) !== deps.orderId) {
        others.push(message);
        continue;
      }
      report.processed++;
      if ((await redriveOne(deps, message, report)) === 'held-back') heldBack.push(message);
    }
  }
  // A compensation held back because its order was PENDING can go now if this run recorded the order's
  // outcome (a RecordFailure message met later in the queue). Replays are idempotent, so a message whose
  // visibility lapsed meanwhile and that another consumer also replays costs nothing.
  for (const message of heldBack) {
    if (timeIsShort()) {
      outOfTime = true;
      break;
    }
    const letter = parseDeadLetter(message.Body);
    if ((await orderStatus(deps, letter.orderId)) === 'PENDING') continue;
    report.skipped = report.skipped.filter((entry) => entry.messageId !== message.MessageId);
    await redriveOne(deps, message, report);
  }
  // Another order's letters stay in the queue, visible again now.
  await Promise.all(
    others.map((m) =>
      deps.sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: deps.dlqUrl,
            ReceiptHandle: m.ReceiptHandle ?? '',
            VisibilityTimeout: 0,
          }),
        )
        .catch(() => undefined),
    ),
  );
  report.remaining = report.failed.length + report.skipped.length + notReached;
  if (outOfTime) {
    const attributes = await deps.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: deps.dlqUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    report.remaining += Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0);
  }
  return report;
}
