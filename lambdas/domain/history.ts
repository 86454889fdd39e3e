/**
 * Turns a Step Functions execution history (GetExecutionHistory, all pages) into the order's step
 * timeline: one entry per state entered, with its kind, outcome, attempts and error.
 *
 * The saga has no Parallel/Map states, so states run one at a time and every task event belongs to the
 * state entered last.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { COMPENSATION_NAMES, STEP_NAMES } from '../../lib/contract';

export type StepKind = 'action' | 'compensation' | 'control';
/**
 * - `running`: entered, no outcome yet;
 * - `retried`: an attempt failed and the state is waiting for its next attempt;
 * - `succeeded`: exited normally (possibly after retries: see `attempts`);
 * - `caught`: failed, and a Catch moved the execution on (the unwind);
 * - `failed`: failed and ended the execution (or a Fail state).
 */
export type StepStatus = 'running' | 'retried' | 'succeeded' | 'caught' | 'failed';

export interface TimelineEntry {
  name: string;
  kind: StepKind;
  status: StepStatus;
  /** Task invocations (0 for states that invoke nothing). */
  attempts: number;
  startedAt: string;
  endedAt?: string;
  error?: string;
  cause?: string;
}

export interface ExecutionTimeline {
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  startedAt?: string;
  endedAt?: string;
  error?: string;
  cause?: string;
  steps: TimelineEntry[];
}

const ACTIONS = new Set<string>(STEP_NAMES);
const COMPENSATIONS = new Set<string>(COMPENSATION_NAMES);

export function kindOf(stateName: string): StepKind {
  if (ACTIONS.has(stateName)) return 'action';
  if (COMPENSATIONS.has(stateName)) return 'compensation';
  return 'control';
}

function iso(timestamp: Date | string | undefined): string {
  if (timestamp === undefined) return '';
  return (timestamp instanceof Date ? timestamp : new Date(timestamp)).toISOString();
}

const ATTEMPT_STARTED = new Set(['LambdaFunctionScheduled', 'TaskScheduled', 'ActivityScheduled']);

function attemptFailure(event: HistoryEvent): { error?: string; cause?: string } | undefined {
  const details =
    event.lambdaFunctionFailedEventDetails ??
    event.lambdaFunctionTimedOutEventDetails ??
    event.lambdaFunctionScheduleFailedEventDetails ??
    event.lambdaFunctionStartFailedEventDetails ??
    event.taskFailedEventDetails ??
    event.taskTimedOutEventDetails ??
    event.taskStartFailedEventDetails ??
    event.taskSubmitFailedEventDetails ??
    event.activityFailedEventDetails ??
    event.activityTimedOutEventDetails;
  if (details) return { error: details.error, cause: details.cause };
  if (event.type?.endsWith('Failed') || event.type?.endsWith('TimedOut')) {
    if (!event.type.startsWith('Execution')) return { error: event.type };
  }
  return undefined;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function buildTimeline(events: readonly HistoryEvent[]): ExecutionTimeline {
  const sorted = [...events].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  const steps: TimelineEntry[] = [];
  const timeline: ExecutionTimeline = { status: 'RUNNING', steps };
  let current: TimelineEntry | undefined;
  let lastAttemptFailed = false;

  const close = (status: StepStatus, at: string) => {
    if (!current) return;
    current.status = status;
    current.endedAt = at;
    current = undefined;
    lastAttemptFailed = false;
  };

  for (const event of sorted) {
    const at = iso(event.timestamp);
    const type = event.type ?? '';
    if (type === 'ExecutionStarted') {
      timeline.startedAt = at;
    } else if (type.endsWith('StateEntered')) {
      // Entering a state while the previous one's last attempt failed: a Catch moved the execution on.
      if (current) close(lastAttemptFailed ? 'caught' : 'succeeded', at);
      const name = event.stateEnteredEventDetails?.name ?? '?';
      current = { name, kind: kindOf(name), status: 'running', attempts: 0, startedAt: at };
      steps.push(current);
      if (type === 'FailStateEntered') {
        current.status = 'failed';
        current.endedAt = at;
      }
    } else if (type.endsWith('StateExited')) {
      if (current && current.status !== 'failed') close(lastAttemptFailed ? 'caught' : 'succeeded', at);
      current = undefined;
    } else if (ATTEMPT_STARTED.has(type)) {
      if (current) {
        current.attempts += 1;
        current.status = 'running';
      }
      lastAttemptFailed = false;
    } else if (type === 'ExecutionSucceeded') {
      timeline.status = 'SUCCEEDED';
      timeline.endedAt = at;
    } else if (type === 'ExecutionFailed' || type === 'ExecutionTimedOut' || type === 'ExecutionAborted') {
      timeline.status =
        type === 'ExecutionFailed' ? 'FAILED' : type === 'ExecutionTimedOut' ? 'TIMED_OUT' : 'ABORTED';
      timeline.endedAt = at;
      const details =
        event.executionFailedEventDetails ??
        event.executionTimedOutEventDetails ??
        event.executionAbortedEventDetails;
      timeline.error = details?.error;
      timeline.cause = details?.cause;
      const last = steps.at(-1);
      if (last?.status === 'failed' && last.kind === 'control') {
        last.error ??= details?.error;
        last.cause ??= details?.cause;
      }
      if (current && current.status !== 'failed') close('failed', at);
    } else {
      const failure = attemptFailure(event);
      if (failure && current) {
        lastAttemptFailed = true;
        current.status = 'retried';
        current.error = failure.error;
        current.cause = failure.cause;
      } else if (current && (type === 'LambdaFunctionSucceeded' || type === 'TaskSucceeded')) {
        lastAttemptFailed = false;
        delete current.error;
        delete current.cause;
      }
    }
  }
  return withoutUndefined({ ...timeline, steps: steps.map(withoutUndefined) });
}
