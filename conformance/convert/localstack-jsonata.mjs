#!/usr/bin/env node
// Converts LocalStack's AWS-validated Step Functions snapshot tests for JSONata and mixed query languages
// into conformance cases (the format of ../runner.mjs), written to ../cases/jsonata-*.json.
//
//   node conformance/convert/localstack-jsonata.mjs <localstack git dir> [--commit SHA] [--check]
//
// The git dir is a clone (bare is fine) of github.com/localstack/localstack; files are read with
// `git show <commit>:<path>`, nothing is copied from it but the recorded values. For every test listed in
// TESTS below (our own reading of the LocalStack test code: which template, which edits, which input,
// which Lambda handler), every recorded execution in the test's snapshot becomes one case:
//   * definition: the template (JSON5) with the test's edits, Lambda ARNs of account 123456789012;
//   * input: the test's input (compared with the recorded ExecutionStarted input);
//   * expected: status, output or error/cause from the last history event, exactly as recorded; values
//     that LocalStack's snapshot transformers replaced are matched with `<*>` or listed in `ignore`, and
//     the case's `notes` name the transformer (file:line);
//   * events: the ordered history event types, unless a transformer distorted the event list.
// --check only validates the existing jsonata-*.json files (structure + the runner's path parser).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const CASES = resolve(HERE, '../cases');
/** Where the JSONata cases are written: the corpus (they run there). */
const PENDING = CASES;
const DEFAULT_COMMIT = '8b9a79f05846835cf4dff63ab7eefdde9df83783';
const SFN = 'tests/aws/services/stepfunctions/';
const ACCOUNT = '123456789012';
const lambdaArn = (name) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;

// ------------------------------------------------------------------ git + JSON5
let GIT_DIR;
let COMMIT;
const show = (path) =>
  execFileSync('git', ['--git-dir', GIT_DIR, 'show', `${COMMIT}:${path}`], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });

// A small JSON5 reader (comments, trailing commas, unquoted keys, single-quoted strings): enough for the
// LocalStack templates; throws on anything else.
function parseJson5(text) {
  let i = 0;
  const err = (m) => {
    throw new Error(`JSON5: ${m} at ${i}: ${JSON.stringify(text.slice(i, i + 30))}`);
  };
  const ws = () => {
    for (;;) {
      if (/\s/.test(text[i] ?? '')) i++;
      else if (text.startsWith('//', i)) i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
      else if (text.startsWith('/*', i)) i = text.indexOf('*/', i) + 2;
      else return;
    }
  };
  const str = () => {
    const q = text[i++];
    let out = '';
    for (;;) {
      const ch = text[i++];
      if (ch === undefined) err('unterminated string');
      if (ch === q) return out;
      if (ch === '\\') {
        const e = text[i++];
        const map = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '/': '/', '\\': '\\', '"': '"', "'": "'" };
        if (e === 'u') {
          out += String.fromCharCode(Number.parseInt(text.slice(i, i + 4), 16));
          i += 4;
        } else if (e === '\n') {
          /* line continuation */
        } else if (e in map) out += map[e];
        else err(`bad escape \\${e}`);
      } else out += ch;
    }
  };
  const value = () => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const o = {};
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return o;
        }
        let k;
        if (text[i] === '"' || text[i] === "'") k = str();
        else {
          const m = /^[A-Za-z_$][\w$]*/.exec(text.slice(i));
          if (!m) err('bad key');
          k = m[0];
          i += k.length;
        }
        ws();
        if (text[i++] !== ':') err('expected :');
        o[k] = value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') err('expected , or }');
      }
    }
    if (ch === '[') {
      i++;
      const a = [];
      for (;;) {
        ws();
        if (text[i] === ']') {
          i++;
          return a;
        }
        a.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') err('expected , or ]');
      }
    }
    if (ch === '"' || ch === "'") return str();
    const m = /^(true|false|null|[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+))/.exec(text.slice(i));
    if (!m) err('bad value');
    i += m[0].length;
    return JSON.parse(m[0].replace(/^\+/, ''));
  };
  const v = value();
  ws();
  if (i < text.length) err('trailing text');
  return v;
}

