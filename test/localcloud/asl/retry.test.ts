/**
 * Retry and Catch on stepsaga's interpreter: which retrier or catcher matches (States.ALL never matches
 * States.Runtime or States.DataLimitExceeded; States.TaskFailed is a wildcard in Task states only and
 * never matches States.Timeout; the first matching retrier is used even when spent), the backoff
 * (IntervalSeconds × BackoffRate^n, MaxDelaySeconds, FULL jitter) measured on a fake clock through the
 * history's timestamps, and what a catcher hands on (ResultPath, Assign, JSONata Output). Case ids name
 * AWS recordings (conformance/cases).
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StateMachineDefinition } from '../../../localcloud/stepfunctions/asl/definition';
import type { HistoryEvent } from '../../../localcloud/stepfunctions/asl/history';
import type { JsonValue } from '../../../localcloud/stepfunctions/asl/types';
import { THROTTLE_ERRORS } from '../../../toolkit/construct/saga-errors';
import { BEHAVE_ARN, type Finished, interpreterRunner, withBehave } from '../../support/interpreter';

const { run, start, finish } = interpreterRunner({ name: 'asl-retry', ...withBehave });

afterEach(async () => {
  // A function the Task stopped waiting for (a hang past TimeoutSeconds) runs on to its own 30 s timeout, as
  // on AWS. Let that happen on the fake clock, or its container stays busy and the pool (one per CPU) runs dry
  // for the next tests.
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(60_000);
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const THROW = { throw: { name: 'Exception', message: 'Some exception was raised.' } };
const count = (types: string[], type: string): number => types.filter((t) => t === type).length;

/** A Parallel whose only branch fails with `error` (Retry and Catch apply to Parallel too). */
const failingParallel = (
  error: string,
  fields: Record<string, JsonValue | object>,
): StateMachineDefinition => ({
  StartAt: 'P',
  States: {
    P: {
      Type: 'Parallel',
      Branches: [{ StartAt: 'F', States: { F: { Type: 'Fail', Error: error, Cause: 'cause' } } }],
      End: true,
      ...fields,
    },
    A: { Type: 'Pass', Result: 'A', End: true },
    B: { Type: 'Pass', Result: 'B', End: true },
  },
});

/**
 * Runs an execution on a fake clock (setTimeout, clearTimeout and Date): each turn lets the interpreter
 * run, then moves the clock to its next timer. The history's timestamps are then the clock's times.
 */
async function onFakeClock(definition: StateMachineDefinition, retryScale = 1): Promise<Finished> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 0 });
  const execution = start(definition, {}, { retryScale });
  let settled = false;
  void execution.done.then(() => {
    settled = true;
  });
  while (!settled) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await vi.advanceTimersToNextTimerAsync();
  }
  return finish(execution);
}

/** Milliseconds between consecutive ParallelStateStarted events (the waits before each retry). */
const retryWaits = (history: readonly HistoryEvent[]): number[] => {
  const starts = history
    .filter((event) => event.type === 'ParallelStateStarted')
    .map((event) => event.timestamp.getTime());
  return starts.slice(1).map((time, index) => time - (starts[index] ?? 0));
};

