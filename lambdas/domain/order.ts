/**
 * The Orders read model and the pivot of the saga.
 *
 * - ConfirmOrder: `PENDING → CONFIRMED` with the total, plus its IdempotencyKeys record, in one
 *   transaction (the point of no return).
 * - RejectOrder: ConfirmOrder's guard. Not confirmed yet → TOMBSTONE (a late ConfirmOrder refuses).
 *   Confirmed (the confirmation committed but was reported as failed) → `OrderAlreadyConfirmed`, which the
 *   state machine routes to success: a confirmed order is never unwound.
 * - RecordFailure: writes the outcome of an unwound saga: `CANCELLED` (failed step and reason) or
 *   `NEEDS_ATTENTION` (compensations that ended in the DLQ).
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type CancelReason,
  type CompensationName,
  type ConfirmOrderResult,
  type OrderRecord,
  type OrderSagaState,
  type OrderStatus,
  REVIEW_REJECTED,
  STATE_NAMES,
  STATES_TIMEOUT,
  type StepName,
  UNSETTLED_STATUSES,
} from '../../lib/contract';
import { InvalidSagaInputError, TransientError } from '../../toolkit/runtime/errors';
import {
  asTransient,
  type CompensationResult,
  runAction,
  runCompensation,
} from '../../toolkit/runtime/step-engine';
import { OrderAlreadyConfirmedError, OrderCancelledError, OrderNotPendingError } from '../shared/errors';
import { type StepDeps, storeOf } from '../shared/step-handler';

export type OrderDeps = StepDeps<'Orders' | 'IdempotencyKeys'>;

export interface ConfirmHooks {
  /** Called once, by the invocation that committed the confirmation (not by replays). */
  onConfirmed?(): void;
}

