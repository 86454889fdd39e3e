/**
 * A state's data flow in its query language, in the order AWS applies it.
 *
 * JSONPath: InputPath → Parameters (the effective input) → the state's work → ResultSelector →
 * ResultPath (onto the raw input) → OutputPath; Assign reads the work's result as `$`.
 * JSONata: Arguments (from `$states.input`) → the work → Output and Assign (both read
 * `$states.result` and the variables as they were before the state).
 * Catch: JSONPath puts `{Error, Cause}` at the catcher's ResultPath; JSONata's catcher Output reads
 * `$states.errorOutput`.
 */
import type { Catcher } from './definition';
import { evaluateJsonataTemplate } from './jsonata';
import { applyInputOutputPath, applyResultPath, evaluateTemplate } from './jsonpath';
import type { StateRun } from './run';
import type { JsonataBindings, JsonObject, JsonPathScope, JsonValue } from './types';

/** The fields the data flow reads, on whichever state type has them. */
interface DataFields {
  InputPath?: string | null;
  OutputPath?: string | null;
  Parameters?: JsonValue;
  Arguments?: JsonValue;
  ResultSelector?: JsonValue;
  ResultPath?: string | null;
  Output?: JsonValue;
  Assign?: JsonObject;
}

function fields(run: StateRun): DataFields {
  return run.state as DataFields;
}

export function jsonPathScope(
  run: StateRun,
  input: JsonValue,
  map?: { Index: number; Value: JsonValue },
): JsonPathScope {
  return { input, context: run.context(map), variables: run.frame.variables };
}

export function jsonataBindings(
  run: StateRun,
  extra: { result?: JsonValue; errorOutput?: JsonValue; map?: { Index: number; Value: JsonValue } } = {},
): JsonataBindings {
  return {
    states: {
      input: run.input,
      context: run.context(extra.map),
      ...(extra.result !== undefined ? { result: extra.result } : {}),
      ...(extra.errorOutput !== undefined ? { errorOutput: extra.errorOutput } : {}),
    },
    variables: run.frame.variables,
  };
}

/** JSONPath: the input after InputPath. JSONata: the raw input. */
export function effectiveInput(run: StateRun): JsonValue {
  if (run.language === 'JSONata') return run.input;
  const scope = jsonPathScope(run, run.input);
  const effective = applyInputOutputPath(run.input, fields(run).InputPath, scope, 'InputPath');
  run.frame.inspect?.stage('afterInputPath', effective);
  return effective;
}

/** What the state works on: JSONPath Parameters over the effective input; JSONata Arguments. */
export async function stateArguments(run: StateRun, effective: JsonValue): Promise<JsonValue> {
  const { Parameters, Arguments } = fields(run);
  if (run.language === 'JSONata') {
    if (Arguments === undefined) return effective;
    const args = await evaluateJsonataTemplate(Arguments, jsonataBindings(run), 'Arguments');
    run.frame.inspect?.stage('afterArguments', args);
    return args;
  }
  const parameters =
    Parameters === undefined
      ? effective
      : evaluateTemplate(Parameters, jsonPathScope(run, effective), 'Parameters');
  run.frame.inspect?.stage('afterParameters', parameters);
  return parameters;
}

/** The state's output and assignments from its work's result. */
export async function stateOutput(
  run: StateRun,
  result: JsonValue,
): Promise<{ output: JsonValue; assign?: JsonObject }> {
  const { ResultSelector, ResultPath, OutputPath, Output, Assign } = fields(run);
  if (run.language === 'JSONata') {
    const bindings = jsonataBindings(run, { result });
    const assign = Assign === undefined ? undefined : await assignJsonata(Assign, bindings);
    const output = Output === undefined ? result : await evaluateJsonataTemplate(Output, bindings, 'Output');
    return { output, ...(assign ? { assign } : {}) };
  }
  const assign = Assign === undefined ? undefined : assignJsonPath(Assign, jsonPathScope(run, result));
  const selected =
    ResultSelector === undefined
      ? result
      : evaluateTemplate(ResultSelector, jsonPathScope(run, result), 'ResultSelector');
  run.frame.inspect?.stage('afterResultSelector', selected);
  const combined = applyResultPath(run.input, selected, ResultPath);
  run.frame.inspect?.stage('afterResultPath', combined);
  const output = applyInputOutputPath(combined, OutputPath, jsonPathScope(run, combined), 'OutputPath');
  return { output, ...(assign ? { assign } : {}) };
}

/** A caught error's output and the catcher's assignments. */
export async function catchOutput(
  run: StateRun,
  catcher: Catcher,
  errorOutput: JsonObject,
): Promise<{ output: JsonValue; assign?: JsonObject }> {
  if (run.language === 'JSONata') {
    const bindings = jsonataBindings(run, { errorOutput });
    const assign = catcher.Assign === undefined ? undefined : await assignJsonata(catcher.Assign, bindings);
    const output =
      catcher.Output === undefined
        ? errorOutput
        : await evaluateJsonataTemplate(catcher.Output, bindings, 'Output');
    return { output, ...(assign ? { assign } : {}) };
  }
  const assign =
    catcher.Assign === undefined
      ? undefined
      : assignJsonPath(catcher.Assign, jsonPathScope(run, errorOutput));
  return {
    output: applyResultPath(run.input, errorOutput, catcher.ResultPath),
    ...(assign ? { assign } : {}),
  };
}

export function assignJsonPath(template: JsonObject, scope: JsonPathScope): JsonObject {
  return evaluateTemplate(template, scope, 'Assign') as JsonObject;
}

export async function assignJsonata(template: JsonObject, bindings: JsonataBindings): Promise<JsonObject> {
  return (await evaluateJsonataTemplate(template, bindings, 'Assign')) as JsonObject;
}
