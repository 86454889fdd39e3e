/**
 * The callback pattern (`.waitForTaskToken`) as AWS runs it, through a whole local cloud and the ordinary
 * AWS SDK clients: `$$.Task.Token`, the integration call recorded as TaskSubmitted, then
 * SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, HeartbeatSeconds and TimeoutSeconds, and the
 * API errors for tokens that are not (or no longer) waiting.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../localcloud/cloud';
import { sdkConfig, startTestCloud } from '../support/localcloud';
import { addNodeFunction, type Outcome, outcomeOf } from '../support/states-harness';
import { pollUntil } from '../support/waiting';

let cloud: LocalCloud;
let workDir: string;
let sfn: SFNClient;
let sqs: SQSClient;
const ROLE = 'arn:aws:iam::000000000000:role/StatesRole';
const QUEUE = 'callbacks-queue';
const AWS_QUEUE_URL = `https://sqs.us-east-1.amazonaws.com/123456789012/${QUEUE}`;
let localQueueUrl = '';
let machines = 0;

/** A Task sending `{Message, TaskToken}` to the queue and waiting for its callback. */
const sqsCallback = (extra: object = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
  Parameters: {
    QueueUrl: AWS_QUEUE_URL,
    MessageBody: { 'Message.$': '$.message', 'TaskToken.$': '$$.Task.Token' },
  },
  ...extra,
});

const single = (state: object) => ({ StartAt: 'Wait', States: { Wait: { ...state, End: true } } });

async function start(definition: object, input: unknown = { message: 'hello' }): Promise<string> {
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: `callbacks-${++machines}`,
      definition: JSON.stringify(definition),
      roleArn: ROLE,
    }),
  );
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
  );
  return executionArn ?? '';
}

async function history(executionArn: string): Promise<HistoryEvent[]> {
  return (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];
}

/** Polls the history until it holds `count` events of `type`; returns them. */
function eventsOf(executionArn: string, type: string, count = 1): Promise<HistoryEvent[]> {
  return pollUntil(
    `${count} ${type} events in ${executionArn}`,
    async () => {
      const events = (await history(executionArn)).filter((e) => e.type === type);
      return events.length >= count ? events : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 20 },
  );
}

/** The task token of the `n`-th TaskScheduled (from the parameters sent to the integration). */
async function tokenOf(executionArn: string, n = 1): Promise<string> {
  const scheduled = await eventsOf(executionArn, 'TaskSubmitted', n);
  const all = (await history(executionArn)).filter((e) => e.type === 'TaskScheduled');
  expect(scheduled).toHaveLength(n);
  const parameters = JSON.parse(all[n - 1]?.taskScheduledEventDetails?.parameters ?? '{}');
  return parameters.MessageBody?.TaskToken ?? parameters.Payload?.token;
}

const outcome = (executionArn: string): Promise<Outcome> => outcomeOf(sfn, executionArn, 20_000);

/** The API error name of a failed call. */
async function apiError(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
  return 'no error';
}

beforeAll(async () => {
  cloud = await startTestCloud({ assembly: false });
  workDir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-callbacks-'));
  const config = sdkConfig(cloud);
  sfn = new SFNClient(config);
  sqs = new SQSClient(config);
  localQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: QUEUE }))).QueueUrl ?? '';
  await addNodeFunction(
    cloud.services.lambda,
    workDir,
    'echo',
    'exports.handler = async (event) => ({ received: event });',
  );
});

