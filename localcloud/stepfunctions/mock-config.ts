/**
 * Mocked service integrations in the format of AWS Step Functions Local (also read by LocalStack): a mock
 * config file names test cases per state machine, each mapping Task states to mocked responses.
 *
 * ```json
 * { "StateMachines": { "<machine name>": { "TestCases": { "<test case>": { "<Task state>": "<response>" } } } },
 *   "MockedResponses": { "<response>": { "0": { "Return": {...} }, "1-2": { "Throw": { "Error": "...", "Cause": "..." } } } } }
 * ```
 *
 * Rules (AWS Step Functions developer guide, "Using mocked service integrations for testing in Step
 * Functions Local" and "Configuration file for mocked service integrations"):
 * - StartExecution with `<stateMachineArn>#<test case>` runs the execution with that test case's mocks;
 *   without `#` every Task calls its resource.
 * - A Task state the test case names never calls its resource: each invocation of the state in the
 *   execution (0-based, retries included, every Map iteration counting) takes the response keyed by its
 *   index (`"0"`, or an inclusive range `"1-2"`): `Return` is the Task's result, `Throw` its error.
 *   A state the test case does not name calls its resource.
 * - An invocation with no response fails the execution ("If you do not specify a mocked response [...] the
 *   state machine execution will fail"): here `States.Runtime`, which no Retry or Catch matches.
 * - A mocked `.waitForTaskToken` Task answers at once (a task token is still issued, then closed).
 *
 * The whole file is checked when it is loaded; every problem is reported with where it is.
 */
import { readFileSync } from 'node:fs';
import type { State, StateMachineDefinition } from './asl/definition';
import type { MockedAnswer, TaskMock } from './asl/run';
import { isJsonObject, type JsonObject, type JsonValue } from './asl/types';

/** The environment variable naming the mock config file (as on Step Functions Local and LocalStack). */
export const MOCK_CONFIG_ENV = 'SFN_MOCK_CONFIG';

/** A mock config that is not valid: `problems` each say where and what. */
export class MockConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(
      problems.length === 1
        ? `invalid mock config ${source}: ${problems[0]}`
        : `invalid mock config ${source} (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'MockConfigError';
  }
}

/** Why StartExecution refuses `<arn>#<test case>` (the service answers it as an API error). */
export class TestCaseError extends Error {
  override name = 'TestCaseError';
}

/** One key of a mocked response: invocations `start` to `end` (inclusive) answer `answer`. */
interface InvocationRange {
  key: string;
  start: number;
  end: number;
  answer: MockedAnswer;
}

interface MockedResponse {
  name: string;
  /** Sorted, contiguous from 0. */
  ranges: InvocationRange[];
}

/** A test case: the mocked response of each Task state it names. */
export interface MockTestCase {
  stateMachine: string;
  name: string;
  states: ReadonlyMap<string, MockedResponse>;
}

/** A loaded, valid mock config. */
export class MockConfig {
  constructor(
    /** Where it was read from (a file path), for messages. */
    readonly source: string,
    private readonly machines: ReadonlyMap<string, ReadonlyMap<string, MockTestCase>>,
  ) {}

  /** How many test cases, over all state machines. */
  get testCaseCount(): number {
    let count = 0;
    for (const cases of this.machines.values()) count += cases.size;
    return count;
  }

  testCase(stateMachine: string, name: string): MockTestCase | undefined {
    return this.machines.get(stateMachine)?.get(name);
  }

  /** The test case `name` of `stateMachine` for `definition`; TestCaseError says why there is none. */
  resolve(stateMachine: string, name: string, definition: StateMachineDefinition): MockTestCase {
    const prefix = `Invalid mock test case name '${name}' for state machine '${stateMachine}'`;
    const cases = this.machines.get(stateMachine);
    if (!cases)
      throw new TestCaseError(
        `${prefix}: the mock config ${this.source} has no test cases for this state machine (it has test cases for: ${list([...this.machines.keys()])})`,
      );
    const testCase = cases.get(name);
    if (!testCase)
      throw new TestCaseError(
        `${prefix}: the mock config ${this.source} does not define it (test cases of '${stateMachine}': ${list([...cases.keys()])})`,
      );
    const tasks = taskStateNames(definition);
    const strays = [...testCase.states.keys()].filter((state) => !tasks.has(state));
    if (strays.length > 0)
      throw new TestCaseError(
        `${prefix}: it mocks ${strays.map((s) => `'${s}'`).join(', ')}, which ${strays.length === 1 ? 'is not a Task state' : 'are not Task states'} of this state machine (its Task states: ${list([...tasks])})`,
      );
    return testCase;
  }
}

function list(names: string[]): string {
  return names.length === 0 ? '(none)' : names.map((n) => `'${n}'`).join(', ');
}

/** Every Task state of a definition, in Parallel branches and Map item processors too. */
export function taskStateNames(definition: StateMachineDefinition, into = new Set<string>()): Set<string> {
  for (const [name, state] of Object.entries(definition.States) as [string, State][]) {
    if (state.Type === 'Task') into.add(name);
    if (state.Type === 'Parallel') for (const branch of state.Branches) taskStateNames(branch, into);
    if (state.Type === 'Map') {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) taskStateNames(processor, into);
    }
  }
  return into;
}