// Template constants: "<dir>/<CONST>" -> path, read from templates/*/*_templates.py.
function templateConstants() {
  const out = {};
  const files = execFileSync(
    'git',
    ['--git-dir', GIT_DIR, 'ls-tree', '-r', '--name-only', COMMIT, `${SFN}templates/`],
    {
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter((f) => /_templates?\.py$/.test(f));
  for (const f of files) {
    const dir = f.split('/').slice(-2, -1)[0];
    const src = show(f);
    const re = /(\w+)(?::\s*Final\[str\])?\s*=\s*os\.path\.join\(\s*_THIS_FOLDER,\s*"([^"]+)"\s*,?\s*\)/g;
    for (const m of src.matchAll(re)) out[`${dir}/${m[1]}`] = `${dirname(f)}/${m[2]}`;
  }
  return out;
}

// ------------------------------------------------------------------ Lambda handlers used by the tests
const HANDLERS = {
  id_function: {
    source: `${SFN}templates/services/lambdafunctions/id_function.py`,
    behaviour: { returnsInput: true },
  },
  return_bytes_str: {
    source: `${SFN}templates/services/lambdafunctions/return_bytes_str.py`,
    behaviour: { returns: 'HelloWorld!' },
  },
  raise_exception: {
    source: `${SFN}templates/errorhandling/lambdafunctions/raise_exception.py`,
    behaviour: { throws: { name: 'Exception', message: 'Some exception was raised.' } },
  },
};

// ------------------------------------------------------------------ the tests (our reading of them)
// Each test: file (under v2/, without .py), name (Class::test), cases: {paramId|'': spec}.
// spec: template ('dir/CONST' or a path under templates/), edit(def) (mutates), input, lambda
// (handler key: the function is created under that name), arnIn ('definition' placeholder replaced by
// default), id, notes, skip (reason: left out).
const LAMBDA_PLACEHOLDER = '%LAMBDA_FUNCTION_ARN_LITERAL_PLACEHOLDER%';
const setState = (state, field, value) => (d) => {
  d.States[state][field] = value;
};
const replaceTbd = (literal) => (d) => {
  const walk = (o) => {
    for (const k of Object.keys(o)) {
      if (o[k] === '_tbd_') o[k] = `{% ${literal} %}`;
      else if (o[k] && typeof o[k] === 'object') walk(o[k]);
    }
  };
  walk(d);
};

const JSONPATH = 'JSONPath variant: outside the JSONata corpus';
const EJT_NUMBER = '{% $variable := 1 %}';
const EJT_STATE_INPUT = '{% $states.input.input_value %}';
const OUT_INPUT = { input_value: 'string literal', input_values: [1, 2, 3] };

const TESTS = [
  // ---------------------------------------------------------------- evaluate_jsonata
  {
    file: 'evaluate_jsonata/test_base_evaluate_expressions',
    out: 'jsonata-evaluate',
    name: 'TestBaseEvaluateJsonata::test_base_task',
    cases: {
      TIMEOUT_SECONDS: {
        template: 'evaluatejsonata/BASE_TASK',
        edit: setState('Start', 'TimeoutSeconds', EJT_NUMBER),
        input: {},
        lambda: 'id_function',
        notes: 'TimeoutSeconds given as a JSONata expression that evaluates to 1 ($variable := 1).',
      },
      HEARTBEAT_SECONDS: {
        template: 'evaluatejsonata/BASE_TASK',
        edit: setState('Start', 'HeartbeatSeconds', EJT_NUMBER),
        input: {},
        lambda: 'id_function',
        notes: 'HeartbeatSeconds given as a JSONata expression that evaluates to 1.',
      },
    },
  },
  {
    file: 'evaluate_jsonata/test_base_evaluate_expressions',
    out: 'jsonata-evaluate',
    name: 'TestBaseEvaluateJsonata::test_base_map',
    cases: {
      ITEMS: {
        template: 'evaluatejsonata/BASE_MAP',
        edit: setState('Start', 'Items', [1, '{% $number("2") %}', 3]),
        input: {},
        notes: 'Map Items given as an array literal whose element is a JSONata expression.',
      },
      ITEMS_DOUBLE_QUOTES: {
        template: 'evaluatejsonata/BASE_MAP',
        edit: setState('Start', 'Items', [1, "{% $number('2') %}", 3]),
        input: {},
        notes: 'Map Items array literal with a JSONata element using single-quoted string literals.',
      },
      MAX_CONCURRENCY: {
        template: 'evaluatejsonata/BASE_MAP',
        edit: setState('Start', 'MaxConcurrency', EJT_NUMBER),
        input: {},
        notes: 'MaxConcurrency given as a JSONata expression.',
      },
      TOLERATED_FAILURE_PERCENTAGE: {
        template: 'evaluatejsonata/BASE_MAP',
        edit: setState('Start', 'ToleratedFailurePercentage', EJT_NUMBER),
        input: {},
        notes: 'ToleratedFailurePercentage given as a JSONata expression (inline Map).',
      },
      TOLERATED_FAILURE_COUNT: {
        template: 'evaluatejsonata/BASE_MAP',
        edit: setState('Start', 'ToleratedFailureCount', EJT_NUMBER),
        input: {},
        notes: 'ToleratedFailureCount given as a JSONata expression (inline Map).',
      },
    },
  },
  {
    file: 'evaluate_jsonata/test_base_evaluate_expressions',
    out: 'jsonata-evaluate',
    name: 'TestBaseEvaluateJsonata::test_base_jsonata_regular_expressions',
    cases: Object.fromEntries(
      Object.entries({
        BASE: String.raw`{% $contains("hello$world", /^hello\$/) %}`,
        BASE_FALSE: String.raw`{% $contains("hello$world", /^hello\ /) %}`,
        BASE_SINGLE_QUOTE: String.raw`{% $contains('hello$world', /^hello\$/) %}`,
        BASE_SINGLE_QUOTE_FALSE: String.raw`{% $contains('hello$world', /^hello\ /) %}`,
      }).map(([k, expr]) => [
        k,
        {
          template: 'evaluatejsonata/BASE_PASS',
          edit: setState('Start', 'Output', expr),
          input: {},
          notes: 'Pass Output is a JSONata $contains with a regular expression literal (escaped $ / space).',
        },
      ]),
    ),
  },
  {
    file: 'evaluate_jsonata/test_base_evaluate_expressions',
    out: 'jsonata-evaluate',
    name: 'TestBaseEvaluateJsonata::test_merge_with_dynamic_args',
    cases: {
      '': {
        template: 'evaluatejsonata/BASE_PASS',
        edit: setState('Start', 'Output', '{% $merge([$states.input.part1, $states.input.part2]) %}'),
        input: { part1: { hello: 'world' }, part2: { foo: 'bar' } },
        notes: '$merge of an array literal built from $states.input references.',
      },
    },
  },
  {
    file: 'evaluate_jsonata/test_base_evaluate_expressions',
    out: 'jsonata-evaluate',
    name: 'TestBaseEvaluateJsonata::test_base_task_from_input',
    cases: {
      HEARTBEAT_SECONDS: {
        template: 'evaluatejsonata/BASE_TASK',
        edit: setState('Start', 'HeartbeatSeconds', EJT_STATE_INPUT),
        input: { input_value: 1 },
        lambda: 'id_function',
        notes: 'HeartbeatSeconds from $states.input.',
      },
    },
  },
  {
    file: 'evaluate_jsonata/test_base_evaluate_expressions',
    out: 'jsonata-evaluate',
    name: 'TestBaseEvaluateJsonata::test_base_map_from_input',
    cases: Object.fromEntries(
      Object.entries({
        ITEMS: ['Items', [1, 2, 3]],
        MAX_CONCURRENCY: ['MaxConcurrency', 1],
        TOLERATED_FAILURE_PERCENTAGE: ['ToleratedFailurePercentage', 100],
        TOLERATED_FAILURE_COUNT: ['ToleratedFailureCount', 1],
      }).map(([k, [field, value]]) => [
        k,
        {
          template: 'evaluatejsonata/BASE_MAP',
          edit: setState('Start', field, EJT_STATE_INPUT),
          input: { input_value: value },
          notes: `Map ${field} from $states.input.`,
        },
      ]),
    ),
  },
  // ---------------------------------------------------------------- query_language
  {
    file: 'query_language/test_base_query_language',
    out: 'jsonata-query-language',
    name: 'TestBaseQueryLanguage::test_base_query_language_field',
    cases: {
      JSON_PATH: { skip: `${JSONPATH}; already in cases/more.json (more-query-language-jsonpath-field)` },
      JSONATA: {
        template: 'querylanguage/BASE_PASS_JSONATA',
        input: {},
        notes: 'Top-level QueryLanguage JSONata on a bare Pass state.',
      },
    },
  },
  {
    file: 'query_language/test_base_query_language',
    out: 'jsonata-query-language',
    name: 'TestBaseQueryLanguage::test_query_language_field_override',
    cases: {
      JSONATA_OVERRIDE: {
        template: 'querylanguage/BASE_PASS_JSONATA_OVERRIDE',
        input: {},
        notes: 'A state-level QueryLanguage JSONata overriding the JSONPath default.',
      },
      JSONATA_OVERRIDE_DEFAULT: {
        template: 'querylanguage/BASE_PASS_JSONATA_OVERRIDE_DEFAULT',
        input: {},
        notes: 'State-level QueryLanguage JSONata with an explicit top-level JSONPath.',
      },
    },
  },
  {
    file: 'query_language/test_mixed_query_language',
    out: 'jsonata-query-language',
    name: 'TestMixedQueryLanguageFlow::test_variable_sampling',
    cases: {
      JSONATA_ASSIGN_JSONPATH_REF: {
        template: 'querylanguage/JSONATA_ASSIGN_JSONPATH_REF',
        input: {},
        notes: 'Variables assigned in a JSONata state, read by a JSONPath state.',
      },
      JSONPATH_ASSIGN_JSONATA_REF: {
        template: 'querylanguage/JSONPATH_ASSIGN_JSONATA_REF',
        input: {},
        notes: 'Variables assigned in a JSONPath state, read by a JSONata state.',
      },
    },
  },
  {
    file: 'query_language/test_mixed_query_language',
    out: 'jsonata-query-language',
    name: 'TestMixedQueryLanguageFlow::test_output_to_state',
    cases: {
      JSONATA_OUTPUT_TO_JSONPATH: {
        template: 'querylanguage/JSONATA_OUTPUT_TO_JSONPATH',
        input: { input_data: 'test' },
        notes: 'A JSONata state Output feeding a JSONPath state.',
      },
      JSONPATH_OUTPUT_TO_JSONATA: {
        template: 'querylanguage/JSONPATH_OUTPUT_TO_JSONATA',
        input: { input_data: 'test' },
        notes: 'A JSONPath state output feeding a JSONata state.',
      },
    },
  },
  {
    file: 'query_language/test_mixed_query_language',
    out: 'jsonata-query-language',
    name: 'TestMixedQueryLanguageFlow::test_task_dataflow_to_state',
    cases: {
      '': {
        template: 'querylanguage/JSONPATH_TO_JSONATA_DATAFLOW',
        input: { functionName: '@ARN' },
        lambda: 'id_function',
        notes:
          'JSONPath Pass (Result, ResultPath, Assign) into a JSONata lambda:invoke Task (Arguments, Assign, Output).',
      },
    },
  },
  {
    file: 'query_language/test_mixed_query_language',
    out: 'jsonata-query-language',
    name: 'TestMixedQueryLanguageFlow::test_lambda_task_resource_data_flow',
    cases: Object.fromEntries(
      [
        'TASK_LAMBDA_LEGACY_RESOURCE_JSONATA_TO_JSONPATH',
        'TASK_LAMBDA_SDK_RESOURCE_JSONATA_TO_JSONPATH',
        'TASK_LAMBDA_LEGACY_RESOURCE_JSONPATH_TO_JSONATA',
        'TASK_LAMBDA_SDK_RESOURCE_JSONPATH_TO_JSONATA',
      ].map((k) => [
        k,
        {
          template: `querylanguage/${k}`,
          input: {},
          lambda: 'id_function',
          notes: `Lambda ${k.includes('LEGACY') ? 'function-ARN' : 'lambda:invoke'} Task data flow between query languages (${k.split('RESOURCE_')[1]}).`,
        },
      ]),
    ),
  },
  // ---------------------------------------------------------------- outputdecl
  {
    file: 'outputdecl/test_output',
    out: 'jsonata-output',
    name: 'TestArgumentsBase::test_base_cases',
    cases: Object.fromEntries(
      ['BASE_EMPTY', 'BASE_LITERALS', 'BASE_EXPR', 'BASE_DIRECT_EXPR'].map((k) => [
        k,
        { template: `outputdecl/${k}`, input: OUT_INPUT, notes: `Output field: ${k.toLowerCase()}.` },
      ]),
    ),
  },
  {
    file: 'outputdecl/test_output',
    out: 'jsonata-output',
    name: 'TestArgumentsBase::test_base_lambda',
    cases: {
      BASE_LAMBDA: {
        template: 'outputdecl/BASE_LAMBDA',
        edit: (d, arn) => {
          d.States.State0.Resource = arn;
        },
        input: OUT_INPUT,
        lambda: 'id_function',
        notes:
          'Function-ARN Task with JSONata Arguments and Output ($states.input, $states.result, variables).',
      },
    },
  },
  {
    file: 'outputdecl/test_output',
    out: 'jsonata-output',
    name: 'TestArgumentsBase::test_base_task_lambda',
    cases: {
      BASE_TASK_LAMBDA: {
        template: 'outputdecl/BASE_TASK_LAMBDA',
        input: { FunctionName: '@NAME', Payload: OUT_INPUT },
        lambda: 'id_function',
        notes:
          'lambda:invoke Task, JSONata Arguments from $states.input and Output of $states.result (the invoke envelope).',
      },
    },
  },
  {
    file: 'outputdecl/test_output',
    out: 'jsonata-output',
    name: 'TestArgumentsBase::test_base_output_any_non_dict',
    cases: Object.fromEntries(
      Object.entries({
        NULL: null,
        INT: 0,
        FLOAT: 0.1,
        BOOL: true,
        STR_LIT: 'string literal',
        JSONATA_EXPR: '{% $states.input %}',
        LIST_EMPY: [],
        LIST_RICH: [
          null,
          0,
          0.1,
          true,
          'string',
          [],
          '$nosuchvar',
          '$.no.such.path',
          '{% $states.input %}',
          { key: '{% true %}' },
        ],
      }).map(([k, v]) => [
        k,
        {
          template: 'outputdecl/BASE_OUTPUT_ANY',
          edit: setState('State0', 'Output', v),
          input: { input_value: 'stringliteral' },
          notes: `Output set to a non-object value (${k}).`,
        },
      ]),
    ),
  },
  {
    file: 'outputdecl/test_output',
    out: 'jsonata-output',
    name: 'TestArgumentsBase::test_output_in_choice',
    cases: {
      CONDITION_TRUE: {
        template: 'outputdecl/CHOICE_CONDITION_JSONATA',
        input: { condition: true },
        notes: 'Output in a Choice rule (condition true).',
      },
      CONDITION_FALSE: {
        template: 'outputdecl/CHOICE_CONDITION_JSONATA',
        input: { condition: false },
        notes: 'Output in a Choice rule (condition false: Default).',
      },
    },
  },
  // ---------------------------------------------------------------- arguments
  {
    file: 'arguments/test_arguments',
    out: 'jsonata-arguments',
    name: 'TestArgumentsBase::test_base_cases',
    cases: Object.fromEntries(
      [
        'BASE_LAMBDA_EMPTY',
        'BASE_LAMBDA_LITERALS',
        'BASE_LAMBDA_EXPRESSION',
        'BASE_LAMBDA_EMPTY_GLOBAL_QL_JSONATA',
      ].map((k) => [
        k,
        {
          template: `arguments/${k}`,
          edit: (d, arn) => {
            d.States.State0.Resource = arn;
          },
          input: OUT_INPUT,
          lambda: 'id_function',
          notes: `Function-ARN Task Arguments: ${k.replace('BASE_LAMBDA_', '').toLowerCase()}.`,
        },
      ]),
    ),
  },
  // ---------------------------------------------------------------- intrinsic_functions (JSONata functions)
  {
    file: 'intrinsic_functions/test_array_jsonata',
    out: 'jsonata-functions',
    name: 'TestArrayJSONata::test_array_partition',
    multi: (() => {
      const inputs = [];
      for (let n = 1; n < 5; n++)
        for (let c = 1; c < 6; c++) inputs.push({ FunctionInput: { fst: [...Array(n).keys()], snd: c } });
      return inputs;
    })(),
    cases: {
      '': {
        template: 'intrinsicfunctions/ARRAY_PARTITION_JSONATA',
        notes: 'JSONata $partition (AWS-provided function).',
      },
    },
  },
  {
    file: 'intrinsic_functions/test_array_jsonata',
    out: 'jsonata-functions',
    name: 'TestArrayJSONata::test_array_range',
    multi: [
      [0, 9, 3],
      [0, 10, 3],
      [1, 9, 9],
      [1, 9, 2],
    ].map(([fst, snd, trd]) => ({ FunctionInput: { fst, snd, trd } })),
    cases: {
      '': {
        template: 'intrinsicfunctions/ARRAY_RANGE_JSONATA',
        notes: 'JSONata $range (AWS-provided function).',
      },
    },
  },
  {
    file: 'intrinsic_functions/test_json_manipulation_jsonata',
    out: 'jsonata-functions',
    name: 'TestJsonManipulationJSONata::test_parse',
    multi: ['-0', '1', '1.1', 'true', '"HelloWorld"', '[1, 2, "HelloWorld"]', '{"Arg1": 1, "Arg2": []}'].map(
      (v) => ({ FunctionInput: v }),
    ),
    cases: {
      '': { template: 'intrinsicfunctions/PARSE_JSONATA', notes: 'JSONata $parse (AWS-provided function).' },
    },
  },
  {
    file: 'intrinsic_functions/test_math_operations_jsonata',
    out: 'jsonata-functions',
    name: 'TestMathOperationsJSONata::test_math_random_seeded',
    // list({"fst": 3}) in the test is ["fst"]: one execution with FunctionInput "fst".
    multi: [{ FunctionInput: 'fst' }],
    cases: {
      '': {
        template: 'intrinsicfunctions/MATH_RANDOM_SEEDED_JSONATA',
        notes:
          'JSONata $randomSeeded (AWS-provided function); the test is skipped in LocalStack ("AWS does not compute function randomSeeded"); its input is list({"fst": 3}) = ["fst"], so FunctionInput is the string "fst".',
      },
    },
  },
  // ---------------------------------------------------------------- states_variables ($states.errorOutput)
  ...[
    [
      'test_task_catch_error_output',
      ['TASK_CATCH_ERROR_OUTPUT', 'TASK_CATCH_ERROR_OUTPUT_TO_JSONPATH'],
      { inputData: 'dummy' },
    ],
    [
      'test_catch_error_variable_sampling',
      ['TASK_CATCH_ERROR_VARIABLE_SAMPLING', 'TASK_CATCH_ERROR_VARIABLE_SAMPLING_TO_JSONPATH'],
      { inputData: 'dummy' },
    ],
    [
      'test_task_catch_error_with_retry',
      ['TASK_CATCH_ERROR_OUTPUT_WITH_RETRY', 'TASK_CATCH_ERROR_OUTPUT_WITH_RETRY_TO_JSONPATH'],
      { inputData: 'dummy' },
    ],
    [
      'test_map_catch_error',
      ['MAP_CATCH_ERROR_OUTPUT', 'MAP_CATCH_ERROR_OUTPUT_WITH_RETRY', 'MAP_CATCH_ERROR_VARIABLE_SAMPLING'],
      { items: [1, 2, 3] },
    ],
    [
      'test_parallel_catch_error',
      [
        'PARALLEL_CATCH_ERROR_OUTPUT',
        'PARALLEL_CATCH_ERROR_VARIABLE_SAMPLING',
        'PARALLEL_CATCH_ERROR_OUTPUT_WITH_RETRY',
      ],
      { inputData: 'dummy' },
    ],
  ].map(([test, ids, input]) => ({
    file: 'states_variables/test_error_output',
    out: 'jsonata-states-variables',
    name: `TestStateVariablesTemplate::${test}`,
    parallelTransformer: test === 'test_parallel_catch_error',
    cases: Object.fromEntries(
      ids.map((k) => [
        k,
        {
          template: `statevariables/${k}`,
          input,
          lambda: 'raise_exception',
          notes:
            `$states.errorOutput in a JSONata Catch (${k.toLowerCase().replace(/_/g, ' ')}).` +
            (test === 'test_map_catch_error'
              ? ' The test is skipped in LocalStack ("Items declarations is currently unsupported."); the recording is AWS\'s.'
              : '') +
            (test === 'test_parallel_catch_error'
              ? ' The test is skipped in LocalStack ("Review error workflow handling for parallel states."); the recording is AWS\'s.'
              : ''),
        },
      ]),
    ),
  })),
  // ---------------------------------------------------------------- assign (JSONata ones)
  {
    file: 'assign/test_assign_base',
    out: 'jsonata-assign',
    name: 'TestAssignBase::test_assign_in_choice',
    cases: {
      CONDITION_TRUE: {
        template: 'assign/CHOICE_CONDITION_JSONATA',
        input: { condition: true },
        notes: 'Assign in a JSONata Choice rule (condition true).',
      },
      CONDITION_FALSE: {
        template: 'assign/CHOICE_CONDITION_JSONATA',
        input: { condition: false },
        notes: 'Assign in a JSONata Choice (condition false: Default).',
      },
    },
  },
  {
    file: 'assign/test_assign_reference_variables',
    out: 'jsonata-assign',
    name: 'TestAssignReferenceVariables::test_undefined_reference',
    cases: Object.fromEntries(
      [
        'BASE_UNDEFINED_OUTPUT',
        'BASE_UNDEFINED_OUTPUT_FIELD',
        'BASE_UNDEFINED_OUTPUT_MULTIPLE_STATES',
        'BASE_UNDEFINED_ASSIGN',
        'BASE_UNDEFINED_ARGUMENTS',
        'BASE_UNDEFINED_ARGUMENTS_FIELD',
      ].map((k) => [
        k,
        {
          template: `assign/${k}`,
          input: {},
          notes: `Reference to an undefined variable in JSONata (${k.replace('BASE_UNDEFINED_', '').toLowerCase()}).`,
        },
      ]),
    ),
  },
  {
    file: 'assign/test_assign_reference_variables',
    out: 'jsonata-assign',
    name: 'TestAssignReferenceVariables::test_assign_in_catch_state',
    cases: {
      '': {
        template: 'assign/BASE_ASSIGN_IN_CATCH',
        input: { input_value: '@ARN' },
        lambda: 'raise_exception',
        notes:
          'Assign in a JSONata Catch binds $states.errorOutput; the state Assign is not applied on error.',
      },
    },
  },
  // ---------------------------------------------------------------- scenarios (JSONata ones)
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_map_state_item_selector',
    cases: {
      MAP_STATE_ITEM_SELECTOR: { skip: JSONPATH },
      MAP_STATE_ITEM_SELECTOR_JSONATA: {
        template: 'scenarios/MAP_STATE_ITEM_SELECTOR_JSONATA',
        input: {},
        notes: 'JSONata ItemSelector with $states.context.Map.Item.',
      },
    },
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_map_state_items_eval_jsonata_fail',
    cases: Object.fromEntries(
      Object.entries({
        number: '1',
        string: "'string'",
        boolean: 'true',
        object: "{'foo': 'bar'}",
        null: 'null',
        function: '$fn := function($x){$x}',
      }).map(([k, lit]) => [
        k,
        {
          template: 'scenarios/MAP_STATE_ITEMS_LITERAL',
          edit: replaceTbd(lit),
          input: {},
          notes: `Map Items evaluating to a non-array (${k}) fails the execution.`,
        },
      ]),
    ),
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_map_state_items_eval_jsonata',
    cases: Object.fromEntries(
      // the test formats a Python list into the expression: str([1, "two", 3]) is "[1, 'two', 3]"
      Object.entries({ empty: '[]', singleton: '[0]', mixed: "[1, 'two', 3]" }).map(([k, lit]) => [
        k,
        {
          template: 'scenarios/MAP_STATE_ITEMS_LITERAL',
          edit: replaceTbd(lit),
          input: {},
          notes: `Map Items from a JSONata array expression (${k}).`,
        },
      ]),
    ),
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_map_state_items_eval_jsonata_variable_sampling_fail',
    cases: Object.fromEntries(
      Object.entries({
        number: '1',
        string: "'string'",
        boolean: 'true',
        object: "{'foo': 'bar'}",
        null: 'null',
      }).map(([k, lit]) => [
        k,
        {
          template: 'scenarios/MAP_STATE_ITEMS_VARIABLE',
          edit: replaceTbd(lit),
          input: {},
          notes: `Map Items from a variable holding a non-array (${k}) fails the execution.`,
        },
      ]),
    ),
  },
  ...['test_choice_unsorted_parameters_positive', 'test_choice_unsorted_parameters_negative'].map((t) => ({
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: `TestBaseScenarios::${t}`,
    cases: {
      CHOICE_STATE_UNSORTED_CHOICE_PARAMETERS: { skip: JSONPATH },
      CHOICE_STATE_UNSORTED_CHOICE_PARAMETERS_JSONATA: {
        template: 'scenarios/CHOICE_STATE_UNSORTED_CHOICE_PARAMETERS_JSONATA',
        input: { result: { done: t.endsWith('positive') } },
        notes: `JSONata Choice with Condition before Next in the rule (${t.endsWith('positive') ? 'matches' : 'no match'}).`,
      },
    },
  })),
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_choice_condition_constant_jsonata',
    cases: {
      '': {
        template: 'scenarios/CHOICE_CONDITION_CONSTANT_JSONATA',
        input: {},
        notes: 'JSONata Choice Condition given as a constant.',
      },
    },
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_choice_aws_docs_scenario',
    cases: {
      CHOICE_STATE_AWS_SCENARIO: { skip: JSONPATH },
      CHOICE_STATE_AWS_SCENARIO_JSONATA: {
        template: 'scenarios/CHOICE_STATE_AWS_SCENARIO_JSONATA',
        input: { type: 'Private', value: 22 },
        notes: 'The AWS documentation Choice example in JSONata.',
      },
    },
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_choice_singleton_composite',
    cases: {
      CHOICE_STATE_SINGLETON_COMPOSITE: { skip: JSONPATH },
      CHOICE_STATE_SINGLETON_COMPOSITE_JSONATA: {
        template: 'scenarios/CHOICE_STATE_SINGLETON_COMPOSITE_JSONATA',
        input: { type: 'Public', value: 22 },
        notes: 'JSONata Choice with a composite condition.',
      },
      CHOICE_STATE_SINGLETON_COMPOSITE_LITERAL_JSONATA: {
        template: 'scenarios/CHOICE_STATE_SINGLETON_COMPOSITE_LITERAL_JSONATA',
        input: { type: 'Public', value: 22 },
        notes: 'JSONata Choice Condition given as a literal string.',
      },
    },
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_map_item_reader_base_json_max_items_jsonata',
    cases: {
      '': { skip: 'needs an S3 bucket and object (ItemReader s3:getObject): the adapter has no S3 fixture' },
    },
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_map_item_batching_base_json_max_per_batch_jsonata',
    cases: {
      '': { skip: 'needs an S3 bucket and object (ItemReader s3:getObject): the adapter has no S3 fixture' },
    },
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_wait_timestamp_jsonata',
    cases: {
      '': {
        skip: 'stale snapshot entry: the test is parametrized at this commit, this unparametrized recording belongs to an older version of the test',
      },
      ...Object.fromEntries(
        Object.entries({
          SECONDS: '2016-03-14T01:59:00Z',
          NANOSECONDS: '2016-03-05T21:29:29.243167252Z',
          NO_T: '2016-12-05 21:29:29Z',
          NO_Z: '2016-12-05T21:29:29',
          INVALID_DATE: '2016-13-05T21:29:29Z',
          INVALID_TIME: '2016-12-05T25:29:29Z',
          INVALID_ISO: '05-12-2016T21:29:29Z',
        }).map(([k, ts]) => [
          k,
          {
            template: 'scenarios/WAIT_TIMESTAMP_JSONATA',
            input: { TimestampValue: ts },
            notes: `Wait Timestamp from a JSONata expression (${k.toLowerCase().replace(/_/g, ' ')}: "${ts}").`,
          },
        ]),
      ),
    },
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_wait_timestamp_invalid',
    others: `${JSONPATH} (and a CreateStateMachine exception, not an execution)`,
    cases: {
      JSONATA: {
        skip: 'CreateStateMachine rejects the definition (exception, no execution): a case can only express executions',
      },
    },
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_wait_seconds_jsonata',
    cases: {
      '': {
        template: 'scenarios/WAIT_SECONDS_JSONATA',
        input: { waitSeconds: 0 },
        notes: 'Wait Seconds from a JSONata expression.',
      },
    },
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_fail_error_jsonata',
    cases: {
      '': {
        template: 'scenarios/RAISE_FAILURE_ERROR_JSONATA',
        input: { error: 'Exception' },
        notes: 'Fail Error from a JSONata expression.',
      },
    },
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_fail_cause_jsonata',
    cases: {
      '': {
        template: 'scenarios/RAISE_FAILURE_CAUSE_JSONATA',
        input: { cause: 'This failed to due an Exception.' },
        notes: 'Fail Cause from a JSONata expression.',
      },
    },
  },
  {
    file: 'scenarios/test_base_scenarios',
    out: 'jsonata-scenarios',
    name: 'TestBaseScenarios::test_escape_sequence_parsing',
    cases: {
      ESCAPE_SEQUENCES_STRING_LITERALS: { skip: JSONPATH },
      ESCAPE_SEQUENCES_JSONPATH: { skip: JSONPATH },
      ESCAPE_SEQUENCES_JSONATA_COMPARISON_OUTPUT: {
        template: 'scenarios/ESCAPE_SEQUENCES_JSONATA_COMPARISON_OUTPUT',
        input: { 'Test\\""Name"': 'Value"\\' },
        notes: 'JSONata string escapes compared and output.',
      },
      ESCAPE_SEQUENCES_JSONATA_COMPARISON_ASSIGN: {
        template: 'scenarios/ESCAPE_SEQUENCES_JSONATA_COMPARISON_ASSIGN',
        input: { 'Test\\""Name"': 'Value"\\' },
        notes: 'JSONata string escapes compared and assigned.',
      },
    },
  },
];

