/**
 * The JSONPath data flow of the ASL interpreter (localcloud/stepfunctions/asl/jsonpath.ts), in process.
 * Expected values come from the AWS recordings in conformance/cases/*.json where there are some (the
 * case id is named next to each); Choice rules are checked against every recorded Choice case.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { ChoiceRule, StateMachineDefinition } from '../../../localcloud/stepfunctions/asl/definition';
import {
  applyInputOutputPath,
  applyResultPath,
  evaluateChoiceRule,
  evaluateTemplate,
  RESULT_PATH_CONFLICT,
  selectPath,
  timestampInstant,
} from '../../../localcloud/stepfunctions/asl/jsonpath';
import { type JsonPathScope, type JsonValue, StatesError } from '../../../localcloud/stepfunctions/asl/types';

// intrinsics.ts is written separately: a stand-in shows what evaluateTemplate hands it (the expression,
// and a resolver reading the same scope with the key's error texts).
vi.mock('../../../localcloud/stepfunctions/asl/intrinsics', () => ({
  isIntrinsic: (expression: string) => expression.startsWith('States.'),
  evaluateIntrinsic: (expression: string, resolvePath: (path: string) => JsonValue): JsonValue => {
    const args = /\((.*)\)$/s.exec(expression)?.[1] ?? '';
    return {
      called: expression,
      args: args
        .split(',')
        .map((arg) => arg.trim())
        .filter((arg) => arg.startsWith('$'))
        .map((arg) => resolvePath(arg)),
    };
  },
}));

interface RecordedCase {
  id: string;
  definition: StateMachineDefinition;
  input: JsonValue;
  expected: { status: string; output?: JsonValue; error?: string; cause?: string };
}

function corpus(name: string): RecordedCase[] {
  const file = new URL(`../../../conformance/cases/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')) as RecordedCase[];
}

function recorded(name: string, id: string): RecordedCase {
  const found = corpus(name).find((c) => c.id === id);
  if (!found) throw new Error(`no case ${id} in ${name}.json`);
  return found;
}

/** The cause after the interpreter's "An error occurred while executing the state 'X' (...). " prefix. */
function detail(cause: string | undefined): string {
  return (cause ?? '').replace(
    /^An error occurred while executing the state '[^']*' \(entered at the event id #\d+\)\. /,
    '',
  );
}

const context: JsonValue = {
  Execution: {
    Id: 'arn:aws:states:us-east-1:000000000000:execution:m:e',
    Input: { 'input-value': 0, nested: { a: 1 } },
    Name: 'e',
    RoleArn: 'arn:aws:iam::000000000000:role/r',
    StartTime: '2024-01-01T00:00:00.000Z',
    RedriveCount: 0,
  },
  StateMachine: { Id: 'arn:aws:states:us-east-1:000000000000:stateMachine:m', Name: 'm' },
  State: { Name: 'S', EnteredTime: '2024-01-01T00:00:00.000Z' },
};

function scope(input: JsonValue, variables: Record<string, JsonValue> = {}): JsonPathScope {
  return { input, context, variables };
}

/** The StatesError a call throws. */
function thrown(call: () => unknown): StatesError {
  try {
    call();
  } catch (error) {
    if (error instanceof StatesError) return error;
    throw error;
  }
  throw new Error('expected a StatesError');
}

