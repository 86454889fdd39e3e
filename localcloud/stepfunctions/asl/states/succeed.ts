/** Succeed: ends the machine (or the branch / iteration) with its input, through InputPath and OutputPath. */
import { effectiveInput, jsonataBindings, jsonPathScope } from '../dataflow';
import type { SucceedState } from '../definition';
import { evaluateJsonataTemplate } from '../jsonata';
import { applyInputOutputPath } from '../jsonpath';
import type { StateResult, StateRun } from '../run';

export async function runSucceed(run: StateRun<SucceedState>): Promise<StateResult> {
  const { state } = run;
  if (run.language === 'JSONata') {
    const output =
      state.Output === undefined
        ? run.input
        : await evaluateJsonataTemplate(state.Output, jsonataBindings(run), 'Output');
    return { output, next: undefined };
  }
  const effective = effectiveInput(run);
  const output = applyInputOutputPath(
    effective,
    state.OutputPath,
    jsonPathScope(run, effective),
    'OutputPath',
  );
  return { output, next: undefined };
}
