/**
 * Task integrations as AWS runs them, through a whole local cloud (DynamoDB Local, the SQS emulator,
 * Lambda workers, Step Functions) and the ordinary AWS SDK clients: `aws-sdk:<service>:<action>` outputs
 * and error names, the optimised DynamoDB/SQS integrations' validation errors, and Lambda Invoke details
 * (qualified not-found ARN, LogType Tail, Qualifier, InvocationType Event).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../localcloud/cloud';
import { resourceDefinitionError } from '../../localcloud/stepfunctions/integrations';
import { sdkConfig, startTestCloud } from '../support/localcloud';
import { addNodeFunction, type Outcome, outcomeOf } from '../support/states-harness';

let cloud: LocalCloud;
let workDir: string;
let sfn: SFNClient;
let lambda: LambdaClient;
const ROLE = 'arn:aws:iam::000000000000:role/StatesRole';
const TABLE = 'fidelity_table';
const QUEUE = 'fidelity-queue';
const AWS_QUEUE_URL = `https://sqs.us-east-1.amazonaws.com/123456789012/${QUEUE}`;
let machines = 0;

/** Creates a state machine, runs it to the end and returns its outcome. */
async function run(definition: object, input: unknown = {}): Promise<Outcome> {
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: `fidelity-${++machines}`,
      definition: JSON.stringify(definition),
      roleArn: ROLE,
    }),
  );
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
  );
  return outcomeOf(sfn, executionArn ?? '');
}

/** One Task state with `Parameters.$`-free parameters taken from the input. */
const task = (resource: string, parameters: object, extra: object = {}) => ({
  StartAt: 'Task',
  States: { Task: { Type: 'Task', Resource: resource, Parameters: parameters, End: true, ...extra } },
});

beforeAll(async () => {
  cloud = await startTestCloud({ assembly: false });
  workDir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-fidelity-'));
  const config = sdkConfig(cloud);
  sfn = new SFNClient(config);
  lambda = new LambdaClient(config);
  const dynamodb = new DynamoDBClient(config);
  await dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  dynamodb.destroy();
  const sqs = new SQSClient(config);
  await sqs.send(new CreateQueueCommand({ QueueName: QUEUE }));
  sqs.destroy();
  await addNodeFunction(
    cloud.services.lambda,
    workDir,
    'echo',
    'exports.handler = async (event) => { console.log("echo"); return event; };',
  );
});

afterAll(async () => {
  sfn?.destroy();
  lambda?.destroy();
  await cloud?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('aws-sdk:dynamodb', () => {
  it('returns the plain SDK output of every action (no SdkHttpMetadata), binary values as base64', async () => {
    // Prepare
    const definition = {
      StartAt: 'Put',
      States: {
        Put: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:dynamodb:putItem',
          Parameters: { TableName: TABLE, Item: { id: { S: 'a' }, blob: { B: 'AAEC' } } },
          ResultPath: '$.put',
          Next: 'Update',
        },
        Update: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:dynamodb:updateItem',
          Parameters: {
            TableName: TABLE,
            Key: { id: { S: 'a' } },
            UpdateExpression: 'SET n = :n',
            ExpressionAttributeValues: { ':n': { N: '7' } },
            ReturnValues: 'UPDATED_NEW',
          },
          ResultPath: '$.update',
          Next: 'Query',
        },
        Query: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:dynamodb:query',
          Parameters: {
            TableName: TABLE,
            KeyConditionExpression: 'id = :id',
            ExpressionAttributeValues: { ':id': { S: 'a' } },
          },
          ResultPath: '$.query',
          Next: 'Delete',
        },
        Delete: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:dynamodb:deleteItem',
          Parameters: { TableName: TABLE, Key: { id: { S: 'a' } }, ReturnValues: 'ALL_OLD' },
          ResultPath: '$.delete',
          End: true,
        },
      },
    };

    // Act
    const outcome = await run(definition);

    // Assess
    expect(outcome).toEqual({
      status: 'SUCCEEDED',
      output: {
        put: {},
        update: { Attributes: { n: { N: '7' } } },
        query: { Count: 1, ScannedCount: 1, Items: [{ id: { S: 'a' }, blob: { B: 'AAEC' }, n: { N: '7' } }] },
        delete: { Attributes: { id: { S: 'a' }, blob: { B: 'AAEC' }, n: { N: '7' } } },
      },
    });
  });

  it('names errors the SDK v2 way, so Catch on DynamoDb.<Exception> matches', async () => {
    // Prepare
    const definition = task(
      'arn:aws:states:::aws-sdk:dynamodb:putItem',
      { TableName: 'no_such_table', Item: { id: { S: 'a' } } },
      { Catch: [{ ErrorEquals: ['DynamoDb.ResourceNotFoundException'], Next: 'Caught' }] },
    );
    Object.assign(definition.States, { Caught: { Type: 'Pass', End: true } });

    // Act
    const caught = await run(definition);
    const invalid = await run(
      task('arn:aws:states:::aws-sdk:dynamodb:putItem', { 'TableName.$': '$.table', 'Item.$': '$.item' }),
      { table: TABLE, item: null },
    );

    // Assess
    expect(caught.status).toBe('SUCCEEDED');
    expect(caught.output).toEqual({
      Error: 'DynamoDb.ResourceNotFoundException',
      Cause: expect.stringMatching(
        /^Requested resource not found \(Service: DynamoDb, Status Code: 400, Request ID: [^)]+\)/,
      ),
    });
    expect(invalid).toMatchObject({
      status: 'FAILED',
      error: 'DynamoDb.DynamoDbException',
      cause: expect.stringMatching(
        /^1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null \(Service: DynamoDb, Status Code: 400, /,
      ),
    });
  });
});

