/**
 * JSONata templates, `$states`, AWS's added functions and AWS's error texts. Expected values come from
 * LocalStack's AWS-validated snapshot recordings (repository localstack/localstack, commit 8b9a79f0,
 * under tests/aws/services/stepfunctions/v2/): each test names the snapshot file and key it follows.
 * The causes recorded there carry the interpreter's prefix "An error occurred while executing the
 * state '<name>' (entered at the event id #<id>). "; the texts here are what follows it.
 */
import { describe, expect, it } from 'vitest';
import {
  evaluateJsonata,
  evaluateJsonataTemplate,
  evaluationLocation,
  isJsonataTemplate,
  jsonataExpression,
  jsonataSyntaxError,
  seededRandom,
  unexpectedResultTypeError,
} from '../../../localcloud/stepfunctions/asl/jsonata';
import {
  type JsonataBindings,
  type JsonValue,
  StatesError,
} from '../../../localcloud/stepfunctions/asl/types';

const context: JsonValue = {
  Execution: { Id: 'arn:aws:states:us-east-1:111111111111:execution:sm:exec', Input: {}, Name: 'exec' },
  StateMachine: { Id: 'arn:aws:states:us-east-1:111111111111:stateMachine:sm', Name: 'sm' },
  State: { Name: 'State0', EnteredTime: '2024-11-22T00:00:00.000Z' },
};

function bindings(
  input: JsonValue = {},
  variables: Record<string, JsonValue> = {},
  extra: { result?: JsonValue; errorOutput?: JsonValue } = {},
): JsonataBindings {
  return { states: { input, context, ...extra }, variables };
}

/** The QueryEvaluationError an evaluation raises: its name, cause and location. */
async function failure(
  run: Promise<JsonValue>,
): Promise<{ error: string; cause?: string; location?: string }> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(StatesError);
    const statesError = error as StatesError;
    return { error: statesError.error, cause: statesError.cause, location: evaluationLocation(error) };
  }
  throw new Error('expected the evaluation to fail');
}

describe('isJsonataTemplate', () => {
  it('is a template only with {% first and %} last, no whitespace around', () => {
    // outputdecl/test_output.snapshot.json, "...::TestArgumentsBase::test_base_cases[BASE_LITERALS]":
    // " {% states.input %} " comes out as the literal string.
    expect(isJsonataTemplate(' {% states.input %} ')).toBe(false);
    expect(isJsonataTemplate('{% $states.input %}')).toBe(true);
    expect(isJsonataTemplate('{%$states.input%}')).toBe(true);
    expect(isJsonataTemplate('{% x %} ')).toBe(false);
    expect(isJsonataTemplate('{%}')).toBe(false);
    expect(isJsonataTemplate('$states.input')).toBe(false);
    expect(isJsonataTemplate(1)).toBe(false);
    expect(isJsonataTemplate(null)).toBe(false);
  });

  it('quotes the expression trimmed', () => {
    // scenarios/test_base_scenarios.snapshot.json, "...::test_map_state_items_eval_jsonata_fail[number]":
    // "Items": "{% 1 %}" is quoted as '1'.
    expect(jsonataExpression('{% 1 %}')).toBe('1');
    expect(jsonataExpression('{%$x%}')).toBe('$x');
  });
});

