/**
 * Task on stepsaga's interpreter, against a real local Lambda function: LambdaFunction* events for a
 * function ARN, Task* events for an integration, TimeoutSeconds(Path), HeartbeatSeconds and the callback
 * pattern (`.waitForTaskToken`). Time limits run on a fake clock (setTimeout only): no test waits them out.
 * Case ids name AWS recordings (conformance/cases).
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HistoryEvent } from '../../../localcloud/stepfunctions/asl/history';
import { TaskTokens } from '../../../localcloud/stepfunctions/task-tokens';
import {
  BEHAVE_ARN,
  callbackMachine,
  interpreterRunner,
  tokenOf,
  withBehave,
} from '../../support/interpreter';

const { run, start, finish } = interpreterRunner({ name: 'asl-task', ...withBehave });

afterEach(async () => {
  // A function the Task stopped waiting for (a hang past TimeoutSeconds) runs on to its own 30 s timeout, as
  // on AWS. Let that happen on the fake clock, or its container stays busy and the pool (one per CPU) runs dry
  // for the next tests.
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(60_000);
  vi.useRealTimers();
});

/** Resolves with the first event of `type` an execution records (give `listener.onEvent` to start()). */
function eventListener(): {
  onEvent: (event: HistoryEvent) => void;
  next: (type: string) => Promise<HistoryEvent>;
} {
  const seen: HistoryEvent[] = [];
  const waiting: Array<{ type: string; resolve: (event: HistoryEvent) => void }> = [];
  return {
    onEvent(event) {
      seen.push(event);
      for (const waiter of waiting.filter((w) => w.type === event.type)) waiter.resolve(event);
    },
    next(type) {
      const found = seen.find((event) => event.type === type);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiting.push({ type, resolve }));
    },
  };
}

describe('Task: Lambda function ARN', () => {
  it('records LambdaFunctionScheduled/Started/Succeeded and outputs the function result (lambda-arn-pipe)', async () => {
    const { outcome, output, types, history } = await run(
      {
        StartAt: 'step1',
        States: { step1: { Type: 'Task', Resource: BEHAVE_ARN, ResultPath: '$.Return', End: true } },
      },
      { Return: 'HelloWorld' },
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(output).toEqual({ Return: { Return: 'HelloWorld' } });
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history[2]?.lambdaFunctionScheduledEventDetails).toEqual({
      resource: BEHAVE_ARN,
      input: '{"Return":"HelloWorld"}',
      inputDetails: { truncated: false },
    });
    expect(history[4]?.lambdaFunctionSucceededEventDetails).toEqual({
      output: '{"Return":"HelloWorld"}',
      outputDetails: { truncated: false },
    });
  });

  it('fails with the function errorType and its error payload as cause (lambda-arn-error-uncaught)', async () => {
    const { outcome, types, history } = await run(
      {
        StartAt: 'Start',
        States: {
          Start: {
            Type: 'Task',
            Resource: BEHAVE_ARN,
            Catch: [{ ErrorEquals: ['Lambda.Unknown'], Next: 'Handler' }],
            End: true,
          },
          Handler: { Type: 'Pass', End: true },
        },
      },
      { throw: { name: 'Exception', message: 'Some exception was raised.' } },
    );
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Exception');
    expect(JSON.parse(outcome.cause ?? '')).toMatchObject({
      errorType: 'Exception',
      errorMessage: 'Some exception was raised.',
    });
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'ExecutionFailed',
    ]);
    expect(history[4]?.lambdaFunctionFailedEventDetails).toEqual({
      error: 'Exception',
      cause: outcome.cause,
    });
  });

  it('times out after TimeoutSeconds: LambdaFunctionTimedOut, States.Timeout, no cause (lambda-arn-timeout-seconds)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const events = eventListener();
    const execution = start(
      {
        StartAt: 'Start',
        States: { Start: { Type: 'Task', TimeoutSeconds: 5, Resource: BEHAVE_ARN, End: true } },
      },
      { hang: true },
      { onEvent: events.onEvent },
    );
    await events.next('LambdaFunctionStarted');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(execution.history.map((event) => event.type)).not.toContain('LambdaFunctionTimedOut');
    await vi.advanceTimersByTimeAsync(1);
    const { outcome, types, history } = await finish(execution);
    expect(outcome).toEqual({ status: 'FAILED', error: 'States.Timeout' });
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionTimedOut',
      'ExecutionFailed',
    ]);
    expect(history[2]?.lambdaFunctionScheduledEventDetails).toMatchObject({ timeoutInSeconds: 5 });
    expect(history[4]?.lambdaFunctionTimedOutEventDetails).toEqual({ error: 'States.Timeout' });
  });
});