// ------------------------------------------------------------------ LocalStack transformers we undo or mask
// Each entry: a pattern of the placeholder the transformer left in a recorded string, and where the
// transformer is defined (the notes cite it).
const TF = 'localstack-core/localstack/testing/snapshots/transformer_utility.py';
const SU = 'localstack-core/localstack/testing/pytest/stepfunctions/utils.py';
const PLACEHOLDERS = [
  {
    re: /<uuid:\d+>/g,
    where: `${TF}:918 (KeyValueBasedTransformer "uuid": UUID values of keys ending in "id")`,
  },
  { re: /<request_id>/g, where: `${SU}:423 (RegexTransformer "Request ID: <request_id>")` },
  { re: /<extended_request_id>/g, where: `${SU}:417 (RegexTransformer "Extended Request ID")` },
  { re: /snf_role_arn/g, where: `${SU}:415 (RegexTransformer(snf_role_arn, "snf_role_arn"))` },
  { re: /<ArnPart_\d+idx>/g, where: `${TF}:713 (sfn_sm_create_arn)` },
  { re: /<ExecArnPart_\d+idx>/g, where: `${TF}:719 (sfn_sm_exec_arn)` },
  { re: /<MapRunArnPart\d_\d+idx>/g, where: `${TF}:741 (sfn_map_run_arn)` },
  {
    re: /<json-input:\d+>/g,
    where: `${TF}:799 (KeyValueBasedTransformer _transform_stepfunctions_cause_details)`,
  },
  { re: /<resource:\d+>/g, where: `${TF}:78 (resource_name: KeyValueBasedTransformer "resource")` },
  {
    re: /<partition>/g,
    where: 'the localstack-snapshot pytest plugin (external package: partition -> "<partition>")',
  },
  {
    re: /<region>/g,
    where: 'the localstack-snapshot pytest plugin (external package: region -> "<region>")',
  },
  {
    re: /111111111111/g,
    where: 'the localstack-snapshot pytest plugin (external package: account id -> "111111111111")',
  },
];
const FUNCTION_NAME_PLACEHOLDERS = ['<lambda-function-name>', 'lambda_function_name'];

