/**
 * `npm start -- --persist DIR`, stopped (SIGTERM) and started again on the same directory: executions and
 * their histories, SQS messages (the DLQ, one in flight, one delayed) and a waiting callback token are all
 * there, and the console lists the executions. What clients send while a restart restores: it waits, then
 * lands beside what the last run left, once. Functions created through the Lambda API come back. A busy
 * queue's journal is compacted as the local cloud runs.
 */
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudProcess } from '../../chaos/process';
import { runChaos } from '../../chaos/run';
import { awsSettings, makeTarget, parseOutputs } from '../../client/target';
import type { LocalCloud, LocalCloudOptions } from '../../localcloud/cloud';
import { freePort } from '../../localcloud/dynamodb/local';
import { ensureAssembly, sdkConfig, startTestCloud } from '../support/localcloud';
import { pollUntil, untilExecutionEnds } from '../support/waiting';

const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
  pollUntil(what, probe, { timeoutMs: 60_000, intervalMs: 200 });

/** A queue's visible, in-flight and delayed message counts. */
const depthOf = async (sqs: SQSClient, url: string | undefined) =>
  (
    await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    )
  ).Attributes;

describe('npm start -- --persist DIR, stopped and started again', () => {
  let dir: string;
  let cloud: CloudProcess;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-persist-'));
    cloud = new CloudProcess({
      persistDir: dir,
      port: await freePort(),
      assembly: await ensureAssembly(),
      retryScale: 0.01,
      outputsFile: path.join(dir, 'outputs.json'),
    });
    await cloud.start();
  });

  afterAll(async () => {
    await cloud?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps executions, histories, SQS messages and a waiting task token, and the console lists them', async () => {
    // Prepare: a batch of sagas with faults, a callback waiting on a token, messages in every state
    const target = makeTarget('local', parseOutputs(cloud.outputs(), 'outputs'), cloud.endpoint);
    const aws = awsSettings(cloud.endpoint, target.outputs);
    const sfn = new SFNClient(aws);
    const sqs = new SQSClient(aws);
    const report = await runChaos(target, { seed: 16, sagas: 8, concurrency: 4, namespace: 'persist16' });
    expect(report.violations).toBe(0);

    const { QueueUrl: tokens } = await sqs.send(new CreateQueueCommand({ QueueName: 'persist-tokens' }));
    const { QueueUrl: mail } = await sqs.send(new CreateQueueCommand({ QueueName: 'persist-mail' }));
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'persist-callback',
        roleArn: 'arn:aws:iam::000000000000:role/persist-callback',
        definition: JSON.stringify({
          StartAt: 'Wait for approval',
          States: {
            'Wait for approval': {
              Type: 'Task',
              Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
              Parameters: { QueueUrl: tokens, MessageBody: { 'token.$': '$$.Task.Token' } },
              End: true,
            },
          },
        }),
      }),
    );
    const { executionArn: waiting } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"order":"o-16"}' }),
    );
    // The token's message is received (in flight for 10 minutes): the restart must keep it invisible.
    const tokenMessage = await until('the task token message', async () => {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: tokens, VisibilityTimeout: 600, WaitTimeSeconds: 1 }),
      );
      return Messages?.[0];
    });
    const token = (JSON.parse(tokenMessage.Body ?? '{}') as { token: string }).token;
    await sqs.send(new SendMessageCommand({ QueueUrl: mail, MessageBody: 'visible' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: mail, MessageBody: 'delayed', DelaySeconds: 900 }));
    const dlq = target.outputs.DlqUrl;
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: '{"orderId":"persist16-letter"}' }));

    const executionsOf = async (arn: string) =>
      (await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 1000 }))).executions ??
      [];
    const sagaBefore = await executionsOf(target.outputs.StateMachineArn);
    const historyBefore = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: sagaBefore[0]?.executionArn, maxResults: 1000 }),
    );
    const depth = (url: string | undefined) => depthOf(sqs, url);
    const dlqBefore = await depth(dlq);

    // Act: a graceful stop, and a start on the same directory
    await cloud.stop();
    const ready = await cloud.start();

    // Assess
    // The ready line reports the restore; what it restored is asserted below, by behaviour.
    expect(ready).toMatch(/restored \d+ executions \(\d+ continuing\) and \d+ SQS messages/);
    expect(ready).toContain('kept the data of');
    const sagaAfter = await executionsOf(target.outputs.StateMachineArn);
    expect(sagaAfter.map((x) => [x.executionArn, x.status])).toEqual(
      sagaBefore.map((x) => [x.executionArn, x.status]),
    );
    const historyAfter = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: sagaBefore[0]?.executionArn, maxResults: 1000 }),
    );
    expect(historyAfter.events?.map((e) => [e.id, e.type])).toEqual(
      historyBefore.events?.map((e) => [e.id, e.type]),
    );
    expect(await depth(dlq)).toEqual(dlqBefore);
    expect(await depth(mail)).toMatchObject({
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesDelayed: '1',
    });
    // The message received before the stop is still in flight; the waiting Task ran again on restart
    // (at-least-once: its send was not recorded as done) and sent the same token once more.
    expect(await depth(tokens)).toMatchObject({ ApproximateNumberOfMessagesNotVisible: '1' });
    const resent = await until('the task token sent again', async () => {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: tokens, WaitTimeSeconds: 1 }),
      );
      return Messages?.[0];
    });
    expect((JSON.parse(resent.Body ?? '{}') as { token: string }).token).toBe(token);
    // The receipt handle from before the restart still deletes its message.
    await sqs.send(new DeleteMessageCommand({ QueueUrl: tokens, ReceiptHandle: tokenMessage.ReceiptHandle }));
    expect(await depth(tokens)).toMatchObject({ ApproximateNumberOfMessagesNotVisible: '1' });

    // The callback still waits on the same token, and completes with it.
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: waiting }))).status).toBe('RUNNING');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"approved":true}' }));
    const done = await until('the callback execution to succeed', async () => {
      const x = await sfn.send(new DescribeExecutionCommand({ executionArn: waiting }));
      return x.status === 'RUNNING' ? undefined : x;
    });
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: '{"approved":true}' });

    // The console lists the executions from before the restart.
    const listed = (await (await fetch(`${cloud.endpoint}/_console/api/executions`)).json()) as {
      executions: { executionArn: string }[];
    };
    const arns = new Set(listed.executions.map((x) => x.executionArn));
    for (const x of sagaBefore) expect(arns).toContain(x.executionArn);
    sfn.destroy();
    sqs.destroy();
  }, 300_000);
});

