/**
 * JSONata states on stepsaga's interpreter: Arguments, Output, Assign, Choice Condition and Map Items,
 * machines that mix JSONata and JSONPath states, and a state's own QueryLanguage. Case ids name AWS
 * recordings (conformance/cases/jsonata-*.json).
 */
import { describe, expect, it } from 'vitest';
import type { StateMachineDefinition } from '../../../localcloud/stepfunctions/asl/definition';
import { interpreterRunner } from '../../support/interpreter';

// These machines call no Task resource: the integrations only complete the execution's parameters.
const { run } = interpreterRunner({ name: 'asl-query-language' });

describe('JSONata states', () => {
  it('evaluates Output over $states.input, $states.context and variables (jsonata-output-base-cases-base-expr)', async () => {
    const { output } = await run(
      {
        StartAt: 'Init',
        States: {
          Init: {
            Type: 'Pass',
            Assign: { 'var_input_value.$': '$.input_value', var_constant_1: 1 },
            Next: 'State0',
          },
          State0: {
            QueryLanguage: 'JSONata',
            Type: 'Pass',
            Output: {
              ja_states_context: '{% $states.context.State %}',
              ja_states_input: '{% $states.input %}',
              ja_var_access: '{% $var_input_value %}',
              ja_expr: '{% $sum($states.input.input_values) + $var_constant_1 %}',
            },
            End: true,
          },
        },
      },
      { input_value: 'string literal', input_values: [1, 2, 3] },
    );
    expect(output).toEqual({
      ja_states_context: { Name: 'State0', EnteredTime: expect.any(String) },
      ja_states_input: { input_value: 'string literal', input_values: [1, 2, 3] },
      ja_var_access: 'string literal',
      ja_expr: 7,
    });
  });

  it('passes the input on without Output, even with a state-level QueryLanguage (jsonata-query-language-query-language-field-override-jsonata-override)', async () => {
    const { output } = await run(
      {
        QueryLanguage: 'JSONPath',
        StartAt: 'StartState',
        States: { StartState: { QueryLanguage: 'JSONata', Type: 'Pass', End: true } },
      },
      { kept: true },
    );
    expect(output).toEqual({ kept: true });
  });

  it('lets Output and Assign read the variables as they were before the state', async () => {
    const { output } = await run({
      QueryLanguage: 'JSONata',
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Assign: { n: 1 }, Next: 'B' },
        B: {
          Type: 'Pass',
          Assign: { n: '{% $n + 1 %}', previous: '{% $n %}' },
          Output: { n: '{% $n %}' },
          Next: 'C',
        },
        C: {
          Type: 'Pass',
          Output: { before: '{% $states.input.n %}', n: '{% $n %}', previous: '{% $previous %}' },
          End: true,
        },
      },
    });
    expect(output).toEqual({ before: 1, n: 2, previous: 1 });
  });

  it('hands Parallel branches the Arguments and reads the result in Output', async () => {
    const { output } = await run(
      {
        QueryLanguage: 'JSONata',
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Arguments: { value: '{% $states.input.v * 2 %}' },
            Branches: [
              {
                StartAt: 'B',
                States: { B: { Type: 'Pass', Output: '{% $states.input.value + 1 %}', End: true } },
              },
            ],
            Output: { results: '{% $states.result %}' },
            End: true,
          },
        },
      },
      { v: 20 },
    );
    expect(output).toEqual({ results: [41] });
  });

  it('maps the Items array, ItemSelector reading $states.context.Map.Item', async () => {
    const { output } = await run(
      {
        QueryLanguage: 'JSONata',
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            Items: '{% $states.input.list %}',
            ItemSelector: {
              index: '{% $states.context.Map.Item.Index %}',
              value: '{% $states.context.Map.Item.Value %}',
            },
            ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
            End: true,
          },
        },
      },
      { list: ['a', 'b'] },
    );
    expect(output).toEqual([
      { index: 0, value: 'a' },
      { index: 1, value: 'b' },
    ]);
  });

  it('fails with States.QueryEvaluationError when Items is no array (jsonata-scenarios-map-state-items-eval-jsonata-fail-number)', async () => {
    const { outcome, types } = await run({
      QueryLanguage: 'JSONata',
      StartAt: 'MapIterateState',
      States: {
        MapIterateState: {
          Type: 'Map',
          MaxConcurrency: 1,
          Items: '{% 1 %}',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Pass',
            States: { Pass: { Type: 'Pass', End: true } },
          },
          End: true,
        },
      },
    });
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'States.QueryEvaluationError',
      cause:
        "An error occurred while executing the state 'MapIterateState' (entered at the event id #2). The JSONata expression '1' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'number' for value: 1",
    });
    expect(types).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'EvaluationFailed',
      'MapStateFailed',
      'ExecutionFailed',
    ]);
  });
});