afterAll(async () => {
  sfn?.destroy();
  sqs?.destroy();
  await cloud?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('sqs:sendMessage.waitForTaskToken', () => {
  it('sends the token to the queue, records TaskSubmitted and ends with the SendTaskSuccess output', async () => {
    // Prepare
    const executionArn = await start(single(sqsCallback()));
    const token = await tokenOf(executionArn);

    // Act
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: localQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"approved":true}' }));
    const result = await outcome(executionArn);

    // Assess
    const bodies = (received.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}'));
    expect(bodies).toContainEqual({ Message: 'hello', TaskToken: token });
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,1024}$/);
    expect(result).toEqual({ status: 'SUCCEEDED', output: { approved: true } });
    const events = await history(executionArn);
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    const submitted = events.find((e) => e.type === 'TaskSubmitted')?.taskSubmittedEventDetails;
    expect(submitted?.resource).toBe('sendMessage.waitForTaskToken');
    expect(submitted?.resourceType).toBe('sqs');
    expect(Object.keys(JSON.parse(submitted?.output ?? '{}')).sort()).toEqual([
      'MD5OfMessageBody',
      'MessageId',
      'SdkHttpMetadata',
      'SdkResponseMetadata',
    ]);
    const succeeded = events.find((e) => e.type === 'TaskSucceeded')?.taskSucceededEventDetails;
    expect(JSON.parse(succeeded?.output ?? 'null')).toEqual({ approved: true });
  });

  it('refuses a token twice: once the Task is over, SendTask* answer TaskTimedOut', async () => {
    // Prepare
    const executionArn = await start(single(sqsCallback()));
    const token = await tokenOf(executionArn);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '1' }));
    await outcome(executionArn);

    // Act
    const errors = [
      await apiError(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '2' }))),
      await apiError(sfn.send(new SendTaskFailureCommand({ taskToken: token }))),
      await apiError(sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }))),
    ];

    // Assess
    expect(errors).toEqual(['TaskTimedOut', 'TaskTimedOut', 'TaskTimedOut']);
  });

  it('refuses tokens it never issued (InvalidToken, TaskDoesNotExist) and output that is not JSON', async () => {
    // Prepare
    const executionArn = await start(single(sqsCallback()));
    const token = await tokenOf(executionArn);
    const unknown = `AQ${'A'.repeat(token.length - 2)}`;

    // Act
    const errors = [
      await apiError(sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' }))),
      await apiError(sfn.send(new SendTaskHeartbeatCommand({ taskToken: unknown }))),
      await apiError(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{oops' }))),
    ];
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '"still waiting"' }));

    // Assess
    expect(errors).toEqual(['InvalidToken', 'TaskDoesNotExist', 'InvalidOutput']);
    expect(await outcome(executionArn)).toEqual({ status: 'SUCCEEDED', output: 'still waiting' });
  });

  it('fails the Task with the SendTaskFailure error and cause, which Catch sees', async () => {
    // Prepare
    const definition = {
      StartAt: 'Wait',
      States: {
        Wait: sqsCallback({
          Catch: [{ ErrorEquals: ['Rejected'], ResultPath: '$.failure', Next: 'Caught' }],
          End: true,
        }),
        Caught: { Type: 'Pass', End: true },
      },
    };
    const executionArn = await start(definition);
    const token = await tokenOf(executionArn);

    // Act
    await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'Rejected', cause: 'no stock' }));
    const result = await outcome(executionArn);

    // Assess
    expect(result).toEqual({
      status: 'SUCCEEDED',
      output: { message: 'hello', failure: { Error: 'Rejected', Cause: 'no stock' } },
    });
    const failed = (await history(executionArn)).find((e) => e.type === 'TaskFailed');
    expect(failed?.taskFailedEventDetails).toEqual({
      resourceType: 'sqs',
      resource: 'sendMessage.waitForTaskToken',
      error: 'Rejected',
      cause: 'no stock',
    });
  });

  it('reports a SendTaskFailure without error or cause as null Error/Cause, and none when uncaught', async () => {
    // Prepare
    const caught = {
      StartAt: 'Wait',
      States: {
        Wait: sqsCallback({
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Caught' }],
          End: true,
        }),
        Caught: { Type: 'Pass', End: true },
      },
    };
    const caughtArn = await start(caught);
    const uncaughtArn = await start(single(sqsCallback()));

    // Act
    await sfn.send(new SendTaskFailureCommand({ taskToken: await tokenOf(caughtArn) }));
    await sfn.send(new SendTaskFailureCommand({ taskToken: await tokenOf(uncaughtArn) }));

    // Assess
    expect(await outcome(caughtArn)).toEqual({
      status: 'SUCCEEDED',
      output: { message: 'hello', failure: { Error: null, Cause: null } },
    });
    expect(await outcome(uncaughtArn)).toEqual({ status: 'FAILED' });
    const failed = (await history(uncaughtArn)).find((e) => e.type === 'TaskFailed');
    expect(failed?.taskFailedEventDetails).toEqual({
      resourceType: 'sqs',
      resource: 'sendMessage.waitForTaskToken',
    });
  });

  it('releases a token whose Parameters failed after reading it, when the execution ends', async () => {
    // Prepare: the Parameters read $$.Task.Token, then select a path that is not there.
    const tokens = cloud.services.states.taskTokens;
    const openBefore = tokens.size.open;
    const definition = single({
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      Parameters: {
        QueueUrl: AWS_QUEUE_URL,
        MessageBody: { 'TaskToken.$': '$$.Task.Token', 'Missing.$': '$.missing' },
      },
    });

    // Act
    const result = await outcome(await start(definition));

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.Runtime');
    expect(tokens.size.open).toBe(openBefore);
  });

  it('issues a new token for each Retry attempt', async () => {
    // Prepare
    const executionArn = await start(
      single(
        sqsCallback({
          Retry: [{ ErrorEquals: ['Busy'], IntervalSeconds: 1, MaxAttempts: 1, BackoffRate: 1 }],
        }),
      ),
    );
    const first = await tokenOf(executionArn, 1);
    await sfn.send(new SendTaskFailureCommand({ taskToken: first, error: 'Busy' }));

    // Act
    const second = await tokenOf(executionArn, 2);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: second, output: '"done"' }));

    // Assess
    expect(second).not.toBe(first);
    expect(await outcome(executionArn)).toEqual({ status: 'SUCCEEDED', output: 'done' });
  });

  it('closes the token when the execution is stopped', async () => {
    // Prepare
    const executionArn = await start(single(sqsCallback()));
    const token = await tokenOf(executionArn);

    // Act
    await sfn.send(new StopExecutionCommand({ executionArn }));
    await outcome(executionArn);
    const error = await apiError(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })));

    // Assess
    expect((await outcome(executionArn)).status).toBe('ABORTED');
    expect(error).toBe('TaskTimedOut');
  });
});

