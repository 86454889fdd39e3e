/**
 * The TestState API on the interpreter: one entry into one state (a single-state definition, or the state
 * `stateName` of a whole machine, also inside a Map's ItemProcessor or a Parallel's branches) with the
 * request's input, variables and Context Object, through the same state modules as an execution
 * (`interpreter.ts` `dispatch`), with
 *
 * - `mock`: a Task's answer through `ExecutionEnv.taskMock` (checked first against the API's output
 *   shape, `mock-validation.ts`); a Map's or Parallel's result (or error) in place of its iterations or
 *   branches, after the Map's items, MaxConcurrency and tolerance were evaluated;
 * - an `Inspector` on the frame: `dataflow.ts`, the states and `retry.ts` report the data-flow stages and
 *   Retry/Catch's decision. A matching retrier does not wait: the answer is RETRIABLE with its index and
 *   backoff; a matching catcher is CAUGHT_ERROR with its index and Next;
 * - `stateConfiguration`: `retrierRetryCount` (attempts the matching retrier already spent),
 *   `mapIterationFailureCount` (failed iterations, against the Map's tolerance), `mapItemReaderData` (what
 *   the ItemReader would read), `errorCausedByState` (where a mocked Map/Parallel error arose).
 *
 * Refusals are `TestStateRefusal`s with AWS's codes and texts (recorded in LocalStack's AWS-validated
 * TestState snapshots, `conformance/cases/teststate-*.json`) except where marked "not recorded".
 */
import { randomUUID } from 'node:crypto';
import type { Integrations } from '../integrations';
import type { TaskTokens } from '../task-tokens';
import { effectiveInput, jsonPathScope, stateOutput } from './dataflow';
import type { MapState, ParallelState, QueryLanguage, State, StateMachineDefinition } from './definition';
import { History } from './history';
import { dispatch, runStates } from './interpreter';
import { selectPath } from './jsonpath';
import { type FieldValidationMode, MockSchemaError, validateMockResult } from './mock-validation';
import { withRetryAndCatch } from './retry';
import {
  type ExecutionEnv,
  type Frame,
  type InspectionStage,
  type Inspector,
  LocatedError,
  type MockedAnswer,
  type StateResult,
  type StateRun,
  transition,
} from './run';
import { FailStateError } from './states/fail';
import { concurrency, mapItems, tolerated } from './states/map';
import { isJsonObject, type JsonObject, type JsonValue, runtimeError, StatesError } from './types';
import { type DefinitionProblem, invalidDefinitionMessage, validateDefinition } from './validate';

export type InspectionLevel = 'INFO' | 'DEBUG' | 'TRACE';

/** TestStateInput, as the API takes it. */
export interface TestStateRequest {
  definition: string;
  roleArn?: string;
  input?: string;
  inspectionLevel?: InspectionLevel;
  revealSecrets?: boolean;
  variables?: string;
  stateName?: string;
  mock?: {
    result?: string;
    errorOutput?: { error?: string; cause?: string };
    fieldValidationMode?: FieldValidationMode;
  };
  context?: string;
  stateConfiguration?: {
    retrierRetryCount?: number;
    errorCausedByState?: string;
    mapIterationFailureCount?: number;
    mapItemReaderData?: string;
  };
}

export type TestExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'RETRIABLE' | 'CAUGHT_ERROR';

export interface InspectionData {
  input?: string;
  afterArguments?: string;
  afterInputPath?: string;
  afterParameters?: string;
  result?: string;
  afterResultSelector?: string;
  afterResultPath?: string;
  variables?: string;
  errorDetails?: { catchIndex?: number; retryIndex?: number; retryBackoffIntervalSeconds?: number };
  afterItemsPath?: string;
  afterItemSelector?: string;
  toleratedFailureCount?: number;
  toleratedFailurePercentage?: number;
  maxConcurrency?: number;
}

/** TestStateOutput. */
export interface TestStateResponse {
  status: TestExecutionStatus;
  output?: string;
  error?: string;
  cause?: string;
  nextState?: string;
  inspectionData?: InspectionData;
}

