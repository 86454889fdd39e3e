/**
 * Map on stepsaga's interpreter. Inline: ItemsPath, ItemSelector with `$$.Map.Item`, MaxConcurrency(Path),
 * a failing iteration aborting the others, Retry and Catch. Distributed: a Map Run with
 * ToleratedFailureCount/Percentage(Path). Case ids name AWS recordings (conformance/cases).
 */
import { describe, expect, it } from 'vitest';
import type { StateMachineDefinition } from '../../../localcloud/stepfunctions/asl/definition';
import type { HistoryEvent } from '../../../localcloud/stepfunctions/asl/history';
import type { JsonValue } from '../../../localcloud/stepfunctions/asl/types';
import { interpreterRunner } from '../../support/interpreter';

// These machines call no Task resource: the integrations only complete the execution's parameters.
const { run } = interpreterRunner({ name: 'asl-map' });

const passProcessor = (mode: 'INLINE' | 'DISTRIBUTED' = 'INLINE') => ({
  ProcessorConfig: { Mode: mode },
  StartAt: 'HandleItem',
  States: { HandleItem: { Type: 'Pass' as const, End: true } },
});

/** Fails the items that have a `fail` member; passes the others on. */
const failingProcessor = (mode: 'INLINE' | 'DISTRIBUTED') => ({
  ProcessorConfig: { Mode: mode },
  StartAt: 'Check',
  States: {
    Check: {
      Type: 'Choice' as const,
      Choices: [{ Variable: '$.fail', IsPresent: true, Next: 'Break' }],
      Default: 'Ok',
    },
    Break: { Type: 'Fail' as const, Error: 'ItemFailed', Cause: 'this item fails' },
    Ok: { Type: 'Pass' as const, End: true },
  },
});

/** The iteration indexes of `type` events, in history order. */
const iterations = (history: readonly HistoryEvent[], type: string): number[] =>
  history
    .filter((event) => event.type === type)
    .map(
      (event) =>
        (event[`${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`] as { index: number }).index,
    );