describe('heartbeats and timeouts', () => {
  it('keeps a Task alive past HeartbeatSeconds while SendTaskHeartbeat arrives in time', async () => {
    // Prepare
    const executionArn = await start(single(sqsCallback({ HeartbeatSeconds: 1 })));
    const token = await tokenOf(executionArn);

    // Act: heartbeats every 300 ms for 2.5 s (more than twice HeartbeatSeconds), then the result.
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
      await new Promise((r) => setTimeout(r, 300));
    }
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '"alive"' }));

    // Assess
    expect(await outcome(executionArn)).toEqual({ status: 'SUCCEEDED', output: 'alive' });
  });

  it('times the Task out with States.Timeout and no cause when no heartbeat arrives', async () => {
    // Prepare
    const definition = single(sqsCallback({ HeartbeatSeconds: 1 }));

    // Act
    const executionArn = await start(definition);
    const result = await outcome(executionArn);

    // Assess
    expect(result).toEqual({ status: 'FAILED', error: 'States.Timeout' });
    const events = await history(executionArn);
    expect(events.map((e) => e.type).slice(-3)).toEqual(['TaskSubmitted', 'TaskTimedOut', 'ExecutionFailed']);
    const scheduled = events.find((e) => e.type === 'TaskScheduled')?.taskScheduledEventDetails;
    expect(scheduled?.heartbeatInSeconds).toBe(1);
    expect(events.find((e) => e.type === 'TaskTimedOut')?.taskTimedOutEventDetails).toEqual({
      resourceType: 'sqs',
      resource: 'sendMessage.waitForTaskToken',
      error: 'States.Timeout',
    });
  });

  it('applies TimeoutSeconds to the wait for the callback, heartbeats or not', async () => {
    // Prepare
    const executionArn = await start(single(sqsCallback({ TimeoutSeconds: 2, HeartbeatSeconds: 1 })));
    const token = await tokenOf(executionArn);

    // Act: heartbeats well within HeartbeatSeconds, until the Task is over
    while ((await apiError(sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })))) === 'no error')
      await new Promise((r) => setTimeout(r, 200));
    const result = await outcome(executionArn);

    // Assess
    expect(result).toEqual({ status: 'FAILED', error: 'States.Timeout' });
    expect(await apiError(sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })))).toBe('TaskTimedOut');
  });

  it('waits out a TimeoutSeconds/HeartbeatSeconds longer than a Node timer can hold (~24.8 days)', async () => {
    // Prepare: one year, statically, through TimeoutSecondsPath and for the whole execution (a plain
    // setTimeout would fire after 1 ms).
    const year = 31_536_000;
    const executions = [
      await start(single(sqsCallback({ TimeoutSeconds: year, HeartbeatSeconds: year - 1 }))),
      await start(single(sqsCallback({ TimeoutSecondsPath: '$.timeout' })), { message: 'hi', timeout: year }),
      await start({ ...single(sqsCallback()), TimeoutSeconds: year }),
    ];
    const tokens = await Promise.all(executions.map((arn) => tokenOf(arn)));

    // Act
    await new Promise((r) => setTimeout(r, 300));
    const whileWaiting = await Promise.all(
      executions.map(
        async (executionArn) => (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status,
      ),
    );
    for (const taskToken of tokens)
      await sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{"done":true}' }));

    // Assess
    expect(whileWaiting).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    for (const executionArn of executions) {
      expect(await outcome(executionArn)).toEqual({ status: 'SUCCEEDED', output: { done: true } });
    }
  });
});