/** A refused request: `code` is the API error (`ValidationException`, `InvalidDefinition`). */
export class TestStateRefusal extends Error {
  constructor(
    readonly code: 'ValidationException' | 'InvalidDefinition',
    message: string,
  ) {
    super(message);
  }
}

export interface TestStateDeps {
  integrations: Integrations;
  taskTokens: TaskTokens;
  region: string;
  account: string;
}

/** The name a single-state definition's state has (AWS's pointers say `/States/StateName/...`). */
const SINGLE_STATE_NAME = 'StateName';
const MOCKABLE = new Set(['Task', 'Map', 'Parallel']);
/** TestState runs for up to five minutes on AWS, then fails with States.Timeout. */
const TEST_STATE_TIMEOUT_MS = 5 * 60 * 1000;

const refuse = (message: string): never => {
  throw new TestStateRefusal('ValidationException', message);
};

/**
 * The request from the API's JSON members, their types checked (AWS's "1 validation error detected" texts
 * for a wrong type or a missing definition).
 */
export function parseTestStateRequest(params: Record<string, unknown>): TestStateRequest {
  const invalid = (member: string, constraint: string): never =>
    refuse(`1 validation error detected: Value at '${member}' failed to satisfy constraint: ${constraint}`);
  const text = (value: unknown, member: string): string | undefined => {
    if (value === undefined || value === null) return undefined;
    return typeof value === 'string' ? value : invalid(member, 'Member must be a string');
  };
  const oneOf = <T extends string>(value: unknown, member: string, values: readonly T[]): T | undefined => {
    const given = text(value, member);
    if (given === undefined) return undefined;
    return (values as readonly string[]).includes(given)
      ? (given as T)
      : invalid(member, `Member must satisfy enum value set: [${values.join(', ')}]`);
  };
  const count = (value: unknown, member: string): number | undefined => {
    if (value === undefined || value === null) return undefined;
    return typeof value === 'number' && Number.isInteger(value) && value >= 0
      ? value
      : invalid(member, 'Member must have value greater than or equal to 0');
  };
  const object = (value: unknown, member: string): Record<string, unknown> | undefined => {
    if (value === undefined || value === null) return undefined;
    return typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : invalid(member, 'Member must be a structure');
  };
  const definition = text(params.definition, 'definition');
  if (definition === undefined)
    refuse(
      "1 validation error detected: Value null at 'definition' failed to satisfy constraint: Member must not be null",
    );
  const request: TestStateRequest = { definition: definition ?? '' };
  const roleArn = text(params.roleArn, 'roleArn');
  const input = text(params.input, 'input');
  const inspectionLevel = oneOf(params.inspectionLevel, 'inspectionLevel', [
    'INFO',
    'DEBUG',
    'TRACE',
  ] as const);
  const variables = text(params.variables, 'variables');
  const stateName = text(params.stateName, 'stateName');
  const context = text(params.context, 'context');
  if (roleArn !== undefined) request.roleArn = roleArn;
  if (input !== undefined) request.input = input;
  if (inspectionLevel !== undefined) request.inspectionLevel = inspectionLevel;
  if (variables !== undefined) request.variables = variables;
  if (stateName !== undefined) request.stateName = stateName;
  if (context !== undefined) request.context = context;
  if (params.revealSecrets !== undefined && params.revealSecrets !== null) {
    if (typeof params.revealSecrets !== 'boolean') invalid('revealSecrets', 'Member must be a boolean');
    request.revealSecrets = params.revealSecrets === true;
  }
  const mock = object(params.mock, 'mock');
  if (mock) {
    const parsed: Mock = {};
    const result = text(mock.result, 'mock.result');
    const mode = oneOf(mock.fieldValidationMode, 'mock.fieldValidationMode', [
      'STRICT',
      'PRESENT',
      'NONE',
    ] as const);
    const errorOutput = object(mock.errorOutput, 'mock.errorOutput');
    if (result !== undefined) parsed.result = result;
    if (mode !== undefined) parsed.fieldValidationMode = mode;
    if (errorOutput) {
      const error = text(errorOutput.error, 'mock.errorOutput.error');
      const cause = text(errorOutput.cause, 'mock.errorOutput.cause');
      parsed.errorOutput = {
        ...(error !== undefined ? { error } : {}),
        ...(cause !== undefined ? { cause } : {}),
      };
    }
    request.mock = parsed;
  }
  const configuration = object(params.stateConfiguration, 'stateConfiguration');
  if (configuration) {
    const parsed: NonNullable<TestStateRequest['stateConfiguration']> = {};
    const retries = count(configuration.retrierRetryCount, 'stateConfiguration.retrierRetryCount');
    const failures = count(
      configuration.mapIterationFailureCount,
      'stateConfiguration.mapIterationFailureCount',
    );
    const causedBy = text(configuration.errorCausedByState, 'stateConfiguration.errorCausedByState');
    const readerData = text(configuration.mapItemReaderData, 'stateConfiguration.mapItemReaderData');
    if (retries !== undefined) parsed.retrierRetryCount = retries;
    if (failures !== undefined) parsed.mapIterationFailureCount = failures;
    if (causedBy !== undefined) parsed.errorCausedByState = causedBy;
    if (readerData !== undefined) parsed.mapItemReaderData = readerData;
    request.stateConfiguration = parsed;
  }
  return request;
}