// ------------------------------------------------------------------ helpers
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const pathKey = (k) =>
  typeof k === 'number' ? `[${k}]` : /^[A-Za-z_][\w-]*$/.test(k) ? `.${k}` : `['${k}']`;
const lineOf = (text, needle) => {
  const at = text.indexOf(needle);
  return at < 0 ? null : text.slice(0, at).split('\n').length;
};
function mapStrings(v, fn) {
  if (typeof v === 'string') return fn(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, fn));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, fn)]));
  return v;
}
// The snapshot stores JSON texts of input/output: parsed when they begin with "{", else the text.
const recordedJson = (v) => (typeof v === 'string' ? JSON.parse(v) : v);

// Recorded value vs. the value the test sent: strings holding placeholders match any string.
function sameAsRecorded(ours, rec, path, diffs) {
  if (typeof rec === 'string' && typeof ours === 'string') {
    if (rec === ours) return;
    const masked = PLACEHOLDERS.concat(FUNCTION_NAME_PLACEHOLDERS.map((p) => ({ re: new RegExp(p, 'g') })))
      .concat([{ re: /^date$/g }, { re: /^timestamp$/g }])
      .reduce((s, p) => s.replace(p.re, '\u0000'), rec);
    if (masked === rec) diffs.push(`${path}: ours ${JSON.stringify(ours)}, recorded ${JSON.stringify(rec)}`);
    return;
  }
  if (Array.isArray(rec) && Array.isArray(ours) && rec.length === ours.length) {
    for (let i = 0; i < rec.length; i++) sameAsRecorded(ours[i], rec[i], `${path}[${i}]`, diffs);
    return;
  }
  if (isObj(rec) && isObj(ours)) {
    for (const k of new Set([...Object.keys(rec), ...Object.keys(ours)]))
      sameAsRecorded(ours[k], rec[k], `${path}.${k}`, diffs);
    return;
  }
  if (JSON.stringify(rec) !== JSON.stringify(ours))
    diffs.push(`${path}: ours ${JSON.stringify(ours)}, recorded ${JSON.stringify(rec)}`);
}

