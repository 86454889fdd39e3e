/**
 * The mock config of mocked service integrations (localcloud/stepfunctions/mock-config.ts): Step Functions
 * Local's format (AWS developer guide, "Configuration file for mocked service integrations"), checked as a
 * whole with every problem named where it is, and the per-execution invocation counting of a test case.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StateMachineDefinition } from '../../localcloud/stepfunctions/asl/definition';
import {
  loadMockConfig,
  MockConfigError,
  parseMockConfig,
  splitTestCaseArn,
  TestCaseError,
  testCaseMock,
} from '../../localcloud/stepfunctions/mock-config';

/** The example of AWS's "Configuration file for mocked service integrations" page, as it is printed. */
const AWS_EXAMPLE = {
  StateMachines: {
    LambdaSQSIntegration: {
      TestCases: {
        HappyPath: { LambdaState: 'MockedLambdaSuccess', SQSState: 'MockedSQSSuccess' },
        RetryPath: { LambdaState: 'MockedLambdaRetry', SQSState: 'MockedSQSSuccess' },
        HybridPath: { LambdaState: 'MockedLambdaSuccess' },
      },
    },
  },
  MockedResponses: {
    MockedLambdaSuccess: {
      '0': { Return: { StatusCode: 200, Payload: { StatusCode: 200, body: 'Hello from Lambda!' } } },
    },
    LambdaMockedResourceNotReady: {
      '0': {
        Throw: { Error: 'Lambda.ResourceNotReadyException', Cause: 'Lambda resource is not ready.' },
      },
    },
    MockedSQSSuccess: {
      '0': {
        Return: {
          MD5OfMessageBody: '3bcb6e8e-7h85-4375-b0bc-1a59812c6e51',
          MessageId: '3bcb6e8e-8b51-4375-b0bc-1a59812c6e51',
        },
      },
    },
    MockedLambdaRetry: {
      '0': {
        Throw: { Error: 'Lambda.ResourceNotReadyException', Cause: 'Lambda resource is not ready.' },
      },
      '1-2': { Throw: { Error: 'Lambda.TimeoutException', Cause: 'Lambda timed out.' } },
      '3': { Return: { StatusCode: 200, Payload: { StatusCode: 200, body: 'Hello from Lambda!' } } },
    },
  },
};

const AWS_MACHINE: StateMachineDefinition = {
  StartAt: 'LambdaState',
  States: {
    LambdaState: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Next: 'SQSState' },
    SQSState: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true },
  },
} as StateMachineDefinition;

