#!/usr/bin/env node
// Converts LocalStack's AWS-validated TestState API snapshot tests (tests/aws/services/stepfunctions/v2/
// test_state/) into TestState cases, written to ../cases/teststate-*.json. The format is described in
// ../pending/README.md; the shared helpers (JSON5 reader, template constants, transformer placeholders)
// are those of ./localstack-jsonata.mjs.
//
//   node conformance/convert/localstack-teststate.mjs <localstack git dir> [--commit SHA] [--check]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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
  sameAsRecorded,
  setGit,
  show,
  TF,
  templateConstants,
} from './localstack-jsonata.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
// The TestState cases run in the corpus now (conformance/teststate.mjs): written next to the others.
const PENDING = resolve(HERE, '../cases');
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

// ------------------------------------------------------------------ the other test_state/ files
const FV = (p) => `${SFN}v2/test_state/${p}.py`;
// Inputs of the field-validation tests (one per service integration), as the tests send them
const TARGET_SM = 'arn:aws:states:us-east-1:123456789012:stateMachine:TargetStateMachine';
const FV_SERVICES = {
  eventbridge: {
    template: 'test_state/BASE_EVENTS_PUT_EVENTS_TASK_STATE',
    input: { Entries: [{ Detail: 'detail', DetailType: 'detail_type', Source: 'source' }] },
    what: 'events:putEvents Task',
  },
  sfn: {
    template: 'test_state/BASE_SFN_START_EXECUTION_TASK_STATE',
    input: { stateMachineArn: TARGET_SM, targetInput: null, name: 'TestStartTarget' },
    what: 'JSONata states:startExecution Task',
  },
  lambda: {
    template: 'test_state/BASE_LAMBDA_SERVICE_TASK_STATE',
    input: { FunctionName: 'function_name', Payload: null },
    what: 'lambda:invoke Task',
  },
  dynamodb: {
    template: 'test_state/BASE_DYNAMODB_SERVICE_TASK_STATE',
    input: { TableName: 'table_name', Item: { data: { S: 'HelloWorld' }, id: { S: 'id1' } } },
    what: 'dynamodb:putItem Task',
  },
  s3: {
    template: 'test_state/BASE_AWS_SDK_S3_GET_OBJECT_TASK_STATE',
    input: { Bucket: 'bucket_name', Key: 'file_key' },
    what: 'aws-sdk:s3:getObject Task',
  },
  kms: {
    template: 'test_state/BASE_AWS_SDK_KMS_ENCRYPT_TASK_STATE',
    input: { KeyId: 'key_id', Plaintext: 'plain_text' },
    what: 'aws-sdk:kms:encrypt Task',
  },
  lambdaGetFunction: {
    template: 'test_state/BASE_AWS_SDK_LAMBDA_GET_FUNCTION',
    input: { FunctionName: 'function_name' },
    what: 'aws-sdk:lambda:getFunction Task',
  },
};
const LS_SKIPPED =
  'LocalStack skips this parametrisation outside AWS (skipif not is_aws_cloud); the recording is from AWS.';
