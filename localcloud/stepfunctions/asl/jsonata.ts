/**
 * JSONata in states whose QueryLanguage is "JSONata": `{% expr %}` templates, the `$states` variable, the
 * functions AWS adds ($partition, $range, $hash, $random, $uuid, $parse) and AWS's error texts.
 *
 * AWS's rules, as recorded against AWS (LocalStack's snapshot tests) and documented:
 * - A string is a template only when it starts with `{%` and ends with `%}` exactly: `" {% x %} "` is a
 *   literal string. Templates may sit anywhere in a field's JSON value (object values, array items);
 *   everything else, `"$"`, `"$.a"` and keys ending in `.$` included, is literal.
 * - The expression is evaluated without a context value (`$` and bare field names select nothing); it
 *   reads `$states` (input, context, and result/errorOutput where the field has them) and the variables.
 * - `$eval` is not available (use `$parse`); everything else of JSONata is.
 * - A field's expression must produce a JSON value: undefined, a function, or a non-finite number fails
 *   the state with `States.QueryEvaluationError`, whose cause names the expression and the field's
 *   location (`Output`, `Output/result`, `Arguments/FunctionName`, `Items`...).
 */
import { randomUUID } from 'node:crypto';
import jsonata from 'jsonata';
import { HASH_ALGORITHM_NAMES, hashHex, JavaRandom } from './java-random';
import { type JsonataBindings, type JsonValue, queryEvaluationError, type StatesError } from './types';

/** True for a JSONata template string: it starts with `{%` and ends with `%}`, no whitespace around. */
export function isJsonataTemplate(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 4 && value.startsWith('{%') && value.endsWith('%}');
}

/** The expression of a `{% expr %}` template, as AWS quotes it in error causes (whitespace trimmed). */
export function jsonataExpression(template: string): string {
  return template.slice(2, -2).trim();
}

/**
 * A `States.QueryEvaluationError` with the location of the field that failed (`Output/result`...): the
 * `location` of the EvaluationFailed history event (whose `error` and `cause` are the error's own).
 */
export type JsonataEvaluationError = StatesError & { readonly location: string };

/** The EvaluationFailed event's `location` of an error raised here, or undefined for other errors. */
export function evaluationLocation(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('location' in error)) return undefined;
  const location = (error as { location: unknown }).location;
  return typeof location === 'string' ? location : undefined;
}

function fieldError(expression: string, field: string, what: string): JsonataEvaluationError {
  const error = queryEvaluationError(
    `The JSONata expression '${expression}' specified for the field '${field}' ${what}`,
  );
  return Object.assign(error, { location: field });
}

/** The JSON type name AWS uses in "Expected 'array', but was 'object'". */
export function jsonTypeName(
  value: JsonValue,
): 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'object' | 'string' | 'number' | 'boolean';
}

/**
 * The error of a field whose expression returned a JSON value of the wrong type (e.g. `Items` not an
 * array): "... returned an unexpected result type. Expected 'array', but was 'string' for value: "x"".
 * `expected` is AWS's name of the wanted type ('array' is the one recorded).
 */
export function unexpectedResultTypeError(
  template: string,
  field: string,
  expected: string,
  value: JsonValue,
): JsonataEvaluationError {
  return fieldError(
    jsonataExpression(template),
    field,
    `returned an unexpected result type. Expected '${expected}', but was '${jsonTypeName(value)}' for value: ${JSON.stringify(value)}`,
  );
}

// ---------------------------------------------------------------------------------------------------
// The functions AWS adds, and $eval taken away.

/** An error thrown inside a JSONata function: jsonata keeps `code`, adds the position. */
function functionError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

/** JSONata's sequence: an array the evaluator unwraps when it holds one item (and drops when empty). */
function sequence(items: JsonValue[]): JsonValue[] {
  return Object.defineProperty(items, 'sequence', { value: true, enumerable: false });
}

function isInteger(value: number): boolean {
  return Number.isInteger(value);
}