describe('Task: integrations', () => {
  it('records TaskScheduled/Started/Succeeded for lambda:invoke and outputs its envelope (lambda-invoke-envelope)', async () => {
    const { output, types, history } = await run(
      {
        StartAt: 'Invoke',
        States: {
          Invoke: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: 'behave', 'Payload.$': '$' },
            End: true,
          },
        },
      },
      { a: 1 },
    );
    expect(output).toMatchObject({ ExecutedVersion: '$LATEST', Payload: { a: 1 }, StatusCode: 200 });
    expect(types.slice(1, -1)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
    expect(history[2]?.taskScheduledEventDetails).toEqual({
      resourceType: 'lambda',
      resource: 'invoke',
      region: 'us-east-1',
      parameters: '{"FunctionName":"behave","Payload":{"a":1}}',
    });
    expect(history[3]?.taskStartedEventDetails).toEqual({ resourceType: 'lambda', resource: 'invoke' });
  });

  it('reads TimeoutSecondsPath into the TaskScheduled event (lambda-invoke-timeout-seconds-path)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const events = eventListener();
    const execution = start(
      {
        StartAt: 'Start',
        States: {
          Start: {
            Type: 'Task',
            TimeoutSecondsPath: '$.TimeoutSecondsValue',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: 'behave', Payload: { hang: true } },
            End: true,
          },
        },
      },
      { TimeoutSecondsValue: 5 },
      { onEvent: events.onEvent },
    );
    await events.next('TaskStarted');
    await vi.advanceTimersByTimeAsync(5_000);
    const { outcome, types, history } = await finish(execution);
    expect(outcome).toEqual({ status: 'FAILED', error: 'States.Timeout' });
    expect(types.slice(-2)).toEqual(['TaskTimedOut', 'ExecutionFailed']);
    expect(history[2]?.taskScheduledEventDetails).toMatchObject({ timeoutInSeconds: 5 });
  });

  it('fails with States.Runtime when TimeoutSecondsPath selects nothing, before scheduling (more-invalid-jsonpath-timeoutsecondspath)', async () => {
    const { outcome, types } = await run(
      {
        StartAt: 'task',
        States: {
          task: {
            Type: 'Task',
            TimeoutSecondsPath: '$.NoSuchTimeoutSecondsPath',
            Resource: BEHAVE_ARN,
            End: true,
          },
        },
      },
      { 'int-literal': 0 },
    );
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'States.Runtime',
      cause:
        "An error occurred while executing the state 'task' (entered at the event id #2). Invalid path '$.NoSuchTimeoutSecondsPath' : No results for path: $['NoSuchTimeoutSecondsPath']",
    });
    expect(types).toEqual(['ExecutionStarted', 'TaskStateEntered', 'ExecutionFailed']);
  });
});