// one field-validation test: results {paramId: mock result value}; mode undefined = not sent (STRICT)
function fvTest({ file, out, name, service, results, mode, record, skippedLocally = [], what }) {
  const s = FV_SERVICES[service];
  return {
    file,
    out,
    name,
    cases: Object.fromEntries(
      Object.entries(results).map(([param, result]) => [
        param,
        {
          template: s.template,
          requests: [
            {
              record,
              params: {
                input: s.input,
                inspectionLevel: 'INFO',
                mock: { result: JSON.stringify(result), ...(mode ? { fieldValidationMode: mode } : {}) },
              },
            },
          ],
          notes: `TestState of a ${s.what} with a mocked result ${JSON.stringify(result)}, field validation mode ${mode ?? 'not sent (STRICT by default)'}: ${what}.${skippedLocally.includes(param) ? ` ${LS_SKIPPED}` : ''}`,
        },
      ]),
    ),
  };
}
const FV_EB_PASS = { field_not_part_of_api_spec: { random: 'json' }, empty_json: {} };
const FV_EB_ERRORS = {
  wrong_type_top_level_field: { Entries: 'Entries value should have been a list of entry objects' },
  wrong_type_nested_field: {
    Entries: [{ EventId: ['EventId value should have been a string not a list of strings'] }],
  },
  wrong_type_2nd_array_element: {
    Entries: [
      { EventId: 'First eventId has correct type: string' },
      { EventId: ['Second eventId has incorrect type: array'] },
    ],
  },
};
const FV_LAMBDA = { wrong_integer_type_string: { StatusCode: '200' } };
const FV_DDB = { wrong_float_type_string: { ConsumedCapacity: { CapacityUnits: '123.45' } } };
const FV_S3 = {
  wrong_long_type_string: { ContentLength: '9000' },
  non_existent_enum_value: { StorageClass: 'Papyrus' },
};
const FV_KMS = {
  wrong_blob_type_number: { CiphertextBlob: 123 },
  wrong_blob_length_less_than_minimum: { CiphertextBlob: '' },
};
const FV_GETFN = {
  integer_less_than_minimum_allowed: { Configuration: { MemorySize: 127 } },
  integer_more_than_maximum_allowed: { Configuration: { MemorySize: 10241 } },
};
const FV_ALL_GETFN = Object.keys(FV_GETFN);
function fieldValidationTests(file, out, cls, prefix, mode) {
  const t = (name, service, results, record, what, skippedLocally) =>
    fvTest({
      file,
      out,
      name: `${cls}::test_${prefix}_${name}`,
      service,
      results,
      mode,
      record,
      what,
      skippedLocally,
    });
  const tests = [
    t(
      'mode_mock_result_field_not_in_api_spec',
      'eventbridge',
      FV_EB_PASS,
      'test_case_response',
      'only fields of the API spec are validated',
    ),
    t(
      'mode_eventbridge_task',
      'eventbridge',
      FV_EB_ERRORS,
      'validation-exception',
      'a field of the API spec has the wrong type',
    ),
  ];
  if (mode === 'PRESENT') {
    tests.push(
      t(
        'mode_sfn_task_validation_pass',
        'sfn',
        {
          missing_required_fields: {},
          field_name_not_in_sfn_case: {
            executionArn: 'stringValueExecutionArn',
            startDate: 'stringValueStartDate',
          },
        },
        'test_state_response',
        'required fields are not checked in PRESENT mode, unknown (wrongly cased) fields pass',
        ['field_name_not_in_sfn_case'],
      ),
      t(
        'mode_sfn_task_validation_fail',
        'sfn',
        {
          wrong_timestamp_type_bool: { StartDate: true },
          wrong_string_type_number: { ExecutionArn: 1764103483 },
        },
        'validation-exception',
        'a present field has the wrong type',
      ),
    );
  } else {
    tests.push(
      t(
        'mode_sfn_task',
        'sfn',
        {
          missing_required_fields: {},
          field_name_not_in_sfn_case: {
            executionArn: 'stringValueExecutionArn',
            startDate: 'stringValueStartDate',
          },
          wrong_timestamp_type_bool: { ExecutionArn: 'stringValueExecutionArn', StartDate: true },
          wrong_timestamp_type_number: { ExecutionArn: 'stringValueExecutionArn', StartDate: 1764103483 },
        },
        'validation-exception',
        'required fields and field types are validated',
      ),
    );
  }
  tests.push(
    t(
      'mode_lambda_task',
      'lambda',
      FV_LAMBDA,
      'validation-exception',
      'a field of the API spec has the wrong type',
    ),
    t(
      'mode_dynamodb_task',
      'dynamodb',
      FV_DDB,
      'validation-exception',
      'a nested field of the API spec has the wrong type',
    ),
    t('mode_aws_sdk_s3_task', 's3', FV_S3, 'validation-exception', 'wrong type / value outside the enum'),
    t('mode_aws_sdk_kms_task', 'kms', FV_KMS, 'validation-exception', 'blob type and length', [
      'wrong_blob_length_less_than_minimum',
    ]),
    t(
      'mode_aws_sdk_lambda_get_function_task',
      'lambdaGetFunction',
      FV_GETFN,
      'validation-exception',
      'integer range',
      FV_ALL_GETFN,
    ),
  );
  return tests;
}

// test_state_configuration
const SC_FILE = 'test_state_configuration';
const SC_OUT = 'teststate-state-configuration';
const SC_INPUT = { Values: ['first', 'second', 'third'] };
const MOCK_EXC = (cause) => ({ errorOutput: { error: 'MockException', cause } });
const byLevel = (levels, make) => Object.fromEntries(levels.map((l) => [l, make(l)]));
const twoRequests = (records, make) =>
  records.map(([record, ...args]) => ({ record, params: make(...args) }));

// test_state_context_object
const CONTEXT_OBJECT = {
  Execution: {
    Id: 'arn:aws:states:::execution:MyStateMachine:execution-name-12345',
    Input: { 'input-value': 0, message: 'test data', values: ['charizard', 'pikachu', 'bulbasaur'] },
    Name: 'execution-name-12345',
    RoleArn: 'arn:aws:iam:::role/StepFunctionsRole',
    StartTime: '2025-01-15T10:30:00.000Z',
  },
  State: { EnteredTime: '2025-01-15T10:30:01.500Z', Name: 'MyTaskState', RetryCount: 0 },
  StateMachine: { Id: 'arn:aws:states:::stateMachine:MyStateMachine', Name: 'MyStateMachine' },
};
const TASK_CONTEXT_OBJECT = { ...CONTEXT_OBJECT, Task: { Token: 'abcd123' } };
const CO_PLACEHOLDER = '%CONTEXT_OBJECT_LITERAL_PLACEHOLDER%';
// the test: json.dumps(template["States"]["TestState"]).replace(placeholder, literal)
const coState = (literal) => (d) =>
  JSON.parse(JSON.stringify(d.States.TestState).split(CO_PLACEHOLDER).join(literal));
const CO_BINDINGS = {
  ALL: '$$',
  EXECUTION_INPUT: '$$.Execution.Input',
  EXECUTION_INPUT_VALUES: '$$.Execution.Input.values',
};
const CO_LAMBDA_INPUT = { FunctionName: 'lambda_function_name', Payload: { 'input-value': 0 } };
const POKEMON = ['charizard', 'pikachu', 'bulbasaur'];
const POKEMON_UP = ['CHARIZARD', 'PIKACHU', 'BULBASAUR'];

// test_test_state_mock_scenarios
const MS_FILE = 'test_test_state_mock_scenarios';
const MS_OUT = 'teststate-mock-scenarios';
const MS_FN = 'lambda_func_conformance';
const MS_TABLE = 'sfn_test_table_conformance';
const MD5_MESSAGE_BODY = createHash('md5').update('message_body').digest('hex');
const FIXED_UUID_1 = '3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b';
const FIXED_UUID_2 = '9e8d7c6b-5a49-4382-b716-a5f4e3d2c1b0';
const PARALLEL_MOCK = [{ branch1: 'result' }, { branch2: 'result' }];