/** Local clouds started in this process (closed after the file), and their --persist directories. */
const clouds: LocalCloud[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const cloud of clouds) await cloud.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A local cloud on the --persist directory `dir` (bare services unless `options` say otherwise). */
async function startPersisted(dir: string, options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const cloud = await startTestCloud({ persistDir: dir, assembly: false, ...options });
  clouds.push(cloud);
  return cloud;
}

/** A fresh --persist directory, removed after the file. */
function persistDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-persist-'));
  dirs.push(dir);
  return dir;
}

describe('--persist: requests sent while the local cloud restores', () => {
  it('wait for the restore: an execution started and a message sent then are kept once, and the executions of the last run stay', async () => {
    // Prepare: a run leaves a finished execution named 'kept' and a queued message
    const dir = persistDir();
    const first = await startPersisted(dir);
    let sfn = new SFNClient(sdkConfig(first));
    let sqs = new SQSClient(sdkConfig(first));
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'persist-window',
        roleArn: 'arn:aws:iam::000000000000:role/persist-window',
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
      }),
    );
    const { executionArn: kept } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: 'kept', input: '{"run":1}' }),
    );
    expect((await untilExecutionEnds(sfn, kept ?? '')).status).toBe('SUCCEEDED');
    const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'persist-window' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'before' }));
    await first.close();
    sfn.destroy();
    sqs.destroy();

    // Act: start again on the directory; while it deploys (the assembly is handed over only once the
    // requests are in), start an execution, start one named 'kept' again, and send a message
    const port = await freePort();
    let handOver: (assembly: string) => void = () => undefined;
    const starting = startPersisted(dir, {
      port,
      assembly: new Promise<string>((resolve) => {
        handOver = resolve;
      }),
    });
    const endpoint = `http://127.0.0.1:${port}`;
    const health = async () => {
      try {
        const response = await fetch(`${endpoint}/_localcloud/health`);
        return response.ok
          ? ((await response.json()) as { status: string; heldRequests?: number })
          : undefined;
      } catch {
        return undefined;
      }
    };
    await pollUntil('the restarting edge to answer', health, { timeoutMs: 60_000 });
    sfn = new SFNClient(sdkConfig({ endpoint }));
    sqs = new SQSClient(sdkConfig({ endpoint }));
    const requests = [
      sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'during-restart', input: '{"run":2}' })),
      sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'kept', input: '{"run":2}' })),
      sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'during' })),
    ].map((request) =>
      request.then(
        () => 'answered' as const,
        (error: Error) => error,
      ),
    );
    let answered = 0;
    for (const request of requests) void request.then(() => answered++);
    await pollUntil('the three requests to be answered or held', async () =>
      answered === requests.length || (await health())?.heldRequests === requests.length ? true : undefined,
    );
    handOver(await ensureAssembly());
    const second = await starting;
    const [started, again, sent] = await Promise.all(requests);

    // Assess: each request was served as if the restart had been over
    expect(started).toBe('answered');
    expect(again).toMatchObject({ name: 'ExecutionAlreadyExists' });
    expect(sent).toBe('answered');
    const duringArn = kept?.replace(/:kept$/, ':during-restart') ?? '';
    expect((await untilExecutionEnds(sfn, duringArn)).status).toBe('SUCCEEDED');
    const visible = async () => (await depthOf(sqs, queueUrl))?.ApproximateNumberOfMessages;
    expect(await visible()).toBe('2');
    await second.close();
    sfn.destroy();
    sqs.destroy();

    // ...and all of it is there after one more restart
    const third = await startPersisted(dir);
    sfn = new SFNClient(sdkConfig(third));
    sqs = new SQSClient(sdkConfig(third));
    const during = await sfn.send(new DescribeExecutionCommand({ executionArn: duringArn }));
    expect(during).toMatchObject({ status: 'SUCCEEDED', input: '{"run":2}' });
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: duringArn }));
    expect(history.events?.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn: kept }))).toMatchObject({
      status: 'SUCCEEDED',
      input: '{"run":1}',
    });
    expect(await visible()).toBe('2');
    sfn.destroy();
    sqs.destroy();
  }, 300_000);
});

