/**
 * An execution on stepsaga's interpreter: its outcomes (SUCCEEDED, FAILED, ABORTED by stop(), TIMED_OUT
 * by the machine's TimeoutSeconds), the closing event, the `States.Runtime` cause naming the innermost
 * state and its entered event id, and EvaluationFailed for JSONata errors. Case ids name AWS recordings
 * (conformance/cases).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StateMachineDefinition } from '../../../localcloud/stepfunctions/asl/definition';
import type { HistoryEvent } from '../../../localcloud/stepfunctions/asl/history';
import { interpreterRunner } from '../../support/interpreter';

// These machines call no Task resource: the integrations only complete the execution's parameters.
const { run, start, finish } = interpreterRunner({ name: 'asl-execution' });

afterEach(() => {
  vi.useRealTimers();
});

/** A machine that waits 100 s even at waitScale 0.001: it ends only when stopped or timed out. */
const waiting = (timeoutSeconds?: number): StateMachineDefinition => ({
  ...(timeoutSeconds !== undefined ? { TimeoutSeconds: timeoutSeconds } : {}),
  StartAt: 'State_1',
  States: {
    State_1: { Type: 'Wait', Seconds: 100_000, Next: 'State_2' },
    State_2: { Type: 'Pass', Result: { Arg1: 'argument1' }, End: true },
  },
});

/** `seen` resolves once the execution (given `onEvent`) records an event of `type`. */
function eventOf(type: string): { onEvent: (event: HistoryEvent) => void; seen: Promise<void> } {
  let resolve: () => void = () => undefined;
  const seen = new Promise<void>((done) => {
    resolve = done;
  });
  return { onEvent: (event) => event.type === type && resolve(), seen };
}

describe('outcomes', () => {
  it('SUCCEEDED carries the output as JSON text', async () => {
    const { outcome, history } = await run({
      StartAt: 'P',
      States: { P: { Type: 'Pass', Result: [1, 'a'], End: true } },
    });
    expect(outcome).toEqual({ status: 'SUCCEEDED', output: '[1,"a"]' });
    expect(history.at(-1)?.type).toBe('ExecutionSucceeded');
  });

  it('ends ABORTED on stop() with the given error and cause, recording nothing more', async () => {
    const entered = eventOf('WaitStateEntered');
    const execution = start(waiting(), {}, { onEvent: entered.onEvent });
    await entered.seen;
    execution.stop('Cancelled', 'the user stopped it');
    const { outcome, types, history } = await finish(execution);
    expect(outcome).toEqual({ status: 'ABORTED', error: 'Cancelled', cause: 'the user stopped it' });
    expect(types).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionAborted']);
    expect(history.at(-1)?.executionAbortedEventDetails).toEqual({
      error: 'Cancelled',
      cause: 'the user stopped it',
    });
    execution.stop('Again');
    expect(execution.history).toHaveLength(3);
  });

  it('ends ABORTED with no error or cause when stop() gives none, inside a Parallel too', async () => {
    const entered = eventOf('WaitStateEntered');
    const execution = start(
      { StartAt: 'P', States: { P: { Type: 'Parallel', Branches: [waiting()], End: true } } },
      {},
      { onEvent: entered.onEvent },
    );
    await entered.seen;
    execution.stop();
    const { outcome, history } = await finish(execution);
    expect(outcome).toEqual({ status: 'ABORTED' });
    expect(history.at(-1)).toMatchObject({ type: 'ExecutionAborted', executionAbortedEventDetails: {} });
  });

  it('ends TIMED_OUT after the machine TimeoutSeconds, with no output (execution-timeout)', async () => {
    // Date too: the deadline is TimeoutSeconds less the time since the start, and real milliseconds passing
    // between the start and the timer's arming (a loaded CI machine) would fire it before 5 000 fake ones.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const entered = eventOf('WaitStateEntered');
    const execution = start(waiting(5), {}, { onEvent: entered.onEvent });
    await entered.seen;
    await vi.advanceTimersByTimeAsync(4_999);
    expect(execution.history.at(-1)?.type).toBe('WaitStateEntered');
    await vi.advanceTimersByTimeAsync(1);
    const { outcome, types } = await finish(execution);
    expect(outcome).toEqual({ status: 'TIMED_OUT' });
    expect(types).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionTimedOut']);
  });
});

describe('States.Runtime causes', () => {
  it('name the innermost state and its entered event id, inside a Map iteration', async () => {
    const { outcome, history } = await run(
      {
        StartAt: 'Outer',
        States: {
          Outer: {
            Type: 'Map',
            ItemProcessor: {
              StartAt: 'Inner',
              States: { Inner: { Type: 'Pass', OutputPath: '$.missing', End: true } },
            },
            End: true,
          },
        },
      },
      [{ present: 1 }],
    );
    const entered = history.find(
      (event) =>
        event.type === 'PassStateEntered' &&
        (event.stateEnteredEventDetails as { name: string }).name === 'Inner',
    );
    expect(entered?.id).toBe(5);
    expect(outcome.error).toBe('States.Runtime');
    expect(outcome.cause).toMatch(
      /^An error occurred while executing the state 'Inner' \(entered at the event id #5\)\. /,
    );
  });

  it('name the innermost state inside a Parallel branch', async () => {
    const { outcome } = await run({
      StartAt: 'First',
      States: {
        First: { Type: 'Pass', Next: 'Outer' },
        Outer: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Branch', States: { Branch: { Type: 'Pass', InputPath: '$.missing', End: true } } },
          ],
          End: true,
        },
      },
    });
    expect(outcome.cause).toMatch(
      /^An error occurred while executing the state 'Branch' \(entered at the event id #6\)\. /,
    );
  });
});

describe('JSONata evaluation errors', () => {
  it('record EvaluationFailed with the located cause (jsonata-assign-undefined-reference-base-undefined-output)', async () => {
    const { outcome, types, history } = await run({
      Comment: 'BASE_UNDEFINED_OUTPUT',
      StartAt: 'State0',
      QueryLanguage: 'JSONata',
      States: { State0: { Type: 'Pass', Output: '{% $doesNotExist %}', End: true } },
    });
    const cause =
      "An error occurred while executing the state 'State0' (entered at the event id #2). The JSONata expression '$doesNotExist' specified for the field 'Output' returned nothing (undefined).";
    expect(outcome).toEqual({ status: 'FAILED', error: 'States.QueryEvaluationError', cause });
    expect(types).toEqual(['ExecutionStarted', 'PassStateEntered', 'EvaluationFailed', 'ExecutionFailed']);
    expect(history[2]?.evaluationFailedEventDetails).toMatchObject({
      error: 'States.QueryEvaluationError',
      cause,
      state: 'State0',
    });
  });

  it('are caught by States.ALL, unlike States.Runtime (jsonata-scenarios-wait-timestamp-jsonata-no-z)', async () => {
    const { output, types } = await run(
      {
        QueryLanguage: 'JSONata',
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Branches: [
              {
                StartAt: 'WaitState',
                States: {
                  WaitState: { Type: 'Wait', Timestamp: '{% $states.input.TimestampValue %}', End: true },
                },
              },
            ],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Pass', End: true },
        },
      },
      { TimestampValue: '2016-12-05T21:29:29' },
    );
    expect(output).toEqual({
      Error: 'States.QueryEvaluationError',
      Cause:
        "An error occurred while executing the state 'WaitState' (entered at the event id #4). The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: 2016-12-05T21:29:29",
    });
    expect(types).toContain('EvaluationFailed');
  });
});