TESTS.push(
  // ---------------------------------------------------------------- field validation mode
  ...fieldValidationTests(
    'test_field_validation_mode',
    'teststate-field-validation-mode',
    'TestFieldValidationMode',
    'strict',
    undefined,
  ),
  ...fieldValidationTests(
    'test_field_validation_mode_present',
    'teststate-field-validation-mode-present',
    'TestFieldValidationModePresent',
    'present',
    'PRESENT',
  ),
  fvTest({
    file: 'test_field_validation_mode_none',
    out: 'teststate-field-validation-mode-none',
    name: 'TestFieldValidationModeNone::test_none_mode_sfn_task',
    service: 'sfn',
    results: {
      missing_required_fields: {},
      wrong_timestamp_type_bool: { ExecutionArn: 'stringValueExecutionArn', StartDate: true },
    },
    mode: 'NONE',
    record: 'test_state_response',
    what: 'nothing is validated',
  }),
  // ---------------------------------------------------------------- state configuration
  {
    file: SC_FILE,
    out: SC_OUT,
    name: 'TestStateConfiguration::test_map_state_failure_count',
    cases: Object.fromEntries(
      LEVELS.flatMap((level) =>
        ['BASE_MAP_STATE', 'BASE_MAP_STATE_CATCH', 'BASE_MAP_STATE_RETRY', 'MAP_TASK_STATE'].map((tpl) => [
          `${level}-${tpl}`,
          {
            template: `test_state/${tpl}`,
            requests: twoRequests(
              [
                ['below_tolerated_failure', 0, [1, 1, 1]],
                ['exceeds_tolerated_failure', 2, [0, 0, 1]],
              ],
              (count, result) => ({
                roleArn: ROLE,
                input: SC_INPUT,
                stateConfiguration: { mapIterationFailureCount: count },
                inspectionLevel: level,
                mock: { result: JSON.stringify(result) },
              }),
            ),
            notes: `TestState of a distributed Map (${tpl}) with a mocked result and stateConfiguration.mapIterationFailureCount (0: below, 2: above the tolerated failure count where there is one), ${level}. The test adds the resource_name transformer (${FV(SC_FILE)}:49).`,
          },
        ]),
      ),
    ),
  },
  {
    file: SC_FILE,
    out: SC_OUT,
    name: 'TestStateConfiguration::test_map_state_error_caused_by_state',
    cases: byLevel(LEVELS, (level) => ({
      template: 'test_state/BASE_MAP_STATE',
      requests: one({
        roleArn: ROLE,
        input: { Values: [1, 1, 1] },
        stateConfiguration: { errorCausedByState: 'TestState' },
        inspectionLevel: level,
        mock: MOCK_EXC('Mock the cause of the error.'),
      }),
      notes: `TestState of a distributed Map with a mocked error and stateConfiguration.errorCausedByState naming the item processor's state, ${level}.`,
    })),
  },
  {
    file: SC_FILE,
    out: SC_OUT,
    name: 'TestStateConfiguration::test_state_configuration_retrier_retry_count',
    cases: byLevel(['DEBUG', 'TRACE'], (level) => ({
      template: 'test_state/BASE_TASK_STATE_RETRY',
      requests: twoRequests(
        [
          ['below_tolerated_retry_count_with_backoff', 4],
          ['exceeds_tolerated_retry_count', 5],
        ],
        (count) => ({
          roleArn: ROLE,
          input: SC_INPUT,
          stateConfiguration: { retrierRetryCount: count },
          inspectionLevel: level,
          mock: MOCK_EXC('Mock the cause of the error.'),
        }),
      ),
      notes: `TestState of a JSONata Task (Retry MaxAttempts 5, IntervalSeconds 1, BackoffRate 2) with a mocked error and stateConfiguration.retrierRetryCount 4 (retriable, backoff 16 s) or 5 (exhausted), ${level}.`,
    })),
  },
  {
    file: SC_FILE,
    out: SC_OUT,
    name: 'TestStateConfiguration::test_state_configuration_map_iteration_failure_count_with_state_error',
    cases: byLevel(LEVELS, (level) => ({
      template: 'test_state/BASE_MAP_STATE',
      requests: twoRequests(
        [
          ['below_tolerated_failure', 0],
          ['exceeds_tolerated_failure', 2],
        ],
        (count) => ({
          roleArn: ROLE,
          input: SC_INPUT,
          stateConfiguration: { mapIterationFailureCount: count, errorCausedByState: 'TestState' },
          inspectionLevel: level,
          mock: MOCK_EXC('Mock the error cause.'),
        }),
      ),
      notes: `TestState of a distributed Map with a mocked error, mapIterationFailureCount and errorCausedByState, ${level}.`,
    })),
  },
  {
    file: SC_FILE,
    out: SC_OUT,
    name: 'TestStateConfiguration::test_state_machine_with_state_error',
    cases: byLevel(LEVELS, (level) => ({
      template: 'test_state/BASE_MAP_STATE_MACHINE',
      requests: twoRequests(
        [
          ['below_tolerated_failure', 0],
          ['exceeds_tolerated_failure', 2],
        ],
        (count) => ({
          stateName: 'State0',
          roleArn: ROLE,
          input: SC_INPUT,
          stateConfiguration: { mapIterationFailureCount: count, errorCausedByState: 'HandleItem' },
          inspectionLevel: level,
          mock: MOCK_EXC('Mock the error cause.'),
        }),
      ),
      notes: `TestState of the JSONPath distributed Map State0 (ToleratedFailureCount 2) of a state machine, with a mocked error, mapIterationFailureCount and errorCausedByState, ${level}.`,
    })),
  },
  {
    file: SC_FILE,
    out: SC_OUT,
    name: 'TestStateConfiguration::test_state_machine_configuration_map_iteration_item_reader',
    cases: byLevel(LEVELS, (level) => ({
      template: 'test_state/MAP_ITEM_READER_STATE_MACHINE',
      requests: one({
        stateName: 'State0',
        roleArn: ROLE,
        input: { Bucket: 'test-bucket', Key: 'test-key' },
        stateConfiguration: { mapItemReaderData: JSON.stringify([1, 2, 3]) },
        inspectionLevel: level,
        mock: { result: JSON.stringify([1, 4, 9]) },
      }),
      notes: `TestState of a JSONata distributed Map with an S3 ItemReader whose data is given by stateConfiguration.mapItemReaderData, mocked result, ${level}.`,
    })),
  },
  {
    file: SC_FILE,
    out: SC_OUT,
    name: 'TestStateConfiguration::test_state_machine_configuration_item_reader_with_error',
    cases: byLevel(LEVELS, (level) => ({
      template: 'test_state/MAP_ITEM_READER_STATE_MACHINE',
      requests: twoRequests(
        [
          ['below_tolerated_failure', 0],
          ['exceeds_tolerated_failure', 2],
        ],
        (count) => ({
          stateName: 'State0',
          roleArn: ROLE,
          input: { Bucket: 'test-bucket', Key: 'test-key' },
          stateConfiguration: {
            mapIterationFailureCount: count,
            errorCausedByState: 'HandleItem',
            mapItemReaderData: JSON.stringify([1, 2, 3]),
          },
          inspectionLevel: level,
          mock: MOCK_EXC('Mock the error cause.'),
        }),
      ),
      notes: `TestState of a JSONata distributed Map with an ItemReader (mapItemReaderData), a mocked error, mapIterationFailureCount and errorCausedByState, ${level}.`,
    })),
  },
  // ---------------------------------------------------------------- context object
  {
    file: 'test_state_context_object',
    out: 'teststate-context-object',
    name: 'TestStateContextObject::test_state_task_context_object',
    cases: Object.fromEntries(
      Object.entries(CO_BINDINGS).map(([param, literal]) => [
        param,
        {
          template: 'context_object/CONTEXT_OBJECT_RESULT_PATH',
          edit: coState(literal),
          requests: one({
            input: CO_LAMBDA_INPUT,
            inspectionLevel: 'TRACE',
            context: JSON.stringify(CONTEXT_OBJECT),
            mock: { result: JSON.stringify({ pokemon: POKEMON }) },
          }),
          notes: `TestState of the lambda:invoke Task "TestState" of the template (taken out of the state machine), ResultSelector reading ${literal} from the context object given by the request; mocked result; no roleArn.`,
        },
      ]),
    ),
  },
  {
    file: 'test_state_context_object',
    out: 'teststate-context-object',
    name: 'TestStateContextObject::test_state_wait_task_context_object',
    cases: {
      '': {
        template: 'test_state/IO_SQS_SERVICE_TASK_WAIT',
        edit: (d) => {
          d.Parameters.QueueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/test-queue';
        },
        requests: one({
          inspectionLevel: 'TRACE',
          context: JSON.stringify(TASK_CONTEXT_OBJECT),
          mock: { result: JSON.stringify({ pokemon: POKEMON }) },
        }),
        notes:
          'TestState of an sqs:sendMessage.waitForTaskToken Task reading $$.Task.Token from the context object given by the request (no input: the state input is {}); mocked result; Next is reported as nextState. The test builds QueueUrl from its account and region fixtures (here 123456789012, us-east-1).',
      },
    },
  },
  {
    file: 'test_state_context_object',
    out: 'teststate-context-object',
    name: 'TestStateContextObject::test_state_map_context_object',
    cases: Object.fromEntries(
      Object.entries(CO_BINDINGS).map(([param, literal]) => [
        param,
        {
          template: 'context_object/CONTEXT_OBJECT_ITEMS_PATH',
          edit: coState(literal),
          requests: one({
            input: ['fire', 'electricity', 'grass'],
            inspectionLevel: 'TRACE',
            context: JSON.stringify(CONTEXT_OBJECT),
            mock: { result: JSON.stringify(POKEMON_UP) },
          }),
          notes: `TestState of an inline Map whose ItemsPath is ${literal} (context object given by the request), mocked result. ${LS_SKIPPED}`,
        },
      ]),
    ),
  },
  {
    file: 'test_state_context_object',
    out: 'teststate-context-object',
    name: 'TestStateContextObject::test_state_context_object_invalid_states',
    cases: {
      TOKEN_TASK_NOT_SYNC: {
        template: 'context_object/CONTEXT_OBJECT_RESULT_PATH',
        edit: coState('$$'),
        requests: [
          {
            record: 'exception',
            params: {
              input: ['fire', 'electricity', 'grass'],
              inspectionLevel: 'TRACE',
              context: JSON.stringify(TASK_CONTEXT_OBJECT),
              mock: { result: JSON.stringify({ pokemon: POKEMON_UP }) },
            },
          },
        ],
        notes: `A context object with Task for a request-response Task is refused. ${LS_SKIPPED}`,
      },
      INVALID_STATE_PASS: {
        template: 'context_object/CONTEXT_OBJECT_INPUT_PATH',
        edit: coState('$$'),
        requests: [
          {
            record: 'exception',
            params: {
              input: ['fire', 'electricity', 'grass'],
              inspectionLevel: 'TRACE',
              context: JSON.stringify(CONTEXT_OBJECT),
              mock: { result: JSON.stringify({ pokemon: POKEMON_UP }) },
            },
          },
        ],
        notes: `A mock for a Pass state is refused. ${LS_SKIPPED}`,
      },
    },
  },
  {
    file: 'test_state_context_object',
    out: 'teststate-context-object',
    name: 'TestStateContextObject::test_state_context_object_validation_failures',
    cases: Object.fromEntries(
      Object.entries({
        INVALID_EXECUTION_ID_TYPE: { Execution: { Id: 1 } },
        INVALID_MAP: { Map: {} },
        INVALID_EXECUTION_FIELD: { Execution: { pokemon: 'squirtle' } },
        INVALID_FIELD: { Pokedex: {} },
      }).map(([param, context]) => [
        param,
        {
          template: 'test_state/BASE_SFN_START_EXECUTION_TASK_STATE',
          requests: [
            {
              record: 'exception',
              params: {
                input: { stateMachineArn: 'arn', targetInput: null, name: 'exec_name' },
                inspectionLevel: 'TRACE',
                context: JSON.stringify(context),
                mock: {
                  result: JSON.stringify({
                    ExecutionArn: 'exec_arn',
                    StartDate: '2025-12-03T18:51:50.000000',
                  }),
                },
              },
            },
          ],
          notes: `An invalid context object ${JSON.stringify(context)} is refused. The test's mocked StartDate is datetime.now().isoformat() (here a fixed time).`,
        },
      ]),
    ),
  },
  {
    file: 'test_state_context_object',
    out: 'teststate-context-object',
    name: 'TestStateContextObject::test_state_context_object_edge_cases',
    cases: Object.fromEntries(
      Object.entries({ EMPTY_OBJECTS: { Execution: {}, State: {}, StateMachine: {} }, EMPTY: {} }).map(
        ([param, context]) => [
          param,
          {
            template: 'context_object/CONTEXT_OBJECT_RESULT_PATH',
            edit: coState('$$'),
            requests: one({
              input: CO_LAMBDA_INPUT,
              inspectionLevel: 'TRACE',
              context: JSON.stringify(context),
              mock: { result: JSON.stringify({ pokemon: 'pikachu' }) },
            }),
            notes: `TestState of a lambda:invoke Task whose ResultSelector reads $$ from the context object ${JSON.stringify(context)} given by the request; mocked result.${param === 'EMPTY' ? ` ${LS_SKIPPED}` : ''}`,
          },
        ],
      ),
    ),
  },
  // ---------------------------------------------------------------- mock validation
  {
    file: 'test_state_mock_validation',
    out: 'teststate-mock-validation',
    name: 'TestStateMockValidation::test_state_type_does_not_accept_mock',
    cases: Object.fromEntries(
      Object.entries({
        mock_result: { result: JSON.stringify({ mock: 'the unmockable' }) },
        mock_error_output: { errorOutput: { error: 'Error', cause: 'Cause' } },
      }).flatMap(([m, mock]) =>
        [
          ['PassState', 'BASE_PASS_STATE'],
          ['FailState', 'BASE_FAIL_STATE'],
          ['SucceedState', 'BASE_SUCCEED_STATE'],
        ].map(([st, tpl]) => [
          `${m}-${st}`,
          {
            template: `test_state/${tpl}`,
            requests: [{ record: 'validation_exception', params: { inspectionLevel: 'TRACE', mock } }],
            notes: `A mock (${m.replace('mock_', '')}) for a ${st.replace('State', '')} state is refused.`,
          },
        ]),
      ),
    ),
  },
  {
    file: 'test_state_mock_validation',
    out: 'teststate-mock-validation',
    name: 'TestStateMockValidation::test_state_type_requires_mock',
    cases: Object.fromEntries(
      [
        ['MapState', 'BASE_MAP_STATE'],
        ['MapTaskState', 'MAP_TASK_STATE'],
        ['ParallelState', 'BASE_PARALLEL_STATE'],
      ].map(([param, tpl]) => [
        param,
        {
          template: `test_state/${tpl}`,
          requests: [{ record: 'validation_exception', params: { inspectionLevel: 'TRACE' } }],
          notes: `A ${param.replace(/State$/, '')} state without a mock is refused (InvalidDefinition).`,
        },
      ]),
    ),
  },
  ...[
    [
      'test_both_mock_result_and_mock_error_output_are_set',
      'test_state/BASE_LAMBDA_SERVICE_TASK_STATE',
      {
        inspectionLevel: 'TRACE',
        mock: {
          result: JSON.stringify({ mock: 'response' }),
          errorOutput: { error: 'Error', cause: 'Cause' },
        },
      },
      'A mock with both result and errorOutput is refused.',
    ],
    [
      'test_reveal_secrets_is_true_and_mock_result_is_set',
      'test_state/BASE_LAMBDA_SERVICE_TASK_STATE',
      {
        inspectionLevel: 'TRACE',
        mock: { result: JSON.stringify({ mock: 'response' }) },
        revealSecrets: true,
      },
      'revealSecrets with a mock is refused.',
    ],
    [
      'test_mock_result_is_not_array_on_map_state_without_result_writer',
      'test_state/BASE_MAP_STATE',
      {
        inspectionLevel: 'TRACE',
        mock: { result: JSON.stringify({ mock: 'array is expected but object is provided instead' }) },
      },
      'A Map without ResultWriter needs an array as mocked result.',
    ],
    [
      'test_mock_result_is_not_object_on_map_state_with_result_writer',
      'test_state/BASE_MAP_STATE_WITH_RESULT_WRITER',
      {
        inspectionLevel: 'TRACE',
        mock: { result: JSON.stringify(['object is expected but array is provided instead']) },
      },
      'A Map with ResultWriter needs an object as mocked result.',
    ],
    [
      'test_mock_result_is_not_array_on_parallel_state',
      'test_state/BASE_PARALLEL_STATE',
      {
        inspectionLevel: 'TRACE',
        mock: { result: JSON.stringify({ mock: 'array is expected but object is provided instead' }) },
      },
      'A Parallel state needs an array as mocked result.',
    ],
    [
      'test_mock_result_array_size_mismatch_on_parallel_state',
      'test_state/BASE_PARALLEL_STATE',
      { inspectionLevel: 'TRACE', mock: { result: JSON.stringify([{ branch1: 'result' }]) } },
      'A Parallel state needs one mocked result item per branch.',
    ],
    [
      'test_parallel_state_empty_branches',
      { Type: 'Parallel', Branches: [], End: true },
      { inspectionLevel: 'TRACE', mock: { result: JSON.stringify([]) } },
      'A Parallel state with no branches is an InvalidDefinition (LocalStack skips verifying the message: its parser words it differently).',
    ],
    [
      'test_map_iteration_failure_count_without_mock',
      'test_state/BASE_MAP_STATE',
      { roleArn: ROLE, stateConfiguration: { mapIterationFailureCount: 0 } },
      'stateConfiguration.mapIterationFailureCount without a mock is refused (no input, no inspectionLevel).',
    ],
    [
      'test_map_iteration_failure_count_exceeds_mock_result_items',
      'test_state/BASE_MAP_STATE',
      {
        roleArn: ROLE,
        input: { Values: [1, 1, 1] },
        stateConfiguration: { mapIterationFailureCount: 4 },
        mock: { result: JSON.stringify([1, 1, 1]) },
      },
      'mapIterationFailureCount above the number of mocked items is refused (no inspectionLevel).',
    ],
  ].map(([name, tpl, params, notes]) => ({
    file: 'test_state_mock_validation',
    out: 'teststate-mock-validation',
    name: `TestStateMockValidation::${name}`,
    cases: {
      '': {
        ...(typeof tpl === 'string' ? { template: tpl } : { definition: tpl }),
        requests: [{ record: 'validation_exception', params }],
        notes,
      },
    },
  })),
  // ---------------------------------------------------------------- state machine scenarios (stateName)
  {
    file: 'test_test_state_machine_scenarios',
    out: 'teststate-machine-scenarios',
    name: 'TestStateMachineScenarios::test_base_state_name',
    cases: Object.fromEntries(
      LEVELS.flatMap((level) =>
        [
          ['BASE_PASS_STATE_MACHINE', 'State0', 'a Pass state'],
          ['BASE_FAIL_STATE_MACHINE', 'State0', 'a JSONata Fail state'],
          ['BASE_MAP_STATE_MACHINE', 'HandleItem', "the Pass state inside a distributed Map's ItemProcessor"],
        ].map(([tpl, stateName, what]) => [
          `${level}-${tpl}`,
          {
            template: `test_state/${tpl}`,
            requests: one({ stateName, input: HELLO_WORLD_INPUT, inspectionLevel: level }),
            notes: `TestState of ${what} (stateName ${stateName}) of a state machine, ${level}.`,
          },
        ]),
      ),
    ),
  },
  {
    file: 'test_test_state_machine_scenarios',
    out: 'teststate-machine-scenarios',
    name: 'TestStateMachineScenarios::test_base_state_name_multi_state',
    cases: Object.fromEntries(
      LEVELS.flatMap((level) =>
        ['State0', 'State1'].map((stateName) => [
          `${level}-${stateName}`,
          {
            template: 'test_state/BASE_MULTI_STATE_MACHINE',
            requests: one({ stateName, input: HELLO_WORLD_INPUT, inspectionLevel: level }),
            notes: `TestState of ${stateName === 'State0' ? 'the JSONata Pass state State0 (Next State1)' : 'the JSONata Fail state State1'} of a two-state machine, ${level}.`,
          },
        ]),
      ),
    ),
  },
  {
    file: 'test_test_state_machine_scenarios',
    out: 'teststate-machine-scenarios',
    name: 'TestStateMachineScenarios::test_base_state_name_validation_failures',
    cases: {
      ...Object.fromEntries(
        [
          ['dne', 'dne'],
          ['invalid', '"invalid"'],
        ].map(([param, stateName]) => [
          param,
          {
            template: 'test_state/BASE_PASS_STATE_MACHINE',
            requests: [
              {
                record: 'exception',
                params: { stateName, input: HELLO_WORLD_INPUT, inspectionLevel: 'INFO' },
              },
            ],
            notes: `A stateName (${JSON.stringify(stateName)}) that is not a state of the definition is refused.`,
          },
        ]),
      ),
      empty: {
        skip: 'botocore refused the empty stateName before sending it (ParamValidationError, client side): no AWS response was recorded',
      },
    },
  },
  {
    file: 'test_test_state_machine_scenarios',
    out: 'teststate-machine-scenarios',
    name: 'TestStateMachineScenarios::test_state_name_invalid_state_definition',
    cases: {
      '': {
        template: 'test_state/BASE_INVALID_STATE_DEFINITION',
        requests: [
          {
            record: 'validation_exception',
            params: {
              stateName: 'ExistingButInvalidState',
              input: HELLO_WORLD_INPUT,
              inspectionLevel: 'INFO',
            },
          },
        ],
        notes:
          'A state machine with an unknown state Type is an InvalidDefinition (LocalStack skips verifying the message: its parser words it differently).',
      },
    },
  },
  // ---------------------------------------------------------------- mock scenarios
  {
    file: MS_FILE,
    out: MS_OUT,
    name: 'TestStateMockScenarios::test_base_lambda_service_task_mock_is_not_json_string',
    cases: {
      '': {
        template: 'test_state/BASE_LAMBDA_SERVICE_TASK_STATE',
        fnName: MS_FN,
        requests: [
          {
            record: 'validation-exception',
            params: {
              input: { FunctionName: '@NAME', Payload: null },
              inspectionLevel: 'INFO',
              mock: { result: 'not JSON string', fieldValidationMode: 'NONE' },
            },
          },
        ],
        notes:
          'A mocked result that is not JSON text is refused, even with fieldValidationMode NONE. The test names a random function (lambda_func_<uid>), here a fixed one; the function need not exist.',
      },
    },
  },
  {
    file: MS_FILE,
    out: MS_OUT,
    name: 'TestStateMockScenarios::test_base_lambda_service_task_mock_success',
    cases: {
      '': {
        template: 'test_state/BASE_LAMBDA_SERVICE_TASK_STATE',
        fnName: MS_FN,
        requests: one({
          input: { FunctionName: '@NAME', Payload: null },
          inspectionLevel: 'INFO',
          mock: {
            result: JSON.stringify({ Payload: 'function output', SdkHttpMetadata: { HttpStatusCode: 200 } }),
          },
        }),
        notes:
          'TestState of a lambda:invoke Task with a mocked result (a string Payload, as the Lambda API spec requires), no roleArn. The test names a random function, here a fixed one; the function need not exist.',
      },
    },
  },
  {
    file: MS_FILE,
    out: MS_OUT,
    name: 'TestStateMockScenarios::test_io_dynamodb_service_task_mock_success',
    cases: Object.fromEntries(
      [
        ['base', 'BASE_DYNAMODB_SERVICE_TASK_STATE', ''],
        ['io', 'IO_DYNAMODB_SERVICE_TASK_STATE', ' and ResultPath'],
        ['io_output_path', 'IO_OUTPUT_PATH_DYNAMODB_SERVICE_TASK_STATE', ', ResultPath and OutputPath'],
      ].map(([param, tpl, io]) => [
        param,
        {
          template: `test_state/${tpl}`,
          requests: one({
            input: { TableName: MS_TABLE, Item: { data: { S: 'HelloWorld' }, id: { S: 'id1' } } },
            inspectionLevel: 'INFO',
            mock: { result: JSON.stringify({ SdkHttpMetadata: { HttpStatusCode: 200 } }) },
          }),
          transformers: [
            {
              text: '<table_name>',
              to: MS_TABLE,
              note: `RegexTransformer(table_name, "<table_name>") (${FV(MS_FILE)}:88) replaced the test's random table name, restored as this case's table name`,
            },
          ],
          notes: `TestState of a dynamodb:putItem Task with a mocked result${io}. The test names a random table (sfn_test_table_<uid>), here a fixed one.`,
        },
      ]),
    ),
  },
  {
    file: MS_FILE,
    out: MS_OUT,
    name: 'TestStateMockScenarios::test_put_events_mock_success',
    cases: {
      '': {
        template: 'test_state/BASE_EVENTS_PUT_EVENTS_TASK_STATE',
        requests: one({
          input: FV_SERVICES.eventbridge.input,
          inspectionLevel: 'INFO',
          mock: { result: JSON.stringify({ Entries: [{ EventId: FIXED_UUID_1 }] }) },
        }),
        notes:
          "TestState of an events:putEvents Task with a mocked result. The test's EventId is a random uuid (long_uid()), here a fixed one.",
      },
    },
  },
  {
    file: MS_FILE,
    out: MS_OUT,
    name: 'TestStateMockScenarios::test_send_sqs_message_success',
    cases: {
      '': {
        template: 'test_state/BASE_SQS_SEND_MESSAGE_TASK_STATE',
        requests: one({
          input: { QueueUrl: 'queue_url', MessageBody: 'message_body' },
          inspectionLevel: 'INFO',
          mock: { result: JSON.stringify({ MD5OfMessageBody: MD5_MESSAGE_BODY, MessageId: FIXED_UUID_2 }) },
        }),
        transformers: [
          {
            text: '<md5_of_message_body>',
            to: MD5_MESSAGE_BODY,
            note: `RegexTransformer(md5_of_message_body, "<md5_of_message_body>") (${FV(MS_FILE)}:149) replaced md5("message_body"), which does not vary: restored`,
          },
        ],
        notes:
          "TestState of an sqs:sendMessage Task with a mocked result. The test's MessageId is a random uuid (long_uid()), here a fixed one.",
      },
    },
  },
  ...[
    [
      'test_base_parallel_state_mock_success',
      'BASE_PARALLEL_STATE',
      { key: 'value' },
      'a JSONPath Parallel state',
    ],
    [
      'test_io_parallel_state_mock_success',
      'IO_PARALLEL_STATE',
      { parallelInput: { data: 'input_value' } },
      'a JSONPath Parallel state with InputPath, ResultPath and OutputPath',
    ],
    [
      'test_io_jsonata_parallel_state_mock_success',
      'IO_JSONATA_PARALLEL_STATE',
      { parallelInput: { data: 'input_value' } },
      'a JSONata Parallel state with Arguments and Output',
    ],
  ].map(([name, tpl, input, what]) => ({
    file: MS_FILE,
    out: MS_OUT,
    name: `TestStateMockScenarios::${name}`,
    cases: byLevel(LEVELS, (level) => ({
      template: `test_state/${tpl}`,
      requests: one({ input, inspectionLevel: level, mock: { result: JSON.stringify(PARALLEL_MOCK) } }),
      notes: `TestState of ${what} with a mocked result (one item per branch), ${level}.`,
    })),
  })),
  {
    file: MS_FILE,
    out: MS_OUT,
    name: 'TestStateMockScenarios::test_sfn_start_execution_success',
    cases: {
      '': {
        template: 'test_state/BASE_SFN_START_EXECUTION_TASK_STATE',
        requests: one({
          input: FV_SERVICES.sfn.input,
          inspectionLevel: 'INFO',
          mock: {
            result: JSON.stringify({
              ExecutionArn: `${TARGET_SM.replace(':stateMachine:', ':execution:')}:TestStartTarget`,
              StartDate: '2025-12-03T00:34:15.000000',
            }),
          },
        }),
        transformers: [
          {
            text: 'start-date',
            to: '<*>',
            note: `JsonpathTransformer("$..output..StartDate", "start-date") (${FV(MS_FILE)}:244) replaced the mocked StartDate (the test's datetime.now().isoformat(), here a fixed time); matched as <*>`,
          },
        ],
        notes:
          'TestState of a JSONata states:startExecution Task with a mocked result. The test builds the ARNs from its account and region fixtures (here 123456789012, us-east-1).',
      },
    },
  },
);

