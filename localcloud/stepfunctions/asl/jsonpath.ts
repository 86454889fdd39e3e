/**
 * The JSONPath query language's data flow: reference paths (InputPath, OutputPath, ItemsPath, `*Path`
 * fields, `key.$` values), payload templates (Parameters, ItemSelector, ResultSelector, Assign),
 * ResultPath, and JSONPath Choice rules. Pure and synchronous: nothing here reads a clock or mutates its
 * arguments.
 *
 * Paths read three roots: `$` (the scope's input), `$$` (the Context Object) and `$name` (a variable).
 * A definite path (names and indexes only: `$.a.b`, `$['a'][0]`, `$var.x`) selects one value or nothing;
 * AWS (Jayway JsonPath) then fails the state with States.Runtime, worded by the field the path is in. An
 * indefinite path (`[*]`, `..`, `[?(...)]`, `[a:b]`, `[a,b]`, `.*`) always selects an array of its
 * matches, `[]` when nothing matches (even on the way: `$.missing[*]` is `[]`).
 *
 * Selected values are copies: a template or a variable never shares objects with the input or with the
 * Context Object the interpreter keeps updating.
 */
import { JSONPath } from 'jsonpath-plus';
import type { ChoiceRule } from './definition';
import { evaluateIntrinsic, isIntrinsic } from './intrinsics';
import {
  isJsonObject,
  type JsonObject,
  type JsonPathScope,
  type JsonValue,
  runtimeError,
  StatesError,
} from './types';

// -----------------------------------------------------------------------------------------------------
// Paths
// -----------------------------------------------------------------------------------------------------

type PathRoot = { kind: 'input' } | { kind: 'context' } | { kind: 'variable'; name: string };

/** One step of a definite path: a property name or an array index (negative counts from the end). */
type Step = string | number;

interface ParsedPath {
  text: string;
  root: PathRoot;
  /** The path relative to its root, as a `$...` expression (for jsonpath-plus). */
  relative: string;
  /** The steps of a definite path; undefined for an indefinite one. */
  steps: Step[] | undefined;
}

const VARIABLE_ROOT = /^\$([\p{L}_][\p{L}\p{N}_]*)/u;

/** Parses a path's root and, when the path is definite, its steps; undefined when it is no path at all. */
function parsePath(text: string): ParsedPath | undefined {
  let root: PathRoot;
  let rest: string;
  if (text.startsWith('$$')) {
    root = { kind: 'context' };
    rest = text.slice(2);
  } else {
    const variable = VARIABLE_ROOT.exec(text);
    if (variable?.[1] !== undefined) {
      root = { kind: 'variable', name: variable[1] };
      rest = text.slice(variable[0].length);
    } else if (text.startsWith('$')) {
      root = { kind: 'input' };
      rest = text.slice(1);
    } else {
      return undefined;
    }
  }
  const steps = parseSteps(rest);
  if (steps === null) return undefined;
  return { text, root, relative: `$${rest}`, steps };
}

/**
 * The steps of a path after its root: an array for a definite path, undefined for an indefinite one
 * (the first indefinite token decides), null for text that is not a path.
 */
function parseSteps(rest: string): Step[] | undefined | null {
  const steps: Step[] = [];
  let i = 0;
  while (i < rest.length) {
    const char = rest[i];
    if (char === '.') {
      if (rest[i + 1] === '.') return undefined;
      let end = i + 1;
      while (end < rest.length && rest[end] !== '.' && rest[end] !== '[') end++;
      const name = rest.slice(i + 1, end);
      if (name === '') return null;
      if (name === '*') return undefined;
      steps.push(name);
      i = end;
    } else if (char === '[') {
      const bracket = parseBracket(rest, i + 1);
      if (bracket === undefined) return undefined;
      steps.push(bracket.step);
      i = bracket.end;
    } else {
      return null;
    }
  }
  return steps;
}

/** A definite bracket step (`['name']`, `["name"]`, `[3]`, `[-1]`) starting after its `[`; undefined otherwise. */
function parseBracket(text: string, start: number): { step: Step; end: number } | undefined {
  let i = start;
  while (text[i] === ' ') i++;
  const quote = text[i];
  if (quote === "'" || quote === '"') {
    let name = '';
    i++;
    for (; i < text.length && text[i] !== quote; i++) {
      const char = text[i] ?? '';
      // A backslash escapes the quote (and itself); before any other character it is literal.
      const next = text[i + 1];
      if (char === '\\' && (next === quote || next === '\\')) {
        name += next;
        i++;
      } else {
        name += char;
      }
    }
    if (i >= text.length) return undefined;
    i++;
    while (text[i] === ' ') i++;
    return text[i] === ']' ? { step: name, end: i + 1 } : undefined;
  }
  const index = /^\s*(-?\d+)\s*\]/.exec(text.slice(i));
  if (index?.[1] === undefined) return undefined;
  return { step: Number(index[1]), end: i + index[0].length };
}