describe('definitions CreateStateMachine refuses', () => {
  it('refuses HeartbeatSeconds not smaller than TimeoutSeconds, and .waitForTaskToken in EXPRESS machines', async () => {
    // Act
    const heartbeat = await sfn
      .send(
        new CreateStateMachineCommand({
          name: 'callbacks-heartbeat-too-long',
          definition: JSON.stringify(single(sqsCallback({ TimeoutSeconds: 5, HeartbeatSeconds: 5 }))),
          roleArn: ROLE,
        }),
      )
      .catch((error: unknown) => error);
    const express = await sfn
      .send(
        new CreateStateMachineCommand({
          name: 'callbacks-express',
          definition: JSON.stringify(single(sqsCallback())),
          roleArn: ROLE,
          type: 'EXPRESS',
        }),
      )
      .catch((error: unknown) => error);

    // Assess
    expect(heartbeat).toMatchObject({
      name: 'InvalidDefinition',
      message:
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: HeartbeatSeconds must be smaller than TimeoutSeconds at /States/Wait'",
    });
    expect(express).toMatchObject({
      name: 'InvalidDefinition',
      message:
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration at /States/Wait/Resource'",
    });
  });
});

describe('lambda:invoke.waitForTaskToken', () => {
  it('invokes the function with the token, records its Invoke answer as TaskSubmitted, then waits', async () => {
    // Prepare
    const definition = single({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'echo', Payload: { 'token.$': '$$.Task.Token' } },
    });
    const executionArn = await start(definition);
    const token = await tokenOf(executionArn);

    // Act
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"from":"worker"}' }));
    const result = await outcome(executionArn);

    // Assess
    expect(result).toEqual({ status: 'SUCCEEDED', output: { from: 'worker' } });
    const events = await history(executionArn);
    const submitted = events.find((e) => e.type === 'TaskSubmitted')?.taskSubmittedEventDetails;
    expect(submitted?.resourceType).toBe('lambda');
    expect(submitted?.resource).toBe('invoke.waitForTaskToken');
    const answer = JSON.parse(submitted?.output ?? '{}');
    expect(answer.Payload).toEqual({ received: { token } });
    expect(answer.StatusCode).toBe(200);
  });

  it('has no $$.Task.Token outside callback Tasks (the path points to no value)', async () => {
    // Prepare
    const definition = single({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'echo', Payload: { 'token.$': '$$.Task.Token' } },
    });

    // Act
    const result = await outcome(await start(definition));

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.Runtime');
    expect(result.cause).toContain('$$.Task.Token');
  });
});
