/**
 * validate.ts: CreateStateMachine's checks. Texts marked "recorded" are AWS recordings from LocalStack's
 * AWS-validated snapshots (localstack/localstack@8b9a79f, tests/aws/services/stepfunctions/...), "reported"
 * ones AWS output quoted in public issues, "chosen" ones have no AWS recording.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type DefinitionProblem,
  invalidDefinitionMessage,
  validateDefinition,
} from '../../../localcloud/stepfunctions/asl/validate';

type Definition = Record<string, unknown>;

const standard = (definition: unknown) => validateDefinition(definition, { type: 'STANDARD' });
const express = (definition: unknown) => validateDefinition(definition, { type: 'EXPRESS' });
const message = (definition: unknown, type: 'STANDARD' | 'EXPRESS' = 'STANDARD') =>
  invalidDefinitionMessage(validateDefinition(definition, { type }));
const single = (state: Definition, extra: Definition = {}): Definition => ({
  StartAt: 'S',
  States: { S: state },
  ...extra,
});
const jsonata = (state: Definition): Definition => single(state, { QueryLanguage: 'JSONata' });
const pass: Definition = { Type: 'Pass', End: true };
const schema = (text: string, location: string): DefinitionProblem => ({
  code: 'SCHEMA_VALIDATION_FAILED',
  message: text,
  location,
});

describe('the conformance corpora (every definition ran on AWS)', () => {
  const root = path.join(import.meta.dirname, '../../../conformance');
  // The execution cases (the TestState cases, `teststate-*.json`, send one state: validate.test.ts is
  // about whole machines).
  const files = readdirSync(path.join(root, 'cases'))
    .filter((file) => file.endsWith('.json') && !file.startsWith('teststate-'))
    .map((file) => path.join(root, 'cases', file));
  const cases = files.flatMap((file) =>
    (
      JSON.parse(readFileSync(file, 'utf8')) as Array<{ id: string; definition: unknown; expected?: unknown }>
    ).map((c) => ({ ...c, file: path.basename(file) })),
  );

  it('accepts every definition AWS accepted, refuses those AWS refused', () => {
    // Prepare
    const refusedByAws = (c: { expected?: unknown }) =>
      JSON.stringify(c.expected ?? null).includes('InvalidDefinition');

    // Act
    const wrong = cases
      .map((c) => ({ id: `${c.file}:${c.id}`, refused: refusedByAws(c), problems: standard(c.definition) }))
      .filter(({ refused, problems }) => refused !== problems.length > 0)
      .map(
        ({ id, problems }) =>
          `${id} ${problems.length > 0 ? invalidDefinitionMessage(problems) : 'accepted'}`,
      );

    // Assess
    expect(cases.length).toBeGreaterThanOrEqual(857);
    expect(wrong).toEqual([]);
  });
});

describe('texts the local cloud tests rely on (kept from the previous validator)', () => {
  const sqsCallback = (extra: Definition) => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
    Parameters: { QueueUrl: 'q', 'MessageBody.$': '$$.Task.Token' },
    End: true,
    ...extra,
  });

  it('refuses HeartbeatSeconds not smaller than TimeoutSeconds', () => {
    expect(
      message({ StartAt: 'Wait', States: { Wait: sqsCallback({ TimeoutSeconds: 5, HeartbeatSeconds: 5 }) } }),
    ).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: HeartbeatSeconds must be smaller than TimeoutSeconds at /States/Wait'",
    );
  });

  it('refuses .waitForTaskToken in an EXPRESS machine', () => {
    expect(message({ StartAt: 'Wait', States: { Wait: sqsCallback({}) } }, 'EXPRESS')).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration at /States/Wait/Resource'",
    );
    expect(standard({ StartAt: 'Wait', States: { Wait: sqsCallback({}) } })).toEqual([]);
  });

  it('refuses an unknown integration of a known service, nested ones at their pointer', () => {
    // recorded (the same text for dynamodb:query): test_dynamodb_task_service.snapshot.json::test_invalid_integration
    const task = (resource: string) => ({ Type: 'Task', Resource: resource, End: true });
    const nested = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Query',
            States: { Query: task('arn:aws:states:::aws-sdk:dynamodb:queryEverything') },
          },
          End: true,
        },
      },
    };

    expect(message({ StartAt: 'Get', States: { Get: task('arn:aws:states:::dynamodb:getItems') } })).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The resource provided " +
        'arn:aws:states:::dynamodb:getItems is not recognized. The value is not a valid resource ARN, or the ' +
        "resource is not available in this region. at /States/Get/Resource'",
    );
    expect(
      message({ StartAt: 'Query', States: { Query: task('arn:aws:states:::dynamodb:query') } }),
    ).toContain('The resource provided arn:aws:states:::dynamodb:query is not recognized.');
    expect(message(nested)).toContain('at /States/Each/ItemProcessor/States/Query/Resource');
  });

  it('refuses a StartAt naming no state', () => {
    expect(standard({ StartAt: 'Nope', States: {} })).toEqual([
      { code: 'MISSING_TRANSITION_TARGET', message: "Missing 'Next' target: Nope", location: '/StartAt' },
    ]);
  });
});

describe('recorded texts', () => {
  it('names the missing top-level fields', () => {
    // recorded: test_sfn_api.snapshot.json::test_create_delete_invalid_sm
    expect(message({ StartAt: 'S' })).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'",
    );
    // recorded: test_sfn_api_validation.snapshot.json::..._not_a_definition[EMPTY_DICT], ..._type_standard[INVALID_BASE_NO_STARTAT]
    expect(standard({})).toEqual([schema('These fields are required: [States, StartAt]', '/')]);
    expect(standard({ States: { S: pass } })[0]).toEqual(schema('These fields are required: [StartAt]', '/'));
    // recorded: ..._not_a_definition[EMPTY_STRING]
    expect(standard('')).toEqual([schema('Definition must be a valid JSON object', '')]);
  });

  it('refuses an unknown state Type', () => {
    // recorded: test_test_state_machine_scenarios.snapshot.json::test_state_name_invalid_state_definition
    expect(message(single({ Type: 'Foo', End: true }))).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at /States/S/Type'",
    );
  });

  it('refuses a Parallel state without branches', () => {
    // recorded: test_state_mock_validation.snapshot.json::test_parallel_state_empty_branches
    expect(standard(single({ Type: 'Parallel', Branches: [], End: true }))).toEqual([
      schema('Value cannot be empty', '/States/S/Branches'),
    ]);
  });

  it.each([
    '2016-12-05 21:29:29Z',
    '2016-12-05T21:29:29',
    '2016-13-05T21:29:29Z',
    '2016-12-05T25:29:29Z',
    '05-12-2016T21:29:29Z',
    "{% '2016-03-14T01:59:00Z' %}",
  ])('refuses the Wait Timestamp %s of a JSONPath state', (timestamp) => {
    // recorded: test_base_scenarios.snapshot.json::test_wait_timestamp_invalid[NO_T, NO_Z, INVALID_DATE,
    // INVALID_TIME, INVALID_ISO, JSONATA]
    const definition = {
      StartAt: 'WaitUntil',
      States: { WaitUntil: { Type: 'Wait', Timestamp: timestamp, End: true } },
    };
    expect(message(definition)).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/WaitUntil/Timestamp'",
    );
  });

  it('accepts RFC 3339 timestamps, and JSONata ones in a JSONata state', () => {
    for (const timestamp of ['2016-03-14T01:59:00Z', '2016-03-14T01:59:00.123+02:00', '2024-02-29T00:00:00Z'])
      expect(standard(single({ Type: 'Wait', Timestamp: timestamp, End: true }))).toEqual([]);
    expect(standard(jsonata({ Type: 'Wait', Timestamp: "{% '2016-03-14T01:59:00Z' %}", End: true }))).toEqual(
      [],
    );
  });

  it.each([
    `States.StringToJson('{"text":"An \\"escaped double quote\\" here"}')`,
    `States.Format('He said, \\"Hello, {}!\\"', 'Test \\"Name\\" Here')`,
  ])('refuses an intrinsic string with an illegal escape: %s', (call) => {
    // recorded: test_base_scenarios.snapshot.json::test_illegal_escapes[ESCAPE_SEQUENCES_ILLEGAL_INTRINSIC_FUNCTION(_2)]
    const definition = {
      StartAt: 'IntrinsicEscape',
      States: { IntrinsicEscape: { Type: 'Pass', Parameters: { 'parsed.$': call }, End: true } },
    };
    expect(message(definition)).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call at /States/IntrinsicEscape/Parameters'",
    );
  });

  it('accepts the intrinsic escapes AWS accepts', () => {
    const parameters = {
      'a.$': "States.Format('\\{\\} \\' \\\\ {}', $.x)",
      'b.$': 'States.ArrayGetItem(States.Array(1, 2.5, true, null, $$.Execution.Id), 0)',
      'c.$': 'States.JsonMerge($.a, $.b, false)',
      'd.$': '$.items[?(@.price < 10)].name',
    };
    expect(standard(single({ Type: 'Pass', Parameters: parameters, End: true }))).toEqual([]);
  });

  it.each([{}, { InvalidField: 'invalid' }])('refuses Credentials without RoleArn: %j', (credentials) => {
    // recorded: test_credentials_base.snapshot.json::test_invalid_credentials_field[EMPTY_CREDENTIALS, INVALID_CREDENTIALS_FIELD]
    const definition = {
      StartAt: 'State0',
      QueryLanguage: 'JSONata',
      States: {
        State0: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Arguments: '{% $states.input %}',
          Credentials: credentials,
          End: true,
        },
      },
    };
    expect(message(definition)).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at /States/State0/Credentials'",
    );
  });

  it('refuses .sync integrations and activities in an EXPRESS machine', () => {
    // recorded: test_sfn_api_express.snapshot.json::test_illegal_callbacks[SYNC], ::test_illegal_activity_task
    const sync = {
      StartAt: 'StartExecution',
      States: {
        StartExecution: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution.sync',
          Parameters: { StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:x' },
          End: true,
        },
      },
    };
    const activity = {
      StartAt: 'ActivityTask',
      States: {
        ActivityTask: {
          Type: 'Task',
          Resource: 'arn:aws:states:us-east-1:000000000000:activity:a',
          End: true,
        },
      },
    };
    expect(message(sync, 'EXPRESS')).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/StartExecution/Resource'",
    );
    expect(message(activity, 'EXPRESS')).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support Activity ARN at /States/ActivityTask/Resource'",
    );
    expect(standard(sync)).toEqual([]);
    expect(standard(activity)).toEqual([]);
  });

  it('refuses a JSONPath state in a JSONata machine', () => {
    // recorded: test_sfn_api_validation.snapshot.json::..._type_standard[INVALID_DOWNGRADE_QUERY_LANGUAGE]
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Pass',
      States: { Pass: { Type: 'Pass', QueryLanguage: 'JSONPath', Output: { v: '{% 1 %}' }, End: true } },
    };
    expect(standard(definition)).toEqual([
      schema(
        "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
        '/States/Pass',
      ),
    ]);
    expect(express(definition)).toHaveLength(1);
  });
});

describe('transitions (reported: localstack/localstack#11978, floci-io/floci#2735)', () => {
  it('names a missing Next target and an unreachable state, joined as AWS joins them', () => {
    const definition = {
      StartAt: 'pass1',
      States: { pass1: { Type: 'Pass', Next: 'pass3' }, pass2: { Type: 'Pass', End: true } },
    };
    expect(message(definition)).toBe(
      "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'",
    );
  });

  it('checks Choice, Default and Catch targets, and states in branches and processors', () => {
    const definition = {
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [{ Variable: '$.x', IsPresent: true, Next: 'Ghost1' }],
          Default: 'Ghost2',
        },
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'f' },
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Ghost3' }],
          End: true,
        },
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'W', States: { W: pass, Lost: pass } }],
          End: true,
        },
      },
    };
    expect(standard(definition).map((p) => `${p.code} ${p.message} ${p.location}`)).toEqual([
      'MISSING_TRANSITION_TARGET State "Lost" is not reachable. /States/P/Branches[0]/States/Lost',
      "MISSING_TRANSITION_TARGET Missing 'Next' target: Ghost1 /States/C/Choices[0]/Next",
      "MISSING_TRANSITION_TARGET Missing 'Next' target: Ghost2 /States/C/Default",
      "MISSING_TRANSITION_TARGET Missing 'Next' target: Ghost3 /States/T/Catch[0]/Next",
      'MISSING_TRANSITION_TARGET State "T" is not reachable. /States/T',
      'MISSING_TRANSITION_TARGET State "P" is not reachable. /States/P',
    ]);
  });

  it('refuses a machine without a terminal state ("at null"), and only at the top level', () => {
    const loop = { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', Next: 'A' } };
    expect(message({ StartAt: 'A', States: loop })).toBe(
      "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'",
    );
    const nested = { Type: 'Map', ItemProcessor: { StartAt: 'A', States: loop }, End: true };
    expect(standard(single(nested))).toEqual([]);
  });
});

describe('fields per state type and query language (reported: floci-io/floci#2735, #2968)', () => {
  it('refuses a field the state type does not take', () => {
    expect(message(single({ Type: 'Pass', TimeoutSeconds: 5, End: true }))).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/S'",
    );
    expect(standard(single({ Type: 'Pass', Catch: [], End: true }))).toEqual([
      schema("Field 'Catch' is not supported", '/States/S'),
    ]);
  });

  it('refuses JSONPath fields in a JSONata state', () => {
    const state = { Type: 'Pass', InputPath: '$.a', Parameters: {}, ResultPath: '$.c', End: true };
    expect(standard(jsonata(state)).map((p) => p.message)).toEqual([
      "The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage",
      "The QueryLanguage is set to 'JSONata', but field 'Parameters' is only supported for the 'JSONPath' QueryLanguage",
      "The QueryLanguage is set to 'JSONata', but field 'ResultPath' is only supported for the 'JSONPath' QueryLanguage",
    ]);
    const map = {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemProcessor: { StartAt: 'P', States: { P: pass } },
      End: true,
    };
    expect(standard(jsonata(map))[0]?.message).toContain(
      "field 'ItemsPath' is only supported for the 'JSONPath'",
    );
  });

  it('refuses JSONata fields in a JSONPath state, a Condition in a JSONPath Choice rule', () => {
    expect(
      standard(
        single({ Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Arguments: {}, End: true }),
      ),
    ).toEqual([
      schema(
        "The QueryLanguage is set to 'JSONPath', but field 'Arguments' is only supported for the 'JSONata' QueryLanguage",
        '/States/S',
      ),
    ]);
    const choice = { Type: 'Choice', Choices: [{ Condition: '{% true %}', Next: 'S' }] };
    expect(standard(single(choice)).map((p) => p.message)).toContain(
      "The QueryLanguage is set to 'JSONPath', but field 'Condition' is only supported for the 'JSONata' QueryLanguage",
    );
  });

  it('takes each state QueryLanguage, nested states inheriting the machine one', () => {
    const map = {
      Type: 'Map',
      QueryLanguage: 'JSONata',
      Items: '{% [1, 2] %}',
      ItemProcessor: {
        StartAt: 'P',
        States: { P: { Type: 'Pass', Output: '{% $states.input %}', End: true } },
      },
      End: true,
    };
    expect(standard(single(map))).toEqual([
      schema(
        "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage",
        '/States/S/ItemProcessor/States/P',
      ),
    ]);
    expect(
      standard(single({ ...map, ItemProcessor: { ...map.ItemProcessor, QueryLanguage: 'JSONata' } })),
    ).toContainEqual(schema("Field 'QueryLanguage' is not supported", '/States/S/ItemProcessor'));
    expect(standard(single({ Type: 'Pass', QueryLanguage: 'jsonata', End: true }))).toEqual([
      schema('Value should be one of the following: [JSONPath, JSONata]', '/States/S/QueryLanguage'),
    ]);
  });

  it('accepts the JSONata fields of every state type', () => {
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Task',
      States: {
        Task: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Arguments: { FunctionName: 'f', Payload: '{% $states.input %}' },
          Output: '{% $states.result.Payload %}',
          Assign: { total: '{% $states.result.Payload.total %}' },
          TimeoutSeconds: '{% 30 %}',
          Retry: [{ ErrorEquals: ['States.Timeout'], MaxAttempts: 2 }, { ErrorEquals: ['States.ALL'] }],
          Catch: [{ ErrorEquals: ['States.ALL'], Output: '{% $states.errorOutput %}', Next: 'Failed' }],
          Next: 'Choose',
        },
        Choose: {
          Type: 'Choice',
          Choices: [{ Condition: '{% $total > 10 %}', Assign: { big: true }, Next: 'Each' }],
          Default: 'Wait',
        },
        Wait: { Type: 'Wait', Seconds: '{% 1 %}', Next: 'Each' },
        Each: {
          Type: 'Map',
          Items: '{% [1, 2, 3] %}',
          ItemSelector: { value: '{% $states.context.Map.Item.Value %}' },
          MaxConcurrency: '{% 2 %}',
          ToleratedFailurePercentage: 12.5,
          ItemProcessor: {
            StartAt: 'Inner',
            States: { Inner: { Type: 'Pass', Output: '{% $states.input %}', End: true } },
          },
          Next: 'Both',
        },
        Both: {
          Type: 'Parallel',
          Arguments: '{% $states.input %}',
          Branches: [{ StartAt: 'B', States: { B: { Type: 'Succeed', Output: '{% 1 %}' } } }],
          Next: 'Done',
        },
        Done: { Type: 'Succeed' },
        Failed: { Type: 'Fail', Error: '{% "E" %}', Cause: 'literal' },
      },
    };
    expect(standard(definition)).toEqual([]);
  });
});

describe('JSONata expressions (reported: floci-io/floci#2745)', () => {
  it.each([
    ['a[1,2)', 'Expected "]", got ","'],
    ['"unterminated', 'String literal must be terminated by a matching quote'],
    ['1 +', 'Unexpected end of expression'],
    ['{"a":}', 'The symbol "}" cannot be used as a unary operator'],
    ['$match("a", /abc', 'No terminating / in regular expression'],
    ['', 'Unexpected end of expression'],
  ])('refuses the expression %s with the parser message', (expression, text) => {
    expect(standard(jsonata({ Type: 'Pass', Output: `{% ${expression} %}`, End: true }))).toEqual([
      { code: 'INVALID_JSONATA_EXPRESSION', message: text, location: '/States/S/Output' },
    ]);
  });

  it('refuses $$, and $states.errorOutput outside a Catcher', () => {
    expect(standard(jsonata({ Type: 'Pass', Output: '{% $$ %}', End: true }))).toEqual([
      {
        code: 'UNSUPPORTED_JSONATA_EXPRESSION',
        message: "Reference to '$$' is not supported.",
        location: '/States/S/Output',
      },
    ]);
    expect(
      standard(jsonata({ Type: 'Pass', Output: '{% $states.errorOutput %}', End: true }))[0]?.message,
    ).toBe("Field '$states.errorOutput' does not exist.");
  });

  it('takes `{% %}` strings in a JSONPath state as literals', () => {
    expect(
      standard(
        single({ Type: 'Pass', Result: '{% 1 + %}', Assign: { list: [null, '{% $x %}'] }, End: true }),
      ),
    ).toEqual([]);
  });
});

describe('state shapes (texts reported by third-party rules or chosen, not recorded)', () => {
  it('takes exactly one of Next and End', () => {
    expect(standard(single({ Type: 'Pass' }))).toContainEqual(
      schema('This object should have only one of the following fields: [Next, End]', '/States/S'),
    );
    expect(standard(single({ Type: 'Pass', Next: 'S', End: true }))).toContainEqual(
      schema('There should only be one of the following fields: [Next, End]', '/States/S'),
    );
    expect(standard(single({ Type: 'Succeed', Next: 'S' }))).toEqual([
      schema("Field 'Next' is not supported", '/States/S'),
    ]);
  });

  it('requires States.ALL alone in the last retrier or catcher', () => {
    const task = (retry: unknown[]) =>
      single({
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: {},
        Retry: retry,
        End: true,
      });
    expect(standard(task([{ ErrorEquals: ['States.ALL', 'X'] }]))).toEqual([
      schema("'States.ALL' must appear alone in 'ErrorEquals'", '/States/S/Retry[0]/ErrorEquals'),
    ]);
    expect(standard(task([{ ErrorEquals: ['States.ALL'] }, { ErrorEquals: ['X'] }]))).toEqual([
      schema("The element with 'States.ALL' must be the last one", '/States/S/Retry[0]'),
    ]);
    expect(standard(task([{ ErrorEquals: [] }, { ErrorEquals: ['X'], BackoffRate: 0.5, Foo: 1 }]))).toEqual([
      schema('Value cannot be empty', '/States/S/Retry[0]/ErrorEquals'),
      schema("Field 'Foo' is not supported", '/States/S/Retry[1]'),
      schema('Minimum value is 1.0', '/States/S/Retry[1]/BackoffRate'),
    ]);
  });

  it('checks Choice rules: one operator, Next on top-level rules only, typed values', () => {
    const choice = (rule: Definition) => single({ Type: 'Choice', Choices: [rule], Default: 'D' }, {});
    const withDefault = (rule: Definition) => ({
      ...choice(rule),
      States: { S: { Type: 'Choice', Choices: [rule], Default: 'D' }, D: { Type: 'Succeed' } },
    });
    expect(
      standard(withDefault({ Variable: '$.x', StringEquals: 'a', NumericEquals: 1, Next: 'D' })),
    ).toEqual([
      schema(
        'There should only be one of the following fields: [StringEquals, NumericEquals]',
        '/States/S/Choices[0]',
      ),
    ]);
    expect(standard(withDefault({ Not: { Variable: '$.x', IsNull: true, Next: 'D' }, Next: 'D' }))).toEqual([
      schema("Field 'Next' is not supported", '/States/S/Choices[0]/Not'),
    ]);
    expect(standard(withDefault({ Variable: '$.x', NumericEquals: '1', Next: 'D' }))).toEqual([
      schema('Expected value of type [NUMBER]', '/States/S/Choices[0]/NumericEquals'),
    ]);
    expect(standard(withDefault({ Variable: 'x', IsPresent: true }))).toEqual([
      schema('These fields are required: [Next]', '/States/S/Choices[0]'),
      schema(
        "Value is not a Reference Path: Reference path didn't start with '$'",
        '/States/S/Choices[0]/Variable',
      ),
    ]);
    expect(
      standard(
        withDefault({
          And: [
            { Variable: '$.a', IsPresent: true },
            { Variable: '$$.b', StringMatches: 'x*' },
          ],
          Next: 'D',
        }),
      ),
    ).toEqual([]);
  });

  it('checks Wait and Fail field combinations', () => {
    expect(standard(single({ Type: 'Wait', Seconds: 1, SecondsPath: '$.s', End: true }))).toEqual([
      schema(
        'There should only be one of the following fields: [SecondsPath, Seconds, TimestampPath, Timestamp]',
        '/States/S',
      ),
    ]);
    expect(standard(single({ Type: 'Wait', End: true }))[0]?.message).toBe(
      'This object should have only one of the following fields: [SecondsPath, Seconds, TimestampPath, Timestamp]',
    );
    expect(standard(single({ Type: 'Fail', Error: 'E', ErrorPath: '$.e' }))).toEqual([
      schema('There should only be one of the following fields: [Error, ErrorPath]', '/States/S/Error'),
    ]);
    expect(
      standard(single({ Type: 'Fail', ErrorPath: "States.Format('{}', $.e)", CausePath: '$.c' })),
    ).toEqual([]);
  });

  it('checks Map processors, concurrency and tolerated failures', () => {
    const processor = { StartAt: 'P', States: { P: pass } };
    expect(standard(single({ Type: 'Map', End: true }))).toEqual([
      schema(
        'This object should have only one of the following fields: [ItemProcessor, Iterator]',
        '/States/S',
      ),
    ]);
    expect(
      standard(single({ Type: 'Map', Iterator: processor, ItemProcessor: processor, End: true }))[0],
    ).toEqual(
      schema('There should only be one of the following fields: [ItemProcessor, Iterator]', '/States/S'),
    );
    const map = (extra: Definition) => single({ Type: 'Map', ItemProcessor: processor, End: true, ...extra });
    expect(standard(map({ MaxConcurrency: -1 }))).toEqual([
      schema('Minimum value is 0', '/States/S/MaxConcurrency'),
    ]);
    expect(standard(map({ MaxConcurrency: 1, MaxConcurrencyPath: '$.n' }))).toEqual([
      schema(
        'There should only be one of the following fields: [MaxConcurrency, MaxConcurrencyPath]',
        '/States/S/MaxConcurrency',
      ),
    ]);
    expect(standard(map({ ToleratedFailurePercentage: 100.5 }))).toEqual([
      schema('Maximum value is 100.0', '/States/S/ToleratedFailurePercentage'),
    ]);
    expect(standard(map({ MaxConcurrencyPath: '$$.Execution.Input.n' }))).toEqual([
      schema('Value is not a Reference Path', '/States/S/MaxConcurrencyPath'),
    ]);
    expect(
      standard(map({ ItemsPath: '$$.Execution.Input.items', ToleratedFailurePercentage: 12.5 })),
    ).toEqual([]);
    expect(standard(map({ Label: 'label ?' }))[0]?.code).toBe('INVALID_LABEL_NAME');
  });

  it('checks paths: JSONPath for InputPath/OutputPath, Reference Paths for ResultPath and *Path fields', () => {
    const state = (extra: Definition) => single({ Type: 'Pass', End: true, ...extra });
    expect(standard(state({ InputPath: '$.a[', OutputPath: null }))).toEqual([
      schema('Value must be a valid JSONPath.', '/States/S/InputPath'),
    ]);
    expect(standard(state({ ResultPath: '$.a[*]' }))).toEqual([
      schema('Value is not a Reference Path', '/States/S/ResultPath'),
    ]);
    expect(standard(state({ Parameters: { 'x.$': 'States.Nope(1)' } }))).toEqual([
      schema(
        "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call",
        '/States/S/Parameters',
      ),
    ]);
    expect(
      standard(
        state({ InputPath: '$$.Execution.Input', ResultPath: "$.a['b c'][0]", OutputPath: '$myVar.x' }),
      ),
    ).toEqual([]);
  });
});
