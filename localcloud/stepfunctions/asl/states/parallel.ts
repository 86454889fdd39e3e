/**
 * Parallel: runs every branch on the state's effective input (JSONPath Parameters, JSONata Arguments),
 * concurrently; the output is the array of the branches' outputs. A failing branch cancels the others
 * and fails the state (Retry runs all branches again: ParallelStateStarted per attempt; the final
 * failure records ParallelStateFailed).
 */
import { effectiveInput, stateArguments, stateOutput } from '../dataflow';
import type { ParallelState } from '../definition';
import { withRetryAndCatch } from '../retry';
import { childFrame, type StateResult, type StateRun, transition } from '../run';
import { runAll, runChild, trackOutcomes } from './branches';

export function runParallel(run: StateRun<ParallelState>): Promise<StateResult> {
  const { state } = run;
  return withRetryAndCatch(
    run,
    async () => {
      run.record('ParallelStateStarted');
      const input = await stateArguments(run, effectiveInput(run));
      // A redrive runs again only the branches that did not succeed.
      const previous = run.redrive;
      run.redrive = undefined;
      const outcomes = trackOutcomes(run.frame);
      const results = await runAll(state.Branches.length, run.frame.signal, (index, signal) => {
        const branch = state.Branches[index];
        if (!branch) throw new Error(`no branch ${index}`);
        const frame = childFrame(run.frame, signal, {
          concurrent: true,
          recorded: true,
          ...(branch.QueryLanguage ? { queryLanguage: branch.QueryLanguage } : {}),
        });
        return runChild(index, frame, previous, outcomes, () =>
          run.frame.env.runStates(branch, structuredClone(input), frame),
        );
      });
      run.record('ParallelStateSucceeded');
      const { output, assign } = await stateOutput(run, results);
      return { output, next: transition(state), ...(assign ? { assign } : {}) };
    },
    { onFinalFailure: () => run.record('ParallelStateFailed') },
  );
}