/** Runs the TestState request. Throws TestStateRefusal for the requests AWS refuses. */
export async function testState(request: TestStateRequest, deps: TestStateDeps): Promise<TestStateResponse> {
  const target = resolveState(request);
  const { state, name, language } = target;
  const mock = checkMock(request, state);
  const config = request.stateConfiguration ?? {};
  if (config.mapIterationFailureCount !== undefined && !mock)
    refuse('TestState does not support MapIterationFailureCount when a mock is not specified.');
  if ((state.Type === 'Map' || state.Type === 'Parallel') && !mock)
    throw new TestStateRefusal(
      'InvalidDefinition',
      'TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]',
    );
  const callback = state.Type === 'Task' && /\.(waitForTaskToken|sync(:2)?)$/.test(state.Resource);
  if (state.Type === 'Task' && !mock) {
    if (!request.roleArn) refuse('RoleArn must be specified when testing a Task state');
    // not recorded: AWS's documentation says these patterns need a mock
    if (callback)
      refuse(
        'TestState does not support the .sync or .waitForTaskToken integration patterns when a mock is not specified.',
      );
  }
  const context =
    request.context === undefined ? undefined : checkContext(request.context, state, callback, !!mock);
  const answer = mock ? mockedAnswer(mock, state, config) : undefined;
  const input = request.input === undefined ? {} : parseJson(request.input, 'input');
  const variables = request.variables === undefined ? {} : parseVariables(request.variables);

  const recorder = new Recorder(config.retrierRetryCount ?? 0);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TEST_STATE_TIMEOUT_MS);
  const env = environment(request, deps, input, name, answer);
  const frame: Frame = {
    env,
    variables: structuredClone(variables),
    queryLanguage: language,
    signal: controller.signal,
    concurrent: false,
    recorded: false,
    inspect: recorder,
  };
  const run = stateRun(name, state, frame, input, context, config.retrierRetryCount ?? 0);
  let response: TestStateResponse;
  try {
    const result = await enter(run, answer, config, recorder);
    for (const [key, value] of Object.entries(result.assign ?? {}))
      Object.defineProperty(frame.variables, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    response = {
      status: recorder.caughtError ? 'CAUGHT_ERROR' : 'SUCCEEDED',
      output: JSON.stringify(result.output),
      ...(recorder.caughtError ? errorFields(recorder.caughtError) : {}),
      ...(result.next !== undefined ? { nextState: result.next } : {}),
    };
  } catch (error) {
    if (error instanceof FailStateError) {
      response = {
        status: 'FAILED',
        ...(error.failError !== undefined ? { error: error.failError } : {}),
        ...(error.failCause !== undefined ? { cause: error.failCause } : {}),
      };
    } else if (error instanceof StatesError) {
      response = { status: recorder.retriable ? 'RETRIABLE' : 'FAILED', ...errorFields(error) };
    } else if (controller.signal.aborted) {
      response = { status: 'FAILED', error: 'States.Timeout' };
    } else throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  const level = request.inspectionLevel ?? 'INFO';
  if (level !== 'INFO') response.inspectionData = recorder.data(run, frame.variables);
  return response;
}

// -----------------------------------------------------------------------------------------------------
// the state under test
// -----------------------------------------------------------------------------------------------------

interface Target {
  state: State;
  name: string;
  language: QueryLanguage;
}

function resolveState(request: TestStateRequest): Target {
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.definition);
  } catch (error) {
    throw new TestStateRefusal(
      'InvalidDefinition',
      `Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ${error instanceof Error ? error.message : String(error)}'`,
    );
  }
  if (request.stateName !== undefined) {
    checkDefinition(validateDefinition(parsed, { type: 'STANDARD' }));
    const machine = parsed as StateMachineDefinition;
    const found = findState(machine, request.stateName, machine.QueryLanguage ?? 'JSONPath');
    if (!found) return refuse('State not found in definition');
    return found;
  }
  // A single state is validated as a machine of that one state; its Next/Catch targets are elsewhere.
  const machine = { StartAt: SINGLE_STATE_NAME, States: { [SINGLE_STATE_NAME]: parsed } };
  checkDefinition(
    validateDefinition(machine, { type: 'STANDARD' }).filter(
      (p) => p.code !== 'MISSING_TRANSITION_TARGET' && p.code !== 'MISSING_END_STATE',
    ),
  );
  const state = parsed as State;
  return { state, name: SINGLE_STATE_NAME, language: state.QueryLanguage ?? 'JSONPath' };
}

