/**
 * Fail: fails the machine (or the branch / iteration) with its Error and Cause — static, read with
 * ErrorPath/CausePath (a path or an intrinsic function), or JSONata templates. Neither is required: a
 * Fail without them fails with no error name and no cause.
 */
import { jsonataBindings, jsonPathScope } from '../dataflow';
import type { FailState } from '../definition';
import { evaluateIntrinsic, isIntrinsic } from '../intrinsics';
import { evaluateJsonataTemplate, isJsonataTemplate } from '../jsonata';
import { selectPath } from '../jsonpath';
import type { StateResult, StateRun } from '../run';
import { type JsonValue, queryEvaluationError, runtimeError, StatesError } from '../types';

/** The failure a Fail state raises; `error`/`cause` undefined when the state gives none. */
export class FailStateError extends StatesError {
  constructor(
    readonly failError: string | undefined,
    readonly failCause: string | undefined,
  ) {
    super(failError ?? '', failCause);
  }
}

export async function runFail(run: StateRun<FailState>): Promise<StateResult> {
  const { state } = run;
  const error = await field(run, 'Error', state.Error, state.ErrorPath);
  const cause = await field(run, 'Cause', state.Cause, state.CausePath);
  throw new FailStateError(error, cause);
}

async function field(
  run: StateRun<FailState>,
  name: 'Error' | 'Cause',
  value: string | undefined,
  path: string | undefined,
): Promise<string | undefined> {
  if (run.language === 'JSONata') {
    if (value === undefined || !isJsonataTemplate(value)) return value;
    const result = await evaluateJsonataTemplate(value, jsonataBindings(run), name);
    if (typeof result !== 'string')
      throw queryEvaluationError(
        `The ${name} field must evaluate to a string, but evaluated to ${JSON.stringify(result)}`,
      );
    return result;
  }
  if (path === undefined) return value;
  const pathField = `${name}Path`;
  const scope = jsonPathScope(run, run.input);
  const read = (p: string): JsonValue => selectPath(p, scope, pathField);
  const result = isIntrinsic(path) ? evaluateIntrinsic(path, read) : read(path);
  if (typeof result !== 'string')
    throw runtimeError(
      `The ${pathField} field must refer to a string value: ${path} == ${JSON.stringify(result)}`,
    );
  return result;
}
