/**
 * The `States.*` intrinsic functions of JSONPath states (`"key.$": "States.Format('{}', $.name)"`).
 *
 * An expression is parsed (`parseIntrinsic`) into a call tree, then evaluated: path arguments are read
 * with the caller's `resolvePath`, nested calls first, then the function checks its arguments and runs.
 *
 * What AWS does, as recorded (conformance/cases/intrinsics*.json) or observed:
 * - A bad argument (wrong type, wrong count, out of range, unparseable text) fails the state with
 *   `States.Runtime` "Invalid arguments in States.<Name>", which no Retry or Catch matches.
 * - Numbers that must be integers are truncated towards zero (Java `(int)`), except `States.MathAdd`,
 *   which rounds each operand half up (Java `Math.round`): MathAdd(1.49, 1.5) is 3, MathAdd(-2.5, 0) -2.
 * - `States.Format` prints objects and arrays Java style (`{a=1, b=[x, y]}`), strings unquoted.
 * - `States.StringSplit` splits on every character of its second argument and drops empty tokens.
 * - `States.StringToJson` of an empty or blank string is null.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { hashHex, JavaRandom } from './java-random';
import { isJsonObject, type JsonObject, type JsonValue, runtimeError } from './types';

// ---------------------------------------------------------------------------------------------------------
// Syntax

/** A string literal: `value` is the text with escapes applied; `escaped[i]` tells whether char i was escaped. */
export interface IntrinsicString {
  kind: 'string';
  value: string;
  escaped: boolean[];
}
export type IntrinsicArgument =
  | IntrinsicString
  | { kind: 'literal'; value: number | boolean | null }
  | { kind: 'path'; path: string }
  | IntrinsicCall;
export interface IntrinsicCall {
  kind: 'call';
  name: string;
  args: IntrinsicArgument[];
}

/** A malformed intrinsic function call (CreateStateMachine refuses it; at run time: `States.Runtime`). */
export class IntrinsicSyntaxError extends Error {
  constructor(
    readonly expression: string,
    reason: string,
  ) {
    super(`Invalid intrinsic function call '${expression}': ${reason}`);
    this.name = 'IntrinsicSyntaxError';
  }
}

/** True for a `States.*` intrinsic function call (a payload template value or an `Assign` value). */
export function isIntrinsic(expression: string): boolean {
  return expression.startsWith('States.');
}

/** Parses `States.Name(arg, ...)`; throws `IntrinsicSyntaxError` on malformed text. */
export function parseIntrinsic(expression: string): IntrinsicCall {
  return new Parser(expression).parseExpression();
}

