/**
 * Fail and Succeed on stepsaga's interpreter: the execution's error and cause (static, ErrorPath/CausePath,
 * intrinsics, context paths), a Fail without either, Succeed's output. Case ids name AWS recordings
 * (conformance/cases).
 */
import { describe, expect, it } from 'vitest';
import { interpreterRunner } from '../../support/interpreter';

// These machines call no Task resource: the integrations only complete the execution's parameters.
const { run } = interpreterRunner({ name: 'asl-fail' });

describe('Fail', () => {
  it('fails the execution with its Error and Cause (base-fail-error-cause)', async () => {
    const { outcome, types, history } = await run({
      StartAt: 'FailState',
      States: {
        FailState: {
          Type: 'Fail',
          Error: 'SomeFailure',
          Cause: "This state machines raises a 'SomeFailure' failure.",
        },
      },
    });
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'SomeFailure',
      cause: "This state machines raises a 'SomeFailure' failure.",
    });
    expect(types).toEqual(['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed']);
    expect(history[2]?.executionFailedEventDetails).toEqual({
      error: 'SomeFailure',
      cause: "This state machines raises a 'SomeFailure' failure.",
    });
  });

  it('without Error and Cause records neither (fail-empty)', async () => {
    const { outcome, history } = await run({ StartAt: 'FailState', States: { FailState: { Type: 'Fail' } } });
    expect(outcome).toEqual({ status: 'FAILED' });
    expect(history[2]?.executionFailedEventDetails).toEqual({});
  });

  it('reads ErrorPath and CausePath from its input (fail-paths)', async () => {
    const { outcome } = await run(
      {
        StartAt: 'FailState',
        States: { FailState: { Type: 'Fail', ErrorPath: '$.Error', CausePath: '$.Cause' } },
      },
      { Error: 'error string', Cause: 'cause string' },
    );
    expect(outcome).toEqual({ status: 'FAILED', error: 'error string', cause: 'cause string' });
  });

  it('evaluates intrinsic functions in ErrorPath and CausePath (base-fail-paths-intrinsic)', async () => {
    const { outcome } = await run(
      {
        StartAt: 'FailState',
        States: {
          FailState: {
            Type: 'Fail',
            ErrorPath: "States.Format('{}', $.Error)",
            CausePath:
              "States.Format('This is a custom error message for {}, caused by {}.', $.Error, $.Cause)",
          },
        },
      },
      { Error: 'error string', Cause: 'cause string' },
    );
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'error string',
      cause: 'This is a custom error message for error string, caused by cause string.',
    });
  });

  it('reads the Context Object in ErrorPath and CausePath (base-ctx-fail-error-cause-path)', async () => {
    const { outcome } = await run({
      StartAt: 'StartState',
      States: { StartState: { Type: 'Fail', ErrorPath: '$$.State.Name', CausePath: '$$.StateMachine.Name' } },
    });
    expect(outcome).toEqual({ status: 'FAILED', error: 'StartState', cause: 'asl-fail' });
  });

  it('fails with States.Runtime when CausePath selects nothing (more-invalid-jsonpath-causepath)', async () => {
    const { outcome, types } = await run(
      {
        StartAt: 'pass',
        States: {
          pass: { Type: 'Pass', Next: 'fail', Parameters: { Error: 'error-value' } },
          fail: { Type: 'Fail', ErrorPath: '$.Error', CausePath: '$.NoSuchCausePath' },
        },
      },
      { 'int-literal': 0 },
    );
    expect(outcome.error).toBe('States.Runtime');
    expect(outcome.cause).toBe(
      "An error occurred while executing the state 'fail' (entered at the event id #4). The JSONPath '$.NoSuchCausePath' specified for the field 'CausePath' could not be found in the input '{\"Error\":\"error-value\"}'",
    );
    expect(types).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
  });
});

describe('Succeed', () => {
  it('ends the execution with its input, filtered by InputPath and OutputPath', async () => {
    const { outcome, output, types } = await run(
      {
        StartAt: 'S',
        States: { S: { Type: 'Succeed', InputPath: '$.a', OutputPath: '$.b' } },
      },
      { a: { b: { c: 1 } } },
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(output).toEqual({ c: 1 });
    expect(types).toEqual([
      'ExecutionStarted',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('ends the machine even when states follow it in the definition', async () => {
    const { output, types } = await run(
      {
        StartAt: 'First',
        States: {
          First: { Type: 'Pass', Next: 'Finish' },
          Finish: { Type: 'Succeed' },
          Never: { Type: 'Fail' },
        },
      },
      ['Hello'],
    );
    expect(output).toEqual(['Hello']);
    expect(types.at(-3)).toBe('SucceedStateEntered');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
  });
});
