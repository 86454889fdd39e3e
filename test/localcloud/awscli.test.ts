/**
 * A real third-party client: Debian's AWS CLI v2 (`/usr/bin/aws`, installed by `.ci/run` with apt-get when
 * missing) drives the local cloud through `--endpoint-url`, over the protocols it speaks itself (JSON for
 * DynamoDB and Step Functions, the query protocol for SQS in this CLI version).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { sdkConfig, sharedCloud } from '../support/localcloud';
import { untilExecutionEnds } from '../support/waiting';

const AWS = '/usr/bin/aws';
const run = promisify(execFile);
const cloud = sharedCloud();
/** This file's own resource names in the shared cloud. */
const RUN = Date.now().toString(36);
const TABLE = `CliOrders-${RUN}`;

async function aws(...args: string[]): Promise<unknown> {
  if (!existsSync(AWS))
    throw new Error(`${AWS} is missing: install Debian's AWS CLI v2 (apt-get install -y awscli)`);
  const { stdout } = await run(AWS, ['--endpoint-url', cloud.endpoint, '--output', 'json', ...args], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      AWS_ACCESS_KEY_ID: 'AKIDCLI',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_PAGER: '',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
    timeout: 60_000,
  });
  return stdout.trim() ? JSON.parse(stdout) : undefined;
}

let stateMachineArn: string;
let executionArn: string;
let queueUrl: string;

beforeAll(async () => {
  const config = sdkConfig(cloud);
  const dynamodb = new DynamoDBClient(config);
  const sfn = new SFNClient(config);
  const sqs = new SQSClient(config);
  await dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
    }),
  );
  await dynamodb.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: { orderId: { S: 'o-1' }, status: { S: 'CONFIRMED' } },
    }),
  );
  ({ stateMachineArn = '' } = await sfn.send(
    new CreateStateMachineCommand({
      name: `cli-saga-${RUN}`,
      roleArn: 'arn:aws:iam::000000000000:role/sfn',
      definition: JSON.stringify({
        StartAt: 'Reserve',
        States: {
          Reserve: { Type: 'Pass', Result: { reserved: true }, ResultPath: '$.reserve', Next: 'Done' },
          Done: { Type: 'Succeed' },
        },
      }),
    }),
  ));
  ({ executionArn = '' } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name: 'order-cli-1', input: '{"orderId":"o-1"}' }),
  ));
  await untilExecutionEnds(sfn, executionArn);
  ({ QueueUrl: queueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: `cli-dlq-${RUN}` })));
  await sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"orderId":"o-1","step":"RefundPayment"}' }),
  );
  dynamodb.destroy();
  sfn.destroy();
  sqs.destroy();
});

describe('the AWS CLI v2 against the local cloud', () => {
  it('stepfunctions list-executions', async () => {
    const out = (await aws('stepfunctions', 'list-executions', '--state-machine-arn', stateMachineArn)) as {
      executions: Array<{ executionArn: string; name: string; status: string }>;
    };

    expect(out.executions).toEqual([
      expect.objectContaining({ executionArn, name: 'order-cli-1', status: 'SUCCEEDED' }),
    ]);
  });

  it('stepfunctions get-execution-history', async () => {
    const out = (await aws('stepfunctions', 'get-execution-history', '--execution-arn', executionArn)) as {
      events: Array<{ type: string; id: number }>;
    };
    const types = out.events.map((e) => e.type);

    expect(types[0]).toBe('ExecutionStarted');
    expect(types).toContain('PassStateEntered');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(out.events.map((e) => e.id)).toEqual(out.events.map((_, i) => i + 1));
  });

  it('dynamodb get-item', async () => {
    const out = await aws('dynamodb', 'get-item', '--table-name', TABLE, '--key', '{"orderId":{"S":"o-1"}}');

    expect(out).toEqual({ Item: { orderId: { S: 'o-1' }, status: { S: 'CONFIRMED' } } });
  });

  it('sqs receive-message, on the queue URL the local cloud handed out', async () => {
    const out = (await aws(
      'sqs',
      'receive-message',
      '--queue-url',
      queueUrl,
      '--wait-time-seconds',
      '1',
    )) as {
      Messages: Array<{ Body: string }>;
    };

    expect(queueUrl.startsWith(cloud.endpoint)).toBe(true);
    expect(out.Messages.map((m) => JSON.parse(m.Body))).toEqual([{ orderId: 'o-1', step: 'RefundPayment' }]);
  });

  it('sqs get-queue-attributes counts in-flight messages as not visible, as AWS does', async () => {
    const sqs = new SQSClient(sdkConfig(cloud));
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: `cli-depth-${RUN}` }));
    for (const body of ['a', 'b', 'c'])
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
    sqs.destroy();
    await aws('sqs', 'receive-message', '--queue-url', QueueUrl, '--max-number-of-messages', '1');

    const out = (await aws(
      'sqs',
      'get-queue-attributes',
      '--queue-url',
      QueueUrl,
      '--attribute-names',
      'All',
    )) as {
      Attributes: Record<string, string>;
    };

    expect(out.Attributes.ApproximateNumberOfMessages).toBe('2');
    expect(out.Attributes.ApproximateNumberOfMessagesNotVisible).toBe('1');
  });

  it('gets AWS-style errors for missing resources', async () => {
    const failure = await aws(
      'dynamodb',
      'get-item',
      '--table-name',
      'NoSuchTable',
      '--key',
      '{"k":{"S":"x"}}',
    ).catch((error: { stderr?: string }) => error);

    expect((failure as { stderr?: string }).stderr).toContain('ResourceNotFoundException');
  });
});
