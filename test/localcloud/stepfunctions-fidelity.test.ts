import { CreateStateMachineCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fnArn, ROLE, type StatesHarness, startStatesHarness } from '../support/states-harness';

let states: StatesHarness;
let machines = 0;

const SLOW = `exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms)); return 'done'; };`;
const ECHO = `exports.handler = async (e) => 'x'.repeat(e.size);`;
const TYPE_ERROR = `exports.handler = async () => null.property;`;
const SLOW_THEN_FAIL = `exports.handler = async (e) => {
  await new Promise((r) => setTimeout(r, e.ms));
  const error = new Error('late failure'); error.name = 'LateFailure'; throw error;
};`;

beforeAll(async () => {
  states = await startStatesHarness({
    prefix: 'fidelity',
    retryScale: 0.01,
    functions: { slow: SLOW, slowThenFail: SLOW_THEN_FAIL, echo: ECHO, typeError: TYPE_ERROR },
  });
});

afterAll(async () => {
  await states?.close();
});

/** Creates a state machine, runs it to the end and returns its description and history. */
const execute = (definition: object, input: unknown = {}, timeoutMs = 30_000) =>
  states.execute(definition, input, timeoutMs);

describe('Task timeouts from paths', () => {
  it('reads TimeoutSecondsPath from the state input, not from the Parameters output', async () => {
    const { description, events, types } = await execute(
      {
        StartAt: 'Call',
        States: {
          Call: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            TimeoutSecondsPath: '$.timeoutSeconds',
            Parameters: { FunctionName: 'slow', 'Payload.$': '$.payload' },
            End: true,
          },
        },
      },
      { timeoutSeconds: 1, payload: { ms: 5000 } },
    );

    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('States.Timeout');
    expect(description.cause).toBeUndefined();
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskTimedOut',
      'ExecutionFailed',
    ]);
    const scheduled = events.find((e) => e.type === 'TaskScheduled')?.taskScheduledEventDetails;
    expect(scheduled?.timeoutInSeconds).toBe(1);
    expect(JSON.parse(scheduled?.parameters ?? '{}')).toEqual({
      FunctionName: 'slow',
      Payload: { ms: 5000 },
    });
  });

  it('fails States.Runtime on a TimeoutSecondsPath value that is not a positive integer, and the local cloud lives on', async () => {
    const definition = {
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: fnArn('slowThenFail'),
          TimeoutSecondsPath: '$.timeoutSeconds',
          Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Pass', End: true },
      },
    };

    const bad = await execute(definition, { timeoutSeconds: 'soon', ms: 10 });
    const later = await execute(definition, { timeoutSeconds: 5, ms: 300 });

    expect(bad.description.status).toBe('FAILED');
    expect(bad.description.error).toBe('States.Runtime');
    expect(bad.description.cause).toContain('TimeoutSecondsPath');
    expect(bad.types).not.toContain('LambdaFunctionScheduled');
    // The process is still serving: the same machine with a valid value runs its Lambda and its Catch.
    expect(later.description.status).toBe('SUCCEEDED');
    expect(later.output).toMatchObject({ Error: 'LateFailure' });
  });
});

describe('ResultPath', () => {
  it('"$" replaces the state input with the result, in a state and in a Catch', async () => {
    const { description, output } = await execute(
      {
        StartAt: 'Replace',
        States: {
          Replace: { Type: 'Pass', Result: { replaced: true }, ResultPath: '$', Next: 'Boom' },
          Boom: {
            Type: 'Task',
            Resource: fnArn('slowThenFail'),
            Parameters: { ms: 1 },
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$', Next: 'Done' }],
            End: true,
          },
          Done: { Type: 'Pass', End: true },
        },
      },
      { original: 1 },
    );

    expect(description.status).toBe('SUCCEEDED');
    expect(output).toEqual({ Error: 'LateFailure', Cause: expect.stringContaining('late failure') });
  });
});