describe('evaluateJsonataTemplate', () => {
  it('keeps literals literal, anywhere', async () => {
    // outputdecl/test_output.snapshot.json, "...::TestArgumentsBase::test_base_cases[BASE_LITERALS]"
    const literals: JsonValue = {
      constant_null: null,
      constant_int: 0,
      constant_float: 0.1,
      constant_bool: true,
      constant_str: 'constant string',
      constant_not_jsonata: ' {% states.input %} ',
      constant_varpath_states: '$states.input',
      constant_varpath: '$no.such.var.path',
      constant_jp_input: '$',
      'constant_jp_input.$': '$',
      constant_jp_input_path: '$.input_value',
      constant_jp_context: '$$',
      constant_if: "States.Format('Format:{}', 101)",
      constant_lst_empty: [],
      constant_lst: [null, 0, 0.1, true, [], { constant: 0 }, ' {% states.input %} ', '$states.input'],
      constant_obj_empty: {},
      constant_obj: { in_obj_constant_obj: { constant: 0 }, in_obj_constant_lst: [' {% states.input %} '] },
    };
    const input = { input_value: 'string literal', input_values: [1, 2, 3] };
    expect(await evaluateJsonataTemplate(literals, bindings(input), 'Output')).toEqual(literals);
  });

  it('evaluates templates in objects, with $states.input, $states.context and the variables', async () => {
    // outputdecl/test_output.snapshot.json, "...::TestArgumentsBase::test_base_cases[BASE_EXPR]"
    const input = { input_value: 'string literal', input_values: [1, 2, 3] };
    const output = await evaluateJsonataTemplate(
      {
        ja_states_context: '{% $states.context %}',
        ja_states_input: '{% $states.input %}',
        ja_var_access: '{% $var_input_value %}',
        ja_expr: '{% $sum($states.input.input_values) + $var_constant_1 %}',
      },
      bindings(input, { var_input_value: 'string literal', var_constant_1: 1 }),
      'Output',
    );
    expect(output).toEqual({
      ja_states_context: context,
      ja_states_input: input,
      ja_var_access: 'string literal',
      ja_expr: 7,
    });
  });

  it('evaluates a whole-field template to any JSON value', async () => {
    // outputdecl/test_output.snapshot.json, "...::test_base_cases[BASE_DIRECT_EXPR]": output 7
    const input = { input_value: 'string literal', input_values: [1, 2, 3] };
    expect(
      await evaluateJsonataTemplate(
        '{% $sum($states.input.input_values) + $var_constant_1 %}',
        bindings(input, { var_constant_1: 1 }),
        'Output',
      ),
    ).toBe(7);
    // "...::test_base_output_any_non_dict[LIST_RICH]"
    expect(
      await evaluateJsonataTemplate(
        [
          null,
          0,
          0.1,
          true,
          'string',
          [],
          '$nosuchvar',
          '$.no.such.path',
          '{% $states.input %}',
          { key: true },
        ],
        bindings({ input_value: 'stringliteral' }),
        'Output',
      ),
    ).toEqual([
      null,
      0,
      0.1,
      true,
      'string',
      [],
      '$nosuchvar',
      '$.no.such.path',
      { input_value: 'stringliteral' },
      { key: true },
    ]);
  });

  it('reads $states.result where the field has it', async () => {
    // outputdecl/test_output.snapshot.json, "...::TestArgumentsBase::test_base_lambda[BASE_LAMBDA]"
    const input = { input_value: 'string literal', input_values: [1, 2, 3] };
    const result = { ja_states_input: input, ja_var_access: 'string literal', ja_expr: 7 };
    const output = await evaluateJsonataTemplate(
      {
        ja_var_access: '{% $var_input_value %}',
        ja_states_result: '{% $states.result %}',
        ja_states_result_access: '{% $states.result.ja_expr %}',
      },
      bindings(input, { var_input_value: 'string literal' }, { result }),
      'Output',
    );
    expect(output).toEqual({
      ja_var_access: 'string literal',
      ja_states_result: result,
      ja_states_result_access: 7,
    });
  });

  it('evaluates templates in array items', async () => {
    // evaluate_jsonata/test_base_evaluate_expressions.snapshot.json, "...::test_base_map[ITEMS]" and
    // "[ITEMS_DOUBLE_QUOTES]": Items [1, "{% $number(\"2\") %}", 3] iterates over [1,2,3]
    expect(await evaluateJsonataTemplate([1, '{% $number("2") %}', 3], bindings(), 'Items')).toEqual([
      1, 2, 3,
    ]);
    expect(await evaluateJsonataTemplate([1, "{% $number('2') %}", 3], bindings(), 'Items')).toEqual([
      1, 2, 3,
    ]);
  });

  it('names the nested field of a failing template', async () => {
    // assign/test_assign_reference_variables.snapshot.json, "...::test_undefined_reference[BASE_UNDEFINED_OUTPUT_FIELD]"
    expect(
      await failure(evaluateJsonataTemplate({ result: '{% $doesNotExist %}' }, bindings(), 'Output')),
    ).toEqual({
      error: 'States.QueryEvaluationError',
      cause:
        "The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined).",
      location: 'Output/result',
    });
    // "...::test_undefined_reference[BASE_UNDEFINED_ARGUMENTS_FIELD]"
    expect(
      await failure(
        evaluateJsonataTemplate({ FunctionName: '{% $doesNotExist %}' }, bindings(), 'Arguments'),
      ),
    ).toEqual({
      error: 'States.QueryEvaluationError',
      cause:
        "The JSONata expression '$doesNotExist' specified for the field 'Arguments/FunctionName' returned nothing (undefined).",
      location: 'Arguments/FunctionName',
    });
    // "...::test_undefined_reference[BASE_UNDEFINED_ASSIGN]" (the interpreter passes 'Assign')
    expect(
      (await failure(evaluateJsonataTemplate({ result: '{% $doesNotExist %}' }, bindings(), 'Assign'))).cause,
    ).toBe(
      "The JSONata expression '$doesNotExist' specified for the field 'Assign/result' returned nothing (undefined).",
    );
    // Not recorded: an array item's location (our choice: the index as a path segment).
    expect((await failure(evaluateJsonataTemplate([1, '{% $no %}'], bindings(), 'Items'))).location).toBe(
      'Items/1',
    );
  });
});

