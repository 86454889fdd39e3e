/**
 * What the interpreter (`interpreter.ts`) and the state modules (`states/*.ts`) share: the execution
 * environment, frames, one entry into a state (`StateRun`) and its result, and the helpers every state
 * uses. The state modules import this, never the interpreter, so the dispatch has no import cycle.
 */
import type { Integrations } from '../integrations';
import type { TaskTokens } from '../task-tokens';
import type { QueryLanguage, State, StateMachineDefinition } from './definition';
import type { History } from './history';
import { evaluationLocation } from './jsonata';
import { type JsonObject, type JsonValue, MAX_PAYLOAD_BYTES, StatesError } from './types';

/** What every state of one execution shares. */
export interface ExecutionEnv {
  history: History;
  integrations: Integrations;
  taskTokens: TaskTokens;
  /** Tokens of callback Tasks still waiting (closed when the execution ends). */
  openTokens: Set<string>;
  /** Multiplies Retry intervals (and MaxDelaySeconds), except a throttle's (retry.ts `retryScaleFor`). */
  retryScale: number;
  /** Multiplies Wait state delays. */
  waitScale: number;
  /** `$$.Execution` and `$$.StateMachine`. */
  execution: JsonObject;
  stateMachine: { Id: string; Name: string };
  /** The execution itself was stopped (StopExecution, its TimeoutSeconds), not just a branch of it. */
  stopped: () => boolean;
  /** Mocked Task answers (a mock config's test case, TestState's `mock`): consulted before each call. */
  taskMock?: TaskMock;
  /** Runs a Parallel branch or a Map iteration (interpreter.ts `runStates`, passed in: no import cycle). */
  runStates: RunStates;
}

/** Runs a list of states from StartAt to the end; resolves with the last state's output. */
export type RunStates = (
  machine: StateMachineDefinition,
  input: JsonValue,
  frame: Frame,
) => Promise<JsonValue>;

/** What a mocked Task attempt answers instead of calling its resource. */
export type MockedAnswer = { result: JsonValue } | { error: string; cause?: string };

/** Answers an attempt of the Task named `state` without calling its resource, or undefined to call it. */
export type TaskMock = (state: string) => MockedAnswer | undefined;

/** Where a list of states runs: the execution itself, a Parallel branch or a Map iteration. */
export interface Frame {
  env: ExecutionEnv;
  /** The variables this scope sees; Assign writes here (outer scopes' values are copies, read-only). */
  variables: Record<string, JsonValue>;
  /** The machine's QueryLanguage (a state may override it). */
  queryLanguage: QueryLanguage;
  /** Aborts when the execution stops or this branch/iteration is cancelled. */
  signal: AbortSignal;
  /**
   * Inside a Parallel branch or an inline Map iteration that runs beside others (MaxConcurrency ≠ 1):
   * states advance in step with the other branches/iterations, as AWS records them.
   */
  concurrent: boolean;
  /** False inside a distributed Map's child executions, whose events are not in this history. */
  recorded: boolean;
  /** The state this list of states is in now (where it stopped, once it has failed). */
  checkpoint?: Checkpoint;
  /** RedriveExecution: where this list of states continues (consumed by `runStates`). */
  resume?: Checkpoint;
  /** TestState: what the one state it runs reports (never inherited by child frames; absent otherwise). */
  inspect?: Inspector;
  /** `--persist`: told of each checkpoint and callback token of this list of states (the top level only). */
  journal?: FrameJournal;
}

/** Where a persisted execution records its top-level progress (`--persist`). */
export interface FrameJournal {
  /** A state is entered: where a restart continues. */
  checkpoint(checkpoint: Checkpoint, enteredTime: string): void;
  /**
   * A callback Task of that state handed out a token, its attempt started at `since` (ISO): a restart
   * waits on the same token, under the same TimeoutSeconds deadline.
   */
  taskToken(token: string, since: string): void;
}

/** A data-flow stage TestState shows in `inspectionData` (JSON values; TestState serializes them). */
export type InspectionStage =
  | 'afterInputPath'
  | 'afterParameters'
  | 'afterArguments'
  | 'result'
  | 'afterResultSelector'
  | 'afterResultPath';

/**
 * TestState's view of one state entry: the data-flow stages as `dataflow.ts` and the states compute
 * them, and Retry/Catch's decisions (`retry.ts`). With an inspector, a matching retrier does not wait:
 * `retry.ts` reports it and rethrows the error (TestState answers RETRIABLE).
 */
export interface Inspector {
  stage(name: InspectionStage, value: JsonValue): void;
  /** Attempts already spent on the retrier that matches (`stateConfiguration.retrierRetryCount`). */
  readonly retriesSpent: number;
  /** A matching retrier: `backoffSeconds` when it would retry, absent when its attempts are spent. */
  retry(index: number, error: StatesError, backoffSeconds?: number): void;
  /** A matching catcher. */
  caught(index: number, error: StatesError): void;
}