describe('Map and Parallel history', () => {
  const failingBranch = {
    StartAt: 'Boom',
    States: { Boom: { Type: 'Fail', Error: 'BranchFailed', Cause: 'always' } },
  };

  it('records MapStateStarted on every retry and MapStateFailed once, when the failure is final', async () => {
    const { description, types } = await execute(
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: failingBranch,
            Retry: [{ ErrorEquals: ['BranchFailed'], IntervalSeconds: 1, MaxAttempts: 2 }],
            End: true,
          },
        },
      },
      { items: [1] },
    );

    const attempt = ['MapStateStarted', 'MapIterationStarted', 'FailStateEntered', 'MapIterationFailed'];
    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('BranchFailed');
    expect(types).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      ...attempt,
      ...attempt,
      ...attempt,
      'MapStateFailed',
      'ExecutionFailed',
    ]);
  });

  it('records ParallelStateStarted on every retry and ParallelStateFailed once before a Catch', async () => {
    const { description, types } = await execute({
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [failingBranch],
          Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 1 }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled' }],
          End: true,
        },
        Handled: { Type: 'Pass', End: true },
      },
    });

    expect(description.status).toBe('SUCCEEDED');
    expect(types).toEqual([
      'ExecutionStarted',
      'ParallelStateEntered',
      'ParallelStateStarted',
      'FailStateEntered',
      'ParallelStateStarted',
      'FailStateEntered',
      'ParallelStateFailed',
      'ParallelStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('records MapStateStarted/Succeeded for an empty Map', async () => {
    const { types } = await execute(
      {
        StartAt: 'Each',
        States: { Each: { Type: 'Map', ItemProcessor: failingBranch, End: true } },
      },
      [],
    );

    expect(types).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('fails a Map with an invalid MaxConcurrencyPath before it starts, naming the state and its event', async () => {
    const { description, types } = await execute(
      {
        StartAt: 'Prepare',
        States: {
          Prepare: { Type: 'Pass', Next: 'Each' },
          Each: {
            Type: 'Map',
            MaxConcurrencyPath: '$.limit',
            ItemsPath: '$.items',
            ItemProcessor: { StartAt: 'Echo', States: { Echo: { Type: 'Pass', End: true } } },
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled' }],
            End: true,
          },
          Handled: { Type: 'Pass', End: true },
        },
      },
      { limit: 'many', items: [1, 2] },
    );

    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('States.Runtime');
    expect(description.cause).toBe(
      `An error occurred while executing the state 'Each' (entered at the event id #4). The MaxConcurrencyPath field refers to value "many" which is not a valid integer: $.limit`,
    );
    expect(types).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'MapStateEntered',
      'ExecutionFailed',
    ]);
  });
});

describe('runtime errors', () => {
  it('names the state and its StateEntered event id in the cause of any States.Runtime failure', async () => {
    const { description } = await execute({
      StartAt: 'First',
      States: {
        First: { Type: 'Pass', Next: 'Second' },
        Second: { Type: 'Pass', OutputPath: '$.no.such.path', End: true },
      },
    });

    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('States.Runtime');
    expect(description.cause).toMatch(
      /^An error occurred while executing the state 'Second' \(entered at the event id #4\)\. .*\$\.no\.such\.path/,
    );
  });

  it("keeps a function's own TypeError a Task error that Retry and Catch match by its name", async () => {
    const { description, output, types } = await execute({
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: fnArn('typeError'),
          Retry: [{ ErrorEquals: ['TypeError'], MaxAttempts: 1, IntervalSeconds: 1 }],
          Catch: [{ ErrorEquals: ['TypeError'], ResultPath: '$.error', Next: 'Handled' }],
          End: true,
        },
        Handled: { Type: 'Pass', OutputPath: '$.error.Error', End: true },
      },
    });

    expect(description.status).toBe('SUCCEEDED');
    expect(output).toBe('TypeError');
    expect(types.filter((type) => type === 'LambdaFunctionFailed')).toHaveLength(2);
  });

  it('reports a JavaScript error escaping the engine as States.Runtime, which no Catch matches', async () => {
    const { description } = await execute(
      {
        StartAt: 'Parse',
        States: {
          Parse: {
            Type: 'Task',
            Resource: fnArn('slow'),
            Parameters: { ms: 1, 'parsed.$': 'States.StringToJson($.text)' },
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled' }],
            End: true,
          },
          Handled: { Type: 'Pass', End: true },
        },
      },
      { text: '{not json' },
    );

    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('States.Runtime');
    expect(description.cause).toMatch(
      /^An error occurred while executing the state 'Parse' \(entered at the event id #2\)\. /,
    );
  });
});

