/**
 * The local Step Functions service through the AWS SDK over real HTTP (an Edge with Lambda and Step
 * Functions): the API's semantics, the history it records and the Context Object the saga relies on.
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  InvalidDefinition,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Edge } from '../../localcloud/edge';
import type { HistoryEventLike } from '../../localcloud/stepfunctions/service';
import { fnArn, ROLE, type StatesHarness, startStatesHarness } from '../support/states-harness';

let harness: StatesHarness;
let edge: Edge;
let sfn: SFNClient;
const live: Array<{ arn: string; event: HistoryEventLike }> = [];

// `flaky` fails with TransientError while the state's RetryCount (passed by Parameters) is below `failures`.
const FLAKY = `
exports.handler = async (event) => {
  if (event.context.retryCount < event.failures) {
    const e = new Error('try again (' + event.context.retryCount + ')');
    e.name = 'TransientError';
    throw e;
  }
  return { attempts: event.context.retryCount + 1, context: event.context };
};`;
const DECLINE = `exports.handler = async () => { const e = new Error('card declined'); e.name = 'PaymentDeclined'; throw e; };`;
const SLOW = `exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms)); return 'done'; };`;

const createMachine = (name: string, definition: object) => harness.createMachine(definition, name);
const waitForEnd = (executionArn: string, timeoutMs = 30_000) => harness.waitForEnd(executionArn, timeoutMs);
const history = (executionArn: string) => harness.history(executionArn);

/** Parameters of the saga's Lambda Tasks (design decision: contract `StepEvent`). */
const sagaParameters = (extra: object = {}) => ({
  'saga.$': '$',
  ...extra,
  context: {
    'executionArn.$': '$$.Execution.Id',
    'retryCount.$': '$$.State.RetryCount',
    'stateName.$': '$$.State.Name',
    'enteredTime.$': '$$.State.EnteredTime',
    'executionName.$': '$$.Execution.Name',
    'machine.$': '$$.StateMachine.Name',
  },
});

const retryFlow = (failures: number) => ({
  StartAt: 'Charge',
  States: {
    Charge: {
      Type: 'Task',
      Resource: fnArn('flaky'),
      Parameters: sagaParameters({ failures }),
      ResultPath: '$.charge',
      Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Refund' }],
      Next: 'Done',
    },
    Refund: { Type: 'Pass', Next: 'Failed' },
    Failed: { Type: 'Fail', Error: 'OrderFailed', Cause: 'charge failed' },
    Done: { Type: 'Succeed' },
  },
});

beforeAll(async () => {
  // Retry intervals of 2 s, 4 s... become 20 ms, 40 ms.
  harness = await startStatesHarness({
    prefix: 'sfn-test',
    retryScale: 0.01,
    functions: { flaky: FLAKY, decline: DECLINE, slow: SLOW },
  });
  harness.states.onEvent((arn, event) => live.push({ arn, event }));
  ({ edge, sfn } = harness);
});

afterAll(async () => {
  await harness?.close();
});

