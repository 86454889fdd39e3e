/**
 * The idempotent step engine: exactly-once effects on at-least-once delivery.
 *
 * Action: ONE `TransactWriteItems` = the business change (conditional) + `IdempotencyKeys[<id>, step]`
 * put with `attribute_not_exists` (`<id>` is the saga's id attribute, `StepStore.idAttribute`).
 * An optional guard (`StepStore.guard`) adds one more item to that transaction, for example a
 * `ConditionCheck` that the saga was not cancelled meanwhile. A duplicate replays the recorded result; a step whose key was already
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
import { SagaStepCancelledError, TransientError } from './errors';

/** One item of a `TransactWriteItems` request (DocumentClient form). */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
export type Item = Record<string, unknown>;

/** Idempotency records expire 30 days after their last write (table TTL attribute `expiresAt`). */
export const IDEMPOTENCY_TTL_SECONDS = 30 * 24 * 60 * 60;
/** Attempts to settle a race with a concurrent duplicate before reporting a transient failure. */
const MAX_RACE_ROUNDS = 3;
/**
 * Attempts at a transaction DynamoDB cancels for a concurrent write to the same item (a hot SKU, a busy
 * account) before the `TransientError` goes to the state machine's Retry. Retrying here costs a few
 * milliseconds of Lambda time; a Retry costs a state transition and seconds of backoff.
 */
const CONFLICT_ATTEMPTS = 5;
/** Full-jitter backoff between those attempts: a random delay in [0, base × 2^attempt) ms. */
const CONFLICT_BASE_DELAY_MS = 15;

/** The idempotency record of one step of one saga, as stored (`IdempotencyKeys[<id>, step]`). */
export interface StepRecord {
  step: string;
  state: 'DONE' | 'COMPENSATED' | 'TOMBSTONE';
  /** The action's result, replayed to duplicates (DONE only). */
  result?: unknown;
  /** What the action changed: its compensation reverses exactly this. */
  effect?: Item;
  /** The compensation that moved the record to COMPENSATED or TOMBSTONE. */
  compensatedBy?: string;
  createdAt: string;
  updatedAt: string;
  /** Epoch seconds: the table's TTL attribute. */
  expiresAt: number;
  /** The saga's id, under the saga's `idAttribute`. */
  [idAttribute: string]: unknown;
}

/**
 * A check that rides in every action's transaction, right after the key record: when its condition fails,
 * the action refuses with `error` (for example: the saga was cancelled in DynamoDB, so a step refuses in
 * its own transaction, with no extra read or request).
 */
export interface ActionGuard {
  item(sagaId: string): TransactItem;
  error(sagaId: string, step: string): Error;
}

