#!/usr/bin/env node
// Converts LocalStack's AWS-validated TestState API snapshot tests (tests/aws/services/stepfunctions/v2/
// test_state/) into TestState cases, written to ../pending/teststate-*.json. The format is described in
// ../pending/README.md; the shared helpers (JSON5 reader, template constants, transformer placeholders)
// are those of ./localstack-jsonata.mjs.
//
//   node conformance/convert/localstack-teststate.mjs <localstack git dir> [--commit SHA] [--check]
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
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
  setGit,
  show,
  TF,
  templateConstants,
} from './localstack-jsonata.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PENDING = resolve(HERE, '../pending');
const ROLE = '<roleArn>'; // the adapter's Step Functions role
// TestStateOutput members that are JSON text (the SDK returns strings there)
const JSON_TEXT = ['output'];
const JSON_TEXT_INSPECTION = [
  'input',
  'afterArguments',
  'afterInputPath',
  'afterParameters',
  'result',
  'afterResultSelector',
  'afterResultPath',
  'variables',
  'afterItemsPath',
  'afterItemSelector',
  'afterItemBatcher',
  'afterItemsPointer',
];

const HELLO_WORLD_INPUT = { Value: 'HelloWorld' };
const NESTED_DICT_INPUT = {
  initialData: { fieldFromInput: 'value from input', otherField: 'other' },
  unrelatedData: { someOtherField: 1234 },
};
const BASE_BINDINGS = {
  BASE_PASS_STATE: HELLO_WORLD_INPUT,
  BASE_RESULT_PASS_STATE: HELLO_WORLD_INPUT,
  IO_PASS_STATE: NESTED_DICT_INPUT,
  IO_RESULT_PASS_STATE: NESTED_DICT_INPUT,
  BASE_FAIL_STATE: HELLO_WORLD_INPUT,
  BASE_SUCCEED_STATE: HELLO_WORLD_INPUT,
  BASE_CHOICE_STATE: { type: 'Private', value: 22 },
};
const LEVELS = ['INFO', 'DEBUG', 'TRACE'];
const JSONATA_NUMBER_EXPRESSION = '{% $variable := 1 %}';