describe('evaluateJsonata: AWS error texts', () => {
  it('fails a field whose expression returns nothing', async () => {
    // assign/test_assign_reference_variables.snapshot.json, "...::test_undefined_reference[BASE_UNDEFINED_OUTPUT]"
    expect(await failure(evaluateJsonata('{% $doesNotExist %}', bindings(), 'Output'))).toEqual({
      error: 'States.QueryEvaluationError',
      cause:
        "The JSONata expression '$doesNotExist' specified for the field 'Output' returned nothing (undefined).",
      location: 'Output',
    });
    // "...::test_undefined_reference[BASE_UNDEFINED_ARGUMENTS]"
    expect((await failure(evaluateJsonata('{% $doesNotExist %}', bindings(), 'Arguments'))).cause).toBe(
      "The JSONata expression '$doesNotExist' specified for the field 'Arguments' returned nothing (undefined).",
    );
    // states_variables/test_error_output.snapshot.json, "...::test_map_catch_error[MAP_CATCH_ERROR_OUTPUT_WITH_RETRY]"
    expect((await failure(evaluateJsonata('{% $stateError %}', bindings(), 'Output/error'))).cause).toBe(
      "The JSONata expression '$stateError' specified for the field 'Output/error' returned nothing (undefined).",
    );
  });

  it('has no context value: $ and bare field names select nothing', async () => {
    const input = { foo: 1 };
    expect((await failure(evaluateJsonata('{% foo %}', bindings(input), 'Output'))).cause).toBe(
      "The JSONata expression 'foo' specified for the field 'Output' returned nothing (undefined).",
    );
    expect((await failure(evaluateJsonata('{% $ %}', bindings(input), 'Output'))).cause).toContain(
      'returned nothing',
    );
  });

  it('has $states.result and $states.errorOutput only where bound', async () => {
    expect((await failure(evaluateJsonata('{% $states.result %}', bindings(), 'Output'))).cause).toBe(
      "The JSONata expression '$states.result' specified for the field 'Output' returned nothing (undefined).",
    );
    const errorOutput = { Error: 'Exception', Cause: 'boom' };
    expect(
      await evaluateJsonata('{% $states.errorOutput %}', bindings({}, {}, { errorOutput }), 'Output'),
    ).toEqual(errorOutput);
    expect(
      await evaluateJsonata('{% $states.result %}', bindings({}, {}, { result: null }), 'Output'),
    ).toBeNull();
  });

  it('fails a field whose expression returns a function', async () => {
    // scenarios/test_base_scenarios.snapshot.json, "...::test_map_state_items_eval_jsonata_fail[function]"
    expect(await failure(evaluateJsonata('{% $fn := function($x){$x} %}', bindings(), 'Items'))).toEqual({
      error: 'States.QueryEvaluationError',
      cause:
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Items' returned an unsupported result type.",
      location: 'Items',
    });
    // Not recorded: functions nested in the result, and regular expressions, are not JSON either.
    expect(
      (await failure(evaluateJsonata("{% {'f': function(){1}} %}", bindings(), 'Output'))).cause,
    ).toContain('returned an unsupported result type.');
    expect((await failure(evaluateJsonata('{% /abc/ %}', bindings(), 'Output'))).cause).toContain(
      'returned an unsupported result type.',
    );
  });

  it('reports an evaluation error with its JSONata code', async () => {
    // intrinsic_functions/test_math_operations_jsonata.snapshot.json, "...::test_math_random_seeded"
    expect(
      await failure(
        evaluateJsonata(
          '{% $randomSeeded($states.input.FunctionInput.fst) %}',
          bindings({ FunctionInput: 'fst' }),
          'Output/FunctionResult',
        ),
      ),
    ).toEqual({
      error: 'States.QueryEvaluationError',
      cause:
        "The JSONata expression '$randomSeeded($states.input.FunctionInput.fst)' specified for the field 'Output/FunctionResult' threw an error during evaluation. T1006: Attempted to invoke a non-function",
      location: 'Output/FunctionResult',
    });
    // Not recorded: other JSONata errors in the same form.
    expect((await failure(evaluateJsonata("{% $number('abc') %}", bindings(), 'Output'))).cause).toBe(
      `The JSONata expression '$number('abc')' specified for the field 'Output' threw an error during evaluation. D3030: Unable to cast value to a number: "abc"`,
    );
  });

  it('does not offer $eval', async () => {
    // AWS docs (Transforming data with JSONata): "$eval is not available, use $parse instead". Not
    // recorded: we fail it as the unknown function of test_math_random_seeded fails.
    expect((await failure(evaluateJsonata("{% $eval('1 + 1') %}", bindings(), 'Output'))).cause).toBe(
      "The JSONata expression '$eval('1 + 1')' specified for the field 'Output' threw an error during evaluation. T1006: Attempted to invoke a non-function",
    );
  });

  it('fails on numbers JSON cannot hold', async () => {
    expect((await failure(evaluateJsonata('{% 1/0 %}', bindings(), 'Output'))).cause).toBe(
      "The JSONata expression '1/0' specified for the field 'Output' threw an error during evaluation. D1001: Number out of range: Infinity",
    );
  });

  it('words a field of the wrong type as AWS does', () => {
    // scenarios/test_base_scenarios.snapshot.json, "...::test_map_state_items_eval_jsonata_fail[string|object|number|null|boolean]"
    const cases: [string, JsonValue, string][] = [
      ["{% 'string' %}", 'string', `but was 'string' for value: "string"`],
      ["{% {'foo': 'bar'} %}", { foo: 'bar' }, `but was 'object' for value: {"foo":"bar"}`],
      ['{% 1 %}', 1, `but was 'number' for value: 1`],
      ['{% null %}', null, `but was 'null' for value: null`],
      ['{% true %}', true, `but was 'boolean' for value: true`],
    ];
    for (const [template, value, tail] of cases) {
      const error = unexpectedResultTypeError(template, 'Items', 'array', value);
      expect(error.error).toBe('States.QueryEvaluationError');
      expect(error.location).toBe('Items');
      expect(error.cause).toBe(
        `The JSONata expression '${jsonataExpression(template)}' specified for the field 'Items' returned an unexpected result type. Expected 'array', ${tail}`,
      );
    }
  });

  it('reports syntax errors for validation', () => {
    expect(jsonataSyntaxError('{% $states.input %}')).toBeUndefined();
    expect(jsonataSyntaxError('{% { %}')).toBe('S0203: Expected ":" before end of expression');
  });
});

