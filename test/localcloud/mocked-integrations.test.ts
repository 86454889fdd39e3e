/**
 * Mocked service integrations through the stock SDK over real HTTP, with a mock config file in Step
 * Functions Local's format (AWS developer guide, "Using mocked service integrations for testing in Step
 * Functions Local"): StartExecution on `<stateMachineArn>#<TestCase>` answers the test case's Task states
 * from the file (each invocation of a state by its index, retries included); without `#` the same machine
 * calls its real function on the local Lambda service.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateStateMachineCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCliArgs, UsageError } from '../../localcloud/cli';
import { startLocalCloud } from '../../localcloud/cloud';
import { loadMockConfig } from '../../localcloud/stepfunctions/mock-config';
import { fnArn, ROLE, type StatesHarness, startStatesHarness } from '../support/states-harness';

const MOCKS = {
  StateMachines: {
    Payments: {
      TestCases: {
        HappyPath: { Charge: 'ChargeOk' },
        RetryPath: { Charge: 'ChargeFlaky' },
        CatchPath: { Charge: 'ChargeDeclined' },
        ShortPath: { Charge: 'ChargeOnce' },
        Typo: { Chrage: 'ChargeOk' },
      },
    },
    Batch: { TestCases: { Sequence: { ChargeItem: 'FirstThenLater' } } },
    Approval: { TestCases: { Approved: { AskApprover: 'ApproverSaysYes' } } },
    QuickPay: { TestCases: { HappyPath: { Charge: 'ChargeOk' } } },
  },
  MockedResponses: {
    ChargeOk: { '0': { Return: { charged: 'mocked', id: 'ch_1' } } },
    ChargeFlaky: {
      '0': { Throw: { Error: 'Card.Declined', Cause: 'try again' } },
      '1': { Return: { charged: 'mocked after a retry', id: 'ch_2' } },
    },
    ChargeDeclined: { '0-2': { Throw: { Error: 'Card.Declined', Cause: 'insufficient funds' } } },
    ChargeOnce: { '0': { Throw: { Error: 'Card.Declined', Cause: 'once' } } },
    FirstThenLater: { '0': { Return: { n: 'first' } }, '1-2': { Return: { n: 'later' } } },
    ApproverSaysYes: { '0': { Return: { approved: true } } },
  },
};

/** The real function: says it is real, with its input. */
const CHARGE = `exports.handler = async (event) => ({ charged: 'real', amount: event.amount });`;

/** Charge (a Lambda Task): retried twice on Card.Declined, then caught into Refused. */
const PAYMENTS = {
  StartAt: 'Charge',
  States: {
    Charge: {
      Type: 'Task',
      Resource: fnArn('charge'),
      Retry: [{ ErrorEquals: ['Card.Declined'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Refused' }],
      ResultPath: '$.charge',
      End: true,
    },
    Refused: { Type: 'Pass', End: true },
  },
};

let states: StatesHarness;
let dir: string;
let mockFile: string;
const arns: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mocked-integrations-'));
  mockFile = path.join(dir, 'MockConfigFile.json');
  writeFileSync(mockFile, JSON.stringify(MOCKS, null, 2));
  states = await startStatesHarness({
    prefix: 'mocked',
    retryScale: 0.01,
    mockConfig: loadMockConfig(mockFile),
    functions: { charge: CHARGE },
  });
  arns.Payments = await states.createMachine(PAYMENTS, 'Payments');
  arns.Batch = await states.createMachine(
    {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          MaxConcurrency: 1,
          ItemProcessor: {
            StartAt: 'ChargeItem',
            States: { ChargeItem: { Type: 'Task', Resource: fnArn('charge'), End: true } },
          },
          End: true,
        },
      },
    },
    'Batch',
  );
  arns.Approval = await states.createMachine(
    {
      StartAt: 'AskApprover',
      States: {
        AskApprover: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
          Parameters: {
            QueueUrl: 'http://127.0.0.1:9/000000000000/no-such-queue',
            MessageBody: { 'token.$': '$$.Task.Token' },
          },
          HeartbeatSeconds: 600,
          End: true,
        },
      },
    },
    'Approval',
  );
});