// Features: what the definition exercises (for the interpreter author), computed from the definition.
const JSONATA_RE = /^\s*\{%([\s\S]*)%\}\s*$/;
function features(def, extra = []) {
  const f = new Set(extra);
  const top = def.QueryLanguage ?? 'JSONPath';
  const langs = new Set();
  const visitStates = (states, inherited) => {
    for (const st of Object.values(states ?? {})) {
      const ql = st.QueryLanguage ?? inherited;
      langs.add(ql);
      if (st.QueryLanguage) f.add('QueryLanguage:state');
      f.add(st.Type);
      if (st.Type === 'Task') {
        if (/^arn:aws:lambda:/.test(st.Resource)) f.add('Task:lambda-arn');
        else if (typeof st.Resource === 'string')
          f.add(`Task:${st.Resource.replace(/^arn:aws:states:::/, '')}`);
      }
      for (const k of [
        'Arguments',
        'Output',
        'Assign',
        'Items',
        'ItemSelector',
        'ItemReader',
        'ItemBatcher',
        'Parameters',
        'ResultSelector',
        'ResultPath',
        'InputPath',
        'OutputPath',
        'ItemsPath',
        'Result',
        'Retry',
        'Catch',
        'Default',
      ]) {
        if (k in st)
          f.add(
            ql === 'JSONata' && ['Arguments', 'Output', 'Assign', 'Items', 'ItemSelector'].includes(k)
              ? `JSONata:${k}`
              : k,
          );
      }
      for (const r of st.Choices ?? []) {
        if ('Condition' in r) f.add('JSONata:Condition');
        if ('Assign' in r) f.add('Choice:Assign');
        if ('Output' in r) f.add('Choice:Output');
      }
      for (const c of st.Catch ?? []) {
        if ('Assign' in c) f.add('Catch:Assign');
        if ('Output' in c) f.add('Catch:Output');
      }
      for (const k of [
        'TimeoutSeconds',
        'HeartbeatSeconds',
        'Seconds',
        'Timestamp',
        'MaxConcurrency',
        'ToleratedFailureCount',
        'ToleratedFailurePercentage',
        'Error',
        'Cause',
      ]) {
        if (typeof st[k] === 'string' && JSONATA_RE.test(st[k])) f.add(`JSONata:${k}`);
      }
      if (st.Iterator) visitStates(st.Iterator.States, ql);
      if (st.ItemProcessor) visitStates(st.ItemProcessor.States, ql);
      for (const b of st.Branches ?? []) visitStates(b.States, ql);
    }
  };
  visitStates(def.States, top);
  if (langs.has('JSONata')) f.add('QueryLanguage:JSONata');
  if (langs.has('JSONata') && langs.has('JSONPath')) f.add('QueryLanguage:mixed');
  // JSONata expressions: functions and $states fields used
  mapStrings(def, (s) => {
    const m = JSONATA_RE.exec(s);
    if (!m) return s;
    for (const fm of m[1].matchAll(/\$([A-Za-z_]\w*)\s*\(/g)) f.add(`JSONata:$${fm[1]}()`);
    for (const sm of m[1].matchAll(/\$states\.(\w+)/g)) f.add(`$states.${sm[1]}`);
    if (/:=/.test(m[1])) f.add('JSONata:binding');
    if (/\/[^/]+\/[im]*/.test(m[1]) && /\$(contains|match|replace|split)\(/.test(m[1]))
      f.add('JSONata:regex');
    return s;
  });
  return [...f];
}

// ------------------------------------------------------------------ building one case
function buildCase({
  test,
  spec,
  key,
  recordKey,
  recorded,
  history,
  input,
  tpl,
  testSource,
  parallelTransformer,
  idBase,
}) {
  const fnName = spec.lambda ?? null;
  const arn = fnName ? lambdaArn(fnName) : null;
  const definition = parseJson5(show(tpl));
  if (spec.edit) spec.edit(definition, arn);
  const def = mapStrings(definition, (s) => (arn ? s.split(LAMBDA_PLACEHOLDER).join(arn) : s));
  if (JSON.stringify(def).includes('%LAMBDA')) throw new Error(`${key}: unreplaced placeholder`);
  const caseInput = mapStrings(input, (s) => (s === '@ARN' ? arn : s === '@NAME' ? fnName : s));

  const events = history.events;
  const notes = [spec.notes];
  const problems = [];
  // the recorded input must be the one we send
  const startedInput = recordedJson(events[0].executionStartedEventDetails.input);
  const inputDiffs = [];
  sameAsRecorded(caseInput, startedInput, '$', inputDiffs);
  if (inputDiffs.length) problems.push(`input differs from the recording: ${inputDiffs.join('; ')}`);

  // the recording must be of this definition: every entered state exists in it
  const stateNames = new Set();
  const collect = (states) => {
    for (const [n, st] of Object.entries(states ?? {})) {
      stateNames.add(n);
      collect(st.Iterator?.States);
      collect(st.ItemProcessor?.States);
      for (const b of st.Branches ?? []) collect(b.States);
    }
  };
  collect(def.States);
  for (const e of events) {
    const n = e.stateEnteredEventDetails?.name;
    if (n !== undefined && !stateNames.has(n)) problems.push(`recorded state ${n} is not in the definition`);
  }
  const last = events[events.length - 1];
  const expected = {};
  const jsonStrings = [];
  const ignore = [];
  const distorted = new Map(); // where -> what
  switch (last.type) {
    case 'ExecutionSucceeded':
      expected.status = 'SUCCEEDED';
      expected.output = recordedJson(last.executionSucceededEventDetails.output);
      break;
    case 'ExecutionFailed': {
      expected.status = 'FAILED';
      const d = last.executionFailedEventDetails ?? {};
      expected.error = d.error ?? null;
      expected.cause = d.cause ?? null;
      if (isObj(expected.cause) || Array.isArray(expected.cause)) {
        // the snapshot parsed a cause that was JSON text ("{...}"); the execution reports the text
        expected.cause = JSON.stringify(expected.cause);
        jsonStrings.push('$.cause');
      }
      break;
    }
    case 'ExecutionTimedOut':
      expected.status = 'TIMED_OUT';
      break;
    default:
      throw new Error(`${key}: last event ${last.type}`);
  }

  // mask transformer placeholders; function names become the case's function name
  const mask = (s, path) => {
    let out = s;
    for (const p of FUNCTION_NAME_PLACEHOLDERS) {
      if (out.includes(p)) {
        if (!fnName) problems.push(`${path}: function-name placeholder without a function`);
        out = out.split(p).join(fnName);
        const line = lineOf(testSource, `"${p}"`);
        distorted.set(
          `function name`,
          `RegexTransformer(function_name, "${p}") (${SFN}v2/${test.file}.py${line ? `:${line}` : ''}) replaced the test's random function name, restored as this case's function name`,
        );
      }
    }
    for (const p of PLACEHOLDERS) {
      if (p.re.test(out)) {
        out = out.replace(p.re, '<*>');
        distorted.set(p.where, `${p.where} at ${path}`);
      }
      p.re.lastIndex = 0;
    }
    return out;
  };
  const walk = (v, path, key) => {
    if (typeof v === 'string') {
      // lambda error payloads kept as JSON text: compare decoded, ignore the per-invocation fields
      if (v.startsWith('{')) {
        try {
          const o = JSON.parse(v);
          if (isObj(o) && ('errorType' in o || 'errorMessage' in o)) {
            if (!jsonStrings.includes(path)) jsonStrings.push(path);
            ignore.push(`${path}.requestId?`, `${path}.stackTrace?`);
            return JSON.stringify(walk(o, path, null));
          }
        } catch {
          /* not JSON */
        }
      }
      if (key && /timestamp/i.test(key) && (v === 'timestamp' || v === 'date')) {
        distorted.set(
          'timestamp',
          `${TF}:930 (KeyValueBasedTransformer "timestamp": values of keys containing "timestamp") replaced ${path}; matched as <*>`,
        );
        return '<*>';
      }
      if (v === 'date') {
        distorted.set(
          'date',
          `${TF}:926 (RegexTransformer(PATTERN_ISO8601, "date")) replaced an ISO 8601 time at ${path}; matched as <*>`,
        );
        return '<*>';
      }
      return mask(v, path);
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`, null));
    if (isObj(v)) {
      const o = {};
      for (const [k, x] of Object.entries(v)) {
        const p = `${path}${pathKey(k)}`;
        // the lambda:invoke envelope's HTTP headers and request id: per request, kept as recorded, not compared
        if (k === 'SdkHttpMetadata' && isObj(x)) {
          ignore.push(`${p}.AllHttpHeaders`, `${p}.HttpHeaders`);
          distorted.set(
            'sdk',
            `the lambda:invoke envelope's SdkHttpMetadata headers (Date, request and trace ids, masked by ${TF}:762 stepfunctions_api and :926) and SdkResponseMetadata.RequestId are per request: kept as recorded, listed in \`ignore\``,
          );
          o[k] = x;
          continue;
        }
        if (k === 'SdkResponseMetadata' && isObj(x)) {
          ignore.push(`${p}.RequestId`);
          o[k] = x;
          continue;
        }
        o[k] = walk(x, p, k);
      }
      return o;
    }
    return v;
  };
  if ('output' in expected) expected.output = walk(expected.output, '$.output', null);
  if (typeof expected.error === 'string') expected.error = walk(expected.error, '$.error', null);
  if (typeof expected.cause === 'string') {
    if (jsonStrings.includes('$.cause')) {
      const o = walk(JSON.parse(expected.cause), '$.cause', null);
      expected.cause = JSON.stringify(o);
    } else expected.cause = walk(expected.cause, '$.cause', null);
  }

  // events: the ordered history types, unless a transformer rewrote the list or it is a partial page
  let eventTypes = events.map((e) => e.type);
  if (parallelTransformer) {
    eventTypes = undefined;
    notes.push(
      `No \`events\`: LocalStack's SfnNoneRecursiveParallelTransformer (${SU}:929, the slice assignment at :958) re-sorts the branch events and drops the event between ParallelStateSucceeded/Failed and ParallelStateExited from the stored list.`,
    );
  } else if (history.nextToken) {
    eventTypes = undefined;
    notes.push('No `events`: the recorded history is only the first page (nextToken present).');
  }
  for (const d of distorted.values()) notes.push(`Transformer: ${d}.`);
  if (jsonStrings.length)
    notes.push(
      `Lambda error payloads (${jsonStrings.join(', ')}) are JSON text: compared decoded; requestId and the Python stackTrace are per invocation/runtime and not compared.`,
    );

  const c = {
    id: idBase,
    source: {
      repo: `localstack/localstack@${COMMIT}`,
      template: tpl,
      snapshot: `${SFN}v2/${test.file}.snapshot.json`,
      test: `${test.name}${key}`,
      record: recordKey,
      recorded: recorded['recorded-date'],
    },
    features: features(
      def,
      expected.status === 'FAILED' && expected.error ? [`error:${expected.error}`] : [],
    ),
    definition: def,
    input: caseInput,
    lambdas: fnName ? { [fnName]: HANDLERS[fnName].behaviour } : {},
  };
  if (fnName) c.lambdaSources = { [fnName]: HANDLERS[fnName].source };
  c.expected = expected;
  if (eventTypes) c.events = eventTypes;
  c.jsonStrings = jsonStrings;
  c.ignore = [...new Set(ignore)];
  c.notes = notes.filter(Boolean).join(' ');
  return { c, problems };
}