function checkDefinition(problems: DefinitionProblem[]): void {
  if (problems.length > 0)
    throw new TestStateRefusal('InvalidDefinition', invalidDefinitionMessage(problems));
}

/** The state named `name` in a machine, or in the machines nested in its Map and Parallel states. */
function findState(
  machine: StateMachineDefinition,
  name: string,
  inherited: QueryLanguage,
): Target | undefined {
  const language = machine.QueryLanguage ?? inherited;
  const own = Object.hasOwn(machine.States, name) ? machine.States[name] : undefined;
  if (own) return { state: own, name, language: own.QueryLanguage ?? language };
  for (const state of Object.values(machine.States)) {
    const nested: StateMachineDefinition[] =
      state.Type === 'Map'
        ? [state.ItemProcessor ?? state.Iterator].filter((p) => p !== undefined)
        : state.Type === 'Parallel'
          ? state.Branches
          : [];
    for (const inner of nested) {
      const found = findState(inner, name, state.QueryLanguage ?? language);
      if (found) return found;
    }
  }
  return undefined;
}

// -----------------------------------------------------------------------------------------------------
// request checks
// -----------------------------------------------------------------------------------------------------

type Mock = NonNullable<TestStateRequest['mock']>;

function checkMock(request: TestStateRequest, state: State): Mock | undefined {
  const { mock } = request;
  if (!mock) return undefined;
  if (mock.result !== undefined && mock.errorOutput !== undefined)
    refuse('A test mock should have only one of the following fields: [result, errorOutput].');
  if (request.revealSecrets) refuse('TestState does not support RevealSecrets when a mock is specified.');
  if (!MOCKABLE.has(state.Type))
    refuse(`State type '${state.Type}' is not supported when a mock is specified`);
  // not recorded: a mock with neither member
  if (mock.result === undefined && mock.errorOutput === undefined)
    refuse('A test mock should have one of the following fields: [result, errorOutput].');
  return mock;
}

