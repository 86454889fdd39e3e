/**
 * TestState on stepsaga's interpreter (`asl/test-state.ts`), for what the AWS recordings
 * (`conformance/cases/teststate-*.json`, run through the SDK by `conformance.test.ts`) do not show: a Task
 * without mock calls its real resource (a local Lambda function) and a retry is not waited for, JSONPath
 * catchers, variables after Assign, a Wait state, the callback pattern, mock shape checks in depth,
 * `stateName` inside a Parallel branch, ToleratedFailurePercentage.
 */
import { describe, expect, it } from 'vitest';
import {
  type TestStateDeps,
  TestStateRefusal,
  type TestStateRequest,
  type TestStateResponse,
  testState,
} from '../../../localcloud/stepfunctions/asl/test-state';
import { TaskTokens } from '../../../localcloud/stepfunctions/task-tokens';
import { interpreterRunner } from '../../support/interpreter';

/** Counts its invocations; throws `{throw: {name, message}}`, otherwise returns `{event, count}`. */
const COUNTING = `
let count = 0;
exports.handler = async (event) => {
  count++;
  if (event && event.throw) { const e = new Error(event.throw.message); e.name = event.throw.name; throw e; }
  return { event, count };
};`;
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:counting';
const ROLE = 'arn:aws:iam::000000000000:role/StepFunctionsRole';

const taskTokens = new TaskTokens();
const asl = interpreterRunner({ name: 'asl-test-state', functions: { counting: COUNTING } });

/** What testState() runs on: the local Lambda function, this file's task tokens. */
const environment = (): TestStateDeps => ({
  integrations: asl.integrations,
  taskTokens,
  region: 'us-east-1',
  account: '000000000000',
});

function test(
  request: Omit<TestStateRequest, 'definition'> & { definition: object },
): Promise<TestStateResponse> {
  return testState({ ...request, definition: JSON.stringify(request.definition) }, environment());
}