describe('--persist: functions created through the Lambda API', () => {
  it('come back after a restart (the directory moved meanwhile) with their code and configuration; one deleted stays deleted', async () => {
    // Prepare: two functions created through the API, one of them deleted again
    const dir = persistDir();
    const first = await startPersisted(dir);
    let lambda = new LambdaClient(sdkConfig(first));
    const create = (name: string) =>
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: 'arn:aws:iam::000000000000:role/persist-function',
          Code: {
            ZipFile: zipSync({
              'index.js': new TextEncoder().encode('exports.handler = async (e) => ({ kept: e.n });'),
            }),
          },
          Environment: { Variables: { STAGE: 'persisted' } },
        }),
      );
    await create('persist-kept');
    await create('persist-deleted');
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'persist-deleted' }));
    const before = (await lambda.send(new GetFunctionCommand({ FunctionName: 'persist-kept' })))
      .Configuration;
    await first.close();
    lambda.destroy();
    const moved = `${dir}-moved`;
    renameSync(dir, moved);
    dirs.push(moved);

    // Act
    const second = await startPersisted(moved);
    lambda = new LambdaClient(sdkConfig(second));

    // Assess
    expect(second.restored).toContain('1 function created through the Lambda API');
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'persist-kept', Payload: JSON.stringify({ n: 16 }) }),
    );
    expect(out.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(out.Payload ?? []).toString())).toEqual({ kept: 16 });
    const after = (await lambda.send(new GetFunctionCommand({ FunctionName: 'persist-kept' }))).Configuration;
    expect(after).toEqual(before);
    await expect(
      lambda.send(new GetFunctionCommand({ FunctionName: 'persist-deleted' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    lambda.destroy();
  }, 300_000);
});

describe('--persist: a busy queue', () => {
  it('keeps its journal compacted while the local cloud runs, and restarts with what the queue holds', async () => {
    // Prepare
    const dir = persistDir();
    const first = await startPersisted(dir);
    let sqs = new SQSClient(sdkConfig(first));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'persist-busy' }));
    const depth = () => depthOf(sqs, QueueUrl);

    // Act: 7,000 messages sent, received and deleted ten at a time (21,000 journal records)
    for (let round = 0; round < 700; round++) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: `m${round}-${i}` })),
        }),
      );
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }),
      );
      if (Messages.length > 0)
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: Messages.map((m, i) => ({ Id: `e${i}`, ReceiptHandle: m.ReceiptHandle })),
          }),
        );
    }
    const before = await depth();
    await first.close();
    sqs.destroy();

    // Assess: fewer lines than records appended (a compaction once 10,000 were appended, at least)
    const lines = readdirSync(dir)
      .filter((file) => file.startsWith('sqs.') && file.endsWith('.jsonl'))
      .reduce((n, file) => n + readFileSync(path.join(dir, file), 'utf8').split('\n').length - 1, 0);
    expect(lines).toBeLessThan(12_000);
    const second = await startPersisted(dir);
    sqs = new SQSClient(sdkConfig(second));
    expect(await depth()).toEqual(before);
    sqs.destroy();
  }, 300_000);
});
