/**
 * Pass on stepsaga's interpreter: Result, Parameters, the JSONPath data flow around them and the result
 * size limit. Expected values marked with a case id are AWS recordings (conformance/cases).
 */
import { describe, expect, it } from 'vitest';
import type { StateMachineDefinition } from '../../../localcloud/stepfunctions/asl/definition';
import type { JsonValue } from '../../../localcloud/stepfunctions/asl/types';
import { interpreterRunner } from '../../support/interpreter';

// These machines call no Task resource: the integrations only complete the execution's parameters.
const { run } = interpreterRunner({ name: 'asl-pass' });

describe('Pass', () => {
  it('outputs its Result in place of the input (base-pass-result)', async () => {
    const { outcome, output, types } = await run(
      { StartAt: 'State_1', States: { State_1: { Type: 'Pass', Result: { Arg1: 'argument1' }, End: true } } },
      { ignored: true },
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(output).toEqual({ Arg1: 'argument1' });
    expect(types).toEqual(['ExecutionStarted', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded']);
  });

  it('keeps ".$" keys of a Result literal, unevaluated (base-pass-result-dollar-keys-literal)', async () => {
    const { output } = await run({
      StartAt: 'State_1',
      States: {
        State_1: {
          Type: 'Pass',
          Result: { 'unsupported1.$': '$.jsonpath', 'unsupported2.$': '$$' },
          End: true,
        },
      },
    });
    expect(output).toEqual({ 'unsupported1.$': '$.jsonpath', 'unsupported2.$': '$$' });
  });

  it('passes its input on unchanged without Result or Parameters', async () => {
    const { output } = await run({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, [
      1,
      'two',
      { three: 3 },
    ]);
    expect(output).toEqual([1, 'two', { three: 3 }]);
  });

  it('evaluates Parameters over the input; InputPath null gives {}, OutputPath null outputs {} (pass-null-paths)', async () => {
    const definition: StateMachineDefinition = {
      StartAt: 'State0',
      States: {
        State0: { Type: 'Pass', Parameters: { Arg1: 'argument1', 'FromInput.$': '$' }, Next: 'State1' },
        State1: {
          Type: 'Pass',
          InputPath: null,
          Parameters: { Arg2: 'argument2', 'FromInput.$': '$' },
          Next: 'State2',
        },
        State2: { Type: 'Pass', OutputPath: null, End: true },
      },
    };
    const { output, history } = await run(definition, { InputValue: 0 });
    expect(output).toEqual({});
    const exited = history.filter((event) => event.type === 'PassStateExited');
    const outputs = exited.map(
      (event) => JSON.parse((event.stateExitedEventDetails as { output: string }).output) as JsonValue,
    );
    expect(outputs).toEqual([
      { Arg1: 'argument1', FromInput: { InputValue: 0 } },
      { Arg2: 'argument2', FromInput: {} },
      {},
    ]);
  });

  it('places the Result at ResultPath on the raw input and filters with OutputPath', async () => {
    const { output } = await run(
      {
        StartAt: 'P',
        States: {
          P: {
            Type: 'Pass',
            InputPath: '$.inner',
            Result: { added: true },
            ResultPath: '$.result',
            OutputPath: '$.result',
            End: true,
          },
        },
      },
      { inner: { a: 1 }, other: 2 },
    );
    // ResultPath writes onto the state's raw input (not the InputPath-filtered one).
    expect(output).toEqual({ added: true });
    const merged = await run(
      {
        StartAt: 'P',
        States: { P: { Type: 'Pass', InputPath: '$.inner', Result: 'r', ResultPath: '$.result', End: true } },
      },
      { inner: { a: 1 }, other: 2 },
    );
    expect(merged.output).toEqual({ inner: { a: 1 }, other: 2, result: 'r' });
  });

  it('discards the result with ResultPath null', async () => {
    const { output } = await run(
      { StartAt: 'P', States: { P: { Type: 'Pass', Result: 'dropped', ResultPath: null, End: true } } },
      { kept: 1 },
    );
    expect(output).toEqual({ kept: 1 });
  });

  it('fails with States.DataLimitExceeded for a Result over 256 KiB, uncaught (base-pass-result-data-limit-exceeded)', async () => {
    const { outcome, types } = await run({
      StartAt: 'State_1',
      States: { State_1: { Type: 'Pass', Result: { Arg1: 'a'.repeat(262_144) }, End: true } },
    });
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause:
        "The state/task 'State_1' returned a result with a size exceeding the maximum number of bytes service limit.",
    });
    expect(types).toEqual(['ExecutionStarted', 'PassStateEntered', 'ExecutionFailed']);
  });

  it('fails with States.Runtime naming the state when OutputPath selects nothing', async () => {
    const { outcome } = await run(
      { StartAt: 'Start', States: { Start: { Type: 'Pass', OutputPath: '$.missing', End: true } } },
      { present: 1 },
    );
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.Runtime');
    expect(outcome.cause).toMatch(
      /^An error occurred while executing the state 'Start' \(entered at the event id #2\)\. /,
    );
  });
});