async function refusal(request: Parameters<typeof test>[0]): Promise<{ code: string; message: string }> {
  try {
    await test(request);
  } catch (error) {
    if (error instanceof TestStateRefusal) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('not refused');
}

const json = (text: string | undefined): unknown => (text === undefined ? undefined : JSON.parse(text));

describe('TestState: a Task without mock calls its resource', () => {
  it('invokes the local Lambda function once and shows the data flow', async () => {
    const response = await test({
      definition: {
        Type: 'Task',
        Resource: FUNCTION_ARN,
        ResultSelector: { 'got.$': '$.event' },
        Next: 'After',
      },
      roleArn: ROLE,
      input: '{"a":1}',
      inspectionLevel: 'DEBUG',
    });
    expect(response.status).toBe('SUCCEEDED');
    expect(response.nextState).toBe('After');
    expect(json(response.output)).toEqual({ got: { a: 1 } });
    expect(json(response.inspectionData?.result)).toMatchObject({ event: { a: 1 } });
    expect(json(response.inspectionData?.afterParameters)).toEqual({ a: 1 });
  });

  it('answers RETRIABLE for a matching retrier without waiting or calling again', async () => {
    const definition = {
      Type: 'Task',
      Resource: FUNCTION_ARN,
      Retry: [
        { ErrorEquals: ['Other'] },
        { ErrorEquals: ['Boom'], IntervalSeconds: 30, BackoffRate: 3, MaxAttempts: 4 },
      ],
      End: true,
    };
    const input = JSON.stringify({ throw: { name: 'Boom', message: 'it broke' } });
    const started = Date.now();
    const first = await test({ definition, roleArn: ROLE, input, inspectionLevel: 'TRACE' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(first).toMatchObject({ status: 'RETRIABLE', error: 'Boom' });
    expect(first.inspectionData?.errorDetails).toEqual({ retryIndex: 1, retryBackoffIntervalSeconds: 30 });
    // The third retry waits 30 × 3² seconds; once four are spent the error is final.
    const third = await test({
      definition,
      roleArn: ROLE,
      input,
      inspectionLevel: 'DEBUG',
      stateConfiguration: { retrierRetryCount: 2 },
    });
    expect(third.inspectionData?.errorDetails).toEqual({ retryIndex: 1, retryBackoffIntervalSeconds: 270 });
    const spent = await test({
      definition,
      roleArn: ROLE,
      input,
      inspectionLevel: 'DEBUG',
      stateConfiguration: { retrierRetryCount: 4 },
    });
    expect(spent.status).toBe('FAILED');
    expect(spent.inspectionData?.errorDetails).toEqual({ retryIndex: 1 });
  });
});

describe('TestState: Catch, variables, Wait', () => {
  it('a JSONPath catcher puts {Error, Cause} at its ResultPath and names its Next', async () => {
    const response = await test({
      definition: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'counting' },
        Catch: [
          { ErrorEquals: ['Nope'], Next: 'Never' },
          { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Handle' },
        ],
        End: true,
      },
      input: '{"order":7}',
      inspectionLevel: 'DEBUG',
      mock: { errorOutput: { error: 'Custom', cause: 'went wrong' } },
    });
    expect(response).toMatchObject({ status: 'CAUGHT_ERROR', nextState: 'Handle', error: 'Custom' });
    expect(json(response.output)).toEqual({ order: 7, failure: { Error: 'Custom', Cause: 'went wrong' } });
    expect(response.inspectionData?.errorDetails).toEqual({ catchIndex: 1 });
  });

  it('shows the variables after the state: the given ones and those it assigns', async () => {
    const response = await test({
      definition: { Type: 'Pass', Assign: { 'doubled.$': 'States.MathAdd($given, $given)' }, End: true },
      variables: '{"given":21}',
      inspectionLevel: 'DEBUG',
    });
    expect(json(response.inspectionData?.variables)).toEqual({ given: 21, doubled: 42 });
    const info = await test({ definition: { Type: 'Pass', End: true }, variables: '{"given":1}' });
    expect(info.inspectionData).toBeUndefined();
  });

  it('a Wait state answers at once with its Next', async () => {
    const started = Date.now();
    const response = await test({ definition: { Type: 'Wait', Seconds: 3600, Next: 'Later' }, input: '[1]' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(response).toEqual({ status: 'SUCCEEDED', output: '[1]', nextState: 'Later' });
  });
});

describe('TestState: the callback pattern and the Context Object', () => {
  const waiting = {
    Type: 'Task',
    Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
    Parameters: { QueueUrl: 'q', 'MessageBody.$': '$$.Task.Token' },
    End: true,
  };

  it('needs a mock, then answers with it; $$.Task.Token is a token of this run', async () => {
    expect(await refusal({ definition: waiting, roleArn: ROLE })).toEqual({
      code: 'ValidationException',
      message:
        'TestState does not support the .sync or .waitForTaskToken integration patterns when a mock is not specified.',
    });
    const response = await test({
      definition: waiting,
      inspectionLevel: 'DEBUG',
      mock: { result: '{"ok":true}' },
    });
    expect(response.output).toBe('{"ok":true}');
    const parameters = json(response.inspectionData?.afterParameters) as { MessageBody: unknown };
    expect(typeof parameters.MessageBody).toBe('string');
  });

  it('refuses a context without a mock, and context fields of the wrong type', async () => {
    const pass = { Type: 'Pass', End: true };
    expect((await refusal({ definition: pass, context: '{}' })).message).toBe(
      'TestState does not support Context when a mock is not specified.',
    );
    const task = { Type: 'Task', Resource: FUNCTION_ARN, End: true };
    expect(
      (await refusal({ definition: task, context: '{"State":{"Name":7}}', mock: { result: '{}' } })).message,
    ).toBe('Invalid Context object provided: State.Name must be a string');
  });
});

describe('TestState: mocked results against the API shapes', () => {
  const putItem = { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:getItem', End: true };

  it('checks nested structures, maps and enums; unknown fields pass', async () => {
    const item = { Item: { id: { S: 'a' }, n: { N: '1' } }, Extra: { anything: [1] } };
    expect((await test({ definition: putItem, mock: { result: JSON.stringify(item) } })).status).toBe(
      'SUCCEEDED',
    );
    expect(
      (await refusal({ definition: putItem, mock: { result: '{"Item":{"id":{"BOOL":"yes"}}}' } })).message,
    ).toBe("Mock result schema validation error: Field 'BOOL' must be a boolean");
    const send = { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:sfn:describeExecution', End: true };
    const described = { ExecutionArn: 'a', StateMachineArn: 'b', Status: 'DONE', StartDate: 'now' };
    expect((await refusal({ definition: send, mock: { result: JSON.stringify(described) } })).message).toBe(
      "Mock result schema validation error: Field 'Status' is not an expected value",
    );
    expect(
      (
        await test({
          definition: send,
          mock: { result: JSON.stringify(described), fieldValidationMode: 'NONE' },
        })
      ).status,
    ).toBe('SUCCEEDED');
  });

  it('STRICT wants the required fields, PRESENT does not; lambda:invoke takes any Payload', async () => {
    const start = { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:sfn:startExecution', End: true };
    expect((await refusal({ definition: start, mock: { result: '{"ExecutionArn":"a"}' } })).message).toBe(
      "Mock result schema validation error: Required field 'StartDate' is missing",
    );
    const present = await test({
      definition: start,
      mock: { result: '{"ExecutionArn":"a"}', fieldValidationMode: 'PRESENT' },
    });
    expect(present.status).toBe('SUCCEEDED');
    const invoke = { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true };
    const payload = await test({
      definition: invoke,
      mock: { result: '{"StatusCode":200,"Payload":{"x":[1]}}' },
    });
    expect(json(payload.output)).toEqual({ StatusCode: 200, Payload: { x: [1] } });
  });
});

describe('TestState: state machines, Map and Parallel', () => {
  it('finds stateName inside a Parallel branch, with the query language it inherits', async () => {
    const machine = {
      QueryLanguage: 'JSONata',
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Inner',
              States: { Inner: { Type: 'Pass', Output: '{% $states.input.v * 2 %}', End: true } },
            },
          ],
          End: true,
        },
      },
    };
    const response = await test({ definition: machine, stateName: 'Inner', input: '{"v":4}' });
    expect(response).toEqual({ status: 'SUCCEEDED', output: '8' });
  });

  it('a mocked Map fails over its ToleratedFailurePercentage, and shows its items (JSONPath)', async () => {
    const map = {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'I',
        States: { I: { Type: 'Pass', End: true } },
      },
      ToleratedFailurePercentage: 50,
      End: true,
    };
    const input = '{"items":[1,2,3,4]}';
    const within = await test({
      definition: map,
      input,
      inspectionLevel: 'DEBUG',
      mock: { result: '[1,2,3,4]' },
      stateConfiguration: { mapIterationFailureCount: 2 },
    });
    expect(within.status).toBe('SUCCEEDED');
    expect(within.inspectionData).toMatchObject({
      afterItemsPath: '[1,2,3,4]',
      maxConcurrency: 0,
      toleratedFailurePercentage: 50,
    });
    const over = await test({
      definition: map,
      input,
      mock: { result: '[1,2,3,4]' },
      stateConfiguration: { mapIterationFailureCount: 3 },
    });
    expect(over).toEqual({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
      cause: 'The specified tolerated failure threshold was exceeded',
    });
  });

  it('refuses a definition that is not JSON as AWS does', async () => {
    const response = await testState({ definition: '{"Type":' }, environment()).catch(
      (error: unknown) => error,
    );
    expect(response).toBeInstanceOf(TestStateRefusal);
    expect((response as TestStateRefusal).code).toBe('InvalidDefinition');
    expect((response as TestStateRefusal).message).toMatch(
      /^Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: /,
    );
  });
});