export async function confirmOrder(
  saga: OrderSagaState,
  deps: OrderDeps,
  hooks: ConfirmHooks = {},
): Promise<ConfirmOrderResult> {
  const { orderId } = saga;
  const total = saga.results?.ReserveStock?.total;
  if (typeof total !== 'number') {
    throw new InvalidSagaInputError(`Order ${orderId} has no total at results.ReserveStock.total`);
  }
  return runAction<ConfirmOrderResult>(storeOf(deps), {
    sagaId: orderId,
    step: 'ConfirmOrder',
    onCommitted: () => hooks.onConfirmed?.(),
    async plan() {
      return {
        writes: [
          {
            Update: {
              TableName: deps.tables.Orders,
              Key: { orderId },
              // The review token is forgotten here too, in case the API died before removing it.
              UpdateExpression:
                'SET #status = :confirmed, #total = :total, updatedAt = :now REMOVE taskToken',
              ConditionExpression: '#status = :pending',
              ExpressionAttributeNames: { '#status': 'status', '#total': 'total' },
              ExpressionAttributeValues: {
                ':confirmed': 'CONFIRMED',
                ':pending': 'PENDING',
                ':total': total,
                ':now': new Date().toISOString(),
              },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
        result: { status: 'CONFIRMED', total },
        effect: { status: 'CONFIRMED', total },
        // The pivot's own condition (PENDING) is the cancellation check: a CANCELLING order never confirms.
        onConditionFailed: (_index, old) =>
          old?.status === 'CANCELLING' || old?.status === 'CANCELLED'
            ? new OrderCancelledError(orderId, 'ConfirmOrder')
            : new OrderNotPendingError(orderId, old?.status as string | undefined),
      };
    },
  });
}

export async function rejectOrder(
  saga: OrderSagaState,
  deps: StepDeps<'IdempotencyKeys'>,
): Promise<CompensationResult> {
  return runCompensation(storeOf(deps), {
    sagaId: saga.orderId,
    step: 'ConfirmOrder',
    compensation: 'RejectOrder',
    reverse() {
      throw new OrderAlreadyConfirmedError(saga.orderId);
    },
  });
}

export interface RecordedFailure {
  orderId: string;
  status: Extract<OrderStatus, 'CANCELLED' | 'NEEDS_ATTENTION'>;
  failedStep?: StepName;
  reason: string;
  failedCompensations?: CompensationName[];
  /** False when the order had already left PENDING (a duplicate run, or redrive got there first). */
  changed: boolean;
  previousStatus?: OrderStatus;
}

/**
 * The human message of a Step Functions `Cause`: for a Lambda error that is the JSON
 * `{"errorType","errorMessage","trace"}` the runtime reports; other causes are kept if short.
 */
export function causeMessage(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed: unknown = JSON.parse(cause);
    if (typeof parsed === 'object' && parsed !== null && 'errorMessage' in parsed) {
      const message = (parsed as { errorMessage: unknown }).errorMessage;
      return typeof message === 'string' && message ? message : undefined;
    }
    return undefined;
  } catch {
    return cause.length <= 500 ? cause : `${cause.slice(0, 497)}...`;
  }
}

/** `InsufficientStock: Not enough stock of SKU-1: 999 requested, 100 available`. */
export function failureReason(failure: OrderSagaState['failure']): string {
  if (!failure) return 'Unknown failure (no failure recorded in the saga state)';
  const message = causeMessage(failure.cause);
  return message ? `${failure.error}: ${message}` : failure.error;
}

/**
 * Why the saga unwound when no step failed on its own: the order was cancelled (CANCELLING carries the
 * reason the API decided: CustomerCancelled or ReviewRejected), the review was rejected, or its deadline
 * passed (the review Task's States.Timeout). Undefined: a step failed, and `reason` names its error.
 * A rejection recorded on the order whose wait still timed out never reached the saga (the API died
 * between its write and SendTaskFailure, and no retry came before the deadline): the deadline decided.
 */
export function cancelReasonOf(
  saga: Pick<OrderSagaState, 'failure'>,
  order: Pick<OrderRecord, 'status' | 'cancelReason'> | undefined,
): CancelReason | undefined {
  const reviewTimedOut =
    saga.failure?.step === STATE_NAMES.requestReview && saga.failure.error === STATES_TIMEOUT;
  if (order?.status === 'CANCELLING') {
    return reviewTimedOut && order.cancelReason === REVIEW_REJECTED
      ? 'ReviewTimedOut'
      : (order.cancelReason ?? 'CustomerCancelled');
  }
  if (saga.failure?.error === 'OrderCancelled') return order?.cancelReason ?? 'CustomerCancelled';
  if (saga.failure?.error === REVIEW_REJECTED) return 'ReviewRejected';
  if (reviewTimedOut) return 'ReviewTimedOut';
  return undefined;
}

/** Writes the final read model of an unwound order. Idempotent: a re-run writes the same. */
export async function recordFailure(
  saga: OrderSagaState,
  deps: StepDeps<'Orders'>,
): Promise<RecordedFailure> {
  const failedCompensations = Object.keys(saga.deadLettered ?? {}).sort() as CompensationName[];
  const status = failedCompensations.length > 0 ? 'NEEDS_ATTENTION' : 'CANCELLED';
  // The reason depends on the order's status (a cancel sets CANCELLING), so the write is conditioned on the
  // status it was decided from: a cancel landing between the read and the write makes the write fail, and
  // the decision is taken again on what the cancel wrote (a few rounds at most: a cancel happens once).
  for (let round = 1; ; round++) {
    const decided = await decideAndWrite(saga, deps, status, failedCompensations);
    if (decided !== 'raced') return decided;
    if (round >= 3)
      throw new TransientError(`Order ${saga.orderId} kept changing while its outcome was recorded`);
  }
}

async function decideAndWrite(
  saga: OrderSagaState,
  deps: StepDeps<'Orders'>,
  status: 'CANCELLED' | 'NEEDS_ATTENTION',
  failedCompensations: CompensationName[],
): Promise<RecordedFailure | 'raced'> {
  // One consistent read on the failure path only: the order says whether it was cancelled (and why).
  const current = (
    await deps.doc
      .send(
        new GetCommand({
          TableName: deps.tables.Orders,
          Key: { orderId: saga.orderId },
          ConsistentRead: true,
        }),
      )
      .catch((error: unknown) => {
        throw asTransient(error);
      })
  ).Item as OrderRecord | undefined;
  // Unsettled: the write below is conditioned on it. Absent or settled: the usual condition decides.
  const readStatus = current && UNSETTLED_STATUSES.includes(current.status) ? current.status : undefined;
  const cancelReason = cancelReasonOf(saga, current);
  const reason = cancelReason ?? failureReason(saga.failure);
  const step = saga.failure?.step;
  const failedStep = !cancelReason && step && step !== STATE_NAMES.requestReview ? step : undefined;
  const now = new Date().toISOString();
  const set = [
    '#status = :status',
    'reason = :reason',
    'updatedAt = :now',
    'customerId = if_not_exists(customerId, :customerId)',
    '#items = if_not_exists(#items, :items)',
    'deliverySlot = if_not_exists(deliverySlot, :slot)',
    'createdAt = if_not_exists(createdAt, :now)',
    ...(failedStep ? ['failedStep = :failedStep'] : []),
    ...(failedCompensations.length > 0 ? ['failedCompensations = :failed'] : []),
  ];
  const remove = [
    'taskToken',
    // A timed-out review has no decision: one recorded on the order never reached the saga.
    ...(cancelReason === 'ReviewTimedOut' ? ['reviewDecision', 'reviewNote', 'cancelReason'] : []),
    ...(failedStep ? [] : ['failedStep']),
    ...(failedCompensations.length > 0 ? [] : ['failedCompensations']),
  ];
  try {
    const out = await deps.doc.send(
      new UpdateCommand({
        TableName: deps.tables.Orders,
        Key: { orderId: saga.orderId },
        UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
        // Only an unsettled order (PENDING, AWAITING_REVIEW, CANCELLING) takes the outcome: a duplicate run,
        // or a replay from the DLQ after redrive settled some compensations, must not put back what was
        // settled; a confirmed order is left alone. And only while it still has the status read above.
        ConditionExpression: readStatus
          ? '#status = :read'
          : `attribute_not_exists(orderId) OR #status IN (${UNSETTLED_STATUSES.map((_, i) => `:u${i}`).join(', ')})`,
        ExpressionAttributeNames: { '#status': 'status', '#items': 'items' },
        ExpressionAttributeValues: {
          ':status': status,
          ...(readStatus
            ? { ':read': readStatus }
            : Object.fromEntries(UNSETTLED_STATUSES.map((s, i) => [`:u${i}`, s]))),
          ':reason': reason,
          ':now': now,
          ':customerId': saga.customerId,
          ':items': saga.items,
          ':slot': saga.deliverySlot,
          ...(failedStep ? { ':failedStep': failedStep } : {}),
          ...(failedCompensations.length > 0 ? { ':failed': new Set(failedCompensations) } : {}),
        },
        ReturnValues: 'UPDATED_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    const previousStatus = out.Attributes?.status as OrderStatus | undefined;
    return {
      orderId: saga.orderId,
      status,
      ...(failedStep ? { failedStep } : {}),
      reason,
      ...(failedCompensations.length > 0 ? { failedCompensations } : {}),
      changed: previousStatus !== status,
      ...(previousStatus ? { previousStatus } : {}),
    };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      const current = error.Item?.status?.S as OrderStatus | undefined;
      if (current && UNSETTLED_STATUSES.includes(current)) return 'raced';
      return {
        orderId: saga.orderId,
        status,
        ...(failedStep ? { failedStep } : {}),
        reason,
        ...(failedCompensations.length > 0 ? { failedCompensations } : {}),
        changed: false,
        ...(current ? { previousStatus: current } : {}),
      };
    }
    throw asTransient(error);
  }
}

export interface RequestedReview {
  orderId: string;
  status: 'AWAITING_REVIEW';
}

/**
 * RequestReview (a `.waitForTaskToken` Task): stores the task token on the order and sets
 * AWAITING_REVIEW, in one conditional write. The execution then waits for `POST /orders/{id}/review`
 * (SendTaskSuccess/SendTaskFailure with this token) or the Task's TimeoutSeconds. A cancelled order
 * refuses (`OrderCancelled`); a redriven wait stores its new token over the old one.
 */
export async function requestReview(
  saga: OrderSagaState,
  taskToken: string | undefined,
  deps: StepDeps<'Orders'>,
): Promise<RequestedReview> {
  if (!taskToken) {
    throw new InvalidSagaInputError(`${STATE_NAMES.requestReview} needs context.taskToken ($$.Task.Token)`);
  }
  try {
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.tables.Orders,
        Key: { orderId: saga.orderId },
        UpdateExpression: 'SET #status = :awaiting, taskToken = :token, #total = :total, updatedAt = :now',
        ConditionExpression: '#status IN (:pending, :awaiting)',
        ExpressionAttributeNames: { '#status': 'status', '#total': 'total' },
        ExpressionAttributeValues: {
          ':awaiting': 'AWAITING_REVIEW',
          ':pending': 'PENDING',
          ':token': taskToken,
          ':total': saga.results?.ReserveStock?.total ?? 0,
          ':now': new Date().toISOString(),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { orderId: saga.orderId, status: 'AWAITING_REVIEW' };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      const current = error.Item?.status?.S;
      if (current === 'CANCELLING' || current === 'CANCELLED') {
        throw new OrderCancelledError(saga.orderId, STATE_NAMES.requestReview);
      }
      throw new OrderNotPendingError(saga.orderId, current);
    }
    throw asTransient(error);
  }
}