type Lookup = { found: true; value: JsonValue } | { found: false; missingStep: number };

function rootValue(root: PathRoot, scope: JsonPathScope): JsonValue | undefined {
  switch (root.kind) {
    case 'input':
      return scope.input;
    case 'context':
      return scope.context;
    case 'variable':
      return readVariable(scope.variables, root.name);
  }
}

/** A variable's value: an own property, or one of a prototype chain of scopes (never Object.prototype's). */
function readVariable(variables: Readonly<Record<string, JsonValue>>, name: string): JsonValue | undefined {
  for (
    let scope: object | null = variables;
    scope !== null && scope !== Object.prototype;
    scope = Object.getPrototypeOf(scope)
  ) {
    const own = Object.getOwnPropertyDescriptor(scope, name);
    if (own !== undefined) return own.value as JsonValue;
  }
  return undefined;
}

/**
 * Evaluates a parsed path (the value is not copied yet). `missingStep` is the index of the first step
 * that selects nothing, -1 when the variable is not assigned.
 */
function lookup(parsed: ParsedPath, scope: JsonPathScope): Lookup {
  const start = rootValue(parsed.root, scope);
  if (start === undefined) {
    return parsed.steps === undefined ? { found: true, value: [] } : { found: false, missingStep: -1 };
  }
  if (parsed.steps === undefined) return { found: true, value: queryIndefinite(parsed, start) };
  let node: JsonValue = start;
  for (const [i, step] of parsed.steps.entries()) {
    const next = child(node, step);
    if (next === undefined) return { found: false, missingStep: i };
    node = next;
  }
  return { found: true, value: node };
}

function child(node: JsonValue, step: Step): JsonValue | undefined {
  if (typeof step === 'number') {
    if (!Array.isArray(node)) return undefined;
    return node[step < 0 ? node.length + step : step];
  }
  return isJsonObject(node) && Object.hasOwn(node, step) ? node[step] : undefined;
}

function queryIndefinite(parsed: ParsedPath, json: JsonValue): JsonValue[] {
  let matches: unknown;
  try {
    matches = JSONPath({ path: parsed.relative, json, wrap: true, eval: 'safe' });
  } catch (error) {
    throw runtimeError(
      `Invalid path '${parsed.text}' : ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return Array.isArray(matches) ? (matches as JsonValue[]) : [];
}

/** A deep copy of a JSON value (own enumerable properties; `__proto__` stays an ordinary key). */
function copyJson(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(copyJson);
  if (!isJsonObject(value)) return value;
  const copy: JsonObject = {};
  for (const [key, item] of Object.entries(value)) setOwn(copy, key, copyJson(item));
  return copy;
}

/** Sets a property as an own data property, even when the key is `__proto__`. */
function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// -----------------------------------------------------------------------------------------------------
// Errors, as AWS words them
// -----------------------------------------------------------------------------------------------------

/** How AWS words a path that selects nothing: by the field the path is in. */
type Wording = { kind: 'field'; field: string } | { kind: 'jayway' } | { kind: 'choice' };

function wordingOf(field: string): Wording {
  // Payload template keys and the Fail state's ErrorPath/CausePath name the field and show the input.
  if (field.endsWith('.$') || field === 'ErrorPath' || field === 'CausePath') return { kind: 'field', field };
  if (field === 'Variable') return { kind: 'choice' };
  // InputPath, OutputPath, ItemsPath, SecondsPath, TimeoutSecondsPath...: Jayway JsonPath's own texts.
  return { kind: 'jayway' };
}

/** `$['a'][0]['b']`, the way Jayway JsonPath prints a path. */
function jaywayPath(steps: readonly Step[]): string {
  return `$${steps.map((step) => (typeof step === 'number' ? `[${step}]` : `['${step}']`)).join('')}`;
}

function notFound(
  parsed: ParsedPath,
  missingStep: number,
  wording: Wording,
  scope: JsonPathScope,
): StatesError {
  switch (wording.kind) {
    case 'field':
      return runtimeError(
        `The JSONPath '${parsed.text}' specified for the field '${wording.field}' could not be found in the input '${JSON.stringify(scope.input)}'`,
      );
    case 'choice':
      return runtimeError(
        `Invalid path '${parsed.text}': The choice state's condition path references an invalid value.`,
      );
    case 'jayway': {
      const steps = parsed.steps ?? [];
      // A missing leaf selects nothing; a missing step on the way is a missing property.
      const detail =
        missingStep >= 0 && missingStep < steps.length - 1
          ? `Missing property in path ${jaywayPath(steps.slice(0, missingStep + 1))}`
          : `No results for path: ${jaywayPath(steps)}`;
      return runtimeError(`Invalid path '${parsed.text}' : ${detail}`);
    }
  }
}