export interface StepStore {
  doc: DynamoDBDocumentClient;
  /** Physical name of the IdempotencyKeys table (partition key `idAttribute`, sort key `step`). */
  idempotencyTable: string;
  /**
   * The partition key of the IdempotencyKeys table: the attribute that holds the saga's id in every
   * record. A name of the saga's persisted data: choose it once.
   */
  idAttribute: string;
  guard?: ActionGuard;
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

/** `S`: the step names of the saga. A record is keyed by the saga's id and the step name. */
export interface ActionSpec<R, S extends string = string> {
  sagaId: string;
  step: S;
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

export interface CompensationSpec<S extends string = string, C extends string = string> {
  sagaId: string;
  /** The forward step being compensated (its key is the one that changes state). */
  step: S;
  compensation: C;
  /** Builds the reversal from the action's record (never from current state). May throw to refuse. */
  reverse(record: StepRecord): CompensationPlan | Promise<CompensationPlan>;
}

export type CompensationOutcome = 'compensated' | 'tombstoned' | 'already-compensated' | 'already-tombstoned';
/** What a compensation returns (its function's output): the saga's id is under the store's `idAttribute`. */
export type CompensationResult<S extends string = string, C extends string = string> = {
  step: S;
  compensation: C;
  outcome: CompensationOutcome;
} & Record<string, string>;

function timestamps(store: StepStore): { now: string; expiresAt: number } {
  const date = store.now?.() ?? new Date();
  return { now: date.toISOString(), expiresAt: Math.floor(date.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS };
}

/** The key of `step`'s record for saga `sagaId`. */
function keyOf(store: StepStore, sagaId: string, step: string): Item {
  return { [store.idAttribute]: sagaId, step };
}

export async function readRecord(
  store: StepStore,
  sagaId: string,
  step: string,
): Promise<StepRecord | undefined> {
  const out = await store.doc.send(
    new GetCommand({
      TableName: store.idempotencyTable,
      Key: keyOf(store, sagaId, step),
      ConsistentRead: true,
    }),
  );
  return out.Item as StepRecord | undefined;
}

function replayOrRefuse<R>(record: StepRecord, sagaId: string): R {
  if (record.state === 'DONE') return record.result as R;
  throw new SagaStepCancelledError(sagaId, record.step, record.state);
}

/**
 * The Put of a new key record of `step` (`state` and `fields`), with the condition that there is none yet
 * (`attribute_not_exists(<id>)`); a failed condition returns the record that was there.
 */
function putNewKey(
  store: StepStore,
  spec: { sagaId: string; step: string },
  state: StepRecord['state'],
  fields: Partial<StepRecord>,
): TransactItem {
  const { now, expiresAt } = timestamps(store);
  const item: StepRecord = {
    ...keyOf(store, spec.sagaId, spec.step),
    step: spec.step,
    state,
    ...fields,
    createdAt: now,
    updatedAt: now,
    expiresAt,
  };
  return {
    Put: {
      TableName: store.idempotencyTable,
      Item: item,
      ConditionExpression: 'attribute_not_exists(#id)',
      ExpressionAttributeNames: { '#id': store.idAttribute },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
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

/**
 * A transaction DynamoDB cancelled for a concurrent write: retried in the function first, then handed to
 * the state machine, which sees a `TransientError` (the name is inherited: Retry matches it).
 */
class TransactionConflictError extends TransientError {}

function conflictOf(reasons: CancellationReason[]): TransientError | undefined {
  const conflict = reasons.find((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError');
  return conflict
    ? new TransactionConflictError(`Transaction cancelled by a concurrent write (${conflict.Code}): retry`)
    : undefined;
}

/** Runs `attempt` again (fresh reads, fresh plan) while DynamoDB cancels it for a concurrent write. */
async function retryingConflicts<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof TransactionConflictError) || n >= CONFLICT_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * CONFLICT_BASE_DELAY_MS * 2 ** n));
    }
  }
}

/**
 * Why a `[key record, ...business writes]` transaction was cancelled. Anything but a cancellation is
 * rethrown (throttling as `TransientError`).
 */
interface Cancellation {
  reasons: CancellationReason[];
  /** The key record's own condition failed: a duplicate (or a compensation) got there first. */
  keyTaken: boolean;
  /** The first business write whose condition failed (index into the plan's writes), with its old image. */
  failedWrite?: { index: number; old: Item | undefined };
}

function cancellationOrThrow(error: unknown): Cancellation {
  if (!(error instanceof TransactionCanceledException)) throw asTransient(error);
  const reasons = error.CancellationReasons ?? [];
  const failed = reasons.findIndex((r, i) => i > 0 && r.Code === 'ConditionalCheckFailed');
  return {
    reasons,
    keyTaken: reasons[0]?.Code === 'ConditionalCheckFailed',
    ...(failed > 0 ? { failedWrite: { index: failed - 1, old: oldImage(reasons[failed]) } } : {}),
  };
}

/** Runs an action exactly once per (saga id, step); a duplicate gets the recorded result. */
export function runAction<R, S extends string = string>(
  store: StepStore,
  spec: ActionSpec<R, S>,
): Promise<R> {
  return retryingConflicts(() => attemptAction(store, spec));
}

async function attemptAction<R, S extends string>(store: StepStore, spec: ActionSpec<R, S>): Promise<R> {
  const existing = await readRecord(store, spec.sagaId, spec.step);
  if (existing) return replayOrRefuse<R>(existing, spec.sagaId);

  const plan = await spec.plan();
  const guard = store.guard ? [store.guard.item(spec.sagaId)] : [];
  try {
    await store.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          putNewKey(store, spec, 'DONE', { result: plan.result, effect: plan.effect }),
          ...guard,
          ...plan.writes,
        ],
      }),
    );
    spec.onCommitted?.(plan.result);
    return plan.result;
  } catch (error) {
    const { reasons, keyTaken, failedWrite } = cancellationOrThrow(error);
    // A concurrent duplicate (or a compensation) got there first: its record decides.
    if (keyTaken) {
      const winner = oldImage(reasons[0]) as StepRecord | undefined;
      if (winner) return replayOrRefuse<R>(winner, spec.sagaId);
      const reread = await readRecord(store, spec.sagaId, spec.step);
      if (reread) return replayOrRefuse<R>(reread, spec.sagaId);
    }
    // The guard sits right after the key: its refusal wins over any business refusal.
    if (failedWrite && store.guard && failedWrite.index === 0) {
      throw store.guard.error(spec.sagaId, spec.step);
    }
    if (failedWrite) throw plan.onConditionFailed(failedWrite.index - guard.length, failedWrite.old);
    throw conflictOf(reasons) ?? error;
  }
}

