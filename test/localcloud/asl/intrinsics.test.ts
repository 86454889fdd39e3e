/**
 * The `States.*` intrinsic functions, unit by unit: first every AWS recording of the intrinsic corpora
 * (`conformance/cases/intrinsics*.json`, plus the intrinsic cases of `sample.json`) replayed through a tiny
 * Pass-state evaluator, then the argument checks, the parser and the behaviours the recordings leave open.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  evaluateIntrinsic,
  IntrinsicSyntaxError,
  isIntrinsic,
  parseIntrinsic,
} from '../../../localcloud/stepfunctions/asl/intrinsics';
import { isJsonObject, type JsonValue, StatesError } from '../../../localcloud/stepfunctions/asl/types';

// ---------------------------------------------------------------------------------------------------------
// A tiny JSONPath (`$`, `$.a.b`, `$$.a`, `$name.a`) for the tests only

const EXECUTION_NAME = 'exec-1';
const MACHINE_NAME = 'IntrinsicsMachine';
const MACHINE_ARN = `arn:aws:states:us-east-1:111111111111:stateMachine:${MACHINE_NAME}`;

function contextOf(input: JsonValue): JsonValue {
  return {
    Execution: {
      Id: `arn:aws:states:us-east-1:111111111111:execution:${MACHINE_NAME}:${EXECUTION_NAME}`,
      Input: input,
      Name: EXECUTION_NAME,
    },
    StateMachine: { Id: MACHINE_ARN, Name: MACHINE_NAME },
  };
}

function select(root: JsonValue, steps: string[], text: string): JsonValue {
  let value: JsonValue = root;
  for (const step of steps) {
    if (!isJsonObject(value) || !Object.hasOwn(value, step)) {
      throw new StatesError('States.Runtime', `The JSONPath '${text}' could not be found in the input`);
    }
    value = value[step] as JsonValue;
  }
  return value;
}

function resolver(input: JsonValue, variables: Record<string, JsonValue> = {}): (text: string) => JsonValue {
  return (text) => {
    const [head = '', ...steps] = text.split('.');
    if (head === '$') return select(input, steps, text);
    if (head === '$$') return select(contextOf(input), steps, text);
    const name = head.slice(1);
    if (!Object.hasOwn(variables, name)) throw new StatesError('States.Runtime', `no variable ${name}`);
    return select(variables[name] as JsonValue, steps, text);
  };
}

function evaluate(
  expression: string,
  input: JsonValue = {},
  variables?: Record<string, JsonValue>,
): JsonValue {
  return evaluateIntrinsic(expression, resolver(input, variables));
}

function failure(run: () => unknown): StatesError {
  try {
    run();
  } catch (error) {
    if (error instanceof StatesError) return error;
    throw error;
  }
  throw new Error('expected a StatesError, nothing was thrown');
}

// ---------------------------------------------------------------------------------------------------------
// The corpora: Pass states whose Parameters hold intrinsics

interface PassState {
  Type: string;
  Parameters?: JsonValue;
  ResultPath?: string;
  OutputPath?: string;
  Next?: string;
  End?: boolean;
  Comment?: string;
}
interface Case {
  id: string;
  definition: { StartAt: string; States: Record<string, PassState> };
  input: JsonValue;
  expected: { status: string; output?: JsonValue; error?: string; cause?: string };
  ignore?: string[];
}

const PASS_FIELDS = new Set(['Type', 'Parameters', 'ResultPath', 'OutputPath', 'Next', 'End', 'Comment']);
const CORPORA = ['intrinsics.json', 'intrinsics-more.json', 'sample.json'];

function loadCases(file: string): Case[] {
  return JSON.parse(readFileSync(path.resolve('conformance/cases', file), 'utf8')) as Case[];
}

/** Only Pass states with the fields the test evaluator knows, and at least one intrinsic. */
function replayable(c: Case): boolean {
  const states = Object.values(c.definition.States);
  return (
    states.every(
      (state) => state.Type === 'Pass' && Object.keys(state).every((key) => PASS_FIELDS.has(key)),
    ) && JSON.stringify(c.definition).includes('"States.')
  );
}

function template(value: JsonValue, resolve: (text: string) => JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map((item) => template(item, resolve));
  if (!isJsonObject(value)) return value;
  const result: Record<string, JsonValue> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.endsWith('.$') && typeof item === 'string') {
      result[key.slice(0, -2)] = isIntrinsic(item) ? evaluateIntrinsic(item, resolve) : resolve(item);
    } else {
      result[key] = template(item, resolve);
    }
  }
  return result;
}