const dir = mkdtempSync(path.join(os.tmpdir(), 'mock-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The message parseMockConfig refuses `value` with. */
function refusal(value: unknown): string {
  try {
    parseMockConfig(value, 'test.json');
  } catch (error) {
    if (error instanceof MockConfigError) return error.message;
    throw error;
  }
  throw new Error('the mock config was accepted');
}

const withResponses = (responses: object) => ({
  StateMachines: { M: { TestCases: { T: { S: 'R' } } } },
  MockedResponses: { R: responses },
});

describe('a valid mock config', () => {
  it("reads AWS's documented example: three test cases, each invocation of a state answered by its key", () => {
    const config = parseMockConfig(AWS_EXAMPLE);
    expect(config.testCaseCount).toBe(3);

    const retry = config.resolve('LambdaSQSIntegration', 'RetryPath', AWS_MACHINE);
    const mock = testCaseMock(retry);
    const answers = [0, 1, 2, 3].map(() => mock('LambdaState'));
    expect(answers).toEqual([
      { error: 'Lambda.ResourceNotReadyException', cause: 'Lambda resource is not ready.' },
      { error: 'Lambda.TimeoutException', cause: 'Lambda timed out.' },
      { error: 'Lambda.TimeoutException', cause: 'Lambda timed out.' },
      { result: { StatusCode: 200, Payload: { StatusCode: 200, body: 'Hello from Lambda!' } } },
    ]);
    // Each state counts its own invocations.
    expect(mock('SQSState')).toEqual({ result: expect.objectContaining({ MessageId: expect.any(String) }) });
  });

  it('fails the invocation that has no response with States.Runtime naming the state, the index and the response', () => {
    const config = parseMockConfig(AWS_EXAMPLE);
    const mock = testCaseMock(config.resolve('LambdaSQSIntegration', 'HappyPath', AWS_MACHINE));
    mock('LambdaState');
    const second = mock('LambdaState');
    expect(second).toMatchObject({ error: 'States.Runtime' });
    expect(second && 'cause' in second ? second.cause : '').toMatch(
      /invocation 1 of state 'LambdaState' in mock test case 'HappyPath': mocked response 'MockedLambdaSuccess' defines invocations 0 to 0/,
    );
  });

  it('leaves the states a test case does not name unmocked, and counts afresh for each execution', () => {
    const config = parseMockConfig(AWS_EXAMPLE);
    const hybrid = config.resolve('LambdaSQSIntegration', 'HybridPath', AWS_MACHINE);
    const first = testCaseMock(hybrid);
    expect(first('SQSState')).toBeUndefined();
    expect(first('LambdaState')).toMatchObject({ result: { StatusCode: 200 } });
    expect(testCaseMock(hybrid)('LambdaState')).toMatchObject({ result: { StatusCode: 200 } });
  });

  it('accepts any JSON as a Return, a Throw without a Cause, and Task states nested in Map and Parallel', () => {
    const config = parseMockConfig({
      StateMachines: { M: { TestCases: { T: { Inner: 'R', Branch: 'E' } } } },
      MockedResponses: {
        R: { '0-1': { Return: 'text' }, '2': { Return: null } },
        E: { '0': { Throw: { Error: 'E' } } },
      },
    });
    const machine = {
      StartAt: 'Fan',
      States: {
        Fan: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'Branch', States: { Branch: { Type: 'Task', Resource: 'x', End: true } } }],
          Next: 'Each',
        },
        Each: {
          Type: 'Map',
          ItemProcessor: { StartAt: 'Inner', States: { Inner: { Type: 'Task', Resource: 'x', End: true } } },
          End: true,
        },
      },
    } as StateMachineDefinition;
    const mock = testCaseMock(config.resolve('M', 'T', machine));
    expect([mock('Inner'), mock('Inner'), mock('Inner'), mock('Branch')]).toEqual([
      { result: 'text' },
      { result: 'text' },
      { result: null },
      { error: 'E' },
    ]);
  });

  it('splits stateMachineArn#TestCase at the first #', () => {
    const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:Orders';
    expect(splitTestCaseArn(arn)).toEqual({ stateMachineArn: arn });
    expect(splitTestCaseArn(`${arn}#HappyPath`)).toEqual({ stateMachineArn: arn, testCase: 'HappyPath' });
  });
});

describe('choosing a test case', () => {
  const config = parseMockConfig(AWS_EXAMPLE, 'mocks.json');
  const reason = (machine: string, testCase: string, definition = AWS_MACHINE) => {
    try {
      config.resolve(machine, testCase, definition);
    } catch (error) {
      if (error instanceof TestCaseError) return error.message;
      throw error;
    }
    throw new Error('resolved');
  };

  it('refuses a test case the file does not define, listing the ones it does', () => {
    expect(reason('LambdaSQSIntegration', 'SadPath')).toBe(
      "Invalid mock test case name 'SadPath' for state machine 'LambdaSQSIntegration': the mock config mocks.json does not define it (test cases of 'LambdaSQSIntegration': 'HappyPath', 'RetryPath', 'HybridPath')",
    );
  });

  it('refuses a state machine the file has no test cases for', () => {
    expect(reason('Orders', 'HappyPath')).toMatch(
      /no test cases for this state machine \(it has test cases for: 'LambdaSQSIntegration'\)/,
    );
  });

  it('refuses a test case that mocks a state the machine does not have as a Task', () => {
    const renamed = {
      StartAt: 'Invoke',
      States: {
        Invoke: { Type: 'Task', Resource: 'x', Next: 'SQSState' },
        SQSState: { Type: 'Task', Resource: 'y', End: true },
      },
    } as StateMachineDefinition;
    expect(reason('LambdaSQSIntegration', 'HappyPath', renamed)).toMatch(
      /it mocks 'LambdaState', which is not a Task state of this state machine \(its Task states: 'Invoke', 'SQSState'\)/,
    );
  });
});

