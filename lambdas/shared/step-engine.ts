/**
 * The idempotent step engine (design §2): exactly-once effects on at-least-once delivery.
 *
 * Action: ONE `TransactWriteItems` = the business change (conditional) + `IdempotencyKeys[orderId, step]`
 * put with `attribute_not_exists`. A duplicate replays the recorded result; a step whose key was already
 * compensated or tombstoned refuses with `SagaStepCancelled`.
 *
 * Compensation: reads the action's key. `DONE` → ONE transaction that reverses the recorded `effect` and
 * moves the key to `COMPENSATED` (condition `state = DONE`). Absent → `TOMBSTONE` (condition
 * `attribute_not_exists`), so a late action refuses. `COMPENSATED`/`TOMBSTONE` → no-op.
 *
 * Failed conditions are mapped to business errors from `CancellationReasons` with the item's old image
 * (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`), so no extra read decides which error it was.
 */
import {
  type CancellationReason,
  DynamoDBServiceException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { CompensationName, IdempotencyRecord, SagaOperation, StepName } from '../../lib/contract';
import { SagaStepCancelledError, TransientError } from './errors';

/** One item of a `TransactWriteItems` request (DocumentClient form). */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
export type Item = Record<string, unknown>;

/** Idempotency records expire 30 days after their last write (table TTL attribute `expiresAt`). */
export const IDEMPOTENCY_TTL_SECONDS = 30 * 24 * 60 * 60;
/** Attempts to settle a race with a concurrent duplicate before reporting a transient failure. */
const MAX_RACE_ROUNDS = 3;

export interface StepStore {
  doc: DynamoDBDocumentClient;
  /** Physical name of the IdempotencyKeys table. */
  idempotencyTable: string;
  now?: () => Date;
}

export interface ActionPlan<R> {
  /** Business writes, each with the condition that guards it. */
  writes: TransactItem[];
  /** Returned to the caller and replayed to duplicates. */
  result: R;
  /** What the writes changed: the compensation reverses exactly this. */
  effect: Item;
  /** The business error for a failed condition on `writes[index]`; `oldItem` is absent if the item was. */
  onConditionFailed(index: number, oldItem: Item | undefined): Error;
}

export interface ActionSpec<R> {
  orderId: string;
  step: StepName;
  /** Reads what it needs and plans the writes. Only called when the step has not run yet. */
  plan(): Promise<ActionPlan<R>>;
  /** Called once, by the invocation whose transaction committed (never by a replay). */
  onCommitted?(result: R): void;
}

export interface CompensationPlan {
  /** Writes that reverse the recorded effect (empty when there is nothing to undo). */
  writes: TransactItem[];
  onConditionFailed?(index: number, oldItem: Item | undefined): Error;
}

export interface CompensationSpec {
  orderId: string;
  /** The forward step being compensated (its key is the one that changes state). */
  step: StepName;
  compensation: CompensationName;
  /** Builds the reversal from the action's record (never from current state). May throw to refuse. */
  reverse(record: IdempotencyRecord): CompensationPlan | Promise<CompensationPlan>;
}

export type CompensationOutcome = 'compensated' | 'tombstoned' | 'already-compensated' | 'already-tombstoned';
export interface CompensationResult {
  orderId: string;
  step: StepName;
  compensation: CompensationName;
  outcome: CompensationOutcome;
}

function timestamps(store: StepStore): { now: string; expiresAt: number } {
  const date = store.now?.() ?? new Date();
  return { now: date.toISOString(), expiresAt: Math.floor(date.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS };
}

export async function readRecord(
  store: StepStore,
  orderId: string,
  step: SagaOperation,
): Promise<IdempotencyRecord | undefined> {
  const out = await store.doc.send(
    new GetCommand({ TableName: store.idempotencyTable, Key: { orderId, step }, ConsistentRead: true }),
  );
  return out.Item as IdempotencyRecord | undefined;
}

function replayOrRefuse<R>(record: IdempotencyRecord): R {
  if (record.state === 'DONE') return record.result as R;
  throw new SagaStepCancelledError(record.orderId, record.step, record.state);
}

function oldImage(reason: CancellationReason | undefined): Item | undefined {
  return reason?.Item ? unmarshall(reason.Item) : undefined;
}

const RETRYABLE_DYNAMODB_ERRORS = new Set([
  'TransactionConflictException',
  'TransactionInProgressException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

/** Throttling and conflicts become `TransientError` (the state machine retries those); others pass. */
export function asTransient(error: unknown): unknown {
  if (error instanceof DynamoDBServiceException && RETRYABLE_DYNAMODB_ERRORS.has(error.name)) {
    return new TransientError(`DynamoDB ${error.name}: ${error.message}`, { cause: error });
  }
  return error;
}

function conflictOf(reasons: CancellationReason[]): TransientError | undefined {
  const conflict = reasons.find((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError');
  return conflict
    ? new TransientError(`Transaction cancelled by a concurrent write (${conflict.Code}): retry`)
    : undefined;
}

/** Runs an action exactly once per (orderId, step); a duplicate gets the recorded result. */
export async function runAction<R>(store: StepStore, spec: ActionSpec<R>): Promise<R> {
  const existing = await readRecord(store, spec.orderId, spec.step);
  if (existing) return replayOrRefuse<R>(existing);

  const plan = await spec.plan();
  const { now, expiresAt } = timestamps(store);
  const key: IdempotencyRecord = {
    orderId: spec.orderId,
    step: spec.step,
    state: 'DONE',
    result: plan.result,
    effect: plan.effect,
    createdAt: now,
    updatedAt: now,
    expiresAt,
  };
  try {
    await store.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: store.idempotencyTable,
              Item: key,
              ConditionExpression: 'attribute_not_exists(orderId)',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          ...plan.writes,
        ],
      }),
    );
    spec.onCommitted?.(plan.result);
    return plan.result;
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw asTransient(error);
    const reasons = error.CancellationReasons ?? [];
    // A concurrent duplicate (or a compensation) got there first: its record decides.
    if (reasons[0]?.Code === 'ConditionalCheckFailed') {
      const winner = oldImage(reasons[0]) as IdempotencyRecord | undefined;
      if (winner) return replayOrRefuse<R>(winner);
      const reread = await readRecord(store, spec.orderId, spec.step);
      if (reread) return replayOrRefuse<R>(reread);
    }
    const failed = reasons.findIndex((r, i) => i > 0 && r.Code === 'ConditionalCheckFailed');
    if (failed > 0) throw plan.onConditionFailed(failed - 1, oldImage(reasons[failed]));
    throw conflictOf(reasons) ?? error;
  }
}

/**
 * Compensates an action: reverses its recorded effect once, or tombstones it if it never ran.
 * Safe to repeat, and safe to run before (or concurrently with) a late action.
 */
export async function runCompensation(store: StepStore, spec: CompensationSpec): Promise<CompensationResult> {
  const done = (outcome: CompensationOutcome): CompensationResult => ({
    orderId: spec.orderId,
    step: spec.step,
    compensation: spec.compensation,
    outcome,
  });
  for (let round = 0; round < MAX_RACE_ROUNDS; round++) {
    const record = await readRecord(store, spec.orderId, spec.step);
    if (record?.state === 'COMPENSATED') return done('already-compensated');
    if (record?.state === 'TOMBSTONE') return done('already-tombstoned');
    const { now, expiresAt } = timestamps(store);

    if (!record) {
      const tombstone: IdempotencyRecord = {
        orderId: spec.orderId,
        step: spec.step,
        state: 'TOMBSTONE',
        createdAt: now,
        updatedAt: now,
        expiresAt,
      };
      try {
        await store.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: store.idempotencyTable,
                  Item: { ...tombstone, compensatedBy: spec.compensation },
                  ConditionExpression: 'attribute_not_exists(orderId)',
                },
              },
            ],
          }),
        );
        return done('tombstoned');
      } catch (error) {
        if (
          error instanceof TransactionCanceledException &&
          error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
        ) {
          continue; // the action committed meanwhile: read again and reverse it
        }
        throw asTransient(error);
      }
    }

    const plan = await spec.reverse(record);
    try {
      await store.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: store.idempotencyTable,
                Key: { orderId: spec.orderId, step: spec.step },
                UpdateExpression:
                  'SET #state = :compensated, updatedAt = :now, expiresAt = :exp, compensatedBy = :by',
                ConditionExpression: '#state = :done',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: {
                  ':compensated': 'COMPENSATED',
                  ':done': 'DONE',
                  ':now': now,
                  ':exp': expiresAt,
                  ':by': spec.compensation,
                },
              },
            },
            ...plan.writes,
          ],
        }),
      );
      return done('compensated');
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw asTransient(error);
      const reasons = error.CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') continue; // a concurrent duplicate won
      const failed = reasons.findIndex((r, i) => i > 0 && r.Code === 'ConditionalCheckFailed');
      if (failed > 0 && plan.onConditionFailed) {
        throw plan.onConditionFailed(failed - 1, oldImage(reasons[failed]));
      }
      throw conflictOf(reasons) ?? error;
    }
  }
  throw new TransientError(
    `${spec.compensation} for order ${spec.orderId} kept racing with a concurrent ${spec.step}: retry`,
  );
}