/**
 * Compensates an action: reverses its recorded effect once, or tombstones it if it never ran.
 * Safe to repeat, and safe to run before (or concurrently with) a late action.
 */
export function runCompensation<S extends string = string, C extends string = string>(
  store: StepStore,
  spec: CompensationSpec<S, C>,
): Promise<CompensationResult<S, C>> {
  return retryingConflicts(() => attemptCompensation(store, spec));
}

async function attemptCompensation<S extends string, C extends string>(
  store: StepStore,
  spec: CompensationSpec<S, C>,
): Promise<CompensationResult<S, C>> {
  const done = (outcome: CompensationOutcome): CompensationResult<S, C> => ({
    [store.idAttribute]: spec.sagaId,
    step: spec.step,
    compensation: spec.compensation,
    outcome,
  });
  for (let round = 0; round < MAX_RACE_ROUNDS; round++) {
    const record = await readRecord(store, spec.sagaId, spec.step);
    if (record?.state === 'COMPENSATED') return done('already-compensated');
    if (record?.state === 'TOMBSTONE') return done('already-tombstoned');

    if (!record) {
      try {
        await store.doc.send(
          new TransactWriteCommand({
            TransactItems: [putNewKey(store, spec, 'TOMBSTONE', { compensatedBy: spec.compensation })],
          }),
        );
        return done('tombstoned');
      } catch (error) {
        const { reasons, keyTaken } = cancellationOrThrow(error);
        if (keyTaken) continue; // the action committed meanwhile: read again and reverse it
        throw conflictOf(reasons) ?? error;
      }
    }

    const plan = await spec.reverse(record);
    const { now, expiresAt } = timestamps(store);
    try {
      await store.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: store.idempotencyTable,
                Key: keyOf(store, spec.sagaId, spec.step),
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
      const { reasons, keyTaken, failedWrite } = cancellationOrThrow(error);
      if (keyTaken) continue; // a concurrent duplicate won
      if (failedWrite && plan.onConditionFailed)
        throw plan.onConditionFailed(failedWrite.index, failedWrite.old);
      throw conflictOf(reasons) ?? error;
    }
  }
  throw new TransientError(
    `${spec.compensation} for ${spec.sagaId} kept racing with a concurrent ${spec.step}: retry`,
  );
}