/**
 * The Task mock of one execution of a test case: counts the invocations of each mocked state (retries and
 * Map iterations included) and answers the response keyed by the count; a state the test case does not
 * name is not mocked.
 */
export function testCaseMock(testCase: MockTestCase): TaskMock {
  const invocations = new Map<string, number>();
  return (state) => {
    const response = testCase.states.get(state);
    if (!response) return undefined;
    const index = invocations.get(state) ?? 0;
    invocations.set(state, index + 1);
    const range = response.ranges.find((r) => index >= r.start && index <= r.end);
    if (range) return range.answer;
    const last = response.ranges[response.ranges.length - 1];
    return {
      error: 'States.Runtime',
      cause: `No mocked response for invocation ${index} of state '${state}' in mock test case '${testCase.name}': mocked response '${response.name}' defines invocations 0 to ${last?.end ?? -1} (each call counts, retries and Map iterations included)`,
    };
  };
}

/** `arn:...:stateMachine:Name#TestCase` → the state machine ARN and the test case (undefined without `#`). */
export function splitTestCaseArn(arn: string): { stateMachineArn: string; testCase?: string } {
  const hash = arn.indexOf('#');
  if (hash < 0) return { stateMachineArn: arn };
  return { stateMachineArn: arn.slice(0, hash), testCase: arn.slice(hash + 1) };
}