const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/;
const FUNCTION_NAME = /^States\.[A-Za-z][A-Za-z0-9]*/;
const ESCAPABLE = new Set(["'", '{', '}', '\\']);

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseExpression(): IntrinsicCall {
    const call = this.parseCall();
    this.skipSpaces();
    if (this.pos < this.text.length) this.fail(`unexpected '${this.text.slice(this.pos)}' after the call`);
    return call;
  }

  private parseCall(): IntrinsicCall {
    const name = FUNCTION_NAME.exec(this.text.slice(this.pos))?.[0];
    if (name === undefined) this.fail(`expected a function name 'States.<Name>' at position ${this.pos}`);
    this.pos += name.length;
    this.skipSpaces();
    if (this.text[this.pos] !== '(') this.fail(`expected '(' after ${name}`);
    this.pos++;
    const args: IntrinsicArgument[] = [];
    this.skipSpaces();
    if (this.text[this.pos] === ')') {
      this.pos++;
      return { kind: 'call', name, args };
    }
    for (;;) {
      args.push(this.parseArgument());
      this.skipSpaces();
      const char = this.text[this.pos];
      this.pos++;
      if (char === ')') return { kind: 'call', name, args };
      if (char !== ',')
        this.fail(char === undefined ? `missing ')' closing ${name}(` : `unexpected '${char}'`);
      this.skipSpaces();
    }
  }

  private parseArgument(): IntrinsicArgument {
    const rest = this.text.slice(this.pos);
    const char = rest[0];
    if (char === "'") return this.parseString();
    if (char === '$') return { kind: 'path', path: this.parsePath() };
    if (rest.startsWith('States.')) return this.parseCall();
    const number = NUMBER.exec(rest)?.[0];
    if (number !== undefined) {
      this.pos += number.length;
      return { kind: 'literal', value: Number(number) + 0 };
    }
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (rest.startsWith(word) && !/[A-Za-z0-9_]/.test(rest[word.length] ?? '')) {
        this.pos += word.length;
        return { kind: 'literal', value };
      }
    }
    if (char === undefined) this.fail("missing ')'");
    this.fail(char === ',' || char === ')' ? 'missing argument' : `invalid argument at '${rest}'`);
  }

  /** `'...'` with the escapes \' \{ \} \\ (any other backslash is an error, as AWS documents). */
  private parseString(): IntrinsicString {
    this.pos++;
    let value = '';
    const escaped: boolean[] = [];
    for (;;) {
      const char = this.text[this.pos];
      if (char === undefined) this.fail('unterminated string literal');
      this.pos++;
      if (char === "'") return { kind: 'string', value, escaped };
      if (char === '\\') {
        const next = this.text[this.pos];
        if (next === undefined || !ESCAPABLE.has(next)) {
          this.fail(`invalid escape '\\${next ?? ''}' in a string literal (only \\' \\{ \\} \\\\)`);
        }
        this.pos++;
        value += next;
        escaped.push(true);
      } else {
        value += char;
        escaped.push(false);
      }
    }
  }

  /** A JSONPath (or `$$...`, `$var...`): up to the next `,` or `)` outside brackets, parentheses and quotes. */
  private parsePath(): string {
    const start = this.pos;
    let depth = 0;
    let quote: string | undefined;
    for (; this.pos < this.text.length; this.pos++) {
      const char = this.text[this.pos];
      if (quote !== undefined) {
        if (char === '\\') this.pos++;
        else if (char === quote) quote = undefined;
      } else if (char === "'" || char === '"') {
        quote = char;
      } else if (char === '[' || char === '(') {
        depth++;
      } else if (char === ']' || (char === ')' && depth > 0)) {
        depth--;
      } else if (depth === 0 && (char === ',' || char === ')')) {
        break;
      }
    }
    if (quote !== undefined || depth !== 0) this.fail('unterminated path argument');
    return this.text.slice(start, this.pos).trimEnd();
  }

  private skipSpaces(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private fail(reason: string): never {
    throw new IntrinsicSyntaxError(this.text, reason);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

/**
 * Evaluates an intrinsic function call. Path arguments (`$.a`, `$$.Execution.Id`, `$var.x`) are read
 * with `resolvePath`, which raises the field's own error when a path selects nothing.
 */
export function evaluateIntrinsic(expression: string, resolvePath: (path: string) => JsonValue): JsonValue {
  let call: IntrinsicCall;
  try {
    call = parseIntrinsic(expression);
  } catch (error) {
    if (error instanceof IntrinsicSyntaxError) throw runtimeError(error.message);
    throw error;
  }
  return evaluateCall(call, resolvePath);
}

/** An evaluated argument; `literal` keeps a string literal's escapes (States.Format needs them). */
interface Argument {
  value: JsonValue;
  literal?: IntrinsicString;
}

function evaluateCall(call: IntrinsicCall, resolvePath: (path: string) => JsonValue): JsonValue {
  const fn = FUNCTIONS[call.name];
  if (fn === undefined) throw runtimeError(`The intrinsic function '${call.name}' is not supported`);
  const args = call.args.map((arg): Argument => evaluateArgument(arg, resolvePath));
  return fn(new Arguments(call.name, args));
}

function evaluateArgument(arg: IntrinsicArgument, resolvePath: (path: string) => JsonValue): Argument {
  if (arg.kind === 'string') return { value: arg.value, literal: arg };
  if (arg.kind === 'literal') return { value: arg.value };
  if (arg.kind === 'path') return { value: resolvePath(arg.path) };
  return { value: evaluateCall(arg, resolvePath) };
}

/** The arguments of one call, with the checks that fail it with "Invalid arguments in States.<Name>". */
class Arguments {
  constructor(
    readonly name: string,
    readonly list: Argument[],
  ) {}

  invalid(): never {
    throw runtimeError(`Invalid arguments in ${this.name}`);
  }

  count(min: number, max = min): void {
    if (this.list.length < min || this.list.length > max) this.invalid();
  }

  has(index: number): boolean {
    return index < this.list.length;
  }

  any(index: number): JsonValue {
    const arg = this.list[index];
    if (arg === undefined) this.invalid();
    return arg.value;
  }

  string(index: number): string {
    const value = this.any(index);
    return typeof value === 'string' ? value : this.invalid();
  }

  number(index: number): number {
    const value = this.any(index);
    return typeof value === 'number' && Number.isFinite(value) ? value : this.invalid();
  }

  /** An integer argument: a fraction is truncated towards zero (Java's int conversion); int32 range. */
  integer(index: number): number {
    const value = Math.trunc(this.number(index)) + 0;
    return inIntRange(value) ? value : this.invalid();
  }

  boolean(index: number): boolean {
    const value = this.any(index);
    return typeof value === 'boolean' ? value : this.invalid();
  }

  array(index: number): JsonValue[] {
    const value = this.any(index);
    return Array.isArray(value) ? value : this.invalid();
  }

  object(index: number): JsonObject {
    const value = this.any(index);
    return isJsonObject(value) ? value : this.invalid();
  }

  literal(index: number): IntrinsicString | undefined {
    return this.list[index]?.literal;
  }
}

const INT_MIN = -2_147_483_648;
const INT_MAX = 2_147_483_647;
/** States.ArrayRange's largest result. */
const MAX_RANGE_ITEMS = 1000;
/** The longest input of States.Base64Encode, Base64Decode and Hash (Java string length: UTF-16 units). */
const MAX_TEXT_LENGTH = 10_000;

const FUNCTIONS: Readonly<Record<string, (args: Arguments) => JsonValue>> = {
  'States.Format': format,

  'States.StringToJson': (args) => {
    args.count(1);
    const text = args.string(0);
    if (text.trim() === '') return null;
    try {
      return normalize(JSON.parse(text) as JsonValue);
    } catch {
      return args.invalid();
    }
  },

  'States.JsonToString': (args) => {
    args.count(1);
    return JSON.stringify(args.any(0));
  },

  'States.Array': (args) => args.list.map((arg) => arg.value),

  'States.ArrayPartition': (args) => {
    args.count(2);
    const array = args.array(0);
    const size = args.integer(1);
    if (size <= 0) args.invalid();
    const chunks: JsonValue[] = [];
    for (let i = 0; i < array.length; i += size) chunks.push(array.slice(i, i + size));
    return chunks;
  },

  'States.ArrayContains': (args) => {
    args.count(2);
    const array = args.array(0);
    const wanted = args.any(1);
    return array.some((item) => jsonEquals(item, wanted));
  },

  'States.ArrayRange': (args) => {
    args.count(3);
    const start = args.integer(0);
    const end = args.integer(1);
    const step = args.integer(2);
    if (step === 0) args.invalid();
    const steps = Math.floor((end - start) / step);
    if (steps < 0) return [];
    if (steps + 1 > MAX_RANGE_ITEMS) args.invalid();
    return Array.from({ length: steps + 1 }, (_, i) => start + i * step);
  },

  'States.ArrayGetItem': (args) => {
    args.count(2);
    const array = args.array(0);
    const index = args.integer(1);
    // Observed on AWS: an empty array gives null whatever the index; otherwise the index must be in range.
    if (array.length === 0) return null;
    if (index < 0 || index >= array.length) args.invalid();
    return array[index] as JsonValue;
  },

  'States.ArrayLength': (args) => {
    args.count(1);
    return args.array(0).length;
  },

  'States.ArrayUnique': (args) => {
    args.count(1);
    const unique: JsonValue[] = [];
    for (const item of args.array(0)) {
      if (!unique.some((seen) => jsonEquals(seen, item))) unique.push(item);
    }
    return unique;
  },

  'States.Base64Encode': (args) => {
    args.count(1);
    const text = args.string(0);
    if (text.length > MAX_TEXT_LENGTH) args.invalid();
    return Buffer.from(text, 'utf8').toString('base64');
  },

  'States.Base64Decode': (args) => {
    args.count(1);
    const text = args.string(0);
    if (text.length > MAX_TEXT_LENGTH || !isBase64(text)) args.invalid();
    return new TextDecoder('utf-8').decode(Buffer.from(text, 'base64'));
  },

  'States.Hash': (args) => {
    args.count(2);
    const data = args.any(0);
    // Observed on AWS: data that is not a string is hashed as its JSON text.
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    const algorithm = args.string(1);
    if (text.length > MAX_TEXT_LENGTH) args.invalid();
    return hashHex(text, algorithm) ?? args.invalid();
  },

  'States.JsonMerge': (args) => {
    args.count(3);
    const first = args.object(0);
    const second = args.object(1);
    // Only the shallow merge exists: `true` (deep merge) is refused.
    if (args.boolean(2)) args.invalid();
    return { ...first, ...second };
  },

  'States.MathRandom': (args) => {
    args.count(2, 3);
    const start = args.integer(0);
    const end = args.integer(1);
    if (start >= end) args.invalid();
    if (!args.has(2)) return randomInt(start, end);
    const seed = BigInt(Math.trunc(args.number(2)));
    return start + new JavaRandom(seed).nextInt(end - start);
  },

  'States.MathAdd': (args) => {
    args.count(2);
    const sum = javaRound(args.number(0)) + javaRound(args.number(1));
    return inIntRange(sum) ? sum : args.invalid();
  },

  'States.StringSplit': (args) => {
    args.count(2);
    const text = args.string(0);
    const delimiters = new Set(args.string(1));
    const tokens: string[] = [];
    let token = '';
    for (const char of text) {
      if (delimiters.has(char)) {
        if (token !== '') tokens.push(token);
        token = '';
      } else {
        token += char;
      }
    }
    if (token !== '') tokens.push(token);
    return tokens;
  },

  'States.UUID': (args) => {
    args.count(0);
    return randomUUID();
  },
};

/**
 * States.Format(template, values...): each `{}` of the template takes the next value. In a literal
 * template `\{` and `\}` are plain braces; any other brace that is not part of `{}` is an error.
 */
function format(args: Arguments): JsonValue {
  const template = args.string(0);
  const values = args.list.slice(1).map((arg) => arg.value);
  const literal = args.literal(0);
  let text = '';
  let used = 0;
  for (let i = 0; i < template.length; i++) {
    const char = template[i] as string;
    const plain = literal?.escaped[i] === true || (char !== '{' && char !== '}');
    if (plain) {
      text += char;
    } else if (char === '{' && template[i + 1] === '}' && literal?.escaped[i + 1] !== true) {
      if (used >= values.length) args.invalid();
      text += formatValue(values[used++] as JsonValue);
      i++;
    } else if (literal !== undefined) {
      args.invalid();
    } else {
      text += char;
    }
  }
  if (used !== values.length) args.invalid();
  return text;
}

/** A value as States.Format prints it (Java's toString of the parsed JSON): `{a=1, b=[x, y]}`. */
function formatValue(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, item]) => `${key}=${formatValue(item)}`)
      .join(', ')}}`;
  }
  return String(value);
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function inIntRange(value: number): boolean {
  return value >= INT_MIN && value <= INT_MAX;
}

/** Java's Math.round: half up (towards positive infinity). */
function javaRound(value: number): number {
  return Math.floor(value + 0.5) + 0;
}

/** Deep JSON equality (object keys in any order). */
function jsonEquals(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => jsonEquals(item, b[i] as JsonValue))
    );
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.hasOwn(b, key) && jsonEquals(a[key] as JsonValue, b[key] as JsonValue))
    );
  }
  return false;
}

/** Replaces -0 (JSON.parse("-0")) by 0, as AWS's JSON numbers have no negative zero. */
function normalize(value: JsonValue): JsonValue {
  if (typeof value === 'number') return value + 0;
  if (Array.isArray(value)) return value.map(normalize);
  if (isJsonObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  return value;
}

/** Strict Base64 (RFC 4648 basic alphabet; padding optional but correct when present). */
function isBase64(text: string): boolean {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return false;
  if (text.endsWith('=')) return text.length % 4 === 0;
  return text.length % 4 !== 1;
}
