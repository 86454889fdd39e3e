/**
 * Fault injection: a `faults` plan in the saga input, honoured ONLY when the deployment sets
 * `STEPSAGA_FAULTS=on` (local cloud, dev stages). In any other deployment the plan is ignored here and
 * rejected by the API, so a production payload can never switch behaviour.
 */
import { CrashAfterCommitError, FunctionTimeoutError, InjectedFailureError, TransientError } from './errors';

/** A fault to inject into one step or compensation (honoured only when STEPSAGA_FAULTS=on). */
export type FaultMode =
  /** Throw `InjectedFailure` (a business error: not retried) before doing anything. */
  | 'fail'
  /** Throw `TransientError` on the first N attempts (uses the state's RetryCount), then work. */
  | `transient:${number}`
  /** Sleep past the function's timeout before doing anything. */
  | 'timeout'
  /** Commit the effect, then throw `CrashAfterCommit`: the orchestrator sees a failure for work done. */
  | 'crash-after-commit'
  /** Run the operation twice (the second must replay, not re-apply) and return the second result. */
  | 'duplicate';

/** The fault modes: the one place they are listed (input validation, the tools, the console). */
export const FAULT_MODE_NAMES = ['fail', 'timeout', 'crash-after-commit', 'duplicate'] as const;
/** `transient:N`: N from 0 to 999. */
export const FAULT_MODE_PATTERN = new RegExp(`^(${FAULT_MODE_NAMES.join('|')}|transient:(0|[1-9]\\d{0,2}))$`);
/** The modes a form offers (one `transient:N` example). */
export const FAULT_MODES = [
  'fail',
  'transient:2',
  'timeout',
  'crash-after-commit',
  'duplicate',
] as const satisfies readonly FaultMode[];

export function isFaultMode(value: unknown): value is FaultMode {
  return typeof value === 'string' && FAULT_MODE_PATTERN.test(value);
}

/** Environment variable that switches fault plans on (`on`) in a deployment. */
export const FAULTS_ENV = 'STEPSAGA_FAULTS';

/** `STEPSAGA_FAULTS=on` enables fault plans in saga input. Anything else (or unset) is off. */
export function faultsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[FAULTS_ENV] === 'on';
}

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
  name: string,
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