/** `$partition(array, size)`: the array in chunks of `size` items, the last one possibly shorter. */
function partition(array: JsonValue[], size: number): JsonValue[][] {
  if (!isInteger(size) || size <= 0) {
    throw functionError(`The chunk size of $partition must be a positive integer, but was: ${size}`);
  }
  const chunks: JsonValue[][] = [];
  for (let i = 0; i < array.length; i += size) chunks.push(array.slice(i, i + size));
  return chunks;
}

const MAX_RANGE_ITEMS = 10_000_000;

/**
 * `$range(start, end, step)`: start, start+step... up to end inclusive. A JSONata sequence, as AWS's
 * result shows: `$range(1, 9, 9)` is `1`, not `[1]`.
 */
function range(start: number, end: number, step: number): JsonValue[] {
  if (step === 0 || !Number.isFinite(step)) {
    throw functionError(`The step of $range must be a non-zero number, but was: ${step}`);
  }
  const count = Math.floor((end - start) / step) + 1;
  if (count > MAX_RANGE_ITEMS)
    throw functionError(`$range would generate more than ${MAX_RANGE_ITEMS} items`);
  const items: JsonValue[] = [];
  for (let i = 0; i < count; i++) items.push(start + i * step);
  return sequence(items);
}

/** `$hash(value, algorithm)`: the hex digest of the UTF-8 string (MD5, SHA-1, SHA-256, SHA-384, SHA-512). */
function hash(value: string, algorithm: string): string {
  const digest = hashHex(value, algorithm);
  if (digest === undefined) {
    throw functionError(
      `The algorithm of $hash must be one of ${HASH_ALGORITHM_NAMES.join(', ')}, but was: ${algorithm}`,
    );
  }
  return digest;
}

/**
 * The first `nextDouble()` of a `java.util.Random` seeded with `seed`: a number in [0, 1) that depends
 * only on the seed.
 */
export function seededRandom(seed: number): number {
  return new JavaRandom(BigInt(Math.trunc(seed))).nextDouble();
}

/** `$random()` / `$random(seed)`: JSONata's `$random`, which AWS extends with an optional seed. */
function random(seed?: number): number {
  if (seed === undefined) return Math.random();
  if (!Number.isFinite(seed))
    throw functionError(`The seed of $random must be a finite number, but was: ${seed}`);
  return seededRandom(seed);
}

/** `$parse(text)`: the JSON value of a JSON text (AWS's replacement for `$eval`). */
function parse(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw functionError(`The argument of $parse is not valid JSON: ${text}`);
  }
}

/** `$eval` is not available in Step Functions: calling it fails as calling an undefined function does. */
function evalUnavailable(): never {
  throw functionError('Attempted to invoke a non-function', 'T1006');
}

function registerAwsFunctions(expression: jsonata.Expression): void {
  expression.registerFunction('partition', partition, '<an:a>');
  expression.registerFunction('range', range, '<nnn:a>');
  expression.registerFunction('hash', hash, '<ss:s>');
  expression.registerFunction('random', random, '<n?:n>');
  expression.registerFunction('uuid', () => randomUUID(), '<:s>');
  expression.registerFunction('parse', parse, '<s:j>');
  expression.registerFunction('eval', evalUnavailable);
}

// ---------------------------------------------------------------------------------------------------
// Evaluation.

interface Compiled {
  expression?: jsonata.Expression;
  syntaxError?: unknown;
}

/** Compiled expressions by text (a definition's expressions are evaluated again and again). */
const compiled = new Map<string, Compiled>();
const MAX_CACHED = 2_000;

function compile(expression: string): jsonata.Expression {
  let entry = compiled.get(expression);
  if (entry === undefined) {
    try {
      const parsed = jsonata(expression);
      registerAwsFunctions(parsed);
      entry = { expression: parsed };
    } catch (error) {
      entry = { syntaxError: error };
    }
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(expression, entry);
  }
  if (entry.expression === undefined) throw entry.syntaxError;
  return entry.expression;
}

/**
 * The JSONata syntax error of a template's expression ("S0203: Expected ":" before end of expression"),
 * or undefined when it parses: for the definition's validation.
 */
