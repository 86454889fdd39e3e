/**
 * Retry and Catch: which retrier or catcher an error matches, and how long a retry waits.
 *
 * States Language rules: `States.ALL` matches every error but `States.Runtime` and
 * `States.DataLimitExceeded` (which nothing retries or catches); `States.TaskFailed` matches every error
 * but `States.Timeout`; otherwise names match exactly. The first retrier whose ErrorEquals matches is the
 * one used, even when its attempts are spent (the error then goes to Catch).
 */
import { sleep } from './clock';
import { catchOutput } from './dataflow';
import type { Catcher, MapState, ParallelState, Retrier, TaskState } from './definition';
import { locate, type StateResult, type StateRun } from './run';
import { StatesError } from './types';

/** Errors no Retry or Catch ever matches. */
const TERMINAL_ERRORS = new Set(['States.Runtime', 'States.DataLimitExceeded']);

export function isTerminal(error: string): boolean {
  return TERMINAL_ERRORS.has(error);
}

/** `States.TaskFailed` is a wildcard in Task states only (elsewhere it names itself). */
export function errorMatches(errorEquals: readonly string[], error: string, stateType: string): boolean {
  if (isTerminal(error)) return false;
  return errorEquals.some(
    (name) =>
      name === error ||
      name === 'States.ALL' ||
      (name === 'States.TaskFailed' && stateType === 'Task' && error !== 'States.Timeout'),
  );
}

export function findRetrier(
  retriers: readonly Retrier[] | undefined,
  error: string,
  stateType: string,
): number {
  return (retriers ?? []).findIndex((retrier) => errorMatches(retrier.ErrorEquals, error, stateType));
}

export function findCatcher(
  catchers: readonly Catcher[] | undefined,
  error: string,
  stateType: string,
): number {
  return (catchers ?? []).findIndex((catcher) => errorMatches(catcher.ErrorEquals, error, stateType));
}

/**
 * The wait before retry number `attempt` (0-based) of a retrier, in seconds: IntervalSeconds (default 1)
 * × BackoffRate (default 2) ^ attempt, capped by MaxDelaySeconds, then FULL jitter (a random share).
 */
export function retryDelaySeconds(retrier: Retrier, attempt: number): number {
  const interval = retrier.IntervalSeconds ?? 1;
  const rate = retrier.BackoffRate ?? 2;
  let delay = Math.max(interval * rate ** attempt, 0);
  if (retrier.MaxDelaySeconds !== undefined) delay = Math.min(delay, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === 'FULL') delay = Math.random() * delay;
  return delay;
}

/**
 * Errors that say "no capacity now" (Lambda's throttle: the account's or the function's concurrency is
 * exceeded). The retry scale does not shorten their waits: it stands for faster simulated failures, but
 * the wait before retrying a throttle is the time the real load takes to drain, which no scale shrinks. A
 * scaled throttle retrier would give up in a second or two and fail the saga under a burst.
 */
const CAPACITY_ERRORS = new Set(['Lambda.TooManyRequestsException']);

/** The retry scale for a retry of `error`: `retryScale`, except 1 for a capacity error (see above). */
export function retryScaleFor(error: string, retryScale: number): number {
  return CAPACITY_ERRORS.has(error) ? 1 : retryScale;
}

export function maxAttempts(retrier: Retrier): number {
  return retrier.MaxAttempts ?? 3;
}

/**
 * Runs a state's work (`attempt`: Task, Parallel, Map) under its Retry and Catch: a matching retrier
 * waits its interval and runs the attempt again (`$$.State.RetryCount` + 1); otherwise a matching
 * catcher ends the state with the error output and goes to its Next; otherwise the error propagates.
 */
export async function withRetryAndCatch(
  run: StateRun<TaskState | ParallelState | MapState>,
  attempt: () => Promise<StateResult>,
  hooks: { onRetry?: () => void; onFinalFailure?: (error: StatesError) => void } = {},
): Promise<StateResult> {
  const { state } = run;
  const retriers = state.Retry ?? [];
  const { inspect } = run.frame;
  // TestState: the matching retrier has already spent `retriesSpent` attempts.
  const counts = retriers.map(() => inspect?.retriesSpent ?? 0);
  for (;;) {
    try {
      return await attempt();
    } catch (thrown) {
      const error = locate(thrown, run);
      if (!(error instanceof StatesError)) throw error;
      const index = findRetrier(retriers, error.error, state.Type);
      const retrier = retriers[index];
      const count = counts[index] ?? 0;
      if (retrier && count < maxAttempts(retrier)) {
        if (inspect) {
          // TestState waits for no retry: it reports the retrier and its backoff (RETRIABLE).
          inspect.retry(index, error, retryDelaySeconds(retrier, count));
          throw error;
        }
        counts[index] = count + 1;
        const seconds =
          retryDelaySeconds(retrier, count) * retryScaleFor(error.error, run.frame.env.retryScale);
        await sleep(seconds * 1000, run.frame.signal);
        run.retryCount++;
        hooks.onRetry?.();
        continue;
      }
      if (retrier) inspect?.retry(index, error);
      hooks.onFinalFailure?.(error);
      const catchIndex = findCatcher(state.Catch, error.error, state.Type);
      const catcher = state.Catch?.[catchIndex];
      if (!catcher) throw error;
      inspect?.caught(catchIndex, error);
      const { output, assign } = await catchOutput(run, catcher, error.errorOutput());
      return { output, next: catcher.Next, ...(assign ? { assign } : {}) };
    }
  }
}
