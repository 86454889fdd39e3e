/**
 * Fault injection: a `faults` plan in the saga input, honoured ONLY when the deployment sets
 * `STEPSAGA_FAULTS=on` (local cloud, dev stages). In any other deployment the plan is ignored here and
 * rejected by the API, so a production payload can never switch behaviour.
 */
import type { FaultMode, FaultTarget } from '../../lib/contract';
import { CrashAfterCommitError, FunctionTimeoutError, InjectedFailureError, TransientError } from './errors';

export { FAULT_MODE_PATTERN, isFaultMode } from '../../lib/contract';

export interface FaultContext {
  /** Whether the deployment enables faults (`STEPSAGA_FAULTS=on`). */
  enabled: boolean;
  /** `$$.State.RetryCount` of the Task (0 on the first attempt). */
  retryCount: number;
  /** Milliseconds left before the function times out (from the Lambda context). */
  remainingTimeMs?: () => number;
}

/**
 * Runs `operation` under the fault planned for `name`, if any:
 * - `fail`: throw `InjectedFailure` before doing anything;
 * - `transient:N`: throw `TransientError` while `retryCount < N`, then run normally;
 * - `timeout`: sleep past the remaining time (the platform ends the invocation);
 * - `crash-after-commit`: on the first attempt (`retryCount === 0`) run (commit), then throw
 *   `CrashAfterCommit`; a retry runs normally and so meets the committed effect (an action replays its
 *   recorded result, a compensation finds itself already compensated). A real crash happens once: firing
 *   on every attempt would turn a retried compensation into a permanent failure;
 * - `duplicate`: run twice, return the second result (which must be a replay).
 */
export async function withFault<T>(
  name: FaultTarget | (string & {}),
  plan: Partial<Record<string, FaultMode>> | undefined,
  ctx: FaultContext,
  operation: () => Promise<T>,
): Promise<T> {
  const mode = ctx.enabled ? plan?.[name] : undefined;
  if (mode === undefined) return operation();
  if (mode === 'fail') throw new InjectedFailureError(name);
  if (mode === 'timeout') {
    const sleepMs = (ctx.remainingTimeMs?.() ?? 0) + 1_000;
    await new Promise((resolve) => setTimeout(resolve, sleepMs));
    throw new FunctionTimeoutError(`${name} did not finish within the function timeout (injected timeout)`);
  }
  if (mode === 'crash-after-commit') {
    if (ctx.retryCount > 0) return operation();
    await operation();
    throw new CrashAfterCommitError(name);
  }
  if (mode === 'duplicate') {
    await operation();
    return operation();
  }
  const failures = Number(mode.slice('transient:'.length));
  if (ctx.retryCount < failures) {
    throw new TransientError(`Injected transient failure ${ctx.retryCount + 1} of ${failures} in ${name}`);
  }
  return operation();
}
