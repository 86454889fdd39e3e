/**
 * Parallel on stepsaga's interpreter: branch inputs and ordered outputs, a failing branch cancelling the
 * others, Retry (all branches again) and Catch, and their history events. Case ids name AWS recordings
 * (conformance/cases).
 */
import { describe, expect, it } from 'vitest';
import type { StateMachineDefinition } from '../../../localcloud/stepfunctions/asl/definition';
import type { JsonValue } from '../../../localcloud/stepfunctions/asl/types';
import { interpreterRunner } from '../../support/interpreter';

// These machines call no Task resource: the integrations only complete the execution's parameters.
const { run } = interpreterRunner({ name: 'asl-parallel' });

const passBranch = (name: string, result?: JsonValue): StateMachineDefinition => ({
  StartAt: name,
  States: { [name]: { Type: 'Pass', ...(result !== undefined ? { Result: result } : {}), End: true } },
});
const failBranch: StateMachineDefinition = {
  StartAt: 'Branch1',
  States: { Branch1: { Type: 'Fail', Error: 'FailureType', Cause: 'Cause description' } },
};

describe('Parallel', () => {
  it('outputs the branch outputs in branch order (scenarios-parallel-order)', async () => {
    const { output, types } = await run({
      StartAt: 'StartState',
      States: {
        StartState: {
          Type: 'Parallel',
          Branches: [0, 1, 2, 3].map((branch) => passBranch(`Branch${branch}`, { branch })),
          End: true,
        },
      },
    });
    expect(output).toEqual([{ branch: 0 }, { branch: 1 }, { branch: 2 }, { branch: 3 }]);
    expect(types).toEqual([
      'ExecutionStarted',
      'ParallelStateEntered',
      'ParallelStateStarted',
      'PassStateEntered',
      'PassStateEntered',
      'PassStateEntered',
      'PassStateEntered',
      'PassStateExited',
      'PassStateExited',
      'PassStateExited',
      'PassStateExited',
      'ParallelStateSucceeded',
      'ParallelStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('hands every branch the Parameters (scenarios-parallel-parameters)', async () => {
    const { output } = await run({
      StartAt: 'TestState',
      States: {
        TestState: {
          Type: 'Parallel',
          Parameters: { 'static-input-0': 0, 'static-input-1': [1] },
          End: true,
          Branches: [passBranch('Branch0State0'), passBranch('Branch1State0')],
        },
      },
    });
    expect(output).toEqual([
      { 'static-input-0': 0, 'static-input-1': [1] },
      { 'static-input-0': 0, 'static-input-1': [1] },
    ]);
  });

  it('applies ResultSelector and ResultPath to the array of outputs', async () => {
    const { output } = await run(
      {
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Branches: [passBranch('A', 'a'), passBranch('B', 'b')],
            ResultSelector: { 'first.$': '$[0]', 'all.$': '$' },
            ResultPath: '$.parallel',
            End: true,
          },
        },
      },
      { kept: true },
    );
    expect(output).toEqual({ kept: true, parallel: { first: 'a', all: ['a', 'b'] } });
  });

  it('fails with the branch error and no cause when the Fail has none (scenarios-parallel-fail-no-cause)', async () => {
    const { outcome, types } = await run({
      StartAt: 'ParallelState',
      States: {
        ParallelState: {
          Type: 'Parallel',
          End: true,
          Branches: [{ StartAt: 'Branch1', States: { Branch1: { Type: 'Fail', Error: 'FailureType' } } }],
        },
      },
    });
    expect(outcome).toEqual({ status: 'FAILED', error: 'FailureType' });
    expect(types).toEqual([
      'ExecutionStarted',
      'ParallelStateEntered',
      'ParallelStateStarted',
      'FailStateEntered',
      'ParallelStateFailed',
      'ExecutionFailed',
    ]);
  });

  it('is caught by the branch error name (parallel-catch)', async () => {
    const { output, types } = await run({
      StartAt: 'ParallelState',
      States: {
        ParallelState: {
          Type: 'Parallel',
          Branches: [failBranch],
          Catch: [{ ErrorEquals: ['FailureType'], Next: 'FinalCaught' }],
          Next: 'Final',
        },
        FinalCaught: { Type: 'Pass', End: true },
        Final: { Type: 'Pass', End: true },
      },
    });
    expect(output).toEqual({ Error: 'FailureType', Cause: 'Cause description' });
    expect(types).toEqual([
      'ExecutionStarted',
      'ParallelStateEntered',
      'ParallelStateStarted',
      'FailStateEntered',
      'ParallelStateFailed',
      'ParallelStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('runs every branch again on Retry, ParallelStateStarted per attempt (scenarios-parallel-retry)', async () => {
    const { outcome, types } = await run({
      StartAt: 'ParallelState',
      States: {
        ParallelState: {
          Type: 'Parallel',
          Branches: [failBranch],
          Retry: [{ ErrorEquals: ['FailureType'], MaxAttempts: 2 }],
          Next: 'Final',
        },
        Final: { Type: 'Pass', End: true },
      },
    });
    expect(outcome).toEqual({ status: 'FAILED', error: 'FailureType', cause: 'Cause description' });
    expect(types).toEqual([
      'ExecutionStarted',
      'ParallelStateEntered',
      'ParallelStateStarted',
      'FailStateEntered',
      'ParallelStateStarted',
      'FailStateEntered',
      'ParallelStateStarted',
      'FailStateEntered',
      'ParallelStateFailed',
      'ExecutionFailed',
    ]);
  });

  it('cancels the other branches when one fails', async () => {
    // The waiting branch would take 100 s even at waitScale 0.001: the execution ends only if it is cancelled.
    const { outcome, types } = await run({
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Long',
              States: {
                Long: { Type: 'Wait', Seconds: 100_000, Next: 'After' },
                After: { Type: 'Pass', End: true },
              },
            },
            { StartAt: 'Boom', States: { Boom: { Type: 'Fail', Error: 'Boom' } } },
          ],
          End: true,
        },
      },
    });
    expect(outcome).toEqual({ status: 'FAILED', error: 'Boom' });
    expect(types).not.toContain('WaitStateExited');
    expect(types).not.toContain('PassStateEntered');
    expect(types.slice(-2)).toEqual(['ParallelStateFailed', 'ExecutionFailed']);
  });

  it('runs nested Parallel states (scenarios-parallel-nested)', async () => {
    const { output } = await run(
      {
        StartAt: 'ParallelStateL1',
        States: {
          ParallelStateL1: {
            Type: 'Parallel',
            End: true,
            Branches: [
              {
                StartAt: 'ParallelStateL2',
                States: {
                  ParallelStateL2: { Type: 'Parallel', End: true, Branches: [passBranch('BranchL2')] },
                },
              },
            ],
          },
        },
      },
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
    );
    expect(output).toEqual([
      [
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
      ],
    ]);
  });
});
