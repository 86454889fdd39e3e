/**
 * Waiting in tests: poll what a user would look at (an order's status, an execution's history, a process's
 * output) until it shows what the test waits for. The state observed is the synchronisation; no sleeps.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { StepName } from '../../lib/contract';

export interface PollOptions {
  /** Give up after this long. @default 30_000 */
  timeoutMs?: number;
  /** Pause between two probes. @default 50 */
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than `undefined`, and returns that. Throws after
 * `timeoutMs` with `what` (a text, or a function of the last probe's outcome for a better message).
 */
export async function pollUntil<T>(
  what: string | (() => string),
  probe: () => T | undefined | Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 50 }: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Polls an execution's history until `step` has failed at least once (it is then in its Retry backoff):
 * the synchronisation for a cancel that must land in a backoff.
 */
export async function untilStepFailedOnce(
  history: (executionArn: string) => Promise<HistoryEvent[]>,
  executionArn: string,
  step: StepName,
): Promise<void> {
  await pollUntil(
    `${step} to fail once in ${executionArn}`,
    async () => {
      let current = '';
      for (const event of await history(executionArn)) {
        const entered = event.stateEnteredEventDetails?.name;
        if (entered && event.type?.endsWith('StateEntered')) current = entered;
        if (current === step && event.type === 'LambdaFunctionFailed') return true;
      }
      return undefined;
    },
    { timeoutMs: 60_000, intervalMs: 25 },
  );
}

/** Events that close a Lambda Task's invocation. */
const LAMBDA_CLOSINGS = new Set([
  'LambdaFunctionSucceeded',
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
]);

/**
 * How `step`'s Lambda invocations stand in `events` (up to the first event of type `until`, if given):
 * whether one was started, and whether the last one is still in flight (started, not answered).
 */
export function stepInvocation(
  events: HistoryEvent[],
  step: StepName,
  until?: string,
): { started: boolean; inFlight: boolean } {
  let current = '';
  let started = false;
  let inFlight = false;
  for (const event of events) {
    if (until !== undefined && event.type === until) break;
    const entered = event.stateEnteredEventDetails?.name;
    if (entered && event.type?.endsWith('StateEntered')) current = entered;
    if (event.type === 'LambdaFunctionStarted') {
      inFlight = current === step;
      started ||= inFlight;
    } else if (event.type !== undefined && LAMBDA_CLOSINGS.has(event.type)) inFlight = false;
  }
  return { started, inFlight };
}

/**
 * Polls an execution's history until `step`'s function was invoked, or with `inFlight`, until it is being
 * invoked now (started, not answered yet): the synchronisation for a cancel that must land while a step
 * executes, not in its backoff.
 */
export async function untilStepInvoked(
  history: (executionArn: string) => Promise<HistoryEvent[]>,
  executionArn: string,
  step: StepName,
  { inFlight = false }: { inFlight?: boolean } = {},
): Promise<void> {
  await pollUntil(
    `${step} to be invoked${inFlight ? ' (in flight)' : ''} in ${executionArn}`,
    async () => {
      const invocation = stepInvocation(await history(executionArn), step);
      return (inFlight ? invocation.inFlight : invocation.started) ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 25 },
  );
}

/** Polls DescribeExecution until the execution is no longer RUNNING; returns that description. */
export function untilExecutionEnds(
  sfn: SFNClient,
  executionArn: string,
  options: PollOptions = {},
): Promise<DescribeExecutionCommandOutput> {
  return pollUntil(
    () => `${executionArn} to end (still RUNNING)`,
    async () => {
      const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status !== 'RUNNING' ? out : undefined;
    },
    { intervalMs: 20, ...options },
  );
}
