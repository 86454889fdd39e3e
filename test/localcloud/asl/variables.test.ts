/**
 * Variables (Assign) on stepsaga's interpreter: a state's fields read the variables as they were before
 * it; Map iterations and Parallel branches read the outer variables, and what they assign stays inside
 * them; `__proto__` is a variable name like any other. Case ids name AWS recordings (conformance/cases).
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../localcloud/stepfunctions/asl/types';
import { interpreterRunner } from '../../support/interpreter';

// These machines call no Task resource: the integrations only complete the execution's parameters.
const { run } = interpreterRunner({ name: 'asl-variables' });

describe('Assign', () => {
  it('lets a state read the variables as they were before its own Assign (base-assign-evaluation-order)', async () => {
    const { output } = await run({
      StartAt: 'State0',
      States: {
        State0: {
          Type: 'Pass',
          Result: { theQuestion: 'What is the answer to life the universe and everything?' },
          Assign: { 'question.$': '$.theQuestion', answer: 42 },
          Next: 'State1',
        },
        State1: {
          Type: 'Pass',
          InputPath: '$answer',
          ResultPath: '$.theAnswer',
          OutputPath: '$answer',
          Assign: { answer: '<omitted>' },
          End: true,
        },
      },
    });
    expect(output).toBe(42);
  });

  it('evaluates every entry of one Assign against the values before it', async () => {
    const { output } = await run({
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Assign: { a: 1 }, Next: 'B' },
        B: { Type: 'Pass', Assign: { a: 2, 'b.$': '$a' }, Next: 'Show' },
        Show: { Type: 'Pass', Parameters: { 'a.$': '$a', 'b.$': '$b' }, End: true },
      },
    });
    expect(output).toEqual({ a: 2, b: 1 });
  });

  it('does not change the state output (base-assign-var)', async () => {
    const { output } = await run(
      {
        StartAt: 'State0',
        States: { State0: { Type: 'Pass', Assign: { 'varname.$': '$.input_value' }, End: true } },
      },
      { input_value: 'input_value_literal' },
    );
    expect(output).toEqual({ input_value: 'input_value_literal' });
  });

  it('fails with States.Runtime when a path reads a variable never assigned', async () => {
    const { outcome } = await run({
      StartAt: 'Read',
      States: { Read: { Type: 'Pass', Parameters: { 'v.$': '$neverAssigned' }, End: true } },
    });
    expect(outcome.error).toBe('States.Runtime');
    expect(outcome.cause).toMatch(
      /^An error occurred while executing the state 'Read' \(entered at the event id #2\)\./,
    );
  });
});

describe('Assign in Map and Parallel', () => {
  it('lets Map iterations read outer variables; their assignments stay inside (base-assign-scope-map)', async () => {
    const { history, outcome } = await run(
      {
        StartAt: 'State0',
        States: {
          State0: { Type: 'Pass', Assign: { x: 42, items: [1, 2, 3] }, Next: 'State1' },
          State1: {
            Type: 'Map',
            ItemsPath: '$items',
            MaxConcurrency: 1,
            ItemProcessor: {
              ProcessorConfig: { Mode: 'INLINE' },
              StartAt: 'Inner',
              States: {
                Inner: {
                  Type: 'Pass',
                  Parameters: { 'x.$': '$x', 'item.$': '$' },
                  Assign: { 'innerX.$': '$x' },
                  End: true,
                },
              },
            },
            Next: 'State2',
          },
          State2: { Type: 'Pass', Assign: { 'final.$': '$x' }, Next: 'Inside' },
          Inside: { Type: 'Pass', Parameters: { 'innerX.$': '$innerX' }, End: true },
        },
      },
      { input_value: 'input_value_literal' },
    );
    // The iterations saw x; the state after the Map does not see innerX.
    const mapExited = history.find((event) => event.type === 'MapStateExited');
    expect(JSON.parse((mapExited!.stateExitedEventDetails as { output: string }).output)).toEqual([
      { x: 42, item: 1 },
      { x: 42, item: 2 },
      { x: 42, item: 3 },
    ]);
    expect(outcome.error).toBe('States.Runtime');
    expect(outcome.cause).toContain("executing the state 'Inside'");
  });

  it('gives every iteration the outer values, not another iteration assignments', async () => {
    const { output } = await run(
      {
        StartAt: 'Init',
        States: {
          Init: { Type: 'Pass', Assign: { seen: 'outer' }, Next: 'M' },
          M: {
            Type: 'Map',
            MaxConcurrency: 1,
            ItemsPath: '$.items',
            ItemProcessor: {
              StartAt: 'Inner',
              States: {
                Inner: {
                  Type: 'Pass',
                  Parameters: { 'before.$': '$seen' },
                  Assign: { 'seen.$': '$' },
                  End: true,
                },
              },
            },
            Next: 'After',
          },
          After: { Type: 'Pass', Parameters: { 'iterations.$': '$', 'seen.$': '$seen' }, End: true },
        },
      },
      { items: ['a', 'b', 'c'] },
    );
    expect(output).toEqual({
      iterations: [{ before: 'outer' }, { before: 'outer' }, { before: 'outer' }],
      seen: 'outer',
    });
  });

  it('reads outer variables in nested Maps (more-assign-ref-in-iterator-outer-scope)', async () => {
    const { output } = await run({
      StartAt: 'Input',
      States: {
        Input: { Type: 'Pass', Result: [[9, 44, 6]], Assign: { bias: 4 }, Next: 'IterateLevels' },
        IterateLevels: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'AssignCurrentVector',
            States: {
              AssignCurrentVector: {
                Type: 'Pass',
                Assign: { 'xCurrent.$': '$[0]', 'yCurrent.$': '$[1]' },
                Next: 'Calculate',
              },
              Calculate: {
                Type: 'Map',
                ItemProcessor: {
                  StartAt: 'Summate',
                  States: {
                    Summate: {
                      Type: 'Pass',
                      Parameters: { 'sum.$': 'States.MathAdd(States.MathAdd($yCurrent, $xCurrent), $bias)' },
                      End: true,
                    },
                  },
                },
                End: true,
              },
            },
          },
          End: true,
        },
      },
    });
    expect(output).toEqual([[{ sum: 57 }, { sum: 57 }, { sum: 57 }]]);
  });

  it('lets Parallel branches read outer variables; only the Parallel state Assign reaches the outside', async () => {
    const { output } = await run({
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { shared: 'outer' }, Next: 'P' },
        P: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'B0',
              States: {
                B0: {
                  Type: 'Pass',
                  Parameters: { 'shared.$': '$shared' },
                  Assign: { shared: 'branch' },
                  End: true,
                },
              },
            },
          ],
          Assign: { 'fromBranch.$': '$[0].shared' },
          Next: 'After',
        },
        After: {
          Type: 'Pass',
          Parameters: { 'shared.$': '$shared', 'fromBranch.$': '$fromBranch' },
          End: true,
        },
      },
    });
    expect(output).toEqual({ shared: 'outer', fromBranch: 'outer' });
  });
});

describe('Variable names', () => {
  it('treats __proto__ as an ordinary variable', async () => {
    // As CreateStateMachine parses it: an own "__proto__" key (an object literal would set the prototype).
    const assign = JSON.parse('{"__proto__": {"polluted": true}, "other": 1}') as JsonObject;
    const { output } = await run({
      StartAt: 'Set',
      States: {
        Set: { Type: 'Pass', Assign: assign, Next: 'Read' },
        Read: { Type: 'Pass', Parameters: { 'proto.$': '$__proto__', 'other.$': '$other' }, End: true },
      },
    });
    expect(output).toEqual({ proto: { polluted: true }, other: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