describe('evaluateJsonata: JSONata itself', () => {
  it('evaluates regular expressions and double-quoted strings', async () => {
    // evaluate_jsonata/test_base_evaluate_expressions.snapshot.json,
    // "...::test_base_jsonata_regular_expressions[BASE|BASE_SINGLE_QUOTE|BASE_FALSE|BASE_SINGLE_QUOTE_FALSE]"
    expect(await evaluateJsonata('{% $contains("hello$world", /^hello\\$/) %}', bindings(), 'Output')).toBe(
      true,
    );
    expect(await evaluateJsonata("{% $contains('hello$world', /^hello\\$/) %}", bindings(), 'Output')).toBe(
      true,
    );
    expect(await evaluateJsonata('{% $contains("hello$world", /^hello\\ /) %}', bindings(), 'Output')).toBe(
      false,
    );
    expect(await evaluateJsonata("{% $contains('hello$world', /^hello\\ /) %}", bindings(), 'Output')).toBe(
      false,
    );
  });

  it('returns the value of a variable binding', async () => {
    // evaluate_jsonata/test_base_evaluate_expressions.snapshot.json, "...::test_base_map[MAX_CONCURRENCY]":
    // "MaxConcurrency": "{% $variable := 1 %}" runs with 1
    expect(await evaluateJsonata('{% $variable := 1 %}', bindings(), 'MaxConcurrency')).toBe(1);
  });

  it('merges objects', async () => {
    // evaluate_jsonata/test_base_evaluate_expressions.snapshot.json, "...::test_merge_with_dynamic_args"
    const input = { part1: { hello: 'world' }, part2: { foo: 'bar' } };
    expect(
      await evaluateJsonata(
        '{% $merge([$states.input.part1, $states.input.part2]) %}',
        bindings(input),
        'Output',
      ),
    ).toEqual({ hello: 'world', foo: 'bar' });
  });

  it('returns plain JSON, leaving the bindings untouched', async () => {
    const input = { a: [1, 2, 3], o: { k: 'v' } };
    const before = structuredClone(input);
    const output = await evaluateJsonata(
      "{% {'a': $states.input.a, 'o': $states.input.o, 'gone': $nothing, 'm': $states.input.a.($ * 2)} %}",
      bindings(input),
      'Output',
    );
    expect(output).toEqual({ a: [1, 2, 3], o: { k: 'v' }, m: [2, 4, 6] });
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(input).toEqual(before);
    expect(output).not.toBe(input);
  });
});

