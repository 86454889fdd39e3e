/**
 * The local Step Functions service through the AWS SDK over real HTTP (an Edge with Lambda and Step
 * Functions): the API's semantics, the history it records and the Context Object the saga relies on.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidDefinition,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Edge } from '../../localcloud/edge';
import { LambdaService } from '../../localcloud/lambda/service';
import { type HistoryEventLike, StepFunctionsService } from '../../localcloud/stepfunctions/service';

let edge: Edge;
let sfn: SFNClient;
let workDir: string;
const live: Array<{ arn: string; event: HistoryEventLike }> = [];
const ROLE = 'arn:aws:iam::000000000000:role/StatesRole';
const fnArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

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

async function addFunction(lambda: LambdaService, name: string, source: string): Promise<void> {
  const dir = path.join(workDir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.js'), source);
  await lambda.createFunction({
    name,
    handler: 'index.handler',
    runtime: 'nodejs22.x',
    codeDir: dir,
    environment: {},
    timeoutSeconds: 30,
    memoryMb: 128,
  });
}

async function createMachine(name: string, definition: object): Promise<string> {
  const out = await sfn.send(
    new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: ROLE }),
  );
  return out.stateMachineArn ?? '';
}

async function waitForEnd(executionArn: string, timeoutMs = 30_000): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== 'RUNNING') return out;
    if (Date.now() > deadline) throw new Error(`${executionArn} still RUNNING after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const out = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return out.events ?? [];
}

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
  workDir = mkdtempSync(path.join(os.tmpdir(), 'sfn-test-'));
  edge = new Edge({ port: 0 });
  const lambda = new LambdaService({ dataDir: path.join(workDir, 'data'), endpoint: () => edge.endpoint });
  // Retry intervals of 2 s, 4 s... become 20 ms, 40 ms.
  const states = new StepFunctionsService({ lambda, endpoint: () => edge.endpoint, retryScale: 0.01 });
  states.onEvent((arn, event) => live.push({ arn, event }));
  edge.register(lambda);
  edge.register(states);
  await edge.listen();
  sfn = new SFNClient({
    endpoint: edge.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  await addFunction(lambda, 'flaky', FLAKY);
  await addFunction(lambda, 'decline', DECLINE);
  await addFunction(lambda, 'slow', SLOW);
});

afterAll(async () => {
  sfn?.destroy();
  await edge?.close();
  rmSync(workDir, { recursive: true, force: true });
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