/** The mocked answer, checked against the state: JSON, an array for Map and Parallel, the API's shape for a Task. */
function mockedAnswer(mock: Mock, state: State, config: NonNullable<TestStateRequest['stateConfiguration']>) {
  if (mock.errorOutput !== undefined) {
    const answer: MockedAnswer = {
      error: mock.errorOutput.error ?? '',
      ...(mock.errorOutput.cause !== undefined ? { cause: mock.errorOutput.cause } : {}),
    };
    return answer;
  }
  let result: JsonValue;
  try {
    result = JSON.parse(mock.result ?? '') as JsonValue;
  } catch {
    return refuse('Mocked result must be valid JSON');
  }
  if (state.Type === 'Map') {
    if (state.ResultWriter !== undefined) {
      if (!isJsonObject(result)) refuse('Mocked result must be a JSON object.');
    } else if (!Array.isArray(result)) refuse('Mocked result must be an array.');
    const iterations = Array.isArray(result) ? result.length : undefined;
    if (
      config.mapIterationFailureCount !== undefined &&
      iterations !== undefined &&
      config.mapIterationFailureCount > iterations
    )
      refuse('Map iteration failure count must be less than or equal to the number of Map iterations');
  }
  if (state.Type === 'Parallel') {
    if (!Array.isArray(result)) refuse('Mocked result must be an array.');
    else if (result.length !== state.Branches.length)
      refuse('Mocked result must contain the same number of items as number of Parallel branches.');
  }
  if (state.Type === 'Task') {
    try {
      validateMockResult(state.Resource, result, mock.fieldValidationMode ?? 'STRICT');
    } catch (error) {
      if (error instanceof MockSchemaError) refuse(error.message);
      throw error;
    }
  }
  const answer: MockedAnswer = { result };
  return answer;
}

/** The members a Context Object may have, and which of them must be strings. */
const CONTEXT_FIELDS: Record<string, Record<string, 'string' | 'number' | 'any'>> = {
  Execution: {
    Id: 'string',
    Input: 'any',
    Name: 'string',
    RoleArn: 'string',
    StartTime: 'string',
    RedriveCount: 'number',
    RedriveTime: 'string',
  },
  State: { EnteredTime: 'string', Name: 'string', RetryCount: 'number' },
  StateMachine: { Id: 'string', Name: 'string' },
  Task: { Token: 'string' },
};

function checkContext(text: string, state: State, callback: boolean, mocked: boolean): JsonObject {
  const invalid = (detail: string): never => refuse(`Invalid Context object provided: ${detail}`);
  // not recorded: AWS's API reference says `context` needs a mock
  if (!mocked) refuse('TestState does not support Context when a mock is not specified.');
  let context: unknown;
  try {
    context = JSON.parse(text);
  } catch {
    return invalid('Context object must be a valid JSON object'); // not recorded
  }
  if (!isJsonObject(context)) return invalid('Context object must be a valid JSON object'); // not recorded
  for (const [key, value] of Object.entries(context)) {
    if (key === 'Map') invalid("'Map' field is not supported when mocking a Context object");
    const fields = CONTEXT_FIELDS[key];
    if (!fields) return invalid(`Field '${key}' is not allowed`);
    if (!isJsonObject(value)) return invalid(`${key} must be an object`); // not recorded
    for (const [field, member] of Object.entries(value)) {
      const kind = fields[field];
      if (!kind) invalid(`Field '${field}' is not allowed`);
      if (kind === 'string' && typeof member !== 'string') invalid(`${key}.${field} must be a string`);
      if (kind === 'number' && typeof member !== 'number') invalid(`${key}.${field} must be a number`); // not recorded
    }
  }
  if (context.Task !== undefined && !(state.Type === 'Task' && callback))
    invalid(
      "Context object contains 'Task' when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern",
    );
  return context;
}