describe('Map (inline)', () => {
  it('builds each item input with ItemSelector and $$.Map.Item (map-item-selector)', async () => {
    const shipped = [
      { prod: 'R31', 'dest-code': 9511, quantity: 1344 },
      { prod: 'S39', 'dest-code': 9511, quantity: 40 },
    ];
    const { output, types } = await run({
      StartAt: 'StartState',
      States: {
        StartState: {
          Type: 'Pass',
          Result: { detail: { 'delivery-partner': 'UQS', shipped } },
          Next: 'MapState',
        },
        MapState: {
          Type: 'Map',
          ResultPath: '$.detail.shipped_output',
          InputPath: '$.detail',
          ItemsPath: '$.shipped',
          MaxConcurrency: 1,
          ItemSelector: {
            'original_input.$': '$',
            'iteration_input_value.$': '$$.Map.Item.Value',
            'iteration_index.$': '$$.Map.Item.Index',
            'from_input_constant.$': '$.delivery-partner',
            constant_value: 'HelloWorld',
          },
          ItemProcessor: passProcessor(),
          End: true,
        },
      },
    });
    const original = { 'delivery-partner': 'UQS', shipped };
    expect(output).toEqual({
      detail: {
        ...original,
        shipped_output: shipped.map((item, index) => ({
          constant_value: 'HelloWorld',
          iteration_input_value: item,
          from_input_constant: 'UQS',
          iteration_index: index,
          original_input: original,
        })),
      },
    });
    // MaxConcurrency 1: one iteration after the other.
    expect(types.slice(3, -1)).toEqual([
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
      'PassStateEntered',
      'PassStateExited',
      'MapIterationSucceeded',
      'MapIterationStarted',
      'PassStateEntered',
      'PassStateExited',
      'MapIterationSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
    ]);
  });

  it('records the item count in MapStateStarted and each iteration index', async () => {
    const { history, output } = await run(
      { StartAt: 'M', States: { M: { Type: 'Map', ItemProcessor: passProcessor(), End: true } } },
      ['a', 'b', 'c'],
    );
    expect(output).toEqual(['a', 'b', 'c']);
    expect(history.find((event) => event.type === 'MapStateStarted')?.mapStateStartedEventDetails).toEqual({
      length: 3,
    });
    expect(iterations(history, 'MapIterationSucceeded').sort()).toEqual([0, 1, 2]);
  });

  it('outputs [] for no items', async () => {
    const { output, types } = await run(
      {
        StartAt: 'M',
        States: { M: { Type: 'Map', ItemsPath: '$.items', ItemProcessor: passProcessor(), End: true } },
      },
      { items: [] },
    );
    expect(output).toEqual([]);
    expect(types).not.toContain('MapIterationStarted');
  });

  it('reads MaxConcurrencyPath (scenarios-map-max-concurrency-path-one)', async () => {
    const { output, types } = await run(
      {
        StartAt: 'MapState',
        States: {
          MapState: {
            Type: 'Map',
            ItemsPath: '$.Values',
            MaxConcurrencyPath: '$.MaxConcurrencyValue',
            ItemProcessor: passProcessor(),
            End: true,
          },
        },
      },
      { MaxConcurrencyValue: 1, Values: ['HelloWorld'] },
    );
    expect(output).toEqual(['HelloWorld']);
    expect(types).toContain('MapIterationSucceeded');
  });

  it('fails with States.Runtime for a MaxConcurrencyPath that is no integer (scenarios-map-max-concurrency-path-string)', async () => {
    const { outcome, types } = await run(
      {
        StartAt: 'MapState',
        States: {
          MapState: {
            Type: 'Map',
            ItemsPath: '$.Values',
            MaxConcurrencyPath: '$.MaxConcurrencyValue',
            ItemProcessor: passProcessor(),
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Succeed' },
        },
      },
      { MaxConcurrencyValue: 'NoNumber', Values: ['HelloWorld'] },
    );
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'States.Runtime',
      cause:
        'An error occurred while executing the state \'MapState\' (entered at the event id #2). The MaxConcurrencyPath field refers to value "NoNumber" which is not a valid integer: $.MaxConcurrencyValue',
    });
    expect(types).toEqual(['ExecutionStarted', 'MapStateEntered', 'ExecutionFailed']);
  });

  it('runs at most MaxConcurrency iterations at once', async () => {
    const { output, history } = await run(
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            MaxConcurrency: 2,
            ItemProcessor: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 5, End: true } } },
            End: true,
          },
        },
      },
      ['a', 'b', 'c', 'd'],
    );
    expect(output).toEqual(['a', 'b', 'c', 'd']);
    const types = history.map((event) => event.type);
    let running = 0;
    let most = 0;
    for (const type of types) {
      if (type === 'MapIterationStarted') running++;
      if (type === 'MapIterationSucceeded') running--;
      most = Math.max(most, running);
    }
    expect(most).toBe(2);
  });

  it('fails when an iteration fails (scenarios-map-break-condition)', async () => {
    const { outcome, types } = await run(
      {
        StartAt: 'M',
        States: {
          M: { Type: 'Map', MaxConcurrency: 1, ItemProcessor: failingProcessor('INLINE'), End: true },
        },
      },
      [{}, { fail: true }],
    );
    expect(outcome).toEqual({ status: 'FAILED', error: 'ItemFailed', cause: 'this item fails' });
    expect(types.slice(-5)).toEqual([
      'ChoiceStateExited',
      'FailStateEntered',
      'MapIterationFailed',
      'MapStateFailed',
      'ExecutionFailed',
    ]);
  });

  it('aborts the iterations still running when one fails', async () => {
    // Items 0 and 1 wait 100 s even at waitScale 0.001: the Map ends only because they are aborted.
    const { outcome, history } = await run(
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemProcessor: {
              StartAt: 'Check',
              States: {
                Check: {
                  Type: 'Choice',
                  Choices: [{ Variable: '$', NumericEquals: 2, Next: 'Break' }],
                  Default: 'Slow',
                },
                Break: { Type: 'Fail', Error: 'Boom' },
                Slow: { Type: 'Wait', Seconds: 100_000, End: true },
              },
            },
            End: true,
          },
        },
      },
      [0, 1, 2],
    );
    expect(outcome).toEqual({ status: 'FAILED', error: 'Boom' });
    expect(iterations(history, 'MapIterationFailed')).toEqual([2]);
    expect(iterations(history, 'MapIterationAborted').sort()).toEqual([0, 1]);
    expect(history.map((event) => event.type).slice(-2)).toEqual(['MapStateFailed', 'ExecutionFailed']);
    expect(history.map((event) => event.type)).not.toContain('WaitStateExited');
  });

  it('runs every iteration again on Retry, MapStateStarted per attempt (scenarios-map-retry)', async () => {
    const { outcome, types } = await run({
      StartAt: 'StartState',
      States: {
        StartState: { Type: 'Pass', Result: [1], ResultPath: '$.arr', Next: 'MapState' },
        MapState: {
          Type: 'Map',
          ResultPath: null,
          InputPath: '$.arr',
          MaxConcurrency: 1,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'HandleItemFail',
            States: {
              HandleItemFail: { Type: 'Fail', Error: 'HandleItemFailError', Cause: 'HandleItemFailCause' },
            },
          },
          Retry: [{ ErrorEquals: ['HandleItemFailError'], MaxAttempts: 2 }],
          Next: 'Final',
        },
        Final: { Type: 'Pass', End: true },
      },
    });
    expect(outcome).toEqual({ status: 'FAILED', error: 'HandleItemFailError', cause: 'HandleItemFailCause' });
    const attempt = ['MapStateStarted', 'MapIterationStarted', 'FailStateEntered', 'MapIterationFailed'];
    expect(types).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'MapStateEntered',
      ...attempt,
      ...attempt,
      ...attempt,
      'MapStateFailed',
      'ExecutionFailed',
    ]);
  });

  it('is caught with {Error, Cause} as its output (scenarios-map-catch)', async () => {
    const { output, types } = await run(
      {
        StartAt: 'MapState',
        States: {
          MapState: {
            Type: 'Map',
            ItemProcessor: failingProcessor('INLINE'),
            Catch: [{ ErrorEquals: ['ItemFailed'], Next: 'FinalCaught' }],
            End: true,
          },
          FinalCaught: { Type: 'Pass', End: true },
        },
      },
      [{ fail: true }],
    );
    expect(output).toEqual({ Error: 'ItemFailed', Cause: 'this item fails' });
    expect(types.slice(-6)).toEqual([
      'MapIterationFailed',
      'MapStateFailed',
      'MapStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });
});

describe('Map (distributed)', () => {
  it('runs the items as a Map Run whose child events stay out of the history (more-map-config-distributed-item-selector)', async () => {
    const { output, types } = await run(
      {
        StartAt: 'MapState',
        States: {
          MapState: {
            Type: 'Map',
            MaxConcurrency: 1,
            ItemSelector: {
              constantValue: 'constant',
              'mapValue.$': '$$.Map.Item.Value',
              'fromInput.$': '$',
            },
            ItemProcessor: passProcessor('DISTRIBUTED'),
            Next: 'Finish',
          },
          Finish: { Type: 'Succeed' },
        },
      },
      ['Hello', 'World'],
    );
    expect(output).toEqual([
      { constantValue: 'constant', mapValue: 'Hello', fromInput: ['Hello', 'World'] },
      { constantValue: 'constant', mapValue: 'World', fromInput: ['Hello', 'World'] },
    ]);
    expect(types).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapRunStarted',
      'MapRunSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('names the Map Run after its Label (more-map-label)', async () => {
    const { history } = await run(
      {
        StartAt: 'MapState',
        States: {
          MapState: { Type: 'Map', Label: 'TestMap', ItemProcessor: passProcessor('DISTRIBUTED'), End: true },
        },
      },
      ['Hello', 'World'],
    );
    const started = history.find((event) => event.type === 'MapRunStarted')?.mapRunStartedEventDetails as {
      mapRunArn: string;
    };
    expect(started.mapRunArn).toMatch(
      /^arn:aws:states:us-east-1:000000000000:mapRun:asl-map\/TestMap:[0-9a-f-]{36}$/,
    );
  });

  it('tolerates ToleratedFailureCount failed items, each leaving {Error, Cause} in the output', async () => {
    const { outcome, output } = await run(
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ToleratedFailureCount: 1,
            ItemProcessor: failingProcessor('DISTRIBUTED'),
            End: true,
          },
        },
      },
      [{ n: 0 }, { fail: true }, { n: 2 }],
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(output).toEqual([{ n: 0 }, { Error: 'ItemFailed', Cause: 'this item fails' }, { n: 2 }]);
  });

  it('fails with States.ExceedToleratedFailureThreshold one failure past the tolerance', async () => {
    const { outcome, types, history } = await run(
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ToleratedFailureCount: 1,
            ItemProcessor: failingProcessor('DISTRIBUTED'),
            End: true,
          },
        },
      },
      [{ fail: true }, { fail: true }, { n: 2 }],
    );
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
      cause: 'The specified tolerated failure threshold was exceeded',
    });
    expect(types.slice(-4)).toEqual(['MapRunStarted', 'MapRunFailed', 'MapStateFailed', 'ExecutionFailed']);
    expect(history.at(-3)?.mapRunFailedEventDetails).toEqual({
      error: 'States.ExceedToleratedFailureThreshold',
      cause: 'The specified tolerated failure threshold was exceeded',
    });
  });

  it('fails on the first failed item without a tolerance', async () => {
    const { outcome } = await run(
      {
        StartAt: 'M',
        States: { M: { Type: 'Map', ItemProcessor: failingProcessor('DISTRIBUTED'), End: true } },
      },
      [{ n: 0 }, { fail: true }],
    );
    expect(outcome.error).toBe('States.ExceedToleratedFailureThreshold');
  });

  it('compares the failed share of the items with ToleratedFailurePercentage', async () => {
    const machine = (percentage: number): StateMachineDefinition => ({
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ToleratedFailurePercentage: percentage,
          ItemProcessor: failingProcessor('DISTRIBUTED'),
          End: true,
        },
      },
    });
    const items: JsonValue = [{ fail: true }, { n: 1 }, { n: 2 }, { n: 3 }];
    expect((await run(machine(25), items)).outcome.status).toBe('SUCCEEDED');
    expect((await run(machine(24.9), items)).outcome.error).toBe('States.ExceedToleratedFailureThreshold');
  });

  it('reads ToleratedFailureCountPath; a negative value fails with States.Runtime (more-map-tol-count-path-negative)', async () => {
    const machine: StateMachineDefinition = {
      StartAt: 'MapState',
      States: {
        MapState: {
          Type: 'Map',
          ItemsPath: '$.Items',
          MaxConcurrency: 1,
          ItemProcessor: passProcessor('DISTRIBUTED'),
          ToleratedFailureCountPath: '$.ToleratedFailureCount',
          End: true,
        },
      },
    };
    // more-map-tol-count-path-zero
    expect((await run(machine, { Items: [0], ToleratedFailureCount: 0 })).output).toEqual([0]);
    const { outcome, types } = await run(machine, { Items: [0], ToleratedFailureCount: -1 });
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'States.Runtime',
      cause:
        "An error occurred while executing the state 'MapState' (entered at the event id #2). ToleratedFailureCount cannot be negative.",
    });
    expect(types).toEqual(['ExecutionStarted', 'MapStateEntered', 'MapStateStarted', 'ExecutionFailed']);
  });

  it('refuses a ToleratedFailurePercentagePath over 100 (more-map-tol-pct-path-over-hundred)', async () => {
    const { outcome } = await run(
      {
        StartAt: 'MapState',
        States: {
          MapState: {
            Type: 'Map',
            ItemsPath: '$.Items',
            ItemProcessor: passProcessor('DISTRIBUTED'),
            ToleratedFailurePercentagePath: '$.ToleratedFailurePercentage',
            End: true,
          },
        },
      },
      { Items: [0], ToleratedFailurePercentage: 100.1 },
    );
    expect(outcome.cause).toBe(
      "An error occurred while executing the state 'MapState' (entered at the event id #2). ToleratedFailurePercentage must be between 0 and 100.",
    );
  });
});