// ------------------------------------------------------------------ one case
function buildCase({ test, spec, key, recorded, req, tpl, testSource, id }) {
  const fnName = spec.lambda ?? spec.fnName ?? null;
  const arn = fnName ? lambdaArn(fnName) : null;
  // spec.definition: an inline definition of the test; spec.edit may return a replacement (e.g. one
  // state taken out of a state machine template)
  let definition = spec.definition ? structuredClone(spec.definition) : parseJson5(show(tpl));
  if (spec.edit) definition = spec.edit(definition, arn) ?? definition;
  const sub = (v) => mapStrings(v, (s) => (s === '@NAME' ? fnName : s === '@ARN' ? arn : s));
  const params = { definition: JSON.stringify(definition), ...sub(req.params) };
  if ('input' in params) params.input = JSON.stringify(params.input);
  const notes = [spec.notes];
  const distorted = new Map();
  const jsonStrings = [];
  const ignore = [];
  const content = recorded['recorded-content'][req.record];
  const mask = (s, path) => {
    let out = s;
    // the test's own transformers (spec.transformers): {text, to, note}; to '<*>' = any text
    for (const t of spec.transformers ?? []) {
      if (out.includes(t.text)) {
        out = out.split(t.text).join(t.to);
        distorted.set(t.text, t.note);
      }
    }
    // the bracketed placeholder first: replacing `lambda_function_name` inside it would keep the brackets
    for (const p of ['<lambda_function_name>'].concat(FUNCTION_NAME_PLACEHOLDERS)) {
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
        if (k === 'SdkHttpMetadata' && isObj(x) && 'AllHttpHeaders' in x) {
          ignore.push(`${p}.AllHttpHeaders`, `${p}.HttpHeaders`);
          distorted.set(
            'sdk',
            `the lambda:invoke envelope's SdkHttpMetadata headers and SdkResponseMetadata.RequestId are per request (masked by ${TF}:762 stepfunctions_api): kept as recorded, listed in \`ignore\``,
          );
          o[k] = x;
          continue;
        }
        if (k === 'SdkResponseMetadata' && isObj(x) && 'RequestId' in x) {
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
  } else if ('exception_typename' in content) {
    // the test recorded {exception_typename, exception_value: str(ClientError)}
    const m = /^An error occurred \(([^)]+)\) when calling the TestState operation: ([\s\S]*)$/.exec(
      String(content.exception_value),
    );
    if (!m || m[1] !== content.exception_typename)
      throw new Error(`${id}: unexpected exception record ${JSON.stringify(content)}`);
    expected.exception = { code: m[1], message: walk(m[2], '$.exception.message') };
    notes.push(
      'The test recorded str(ClientError): code and message are read from botocore\'s "An error occurred (<code>) when calling the TestState operation: <message>".',
    );
  } else {
    // the input we send must be the recorded one
    const recIn = content.inspectionData?.input;
    if (recIn !== undefined) {
      const diffs = [];
      const ours = JSON.parse(params.input ?? '{}');
      sameAsRecorded(ours, typeof recIn === 'string' ? JSON.parse(recIn) : recIn, '$.input', diffs);
      if (diffs.length) throw new Error(`${id}: input differs from the recording: ${diffs.join('; ')}`);
    }
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
      template: spec.definition ? `${SFN}v2/test_state/${test.file}.py (inline definition)` : tpl,
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
    if (c.request.mock && 'result' in c.request.mock && typeof c.request.mock.result !== 'string')
      e('request.mock.result not a string');
    const sc = c.request.stateConfiguration;
    if (sc && 'mapItemReaderData' in sc && typeof sc.mapItemReaderData !== 'string')
      e('request.stateConfiguration.mapItemReaderData not a string');
    if (c.expected.exception && typeof c.expected.exception.message !== 'string') e('exception.message');
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
  // every entry of the snapshots read must belong to a test above
  for (const [snapPath, { snap }] of snaps) {
    const file = snapPath.replace(/^.*\/|\.snapshot\.json$/g, '');
    for (const k of Object.keys(snap)) {
      const known = TESTS.some((t) => {
        const prefix = `${SFN}v2/test_state/${t.file}.py::${t.name}`;
        return t.file === file && (k === prefix || k.startsWith(`${prefix}[`));
      });
      if (!known) left.push(`${k.split('::').slice(1).join('::')}: no test spec`);
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