describe('selectPath', () => {
  const input = {
    a: { b: [10, 20, 30], 'input-value': 5 },
    users: [
      { year: 1997, status: 0 },
      { year: 1998, status: 1 },
    ],
  };

  it('selects definite paths: names, indexes, the root, hyphenated and quoted names', () => {
    expect(selectPath('$', scope(input), 'x.$')).toEqual(input);
    expect(selectPath('$.a.b', scope(input), 'x.$')).toEqual([10, 20, 30]);
    expect(selectPath('$.a.b[1]', scope(input), 'x.$')).toBe(20);
    expect(selectPath('$.a.b[-1]', scope(input), 'x.$')).toBe(30);
    expect(selectPath("$['a']['input-value']", scope(input), 'x.$')).toBe(5);
    expect(selectPath('$.a.input-value', scope(input), 'x.$')).toBe(5);
    expect(selectPath('$.users[0].year', scope(input), 'x.$')).toBe(1997);
    expect(selectPath('$.a.b', scope({ a: { b: null } }), 'x.$')).toBeNull();
  });

  it('reads a key with quotes and backslashes in bracket notation (more-escape-sequences-jsonpath)', () => {
    const c = recorded('more', 'more-escape-sequences-jsonpath');
    const template = c.definition.States.JsonPathEscapeTest as { Parameters: JsonValue };
    expect(evaluateTemplate(template.Parameters, scope(c.input), 'Parameters')).toEqual(c.expected.output);
  });

  it('selects array items by index (base-jsonpath-array-index, base-more-jsonpath-array-index-0)', () => {
    for (const c of [
      recorded('base', 'base-jsonpath-array-index'),
      recorded('base-more', 'base-more-jsonpath-array-index-0'),
    ]) {
      const state = Object.values(c.definition.States)[0] as { Parameters: JsonValue };
      expect(evaluateTemplate(state.Parameters, scope(c.input), 'Parameters'), c.id).toEqual(
        c.expected.output,
      );
    }
  });

  it('gives an array of the matches for a filter (base-jsonpath-filter-expression)', () => {
    const c = recorded('base', 'base-jsonpath-filter-expression');
    expect(selectPath('$.users[?(@.status == 0)]', scope(c.input), 'FromInput.$')).toEqual([
      { year: 1997, status: 0 },
    ]);
  });

  it('gives [] for an indefinite path that matches nothing, even through missing properties', () => {
    // Every recorded case whose single Pass state reads an indefinite path over {}.
    const cases = [...corpus('base'), ...corpus('base-more'), ...corpus('more')].filter(
      (c) => /jsonpath-(missing|empty|root-wildcard)/.test(c.id) && c.expected.status === 'SUCCEEDED',
    );
    expect(cases.length).toBeGreaterThanOrEqual(14);
    for (const c of cases) {
      const state = Object.values(c.definition.States)[0] as { Parameters: JsonValue };
      expect(evaluateTemplate(state.Parameters, scope(c.input), 'Parameters'), c.id).toEqual(
        c.expected.output,
      );
    }
  });

  it('gives one match of an indefinite path as a one-item array, and wildcards/recursion as arrays', () => {
    expect(selectPath('$.users[?(@.year > 1997)].status', scope(input), 'x.$')).toEqual([1]);
    expect(selectPath('$.a.b[*]', scope(input), 'x.$')).toEqual([10, 20, 30]);
    expect(selectPath('$.a.b[1:]', scope(input), 'x.$')).toEqual([20, 30]);
    expect(selectPath('$..year', scope(input), 'x.$')).toEqual([1997, 1998]);
    expect(selectPath('$.users[*].status', scope(input), 'x.$')).toEqual([0, 1]);
    expect(selectPath('$.a.b[0,2]', scope(input), 'x.$')).toEqual([10, 30]);
  });

  it('reads the Context Object with $$ (base-ctx-inputpath-execution-input, base-ctx-choice-variable)', () => {
    expect(selectPath('$$.Execution.Input', scope({}), 'InputPath')).toEqual({
      'input-value': 0,
      nested: { a: 1 },
    });
    expect(selectPath('$$.Execution.Input.input-value', scope({}), 'Variable')).toBe(0);
    expect(selectPath('$$.State.Name', scope({}), 'ErrorPath')).toBe('S');
    expect(selectPath('$$', scope({}), 'x.$')).toEqual(context);
  });

  it('reads variables: $name, $name.field, $name[0] (base-assign-var, base-assign-ref-in-inputpath)', () => {
    const variables = { theAnswer: 42, constant_obj: { in_obj_constant_lst: [null, 0] }, list: ['a', 'b'] };
    expect(selectPath('$theAnswer', scope({}, variables), 'InputPath')).toBe(42);
    expect(selectPath('$constant_obj.in_obj_constant_lst', scope({}, variables), 'x.$')).toEqual([null, 0]);
    expect(selectPath('$list[1]', scope({}, variables), 'x.$')).toBe('b');
    expect(selectPath('$list[*]', scope({}, variables), 'x.$')).toEqual(['a', 'b']);
  });

  it('reads variables of outer scopes chained as prototypes, never Object.prototype members', () => {
    const outer = { bias: 4.3 };
    const inner = Object.assign(Object.create(outer) as Record<string, JsonValue>, { x: 1 });
    expect(selectPath('$bias', scope({}, inner), 'x.$')).toBe(4.3);
    expect(selectPath('$x', scope({}, inner), 'x.$')).toBe(1);
    expect(thrown(() => selectPath('$toString', scope({}, inner), 'x.$')).error).toBe('States.Runtime');
  });

  it('returns copies: changing the value selected changes neither the input nor the Context Object', () => {
    const source = { a: { b: [1] } };
    const selected = selectPath('$.a', scope(source), 'x.$') as { b: number[] };
    selected.b.push(2);
    expect(source).toEqual({ a: { b: [1] } });
    const whole = selectPath('$$.State', scope({}), 'x.$') as { Name: string };
    whole.Name = 'changed';
    expect(selectPath('$$.State.Name', scope({}), 'x.$')).toBe('S');
  });

  it('words a template key that selects nothing with the field and the input (more-invalid-jsonpath-string-expr-*)', () => {
    const input = { 'int-literal': 0 };
    for (const id of [
      'more-invalid-jsonpath-string-expr-jsonpath',
      'more-invalid-jsonpath-string-expr-contextpath',
    ]) {
      const c = recorded('more', id);
      const parameters = (c.definition.States.pass as { Parameters: JsonValue }).Parameters;
      const error = thrown(() => evaluateTemplate(parameters, scope(c.input), 'Parameters'));
      expect(error.error, id).toBe(c.expected.error);
      const expected = detail(c.expected.cause).replace("'<*>'", `'${JSON.stringify(input)}'`);
      expect(error.cause, id).toBe(expected);
    }
  });

  it('words ErrorPath/CausePath like template keys (more-invalid-jsonpath-errorpath, -causepath)', () => {
    const input = { Error: 'error-value' };
    for (const [id, path, field] of [
      ['more-invalid-jsonpath-errorpath', '$.ErrorX', 'ErrorPath'],
      ['more-invalid-jsonpath-causepath', '$.NoSuchCausePath', 'CausePath'],
    ] as const) {
      const c = recorded('more', id);
      const error = thrown(() => selectPath(path, scope(input), field));
      expect(error.error).toBe('States.Runtime');
      expect(error.cause).toBe(detail(c.expected.cause).replace("'<*>'", `'${JSON.stringify(input)}'`));
    }
  });

  it('words the other path fields as Jayway JsonPath does (more-invalid-jsonpath-*path, lambda-arn-outputpath-runtime-error)', () => {
    const input = { 'int-literal': 0 };
    for (const [id, path, field] of [
      ['more-invalid-jsonpath-inputpath', '$.NoSuchInputPath', 'InputPath'],
      ['more-invalid-jsonpath-outputpath', '$.NoSuchOutputPath', 'OutputPath'],
      ['more-invalid-jsonpath-timeoutsecondspath', '$.NoSuchTimeoutSecondsPath', 'TimeoutSecondsPath'],
    ] as const) {
      const c = recorded('more', id);
      const error = thrown(() => selectPath(path, scope(input), field));
      expect(error.error, id).toBe(c.expected.error);
      expect(error.cause, id).toBe(detail(c.expected.cause));
    }
    const c = recorded('sample', 'lambda-arn-outputpath-runtime-error');
    const error = thrown(() =>
      applyInputOutputPath({ Payload: 1 }, '$.no.such.result.path', scope({}), 'OutputPath'),
    );
    expect(error.error).toBe(c.expected.error);
    expect(error.cause).toBe(detail(c.expected.cause));
  });

  it('names the missing leaf in full, and a missing step on the way up to that step', () => {
    const input = { a: { b: { c: 1 } }, list: [1] };
    expect(thrown(() => selectPath('$.a.b.x', scope(input), 'ItemsPath')).cause).toBe(
      "Invalid path '$.a.b.x' : No results for path: $['a']['b']['x']",
    );
    expect(thrown(() => selectPath('$.a.x.y', scope(input), 'SecondsPath')).cause).toBe(
      "Invalid path '$.a.x.y' : Missing property in path $['a']['x']",
    );
    expect(thrown(() => selectPath('$.list[3]', scope(input), 'InputPath')).cause).toBe(
      "Invalid path '$.list[3]' : No results for path: $['list'][3]",
    );
  });

  it('fails for a variable that is not assigned, or a field it lacks', () => {
    expect(thrown(() => selectPath('$nope', scope({}), 'x.$')).cause).toBe(
      "The JSONPath '$nope' specified for the field 'x.$' could not be found in the input '{}'",
    );
    expect(thrown(() => selectPath('$v.missing', scope({}, { v: {} }), 'InputPath')).cause).toBe(
      "Invalid path '$v.missing' : No results for path: $['missing']",
    );
  });

  it('rejects text that is no path', () => {
    expect(thrown(() => selectPath('a.b', scope({}), 'InputPath')).error).toBe('States.Runtime');
    expect(thrown(() => selectPath('$.', scope({}), 'x.$')).error).toBe('States.Runtime');
  });
});

