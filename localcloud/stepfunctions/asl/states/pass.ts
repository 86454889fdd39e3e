/** Pass: passes its input (or its `Result`) on, through the data flow of its query language. */
import { effectiveInput, stateArguments, stateOutput } from '../dataflow';
import type { PassState } from '../definition';
import { checkResultSize, type StateResult, type StateRun, transition } from '../run';

export async function runPass(run: StateRun<PassState>): Promise<StateResult> {
  const { state } = run;
  let result: import('../types').JsonValue;
  if (run.language === 'JSONata') {
    result = run.input;
  } else if (state.Result !== undefined) {
    checkResultSize(run, state.Result);
    result = structuredClone(state.Result);
    run.frame.inspect?.stage('result', result);
  } else {
    result = await stateArguments(run, effectiveInput(run));
  }
  const { output, assign } = await stateOutput(run, result);
  return { output, next: transition(state), ...(assign ? { assign } : {}) };
}