describe('Context Object', () => {
  it('copies $$ and $$.State when they are evaluated, and has RetryCount in Task states only', async () => {
    const { description, output } = await execute(
      {
        StartAt: 'First',
        States: {
          First: {
            Type: 'Pass',
            Parameters: { 'all.$': '$$', 'state.$': '$$.State' },
            ResultPath: '$.first',
            Next: 'Second',
          },
          Second: { Type: 'Pass', InputPath: '$$', ResultPath: '$', Next: 'Third' },
          Third: {
            Type: 'Task',
            Resource: fnArn('slow'),
            Parameters: { ms: 1 },
            ResultSelector: { 'state.$': '$$.State' },
            ResultPath: '$.third',
            End: true,
          },
        },
      },
      { order: 'o-1' },
    );

    expect(description.status).toBe('SUCCEEDED');
    const result = output as {
      State: object;
      Execution: { Input: object };
      third: { state: object };
    };
    // Second's output is the whole Context Object as Second saw it, First's copies are gone with it.
    expect(result.State).toEqual({ Name: 'Second', EnteredTime: expect.any(String) });
    expect(result.Execution.Input).toEqual({ order: 'o-1' });
    expect(result.third.state).toEqual({ Name: 'Third', EnteredTime: expect.any(String), RetryCount: 0 });
  });

  it('keeps what a Pass state stored from $$.State when later states run', async () => {
    const { output } = await execute({
      StartAt: 'Remember',
      States: {
        Remember: {
          Type: 'Pass',
          Parameters: { 'state.$': '$$.State' },
          ResultPath: '$.remembered',
          Next: 'Later',
        },
        Later: { Type: 'Pass', Next: 'Last' },
        Last: { Type: 'Pass', End: true },
      },
    });

    expect(output).toEqual({ remembered: { state: { Name: 'Remember', EnteredTime: expect.any(String) } } });
  });
});

describe('payload size limit', () => {
  it('fails the execution with States.DataLimitExceeded when a state result exceeds 256 KiB, whatever the Catch', async () => {
    const { description, types } = await execute({
      StartAt: 'Big',
      States: {
        Big: { Type: 'Pass', Result: { blob: 'a'.repeat(262_144) }, End: true },
      },
    });

    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('States.DataLimitExceeded');
    expect(description.cause).toBe(
      "The state/task 'Big' returned a result with a size exceeding the maximum number of bytes service limit.",
    );
    expect(types).toEqual(['ExecutionStarted', 'PassStateEntered', 'ExecutionFailed']);
  });

  it('fails on a Task whose function returns more than 256 KiB, even with Retry and Catch on States.ALL', async () => {
    const { description } = await execute(
      {
        StartAt: 'Call',
        States: {
          Call: {
            Type: 'Task',
            Resource: fnArn('echo'),
            Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled' }],
            End: true,
          },
          Handled: { Type: 'Pass', End: true },
        },
      },
      { size: 300_000 },
    );

    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('States.DataLimitExceeded');
    expect(description.cause).toContain("'Call'");
  });
});

describe('CreateStateMachine', () => {
  const create = (definition: object) =>
    states.sfn.send(
      new CreateStateMachineCommand({
        name: `resources-${++machines}`,
        definition: JSON.stringify(definition),
        roleArn: ROLE,
      }),
    );

  it('refuses an unknown integration of a known service, also inside Parallel branches and Map processors', async () => {
    const task = (resource: string) => ({ Type: 'Task', Resource: resource, End: true });
    const topLevel = { StartAt: 'Get', States: { Get: task('arn:aws:states:::dynamodb:getItems') } };
    const nested = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'Send', States: { Send: task('arn:aws:states:::sqs:sendMessage') } }],
          Next: 'Each',
        },
        Each: {
          Type: 'Map',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Query',
            States: { Query: task('arn:aws:states:::aws-sdk:dynamodb:queryEverything') },
          },
          End: true,
        },
      },
    };

    const refusedTop = await create(topLevel).catch((error: unknown) => error);
    const refusedNested = await create(nested).catch((error: unknown) => error);

    expect(refusedTop).toMatchObject({
      name: 'InvalidDefinition',
      message:
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The resource provided " +
        'arn:aws:states:::dynamodb:getItems is not recognized. The value is not a valid resource ARN, or the ' +
        "resource is not available in this region. at /States/Get/Resource'",
    });
    expect(refusedNested).toMatchObject({ name: 'InvalidDefinition' });
    expect((refusedNested as Error).message).toContain(
      'arn:aws:states:::aws-sdk:dynamodb:queryEverything is not recognized',
    );
    expect((refusedNested as Error).message).toContain('at /States/Each/ItemProcessor/States/Query/Resource');
  });

  it('accepts the integrations the local cloud runs and services it does not know', async () => {
    const definition = {
      StartAt: 'Put',
      States: {
        Put: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', Next: 'Query' },
        Query: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:dynamodb:query', Next: 'Other' },
        Other: { Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync', End: true },
      },
    };

    const created = await create(definition);

    expect(created.stateMachineArn).toContain(':stateMachine:resources-');
  });
});