function invalidPath(path: string, wording: Wording): StatesError {
  if (wording.kind === 'field') {
    return runtimeError(
      `The JSONPath '${path}' specified for the field '${wording.field}' is not a valid JSONPath`,
    );
  }
  return runtimeError(`Invalid path '${path}'`);
}

function select(path: string, scope: JsonPathScope, wording: Wording): JsonValue {
  const parsed = parsePath(path);
  if (parsed === undefined) throw invalidPath(path, wording);
  const result = lookup(parsed, scope);
  if (!result.found) throw notFound(parsed, result.missingStep, wording, scope);
  return copyJson(result.value);
}

// -----------------------------------------------------------------------------------------------------
// Exports
// -----------------------------------------------------------------------------------------------------

/**
 * A reference path (InputPath, OutputPath, ItemsPath, Choice `Variable`, SecondsPath, TimestampPath,
 * ErrorPath, CausePath, TimeoutSecondsPath, HeartbeatSecondsPath, MaxConcurrencyPath,
 * ToleratedFailure*Path, a `key.$` value). `field` names the field for error texts (e.g. 'InputPath',
 * 'SecondsPath', 'foo.$'). Throws StatesError with AWS's error name and text when the path selects
 * nothing or is invalid. The value returned is a copy.
 *
 * Texts (States.Runtime, without the interpreter's "An error occurred while executing the state..." prefix):
 * - `key.$`, ErrorPath, CausePath: The JSONPath '$.x' specified for the field 'key.$' could not be found
 *   in the input '<state input as JSON>'
 * - `Variable` (a Choice rule's): Invalid path '$.x': The choice state's condition path references an
 *   invalid value.
 * - any other field: Invalid path '$.a.b' : No results for path: $['a']['b'] (the last step is missing) or
 *   Invalid path '$.a.b' : Missing property in path $['a'] (a step on the way is missing)
 */
export function selectPath(path: string, scope: JsonPathScope, field: string): JsonValue {
  return select(path, scope, wordingOf(field));
}

/**
 * Parameters / ItemSelector / ResultSelector / Assign payload templates: keys ending in `.$` are
 * evaluated (paths `$.x`, `$$.x`, variables `$name.x`, intrinsic functions `States.*` via intrinsics.ts),
 * everything else is literal, recursively (arrays too). `field` is the template field's name
 * ('Parameters', 'ItemSelector', 'ResultSelector', 'Assign'). A path that selects nothing fails with the
 * `key.$` text of selectPath.
 */
export function evaluateTemplate(template: JsonValue, scope: JsonPathScope, field: string): JsonValue {
  if (Array.isArray(template)) return template.map((item) => evaluateTemplate(item, scope, field));
  if (!isJsonObject(template)) return template;
  const output: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && key.length > 2 && typeof value === 'string') {
      setOwn(output, key.slice(0, -2), evaluateExpression(value, scope, key));
    } else {
      setOwn(output, key, evaluateTemplate(value, scope, field));
    }
  }
  return output;
}

/** The value of a `key.$` entry: an intrinsic function call or a path. */
function evaluateExpression(expression: string, scope: JsonPathScope, key: string): JsonValue {
  if (isIntrinsic(expression)) {
    const result = evaluateIntrinsic(expression, (path) => selectPath(path, scope, key));
    return copyJson(result);
  }
  return selectPath(expression, scope, key);
}

/** The error a ResultPath that cannot be applied fails with (its cause names the step and the input). */
export const RESULT_PATH_CONFLICT = 'States.ReferencePathConflict';

/**
 * ResultPath: null → the input unchanged; undefined or '$' → the result; otherwise a copy of the input
 * with the result set at the path (creating objects on the way), or the AWS error when it cannot be set
 * (the input, or a value on the way, is not an object): States.ReferencePathConflict, "Unable to apply
 * step "<name>" to input <input as JSON>". Never mutates its arguments (unchanged parts of the input
 * are shared with the value returned).
 */
