/**
 * Express workflows on the local Step Functions service, through the stock SDK over real HTTP, as the API
 * reference describes them: StartSyncExecution runs one to its end and answers with its outcome and
 * billing details; executions of Express state machines are not visible to DescribeExecution,
 * GetExecutionHistory, StopExecution or ListExecutions (AWS keeps no history of them: CloudWatch Logs do).
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE, type StatesHarness, startStatesHarness } from '../support/states-harness';

let states: StatesHarness;
/** StartSyncExecution goes to a `sync-` host on AWS; against a local endpoint the prefix must be off. */
let sync: SFNClient;
let express: string;
let standard: string;

beforeAll(async () => {
  states = await startStatesHarness({ prefix: 'express' });
  sync = new SFNClient({
    endpoint: states.edge.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    disableHostPrefix: true,
  });
  const definition = {
    StartAt: 'Check',
    States: {
      Check: {
        Type: 'Choice',
        Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'Done' }],
        Default: 'Refuse',
      },
      Done: { Type: 'Pass', Parameters: { 'greeting.$': "States.Format('hello {}', $.name)" }, End: true },
      Refuse: { Type: 'Fail', Error: 'NotOk', Cause: 'ok was not true' },
    },
  };
  const created = await Promise.all(
    (['EXPRESS', 'STANDARD'] as const).map((type) =>
      states.sfn.send(
        new CreateStateMachineCommand({
          name: `express-${type.toLowerCase()}`,
          type,
          roleArn: ROLE,
          definition: JSON.stringify(definition),
        }),
      ),
    ),
  );
  express = created[0]?.stateMachineArn ?? '';
  standard = created[1]?.stateMachineArn ?? '';
});

afterAll(async () => {
  sync?.destroy();
  await states?.close();
});

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: Error) => ({ name: error.name, message: error.message }),
  );

describe('StartSyncExecution', () => {
  it('answers with the output, the status and the billing details of a finished execution', async () => {
    const out = await sync.send(
      new StartSyncExecutionCommand({
        stateMachineArn: express,
        name: 'sync-ok',
        input: '{"ok":true,"name":"Ada"}',
      }),
    );

    expect(out).toMatchObject({
      executionArn: expect.stringContaining(':express:express-express:sync-ok'),
      stateMachineArn: express,
      name: 'sync-ok',
      status: 'SUCCEEDED',
      input: '{"ok":true,"name":"Ada"}',
      output: '{"greeting":"hello Ada"}',
      billingDetails: { billedMemoryUsedInMB: 64 },
    });
    expect(out.billingDetails?.billedDurationInMilliseconds).toBeGreaterThanOrEqual(100);
    expect((out.billingDetails?.billedDurationInMilliseconds ?? 0) % 100).toBe(0);
    expect(out.stopDate?.getTime()).toBeGreaterThanOrEqual(out.startDate?.getTime() ?? Number.NaN);
  });

  it('answers a failed execution with its error and cause, not as an API error', async () => {
    const out = await sync.send(
      new StartSyncExecutionCommand({ stateMachineArn: express, input: '{"ok":false}' }),
    );

    expect(out).toMatchObject({ status: 'FAILED', error: 'NotOk', cause: 'ok was not true' });
    expect(out.output).toBeUndefined();
  });

  it('refuses a Standard state machine', async () => {
    expect(await refusal(sync.send(new StartSyncExecutionCommand({ stateMachineArn: standard })))).toEqual({
      name: 'StateMachineTypeNotSupported',
      message: 'This operation is not supported by this type of state machine',
    });
  });
});

describe('Express executions', () => {
  it('are not described, listed or given a history', async () => {
    const { executionArn = '' } = await states.sfn.send(
      new StartExecutionCommand({ stateMachineArn: express, input: '{"ok":true,"name":"Bo"}' }),
    );
    const invalid = {
      name: 'InvalidArn',
      message: "Invalid Arn: 'Resource type not valid in this context: express'",
    };

    expect(await refusal(states.sfn.send(new DescribeExecutionCommand({ executionArn })))).toEqual(invalid);
    expect(await refusal(states.sfn.send(new GetExecutionHistoryCommand({ executionArn })))).toEqual(invalid);
    expect(await refusal(states.sfn.send(new ListExecutionsCommand({ stateMachineArn: express })))).toEqual({
      name: 'StateMachineTypeNotSupported',
      message: 'This operation is not supported by this type of state machine',
    });
  });
});