describe('evaluateTemplate', () => {
  it('keeps keys and values without .$ literal, Comment keys included (base-comment-keys-in-parameters)', () => {
    const c = recorded('base', 'base-comment-keys-in-parameters');
    const state = c.definition.States.StartState as { Parameters: JsonValue };
    expect(evaluateTemplate(state.Parameters, scope(c.input), 'Parameters')).toEqual(c.expected.output);
  });

  it('evaluates .$ keys only: "$result" is a string, "result.$": "$result" the variable (base-assign-ref-in-parameters)', () => {
    const c = recorded('base', 'base-assign-ref-in-parameters');
    const first = c.definition.States.State0 as { Parameters: JsonValue };
    const second = c.definition.States.State1 as { Parameters: JsonValue };
    expect(evaluateTemplate(first.Parameters, scope({}), 'Parameters')).toEqual({ result: '$result' });
    expect(evaluateTemplate(second.Parameters, scope({}, { result: 'foobar' }), 'Parameters')).toEqual({
      result: 'foobar',
    });
  });

  it('evaluates nested objects and objects inside arrays; other strings stay literal (base-assign-constant-literals)', () => {
    const template = {
      list: [{ 'v.$': '$.x' }, '$.x', ['$$', { 'w.$': '$$.State.Name' }], 1, null, true],
      nested: { deeper: { 'v.$': '$.x' }, 'j.$': '$.j' },
      jsonata: '{% $x %}',
    };
    expect(evaluateTemplate(template, scope({ x: 7, j: { k: [1] } }), 'Parameters')).toEqual({
      list: [{ v: 7 }, '$.x', ['$$', { w: 'S' }], 1, null, true],
      nested: { deeper: { v: 7 }, j: { k: [1] } },
      jsonata: '{% $x %}',
    });
    // Literal strings that look like paths or intrinsic calls, in an Assign (recorded: the state succeeds).
    const c = recorded('base', 'base-assign-constant-literals');
    const assign = (c.definition.States.State0 as { Assign: JsonValue }).Assign;
    expect(evaluateTemplate(assign, scope(c.input), 'Assign')).toEqual(assign);
  });

  it('keeps a $-string under a plain key in an ItemSelector (more-assign-map-ref-in-item-selector)', () => {
    const selector = { 'value.$': '$$.Map.Item.Value', bucketName: '$bucket' };
    const mapContext = { ...(context as object), Map: { Item: { Index: 0, Value: 1 } } };
    const result = evaluateTemplate(
      selector,
      { input: {}, context: mapContext, variables: { bucket: 'x' } },
      'ItemSelector',
    );
    expect(result).toEqual({ bucketName: '$bucket', value: 1 });
  });

  it('hands intrinsic functions to intrinsics.ts with a resolver over the same scope', () => {
    const template = { 'greeting.$': "States.Format('Hello {} {}', $.name, $who)" };
    expect(evaluateTemplate(template, scope({ name: 'Ann' }, { who: 'Bob' }), 'Parameters')).toEqual({
      greeting: { called: "States.Format('Hello {} {}', $.name, $who)", args: ['Ann', 'Bob'] },
    });
    // The resolver fails with the key's own text.
    const error = thrown(() =>
      evaluateTemplate({ 'g.$': 'States.Format($.missing)' }, scope({ a: 1 }), 'Parameters'),
    );
    expect(error.cause).toBe(
      `The JSONPath '$.missing' specified for the field 'g.$' could not be found in the input '{"a":1}'`,
    );
  });

  it('does not change the template, and keeps __proto__ an ordinary key', () => {
    const template = JSON.parse('{"__proto__": {"x.$": "$.a"}, "k": [1]}') as JsonValue;
    const before = JSON.stringify(template);
    const result = evaluateTemplate(template, scope({ a: 2 }), 'Parameters');
    expect(JSON.stringify(template)).toBe(before);
    expect(JSON.stringify(result)).toBe('{"__proto__":{"x":2},"k":[1]}');
  });
});

