/**
 * The execution history on stepsaga's interpreter: event ids and previousEventId, where each event type
 * keeps its details, and the order of events in Parallel branches and Map iterations. Case ids name AWS
 * recordings (conformance/cases).
 */
import { describe, expect, it } from 'vitest';
import { interpreterRunner } from '../../support/interpreter';

// These machines call no Task resource: the integrations only complete the execution's parameters.
const { run } = interpreterRunner({ name: 'asl-history' });

describe('history', () => {
  it('numbers events from 1, each pointing at the one before', async () => {
    const { history } = await run({
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Next: 'B' },
        B: { Type: 'Wait', Seconds: 0, Next: 'C' },
        C: { Type: 'Succeed' },
      },
    });
    expect(history.map((event) => [event.id, event.previousEventId])).toEqual(
      history.map((_, index) => [index + 1, index]),
    );
    for (const event of history) expect(event.timestamp).toBeInstanceOf(Date);
  });

  it('keeps the details of each event type under its own key', async () => {
    const { history } = await run(
      { StartAt: 'P', States: { P: { Type: 'Pass', Result: { r: 1 }, End: true } } },
      { in: true },
    );
    expect(
      history.map(({ id, previousEventId, timestamp, type, ...details }) => ({ type, details })),
    ).toEqual([
      {
        type: 'ExecutionStarted',
        details: {
          executionStartedEventDetails: {
            input: '{"in":true}',
            inputDetails: { truncated: false },
            roleArn: 'arn:aws:iam::000000000000:role/StatesRole',
          },
        },
      },
      {
        type: 'PassStateEntered',
        details: {
          stateEnteredEventDetails: { name: 'P', input: '{"in":true}', inputDetails: { truncated: false } },
        },
      },
      {
        type: 'PassStateExited',
        details: {
          stateExitedEventDetails: { name: 'P', output: '{"r":1}', outputDetails: { truncated: false } },
        },
      },
      {
        type: 'ExecutionSucceeded',
        details: {
          executionSucceededEventDetails: { output: '{"r":1}', outputDetails: { truncated: false } },
        },
      },
    ]);
  });

  it('names the state and iteration index in Map iteration events', async () => {
    const { history } = await run(
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            MaxConcurrency: 1,
            ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
            End: true,
          },
        },
      },
      ['x', 'y'],
    );
    const iterationEvents = history
      .filter((event) => event.type.startsWith('MapIteration'))
      .map(({ type, ...event }) => [
        type,
        event[`${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`],
      ]);
    expect(iterationEvents).toEqual([
      ['MapIterationStarted', { name: 'M', index: 0 }],
      ['MapIterationSucceeded', { name: 'M', index: 0 }],
      ['MapIterationStarted', { name: 'M', index: 1 }],
      ['MapIterationSucceeded', { name: 'M', index: 1 }],
    ]);
  });

  it('records the failure in ExecutionFailed details and nothing after it (fail-paths)', async () => {
    const { history } = await run(
      {
        StartAt: 'FailState',
        States: { FailState: { Type: 'Fail', ErrorPath: '$.Error', CausePath: '$.Cause' } },
      },
      { Error: 'error string', Cause: 'cause string' },
    );
    expect(history.at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error: 'error string', cause: 'cause string' },
    });
  });

  it('advances Parallel branches in step: every branch enters before any exits (scenarios-parallel-order)', async () => {
    const branch = (name: string) => ({
      StartAt: name,
      States: { [name]: { Type: 'Pass' as const, End: true } },
    });
    const { history } = await run({
      StartAt: 'StartState',
      States: {
        StartState: {
          Type: 'Parallel',
          Branches: [branch('Branch0'), branch('Branch1'), branch('Branch2')],
          End: true,
        },
      },
    });
    const entered = history
      .filter((event) => event.type === 'PassStateEntered')
      .map((event) => (event.stateEnteredEventDetails as { name: string }).name);
    expect(history.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'ParallelStateEntered',
      'ParallelStateStarted',
      'PassStateEntered',
      'PassStateEntered',
      'PassStateEntered',
      'PassStateExited',
      'PassStateExited',
      'PassStateExited',
      'ParallelStateSucceeded',
      'ParallelStateExited',
      'ExecutionSucceeded',
    ]);
    expect(entered.sort()).toEqual(['Branch0', 'Branch1', 'Branch2']);
  });

  it('records nested Map iterations inside their outer iteration (more-assign-ref-in-iterator-outer-scope)', async () => {
    const { types } = await run({
      StartAt: 'Input',
      States: {
        Input: {
          Type: 'Pass',
          Result: [
            [9, 44],
            [82, 25],
          ],
          Next: 'IterateLevels',
        },
        IterateLevels: {
          Type: 'Map',
          MaxConcurrency: 1,
          ItemProcessor: {
            StartAt: 'AssignCurrentVector',
            States: {
              AssignCurrentVector: { Type: 'Pass', Next: 'Calculate' },
              Calculate: {
                Type: 'Map',
                MaxConcurrency: 1,
                ItemProcessor: { StartAt: 'Summate', States: { Summate: { Type: 'Pass', End: true } } },
                End: true,
              },
            },
          },
          End: true,
        },
      },
    });
    const inner = ['MapIterationStarted', 'PassStateEntered', 'PassStateExited', 'MapIterationSucceeded'];
    const outer = [
      'MapIterationStarted',
      'PassStateEntered',
      'PassStateExited',
      'MapStateEntered',
      'MapStateStarted',
      ...inner,
      ...inner,
      'MapStateSucceeded',
      'MapStateExited',
      'MapIterationSucceeded',
    ];
    expect(types).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'MapStateEntered',
      'MapStateStarted',
      ...outer,
      ...outer,
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
  });
});