describe('Task: callbacks (.waitForTaskToken)', () => {
  it('records TaskSubmitted, then outputs what SendTaskSuccess reports', async () => {
    const tokens = new TaskTokens();
    const events = eventListener();
    const execution = start(callbackMachine(), {}, { onEvent: events.onEvent, taskTokens: tokens });
    const token = tokenOf(await events.next('TaskScheduled'));
    await events.next('TaskSubmitted');
    tokens.succeed(token, { approved: true });
    const { output, types, history } = await finish(execution);
    expect(output).toEqual({ approved: true });
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history[4]?.taskSubmittedEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
    });
    // The Task is over: its token is refused from now on.
    expect(() => tokens.succeed(token, 'late')).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });

  it('fails with the error and cause of SendTaskFailure', async () => {
    const tokens = new TaskTokens();
    const events = eventListener();
    const execution = start(callbackMachine(), {}, { onEvent: events.onEvent, taskTokens: tokens });
    const token = tokenOf(await events.next('TaskScheduled'));
    await events.next('TaskSubmitted');
    tokens.fail(token, 'Rejected', 'the reviewer said no');
    const { outcome, types, history } = await finish(execution);
    expect(outcome).toEqual({ status: 'FAILED', error: 'Rejected', cause: 'the reviewer said no' });
    expect(types.slice(-2)).toEqual(['TaskFailed', 'ExecutionFailed']);
    expect(history.at(-2)?.taskFailedEventDetails).toEqual({
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      error: 'Rejected',
      cause: 'the reviewer said no',
    });
  });

  it('a restart taking over a waiting callback Task waits on the same token until the original TimeoutSeconds deadline', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    // Prepare: the Task (TimeoutSeconds 600) handed out its token 590 s before the restart.
    const tokens = new TaskTokens();
    const events = eventListener();
    const token = `AQ${'t'.repeat(86)}`;
    const since = new Date(Date.now() - 590_000).toISOString();
    const take = () =>
      start(
        callbackMachine({ TimeoutSeconds: 600 }),
        {},
        {
          onEvent: events.onEvent,
          taskTokens: tokens,
          restored: {
            events: [],
            redriveCount: 0,
            checkpoint: {
              state: 'Wait',
              input: {},
              variables: {},
              takeOver: { enteredTime: since, taskToken: { token, since } },
            },
          },
        },
      );

    // Act: take it over; the token is handed out again, and nothing answers within the 10 s left
    const execution = take();
    expect(tokenOf(await events.next('TaskScheduled'))).toBe(token);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(execution.history.map((event) => event.type)).not.toContain('TaskTimedOut');
    await vi.advanceTimersByTimeAsync(1_500);

    // Assess: States.Timeout at the deadline of the attempt from before the restart, not 600 s later
    const { outcome, types } = await finish(execution);
    expect(outcome).toEqual({ status: 'FAILED', error: 'States.Timeout' });
    expect(types.slice(-2)).toEqual(['TaskTimedOut', 'ExecutionFailed']);
  });

  it('times out HeartbeatSeconds after the last heartbeat: States.Timeout, no cause (more-heartbeat-timeout)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const tokens = new TaskTokens();
    const events = eventListener();
    const execution = start(
      callbackMachine({ TimeoutSeconds: 600, HeartbeatSeconds: 5 }),
      {},
      {
        onEvent: events.onEvent,
        taskTokens: tokens,
      },
    );
    const token = tokenOf(await events.next('TaskScheduled'));
    await events.next('TaskSubmitted');
    await vi.advanceTimersByTimeAsync(4_000);
    tokens.heartbeat(token);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(execution.history.map((event) => event.type)).not.toContain('TaskTimedOut');
    await vi.advanceTimersByTimeAsync(1_000);
    const { outcome, types, history } = await finish(execution);
    expect(outcome).toEqual({ status: 'FAILED', error: 'States.Timeout' });
    expect(types.slice(-2)).toEqual(['TaskTimedOut', 'ExecutionFailed']);
    expect(history[2]?.taskScheduledEventDetails).toMatchObject({
      timeoutInSeconds: 600,
      heartbeatInSeconds: 5,
    });
    expect(() => tokens.heartbeat(token)).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });
});
