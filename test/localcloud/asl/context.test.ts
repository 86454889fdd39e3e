/**
 * The Context Object (`$$`) on stepsaga's interpreter, against a real local Lambda function: the
 * Execution, StateMachine and State fields every state sees, `$$.State.RetryCount` in Task states only,
 * and `$$.Task.Token` in callback Tasks only. Case ids name AWS recordings (conformance/cases).
 */

import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../../localcloud/stepfunctions/asl/history';
import type { JsonValue } from '../../../localcloud/stepfunctions/asl/types';
import { TaskTokens } from '../../../localcloud/stepfunctions/task-tokens';
import {
  BEHAVE_ARN,
  callbackMachine,
  interpreterRunner,
  tokenOf,
  withBehave,
} from '../../support/interpreter';

const { run } = interpreterRunner({ name: 'asl-context', ...withBehave });

const EXECUTION_ARN = 'arn:aws:states:us-east-1:000000000000:execution:asl-context:run';
const MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:asl-context';

/** The function inputs of a run's LambdaFunctionScheduled events. */
const scheduledInputs = (history: readonly HistoryEvent[]): JsonValue[] =>
  history
    .filter((event) => event.type === 'LambdaFunctionScheduled')
    .map(
      (event) =>
        JSON.parse((event.lambdaFunctionScheduledEventDetails as { input: string }).input) as JsonValue,
    );

describe('Context Object', () => {
  it('gives every state Execution, StateMachine and State (base-context-object-values)', async () => {
    const { output } = await run(
      {
        StartAt: 'QueryValues1',
        States: {
          QueryValues1: {
            Type: 'Pass',
            ResultPath: '$.query_values_1',
            Parameters: { 'context_object.$': '$$' },
            Next: 'QueryValues2',
          },
          QueryValues2: {
            Type: 'Pass',
            ResultPath: '$.query_values_2',
            Parameters: { 'state.$': '$$.State' },
            End: true,
          },
        },
      },
      { message: 'TestMessage' },
    );
    const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(output).toEqual({
      message: 'TestMessage',
      query_values_1: {
        context_object: {
          Execution: {
            Id: EXECUTION_ARN,
            Input: { message: 'TestMessage' },
            StartTime: iso,
            Name: 'run',
            RoleArn: 'arn:aws:iam::000000000000:role/StatesRole',
            RedriveCount: 0,
          },
          StateMachine: { Id: MACHINE_ARN, Name: 'asl-context' },
          State: { Name: 'QueryValues1', EnteredTime: iso },
        },
      },
      query_values_2: { state: { Name: 'QueryValues2', EnteredTime: iso } },
    });
  });

  it('keeps $$.Execution.Input the execution input, whatever the states did (base-ctx-inputpath-execution-input)', async () => {
    const { output } = await run(
      {
        StartAt: 'Change',
        States: {
          Change: { Type: 'Pass', Result: { changed: true }, Next: 'TestState' },
          TestState: { Type: 'Pass', InputPath: '$$.Execution.Input', End: true },
        },
      },
      { 'input-value': 0 },
    );
    expect(output).toEqual({ 'input-value': 0 });
  });

  it('gives State.EnteredTime of the current entry, not before the execution started', async () => {
    const { output } = await run({
      StartAt: 'A',
      States: {
        A: {
          Type: 'Pass',
          Parameters: { 'start.$': '$$.Execution.StartTime', 'entered.$': '$$.State.EnteredTime' },
          End: true,
        },
      },
    });
    const { start, entered } = output as { start: string; entered: string };
    expect(Date.parse(entered)).toBeGreaterThanOrEqual(Date.parse(start));
  });

  it('counts retries in $$.State.RetryCount of a Task, each attempt evaluating its Parameters again (lambda-arn-retry-context-parameters)', async () => {
    const { history, output } = await run(
      {
        StartAt: 'InvokeLambdaWithRetry',
        States: {
          InvokeLambdaWithRetry: {
            Type: 'Task',
            Resource: BEHAVE_ARN,
            Parameters: {
              'throw.$': '$.throw',
              'retryCount.$': '$$.State.RetryCount',
              'name.$': '$$.State.Name',
            },
            Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'HandleError' }],
            End: true,
          },
          HandleError: { Type: 'Pass', End: true },
        },
      },
      { throw: { name: 'Exception', message: 'Some exception was raised.' } },
    );
    expect(scheduledInputs(history).map((input) => (input as { retryCount: number }).retryCount)).toEqual([
      0, 1, 2, 3,
    ]);
    expect(output).toMatchObject({ Error: 'Exception' });
  });

  it('has no RetryCount outside Task states', async () => {
    const { output } = await run({
      StartAt: 'P',
      States: { P: { Type: 'Pass', Parameters: { 'state.$': '$$.State' }, End: true } },
    });
    expect(Object.keys((output as { state: object }).state).sort()).toEqual(['EnteredTime', 'Name']);
  });

  it('has no $$.Task in a Task that is not a callback: reading it fails with States.Runtime', async () => {
    const { outcome, types } = await run({
      StartAt: 'T',
      States: {
        T: { Type: 'Task', Resource: BEHAVE_ARN, Parameters: { 'token.$': '$$.Task.Token' }, End: true },
      },
    });
    expect(outcome.error).toBe('States.Runtime');
    expect(outcome.cause).toMatch(
      /^An error occurred while executing the state 'T' \(entered at the event id #2\)\./,
    );
    expect(types).not.toContain('LambdaFunctionScheduled');
  });

  it('gives a callback Task its token in $$.Task.Token, a new one per attempt', async () => {
    const tokens = new TaskTokens();
    const seen: string[] = [];
    // The worker: fails the first attempt (retried), answers the second.
    const worker = (event: HistoryEvent): void => {
      if (event.type === 'TaskScheduled') seen.push(tokenOf(event));
      const token = seen.at(-1);
      if (event.type !== 'TaskSubmitted' || token === undefined) return;
      if (seen.length === 1) tokens.fail(token, 'Again');
      else tokens.succeed(token, { attempt: seen.length });
    };
    const { output } = await run(
      callbackMachine({ Retry: [{ ErrorEquals: ['Again'], MaxAttempts: 1 }] }),
      {},
      { taskTokens: tokens, onEvent: worker },
    );
    expect(output).toEqual({ attempt: 2 });
    expect(seen).toHaveLength(2);
    for (const token of seen) expect(token).toMatch(/^AQ[A-Za-z0-9_-]{86}$/);
    expect(seen[0]).not.toBe(seen[1]);
  });
});