// ------------------------------------------------------------------ structure check
// Uses the runner's own path parser (via compareCase on the expected values themselves) so every
// `ignore`/`jsonStrings` path is one the runner accepts, and every case compares equal to its own
// expected outcome.
async function checkCases(all) {
  const { compareCase } = await import(resolve(HERE, '../runner.mjs'));
  const errors = [];
  const ids = new Set();
  // Ids of the rest of the corpus (the JSONata files themselves are `all`).
  for (const f of readdirSync(CASES).filter((name) => !/^jsonata-.*\.json$/.test(name)))
    for (const c of JSON.parse(readFileSync(join(CASES, f), 'utf8'))) ids.add(c.id);
  const seen = new Set();
  for (const c of all) {
    const e = (m) => errors.push(`${c.id}: ${m}`);
    if (!/^(jsonata|teststate)-[a-z0-9-]+$/.test(c.id ?? '')) e('bad id');
    if (seen.has(c.id) || ids.has(c.id)) e('duplicate id');
    seen.add(c.id);
    for (const k of ['repo', 'template', 'snapshot', 'test', 'record', 'recorded'])
      if (typeof c.source?.[k] !== 'string') e(`source.${k}`);
    if (!isObj(c.definition) || !c.definition.StartAt || !isObj(c.definition.States)) e('definition');
    if (!['SUCCEEDED', 'FAILED', 'TIMED_OUT'].includes(c.expected?.status)) e('expected.status');
    if (c.expected.status === 'SUCCEEDED' && !('output' in c.expected)) e('expected.output');
    for (const [n, b] of Object.entries(c.lambdas ?? {}))
      if (!isObj(b) || !Object.keys(b).length) e(`lambda ${n}`);
    if (c.events && (!Array.isArray(c.events) || c.events[0] !== 'ExecutionStarted')) e('events');
    if (
      !Array.isArray(c.features) ||
      !Array.isArray(c.jsonStrings) ||
      !Array.isArray(c.ignore) ||
      typeof c.notes !== 'string'
    )
      e('fields');
    // a runtime that returned exactly the recording (wildcards filled by any text) must pass
    try {
      const fill = (v) => mapStrings(v, (s) => s.split('<*>').join('x'));
      const result = { status: c.expected.status, events: c.events };
      if ('output' in c.expected) result.output = fill(c.expected.output);
      if (c.expected.error != null) result.error = fill(c.expected.error);
      if (c.expected.cause != null) result.cause = fill(c.expected.cause);
      const diffs = compareCase(c, result);
      if (diffs.length) e(`self-compare: ${diffs.join('; ')}`);
    } catch (err) {
      e(`runner: ${err.message}`);
    }
  }
  return errors;
}