export function applyResultPath(
  input: JsonValue,
  result: JsonValue,
  resultPath: string | null | undefined,
): JsonValue {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;
  const parsed = parsePath(resultPath);
  if (parsed === undefined || parsed.root.kind !== 'input' || parsed.steps === undefined) {
    throw runtimeError(`Invalid path '${resultPath}'`);
  }
  const steps = parsed.steps;
  const conflict = (step: Step): StatesError =>
    new StatesError(RESULT_PATH_CONFLICT, `Unable to apply step "${step}" to input ${JSON.stringify(input)}`);
  const setAt = (node: JsonValue | undefined, depth: number): JsonValue => {
    const step = steps[depth];
    if (step === undefined) return result;
    if (typeof step === 'number') {
      if (!Array.isArray(node)) throw conflict(step);
      const index = step < 0 ? node.length + step : step;
      if (index < 0 || index >= node.length) throw conflict(step);
      const copy = [...node];
      copy[index] = setAt(node[index], depth + 1);
      return copy;
    }
    if (node === undefined) node = {};
    if (!isJsonObject(node)) throw conflict(step);
    const copy: JsonObject = {};
    for (const [key, value] of Object.entries(node)) setOwn(copy, key, value);
    setOwn(copy, step, setAt(Object.hasOwn(node, step) ? node[step] : undefined, depth + 1));
    return copy;
  };
  return setAt(input, 0);
}

/** InputPath / OutputPath: null → {}; undefined → the value; else selectPath (`$` being the value). */
export function applyInputOutputPath(
  value: JsonValue,
  path: string | null | undefined,
  scope: Omit<JsonPathScope, 'input'>,
  field: 'InputPath' | 'OutputPath',
): JsonValue {
  if (path === null) return {};
  if (path === undefined) return value;
  return selectPath(path, { ...scope, input: value }, field);
}

// -----------------------------------------------------------------------------------------------------
// Timestamps
// -----------------------------------------------------------------------------------------------------

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-](\d{2}):(\d{2})(?::(\d{2}))?)$/i;

/**
 * The instant of an ISO-8601 extended offset date-time (Java's ISO_OFFSET_DATE_TIME, which AWS names in
 * its texts: `2016-03-14T01:59:00Z`, `...00.123456789+01:00`; seconds optional, up to 9 fraction digits,
 * an offset required) as nanoseconds since the epoch; undefined for anything else.
 */
export function timestampInstant(text: string): bigint | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [
    ,
    year,
    month,
    day,
    hour,
    minute,
    second,
    fraction,
    zone,
    offsetHours,
    offsetMinutes,
    offsetSeconds,
  ] = match.map((part) => part ?? '');
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second || '0');
  const daysInMonth = new Date(Date.UTC(2000, mo, 0)).getUTCDate() - (mo === 2 && !isLeapYear(y) ? 1 : 0);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return undefined;
  let offset = 0;
  if (zone?.toUpperCase() !== 'Z') {
    const oh = Number(offsetHours);
    const om = Number(offsetMinutes);
    const os = Number(offsetSeconds || '0');
    if (oh > 18 || om > 59 || os > 59 || oh * 3600 + om * 60 + os > 18 * 3600) return undefined;
    offset = (zone?.startsWith('-') ? -1 : 1) * (oh * 3600 + om * 60 + os);
  }
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  const seconds = BigInt(date.getTime() / 1000 - offset);
  return seconds * 1_000_000_000n + BigInt((fraction ?? '').padEnd(9, '0'));
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

// -----------------------------------------------------------------------------------------------------
// Choice rules
// -----------------------------------------------------------------------------------------------------

const COMPARISON =
  /^(String|Numeric|Boolean|Timestamp)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals)(Path)?$/;
const TYPE_TESTS = ['IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'] as const;
type TypeTest = (typeof TYPE_TESTS)[number];

function isTypeTest(name: string): name is TypeTest {
  return (TYPE_TESTS as readonly string[]).includes(name);
}

/** The comparison operator of a rule: the one key that is not Variable/Next/Assign/Output/Comment. */
function operatorOf(rule: ChoiceRule): string | undefined {
  return Object.keys(rule).find((key) => key === 'StringMatches' || isTypeTest(key) || COMPARISON.test(key));
}