afterAll(async () => {
  await states?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Starts `<arn>#<testCase>` (or the plain ARN) and runs it to its end. */
async function run(machine: string, testCase: string | undefined, input: object = { amount: 12 }) {
  const out = await states.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: testCase === undefined ? arns[machine] : `${arns[machine]}#${testCase}`,
      input: JSON.stringify(input),
    }),
  );
  const executionArn = out.executionArn ?? '';
  const description = await states.waitForEnd(executionArn);
  const events = await states.history(executionArn);
  return {
    executionArn,
    description,
    events,
    output: description.output === undefined ? undefined : JSON.parse(description.output),
  };
}

/** The Lambda/Task attempt events, as `type error` or `type output`. */
function attempts(events: HistoryEvent[]): string[] {
  return events.flatMap((e) => {
    if (e.type === 'LambdaFunctionFailed')
      return [
        `failed ${e.lambdaFunctionFailedEventDetails?.error}: ${e.lambdaFunctionFailedEventDetails?.cause}`,
      ];
    if (e.type === 'LambdaFunctionSucceeded')
      return [`succeeded ${e.lambdaFunctionSucceededEventDetails?.output}`];
    return [];
  });
}

async function refusal(stateMachineArn: string): Promise<{ name: string; message: string }> {
  try {
    await states.sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error(`StartExecution on ${stateMachineArn} was accepted`);
}

describe('a Lambda Task run with a test case', () => {
  it('returns the mocked result instead of calling the function, recorded as the Lambda events', async () => {
    const { executionArn, description, events, output } = await run('Payments', 'HappyPath');

    expect(description.status).toBe('SUCCEEDED');
    // The execution belongs to the state machine before the '#'.
    expect(description.stateMachineArn).toBe(arns.Payments);
    expect(executionArn).toMatch(/:execution:Payments:/);
    expect(output).toEqual({ amount: 12, charge: { charged: 'mocked', id: 'ch_1' } });
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(attempts(events)).toEqual(['succeeded {"charged":"mocked","id":"ch_1"}']);
  });

  it('takes the Retry path: the first invocation throws, the retry gets the next response', async () => {
    const { description, events, output } = await run('Payments', 'RetryPath');

    expect(description.status).toBe('SUCCEEDED');
    expect(output.charge).toEqual({ charged: 'mocked after a retry', id: 'ch_2' });
    expect(attempts(events)).toEqual([
      'failed Card.Declined: try again',
      'succeeded {"charged":"mocked after a retry","id":"ch_2"}',
    ]);
  });

  it('takes the Catch path when the mocked error outlasts the retries', async () => {
    const { description, events, output } = await run('Payments', 'CatchPath');

    expect(description.status).toBe('SUCCEEDED');
    expect(output).toEqual({ amount: 12, error: { Error: 'Card.Declined', Cause: 'insufficient funds' } });
    expect(attempts(events)).toEqual(Array(3).fill('failed Card.Declined: insufficient funds'));
    expect(
      events.filter((e) => e.type === 'PassStateEntered').map((e) => e.stateEnteredEventDetails?.name),
    ).toEqual(['Refused']);
  });

  it('fails the execution when an invocation has no mocked response (no Retry or Catch applies)', async () => {
    const { description, events } = await run('Payments', 'ShortPath');

    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('States.Runtime');
    expect(description.cause).toMatch(
      /No mocked response for invocation 1 of state 'Charge' in mock test case 'ShortPath': mocked response 'ChargeOnce' defines invocations 0 to 0/,
    );
    expect(events.some((e) => e.type === 'PassStateEntered')).toBe(false);
  });

  it('calls the real function when started without a test case', async () => {
    const { description, events, output } = await run('Payments', undefined);

    expect(description.status).toBe('SUCCEEDED');
    expect(output.charge).toEqual({ charged: 'real', amount: 12 });
    expect(attempts(events)).toEqual(['succeeded {"charged":"real","amount":12}']);
  });
});

describe('other states and patterns', () => {
  it('mocks a Task inside a Map: the invocations count across the iterations', async () => {
    const { description, output } = await run('Batch', 'Sequence', [
      { amount: 1 },
      { amount: 2 },
      { amount: 3 },
    ]);

    expect(description.status).toBe('SUCCEEDED');
    expect(output).toEqual([{ n: 'first' }, { n: 'later' }, { n: 'later' }]);
  });

  it('answers a mocked .waitForTaskToken Task at once, without sending anything or waiting for a callback', async () => {
    const { description, events, output } = await run('Approval', 'Approved');

    expect(description.status).toBe('SUCCEEDED');
    expect(output).toEqual({ approved: true });
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(states.states.taskTokens.size).toMatchObject({ open: 0 });
  });

  it('runs a test case with StartSyncExecution on an Express machine', async () => {
    const quick = await states.sfn.send(
      new CreateStateMachineCommand({
        name: 'QuickPay',
        type: 'EXPRESS',
        roleArn: ROLE,
        definition: JSON.stringify({
          StartAt: 'Charge',
          States: { Charge: { Type: 'Task', Resource: fnArn('charge'), End: true } },
        }),
      }),
    );
    // StartSyncExecution goes to a `sync-` host on AWS; against a local endpoint the prefix must be off.
    const sync = new SFNClient({
      endpoint: states.edge.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      disableHostPrefix: true,
      maxAttempts: 1,
    });
    const out = await sync.send(
      new StartSyncExecutionCommand({ stateMachineArn: `${quick.stateMachineArn}#HappyPath`, input: '{}' }),
    );
    sync.destroy();

    expect(out.status).toBe('SUCCEEDED');
    expect(out.stateMachineArn).toBe(quick.stateMachineArn);
    expect(JSON.parse(out.output ?? 'null')).toEqual({ charged: 'mocked', id: 'ch_1' });
  });
});

describe('refusals', () => {
  it('refuses a test case the file does not define, and starts nothing', async () => {
    const before = await states.sfn.send(new ListExecutionsCommand({ stateMachineArn: arns.Payments }));
    const refused = await refusal(`${arns.Payments}#SadPath`);
    const after = await states.sfn.send(new ListExecutionsCommand({ stateMachineArn: arns.Payments }));

    expect(refused.name).toBe('InvalidName');
    expect(refused.message).toContain("Invalid mock test case name 'SadPath' for state machine 'Payments'");
    expect(refused.message).toContain("'HappyPath', 'RetryPath', 'CatchPath', 'ShortPath', 'Typo'");
    expect(after.executions?.length).toBe(before.executions?.length);
  });

  it('refuses a test case that mocks a state the machine does not have', async () => {
    const refused = await refusal(`${arns.Payments}#Typo`);

    expect(refused.name).toBe('InvalidName');
    expect(refused.message).toMatch(
      /it mocks 'Chrage', which is not a Task state of this state machine \(its Task states: 'Charge'\)/,
    );
  });

  it('refuses a test case when no mock config is loaded', async () => {
    const bare = await startStatesHarness({ prefix: 'unmocked' });
    try {
      const arn = await bare.createMachine(PAYMENTS, 'Payments');
      const error = await bare.sfn
        .send(new StartExecutionCommand({ stateMachineArn: `${arn}#HappyPath` }))
        .catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(
        /no mock config is loaded \(start the local cloud with --mock-config FILE or SFN_MOCK_CONFIG=FILE\)/,
      );
    } finally {
      await bare.close();
    }
  });
});

describe('a bad mock config file', () => {
  let bad: string;
  beforeAll(() => {
    bad = path.join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        StateMachines: { Payments: { TestCases: { HappyPath: { Charge: 'ChargeOk' } } } },
        MockedResponses: { ChargeOk: { '0': { Return: {} }, '2': { Throw: { Error: 'X' } } } },
      }),
    );
  });
  const problem = 'MockedResponses.ChargeOk: invocation 1 has no response';

  it('keeps the local cloud from starting, naming the problem', async () => {
    await expect(startLocalCloud({ mockConfig: bad, assembly: false, port: 0, quiet: true })).rejects.toThrow(
      `invalid mock config ${bad}: ${problem}`,
    );
  });

  it('is refused by npm start (from --mock-config or SFN_MOCK_CONFIG) before anything starts', async () => {
    expect(() => parseCliArgs(['--mock-config', bad])).toThrow(UsageError);
    expect(() => parseCliArgs([], { SFN_MOCK_CONFIG: bad })).toThrow(
      new RegExp(`^invalid mock config ${bad}: ${problem} .*\\(from SFN_MOCK_CONFIG\\)$`),
    );
    expect(parseCliArgs([], { SFN_MOCK_CONFIG: mockFile }).mockConfig?.testCaseCount).toBe(8);

    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', 'localcloud/cli.ts', '--mock-config', bad, '--no-synth'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    cli.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain(problem);
  });
});