export function jsonataSyntaxError(template: string): string | undefined {
  try {
    compile(jsonataExpression(template));
    return undefined;
  } catch (error) {
    return errorText(error);
  }
}

/** "T1006: Attempted to invoke a non-function": a jsonata error's code and message. */
function errorText(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : String(error);
    return typeof code === 'string' && code !== '' ? `${code}: ${text}` : text;
  }
  return String(error);
}

class UnsupportedResult extends Error {}
class NumberOutOfRange extends Error {}

function isFunctionValue(value: object): boolean {
  return (
    typeof value === 'function' ||
    '_jsonata_lambda' in value ||
    '_jsonata_function' in value ||
    value instanceof RegExp
  );
}

/** A jsonata result as a plain JSON value; throws for what JSON cannot hold. */
function toJson(value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NumberOutOfRange(String(value));
    return value;
  }
  if (typeof value === 'function' || (typeof value === 'object' && isFunctionValue(value))) {
    throw new UnsupportedResult();
  }
  if (Array.isArray(value)) {
    const items: JsonValue[] = [];
    for (const item of value) {
      const json = toJson(item);
      if (json !== undefined) items.push(json);
    }
    return items;
  }
  if (typeof value === 'object') {
    const object: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) {
      const json = toJson(item);
      if (json !== undefined) object[key] = json;
    }
    return object;
  }
  throw new UnsupportedResult();
}

function jsonataBindings(bindings: JsonataBindings): Record<string, unknown> {
  const states: Record<string, JsonValue> = {
    input: bindings.states.input,
    context: bindings.states.context,
  };
  if (bindings.states.result !== undefined) states.result = bindings.states.result;
  if (bindings.states.errorOutput !== undefined) states.errorOutput = bindings.states.errorOutput;
  return { ...bindings.variables, states };
}

/**
 * Evaluates one `{% expr %}` template with `$states` and the variables bound. `field` is the location
 * AWS names in the cause (`Output`, `Output/result`, `Items`, `Condition`...). Throws
 * `States.QueryEvaluationError` (a `JsonataEvaluationError`) when the expression fails or its result is
 * not JSON.
 */
export async function evaluateJsonata(
  template: string,
  bindings: JsonataBindings,
  field: string,
): Promise<JsonValue> {
  const expression = jsonataExpression(template);
  let result: unknown;
  try {
    result = await compile(expression).evaluate(undefined, jsonataBindings(bindings));
  } catch (error) {
    throw fieldError(expression, field, `threw an error during evaluation. ${errorText(error)}`);
  }
  let json: JsonValue | undefined;
  try {
    json = toJson(result);
  } catch (error) {
    if (error instanceof NumberOutOfRange) {
      throw fieldError(
        expression,
        field,
        `threw an error during evaluation. D1001: Number out of range: ${error.message}`,
      );
    }
    throw fieldError(expression, field, 'returned an unsupported result type.');
  }
  if (json === undefined) throw fieldError(expression, field, 'returned nothing (undefined).');
  return json;
}

/**
 * A field's JSON value whose strings may be `{% %}` templates anywhere (object values, array items,
 * nested): each template evaluated, in document order, everything else copied literally. The location of
 * a nested template is the field's plus the keys and indexes down to it: `Output/result`, `Items/1`.
 */
export async function evaluateJsonataTemplate(
  value: JsonValue,
  bindings: JsonataBindings,
  field: string,
): Promise<JsonValue> {
  if (typeof value === 'string')
    return isJsonataTemplate(value) ? evaluateJsonata(value, bindings, field) : value;
  if (Array.isArray(value)) {
    const items: JsonValue[] = [];
    for (const [index, item] of value.entries()) {
      items.push(await evaluateJsonataTemplate(item, bindings, `${field}/${index}`));
    }
    return items;
  }
  if (value !== null && typeof value === 'object') {
    const object: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) {
      object[key] = await evaluateJsonataTemplate(item, bindings, `${field}/${key}`);
    }
    return object;
  }
  return value;
}