/** -1, 0 or 1 when both values have the comparison's type; undefined otherwise (the rule does not match). */
function compare(kind: string, left: JsonValue, right: JsonValue): number | undefined {
  switch (kind) {
    case 'String':
      // UTF-16 code unit order, as Java's String.compareTo.
      if (typeof left !== 'string' || typeof right !== 'string') return undefined;
      return left < right ? -1 : left > right ? 1 : 0;
    case 'Numeric':
      if (typeof left !== 'number' || typeof right !== 'number') return undefined;
      return left < right ? -1 : left > right ? 1 : 0;
    case 'Boolean':
      if (typeof left !== 'boolean' || typeof right !== 'boolean') return undefined;
      return left === right ? 0 : undefined;
    case 'Timestamp': {
      if (typeof left !== 'string' || typeof right !== 'string') return undefined;
      const a = timestampInstant(left);
      const b = timestampInstant(right);
      if (a === undefined || b === undefined) return undefined;
      return a < b ? -1 : a > b ? 1 : 0;
    }
    default:
      return undefined;
  }
}

function holds(relation: string, order: number): boolean {
  switch (relation) {
    case 'Equals':
      return order === 0;
    case 'LessThan':
      return order < 0;
    case 'GreaterThan':
      return order > 0;
    case 'LessThanEquals':
      return order <= 0;
    case 'GreaterThanEquals':
      return order >= 0;
    default:
      return false;
  }
}

/** StringMatches: `*` matches any text (newlines too); `\*` and `\\` are a literal star and backslash. */
function matchesPattern(pattern: string, text: string): boolean {
  const literal = (char: string): string => char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] ?? '';
    if (char === '\\' && i + 1 < pattern.length) source += literal(pattern[++i] ?? '');
    else source += char === '*' ? '.*' : literal(char);
  }
  return new RegExp(`^${source}$`, 'su').test(text);
}

function typeTest(test: TypeTest, value: JsonValue): boolean {
  switch (test) {
    case 'IsNull':
      return value === null;
    case 'IsNumeric':
      return typeof value === 'number';
    case 'IsString':
      return typeof value === 'string';
    case 'IsBoolean':
      return typeof value === 'boolean';
    case 'IsTimestamp':
      return typeof value === 'string' && timestampInstant(value) !== undefined;
    case 'IsPresent':
      return true;
  }
}

/**
 * A JSONPath Choice rule (Variable + one comparison operator, And/Or/Not, IsPresent/IsNull/Is* type
 * tests, StringMatches with * and \\ escapes, *Path operators comparing to another path, timestamps
 * compared as instants): true when it matches. A comparison whose value has another type than the
 * operator's does not match (no coercion, no error).
 *
 * A `Variable` (or a `*Path` operand) that selects nothing fails with States.Runtime "Invalid path '$.x':
 * The choice state's condition path references an invalid value." — except under IsPresent, which is
 * then false (IsPresent: false matches).
 */
export function evaluateChoiceRule(rule: ChoiceRule, scope: JsonPathScope): boolean {
  if (rule.And !== undefined) return rule.And.every((inner) => evaluateChoiceRule(inner, scope));
  if (rule.Or !== undefined) return rule.Or.some((inner) => evaluateChoiceRule(inner, scope));
  if (rule.Not !== undefined) return !evaluateChoiceRule(rule.Not, scope);
  const operator = operatorOf(rule);
  const variable = rule.Variable;
  if (typeof variable !== 'string' || operator === undefined) {
    throw runtimeError('A choice rule needs a Variable and a comparison operator');
  }
  const operand = rule[operator];
  if (operator === 'IsPresent') {
    const parsed = parsePath(variable);
    if (parsed === undefined) throw invalidPath(variable, { kind: 'choice' });
    return lookup(parsed, scope).found === operand;
  }
  const value = select(variable, scope, { kind: 'choice' });
  if (isTypeTest(operator)) return typeTest(operator, value) === operand;
  if (operator === 'StringMatches') {
    return typeof value === 'string' && typeof operand === 'string' && matchesPattern(operand, value);
  }
  const [, kind = '', relation = '', viaPath] = COMPARISON.exec(operator) ?? [];
  let expected: JsonValue;
  if (viaPath !== undefined) {
    if (typeof operand !== 'string') throw runtimeError(`The field '${operator}' must be a path`);
    expected = select(operand, scope, { kind: 'choice' });
  } else if (typeof operand === 'string' || typeof operand === 'number' || typeof operand === 'boolean') {
    expected = operand;
  } else {
    return false;
  }
  const order = compare(kind, value, expected);
  return order !== undefined && holds(relation, order);
}