describe('applyResultPath', () => {
  it('null keeps the input; undefined and $ give the result', () => {
    expect(applyResultPath({ a: 1 }, 'r', null)).toEqual({ a: 1 });
    expect(applyResultPath({ a: 1 }, 'r', undefined)).toBe('r');
    expect(applyResultPath({ a: 1 }, 'r', '$')).toBe('r');
  });

  it('sets the result at the path, beside the input (base-context-object-values: $.query_values_1)', () => {
    expect(applyResultPath({ message: 'TestMessage' }, { v: 1 }, '$.query_values_1')).toEqual({
      message: 'TestMessage',
      query_values_1: { v: 1 },
    });
    // base-assign-ref-in-parameters: ResultPath $.result over {} gives {"result": {"result": "foobar"}}.
    const c = recorded('base', 'base-assign-ref-in-parameters');
    expect(applyResultPath({}, { result: 'foobar' }, '$.result')).toEqual(c.expected.output);
  });

  it('creates the objects on the way, replaces an existing value, and never mutates its arguments', () => {
    const input = { a: { keep: true, b: 'old' }, other: [1] };
    const frozen = JSON.stringify(input);
    expect(applyResultPath(input, 5, '$.a.b')).toEqual({ a: { keep: true, b: 5 }, other: [1] });
    expect(applyResultPath(input, 5, '$.x.y.z')).toEqual({ ...input, x: { y: { z: 5 } } });
    expect(applyResultPath(input, 5, "$['a']['n-m']")).toEqual({
      ...input,
      a: { keep: true, b: 'old', 'n-m': 5 },
    });
    expect(applyResultPath(input, 9, '$.other[0]')).toEqual({ ...input, other: [9] });
    expect(JSON.stringify(input)).toBe(frozen);
  });

  it('fails when the input, or a value on the way, is not an object', () => {
    for (const [input, path, step] of [
      ['text', '$.x', 'x'],
      [[1, 2], '$.x', 'x'],
      [{ a: 5 }, '$.a.b', 'b'],
      [null, '$.x', 'x'],
    ] as const) {
      const error = thrown(() => applyResultPath(input as JsonValue, 1, path));
      expect(error.error).toBe(RESULT_PATH_CONFLICT);
      expect(error.cause).toBe(`Unable to apply step "${step}" to input ${JSON.stringify(input)}`);
    }
  });
});