describe('an invalid mock config', () => {
  it.each([
    ['not an object', [], /must hold a JSON object with 'StateMachines' and 'MockedResponses', not an array/],
    ['no MockedResponses', { StateMachines: {} }, /'MockedResponses' is missing/],
    [
      'a misspelt top-level field',
      { StateMachines: {}, MockedResponse: {} },
      /unknown field 'MockedResponse'/,
    ],
    [
      'a machine without TestCases',
      { StateMachines: { M: { Testcases: {} } }, MockedResponses: {} },
      /StateMachines\.M: unknown field 'Testcases'.*StateMachines\.M: 'TestCases' is missing/s,
    ],
    [
      'a test case pointing at no response',
      {
        StateMachines: { M: { TestCases: { T: { S: 'Nope' } } } },
        MockedResponses: { R: { '0': { Return: 1 } } },
      },
      /StateMachines\.M\.TestCases\.T\.S: mocked response 'Nope' is not defined in MockedResponses \(defined: 'R'\)/,
    ],
    [
      'a state mapped to something else than a name',
      { StateMachines: { M: { TestCases: { T: { S: { '0': {} } } } } }, MockedResponses: {} },
      /StateMachines\.M\.TestCases\.T\.S must be the name of a mocked response, not an object/,
    ],
    [
      'a key that is no index',
      withResponses({ first: { Return: 1 } }),
      /MockedResponses\.R\["first"\]: 'first' is not an invocation index/,
    ],
    [
      'a backwards range',
      withResponses({ '0': { Return: 1 }, '3-1': { Return: 1 } }),
      /\["3-1"\]: the range '3-1' ends before it starts/,
    ],
    [
      'a gap',
      withResponses({ '0': { Return: 1 }, '3': { Return: 2 } }),
      /MockedResponses\.R: invocations 1-2 have no response \(keys must number the invocations consecutively from "0"; '0' is followed by '3'\)/,
    ],
    [
      'not starting at 0',
      withResponses({ '1': { Return: 1 } }),
      /MockedResponses\.R: invocation 0 has no response/,
    ],
    [
      'an overlap',
      withResponses({ '0-2': { Return: 1 }, '2': { Return: 2 } }),
      /MockedResponses\.R: '2' overlaps '0-2'/,
    ],
    ['no invocation', withResponses({}), /MockedResponses\.R must define at least one invocation/],
    [
      'both Return and Throw',
      withResponses({ '0': { Return: 1, Throw: { Error: 'E' } } }),
      /\["0"\] has both 'Return' and 'Throw'/,
    ],
    [
      'neither',
      withResponses({ '0': { Retrun: 1 } }),
      /\["0"\]: unknown field 'Retrun'.*\["0"\] must have 'Return'/s,
    ],
    [
      'a Throw without Error',
      withResponses({ '0': { Throw: { Cause: 'why' } } }),
      /\["0"\]\.Throw: 'Error' is missing/,
    ],
    [
      'a Cause that is not text',
      withResponses({ '0': { Throw: { Error: 'E', Cause: { why: 1 } } } }),
      /\["0"\]\.Throw\.Cause must be a string, not an object/,
    ],
  ])('names the problem: %s', (_what, value, message) => {
    expect(refusal(value)).toMatch(message);
  });

  it('reports every problem at once, each with where it is', () => {
    const message = refusal({
      StateMachines: { M: { TestCases: { T: { A: 'Missing', B: 'R' } } } },
      MockedResponses: { R: { '0': { Throw: {} }, '2': { Return: 1 } } },
    });
    expect(message).toMatch(/^invalid mock config test\.json \(3 problems\):/);
    expect(message).toContain(`  - MockedResponses.R["0"].Throw: 'Error' is missing`);
    expect(message).toContain('  - MockedResponses.R: invocation 1 has no response');
    expect(message).toContain(`  - StateMachines.M.TestCases.T.A: mocked response 'Missing' is not defined`);
  });

  it('names the file it cannot read or parse', () => {
    const missing = path.join(dir, 'missing.json');
    expect(() => loadMockConfig(missing)).toThrow(
      `invalid mock config ${missing}: cannot read the file (ENOENT`,
    );
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{"StateMachines": {},');
    expect(() => loadMockConfig(broken)).toThrow(new RegExp(`invalid mock config ${broken}: not valid JSON`));
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(AWS_EXAMPLE));
    expect(loadMockConfig(good).testCaseCount).toBe(3);
  });
});