function parseJson(text: string, member: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    // not recorded
    return refuse(`Invalid ${member}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function parseVariables(text: string): Record<string, JsonValue> {
  const variables = parseJson(text, 'variables');
  if (!isJsonObject(variables)) return refuse('Variables must be a JSON object'); // not recorded
  return variables;
}

// -----------------------------------------------------------------------------------------------------
// the run
// -----------------------------------------------------------------------------------------------------

function environment(
  request: TestStateRequest,
  deps: TestStateDeps,
  input: JsonValue,
  name: string,
  answer: MockedAnswer | undefined,
): ExecutionEnv {
  const machineName = `TestStateMachine-${randomUUID().slice(0, 8)}`;
  const executionName = randomUUID();
  const prefix = `arn:aws:states:${deps.region}:${deps.account}`;
  return {
    runStates,
    history: new History(() => undefined),
    // One state, never stopped from outside.
    stopped: () => false,
    integrations: deps.integrations,
    taskTokens: deps.taskTokens,
    openTokens: new Set(),
    retryScale: 1,
    // TestState does not wait (a Wait state answers at once).
    waitScale: 0,
    execution: {
      Id: `${prefix}:express:${machineName}:${executionName}:${randomUUID()}`,
      Input: input,
      Name: executionName,
      RoleArn: request.roleArn ?? null,
      StartTime: new Date().toISOString(),
    },
    stateMachine: { Id: `${prefix}:stateMachine:${machineName}`, Name: machineName },
    ...(answer ? { taskMock: (state: string) => (state === name ? answer : undefined) } : {}),
  };
}

function stateRun(
  name: string,
  state: State,
  frame: Frame,
  input: JsonValue,
  given: JsonObject | undefined,
  retryCount: number,
): StateRun {
  return {
    name,
    state,
    frame,
    language: state.QueryLanguage ?? frame.queryLanguage,
    input,
    enteredEventId: 0,
    enteredTime: new Date().toISOString(),
    retryCount,
    record: () => 0,
    context(map) {
      // The request's Context Object is `$$` as given; otherwise one like an Express execution's.
      const context: JsonObject = given
        ? structuredClone(given)
        : {
            Execution: frame.env.execution,
            StateMachine: frame.env.stateMachine,
            State: {
              // recorded: TestState names the state "StateName" in `$$.State.Name`
              Name: SINGLE_STATE_NAME,
              EnteredTime: this.enteredTime,
              ...(MOCKABLE.has(state.Type) ? { RetryCount: this.retryCount } : {}),
            },
          };
      if (!given?.Task && this.taskToken !== undefined) context.Task = { Token: this.taskToken };
      if (map) context.Map = { Item: map };
      return structuredClone(context);
    },
  };
}

/** Enters the state: Map and Parallel with their mocked result, the others as in an execution. */
function enter(
  run: StateRun,
  answer: MockedAnswer | undefined,
  config: NonNullable<TestStateRequest['stateConfiguration']>,
  recorder: Recorder,
): Promise<StateResult> {
  const { state } = run;
  if (answer && state.Type === 'Map') return mockedMap(run as StateRun<MapState>, answer, config, recorder);
  if (answer && state.Type === 'Parallel') return mockedParallel(run as StateRun<ParallelState>, answer);
  if (state.Type === 'Fail' && run.language === 'JSONPath') recorder.stage('afterInputPath', run.input);
  return dispatch(run);
}

function mockedParallel(run: StateRun<ParallelState>, answer: MockedAnswer): Promise<StateResult> {
  return withRetryAndCatch(run, async () => {
    if ('error' in answer) throw new StatesError(answer.error, answer.cause);
    const { output, assign } = await stateOutput(run, structuredClone(answer.result));
    return { output, next: transition(run.state), ...(assign ? { assign } : {}) };
  });
}

/**
 * A mocked Map: its items, MaxConcurrency and tolerance are evaluated (and inspected), then the mock is
 * the Map's result (or error). `mapIterationFailureCount` iterations failed: more than the Map tolerates
 * fails it with States.ExceedToleratedFailureThreshold (a Map that sets no tolerance does not count them).
 */
function mockedMap(
  run: StateRun<MapState>,
  answer: MockedAnswer,
  config: NonNullable<TestStateRequest['stateConfiguration']>,
  recorder: Recorder,
): Promise<StateResult> {
  const { state } = run;
  return withRetryAndCatch(run, async () => {
    const effective = effectiveInput(run);
    let items: JsonValue;
    if (state.ItemReader !== undefined) {
      items =
        config.mapItemReaderData === undefined
          ? []
          : parseJson(config.mapItemReaderData, 'mapItemReaderData');
    } else if (run.language === 'JSONata') {
      items = await mapItems(run, effective);
    } else {
      const path = state.ItemsPath ?? '$';
      items = selectPath(path, jsonPathScope(run, effective), 'ItemsPath');
      // recorded: `$$...` paths are shown without their first `$`
      if (!Array.isArray(items))
        throw runtimeError(
          `Reference path "${path.startsWith('$$') ? path.slice(1) : path}" must point to array.`,
        );
      recorder.map.afterItemsPath = items;
    }
    recorder.map.maxConcurrency = await concurrency(run, effective);
    const tolerance = await tolerated(run, effective);
    recorder.map.tolerance = tolerance;
    if ('error' in answer) throw new StatesError(answer.error, answer.cause);
    const results = structuredClone(answer.result);
    const failures = config.mapIterationFailureCount ?? 0;
    const iterations = Array.isArray(results) ? results.length : Array.isArray(items) ? items.length : 0;
    const exceeded =
      (tolerance.count !== undefined && failures > tolerance.count) ||
      (tolerance.percentage !== undefined &&
        iterations > 0 &&
        (failures * 100) / iterations > tolerance.percentage);
    if (exceeded)
      throw new StatesError(
        'States.ExceedToleratedFailureThreshold',
        'The specified tolerated failure threshold was exceeded',
      );
    const { output, assign } = await stateOutput(run, results);
    return { output, next: transition(state), ...(assign ? { assign } : {}) };
  });
}

function errorFields(error: StatesError): { error?: string; cause?: string } {
  // TestState's causes do not name the state ("An error occurred while executing the state ...").
  const cause =
    error instanceof LocatedError && error.cause !== undefined
      ? error.cause.replace(
          /^An error occurred while executing the state '.*?' \(entered at the event id #\d+\)\. ?/s,
          '',
        )
      : error.cause;
  return { ...(error.error ? { error: error.error } : {}), ...(cause !== undefined ? { cause } : {}) };
}

/** The Inspector of a TestState run: what it reports becomes `inspectionData`. */
class Recorder implements Inspector {
  private readonly stages = new Map<InspectionStage, JsonValue>();
  readonly map: {
    afterItemsPath?: JsonValue;
    maxConcurrency?: number;
    tolerance?: { count?: number; percentage?: number };
  } = {};
  private errorDetails: NonNullable<InspectionData['errorDetails']> = {};
  retriable = false;
  caughtError: StatesError | undefined;

  constructor(readonly retriesSpent: number) {}

  stage(name: InspectionStage, value: JsonValue): void {
    this.stages.set(name, structuredClone(value));
  }

  retry(index: number, _error: StatesError, backoffSeconds?: number): void {
    this.errorDetails.retryIndex = index;
    if (backoffSeconds !== undefined) {
      this.errorDetails.retryBackoffIntervalSeconds = backoffSeconds;
      this.retriable = true;
    }
  }

  caught(index: number, error: StatesError): void {
    this.errorDetails.catchIndex = index;
    this.caughtError = error;
  }

  data(run: StateRun, variables: Record<string, JsonValue>): InspectionData {
    const text = (value: JsonValue | undefined) => (value === undefined ? undefined : JSON.stringify(value));
    const data: InspectionData = { input: JSON.stringify(run.input) };
    for (const [name, value] of this.stages) data[name] = text(value);
    if (this.map.afterItemsPath !== undefined) data.afterItemsPath = text(this.map.afterItemsPath);
    if (this.map.maxConcurrency !== undefined) data.maxConcurrency = this.map.maxConcurrency;
    if (this.map.tolerance?.count !== undefined) data.toleratedFailureCount = this.map.tolerance.count;
    if (this.map.tolerance?.percentage !== undefined)
      data.toleratedFailurePercentage = this.map.tolerance.percentage;
    if (Object.keys(variables).length > 0) data.variables = JSON.stringify(variables);
    if (Object.keys(this.errorDetails).length > 0) data.errorDetails = { ...this.errorDetails };
    return data;
  }
}