// The repository's formatter (biome) checks conformance/pending: format what we wrote when it is installed.
function formatWithBiome(files) {
  const biome = resolve(HERE, '../../node_modules/.bin/biome');
  try {
    execFileSync(biome, ['format', '--write', ...files], { stdio: 'ignore' });
  } catch {
    /* not installed: the JSON is valid as written */
  }
}

// ------------------------------------------------------------------ main
async function main() {
  const argv = process.argv.slice(2);
  const check = argv.includes('--check');
  const ci = argv.indexOf('--commit');
  const pendingFiles = () => readdirSync(PENDING).filter((f) => /^jsonata-.*\.json$/.test(f));
  if (check) {
    const all = pendingFiles().flatMap((f) => JSON.parse(readFileSync(join(PENDING, f), 'utf8')));
    const errors = await checkCases(all);
    for (const e of errors) console.error(e);
    console.log(`${all.length} cases, ${errors.length} problems`);
    process.exit(errors.length ? 1 : 0);
  }
  GIT_DIR = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--commit');
  if (!GIT_DIR) {
    console.error('usage: node localstack-jsonata.mjs <localstack git dir> [--commit SHA] [--check]');
    process.exit(2);
  }
  COMMIT = ci >= 0 ? argv[ci + 1] : DEFAULT_COMMIT;
  const consts = templateConstants();
  const byFile = new Map();
  const snapshots = new Map();
  const sources = new Map();
  const left = [];
  const report = [];
  const covered = new Set();
  for (const test of TESTS) {
    const snapPath = `${SFN}v2/${test.file}.snapshot.json`;
    if (!snapshots.has(snapPath)) snapshots.set(snapPath, JSON.parse(show(snapPath)));
    if (!sources.has(test.file)) sources.set(test.file, show(`${SFN}v2/${test.file}.py`));
    const snap = snapshots.get(snapPath);
    const prefix = `${SFN}v2/${test.file}.py::${test.name}`;
    const keys = Object.keys(snap).filter((k) => k === prefix || k.startsWith(`${prefix}[`));
    for (const full of keys) {
      covered.add(full);
      const param = full.slice(prefix.length).replace(/^\[|\]$/g, '');
      const key = full.slice(prefix.length);
      const spec = test.cases[param];
      if (!spec) {
        left.push(
          `${test.name}${key}: ` +
            (key === ''
              ? 'stale snapshot entry (the test is parametrized at this commit; an older version recorded it)'
              : (test.others ?? 'no spec')),
        );
        continue;
      }
      if (spec.skip) {
        left.push(`${test.name}${key}: ${spec.skip}`);
        continue;
      }
      const tpl = consts[spec.template] ?? `${SFN}templates/${spec.template}`;
      const recorded = snap[full];
      const content = recorded['recorded-content'];
      const idBase =
        `${test.out}-${test.name.split('::')[1].replace(/^test_/, '')}${param ? `-${param}` : ''}`
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/-+$/, '');
      const records = test.multi
        ? test.multi.map((input, i) => ({ recordKey: `exec_hist_resp_${i}`, input, id: `${idBase}-${i}` }))
        : [{ recordKey: 'get_execution_history', input: spec.input, id: idBase }];
      for (const r of records) {
        const history = content[r.recordKey];
        if (!history) {
          left.push(`${test.name}${key} ${r.recordKey}: no recording`);
          continue;
        }
        const { c, problems } = buildCase({
          test,
          spec,
          key,
          recordKey: r.recordKey,
          recorded,
          history,
          input: r.input,
          tpl,
          testSource: sources.get(test.file),
          parallelTransformer: test.parallelTransformer,
          idBase: r.id,
        });
        for (const p of problems) report.push(`${c.id}: ${p}`);
        if (!byFile.has(test.out)) byFile.set(test.out, []);
        byFile.get(test.out).push(c);
      }
    }
    for (const p of Object.keys(test.cases)) {
      const full = `${prefix}${p ? `[${p}]` : ''}`;
      if (!keys.includes(full)) left.push(`${test.name}${p ? `[${p}]` : ''}: listed but no snapshot entry`);
    }
  }
  const all = [...byFile.values()].flat();
  const errors = await checkCases(all);
  const written = [];
  for (const [out, cases] of byFile) {
    written.push(join(PENDING, `${out}.json`));
    writeFileSync(written.at(-1), `${JSON.stringify(cases, null, 2)}\n`);
  }
  formatWithBiome(written);
  for (const [out, cases] of byFile) console.log(`${out}.json: ${cases.length}`);
  console.log(`total ${all.length}`);
  if (left.length) console.log(`left out:\n  ${left.join('\n  ')}`);
  if (report.length) console.log(`review:\n  ${report.join('\n  ')}`);
  if (errors.length) {
    console.error(`structure problems:\n  ${errors.join('\n  ')}`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(2);
  });
}

function setGit(gitDir, commit = DEFAULT_COMMIT) {
  GIT_DIR = gitDir;
  COMMIT = commit;
}

export {
  DEFAULT_COMMIT,
  FUNCTION_NAME_PLACEHOLDERS,
  features,
  HANDLERS,
  isObj,
  lambdaArn,
  lineOf,
  mapStrings,
  PLACEHOLDERS,
  parseJson5,
  pathKey,
  SFN,
  sameAsRecorded,
  setGit,
  show,
  TF,
  templateConstants,
};