/** Reads and checks a mock config file; MockConfigError names every problem. */
export function loadMockConfig(file: string): MockConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new MockConfigError(file, [
      `cannot read the file (${error instanceof Error ? error.message : String(error)})`,
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MockConfigError(file, [
      `not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    ]);
  }
  return parseMockConfig(value, file);
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** `MockedResponses.Name["1-2"].Throw`: where a problem is. */
function at(...parts: string[]): string {
  return parts
    .map((part, i) => (IDENTIFIER.test(part) ? `${i === 0 ? '' : '.'}${part}` : `[${JSON.stringify(part)}]`))
    .join('');
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function unknownKeys(
  object: JsonObject,
  allowed: readonly string[],
  where: string,
  problems: string[],
): void {
  for (const key of Object.keys(object))
    if (!allowed.includes(key))
      problems.push(
        `${where ? `${where}: ` : ''}unknown field '${key}' (expected ${allowed.map((a) => `'${a}'`).join(' or ')})`,
      );
}

const RANGE = /^(\d+)(?:-(\d+))?$/;

/** Checks a parsed mock config (`source` names it in messages); MockConfigError names every problem. */
export function parseMockConfig(value: unknown, source = '(inline)'): MockConfig {
  const problems: string[] = [];
  if (!isJsonObject(value))
    throw new MockConfigError(source, [
      `the file must hold a JSON object with 'StateMachines' and 'MockedResponses', not ${typeOf(value)}`,
    ]);
  const root = value;
  unknownKeys(root, ['StateMachines', 'MockedResponses'], '', problems);

  const responses = new Map<string, MockedResponse>();
  const rawResponses = root.MockedResponses;
  if (rawResponses === undefined) problems.push(`'MockedResponses' is missing`);
  else if (!isJsonObject(rawResponses))
    problems.push(`MockedResponses must be an object, not ${typeOf(rawResponses)}`);
  else
    for (const [name, raw] of Object.entries(rawResponses)) {
      const response = parseResponse(name, raw, problems);
      if (response) responses.set(name, response);
    }

  const machines = new Map<string, Map<string, MockTestCase>>();
  const rawMachines = root.StateMachines;
  if (rawMachines === undefined) problems.push(`'StateMachines' is missing`);
  else if (!isJsonObject(rawMachines))
    problems.push(`StateMachines must be an object, not ${typeOf(rawMachines)}`);
  else
    for (const [machine, rawMachine] of Object.entries(rawMachines)) {
      const where = at('StateMachines', machine);
      if (!isJsonObject(rawMachine)) {
        problems.push(`${where} must be an object with 'TestCases', not ${typeOf(rawMachine)}`);
        continue;
      }
      unknownKeys(rawMachine, ['TestCases'], where, problems);
      const rawCases = rawMachine.TestCases;
      if (!isJsonObject(rawCases)) {
        problems.push(
          rawCases === undefined
            ? `${where}: 'TestCases' is missing`
            : `${at('StateMachines', machine, 'TestCases')} must be an object, not ${typeOf(rawCases)}`,
        );
        continue;
      }
      const cases = new Map<string, MockTestCase>();
      for (const [name, rawCase] of Object.entries(rawCases)) {
        const caseWhere = at('StateMachines', machine, 'TestCases', name);
        if (!isJsonObject(rawCase)) {
          problems.push(
            `${caseWhere} must be an object mapping Task state names to mocked response names, not ${typeOf(rawCase)}`,
          );
          continue;
        }
        const states = new Map<string, MockedResponse>();
        for (const [state, responseName] of Object.entries(rawCase)) {
          const stateWhere = at('StateMachines', machine, 'TestCases', name, state);
          if (typeof responseName !== 'string') {
            problems.push(`${stateWhere} must be the name of a mocked response, not ${typeOf(responseName)}`);
            continue;
          }
          const response = responses.get(responseName);
          if (response) states.set(state, response);
          else if (!isJsonObject(rawResponses) || !(responseName in rawResponses))
            problems.push(
              `${stateWhere}: mocked response '${responseName}' is not defined in MockedResponses${isJsonObject(rawResponses) ? ` (defined: ${list(Object.keys(rawResponses))})` : ''}`,
            );
        }
        cases.set(name, { stateMachine: machine, name, states });
      }
      machines.set(machine, cases);
    }

  if (problems.length > 0) throw new MockConfigError(source, problems);
  return new MockConfig(source, machines);
}

/** One entry of MockedResponses; undefined (with problems) when it is not valid. */
function parseResponse(name: string, raw: JsonValue, problems: string[]): MockedResponse | undefined {
  const where = at('MockedResponses', name);
  if (!isJsonObject(raw)) {
    problems.push(`${where} must be an object keyed by invocation ("0", "1-2"...), not ${typeOf(raw)}`);
    return undefined;
  }
  const before = problems.length;
  // Every well-formed key counts for the numbering, even when its answer has a problem of its own.
  const ranges: Array<Omit<InvocationRange, 'answer'> & { answer: MockedAnswer | undefined }> = [];
  for (const [key, entry] of Object.entries(raw)) {
    const entryWhere = `${where}[${JSON.stringify(key)}]`;
    const match = RANGE.exec(key);
    const start = match ? Number(match[1]) : Number.NaN;
    const end = match?.[2] !== undefined ? Number(match[2]) : start;
    if (!match || !Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
      problems.push(
        `${entryWhere}: '${key}' is not an invocation index ("0", "1"...) or an inclusive range ("1-2")`,
      );
      continue;
    }
    if (end < start) {
      problems.push(`${entryWhere}: the range '${key}' ends before it starts`);
      continue;
    }
    ranges.push({ key, start, end, answer: parseAnswer(entry, entryWhere, problems) });
  }
  if (Object.keys(raw).length === 0)
    problems.push(`${where} must define at least one invocation ("0": {"Return": ...} or {"Throw": ...})`);
  ranges.sort((a, b) => a.start - b.start);
  let next = 0;
  let previous: (typeof ranges)[number] | undefined;
  for (const range of ranges) {
    if (range.start > next)
      problems.push(
        `${where}: invocation${range.start - next > 1 ? `s ${next}-${range.start - 1} have` : ` ${next} has`} no response (keys must number the invocations consecutively from "0"${previous ? `; '${previous.key}' is followed by '${range.key}'` : ''})`,
      );
    else if (range.start < next && previous)
      problems.push(`${where}: '${range.key}' overlaps '${previous.key}'`);
    next = Math.max(next, range.end + 1);
    previous = range;
  }
  if (problems.length > before) return undefined;
  return { name, ranges: ranges.flatMap(({ answer, ...range }) => (answer ? [{ ...range, answer }] : [])) };
}

function parseAnswer(entry: JsonValue, where: string, problems: string[]): MockedAnswer | undefined {
  if (!isJsonObject(entry)) {
    problems.push(`${where} must be an object with 'Return' or 'Throw', not ${typeOf(entry)}`);
    return undefined;
  }
  unknownKeys(entry, ['Return', 'Throw'], where, problems);
  const hasReturn = 'Return' in entry;
  const hasThrow = 'Throw' in entry;
  if (hasReturn && hasThrow) {
    problems.push(`${where} has both 'Return' and 'Throw' (exactly one is allowed)`);
    return undefined;
  }
  if (hasReturn) return { result: entry.Return ?? null };
  const thrown = entry.Throw;
  if (!hasThrow) {
    problems.push(`${where} must have 'Return' (the Task's result) or 'Throw' (its error)`);
    return undefined;
  }
  const throwWhere = `${where}.Throw`;
  if (!isJsonObject(thrown)) {
    problems.push(`${throwWhere} must be an object with 'Error' and 'Cause', not ${typeOf(thrown)}`);
    return undefined;
  }
  unknownKeys(thrown, ['Error', 'Cause'], throwWhere, problems);
  const { Error: error, Cause: cause } = thrown;
  let valid = true;
  if (typeof error !== 'string' || error.length === 0) {
    problems.push(
      error === undefined
        ? `${throwWhere}: 'Error' is missing (the error name Retry and Catch match)`
        : `${throwWhere}.Error must be a non-empty string, not ${typeOf(error)}`,
    );
    valid = false;
  }
  if (cause !== undefined && typeof cause !== 'string') {
    problems.push(`${throwWhere}.Cause must be a string, not ${typeOf(cause)}`);
    valid = false;
  }
  if (!valid || typeof error !== 'string') return undefined;
  return typeof cause === 'string' ? { error, cause } : { error };
}