describe('Step Functions service', () => {
  it('exposes $$.State.RetryCount, Name, EnteredTime and the execution to Task Parameters', async () => {
    const arn = await createMachine('retry-context', retryFlow(2));

    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'order-1', input: '{"orderId":"o-1"}' }),
    );
    const done = await waitForEnd(executionArn ?? '');

    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '{}');
    expect(output.charge).toEqual({
      attempts: 3,
      context: {
        executionArn,
        retryCount: 2,
        stateName: 'Charge',
        enteredTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        executionName: 'order-1',
        machine: 'retry-context',
      },
    });
  });

  it('records AWS history event types for a Retry then Catch flow', async () => {
    const arn = await createMachine('retry-catch', retryFlow(99));

    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{}' }));
    const done = await waitForEnd(executionArn ?? '');
    const events = await history(executionArn ?? '');

    expect(done).toMatchObject({ status: 'FAILED', error: 'OrderFailed', cause: 'charge failed' });
    const attempt = ['LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionFailed'];
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      ...attempt,
      ...attempt,
      ...attempt,
      ...attempt,
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    const failed = events.find((e) => e.type === 'LambdaFunctionFailed');
    expect(failed?.lambdaFunctionFailedEventDetails?.error).toBe('TransientError');
    expect(JSON.parse(failed?.lambdaFunctionFailedEventDetails?.cause ?? '{}')).toMatchObject({
      errorType: 'TransientError',
      errorMessage: 'try again (0)',
    });
    const refund = events.find((e) => e.type === 'PassStateEntered');
    expect(JSON.parse(refund?.stateEnteredEventDetails?.input ?? '{}').failure.Error).toBe('TransientError');
    expect(events.at(-1)?.executionFailedEventDetails).toEqual({
      error: 'OrderFailed',
      cause: 'charge failed',
    });
    expect(live.filter((l) => l.arn === executionArn).map((l) => l.event.type)).toEqual(
      events.map((e) => e.type),
    );
  });

  it('reports a function error as Error = errorType and Cause = the error payload', async () => {
    const arn = await createMachine('decline', {
      StartAt: 'Pay',
      States: { Pay: { Type: 'Task', Resource: fnArn('decline'), End: true } },
    });

    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    const done = await waitForEnd(executionArn ?? '');

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('PaymentDeclined');
    expect(JSON.parse(done.cause ?? '{}')).toMatchObject({
      errorType: 'PaymentDeclined',
      errorMessage: 'card declined',
    });
  });

  it('makes StartExecution idempotent by name while running, and refuses another input', async () => {
    const arn = await createMachine('idempotent', {
      StartAt: 'Wait',
      States: { Wait: { Type: 'Task', Resource: fnArn('slow'), Parameters: { ms: 300 }, End: true } },
    });

    const first = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'o-7', input: '{"a":1}' }),
    );
    const again = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'o-7', input: '{"a":1}' }),
    );
    const other = sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'o-7', input: '{"a":2}' }),
    );

    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);
    await expect(other).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await waitForEnd(first.executionArn ?? '');
    const closed = sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'o-7', input: '{"a":1}' }),
    );
    await expect(closed).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }));
    expect(listed.executions?.map((e) => e.name)).toEqual(['o-7']);
  });

  it('stops a running execution (ABORTED) with the given error and cause', async () => {
    const arn = await createMachine('stoppable', {
      StartAt: 'Wait',
      States: { Wait: { Type: 'Wait', Seconds: 60, End: true } },
    });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));

    await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'cancelled by hand' }));
    const done = await waitForEnd(executionArn ?? '');
    const events = await history(executionArn ?? '');

    expect(done).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'cancelled by hand' });
    expect(events.at(-1)?.type).toBe('ExecutionAborted');
    const running = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'RUNNING' }),
    );
    expect(running.executions).toEqual([]);
  });

  it('scales Retry intervals by retryScale', async () => {
    const arn = await createMachine('scaled', retryFlow(3));
    const started = Date.now();

    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    const done = await waitForEnd(executionArn ?? '');

    // Unscaled, the retries alone wait 2 + 4 + 8 = 14 s.
    expect(done.status).toBe('SUCCEEDED');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('pages history in reverse and can leave execution data out', async () => {
    const arn = await createMachine('paged', retryFlow(0));
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: '{"x":1}' }),
    );
    await waitForEnd(executionArn ?? '');

    const first = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 2 }),
    );
    const rest = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, nextToken: first.nextToken }),
    );
    const bare = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }),
    );

    expect(first.events?.map((e) => e.type)).toEqual(['ExecutionSucceeded', 'SucceedStateExited']);
    expect(rest.events?.at(-1)?.type).toBe('ExecutionStarted');
    expect(rest.nextToken).toBeUndefined();
    expect(bare.events?.[0]?.executionStartedEventDetails?.input).toBeUndefined();
  });

  it('pages a running history newest first without repeating or skipping the events it appends meanwhile', async () => {
    const arn = await createMachine('appending', {
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: fnArn('slow'),
          Parameters: { ms: 1 },
          ResultPath: null,
          Next: 'Again',
        },
        Again: {
          Type: 'Choice',
          Choices: [{ Variable: '$.stop', IsPresent: true, Next: 'Done' }],
          Default: 'Work',
        },
        Done: { Type: 'Succeed' },
      },
    });
    const { executionArn = '' } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    /** Resolves once the execution has recorded more than `count` events. */
    const grownPast = async (count: number) => {
      while ((await history(executionArn)).length <= count) await new Promise((r) => setTimeout(r, 5));
    };
    await grownPast(4);

    const seen: number[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 3, nextToken }),
      );
      seen.push(...(page.events ?? []).map((event) => event.id ?? 0));
      nextToken = page.nextToken;
      // The execution appends events before the next page is read.
      if (nextToken) await grownPast((await history(executionArn)).length);
    } while (nextToken);
    await sfn.send(new StopExecutionCommand({ executionArn }));

    const newest = seen[0] ?? 0;
    expect(newest).toBeGreaterThan(4);
    expect(seen).toEqual(Array.from({ length: newest }, (_, i) => newest - i));
    expect((await history(executionArn)).length).toBeGreaterThan(newest + 1);
  });

  it('validates definitions, names, inputs and ARNs with AWS errors', async () => {
    const machine = await createMachine('valid', retryFlow(0));
    const same = await createMachine('valid', retryFlow(0));

    expect(same).toBe(machine);
    await expect(createMachine('valid', retryFlow(1))).rejects.toMatchObject({
      name: 'StateMachineAlreadyExists',
    });
    await expect(createMachine('broken', { StartAt: 'Nope', States: {} })).rejects.toBeInstanceOf(
      InvalidDefinition,
    );
    await expect(
      sfn.send(new CreateStateMachineCommand({ name: 'json', definition: '{not json', roleArn: ROLE })),
    ).rejects.toBeInstanceOf(InvalidDefinition);
    await expect(createMachine('bad name', retryFlow(0))).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machine, input: '{oops' })),
    ).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'a/b' })),
    ).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: `${machine}-missing` })),
    ).rejects.toMatchObject({ name: 'StateMachineDoesNotExist', $metadata: { httpStatusCode: 400 } });
    await expect(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: `${machine.replace('stateMachine', 'execution')}:nope`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: undefined as unknown as string })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine }));
    expect(listed.executions).toEqual([]);
  });

  it('answers an unknown operation with UnknownOperationException', async () => {
    const response = await fetch(edge.endpoint, {
      method: 'POST',
      headers: {
        'x-amz-target': 'AWSStepFunctions.LaunchRockets',
        'content-type': 'application/x-amz-json-1.0',
      },
      body: '{}',
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('runs many executions concurrently', async () => {
    const arn = await createMachine('many', retryFlow(0));

    const started = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: `n-${i}`, input: `{"i":${i}}` })),
      ),
    );
    const done = await Promise.all(started.map((s) => waitForEnd(s.executionArn ?? '')));

    expect(done.every((d) => d.status === 'SUCCEEDED')).toBe(true);
    expect(done.map((d) => JSON.parse(d.output ?? '{}').i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('Task TimeoutSeconds and the local Lambda pool', () => {
  let small: StatesHarness;
  beforeAll(async () => {
    // One container for the function: a burst queues for it, as it never would on Lambda (which scales out).
    small = await startStatesHarness({
      prefix: 'sfn-pool',
      functions: { slow: SLOW },
      maxContainersPerFunction: 1,
    });
  }, 60_000);
  afterAll(() => small?.close());

  const timed = (ms: number) => ({
    StartAt: 'Slow',
    States: {
      Slow: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: fnArn('slow'), Payload: { ms } },
        OutputPath: '$.Payload',
        TimeoutSeconds: 2,
        End: true,
      },
    },
  });

  it('does not count the wait for a local container against TimeoutSeconds', async () => {
    const arn = await small.createMachine(timed(800), 'pool-wait');
    // Four executions on one container: the last waits ~2.4 s for it, longer than its 2 s timeout.
    const started = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        small.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: `w-${i}`, input: '{}' })),
      ),
    );
    const done = await Promise.all(started.map((s) => small.waitForEnd(s.executionArn ?? '', 30_000)));

    expect(done.map((d) => d.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  });

  it('still times out a function that itself runs past TimeoutSeconds', async () => {
    const arn = await small.createMachine(timed(3_000), 'pool-slow');
    const { executionArn } = await small.sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'too-slow', input: '{}' }),
    );
    const done = await small.waitForEnd(executionArn ?? '', 30_000);

    expect(done).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
  });
});