describe('dynamodb optimised integrations', () => {
  it('reports AWS validation errors as DynamoDB.AmazonDynamoDBException with the Java SDK v1 cause', async () => {
    // Act
    const outcome = await run(
      task('arn:aws:states:::dynamodb:putItem', { 'TableName.$': '$.table', Item: { id: { S: 'a' } } }),
      { table: '/bad' },
    );

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'DynamoDB.AmazonDynamoDBException' });
    expect(outcome.cause).toMatch(
      /^1 validation error detected: Value '\/bad' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: \[a-zA-Z0-9_.-\]\+ \(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ValidationException; Request ID: .+; Proxy: null\)$/,
    );
  });

  it('names a modeled error after its class: DynamoDB.ConditionalCheckFailedException', async () => {
    // Act
    const outcome = await run(
      task('arn:aws:states:::dynamodb:putItem', {
        TableName: TABLE,
        Item: { id: { S: 'cond' } },
        ConditionExpression: 'attribute_exists(id)',
      }),
    );

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'DynamoDB.ConditionalCheckFailedException' });
    expect(outcome.cause).toMatch(
      /^The conditional request failed \(Service: AmazonDynamoDBv2; Status Code: 400; /,
    );
  });
});

describe('sqs', () => {
  it('aws-sdk:sqs sends, receives and deletes with an AWS-style QueueUrl, plain SDK outputs', async () => {
    // Prepare
    const definition = {
      StartAt: 'Send',
      States: {
        Send: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:sqs:sendMessage',
          Parameters: { QueueUrl: AWS_QUEUE_URL, MessageBody: { hello: 'world' } },
          ResultPath: '$.sent',
          Next: 'Receive',
        },
        Receive: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:sqs:receiveMessage',
          Parameters: { QueueUrl: AWS_QUEUE_URL, WaitTimeSeconds: 1 },
          ResultPath: '$.received',
          Next: 'Delete',
        },
        Delete: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:sqs:deleteMessage',
          Parameters: { QueueUrl: AWS_QUEUE_URL, 'ReceiptHandle.$': '$.received.Messages[0].ReceiptHandle' },
          ResultPath: '$.deleted',
          End: true,
        },
      },
    };

    // Act
    const outcome = await run(definition);

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const output = outcome.output as {
      sent: Record<string, unknown>;
      received: { Messages: Array<{ Body: string }> };
      deleted: unknown;
    };
    expect(Object.keys(output.sent).sort()).toEqual(['MD5OfMessageBody', 'MessageId']);
    expect(output.received.Messages.map((m) => m.Body)).toEqual(['{"hello":"world"}']);
    expect(output.deleted).toEqual({});
  });

  it('aws-sdk:sqs on a missing queue fails with Sqs.QueueDoesNotExistException', async () => {
    // Act
    const outcome = await run(
      task('arn:aws:states:::aws-sdk:sqs:getQueueAttributes', {
        QueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue',
        AttributeNames: ['All'],
      }),
    );

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'Sqs.QueueDoesNotExistException' });
    expect(outcome.cause).toMatch(/\(Service: Sqs, Status Code: 400, Request ID: .+\)/);
  });

  it('sqs:sendMessage with a null MessageBody is SQS.AmazonSQSException MissingParameter', async () => {
    // Act
    const outcome = await run(
      task('arn:aws:states:::sqs:sendMessage', { QueueUrl: AWS_QUEUE_URL, 'MessageBody.$': '$.body' }),
      { body: null },
    );

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'SQS.AmazonSQSException' });
    expect(outcome.cause).toMatch(
      /^The request must contain the parameter MessageBody\. \(Service: AmazonSQS; Status Code: 400; Error Code: MissingParameter; Request ID: .+; Proxy: null\)$/,
    );
  });

  it('sqs:sendMessage to a host that is not SQS fails with SQS.SdkClientException', async () => {
    // Act
    const outcome = await run(
      task('arn:aws:states:::sqs:sendMessage', { QueueUrl: 'http://no-such-host-42', MessageBody: 'x' }),
    );

    // Assess
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'SQS.SdkClientException',
      cause: 'Unable to execute HTTP request: no-such-host-42: Name or service not known',
    });
  });
});