describe('JSONata Choice', () => {
  const choice: StateMachineDefinition = {
    QueryLanguage: 'JSONata',
    StartAt: 'ChoiceState',
    States: {
      ChoiceState: {
        Type: 'Choice',
        Choices: [
          {
            Condition: '{% $states.input.condition %}',
            Next: 'ConditionTrue',
            Assign: { Assignment: 'Condition assignment' },
          },
        ],
        Default: 'DefaultState',
        Assign: { Assignment: 'Default Assignment' },
      },
      ConditionTrue: {
        Type: 'Pass',
        Output: { input: '{% $states.input %}', assignment: '{% $Assignment %}' },
        End: true,
      },
      DefaultState: { Type: 'Fail', Cause: '{% "Condition is false: " & $Assignment %}' },
    },
  };

  it('follows a true Condition with its Assign (jsonata-assign-assign-in-choice-condition-true)', async () => {
    const { output, types } = await run(choice, { condition: true });
    expect(output).toEqual({ input: { condition: true }, assignment: 'Condition assignment' });
    expect(types).toEqual([
      'ExecutionStarted',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('takes Default with the state Assign otherwise (jsonata-assign-assign-in-choice-condition-false)', async () => {
    const { outcome } = await run(choice, { condition: false });
    expect(outcome).toEqual({ status: 'FAILED', cause: 'Condition is false: Default Assignment' });
  });

  it('fails with States.QueryEvaluationError when a Condition is no boolean', async () => {
    const { outcome, types } = await run(choice, { condition: 'yes' });
    expect(outcome.error).toBe('States.QueryEvaluationError');
    expect(outcome.cause).toMatch(
      /^An error occurred while executing the state 'ChoiceState' \(entered at the event id #2\)\. /,
    );
    expect(types).toEqual(['ExecutionStarted', 'ChoiceStateEntered', 'EvaluationFailed', 'ExecutionFailed']);
  });
});

describe('Mixed machines', () => {
  it('feeds a JSONata Output to a JSONPath state (jsonata-query-language-output-to-state-jsonata-output-to-jsonpath)', async () => {
    const { output } = await run(
      {
        StartAt: 'JSONataState',
        States: {
          JSONataState: {
            QueryLanguage: 'JSONata',
            Type: 'Pass',
            Output: { foo: 'foobar', bar: '{% $states.input %}' },
            Next: 'JSONPathState',
          },
          JSONPathState: { QueryLanguage: 'JSONPath', Type: 'Pass', End: true },
        },
      },
      { input_data: 'test' },
    );
    expect(output).toEqual({ foo: 'foobar', bar: { input_data: 'test' } });
  });

  it('shares variables between JSONPath and JSONata states (jsonata-query-language-variable-sampling-jsonpath-assign-jsonata-ref)', async () => {
    const { output } = await run({
      StartAt: 'JSONPathState',
      States: {
        JSONPathState: { Type: 'Pass', Assign: { theAnswerVar: 42 }, Next: 'JSONataState' },
        JSONataState: {
          QueryLanguage: 'JSONata',
          Type: 'Pass',
          Assign: { theAnswerVar: 18, oldAnswerVar: '{% $theAnswerVar %}' },
          Next: 'Back',
        },
        Back: { Type: 'Pass', Parameters: { 'now.$': '$theAnswerVar', 'old.$': '$oldAnswerVar' }, End: true },
      },
    });
    expect(output).toEqual({ now: 18, old: 42 });
  });

  it('runs a JSONPath Map processor inside a JSONata machine', async () => {
    const { output } = await run(
      {
        QueryLanguage: 'JSONata',
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemProcessor: {
              QueryLanguage: 'JSONPath',
              StartAt: 'I',
              States: { I: { Type: 'Pass', Parameters: { 'doubled.$': 'States.MathAdd($, $)' }, End: true } },
            },
            End: true,
          },
        },
      },
      [1, 2],
    );
    expect(output).toEqual([{ doubled: 2 }, { doubled: 4 }]);
  });

  it('leaves "{% %}" text alone in JSONPath states', async () => {
    const { output } = await run({
      StartAt: 'P',
      States: { P: { Type: 'Pass', Parameters: { text: '{% 1 + 1 %}' }, End: true } },
    });
    expect(output).toEqual({ text: '{% 1 + 1 %}' });
  });
});
