/**
 * Choice on stepsaga's interpreter: the first matching rule wins, Default, States.NoChoiceMatched,
 * And/Or/Not, context paths in Variable, Assign of the matching rule. Case ids name AWS recordings
 * (conformance/cases).
 */
import { describe, expect, it } from 'vitest';
import type { StateMachineDefinition } from '../../../localcloud/stepfunctions/asl/definition';
import { interpreterRunner } from '../../support/interpreter';

// These machines call no Task resource: the integrations only complete the execution's parameters.
const { run } = interpreterRunner({ name: 'asl-choice' });

/** The AWS documentation's example (more-choice-aws-docs-scenario). */
const docsChoice: StateMachineDefinition = {
  StartAt: 'ChoiceStateX',
  States: {
    ChoiceStateX: {
      Type: 'Choice',
      Choices: [
        { Not: { Variable: '$.type', StringEquals: 'Private' }, Next: 'Public' },
        { Variable: '$.value', NumericEquals: 0, Next: 'ValueIsZero' },
        {
          And: [
            { Variable: '$.value', NumericGreaterThanEquals: 20 },
            { Variable: '$.value', NumericLessThan: 30 },
          ],
          Next: 'ValueInTwenties',
        },
      ],
      Default: 'DefaultState',
    },
    Public: { Type: 'Pass', Result: 'Public', End: true },
    ValueIsZero: { Type: 'Pass', Result: 'ValueIsZero', End: true },
    ValueInTwenties: { Type: 'Pass', Result: 'ValueInTwenties', End: true },
    DefaultState: { Type: 'Fail', Cause: 'No Matches!' },
  },
};

describe('Choice', () => {
  it('goes to the Next of the matching rule and passes its input on (more-choice-aws-docs-scenario)', async () => {
    const { outcome, history, types } = await run(
      { ...docsChoice, States: { ...docsChoice.States, ValueInTwenties: { Type: 'Pass', End: true } } },
      { type: 'Private', value: 22 },
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(JSON.parse(outcome.output ?? 'null')).toEqual({ type: 'Private', value: 22 });
    expect(types).toEqual([
      'ExecutionStarted',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history[3]?.stateEnteredEventDetails).toMatchObject({ name: 'ValueInTwenties' });
  });

  it('takes the first matching rule in order, Not and And included', async () => {
    expect((await run(docsChoice, { type: 'Public', value: 0 })).output).toBe('Public');
    expect((await run(docsChoice, { type: 'Private', value: 0 })).output).toBe('ValueIsZero');
    expect((await run(docsChoice, { type: 'Private', value: 25 })).output).toBe('ValueInTwenties');
  });

  it('takes Default when no rule matches', async () => {
    const { outcome } = await run(docsChoice, { type: 'Private', value: 99 });
    expect(outcome).toEqual({ status: 'FAILED', cause: 'No Matches!' });
  });

  it('fails with States.NoChoiceMatched without a Default', async () => {
    const { outcome, types } = await run(
      {
        StartAt: 'C',
        States: {
          C: { Type: 'Choice', Choices: [{ Variable: '$.n', NumericEquals: 1, Next: 'One' }] },
          One: { Type: 'Succeed' },
        },
      },
      { n: 2 },
    );
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.NoChoiceMatched');
    expect(types).toEqual(['ExecutionStarted', 'ChoiceStateEntered', 'ExecutionFailed']);
  });

  it('reads a context path in Variable (base-ctx-choice-variable)', async () => {
    const { output, history } = await run(
      {
        StartAt: 'TestState',
        States: {
          TestState: {
            Type: 'Choice',
            Choices: [
              {
                Variable: '$$.Execution.Input.input-value',
                NumericLessThanEquals: 0,
                Next: 'QuitChoiceMatched',
              },
            ],
            Default: 'QuitNoChoiceMatched',
          },
          QuitChoiceMatched: { Type: 'Pass', End: true },
          QuitNoChoiceMatched: { Type: 'Pass', End: true },
        },
      },
      { 'input-value': 0 },
    );
    expect(output).toEqual({ 'input-value': 0 });
    expect(history[3]?.stateEnteredEventDetails).toMatchObject({ name: 'QuitChoiceMatched' });
  });

  it('applies the matching rule Assign, or the state Assign on Default (base-assign-in-choice-correct/-incorrect)', async () => {
    const definition: StateMachineDefinition = {
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [
            { Variable: '$.n', NumericEquals: 1, Next: 'Done', Assign: { branch: 'rule', 'n.$': '$.n' } },
          ],
          Default: 'Done',
          Assign: { branch: 'default' },
        },
        Done: { Type: 'Pass', Parameters: { 'branch.$': '$branch' }, End: true },
      },
    };
    expect((await run(definition, { n: 1 })).output).toEqual({ branch: 'rule' });
    expect((await run(definition, { n: 2 })).output).toEqual({ branch: 'default' });
  });

  it('filters its output with InputPath and OutputPath', async () => {
    const { output } = await run(
      {
        StartAt: 'C',
        States: {
          C: {
            Type: 'Choice',
            InputPath: '$.inner',
            OutputPath: '$.keep',
            Choices: [{ Variable: '$.flag', BooleanEquals: true, Next: 'Done' }],
          },
          Done: { Type: 'Succeed' },
        },
      },
      { inner: { flag: true, keep: 'kept' } },
    );
    expect(output).toBe('kept');
  });
});