describe('Retry and Catch: matching', () => {
  it('never retries or catches States.Runtime, even by name or States.ALL (lambda-arn-outputpath-runtime-error)', async () => {
    const { outcome, types } = await run({
      StartAt: 'RaiseRuntime',
      States: {
        RaiseRuntime: {
          Type: 'Task',
          Resource: BEHAVE_ARN,
          OutputPath: '$.no.such.result.path',
          Retry: [{ ErrorEquals: ['States.ALL'] }],
          Catch: [
            { ErrorEquals: ['States.Runtime'], Next: 'CaughtRuntime' },
            { ErrorEquals: ['States.ALL'], Next: 'CaughtRuntime' },
          ],
          Next: 'Final',
        },
        CaughtRuntime: { Type: 'Pass', End: true },
        Final: { Type: 'Pass', End: true },
      },
    });
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'States.Runtime',
      cause:
        "An error occurred while executing the state 'RaiseRuntime' (entered at the event id #2). Invalid path '$.no.such.result.path' : Missing property in path $['no']",
    });
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'ExecutionFailed',
    ]);
  });

  it('never retries or catches States.DataLimitExceeded with States.ALL', async () => {
    const { outcome, types } = await run(
      {
        StartAt: 'Big',
        States: {
          Big: {
            Type: 'Task',
            Resource: BEHAVE_ARN,
            Retry: [{ ErrorEquals: ['States.ALL'] }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Pass', End: true },
        },
      },
      { big: 300_000 },
    );
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause:
        "The state/task 'Big' returned a result with a size exceeding the maximum number of bytes service limit.",
    });
    expect(count(types, 'LambdaFunctionScheduled')).toBe(1);
  });

  it('matches a function error with States.TaskFailed in a Task, after a non-matching catcher (lambda-arn-catch-taskfailed)', async () => {
    const { output, history } = await run(
      {
        StartAt: 'Start',
        States: {
          Start: {
            Type: 'Task',
            Resource: BEHAVE_ARN,
            Catch: [
              { ErrorEquals: ['Lambda.Unknown'], Next: 'EndWithLambdaUnknownHandler' },
              { ErrorEquals: ['States.TaskFailed'], Next: 'EndWithStateTaskFailedHandler' },
              { ErrorEquals: ['States.ALL'], Next: 'EndWithAllHandler' },
            ],
            End: true,
          },
          EndWithLambdaUnknownHandler: { Type: 'Pass', ResultPath: '$.lambda_unknown', End: true },
          EndWithStateTaskFailedHandler: { Type: 'Pass', ResultPath: '$.task_failed_error', End: true },
          EndWithAllHandler: { Type: 'Pass', ResultPath: '$.all_error', End: true },
        },
      },
      THROW,
    );
    expect(
      history.find((event) => event.type === 'PassStateEntered')?.stateEnteredEventDetails,
    ).toMatchObject({
      name: 'EndWithStateTaskFailedHandler',
    });
    expect(output).toMatchObject({ Error: 'Exception', task_failed_error: { Error: 'Exception' } });
  });

  it('does not match States.Timeout with States.TaskFailed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const execution = start(
      {
        StartAt: 'Slow',
        States: {
          Slow: {
            Type: 'Task',
            Resource: BEHAVE_ARN,
            TimeoutSeconds: 1,
            Catch: [
              { ErrorEquals: ['States.TaskFailed'], Next: 'A' },
              { ErrorEquals: ['States.Timeout'], Next: 'B' },
            ],
            End: true,
          },
          A: { Type: 'Pass', Result: 'A', End: true },
          B: { Type: 'Pass', Result: 'B', End: true },
        },
      },
      { hang: true },
      { onEvent: (event) => event.type === 'LambdaFunctionStarted' && started() },
    );
    await running;
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await finish(execution)).output).toBe('B');
  });

  it('treats States.TaskFailed as a plain name outside Task states', async () => {
    const { output } = await run(
      failingParallel('Custom', {
        Catch: [
          { ErrorEquals: ['States.TaskFailed'], Next: 'A' },
          { ErrorEquals: ['States.ALL'], Next: 'B' },
        ],
      }),
    );
    expect(output).toBe('B');
  });

  it('uses the first matching retrier even once it is spent (scenarios-map-retry-multiple-retriers)', async () => {
    const { outcome, types } = await run(
      failingParallel('Custom', {
        Retry: [
          { ErrorEquals: ['NoSuchError'], MaxAttempts: 5 },
          { ErrorEquals: ['Custom'], MaxAttempts: 1 },
          { ErrorEquals: ['States.ALL'], MaxAttempts: 3 },
        ],
      }),
    );
    expect(outcome).toEqual({ status: 'FAILED', error: 'Custom', cause: 'cause' });
    expect(count(types, 'ParallelStateStarted')).toBe(2);
  });

  it('does not retry with MaxAttempts 0 (lambda-invoke-retry-max-attempts-zero)', async () => {
    const { outcome, types } = await run(
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: BEHAVE_ARN,
            Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 0 }],
            End: true,
          },
        },
      },
      THROW,
    );
    expect(outcome.error).toBe('Exception');
    expect(count(types, 'LambdaFunctionScheduled')).toBe(1);
  });

  it('retries MaxAttempts times (default 3), then catches the last error with RetryCount spent (lambda-arn-retry-then-catch)', async () => {
    const { output, types } = await run(
      {
        StartAt: 'InvokeLambdaWithRetry',
        States: {
          InvokeLambdaWithRetry: {
            Type: 'Task',
            Resource: BEHAVE_ARN,
            Retry: [{ ErrorEquals: ['States.ALL'] }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'HandleError' }],
            ResultSelector: { 'Retries.$': '$$.State.RetryCount' },
            End: true,
          },
          HandleError: { Type: 'Pass', End: true },
        },
      },
      THROW,
    );
    expect(output).toMatchObject({ Error: 'Exception' });
    const attempt = ['LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionFailed'];
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      ...attempt,
      ...attempt,
      ...attempt,
      ...attempt,
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });
});

describe('Retry: backoff', () => {
  it('waits IntervalSeconds (default 1) × BackoffRate (default 2) ^ retry', async () => {
    const { history } = await onFakeClock(
      failingParallel('Custom', { Retry: [{ ErrorEquals: ['Custom'] }] }),
    );
    expect(retryWaits(history)).toEqual([1_000, 2_000, 4_000]);
  });

  it('caps each wait at MaxDelaySeconds', async () => {
    const { history } = await onFakeClock(
      failingParallel('Custom', {
        Retry: [
          { ErrorEquals: ['Custom'], IntervalSeconds: 3, BackoffRate: 2, MaxAttempts: 3, MaxDelaySeconds: 5 },
        ],
      }),
    );
    expect(retryWaits(history)).toEqual([3_000, 5_000, 5_000]);
  });

  it('waits a random share of the delay with JitterStrategy FULL', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { history } = await onFakeClock(
      failingParallel('Custom', {
        Retry: [
          {
            ErrorEquals: ['Custom'],
            IntervalSeconds: 3,
            MaxAttempts: 2,
            MaxDelaySeconds: 5,
            JitterStrategy: 'FULL',
          },
        ],
      }),
    );
    expect(retryWaits(history)).toEqual([1_500, 2_500]);
  });
});