function setPath(root: JsonValue, text: string, value: JsonValue): JsonValue {
  if (text === '$') return value;
  const steps = text.split('.').slice(1);
  const copy = structuredClone(isJsonObject(root) ? root : {}) as Record<string, JsonValue>;
  let target = copy;
  for (const step of steps.slice(0, -1)) {
    const next = target[step];
    target[step] = isJsonObject(next) ? next : {};
    target = target[step] as Record<string, JsonValue>;
  }
  target[steps[steps.length - 1] as string] = value;
  return copy;
}

function runPassStates(c: Case): JsonValue {
  let name: string | undefined = c.definition.StartAt;
  let data = c.input;
  while (name !== undefined) {
    const state = c.definition.States[name] as PassState;
    const resolve = resolver(data);
    const original = c.input;
    const contextResolve = (text: string): JsonValue =>
      text.startsWith('$$') ? resolver(original)(text) : resolve(text);
    const result = state.Parameters === undefined ? data : template(state.Parameters, contextResolve);
    const merged = setPath(data, state.ResultPath ?? '$', result);
    data = state.OutputPath === undefined ? merged : select(merged, state.OutputPath.split('.').slice(1), '');
    name = state.End ? undefined : state.Next;
  }
  return data;
}

/** `<*>` in an expected string matches any text (the recordings mask ARNs, names and generated values). */
function matches(expected: JsonValue, actual: JsonValue, at: string, ignored: Set<string>): string[] {
  if (ignored.has(at)) return actual === undefined ? [`${at}: missing`] : [];
  if (typeof expected === 'string' && expected.includes('<*>') && typeof actual === 'string') {
    const pattern = expected
      .split('<*>')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    return new RegExp(`^${pattern}$`, 's').test(actual)
      ? []
      : [`${at}: ${actual} does not match ${expected}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return [`${at}: ${JSON.stringify(actual)} is not ${JSON.stringify(expected)}`];
    }
    return expected.flatMap((item, i) => matches(item, actual[i] as JsonValue, `${at}[${i}]`, ignored));
  }
  if (isJsonObject(expected)) {
    if (!isJsonObject(actual)) return [`${at}: ${JSON.stringify(actual)} is not an object`];
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    return [...keys].flatMap((key) =>
      matches(expected[key] as JsonValue, actual[key] as JsonValue, `${at}.${key}`, ignored),
    );
  }
  return Object.is(expected, actual)
    ? []
    : [`${at}: ${JSON.stringify(actual)} is not ${JSON.stringify(expected)}`];
}

const corpusCases = CORPORA.flatMap((file) => loadCases(file).map((c) => ({ file, c })));
const replayed = corpusCases.filter(({ c }) => replayable(c));

describe('the AWS recordings of the intrinsic corpora', () => {
  it('are nearly all replayable as Pass states', () => {
    const intrinsicCorpora = corpusCases.filter(({ file }) => file.startsWith('intrinsics'));
    const intrinsicReplayed = replayed.filter(({ file }) => file.startsWith('intrinsics'));
    expect(intrinsicCorpora).toHaveLength(132);
    expect(intrinsicReplayed).toHaveLength(132);
    expect(replayed.length).toBeGreaterThan(132);
  });

  it.each(replayed.map(({ file, c }) => [`${file} ${c.id}`, c] as const))('%s', (_label, c) => {
    const ignored = new Set((c.ignore ?? []).map((p) => p.replace(/^\$\.output/, '$')));
    if (c.expected.status === 'SUCCEEDED') {
      expect(matches(c.expected.output as JsonValue, runPassStates(c), '$', ignored)).toEqual([]);
    } else {
      const error = failure(() => runPassStates(c));
      expect(error.error).toBe(c.expected.error);
      expect(c.expected.cause).toContain(error.cause);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Behaviour the recordings leave open, and the argument checks

function invalid(name: string): { error: string; cause: string } {
  return { error: 'States.Runtime', cause: `Invalid arguments in ${name}` };
}

function expectInvalid(expression: string, input: JsonValue = {}): void {
  const error = failure(() => evaluate(expression, input));
  const name = /^States\.[A-Za-z0-9]+/.exec(expression)?.[0] ?? '';
  expect({ error: error.error, cause: error.cause }).toEqual(invalid(name));
}

describe('isIntrinsic', () => {
  it('recognises States.* calls and nothing else', () => {
    expect(isIntrinsic("States.Format('{}', $.a)")).toBe(true);
    expect(isIntrinsic('$.a')).toBe(false);
    expect(isIntrinsic('$$.Execution.Id')).toBe(false);
    expect(isIntrinsic('Format()')).toBe(false);
  });
});

describe('the call syntax', () => {
  it("unescapes \\' \\{ \\} \\\\ in string literals and keeps braces, commas and parentheses as text", () => {
    expect(evaluate(String.raw`States.Array('it\'s', 'a\\b', '\{x\}', '(a, b)', '{"k": 1}')`)).toEqual([
      "it's",
      'a\\b',
      '{x}',
      '(a, b)',
      '{"k": 1}',
    ]);
  });

  it('reads numbers, booleans and null literals, with any spacing', () => {
    expect(evaluate('States.Array( 1 ,-2.5,  3e2, true,false , null )')).toEqual([
      1,
      -2.5,
      300,
      true,
      false,
      null,
    ]);
  });

  it('reads paths with brackets, quotes, filters and variables through resolvePath, untouched', () => {
    const seen: string[] = [];
    const result = evaluateIntrinsic(
      "States.Array($['a,b'], $.x[?(@.y == 'z,)')], $$.Execution.Id, $v.w, $)",
      (p) => {
        seen.push(p);
        return p;
      },
    );
    expect(seen).toEqual(["$['a,b']", "$.x[?(@.y == 'z,)')]", '$$.Execution.Id', '$v.w', '$']);
    expect(result).toEqual(seen);
  });

  it('evaluates nested calls, innermost first', () => {
    expect(
      evaluate(
        "States.ArrayGetItem(States.StringSplit($.arn, ':'), States.MathAdd(States.ArrayLength(States.StringSplit($.arn, ':')), -1))",
        {
          arn: 'arn:aws:states:eu-west-1:1:stateMachine:m',
        },
      ),
    ).toBe('m');
  });

  it('reads variables ($name, $name.field)', () => {
    expect(evaluate('States.MathAdd($count, $limits.step)', {}, { count: 4, limits: { step: 2 } })).toBe(6);
  });

  it('lets the error of a path that selects nothing through unchanged', () => {
    const error = failure(() => evaluate('States.Array($.missing)', {}));
    expect(error.cause).toBe("The JSONPath '$.missing' could not be found in the input");
  });

  it.each([
    ['States.Format(', "missing ')'"],
    ["States.Format('abc)", 'unterminated string literal'],
    ["States.Format('a\\nb')", 'invalid escape'],
    ['States.Array(1,)', 'missing argument'],
    ['States.Array(1 2)', "unexpected '2'"],
    ['States.Array(foo)', 'invalid argument'],
    ['States.Array() extra', 'after the call'],
    ['States.(1)', 'expected a function name'],
  ])('refuses the malformed call %s (%s)', (expression, reason) => {
    expect(() => parseIntrinsic(expression)).toThrow(IntrinsicSyntaxError);
    expect(() => parseIntrinsic(expression)).toThrow(reason);
    const error = failure(() => evaluate(expression));
    expect(error.error).toBe('States.Runtime');
    expect(error.cause).toContain(`Invalid intrinsic function call '${expression}'`);
  });

  it('fails an unknown function with States.Runtime', () => {
    const error = failure(() => evaluate('States.Nope(1)'));
    expect(error).toMatchObject({
      error: 'States.Runtime',
      cause: "The intrinsic function 'States.Nope' is not supported",
    });
  });
});

describe('States.Format', () => {
  it('fills {} in order, printing strings bare, null as null and objects and arrays Java style', () => {
    expect(
      evaluate("States.Format('{} {} {} {} {} {}', $.s, $.n, $.b, $.z, $.o, $.a)", {
        s: 'text',
        n: 1.5,
        b: false,
        z: null,
        o: { id: 'o-1', items: ['x', 'y'], nested: { k: null } },
        a: [1, 'two', [3]],
      }),
    ).toBe('text 1.5 false null {id=o-1, items=[x, y], nested={k=null}} [1, two, [3]]');
  });

  it('treats \\{ and \\} of a literal template as braces, not placeholders', () => {
    expect(evaluate(String.raw`States.Format('it\'s \{\} (literal): {}', $.t)`, { t: 'C:\\temp "q"' })).toBe(
      'it\'s {} (literal): C:\\temp "q"',
    );
  });

  it('reads a template from a path, where {} are placeholders and lone braces text', () => {
    expect(evaluate('States.Format($.t, $.a)', { t: '{"a": {}}', a: 1 })).toBe('{"a": 1}');
  });

  it('accepts a template without placeholders', () => {
    expect(evaluate("States.Format('plain')")).toBe('plain');
  });

  it.each([
    ["States.Format('{} {}', 'a')"],
    ["States.Format('{}', 'a', 'b')"],
    ["States.Format('Hello {', 'a')"],
    ["States.Format('Hello {{}}', 'a')"],
    ["States.Format('}')"],
    ['States.Format(1)'],
    ['States.Format()'],
  ])('refuses %s', (expression) => expectInvalid(expression));
});

describe('States.StringToJson and States.JsonToString', () => {
  it('parse JSON text, blank text being null, and no negative zero', () => {
    expect(evaluate('States.StringToJson($.t)', { t: '{"a":[1,{"b":null}]}' })).toEqual({
      a: [1, { b: null }],
    });
    expect(evaluate('States.StringToJson($.t)', { t: ' \n ' })).toBeNull();
    expect(Object.is(evaluate('States.StringToJson($.t)', { t: '-0' }), 0)).toBe(true);
  });

  it('refuse text that is not JSON, and arguments that are not strings', () => {
    expectInvalid('States.StringToJson($.t)', { t: '{oops' });
    expectInvalid('States.StringToJson($.t)', { t: { a: 1 } });
    expectInvalid('States.StringToJson($.t, $.t)', { t: '1' });
  });

  it('serialise compactly and keep backslashes and quotes', () => {
    const input = { text: 'say "hi" to C:\\temp', n: [1.5, null, true] };
    expect(evaluate('States.JsonToString($)', input)).toBe(JSON.stringify(input));
    expect(JSON.parse(evaluate('States.JsonToString($)', input) as string)).toEqual(input);
  });
});

describe('array functions', () => {
  it('States.Array takes zero or more values of any type', () => {
    expect(evaluate('States.Array()')).toEqual([]);
    expect(evaluate("States.Array($.o, 'a', 1)", { o: { k: [1] } })).toEqual([{ k: [1] }, 'a', 1]);
  });

  it('States.ArrayPartition chunks by a positive size (a fraction truncated)', () => {
    expect(evaluate('States.ArrayPartition($.a, 2)', { a: [1, 2, 3, 4, 5] })).toEqual([[1, 2], [3, 4], [5]]);
    expect(evaluate('States.ArrayPartition($.a, 2.9)', { a: [1, 2, 3] })).toEqual([[1, 2], [3]]);
    expectInvalid('States.ArrayPartition($.a, 0)', { a: [1] });
    expectInvalid('States.ArrayPartition($.a, 0.49)', { a: [1] });
    expectInvalid('States.ArrayPartition($.a, -1)', { a: [1] });
    expectInvalid("States.ArrayPartition('abc', 1)");
    expectInvalid('States.ArrayPartition($.a)', { a: [1] });
  });

  it('States.ArrayContains compares deeply, object keys in any order', () => {
    expect(evaluate('States.ArrayContains($.a, $.v)', { a: [{ x: 1, y: [2] }], v: { y: [2], x: 1 } })).toBe(
      true,
    );
    expect(evaluate('States.ArrayContains($.a, $.v)', { a: [[1, 2]], v: [2, 1] })).toBe(false);
    expect(evaluate("States.ArrayContains($.a, '1')", { a: [1] })).toBe(false);
    expectInvalid("States.ArrayContains('a', 'a')");
  });

  it('States.ArrayRange counts up or down, includes the end when reached, truncates fractions', () => {
    expect(evaluate('States.ArrayRange(5, 1, -2)')).toEqual([5, 3, 1]);
    expect(evaluate('States.ArrayRange(3, 3, -1)')).toEqual([3]);
    expect(evaluate('States.ArrayRange(5, 1, 1)')).toEqual([]);
    expect(evaluate('States.ArrayRange(1, 5, -1)')).toEqual([]);
    expect(evaluate('States.ArrayRange(-2, 2, 2)')).toEqual([-2, 0, 2]);
    expect(evaluate('States.ArrayRange(1.6, 1.4, 1)')).toEqual([1]);
    expect(evaluate('States.ArrayRange(5.4, -0.6, -2.4)')).toEqual([5, 3, 1]);
  });

  it('States.ArrayRange gives at most 1000 items and refuses a zero step', () => {
    expect(evaluate('States.ArrayRange(1, 1000, 1)')).toHaveLength(1000);
    expect(evaluate('States.ArrayRange(1000, 1, -1)')).toHaveLength(1000);
    expectInvalid('States.ArrayRange(1, 1001, 1)');
    expectInvalid('States.ArrayRange(1, 10, 0)');
    expectInvalid('States.ArrayRange(1, 10, 0.49)');
    expectInvalid("States.ArrayRange('a', 5, 1)");
    expectInvalid('States.ArrayRange(1, 5)');
    expectInvalid('States.ArrayRange(1, 5, 1, 1)');
  });

  it('States.ArrayGetItem is zero-based, truncates a fractional index and refuses one out of range', () => {
    expect(evaluate('States.ArrayGetItem($.a, 1)', { a: [{ a: 1 }, { b: 2 }] })).toEqual({ b: 2 });
    expect(evaluate('States.ArrayGetItem($.a, 1.2)', { a: [10, 20, 30] })).toBe(20);
    expect(evaluate('States.ArrayGetItem($.a, 999)', { a: [] })).toBeNull();
    expectInvalid('States.ArrayGetItem($.a, 3)', { a: [10, 20, 30] });
    expectInvalid('States.ArrayGetItem($.a, -1)', { a: [10, 20, 30] });
    expectInvalid("States.ArrayGetItem($.a, '1')", { a: [10, 20, 30] });
    expectInvalid("States.ArrayGetItem('not-array', 0)");
  });

  it('States.ArrayLength and States.ArrayUnique (first occurrence kept, deep equality)', () => {
    expect(evaluate('States.ArrayLength($.a)', { a: [1, [2], null] })).toBe(3);
    expect(
      evaluate('States.ArrayUnique($.a)', {
        a: [1, 2, 2, 'x', { k: 1, j: 2 }, { j: 2, k: 1 }, null, null, [1], [1]],
      }),
    ).toEqual([1, 2, 'x', { k: 1, j: 2 }, null, [1]]);
    expectInvalid("States.ArrayLength('abc')");
    expectInvalid('States.ArrayUnique($)', { a: 1 });
  });
});

describe('encoding and hashing', () => {
  it('States.Base64Encode/Decode work on UTF-8, up to 10,000 characters', () => {
    expect(evaluate("States.Base64Encode('héllo ✓')")).toBe(Buffer.from('héllo ✓').toString('base64'));
    expect(evaluate('States.Base64Decode($.t)', { t: Buffer.from('héllo ✓').toString('base64') })).toBe(
      'héllo ✓',
    );
    expect(evaluate("States.Base64Decode('YWI')")).toBe('ab');
    expect(evaluate('States.Base64Encode($.t)', { t: 'a'.repeat(10_000) })).toHaveLength(13_336);
    expectInvalid('States.Base64Encode($.t)', { t: 'a'.repeat(10_001) });
    expectInvalid('States.Base64Decode($.t)', { t: 'A'.repeat(10_004) });
    expectInvalid("States.Base64Decode('not base64!')");
    expectInvalid("States.Base64Decode('ab=')");
    expectInvalid('States.Base64Encode(1)');
  });

  it('States.Hash gives the lowercase hex digest of the UTF-8 text', () => {
    expect(evaluate("States.Hash('hello', 'MD5')")).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(evaluate("States.Hash('hello', 'SHA-1')")).toBe('aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d');
    expect(evaluate("States.Hash('', 'SHA-256')")).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(evaluate("States.Hash($.s, 'SHA-256')", { s: 'こんにちは' })).toBe(
      '125aeadf27b0459b8760c13a3d80912dfa8a81a68261906f60d87f4a0268646c',
    );
    expect(evaluate("States.Hash($.s, 'SHA-256')", { s: 'a'.repeat(10_000) })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('States.Hash refuses other algorithm names, a text over 10,000 characters and a wrong arity', () => {
    for (const algorithm of ['sha-256', 'SHA256', 'MD-5', 'SHA-257', '']) {
      expectInvalid(`States.Hash('data', '${algorithm}')`);
    }
    expectInvalid("States.Hash('hello', 123)");
    expectInvalid("States.Hash($.s, 'MD5')", { s: 'a'.repeat(10_001) });
    expectInvalid("States.Hash('hello')");
    expectInvalid("States.Hash('hello', 'MD5', 'extra')");
  });
});

describe('States.JsonMerge', () => {
  it('merges shallowly into a new object, leaving its arguments unchanged', () => {
    const input = { a: { x: 1, nested: { p: 1 } }, b: { y: 2, nested: { q: 2 } } };
    const merged = evaluate('States.JsonMerge($.a, $.b, false)', input);
    expect(merged).toEqual({ x: 1, y: 2, nested: { q: 2 } });
    expect(input.a).toEqual({ x: 1, nested: { p: 1 } });
  });

  it('refuses a deep merge and arguments that are not objects', () => {
    expectInvalid('States.JsonMerge($.a, $.a, true)', { a: {} });
    expectInvalid('States.JsonMerge($.a, $.b, false)', { a: {}, b: [] });
    expectInvalid("States.JsonMerge($.a, $.a, 'false')", { a: {} });
    expectInvalid('States.JsonMerge($.a, $.a)', { a: {} });
  });
});

describe('math', () => {
  it('States.MathAdd rounds each operand half up (Java Math.round), then adds', () => {
    expect(evaluate('States.MathAdd(1.49, 1.5)')).toBe(3);
    expect(evaluate('States.MathAdd(-2.5, 0)')).toBe(-2);
    expect(Object.is(evaluate('States.MathAdd(-0.4, 0)'), 0)).toBe(true);
    expect(evaluate('States.MathAdd($.a, -1)', { a: 10 })).toBe(9);
  });

  it('States.MathAdd refuses non-numbers, a wrong arity and results beyond the int range', () => {
    expectInvalid("States.MathAdd(1, 'NOT A NUMBER')");
    expectInvalid('States.MathAdd(1, $.n)', { n: null });
    expectInvalid('States.MathAdd(1)');
    expectInvalid('States.MathAdd(2147483647, 1)');
  });

  it('States.MathRandom gives an integer in [start, end), bounds truncated', () => {
    for (let i = 0; i < 200; i++) {
      const value = evaluate('States.MathRandom(1.6, 5.4)') as number;
      expect(Number.isInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(1);
      expect(value).toBeLessThan(5);
    }
    expect(evaluate('States.MathRandom(-99999, -9999)')).toBeLessThan(-9998);
    expect(evaluate('States.MathRandom(2147483640, 2147483647, 1)')).toBeGreaterThanOrEqual(2147483640);
  });

  it('States.MathRandom with a seed is deterministic (java.util.Random)', () => {
    const first = evaluate('States.MathRandom(1, 100, 42)');
    expect(evaluate('States.MathRandom(1, 100, 42)')).toBe(first);
    // The JVM's first values: new Random(42).nextInt(10), new Random(0).nextInt(1000), new Random(1).nextInt(16)
    expect(evaluate('States.MathRandom(0, 10, 42)')).toBe(0);
    expect(evaluate('States.MathRandom(0, 1000, 0)')).toBe(360);
    expect(evaluate('States.MathRandom(0, 16, 1)')).toBe(11);
  });

  it('States.MathRandom refuses empty or reversed ranges and bad arguments', () => {
    expectInvalid('States.MathRandom(1, 1)');
    expectInvalid('States.MathRandom(10, 5)');
    expectInvalid('States.MathRandom(1.4, 1.6)');
    expectInvalid("States.MathRandom('a', 10)");
    expectInvalid("States.MathRandom(1, 10, 'seed')");
    expectInvalid('States.MathRandom(1, 10, null)');
    expectInvalid('States.MathRandom(1)');
    expectInvalid('States.MathRandom(1, 10, 5, 99)');
  });
});

describe('States.StringSplit and States.UUID', () => {
  it('StringSplit splits on each delimiter character and drops empty tokens', () => {
    expect(evaluate("States.StringSplit(',a,,b.c,', ',.')")).toEqual(['a', 'b', 'c']);
    expect(evaluate("States.StringSplit(',,,', ',')")).toEqual([]);
    expect(evaluate("States.StringSplit('', ',')")).toEqual([]);
    expect(evaluate("States.StringSplit('abc', '')")).toEqual(['abc']);
    expect(evaluate("States.StringSplit('a🚀b', '🚀')")).toEqual(['a', 'b']);
    expectInvalid("States.StringSplit(1, ',')");
    expectInvalid("States.StringSplit('a')");
  });

  it('UUID gives a random version 4 UUID and takes no argument', () => {
    const uuid = evaluate('States.UUID()');
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(evaluate('States.UUID()')).not.toBe(uuid);
    expectInvalid('States.UUID(1)');
  });
});