describe('applyInputOutputPath', () => {
  it('null gives {}, undefined the value (sample pass-null-paths)', () => {
    const c = recorded('sample', 'pass-null-paths');
    expect(c.expected.output).toEqual({});
    expect(applyInputOutputPath({ a: 1 }, null, scope({}), 'InputPath')).toEqual({});
    expect(applyInputOutputPath({ a: 1 }, undefined, scope({}), 'OutputPath')).toEqual({ a: 1 });
  });

  it('selects from the value, the Context Object or a variable (base-ctx-*, base-assign-ref-in-outputpath)', () => {
    expect(applyInputOutputPath({ a: { b: 1 } }, '$.a', scope({ other: 1 }), 'InputPath')).toEqual({ b: 1 });
    expect(applyInputOutputPath({ x: 1 }, '$$.Execution.Input', scope({}), 'OutputPath')).toEqual({
      'input-value': 0,
      nested: { a: 1 },
    });
    expect(applyInputOutputPath({}, '$theAnswer', scope({}, { theAnswer: 42 }), 'OutputPath')).toBe(42);
    expect(applyInputOutputPath({ x: 1 }, '$$', scope({}), 'InputPath')).toEqual(context);
  });
});

describe('evaluateChoiceRule', () => {
  /** The recorded Choice cases of one shape: CheckValues with one rule, ConditionTrue/ConditionFalse. */
  const recordedChoices = [
    ...corpus('choice'),
    ...corpus('base').filter((c) => c.id.startsWith('base-choice-')),
  ];

  it(`matches as AWS did in each of the ${recordedChoices.length} recorded Choice cases (choice.json, base-choice-*)`, () => {
    expect(recordedChoices.length).toBeGreaterThan(480);
    const wrong: string[] = [];
    for (const c of recordedChoices) {
      const state = c.definition.States.CheckValues as { Choices: ChoiceRule[] };
      const expected = (c.expected.output as { 'TestResult.$': string })['TestResult.$'] === 'ConditionTrue';
      const rule = state.Choices[0] as ChoiceRule;
      if (evaluateChoiceRule(rule, scope(c.input)) !== expected)
        wrong.push(`${c.id}: ${JSON.stringify(rule)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('evaluates And, Or and Not (more-choice-aws-docs-scenario, more-path-based-on-data-*)', () => {
    const c = recorded('more', 'more-choice-aws-docs-scenario');
    const [notPrivate, isZero, inTwenties] = (c.definition.States.ChoiceStateX as { Choices: ChoiceRule[] })
      .Choices as [ChoiceRule, ChoiceRule, ChoiceRule];
    const s = scope(c.input); // {"type": "Private", "value": 22} → ValueInTwenties
    expect([notPrivate, isZero, inTwenties].map((rule) => evaluateChoiceRule(rule, s))).toEqual([
      false,
      false,
      true,
    ]);
    expect(evaluateChoiceRule(notPrivate, scope({ type: 'Public', value: 3 }))).toBe(true);
    expect(evaluateChoiceRule(inTwenties, scope({ type: 'Private', value: 30 }))).toBe(false);
    expect(evaluateChoiceRule({ Or: [isZero, inTwenties], Next: 'n' }, scope({ type: 'x', value: 0 }))).toBe(
      true,
    );
    const single = recorded('more', 'more-choice-singleton-composite');
    const rule = (single.definition.States.ChoiceStateX as { Choices: ChoiceRule[] })
      .Choices[0] as ChoiceRule;
    expect(evaluateChoiceRule(rule, scope(single.input))).toBe(true);
  });

  it('reads the Context Object and variables, also as the *Path operand (base-ctx-choice-variable, base-assign-ref-in-choice)', () => {
    expect(
      evaluateChoiceRule({ Variable: '$$.Execution.Input.input-value', NumericLessThanEquals: 0 }, scope({})),
    ).toBe(true);
    const rule: ChoiceRule = { Variable: '$guess', StringEqualsPath: '$answer', Next: 'CorrectAnswer' };
    expect(evaluateChoiceRule(rule, scope({}, { guess: 'the_guess', answer: 'the_answer' }))).toBe(false);
    expect(evaluateChoiceRule(rule, scope({}, { guess: 'the_answer', answer: 'the_answer' }))).toBe(true);
  });

  it('does not coerce a string to a number (base-assign-in-choice-correct: "42" is not NumericEquals 42)', () => {
    const c = recorded('base', 'base-assign-in-choice-correct');
    const [absent, equals] = (c.definition.States.CheckInputState as { Choices: ChoiceRule[] }).Choices as [
      ChoiceRule,
      ChoiceRule,
    ];
    expect(evaluateChoiceRule(absent, scope(c.input))).toBe(false);
    expect(evaluateChoiceRule(equals, scope(c.input))).toBe(false);
    expect(evaluateChoiceRule(equals, scope({ input_value: 42 }))).toBe(true);
  });

  it('IsPresent is false for a missing path; any other operator fails on it with the choice text', () => {
    expect(evaluateChoiceRule({ Variable: '$.missing', IsPresent: false }, scope({}))).toBe(true);
    expect(evaluateChoiceRule({ Variable: '$.missing', IsPresent: true }, scope({}))).toBe(false);
    expect(evaluateChoiceRule({ Variable: '$nope', IsPresent: false }, scope({}))).toBe(true);
    expect(evaluateChoiceRule({ Variable: '$.a[*]', IsPresent: true }, scope({}))).toBe(true);
    for (const rule of [
      { Variable: '$.missing', NumericEquals: 1 },
      { Variable: '$.missing', IsNull: false },
      { Variable: '$.v', StringEqualsPath: '$.missing' },
    ] as ChoiceRule[]) {
      const error = thrown(() => evaluateChoiceRule(rule, scope({ v: 'x' })));
      expect(error.error).toBe('States.Runtime');
      expect(error.cause).toBe(
        "Invalid path '$.missing': The choice state's condition path references an invalid value.",
      );
    }
  });

  it('StringMatches: * matches any text, \\* a star, \\\\ a backslash', () => {
    const matches = (pattern: string, value: JsonValue) =>
      evaluateChoiceRule({ Variable: '$.v', StringMatches: pattern }, scope({ v: value }));
    expect(matches('log-*.txt', 'log-2024-01.txt')).toBe(true);
    expect(matches('log-*.txt', 'log-.txt')).toBe(true);
    expect(matches('log-*.txt', 'log-1.txt.bak')).toBe(false);
    expect(matches('*', 'multi\nline')).toBe(true);
    expect(matches('a\\*b', 'a*b')).toBe(true);
    expect(matches('a\\*b', 'axxb')).toBe(false);
    expect(matches('c:\\\\*', 'c:\\dir')).toBe(true);
    expect(matches('(a)+[b].?', '(a)+[b].?')).toBe(true);
    expect(matches('*', 5)).toBe(false);
  });

  it('compares timestamps as instants, with offsets and fractions; IsTimestamp needs an offset', () => {
    const cmp = (operator: string, value: string, operand: string) =>
      evaluateChoiceRule({ Variable: '$.t', [operator]: operand }, scope({ t: value }));
    expect(cmp('TimestampEquals', '2012-10-09T20:00:55+01:00', '2012-10-09T19:00:55Z')).toBe(true);
    expect(cmp('TimestampLessThan', '2012-10-09T19:00:55.000000001Z', '2012-10-09T19:00:55.000000002Z')).toBe(
      true,
    );
    expect(cmp('TimestampGreaterThanEquals', '2012-10-09T19:00:55.5Z', '2012-10-09T19:00:55.500Z')).toBe(
      true,
    );
    expect(cmp('TimestampEquals', '2012-10-09T19:00:55', '2012-10-09T19:00:55Z')).toBe(false);
    const isTimestamp = (value: JsonValue) =>
      evaluateChoiceRule({ Variable: '$.t', IsTimestamp: true }, scope({ t: value }));
    expect(isTimestamp('2016-03-14T01:59:00Z')).toBe(true);
    expect(isTimestamp('2016-03-14T01:59:00.123456789-05:30')).toBe(true);
    expect(isTimestamp('2016-03-14T01:59:00')).toBe(false);
    expect(isTimestamp(1457920740)).toBe(false);
    expect(evaluateChoiceRule({ Variable: '$.t', IsTimestamp: false }, scope({ t: 'no' }))).toBe(true);
  });
});

describe('timestampInstant', () => {
  it('accepts what AWS accepts for TimestampPath and rejects what it rejects (more-wait-timestamp-path-*, base-wait-timestamp-path-*)', () => {
    // Rejected values, from the recorded causes "... format string: $.x == <value>".
    const rejected = [...corpus('more'), ...corpus('base')]
      .filter((c) => /wait-timestamp-path/.test(c.id) && c.expected.status === 'FAILED')
      .map((c) => / == (.*)$/.exec(c.expected.cause ?? '')?.[1] ?? '');
    expect(rejected).toEqual(
      expect.arrayContaining([
        '2016-12-05 21:29:29Z',
        '2016-13-05T21:29:29Z',
        '2016-12-05T25:29:29Z',
        '2023-12-13T07:09:32',
      ]),
    );
    for (const value of rejected) expect(timestampInstant(value), value).toBeUndefined();
    for (const value of [
      '2016-12-05T21:29:29Z',
      '2016-12-05T21:29:29.00Z',
      '2016-12-05T21:29:29.123456789Z',
      '2016-12-05T21:29:29+02:00',
      '2024-02-29T00:00:00Z',
    ]) {
      expect(timestampInstant(value), value).toBeDefined();
    }
    expect(timestampInstant('2023-02-29T00:00:00Z')).toBeUndefined();
    expect(timestampInstant('1970-01-01T00:00:01.5Z')).toBe(1_500_000_000n);
    expect(timestampInstant('1970-01-01T01:00:00+01:00')).toBe(0n);
  });
});