describe('the functions AWS adds', () => {
  it('$partition', async () => {
    // intrinsic_functions/test_array_jsonata.snapshot.json, "...::TestArrayJSONata::test_array_partition"
    // (exec_hist_resp_0..19: arrays [0], [0,1], [0,1,2], [0,1,2,3] by chunk sizes 1..5)
    const recorded: [number[], number, JsonValue][] = [
      [[0], 1, [[0]]],
      [[0], 5, [[0]]],
      [[0, 1], 1, [[0], [1]]],
      [[0, 1], 2, [[0, 1]]],
      [[0, 1], 3, [[0, 1]]],
      [[0, 1, 2], 1, [[0], [1], [2]]],
      [[0, 1, 2], 2, [[0, 1], [2]]],
      [[0, 1, 2], 3, [[0, 1, 2]]],
      [[0, 1, 2], 4, [[0, 1, 2]]],
      [[0, 1, 2, 3], 1, [[0], [1], [2], [3]]],
      [
        [0, 1, 2, 3],
        2,
        [
          [0, 1],
          [2, 3],
        ],
      ],
      [[0, 1, 2, 3], 3, [[0, 1, 2], [3]]],
      [[0, 1, 2, 3], 4, [[0, 1, 2, 3]]],
      [[0, 1, 2, 3], 5, [[0, 1, 2, 3]]],
    ];
    for (const [fst, snd, output] of recorded) {
      const template = '{% $partition($states.input.FunctionInput.fst, $states.input.FunctionInput.snd) %}';
      expect(await evaluateJsonata(template, bindings({ FunctionInput: { fst, snd } }), 'Output')).toEqual(
        output,
      );
    }
    // Not recorded: a chunk size that is not a positive integer fails.
    expect((await failure(evaluateJsonata('{% $partition([1], 0) %}', bindings(), 'Output'))).error).toBe(
      'States.QueryEvaluationError',
    );
  });

  it('$range', async () => {
    // intrinsic_functions/test_array_jsonata.snapshot.json, "...::TestArrayJSONata::test_array_range"
    // (exec_hist_resp_0..3): a single item comes out as the item, as a JSONata sequence does.
    const recorded: [number, number, number, JsonValue][] = [
      [0, 9, 3, [0, 3, 6, 9]],
      [0, 10, 3, [0, 3, 6, 9]],
      [1, 9, 9, 1],
      [1, 9, 2, [1, 3, 5, 7, 9]],
    ];
    for (const [fst, snd, trd, output] of recorded) {
      const template =
        '{% $range($states.input.FunctionInput.fst, $states.input.FunctionInput.snd, $states.input.FunctionInput.trd) %}';
      expect(
        await evaluateJsonata(template, bindings({ FunctionInput: { fst, snd, trd } }), 'Output'),
      ).toEqual(output);
    }
    // Not recorded: a negative step counts down.
    expect(await evaluateJsonata('{% $range(10, 0, -5) %}', bindings(), 'Output')).toEqual([10, 5, 0]);
  });

  it('$parse', async () => {
    // intrinsic_functions/test_json_manipulation_jsonata.snapshot.json, "...::test_parse" (exec_hist_resp_0..6)
    const recorded: [string, JsonValue][] = [
      ['-0', 0],
      ['1', 1],
      ['1.1', 1.1],
      ['true', true],
      ['"HelloWorld"', 'HelloWorld'],
      ['[1, 2, "HelloWorld"]', [1, 2, 'HelloWorld']],
      ['{"Arg1": 1, "Arg2": []}', { Arg1: 1, Arg2: [] }],
    ];
    for (const [text, output] of recorded) {
      const value = await evaluateJsonata(
        '{% $parse($states.input.FunctionInput) %}',
        bindings({ FunctionInput: text }),
        'Output',
      );
      expect(JSON.stringify(value)).toBe(JSON.stringify(output));
    }
    expect((await failure(evaluateJsonata("{% $parse('{') %}", bindings(), 'Output'))).error).toBe(
      'States.QueryEvaluationError',
    );
  });

  it('$hash (documented algorithms; not recorded)', async () => {
    const cases: [string, string][] = [
      ['MD5', '900150983cd24fb0d6963f7d28e17f72'],
      ['SHA-1', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
      ['SHA-256', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ];
    for (const [algorithm, digest] of cases) {
      expect(await evaluateJsonata(`{% $hash('abc', '${algorithm}') %}`, bindings(), 'Output')).toBe(digest);
    }
    expect(
      (await evaluateJsonata("{% $hash('abc', 'SHA-512') %}", bindings(), 'Output')) as string,
    ).toHaveLength(128);
    expect((await failure(evaluateJsonata("{% $hash('abc', 'SHA-3') %}", bindings(), 'Output'))).error).toBe(
      'States.QueryEvaluationError',
    );
  });

  it('$random, optionally seeded (not recorded: AWS documents the same seed gives the same number)', async () => {
    const unseeded = await evaluateJsonata('{% $random() %}', bindings(), 'Output');
    expect(typeof unseeded).toBe('number');
    expect(unseeded as number).toBeGreaterThanOrEqual(0);
    expect(unseeded as number).toBeLessThan(1);
    const seeded = await evaluateJsonata(
      '{% $random($states.input.seed) %}',
      bindings({ seed: 42 }),
      'Output',
    );
    expect(seeded).toBe(await evaluateJsonata('{% $random(42) %}', bindings(), 'Output'));
    // java.util.Random's first nextDouble() for seeds 42 and 0
    expect(seededRandom(42)).toBe(0.7275636800328681);
    expect(seededRandom(0)).toBe(0.730967787376657);
  });

  it('$uuid', async () => {
    const uuid = await evaluateJsonata('{% $uuid() %}', bindings(), 'Output');
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await evaluateJsonata('{% $uuid() %}', bindings(), 'Output')).not.toBe(uuid);
  });

  it('lets a variable shadow a function, as JSONata bindings do', async () => {
    expect(await evaluateJsonata('{% $range %}', bindings({}, { range: 3 }), 'Output')).toBe(3);
  });
});