describe('Retry: the retry scale (--retry-scale)', () => {
  it('multiplies the waits of a retry', async () => {
    const { history } = await onFakeClock(
      failingParallel('Custom', { Retry: [{ ErrorEquals: ['Custom'] }] }),
      0.01,
    );
    expect(retryWaits(history)).toEqual([10, 20, 40]);
  });

  // Every error the saga toolkit's throttle retrier names (so the two lists cannot drift apart).
  it.each(THROTTLE_ERRORS)(
    "keeps real time for a Lambda throttle's retry (%s): the load it waits for does not shrink",
    async (error) => {
      const { history } = await onFakeClock(
        failingParallel(error, { Retry: [{ ErrorEquals: [error], IntervalSeconds: 2 }] }),
        0.01,
      );
      expect(retryWaits(history)).toEqual([2_000, 4_000, 8_000]);
    },
  );
});

describe('Catch: what the catcher hands on', () => {
  it('outputs {Error, Cause} without ResultPath, the state ResultPath/OutputPath skipped (lambda-invoke-catch-skips-resultpath-outputpath)', async () => {
    const { output } = await run(
      {
        StartAt: 'InvokeLambda',
        States: {
          InvokeLambda: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: 'behave', 'Payload.$': '$.Payload' },
            ResultPath: '$.Payload',
            OutputPath: '$.Payload',
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'HandleGeneralError' }],
            Next: 'ProcessResult',
          },
          ProcessResult: { Type: 'Pass', End: true },
          HandleGeneralError: { Type: 'Pass', Parameters: { 'InputValue.$': '$' }, End: true },
        },
      },
      { Payload: THROW },
    );
    expect(output).toEqual({
      InputValue: { Error: 'Exception', Cause: expect.stringContaining('Some exception was raised.') },
    });
  });

  it('puts {Error, Cause} at the catcher ResultPath on the state input', async () => {
    const { output } = await run(
      {
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Branches: [{ StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Custom', Cause: 'cause' } } }],
            Catch: [{ ErrorEquals: ['Custom'], ResultPath: '$.error', Next: 'Show' }],
            End: true,
          },
          Show: { Type: 'Pass', End: true },
        },
      },
      { kept: 1 },
    );
    expect(output).toEqual({ kept: 1, error: { Error: 'Custom', Cause: 'cause' } });
  });

  it('assigns variables from the error output (JSONPath catcher Assign reads it as $)', async () => {
    const { output } = await run({
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Custom', Cause: 'cause' } } }],
          Assign: { fromState: 'never' },
          Catch: [
            { ErrorEquals: ['Custom'], Assign: { 'caught.$': '$.Error' }, ResultPath: null, Next: 'Show' },
          ],
          End: true,
        },
        Show: { Type: 'Pass', Parameters: { 'caught.$': '$caught' }, End: true },
      },
    });
    expect(output).toEqual({ caught: 'Custom' });
  });

  it('binds $states.errorOutput in a JSONata catcher Assign; the state Assign is not applied (jsonata-assign-assign-in-catch-state)', async () => {
    const { output, types } = await run(
      {
        StartAt: 'Task',
        States: {
          Task: {
            QueryLanguage: 'JSONata',
            Type: 'Task',
            Assign: { result: 'SUCCESS' },
            Resource: 'arn:aws:states:::lambda:invoke',
            Arguments: { FunctionName: '{% $states.input.input_value %}', Payload: THROW },
            Catch: [
              {
                ErrorEquals: ['States.ALL'],
                Assign: { result: '{% $states.errorOutput %}' },
                Next: 'fallback',
              },
            ],
            End: true,
          },
          fallback: { Type: 'Pass', Parameters: { 'result.$': '$result', 'input.$': '$' }, End: true },
        },
      },
      { input_value: 'behave' },
    );
    expect(output).toEqual({
      result: { Error: 'Exception', Cause: expect.stringContaining('Some exception was raised.') },
      input: { Error: 'Exception', Cause: expect.stringContaining('Some exception was raised.') },
    });
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('evaluates a JSONata catcher Output over $states.errorOutput', async () => {
    const { output } = await run({
      QueryLanguage: 'JSONata',
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Custom', Cause: 'cause' } } }],
          Catch: [
            { ErrorEquals: ['Custom'], Output: { failed: '{% $states.errorOutput.Error %}' }, Next: 'Done' },
          ],
          End: true,
        },
        Done: { Type: 'Succeed' },
      },
    });
    expect(output).toEqual({ failed: 'Custom' });
  });
});
