import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLocal, JavaMissingError } from '../../localcloud/dynamodb/local';
import { MAX_BODY_BYTES } from '../../localcloud/edge';
import { sdkConfig, sharedCloud } from '../support/localcloud';

const cloud = sharedCloud();
/** This file's own resource names in the shared cloud. */
const RUN = Date.now().toString(36);
const TABLE = `EdgeAccounts-${RUN}`;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;

beforeAll(async () => {
  dynamodb = new DynamoDBClient(sdkConfig(cloud));
  sqs = new SQSClient(sdkConfig(cloud));
});

afterAll(async () => {
  dynamodb?.destroy();
  sqs?.destroy();
});

async function post(headers: Record<string, string>, body: string | Buffer): Promise<Response> {
  return fetch(cloud.endpoint, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
}

const DDB_AUTH =
  'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';

describe('edge: malformed requests get AWS-style errors and the runtime keeps serving', () => {
  it('answers an unsigned request that names no service with 403 MissingAuthenticationToken', async () => {
    const res = await post({ 'content-type': 'application/json' }, '{}');

    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });

  it('answers an unknown DynamoDB operation with UnknownOperationException', async () => {
    const res = await post(
      {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.MakeCoffee',
        authorization: DDB_AUTH,
      },
      '{}',
    );

    expect(res.status).toBe(400);
    expect(await res.text()).toContain('UnknownOperationException');
  });

  it('answers malformed JSON with a 400 serialization/validation error', async () => {
    const res = await post(
      {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: DDB_AUTH,
      },
      '{"Limit": ',
    );

    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/SerializationException|ValidationException/);
  });

  it('answers a body over the limit with 413 and keeps serving', async () => {
    const res = await post(
      { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      Buffer.alloc(MAX_BODY_BYTES + 1, 32),
    );
    const health = await fetch(`${cloud.endpoint}/_localcloud/health`);

    expect(res.status).toBe(413);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ready' });
  });
});

describe('edge: DynamoDB Local start-up errors', () => {
  it('names the fix when Java is missing', async () => {
    const local = new DynamoDbLocal({ java: 'java-that-is-not-installed' });

    const error = await local.start().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(JavaMissingError);
    expect((error as Error).message).toMatch(/Java 17.*apt-get install -y openjdk-17-jre-headless/s);
  });
});

describe('edge: local cloud pages', () => {
  it('serves the health, the outputs and the console on the edge', async () => {
    const health = await fetch(`${cloud.endpoint}/_localcloud/health`);
    const outputs = await fetch(`${cloud.endpoint}/_localcloud/outputs`);
    const lambda = await fetch(`${cloud.endpoint}/_localcloud/lambda`);
    const page = await fetch(cloud.consoleUrl);

    expect(await health.json()).toMatchObject({ status: 'ready', endpoint: cloud.endpoint });
    expect(await outputs.json()).toMatchObject({ Endpoint: cloud.endpoint, ConsoleUrl: cloud.consoleUrl });
    expect(await lambda.json()).toEqual({
      concurrencyLimit: 1000,
      inFlight: expect.any(Number),
      queuedEvents: expect.any(Number),
      throttled: 0,
      throttledByFunction: {},
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });
});

describe('edge: DynamoDB Local behind the edge', () => {
  it('creates a table, writes with TransactWriteItems and reports cancellation reasons', async () => {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'customerId', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'customerId', KeyType: 'HASH' }],
      }),
    );
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { customerId: { S: 'c1' }, balance: { N: '100' } },
      }),
    );

    const debit = (amount: number) =>
      dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: TABLE,
                Key: { customerId: { S: 'c1' } },
                UpdateExpression: 'SET balance = balance - :a',
                ConditionExpression: 'balance >= :a',
                ExpressionAttributeValues: { ':a': { N: String(amount) } },
              },
            },
          ],
        }),
      );
    await debit(60);
    const refused = await debit(60).catch((error: unknown) => error);
    const item = await dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { customerId: { S: 'c1' } } }),
    );

    expect(refused).toBeInstanceOf(TransactionCanceledException);
    expect((refused as TransactionCanceledException).CancellationReasons?.[0]?.Code).toBe(
      'ConditionalCheckFailed',
    );
    expect(item.Item?.balance?.N).toBe('40');
  });
});

describe('edge: SQS behind the edge', () => {
  it('hands out queue URLs on the edge and round-trips a message over the JSON protocol', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `edge-test-queue-${RUN}` }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"hello":"world"}' }));

    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const message = received.Messages?.[0];
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message?.ReceiptHandle }));
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );

    expect(QueueUrl).toBe(`${cloud.endpoint}/000000000000/edge-test-queue-${RUN}`);
    expect(message?.Body).toBe('{"hello":"world"}');
    expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe('0');
  });

  it('reports in-flight messages as not visible (ApproximateNumberOfMessages = visible only, as on AWS)', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `edge-depth-queue-${RUN}` }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'one' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'two' }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }));

    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );

    expect(Attributes).toMatchObject({
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '1',
    });
  });
});