describe('lambda', () => {
  it("Invoke's not-found error names the qualified ARN ($LATEST when none was given)", async () => {
    // Act
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'no_such_function' })).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as Error).message).toBe(
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:no_such_function:$LATEST',
    );
  });

  it('lambda:invoke of a missing function or version is Lambda.ResourceNotFoundException', async () => {
    // Act
    const missing = await run(task('arn:aws:states:::lambda:invoke', { FunctionName: 'no_such_function' }));
    const version = await run(
      task('arn:aws:states:::lambda:invoke', { FunctionName: 'echo', Qualifier: '1' }),
    );

    // Assess
    expect(missing).toMatchObject({ status: 'FAILED', error: 'Lambda.ResourceNotFoundException' });
    expect(missing.cause).toMatch(
      /^Function not found: arn:aws:lambda:us-east-1:\d{12}:function:no_such_function:\$LATEST \(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; /,
    );
    expect(version.cause).toMatch(/^Function not found: arn:aws:lambda:us-east-1:\d{12}:function:echo:1 /);
  });

  it('lambda:invoke with LogType Tail adds LogResult, the base64 tail of the invocation log', async () => {
    // Act
    const outcome = await run(
      task('arn:aws:states:::lambda:invoke', {
        FunctionName: 'echo',
        Qualifier: '$LATEST',
        Payload: { a: 1 },
        LogType: 'Tail',
      }),
    );

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const output = outcome.output as { LogResult: string; Payload: unknown; ExecutedVersion: string };
    expect(output.Payload).toEqual({ a: 1 });
    expect(output.ExecutedVersion).toBe('$LATEST');
    expect(Buffer.from(output.LogResult, 'base64').toString('utf8')).toMatch(/START RequestId: .+echo/s);
  });

  it('lambda:invoke with InvocationType Event answers 202 with an empty Payload', async () => {
    // Act
    const outcome = await run(
      task('arn:aws:states:::lambda:invoke', { FunctionName: 'echo', InvocationType: 'Event', Payload: {} }),
    );

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.output).toMatchObject({
      Payload: '',
      StatusCode: 202,
      SdkHttpMetadata: { HttpStatusCode: 202 },
    });
  });
});

describe('aws-sdk:sfn', () => {
  it('startExecution serialises a JSON Input and returns {ExecutionArn, StartDate}', async () => {
    // Prepare
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'fidelity-target',
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
        roleArn: ROLE,
      }),
    );

    // Act
    const outcome = await run(
      task('arn:aws:states:::aws-sdk:sfn:startExecution', {
        StateMachineArn: stateMachineArn,
        Input: { OrderId: 'o-1', items: [{ Sku: 'A', qty: 2 }], Nested: { innerKey: true } },
      }),
    );

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const output = outcome.output as { ExecutionArn: string; StartDate: string };
    expect(Object.keys(output).sort()).toEqual(['ExecutionArn', 'StartDate']);
    expect(new Date(output.StartDate).toISOString()).toBe(output.StartDate);
    const started = await sfn.send(new DescribeExecutionCommand({ executionArn: output.ExecutionArn }));
    // The child gets the Input exactly as written: its keys are the user's, not wire members to rename.
    expect(JSON.parse(started.input ?? '')).toEqual({
      OrderId: 'o-1',
      items: [{ Sku: 'A', qty: 2 }],
      Nested: { innerKey: true },
    });
  });
});

describe('resourceDefinitionError', () => {
  it('refuses optimised integrations and aws-sdk actions that do not exist, as CreateStateMachine does', () => {
    // Act
    const verdicts = Object.fromEntries(
      [
        'arn:aws:states:::dynamodb:query',
        'arn:aws:states:::dynamodb:putItem',
        'arn:aws:states:::lambda:invoke.waitForTaskToken',
        'arn:aws:states:::sqs:receiveMessage',
        'arn:aws:states:::aws-sdk:dynamodb:query',
        'arn:aws:states:::aws-sdk:dynamodb:noSuchAction',
        'arn:aws:states:::aws-sdk:sqs:receiveMessage',
        'arn:aws:states:::sns:publish',
        'arn:aws:lambda:us-east-1:000000000000:function:f',
      ].map((resource) => [resource, resourceDefinitionError(resource) !== undefined]),
    );

    // Assess
    expect(verdicts).toEqual({
      'arn:aws:states:::dynamodb:query': true,
      'arn:aws:states:::dynamodb:putItem': false,
      'arn:aws:states:::lambda:invoke.waitForTaskToken': false,
      'arn:aws:states:::sqs:receiveMessage': true,
      'arn:aws:states:::aws-sdk:dynamodb:query': false,
      'arn:aws:states:::aws-sdk:dynamodb:noSuchAction': true,
      'arn:aws:states:::aws-sdk:sqs:receiveMessage': false,
      'arn:aws:states:::sns:publish': false,
      'arn:aws:lambda:us-east-1:000000000000:function:f': false,
    });
    expect(resourceDefinitionError('arn:aws:states:::dynamodb:query')).toBe(
      'The resource provided arn:aws:states:::dynamodb:query is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.',
    );
  });
});