// Each test: file (under v2/test_state/), name, cases {paramId: spec}; spec: template, edit(def, arn),
// requests: [{record, params}] (params as the SDK takes them, definition given as an object here and
// serialised), lambda (handler key), notes, skip.
const one = (params) => [{ record: 'test_case_response', params }];
const TESTS = [
  ...['info', 'debug', 'trace'].map((level) => ({
    file: 'test_test_state_scenarios',
    out: 'teststate-scenarios',
    name: `TestStateCaseScenarios::test_base_inspection_level_${level}`,
    cases: {
      ...Object.fromEntries(
        Object.entries(BASE_BINDINGS).map(([k, input]) => [
          k,
          {
            template: `test_state/${k}`,
            requests: one({ roleArn: ROLE, input, inspectionLevel: level.toUpperCase() }),
            notes: `TestState of a single ${k
              .replace(/_STATE$/, '')
              .toLowerCase()
              .replace(/_/g, ' ')} state, inspection level ${level.toUpperCase()}.`,
          },
        ]),
      ),
      BASE_MAP_STATE: { skip: 'empty recording (a removed parametrisation)' },
    },
  })),
  {
    file: 'test_test_state_scenarios',
    out: 'teststate-scenarios',
    name: 'TestStateCaseScenarios::test_base_lambda_task_state',
    cases: Object.fromEntries(
      LEVELS.map((level) => [
        level,
        {
          template: 'test_state/BASE_LAMBDA_TASK_STATE',
          edit: (d, arn) => {
            d.Resource = arn;
          },
          lambda: 'return_bytes_str',
          requests: one({ roleArn: ROLE, input: { inputData: 'HelloWorld' }, inspectionLevel: level }),
          notes: `TestState of a function-ARN Lambda Task (the function returns the JSON text "HelloWorld!"), ${level}.`,
        },
      ]),
    ),
  },
  {
    file: 'test_test_state_scenarios',
    out: 'teststate-scenarios',
    name: 'TestStateCaseScenarios::test_base_lambda_service_task_state',
    cases: Object.fromEntries(
      LEVELS.map((level) => [
        level,
        {
          template: 'test_state/BASE_LAMBDA_SERVICE_TASK_STATE',
          lambda: 'id_function',
          requests: one({
            roleArn: ROLE,
            input: { FunctionName: '@NAME', Payload: null },
            inspectionLevel: level,
          }),
          notes: `TestState of a lambda:invoke Task, ${level}.`,
        },
      ]),
    ),
  },
  {
    file: 'test_test_state_scenarios',
    out: 'teststate-scenarios',
    name: 'TestStateCaseScenarios::test_base_lambda_service_task_state_no_role_arn_validation',
    cases: {
      '': {
        template: 'test_state/BASE_LAMBDA_SERVICE_TASK_STATE',
        fnName: 'id_function',
        requests: [
          {
            record: 'validation_exception',
            params: { input: { FunctionName: '@NAME', Payload: null }, inspectionLevel: 'TRACE' },
          },
        ],
        notes:
          'TestState of a Task state without roleArn is a ValidationException (the function need not exist).',
      },
    },
  },
  {
    file: 'test_test_state_scenarios',
    out: 'teststate-scenarios',
    name: 'TestStateCaseScenarios::test_base_map_state_inspect',
    cases: Object.fromEntries(
      ['MAX_CONCURRENCY', 'TOLERATED_FAILURE_PERCENTAGE', 'TOLERATED_FAILURE_COUNT'].flatMap((field) =>
        LEVELS.map((level) => [
          `${field}-${level}`,
          {
            template: 'test_state/BASE_MAP_STATE',
            edit: (d) => {
              const name = {
                MAX_CONCURRENCY: 'MaxConcurrency',
                TOLERATED_FAILURE_PERCENTAGE: 'ToleratedFailurePercentage',
                TOLERATED_FAILURE_COUNT: 'ToleratedFailureCount',
              }[field];
              d[name] = JSONATA_NUMBER_EXPRESSION;
            },
            requests: one({
              roleArn: ROLE,
              input: { Values: [1, 2, 3] },
              inspectionLevel: level,
              mock: { result: JSON.stringify([1, 1, 1]) },
            }),
            notes: `TestState of a distributed Map with a mocked result and ${field.toLowerCase().replace(/_/g, ' ')} from a JSONata expression, ${level}.`,
          },
        ]),
      ),
    ),
  },
  {
    file: 'test_test_state_scenarios',
    out: 'teststate-scenarios',
    name: 'TestStateCaseScenarios::test_base_map_state_inspect_trace',
    cases: {
      MAX_CONCURRENCY: {
        skip: 'stale snapshot entry (the test is not at this commit; replaced by test_base_map_state_inspect)',
      },
      TOLERATED_FAILURE_PERCENTAGE: { skip: 'stale snapshot entry (the test is not at this commit)' },
      TOLERATED_FAILURE_COUNT: { skip: 'stale snapshot entry (the test is not at this commit)' },
    },
  },
  {
    file: 'test_test_state_scenarios',
    out: 'teststate-scenarios',
    name: 'TestStateCaseScenarios::test_state_task_catch_error',
    cases: Object.fromEntries(
      LEVELS.map((level) => [
        level,
        {
          template: 'test_state/BASE_TASK_STATE_CATCH',
          requests: [
            {
              record: 'test_catch_mock_exception_response',
              params: {
                roleArn: ROLE,
                input: HELLO_WORLD_INPUT,
                inspectionLevel: level,
                mock: { errorOutput: { error: 'MockException', cause: 'Mock the cause of the error.' } },
              },
            },
            {
              record: 'catch_task_failed_response',
              params: {
                roleArn: ROLE,
                input: HELLO_WORLD_INPUT,
                inspectionLevel: level,
                mock: { errorOutput: { error: 'States.TaskFailed', cause: 'The task failed.' } },
              },
            },
          ],
          notes: `TestState of a JSONata Task whose mocked error is caught (Catch Output {% $states %}), ${level}.`,
        },
      ]),
    ),
  },
  {
    file: 'test_test_state_scenarios',
    out: 'teststate-scenarios',
    name: 'TestStateCaseScenarios::test_localstack_blogpost_scenario',
    cases: {
      '': {
        template: 'test_state/LOCALSTACK_BLOGPOST_SCENARIO_STATE_MACHINE',
        edit: (d) => {
          d.States['Ask for Approval'].Arguments.ApiEndpoint = 'example.execute-api.us-east-1.amazonaws.com';
        },
        requests: [
          ['small_purchase_approval_required_response', { cost: 9 }, 'Approval Required'],
          ['large_purchase_approval_required_response', { cost: 10 }, 'Approval Required'],
          [
            'large_purchase_ask_for_approval_response',
            { cost: 10 },
            'Ask for Approval',
            { result: '{"approval": true }' },
          ],
          [
            'check_approval_granted_response',
            { approval: true, approval_code: '2387462', approved_by: 'Mary' },
            'Check Approval',
          ],
          ['check_approval_denied_response', { approval: false }, 'Check Approval'],
        ].map(([record, input, stateName, mock]) => ({
          record,
          params: { input, stateName, ...(mock ? { mock } : {}), inspectionLevel: 'TRACE' },
        })),
        notes:
          'TestState of single states (stateName) of a whole JSONata state machine, no roleArn; the API Gateway Task is mocked. The test sets ApiEndpoint from its region fixture (here us-east-1; the mock makes the value irrelevant).',
      },
    },
  },
  {
    file: 'test_test_state_scenarios',
    out: 'teststate-scenarios',
    name: 'TestStateCaseScenarios::test_state_with_variables',
    cases: {
      base_expressions: {
        template: 'outputdecl/BASE_EXPR',
        requests: one({
          stateName: 'State0',
          input: { input_values: [1, 2, 3] },
          variables: JSON.stringify({ var_input_value: 'test_value', var_constant_1: 10 }),
          inspectionLevel: 'TRACE',
        }),
        notes: 'TestState of one JSONata state of a state machine with variables supplied by the request.',
      },
      empty_variables: {
        template: 'outputdecl/BASE_LITERALS',
        requests: one({
          stateName: 'State0',
          input: { input_values: [1, 2, 3] },
          variables: '{}',
          inspectionLevel: 'TRACE',
        }),
        notes: 'TestState of a JSONata state with literal Output and empty variables.',
      },
    },
  },
];

