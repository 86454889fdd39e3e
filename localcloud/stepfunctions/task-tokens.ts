/**
 * Task tokens of the callback pattern (`.waitForTaskToken` resources): the token a Task state hands out
 * through `$$.Task.Token`, and the outcome its worker reports with SendTaskSuccess / SendTaskFailure
 * (SendTaskHeartbeat keeps it alive).
 *
 * A token is issued when the state evaluates `$$.Task.Token` (or when the Task starts, if nothing read
 * it), before the integration call: a worker may answer while that call is still running (a Lambda
 * function that calls SendTaskSuccess itself). The first outcome wins; once the Task has closed
 * (succeeded, failed, timed out, execution stopped) every call with its token is refused with
 * `TaskTimedOut`, as on AWS.
 */
import { randomBytes } from 'node:crypto';
import type { JsonValue } from './integrations';

export type CallbackOutcome =
  | { status: 'SUCCEEDED'; output: JsonValue }
  | { status: 'FAILED'; error?: string; cause?: string }
  /** The Task ended first (its execution stopped): whoever still waits gives up. */
  | { status: 'CLOSED' };

/** Why SendTask* refused a token (the Step Functions API error name and message). */
export class TaskTokenError extends Error {
  constructor(
    readonly errorType: 'InvalidToken' | 'TaskDoesNotExist' | 'TaskTimedOut',
    message: string,
  ) {
    super(message);
    this.name = errorType;
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

interface TokenRecord {
  outcome: Deferred<CallbackOutcome>;
  settled: boolean;
  closed: boolean;
  /** Called on every SendTaskHeartbeat while the Task waits. */
  onHeartbeat?: () => void;
}

/** AWS tokens are opaque base64 text starting with "AQ" (at most 1024 characters). */
const TOKEN_SHAPE = /^AQ[A-Za-z0-9_-]{86}$/;
/** Closed tokens remembered to answer TaskTimedOut (older ones are forgotten: TaskDoesNotExist). */
const MAX_CLOSED = 100_000;

/** The task tokens of one Step Functions service (every execution of every state machine). */
export class TaskTokens {
  private readonly records = new Map<string, TokenRecord>();
  private readonly closedOrder: string[] = [];

  /** A new, unique, opaque token whose outcome `outcome(token)` will carry. */
  issue(): string {
    const token = `AQ${randomBytes(64).toString('base64url')}`;
    this.records.set(token, { outcome: withResolvers<CallbackOutcome>(), settled: false, closed: false });
    return token;
  }

  /** Settles with the first SendTaskSuccess/SendTaskFailure for the token. */
  outcome(token: string): Promise<CallbackOutcome> {
    const record = this.records.get(token);
    if (!record) throw new Error(`unknown task token ${token.slice(0, 12)}...`);
    return record.outcome.promise;
  }

  /** Called on each SendTaskHeartbeat for the token (replaces the previous listener). */
  onHeartbeat(token: string, listener: () => void): void {
    const record = this.records.get(token);
    if (record) record.onHeartbeat = listener;
  }

  /** The Task is over: later SendTask* calls with its token are refused with TaskTimedOut. */
  close(token: string): void {
    const record = this.records.get(token);
    if (!record || record.closed) return;
    record.closed = true;
    record.onHeartbeat = undefined;
    if (!record.settled) record.outcome.resolve({ status: 'CLOSED' });
    this.closedOrder.push(token);
    if (this.closedOrder.length > MAX_CLOSED) {
      const forgotten = this.closedOrder.shift();
      if (forgotten !== undefined) this.records.delete(forgotten);
    }
  }

  succeed(token: string, output: JsonValue): void {
    this.settle(token, { status: 'SUCCEEDED', output });
  }

  fail(token: string, error?: string, cause?: string): void {
    this.settle(token, {
      status: 'FAILED',
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  heartbeat(token: string): void {
    this.open(token).onHeartbeat?.();
  }

  private settle(token: string, outcome: CallbackOutcome): void {
    const record = this.open(token);
    record.settled = true;
    record.outcome.resolve(outcome);
  }

  /** The record of a token whose Task still waits for its outcome. */
  private open(token: string): TokenRecord {
    const record = this.records.get(token);
    if (!record) {
      if (TOKEN_SHAPE.test(token))
        throw new TaskTokenError(
          'TaskDoesNotExist',
          'Task Does Not Exist: the task of this token is unknown',
        );
      throw new TaskTokenError('InvalidToken', 'Invalid token');
    }
    if (record.closed || record.settled)
      throw new TaskTokenError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    return record;
  }
}

function withResolvers<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}
