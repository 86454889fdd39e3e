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

/** A token whose Task has not closed yet. */
interface TokenRecord {
  outcome: Deferred<CallbackOutcome>;
  /** SendTaskSuccess/SendTaskFailure arrived (later ones are refused). */
  settled: boolean;
  /** Called on every SendTaskHeartbeat while the Task waits. */
  onHeartbeat?: () => void;
}

/** AWS tokens are opaque base64 text starting with "AQ" (at most 1024 characters). */
const TOKEN_SHAPE = /^AQ[A-Za-z0-9_-]{86}$/;
/** Closed tokens remembered to answer TaskTimedOut (older ones are forgotten: TaskDoesNotExist). */
const MAX_CLOSED = 100_000;

/**
 * The task tokens of one Step Functions service (every execution of every state machine).
 *
 * Only tokens whose Task is still running hold a record (its outcome and heartbeat listener); a closed
 * token leaves a bare tombstone (the token text, in closing order), the oldest forgotten past
 * `MAX_CLOSED`.
 */
export class TaskTokens {
  private readonly open = new Map<string, TokenRecord>();
  private readonly closed = new Set<string>();

  /**
   * A new, unique, opaque token whose outcome `outcome(token)` will carry (`reuse`: a token handed out
   * before a restart, `--persist`, opened again).
   */
  issue(reuse?: string): string {
    const token = reuse ?? `AQ${randomBytes(64).toString('base64url')}`;
    this.open.set(token, { outcome: withResolvers<CallbackOutcome>(), settled: false });
    return token;
  }

  /** Settles with the first SendTaskSuccess/SendTaskFailure for the token (CLOSED once it is closed). */
  outcome(token: string): Promise<CallbackOutcome> {
    const record = this.open.get(token);
    if (record) return record.outcome.promise;
    if (this.closed.has(token)) return Promise.resolve({ status: 'CLOSED' });
    throw new Error(`unknown task token ${token.slice(0, 12)}...`);
  }

  /** Called on each SendTaskHeartbeat for the token (replaces the previous listener). */
  onHeartbeat(token: string, listener: () => void): void {
    const record = this.open.get(token);
    if (record) record.onHeartbeat = listener;
  }

  /**
   * The Task is over (or its token was never handed out and its execution ended): later SendTask*
   * calls with the token are refused with TaskTimedOut; whoever still waits for it sees CLOSED.
   */
  close(token: string): void {
    const record = this.open.get(token);
    if (!record) return;
    this.open.delete(token);
    if (!record.settled) record.outcome.resolve({ status: 'CLOSED' });
    this.closed.add(token);
    if (this.closed.size > MAX_CLOSED) {
      // A Set iterates in insertion order: the first one is the oldest tombstone.
      const oldest = this.closed.values().next();
      if (!oldest.done) this.closed.delete(oldest.value);
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
    this.waiting(token).onHeartbeat?.();
  }

  /** Open tokens (issued, not closed) and remembered closed ones: what this instance holds. */
  get size(): { open: number; closed: number } {
    return { open: this.open.size, closed: this.closed.size };
  }

  private settle(token: string, outcome: CallbackOutcome): void {
    const record = this.waiting(token);
    record.settled = true;
    record.outcome.resolve(outcome);
  }

  /** The record of a token whose Task still waits for its outcome. */
  private waiting(token: string): TokenRecord {
    const record = this.open.get(token);
    if (record && !record.settled) return record;
    if (record || this.closed.has(token))
      throw new TaskTokenError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    if (TOKEN_SHAPE.test(token))
      throw new TaskTokenError('TaskDoesNotExist', 'Task Does Not Exist: the task of this token is unknown');
    throw new TaskTokenError('InvalidToken', 'Invalid token');
  }
}

function withResolvers<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}