// ------------------------------------------------------------------ one case
function buildCase({ test, spec, key, recorded, req, tpl, testSource, id }) {
  const fnName = spec.lambda ?? spec.fnName ?? null;
  const arn = fnName ? lambdaArn(fnName) : null;
  const definition = parseJson5(show(tpl));
  if (spec.edit) spec.edit(definition, arn);
  const sub = (v) => mapStrings(v, (s) => (s === '@NAME' ? fnName : s === '@ARN' ? arn : s));
  const params = { definition: JSON.stringify(definition), ...sub(req.params) };
  params.input = JSON.stringify(params.input);
  const notes = [spec.notes];
  const distorted = new Map();
  const jsonStrings = [];
  const ignore = [];
  const content = recorded['recorded-content'][req.record];
  const mask = (s, path) => {
    let out = s;
    for (const p of FUNCTION_NAME_PLACEHOLDERS.concat(['<lambda_function_name>'])) {
      if (out.includes(p) && fnName) {
        out = out.split(p).join(fnName);
        const line = lineOf(testSource, `"${p}"`);
        distorted.set(
          'fn',
          `RegexTransformer(function_name, "${p}") (${SFN}v2/test_state/${test.file}.py${line ? `:${line}` : ''}) replaced the test's random function name, restored as this case's function name`,
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
    if (out === 'date') {
      distorted.set(
        'date',
        `${TF}:926 (RegexTransformer(PATTERN_ISO8601, "date")) replaced ISO 8601 times (e.g. ${path}); matched as <*>`,
      );
      return '<*>';
    }
    return out;
  };
  const walk = (v, path) => {
    if (typeof v === 'string') return mask(v, path);
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (isObj(v)) {
      const o = {};
      for (const [k, x] of Object.entries(v)) {
        const p = `${path}${pathKey(k)}`;
        if (k === 'SdkHttpMetadata' && isObj(x)) {
          ignore.push(`${p}.AllHttpHeaders`, `${p}.HttpHeaders`);
          distorted.set(
            'sdk',
            `the lambda:invoke envelope's SdkHttpMetadata headers and SdkResponseMetadata.RequestId are per request (masked by ${TF}:762 stepfunctions_api): kept as recorded, listed in \`ignore\``,
          );
          o[k] = x;
          continue;
        }
        if (k === 'SdkResponseMetadata' && isObj(x)) {
          ignore.push(`${p}.RequestId`);
          o[k] = x;
          continue;
        }
        o[k] = walk(x, p);
      }
      return o;
    }
    return v;
  };
  const expected = {};
  if (content.Error) {
    expected.exception = {
      code: content.Error.Code,
      message: walk(content.Error.Message, '$.exception.message'),
    };
  } else {
    const { ResponseMetadata, ...response } = content;
    // JSON-text members: the snapshot parsed those that began with "{"; the case keeps JSON text
    const asText = (holder, k, path) => {
      if (!(k in holder)) return;
      const v = holder[k];
      holder[k] = JSON.stringify(walk(typeof v === 'string' ? JSON.parse(v) : v, path));
      jsonStrings.push(path);
    };
    const walked = {};
    for (const [k, v] of Object.entries(response)) {
      if (JSON_TEXT.includes(k) || k === 'inspectionData') walked[k] = v;
      else walked[k] = walk(v, `$.response.${k}`);
    }
    for (const k of JSON_TEXT) asText(walked, k, `$.response.${k}`);
    if (isObj(walked.inspectionData)) {
      const ins = {};
      for (const [k, v] of Object.entries(walked.inspectionData))
        ins[k] = JSON_TEXT_INSPECTION.includes(k) ? v : walk(v, `$.response.inspectionData.${k}`);
      for (const k of JSON_TEXT_INSPECTION) asText(ins, k, `$.response.inspectionData.${k}`);
      walked.inspectionData = ins;
    }
    expected.response = walked;
  }
  for (const d of distorted.values()) notes.push(`Transformer: ${d}.`);
  return {
    id,
    source: {
      repo: `localstack/localstack@${COMMIT}`,
      template: tpl,
      snapshot: `${SFN}v2/test_state/${test.file}.snapshot.json`,
      test: `${test.name}${key}`,
      record: req.record,
      recorded: recorded['recorded-date'],
    },
    features: features(definition.States ? definition : { StartAt: 'S', States: { S: definition } }),
    request: params,
    lambdas: spec.lambda ? { [fnName]: HANDLERS[fnName].behaviour } : {},
    ...(spec.lambda ? { lambdaSources: { [fnName]: HANDLERS[fnName].source } } : {}),
    expected,
    jsonStrings,
    ignore: [...new Set(ignore)],
    notes: notes.filter(Boolean).join(' '),
  };
}

// ------------------------------------------------------------------ structure check
async function checkCases(all) {
  const { compareCase } = await import(resolve(HERE, '../runner.mjs'));
  const errors = [];
  const seen = new Set();
  for (const c of all) {
    const e = (m) => errors.push(`${c.id}: ${m}`);
    if (!/^teststate-[a-z0-9-]+$/.test(c.id)) e('bad id');
    if (seen.has(c.id)) e('duplicate id');
    seen.add(c.id);
    for (const k of ['repo', 'template', 'snapshot', 'test', 'record', 'recorded'])
      if (typeof c.source?.[k] !== 'string') e(`source.${k}`);
    if (typeof c.request?.definition !== 'string') e('request.definition');
    else JSON.parse(c.request.definition);
    for (const k of ['input', 'variables', 'context'])
      if (k in c.request && typeof c.request[k] !== 'string') e(`request.${k} not a string`);
    if (!!c.expected.response === !!c.expected.exception) e('expected: one of response, exception');
    if (
      c.expected.response &&
      !['SUCCEEDED', 'FAILED', 'RETRIABLE', 'CAUGHT_ERROR'].includes(c.expected.response.status)
    )
      e('status');
    // paths and JSON texts through the runner's comparison: the recording must match itself
    if (c.expected.response) {
      try {
        const fill = (v) => mapStrings(v, (s) => s.split('<*>').join('x'));
        const asCase = {
          expected: { status: 'SUCCEEDED', output: c.expected.response },
          jsonStrings: c.jsonStrings.map((p) => p.replace('$.response', '$.output')),
          ignore: c.ignore.map((p) => p.replace('$.response', '$.output')),
        };
        const diffs = compareCase(asCase, { status: 'SUCCEEDED', output: fill(c.expected.response) });
        if (diffs.length) e(`self-compare: ${diffs.join('; ')}`);
      } catch (err) {
        e(`runner: ${err.message}`);
      }
    }
  }
  return errors;
}

// ------------------------------------------------------------------ main
let COMMIT;
async function main() {
  const argv = process.argv.slice(2);
  const pendingFiles = () => readdirSync(PENDING).filter((f) => /^teststate-.*\.json$/.test(f));
  if (argv.includes('--check')) {
    const all = pendingFiles().flatMap((f) => JSON.parse(readFileSync(join(PENDING, f), 'utf8')));
    const errors = await checkCases(all);
    for (const e of errors) console.error(e);
    console.log(`${all.length} cases, ${errors.length} problems`);
    process.exit(errors.length ? 1 : 0);
  }
  const ci = argv.indexOf('--commit');
  const gitDir = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--commit');
  if (!gitDir) {
    console.error('usage: node localstack-teststate.mjs <localstack git dir> [--commit SHA] [--check]');
    process.exit(2);
  }
  COMMIT = ci >= 0 ? argv[ci + 1] : DEFAULT_COMMIT;
  setGit(gitDir, COMMIT);
  const consts = templateConstants();
  const byFile = new Map();
  const left = [];
  const snaps = new Map();
  for (const test of TESTS) {
    const snapPath = `${SFN}v2/test_state/${test.file}.snapshot.json`;
    if (!snaps.has(snapPath))
      snaps.set(snapPath, {
        snap: JSON.parse(show(snapPath)),
        src: show(`${SFN}v2/test_state/${test.file}.py`),
      });
    const { snap, src } = snaps.get(snapPath);
    const prefix = `${SFN}v2/test_state/${test.file}.py::${test.name}`;
    const keys = Object.keys(snap).filter((k) => k === prefix || k.startsWith(`${prefix}[`));
    for (const full of keys) {
      const key = full.slice(prefix.length);
      const param = key.replace(/^\[|\]$/g, '');
      const spec = test.cases[param];
      if (!spec || spec.skip) {
        left.push(`${test.name}${key}: ${spec?.skip ?? 'no spec'}`);
        continue;
      }
      const tpl = consts[spec.template] ?? `${SFN}templates/${spec.template}`;
      const base = `${test.out}-${test.name.split('::')[1].replace(/^test_/, '')}${param ? `-${param}` : ''}`
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/-+$/, '');
      for (const req of spec.requests) {
        if (!snap[full]['recorded-content'][req.record]) {
          left.push(`${test.name}${key} ${req.record}: no recording`);
          continue;
        }
        const id =
          spec.requests.length > 1
            ? `${base}-${req.record.replace(/_response$/, '').replace(/_/g, '-')}`
            : base;
        const c = buildCase({ test, spec, key, recorded: snap[full], req, tpl, testSource: src, id });
        if (!byFile.has(test.out)) byFile.set(test.out, []);
        byFile.get(test.out).push(c);
      }
    }
    for (const p of Object.keys(test.cases)) {
      if (!keys.includes(`${prefix}${p ? `[${p}]` : ''}`) && !test.cases[p].skip)
        left.push(`${test.name}[${p}]: listed but no snapshot entry`);
    }
  }
  const all = [...byFile.values()].flat();
  const errors = await checkCases(all);
  const written = [];
  for (const [out, cases] of byFile) {
    written.push(join(PENDING, `${out}.json`));
    writeFileSync(written.at(-1), `${JSON.stringify(cases, null, 2)}\n`);
    console.log(`${out}.json: ${cases.length}`);
  }
  try {
    execFileSync(resolve(HERE, '../../node_modules/.bin/biome'), ['format', '--write', ...written], {
      stdio: 'ignore',
    });
  } catch {
    /* formatter not installed */
  }
  if (left.length) console.log(`left out:\n  ${left.join('\n  ')}`);
  if (errors.length) {
    console.error(`structure problems:\n  ${errors.join('\n  ')}`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
