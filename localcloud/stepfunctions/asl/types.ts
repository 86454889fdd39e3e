/**
 * The shared vocabulary of stepsaga's Amazon States Language interpreter: JSON values, the errors a state
 * raises, and what an expression may read (input, Context Object, variables).
 *
 * Module map (one concept per module):
 * - `definition.ts`   the typed shape of a state machine definition
 * - `validate.ts`     CreateStateMachine's checks, with AWS's InvalidDefinition texts
 * - `jsonpath.ts`     JSONPath data flow: paths, payload templates, ResultPath, Choice rules
 * - `intrinsics.ts`   the `States.*` intrinsic functions
 * - `jsonata.ts`      JSONata: `{% %}` templates, `$states`, AWS's added functions
 * - `history.ts`      the execution history, emitted by the states as they run
 * - `interpreter.ts`  runs a list of states (a machine, a Parallel branch, a Map iteration)
 * - `states/*.ts`     one module per state type; `retry.ts` Retry/Catch
 * - `tasks/*.ts`      one module per Task integration, behind one interface
 * - `test-state.ts`   the TestState API: one state entry, mocks, inspection (`mock-validation.ts`: mocked
 *                     results against the API output shapes in `mock-shapes.json`)
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An error a state raises: `error` is the name Retry/Catch match (`States.TaskFailed`, a function's
 * `errorType`...), `cause` the text. Names starting with `States.` are the runtime's own.
 */
export class StatesError extends Error {
  constructor(
    readonly error: string,
    override readonly cause?: string,
  ) {
    super(cause ?? error);
    this.name = error;
  }

  /** What Catch hands on: `{Error, Cause}` (a missing cause is an empty string, as AWS records it). */
  errorOutput(): JsonObject {
    return { Error: this.error, Cause: this.cause ?? '' };
  }
}

/**
 * A failure evaluating a state's own fields (a path that selects nothing, a bad intrinsic argument...).
 * AWS reports it as `States.Runtime`, which no Retry or Catch matches (not even `States.ALL`), with a
 * cause the interpreter prefixes with "An error occurred while executing the state '<name>' (entered at
 * the event id #<id>). ". `detail` is the text after that prefix, as AWS words it.
 */
export function runtimeError(detail: string): StatesError {
  return new StatesError('States.Runtime', detail);
}

/** JSONata's evaluation errors (`States.QueryEvaluationError`): catchable, with AWS's texts. */
export function queryEvaluationError(detail: string): StatesError {
  return new StatesError('States.QueryEvaluationError', detail);
}

/**
 * What a JSONPath expression reads: `$` (the state's effective input for the field), `$$` (the Context
 * Object) and `$name` (variables visible to the state: outer scopes' variables included, read-only).
 */
export interface JsonPathScope {
  input: JsonValue;
  context: JsonValue;
  variables: Readonly<Record<string, JsonValue>>;
}

/**
 * What a JSONata expression reads: `$states.input`, `$states.context`, `$states.result` (after a Task's
 * result is known: Output and Assign of the state, Output/Assign of a Catcher via errorOutput),
 * `$states.errorOutput` (in a Catcher's fields), and the variables as `$name`.
 */
export interface JsonataBindings {
  states: {
    input: JsonValue;
    context: JsonValue;
    result?: JsonValue;
    errorOutput?: JsonValue;
  };
  variables: Readonly<Record<string, JsonValue>>;
}

export const MAX_PAYLOAD_BYTES = 262_144;