/**
 * Where a list of states stopped short of its end, so that RedriveExecution can continue there: the
 * state, its input and the variables as it entered. A Parallel or Map keeps what became of each branch
 * or iteration, so that only the unsuccessful ones run again.
 */
export interface Checkpoint {
  state: string;
  input: JsonValue;
  variables: Record<string, JsonValue>;
  children?: Map<number, ChildOutcome>;
  /**
   * A restart taking over (`--persist`): when the state was first entered (Wait and Task deadlines keep
   * running from it) and the token its callback Task waits on. Absent on a redrive.
   */
  takeOver?: { enteredTime: string; taskToken?: TakenOverToken };
}

/** The token a callback Task waited on before a restart, and when that attempt started (ISO). */
export interface TakenOverToken {
  token: string;
  since: string;
}

/** A Parallel branch or Map iteration: its output, or where it stopped. */
export type ChildOutcome = { done: true; output: JsonValue } | { done: false; checkpoint?: Checkpoint };

/** One entry into a state. */
export interface StateRun<S extends State = State> {
  name: string;
  state: S;
  frame: Frame;
  language: QueryLanguage;
  /** The state's input as it entered. */
  input: JsonValue;
  enteredEventId: number;
  enteredTime: string;
  /** Task states: retries so far in this entry (`$$.State.RetryCount`). */
  retryCount: number;
  /** Callback Tasks: `$$.Task.Token` of the current attempt. */
  taskToken?: string;
  /** A restart taking over a callback Task: the token it waited on (used by its first attempt). */
  takeOverToken?: TakenOverToken;
  /** Callback Tasks: when the current attempt started (epoch ms; its TimeoutSeconds run from it). */
  attemptStart?: number;
  /** A Parallel or Map being redriven: what became of its branches/iterations last time. */
  redrive?: Map<number, ChildOutcome>;
  record(type: string, details?: Record<string, unknown>): number;
  /** `$$` now; `map` adds `$$.Map.Item` (a Map's ItemSelector). */
  context(map?: { Index: number; Value: JsonValue }): JsonObject;
}

/** What a state hands back: its output, where to go (undefined: the end), the variables it assigns. */
export interface StateResult {
  output: JsonValue;
  next: string | undefined;
  assign?: JsonObject;
}

/**
 * A `States.Runtime` or `States.QueryEvaluationError` error raised by a state's own fields, its cause
 * already naming the state it arose in: "An error occurred while executing the state 'X' (entered at the
 * event id #N). <detail>". (JSONata's errors are also recorded as an EvaluationFailed event.)
 */
export class LocatedError extends StatesError {}

/** Names the state in the cause of an evaluation error raised by its fields (once: the innermost state). */
export function locate(error: unknown, run: StateRun): unknown {
  if (error instanceof LocatedError || !(error instanceof StatesError)) return error;
  if (error.error !== 'States.Runtime' && error.error !== 'States.QueryEvaluationError') return error;
  const prefix = `An error occurred while executing the state '${run.name}' (entered at the event id #${run.enteredEventId}).`;
  const located = new LocatedError(error.error, error.cause ? `${prefix} ${error.cause}` : prefix);
  if (error.error === 'States.QueryEvaluationError') {
    const location = evaluationLocation(error);
    run.record('EvaluationFailed', {
      error: located.error,
      cause: located.cause,
      ...(location !== undefined ? { location } : {}),
      state: run.name,
    });
  }
  return located;
}

/** Where the state goes next: Next, or the end (End: true). */
export function transition(state: State): string | undefined {
  return state.End === true ? undefined : state.Next;
}

/** The size limit of a state's result (256 KiB of JSON text). */
export function checkResultSize(run: StateRun, result: JsonValue): void {
  if (Buffer.byteLength(JSON.stringify(result) ?? '') > MAX_PAYLOAD_BYTES) {
    throw new StatesError(
      'States.DataLimitExceeded',
      `The state/task '${run.name}' returned a result with a size exceeding the maximum number of bytes service limit.`,
    );
  }
}

/** A child frame for a Parallel branch or a Map iteration: variables copied (read-only outside). */
export function childFrame(
  frame: Frame,
  signal: AbortSignal,
  options: { concurrent: boolean; recorded: boolean; queryLanguage?: QueryLanguage },
): Frame {
  return {
    env: frame.env,
    variables: { ...frame.variables },
    queryLanguage: options.queryLanguage ?? frame.queryLanguage,
    signal,
    concurrent: options.concurrent,
    recorded: frame.recorded && options.recorded,
  };
}
