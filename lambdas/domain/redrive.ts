/**
 * The order saga's redrive (docs/operations.md, "Runbook: an order is `NEEDS_ATTENTION`"): the toolkit's
 * DLQ replay (toolkit/runtime/redrive.ts) with the order's bookkeeping around it.
 *
 * A failed compensation left the order NEEDS_ATTENTION with the step in `failedCompensations`. Once its
 * replay succeeded, the step leaves `failedCompensations` and the order becomes CANCELLED when none is
 * left, before the message is deleted (so a crash in between only causes a harmless replay). An order
 * not settled yet (PENDING, AWAITING_REVIEW, CANCELLING: `UNSETTLED_STATUSES`) may still be unwinding: its
 * compensations are held back until its outcome is written. A `RecordFailure` message means the
 * unwind's outcome was never written: the replay writes it, unless an earlier attempt already did. The pivot
 * guard (RejectOrder) answering `OrderAlreadyConfirmed` means the order is confirmed and nothing is undone.
 * ReleasePromo only applies to an order with a promo code, as in the state machine.
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import {
  DEAD_LETTER_STEPS,
  type DeadLetterStep,
  type OrderStatus,
  STATE_NAMES,
  TABLES,
  UNSETTLED_STATUSES,
} from '../../lib/contract';
import {
  type DeadLetter,
  describeSettled,
  type InvokePort,
  type RedriveApp,
  redriveDeadLetters as redriveSaga,
  type RedriveEntry as SagaRedriveEntry,
  type RedriveReport as SagaRedriveReport,
} from '../../toolkit/runtime/redrive';

export type { InvokeOutcome, InvokePort } from '../../toolkit/runtime/redrive';

const RECORD_FAILURE = STATE_NAMES.recordFailure;

/** The guard's answer meaning "the pivot committed: keep the saga, undo nothing". */
export const PIVOT_COMMITTED = 'OrderAlreadyConfirmed';

export interface RedriveDeps {
  sqs: SQSClient;
  dlqUrl: string;
  doc: DynamoDBDocumentClient;
  ordersTable: string;
  invoke: InvokePort;
  /** `{ "<CompensationName or RecordFailure>": "<function name>" }` (env `COMPENSATION_FUNCTIONS`). */
  compensationFunctions: Partial<Record<DeadLetterStep, string>>;
  remainingMs?: () => number;
  reserveMs?: number;
  visibilityTimeoutSeconds?: number;
  onOrderCancelled?(orderId: string): void;
  /** Only this order's dead letters (POST /orders/{orderId}/resume, `npm run redrive -- --order ID`). */
  orderId?: string;
}

export type RedriveEntry = SagaRedriveEntry & { orderId?: string; step?: DeadLetterStep };

/** The report of a run, its entries naming the order (`orderId`) and the step. */
export type RedriveReport = SagaRedriveReport<RedriveEntry>;

async function orderStatus(deps: Pick<RedriveDeps, 'doc' | 'ordersTable'>, orderId: string) {
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

type OrderDeps = Pick<RedriveDeps, 'doc' | 'ordersTable' | 'onOrderCancelled'>;

/** Removes `step` from the order's failed compensations; CANCELLED once none is left. Returns the status. */
async function settleOrder(deps: OrderDeps, orderId: string, step: string): Promise<string> {
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
async function markFailed(deps: OrderDeps, orderId: string, step: string): Promise<void> {
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

/** The order saga's dead letters and its bookkeeping around each replay. */
export function orderRedrive(deps: OrderDeps): RedriveApp {
  return {
    idField: TABLES.Orders.partitionKey,
    steps: DEAD_LETTER_STEPS,
    inputSchema: z.looseObject({
      orderId: z.string().check(z.minLength(1)),
      customerId: z.string(),
      items: z.array(z.unknown()),
    }),
    pivotErrors: [PIVOT_COMMITTED],
    hooks: {
      triage: async (letter) => {
        const status = await orderStatus(deps, letter.sagaId);
        const unsettled = status !== undefined && UNSETTLED_STATUSES.includes(status);
        if (letter.step === RECORD_FAILURE) {
          // A replay whose outcome is already written (an earlier attempt committed): nothing to do.
          return status !== undefined && !unsettled
            ? { action: 'settle', detail: `order ${status}: outcome already recorded` }
            : { action: 'replay' };
        }
        // Its outcome not written yet, the unwind may still be running: RecordFailure has to list this
        // compensation as failed first, or the order would end NEEDS_ATTENTION with nothing left to redrive.
        return unsettled
          ? { action: 'hold', detail: `order is still ${status}: its execution is still unwinding` }
          : { action: 'replay' };
      },
      settled: async (letter, settled) => {
        if (letter.step === RECORD_FAILURE) {
          // The unwind finished but its outcome was never written: the replay wrote it.
          const recorded = await orderStatus(deps, letter.sagaId);
          if (recorded === 'CANCELLED') deps.onOrderCancelled?.(letter.sagaId);
          return `order ${recorded ?? 'unknown'}: outcome recorded`;
        }
        const orderNow = await settleOrder(deps, letter.sagaId, letter.step);
        return settled.pivotKept
          ? `order ${orderNow}: the confirmation had committed, nothing undone`
          : describeSettled(`order ${orderNow}`, letter, settled);
      },
      parked: (letter: DeadLetter, step) => markFailed(deps, letter.sagaId, step),
      applies: (letter, step) => step !== 'ReleasePromo' || !!letter.input.promoCode,
    },
  };
}

/** Replays the order saga's DLQ until it is empty (or time runs short). */
export function redriveDeadLetters(deps: RedriveDeps): Promise<RedriveReport> {
  const { doc, ordersTable, onOrderCancelled, orderId, compensationFunctions, ...run } = deps;
  return redriveSaga({
    ...run,
    ...orderRedrive({ doc, ordersTable, ...(onOrderCancelled ? { onOrderCancelled } : {}) }),
    compensationFunctions: compensationFunctions as Record<string, string>,
    ...(orderId !== undefined ? { sagaId: orderId } : {}),
  }) as Promise<RedriveReport>;
}
