/**
 * Choice: the first rule that matches names the next state (JSONPath: a comparison on `Variable`, or
 * And/Or/Not; JSONata: a `Condition` that must evaluate to a boolean); none → `Default`, else
 * `States.NoChoiceMatched`. The matching rule's Assign (and JSONata Output) apply, or the state's own
 * when it takes Default.
 */
import { assignJsonata, assignJsonPath, effectiveInput, jsonataBindings, jsonPathScope } from '../dataflow';
import type { ChoiceRule, ChoiceState } from '../definition';
import { evaluateJsonata, evaluateJsonataTemplate } from '../jsonata';
import { applyInputOutputPath, evaluateChoiceRule } from '../jsonpath';
import type { StateResult, StateRun } from '../run';
import { type JsonObject, type JsonValue, queryEvaluationError, StatesError } from '../types';

export async function runChoice(run: StateRun<ChoiceState>): Promise<StateResult> {
  const { state } = run;
  if (run.language === 'JSONata') return choiceJsonata(run);
  const effective = effectiveInput(run);
  const scope = jsonPathScope(run, effective);
  const rule = state.Choices.find((candidate) => evaluateChoiceRule(candidate, scope));
  const next = rule?.Next ?? state.Default;
  if (next === undefined) throw new StatesError('States.NoChoiceMatched');
  const template = rule ? rule.Assign : state.Assign;
  const assign = template === undefined ? undefined : assignJsonPath(template, scope);
  const output = applyInputOutputPath(effective, state.OutputPath, scope, 'OutputPath');
  return { output, next, ...(assign ? { assign } : {}) };
}

async function choiceJsonata(run: StateRun<ChoiceState>): Promise<StateResult> {
  const { state } = run;
  const bindings = jsonataBindings(run);
  let matched: ChoiceRule | undefined;
  for (const rule of state.Choices) {
    if (await condition(rule, run)) {
      matched = rule;
      break;
    }
  }
  const next = matched?.Next ?? state.Default;
  if (next === undefined) throw new StatesError('States.NoChoiceMatched');
  const holder: { Assign?: JsonObject; Output?: JsonValue } = matched ?? state;
  const assign = holder.Assign === undefined ? undefined : await assignJsonata(holder.Assign, bindings);
  const output =
    holder.Output === undefined
      ? run.input
      : await evaluateJsonataTemplate(holder.Output, bindings, 'Output');
  return { output, next, ...(assign ? { assign } : {}) };
}

async function condition(rule: ChoiceRule, run: StateRun<ChoiceState>): Promise<boolean> {
  const value =
    typeof rule.Condition === 'string'
      ? await evaluateJsonata(rule.Condition, jsonataBindings(run), 'Condition')
      : (rule.Condition ?? null);
  if (typeof value !== 'boolean')
    throw queryEvaluationError(
      `The Condition field must evaluate to a boolean value, but evaluated to ${JSON.stringify(value)}`,
    );
  return value;
}
