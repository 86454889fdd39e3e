/**
 * Runs one execution on `aws-local-stepfunctions` and records an AWS-shaped history.
 *
 * What the bare engine lacks and how it is added here, without touching node_modules:
 * - **Task resources**: every Task state gets a local handler (`taskResourceLocalHandlers`, keyed by state
 *   name) that calls `Integrations` and records `LambdaFunction*` / `Task*` history events.
 * - **Context Object `$$.State`** (Name, EnteredTime, RetryCount) and `$$.StateMachine`: the engine copies
 *   our context's `State` object by reference into every (nested) execution. The definition handed to
 *   the engine is wrapped in proxies: reading `States[name]` means "entering name" (new entry time, retry
 *   count 0); reading any field of a state's definition means the engine is about to work on that state,
 *   so `State` is pointed at it. The engine evaluates `Parameters` synchronously right after reading them,
 *   so concurrent branches cannot interleave in between. RetryCount counts the Task's invocations
 *   started in the current entry.
 * - **Task timeouts**: AWS has no default Task timeout (the engine's is 60 s). A static `TimeoutSeconds`
 *   is enforced by the handler itself with the engine's own `States.Timeout` error class (so
 *   `States.TaskFailed` does not match it, as on AWS) and an empty cause, as AWS reports.
 * - **Fail states** without Error/Cause fail with neither (the engine invents both).
 * - **Retry intervals** scaled by `retryScale` in the definition (backoff and jitter are kept).
 */
import { randomUUID } from 'node:crypto';
import * as engineModule from 'aws-local-stepfunctions';
import {
  StateMachine as EngineStateMachine,
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { PATCH_FINGERPRINT } from '../../scripts/patch-engine.mjs';
import { type Integrations, type JsonValue, TaskError, taskKind } from './integrations';
import { TaskTokens } from './task-tokens';

/**
 * The bare library differs from AWS in ways the local cloud relies on being fixed (variables, intrinsic
 * functions, Choice rules, Map/Parallel events...): scripts/patch-engine.mjs patches its bundle, which then
 * exports `stepsagaPatches`. Running on an unpatched engine would silently give non-AWS results.
 */
const enginePatches = (
  engineModule as unknown as { stepsagaPatches?: { count: number; fingerprint: string; ids: string[] } }
).stepsagaPatches;
if (!enginePatches) {
  throw new Error(
    'aws-local-stepfunctions is not patched to behave like AWS: run `node scripts/patch-engine.mjs` (npm install runs it as postinstall)',
  );
}
if (enginePatches.fingerprint !== PATCH_FINGERPRINT) {
  throw new Error(
    `aws-local-stepfunctions carries an older list of stepsaga's fixes (${enginePatches.fingerprint}, expected ${PATCH_FINGERPRINT}): run \`node scripts/patch-engine.mjs\``,
  );
}

// aws-local-stepfunctions 3 targets Node 22; on Node 20 every Task fails without Promise.withResolvers.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** A history event as GetExecutionHistory returns it (details under `<camelType>EventDetails`). */
export interface HistoryEventLike {
  id: number;
  previousEventId: number;
  timestamp: Date;
  type: string;
  [details: string]: unknown;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionOutcome {
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  output?: string;
  error?: string;
  cause?: string;
}

export interface RunParams {
  definition: StateMachineDefinition;
  input: JsonValue;
  executionArn: string;
  executionName: string;
  stateMachineArn: string;
  stateMachineName: string;
  roleArn: string;
  startTime: Date;
  retryScale: number;
  integrations: Integrations;
  /** The service's task tokens (SendTaskSuccess/Failure/Heartbeat); a run of its own when absent. */
  taskTokens?: TaskTokens;
  onEvent: (event: HistoryEventLike) => void;
}

/** Effectively "no timeout": AWS's default Task timeout is 99999999 s; setTimeout caps at ~24.8 days. */
const NO_TIMEOUT_SECONDS = 2_000_000;

/** The parts of a Map's ItemProcessor/Iterator (or a Parallel branch) that say where its states run. */
interface ItemProcessor {
  ProcessorConfig?: { Mode?: string };
  States?: Record<
    string,
    { Branches?: ItemProcessor[]; ItemProcessor?: ItemProcessor; Iterator?: ItemProcessor }
  >;
}

type EngineEvent = {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input: JsonValue; output?: JsonValue };
  parentState?: { name: string; type: string };
  index?: number;
  Error?: string;
  Cause?: unknown;
  /** MapRunStarted: the Map's Label. */
  label?: unknown;
  catch?: { catcher: { ResultPath?: string | null } };
  input?: JsonValue;
  output?: JsonValue;
};

/** JavaScript's own error classes: when one escapes the engine, AWS would report States.Runtime. */
const JS_ERROR_CLASSES = new Set<unknown>(
  [Error, SyntaxError, TypeError, RangeError, ReferenceError, EvalError, URIError].map((c) => c.prototype),
);

/** State fields the engine reads once the state's work is done (their paths see that attempt's `$$`). */
const RESULT_FIELDS = new Set<string | symbol>([
  'Assign',
  'ResultSelector',
  'ResultPath',
  'OutputPath',
  'Retry',
  'Catch',
]);

type TimeoutErrorClass = new () => Error;
let timeoutErrorClass: Promise<TimeoutErrorClass> | undefined;

/**
 * The engine's internal `StatesTimeoutError` class (not exported): its `instanceof` check is what keeps
 * `States.TaskFailed` from matching a timeout. Obtained once from a 1 ms Task timeout.
 */
function engineTimeoutErrorClass(): Promise<TimeoutErrorClass> {
  timeoutErrorClass ??= (async () => {
    const probe = new EngineStateMachine(
      {
        StartAt: 'Probe',
        States: {
          Probe: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:000000000000:function:probe',
            TimeoutSeconds: 0.001,
            End: true,
          },
        },
      },
      { validationOptions: { noValidate: true } },
    );
    const run = probe.run(
      {},
      {
        overrides: {
          taskResourceLocalHandlers: { Probe: () => new Promise((r) => setTimeout(() => r(null), 50)) },
        },
      },
    );
    try {
      await run.result;
    } catch (error) {
      const cause = error instanceof ExecutionError ? error.cause : undefined;
      if (cause instanceof Error) {
        const Base = cause.constructor as TimeoutErrorClass;
        return class TaskTimeout extends Base {
          constructor() {
            super();
            this.message = '';
          }
        };
      }
    }
    throw new Error('aws-local-stepfunctions did not report States.Timeout');
  })();
  return timeoutErrorClass;
}

interface StateEntry {
  enteredTime: string;
  attempts: number;
}

interface TaskInfo {
  resource: string;
  /** A `.waitForTaskToken` resource: `$$.Task.Token` is defined and the Task waits for its outcome. */
  callback: boolean;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  /**
   * `TimeoutSecondsPath` / `HeartbeatSecondsPath` are resolved against the state input (after InputPath),
   * as on AWS: `prepare()` wraps the state's Parameters as `{payload, timeout?, heartbeat?}` so the engine
   * evaluates all three in one pass; `runTask` unwraps them.
   */
  wrapped?: { timeoutPath?: string; heartbeatPath?: string };
}

/** The key holding the real Parameters when `prepare()` wrapped them (see `TaskInfo.wrapped`). */
const WRAPPED_PAYLOAD = 'payload';

/** Where a payload template names its keys that stand for path fields (see scripts/patch-engine.mjs). */
const PATH_FIELDS = Symbol.for('stepsaga.pathFields');

/**
 * A `States.Runtime` error raised by the local cloud itself: like the engine's own, it is neither
 * retried nor caught (AWS: "States.ALL does not match States.Runtime"; neither does naming it).
 */
/** AWS's payload limit: a state result (and an execution input/output) holds at most 256 KiB of UTF-8. */
export const MAX_PAYLOAD_BYTES = 262_144;

function exceedsDataLimit(value: unknown): boolean {
  return Buffer.byteLength(JSON.stringify(value) ?? '') > MAX_PAYLOAD_BYTES;
}

/** A terminal error: neither retried nor caught (not even by naming it), the execution fails. */
export class DataLimitExceededError extends Error {
  override readonly name = 'States.DataLimitExceeded';
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor(stateName: string) {
    super(
      `The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`,
    );
  }
}

/**
 * The error a SendTaskFailure reports: its `error` and `cause`, each null when not given (what Catch
 * then sees in `Error`/`Cause`, and why the history omits them).
 */
class CallbackFailure extends Error {
  constructor(error: string | undefined, cause: string | undefined) {
    super(cause ?? '');
    Object.defineProperty(this, 'name', { value: error ?? null, configurable: true, writable: true });
    if (cause === undefined)
      Object.defineProperty(this, 'message', { value: null, configurable: true, writable: true });
  }
}

export class StatesRuntimeError extends Error {
  override readonly name = 'States.Runtime';
  readonly isRetryable = false;
  readonly isCatchable = false;
}

/** One running execution. */
export class ExecutionRun {
  private readonly events: HistoryEventLike[] = [];
  private readonly entries = new Map<string, StateEntry>();
  private readonly tasks = new Map<string, TaskInfo>();
  private readonly stateTypes = new Map<string, string>();
  /** Task events recorded before the engine's own StateEntered for that state reached the history. */
  private readonly pending = new Map<string, Array<() => void>>();
  private readonly entered = new Set<string>();
  private readonly caught = new Set<string>();
  /** Id of the latest `<Type>StateEntered` event of each state (AWS names it in runtime error causes). */
  private readonly enteredEventIds = new Map<string, number>();
  /** Map states whose MapStateStarted is in the history (it is recorded once the Map really starts). */
  private readonly mapsStarted = new Set<string>();
  /**
   * Distributed Maps started but whose Map Run has not: a States.Runtime error in between comes from the
   * Map's own fields (ToleratedFailure*Path), which AWS records with no MapStateFailed.
   */
  private readonly mapRunsPending = new Set<string>();
  /**
   * States inside a distributed Map's item processor: they run as child executions of a Map Run, whose
   * events are not in this execution's history (their Task events are not recorded either).
   */
  private readonly childExecutionStates = new Set<string>();
  /**
   * Map/Parallel states that failed but may still be retried: AWS records ...StateFailed only once the
   * failure is final (caught, or it fails the execution/iteration), and ...StateStarted on each retry.
   */
  private readonly pendingFailures = new Map<string, { type: string; error: string }>();
  /**
   * Where each error name first arose since the last retry/catch (the innermost state: an error
   * propagates outwards through Map/Parallel), for the cause of an uncaught runtime error.
   */
  private readonly failedStates = new Map<string, { name: string; enteredEventId: number }>();
  private readonly contextState: { Name: string; EnteredTime: string; RetryCount?: number } = {
    Name: '',
    EnteredTime: '',
  };
  /**
   * `$$.Task` (callback Tasks only): its Token is issued when the state's Parameters read it; the engine
   * calls the Task handler synchronously after evaluating them, and `runTask` takes that token.
   */
  private readonly contextTask: { readonly Token?: string } = Object.defineProperty({}, 'Token', {
    enumerable: true,
    get: (): string | undefined => this.readTaskToken(),
  });
  private readonly taskTokens: TaskTokens;
  /** The token `$$.Task.Token` handed out for the callback Task about to start. */
  private pendingToken: string | undefined;
  /** Tokens of callback Tasks still running (closed when the execution ends). */
  private readonly openTokens = new Set<string>();
  private closed = false;
  /** The execution's own TimeoutSeconds elapsed (when armed here rather than by the engine). */
  private timedOut = false;
  private abortFn: (() => void) | undefined;
  private stopRequest: { error?: string; cause?: string } | undefined;
  readonly done: Promise<ExecutionOutcome>;

  constructor(private readonly params: RunParams) {
    this.taskTokens = params.taskTokens ?? new TaskTokens();
    this.append('ExecutionStarted', 'executionStartedEventDetails', {
      input: JSON.stringify(params.input),
      inputDetails: { truncated: false },
      roleArn: params.roleArn,
    });
    // Never rejects: a local cloud bug fails this execution, not the process (nobody awaits `done`
    // with a rejection handler before it settles).
    this.done = this.start().catch((error: unknown) => {
      const outcome: ExecutionOutcome = {
        status: 'FAILED',
        error: 'States.Runtime',
        cause: `The local cloud could not run this execution: ${error instanceof Error ? error.message : String(error)}`,
      };
      this.finish(outcome);
      return outcome;
    });
  }

  get history(): readonly HistoryEventLike[] {
    return this.events;
  }

  /** StopExecution: the execution ends ABORTED with the given error/cause. */
  stop(error?: string, cause?: string): void {
    if (this.closed) return;
    this.stopRequest = { ...(error ? { error } : {}), ...(cause ? { cause } : {}) };
    this.abortFn?.();
  }

  private async start(): Promise<ExecutionOutcome> {
    const TaskTimeout = await engineTimeoutErrorClass();
    const definition = this.prepare(this.params.definition, TaskTimeout) as StateMachineDefinition;
    // The engine arms the execution's TimeoutSeconds with one setTimeout, which fires at once past
    // ~24.8 days: such a timeout is armed here instead (abort, reported TIMED_OUT).
    const executionTimeout = definition.TimeoutSeconds;
    let cancelExecutionTimeout: (() => void) | undefined;
    if (executionTimeout !== undefined && executionTimeout * 1000 > MAX_TIMER_DELAY_MS) {
      delete definition.TimeoutSeconds;
      cancelExecutionTimeout = setLongTimeout(() => {
        this.timedOut = true;
        this.abortFn?.();
      }, executionTimeout * 1000);
    }
    const machine = new EngineStateMachine(definition, { validationOptions: { noValidate: true } });
    const { params } = this;
    const execution = machine.run(structuredClone(params.input), {
      overrides: { taskResourceLocalHandlers: this.handlers(TaskTimeout) },
      context: {
        Execution: {
          Id: params.executionArn,
          Name: params.executionName,
          RoleArn: params.roleArn,
          StartTime: params.startTime.toISOString(),
          RedriveCount: 0,
        },
        StateMachine: { Id: params.stateMachineArn, Name: params.stateMachineName },
        State: this.contextState,
        Task: this.contextTask,
      },
    });
    this.abortFn = execution.abort;
    const consumed = this.consume(execution.eventLogs as AsyncGenerator<EngineEvent>);
    let result: { output: JsonValue } | { error: unknown };
    try {
      result = { output: (await execution.result) ?? null };
    } catch (error) {
      result = { error };
    }
    cancelExecutionTimeout?.();
    // The history must be complete first: a runtime error's cause names the event id of its state.
    await consumed;
    const outcome =
      'output' in result
        ? ({ status: 'SUCCEEDED', output: JSON.stringify(result.output) } as const)
        : this.failureOutcome(result.error);
    this.finish(outcome);
    return outcome;
  }

  private failureOutcome(error: unknown): ExecutionOutcome {
    if (error instanceof ExecutionTimeoutError || this.timedOut) return { status: 'TIMED_OUT' };
    if (error instanceof ExecutionAbortedError || this.stopRequest)
      return { status: 'ABORTED', ...this.stopRequest };
    const inner = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
    if (!(inner instanceof Error)) return this.runtimeOutcome('', String(inner));
    // A JavaScript error escaping the engine (a SyntaxError from JSON.parse, a TypeError...) is an
    // evaluation failure, never a Step Functions error name. (A function's own errors are TaskErrors.)
    if (inner.name === 'States.Runtime' || JS_ERROR_CLASSES.has(Object.getPrototypeOf(inner)))
      return this.runtimeOutcome(inner.name, inner.message);
    return {
      status: 'FAILED',
      ...(inner.name ? { error: inner.name } : {}),
      ...(inner.message ? { cause: inner.message } : {}),
    };
  }

  /**
   * AWS reports every uncaught `States.Runtime` error with the state it arose in and the id of that
   * state's StateEntered event: "An error occurred while executing the state 'X' (entered at the
   * event id #N). <detail>".
   */
  private runtimeOutcome(errorName: string, detail: string): ExecutionOutcome {
    const where = this.failedStates.get(errorName);
    const cause = where
      ? `An error occurred while executing the state '${where.name}' (entered at the event id #${where.enteredEventId}). ${detail}`
      : detail;
    return { status: 'FAILED', error: 'States.Runtime', ...(cause ? { cause } : {}) };
  }

  private finish(outcome: ExecutionOutcome): void {
    // A Task still waiting for its callback is over with the execution (StopExecution, a failed branch).
    for (const token of this.openTokens) this.taskTokens.close(token);
    this.openTokens.clear();
    // A token `$$.Task.Token` handed out to Parameters that then failed: no Task ever took it.
    if (this.pendingToken !== undefined) this.taskTokens.close(this.pendingToken);
    this.pendingToken = undefined;
    for (const flushes of this.pending.values()) for (const flush of flushes) flush();
    this.pending.clear();
    this.settleFailures();
    const errorDetails = {
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      ...(outcome.cause !== undefined ? { cause: outcome.cause } : {}),
    };
    switch (outcome.status) {
      case 'SUCCEEDED':
        this.append('ExecutionSucceeded', 'executionSucceededEventDetails', {
          output: outcome.output,
          outputDetails: { truncated: false },
        });
        break;
      case 'FAILED':
        this.append('ExecutionFailed', 'executionFailedEventDetails', errorDetails);
        break;
      case 'TIMED_OUT':
        this.append('ExecutionTimedOut', 'executionTimedOutEventDetails', errorDetails);
        break;
      case 'ABORTED':
        this.append('ExecutionAborted', 'executionAbortedEventDetails', errorDetails);
        break;
    }
    this.closed = true;
  }

  // ---------------------------------------------------------------------------------------------------
  // history
  // ---------------------------------------------------------------------------------------------------

  private append(type: string, detailsKey?: string, details?: Record<string, unknown>): void {
    if (this.closed) return;
    const id = this.events.length + 1;
    const event: HistoryEventLike = { timestamp: new Date(), type, id, previousEventId: id - 1 };
    if (detailsKey && details) event[detailsKey] = details;
    this.events.push(event);
    this.params.onEvent(event);
  }

  /** Records a Task event now, or once the engine's StateEntered for that state is in the history. */
  private taskEvent(stateName: string, record: () => void): void {
    if (this.childExecutionStates.has(stateName)) return;
    if (this.entered.has(stateName)) record();
    else {
      const queue = this.pending.get(stateName) ?? [];
      queue.push(record);
      this.pending.set(stateName, queue);
    }
  }

  private flush(stateName: string): void {
    const queue = this.pending.get(stateName);
    if (!queue) return;
    this.pending.delete(stateName);
    for (const record of queue) record();
  }

  private async consume(events: AsyncGenerator<EngineEvent>): Promise<void> {
    for await (const event of events) {
      try {
        this.onEngineEvent(event);
      } catch (error) {
        // A history bug must never take the local cloud down; the execution itself goes on.
        process.emitWarning(`history of ${this.params.executionArn}: ${String(error)}`);
      }
    }
  }

  private onEngineEvent(event: EngineEvent): void {
    const state = event.state;
    switch (event.type) {
      case 'StateEntered': {
        if (!state) return;
        this.append(`${state.type}StateEntered`, 'stateEnteredEventDetails', {
          name: state.name,
          input: JSON.stringify(state.input ?? null),
          inputDetails: { truncated: false },
        });
        this.enteredEventIds.set(state.name, this.events.length);
        if (state.type === 'Parallel') this.append('ParallelStateStarted');
        // MapStateStarted waits for the first iteration (or the end of an empty Map): a Map that fails
        // evaluating its own fields (ItemsPath, MaxConcurrencyPath) never starts on AWS.
        if (state.type === 'Map') this.mapsStarted.delete(state.name);
        this.entered.add(state.name);
        this.flush(state.name);
        return;
      }
      case 'StateExited': {
        if (!state) return;
        this.flush(state.name);
        const caught = this.caught.delete(state.name);
        if (state.type === 'Parallel' && !caught) this.append('ParallelStateSucceeded');
        if (state.type === 'Map' && !caught) {
          this.startMap(state.name);
          this.append('MapStateSucceeded');
        }
        this.exited(state.name, state.type, state.output ?? null);
        return;
      }
      case 'StateFailed': {
        if (!state) return;
        this.flush(state.name);
        const errorName = event.Error ?? '';
        if (!this.failedStates.has(errorName)) {
          this.failedStates.set(errorName, {
            name: state.name,
            enteredEventId: this.enteredEventIds.get(state.name) ?? 0,
          });
        }
        if (state.type === 'Parallel' || state.type === 'Map')
          this.pendingFailures.set(state.name, { type: state.type, error: event.Error ?? '' });
        return;
      }
      case 'StateRetried': {
        if (!state) return;
        this.failedStates.clear();
        if (this.pendingFailures.delete(state.name) && state.type === 'Parallel')
          this.append('ParallelStateStarted');
        // A retried Map records MapStateStarted again with its first iteration.
        if (state.type === 'Map') this.mapsStarted.delete(state.name);
        return;
      }
      case 'StateCaught': {
        // The engine then reports StateExited with the Catch output; a caught state did not succeed.
        if (!state) return;
        this.failedStates.clear();
        this.caught.add(state.name);
        this.settleFailure(state.name);
        return;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const mapName = event.parentState?.name ?? '';
        // An iteration fails once the states inside it have failed for good.
        if (event.type === 'MapIterationFailed') this.settleFailures();
        if (event.type === 'MapIterationStarted') this.startMap(mapName);
        const key = `${event.type.charAt(0).toLowerCase()}${event.type.slice(1)}EventDetails`;
        this.append(event.type, key, { name: mapName, index: event.index ?? 0 });
        return;
      }
      // A distributed Map (scripts/patch-engine.mjs, map-distributed): its items are a Map Run.
      case 'MapStateStarted': {
        if (!state) return;
        this.startMap(state.name);
        this.mapRunsPending.add(state.name);
        return;
      }
      case 'MapRunStarted': {
        if (!state) return;
        this.mapRunsPending.delete(state.name);
        this.append('MapRunStarted', 'mapRunStartedEventDetails', {
          mapRunArn: this.mapRunArn(event.label),
        });
        return;
      }
      case 'MapRunSucceeded': {
        this.append('MapRunSucceeded');
        return;
      }
      case 'MapRunFailed': {
        this.append('MapRunFailed', 'mapRunFailedEventDetails', {
          ...(event.Error !== undefined ? { error: event.Error } : {}),
          ...(typeof event.Cause === 'string' ? { cause: event.Cause } : {}),
        });
        return;
      }
      case 'ParallelBranchFailed': {
        this.settleFailures();
        return;
      }
      default:
        return;
    }
  }

  /** arn:aws:states:<region>:<account>:mapRun:<state machine>/<Label or id>:<id>, as AWS names a Map Run. */
  private mapRunArn(label: unknown): string {
    const id = randomUUID();
    const run = typeof label === 'string' && label !== '' ? label : id.slice(0, 8);
    return `${this.params.stateMachineArn.replace(':stateMachine:', ':mapRun:')}/${run}:${id}`;
  }

  private startMap(name: string): void {
    if (this.mapsStarted.has(name)) return;
    this.mapsStarted.add(name);
    this.append('MapStateStarted', 'mapStateStartedEventDetails', {});
  }

  /** Records the ...StateFailed of a Map/Parallel whose failure is final. */
  private settleFailure(name: string): void {
    const failure = this.pendingFailures.get(name);
    if (!failure) return;
    this.pendingFailures.delete(name);
    if (failure.type === 'Parallel') {
      this.append('ParallelStateFailed', 'parallelStateFailedEventDetails', {});
      return;
    }
    // A Map that failed before starting (States.Runtime on its own fields) records neither event.
    if (failure.error === 'States.Runtime') {
      const ownFields = !this.mapsStarted.has(name) || this.mapRunsPending.delete(name);
      if (ownFields) return;
    }
    this.startMap(name);
    this.append('MapStateFailed', 'mapStateFailedEventDetails', {});
  }

  private settleFailures(): void {
    for (const name of [...this.pendingFailures.keys()]) this.settleFailure(name);
  }

  private exited(name: string, type: string, output: JsonValue): void {
    this.append(`${type}StateExited`, 'stateExitedEventDetails', {
      name,
      output: JSON.stringify(output),
      outputDetails: { truncated: false },
    });
    this.entered.delete(name);
  }

  // ---------------------------------------------------------------------------------------------------
  // definition and Task handlers
  // ---------------------------------------------------------------------------------------------------

  /** A copy of the definition for the engine, wrapped so entering/working on a state updates `$$.State`. */
  private prepare(definition: unknown, TaskTimeout: TimeoutErrorClass): unknown {
    const machine = structuredClone(definition) as { States?: Record<string, Record<string, unknown>> };
    const states: Record<string, Record<string, unknown>> = {};
    for (const [name, raw] of Object.entries(machine.States ?? {})) {
      const state = { ...raw };
      this.stateTypes.set(name, String(state.Type));
      copyContextOnEvaluation(state);
      if (state.Type === 'Task') this.prepareTask(name, state);
      if (state.Type === 'Fail') {
        // Empty strings are reported as "no error" / "no cause" (see failureOutcome).
        if (state.Error === undefined && state.ErrorPath === undefined) state.Error = '';
        if (state.Cause === undefined && state.CausePath === undefined) state.Cause = '';
      }
      // ResultPath "$" means "the result replaces the input", as when ResultPath is absent (the engine
      // would write a key named "$").
      if (state.ResultPath === '$') delete state.ResultPath;
      if (Array.isArray(state.Catch)) {
        state.Catch = state.Catch.map((catcher: Record<string, unknown>) => {
          if (catcher.ResultPath !== '$') return catcher;
          const { ResultPath: _replacesInput, ...rest } = catcher;
          return rest;
        });
      }
      if (Array.isArray(state.Retry) && this.params.retryScale !== 1) {
        state.Retry = state.Retry.map((retrier: Record<string, unknown>) => ({
          ...retrier,
          IntervalSeconds:
            (typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1) *
            this.params.retryScale,
          ...(typeof retrier.MaxDelaySeconds === 'number'
            ? { MaxDelaySeconds: retrier.MaxDelaySeconds * this.params.retryScale }
            : {}),
        }));
      }
      if (Array.isArray(state.Branches))
        state.Branches = state.Branches.map((b: unknown) => this.prepare(b, TaskTimeout));
      const processor = (state.ItemProcessor ?? state.Iterator) as ItemProcessor | undefined;
      if (processor?.ProcessorConfig?.Mode === 'DISTRIBUTED') this.markChildExecutionStates(processor);
      if (state.Iterator) state.Iterator = this.prepare(state.Iterator, TaskTimeout);
      if (state.ItemProcessor) state.ItemProcessor = this.prepare(state.ItemProcessor, TaskTimeout);
      const oversizedResult =
        state.Type === 'Pass' && state.Result !== undefined && exceedsDataLimit(state.Result);
      states[name] = new Proxy(state, {
        get: (target, key, receiver) => {
          // The engine reads a Pass state's Result when it runs the state.
          if (key === 'Result' && oversizedResult) throw new DataLimitExceededError(name);
          this.pointContextAt(name, RESULT_FIELDS.has(key));
          return Reflect.get(target, key, receiver);
        },
      });
    }
    machine.States = new Proxy(states, {
      get: (target, key, receiver) => {
        if (typeof key === 'string' && Object.hasOwn(target, key)) {
          this.entries.set(key, { enteredTime: new Date().toISOString(), attempts: 0 });
        }
        return Reflect.get(target, key, receiver);
      },
    });
    return machine;
  }

  private markChildExecutionStates(machine: ItemProcessor): void {
    for (const [name, state] of Object.entries(machine.States ?? {})) {
      this.childExecutionStates.add(name);
      for (const branch of state.Branches ?? []) this.markChildExecutionStates(branch);
      const nested = state.ItemProcessor ?? state.Iterator;
      if (nested) this.markChildExecutionStates(nested);
    }
  }

  /** Registers a Task's handler info; the handler enforces its timeout (the engine's is set to "none"). */
  private prepareTask(name: string, state: Record<string, unknown>): void {
    const kind = taskKind(String(state.Resource));
    const info: TaskInfo = {
      resource: String(state.Resource),
      callback: kind.kind === 'integration' && kind.callback,
    };
    if (typeof state.TimeoutSeconds === 'number') info.timeoutSeconds = state.TimeoutSeconds;
    if (typeof state.HeartbeatSeconds === 'number') info.heartbeatSeconds = state.HeartbeatSeconds;
    const timeoutPath = typeof state.TimeoutSecondsPath === 'string' ? state.TimeoutSecondsPath : undefined;
    const heartbeatPath =
      typeof state.HeartbeatSecondsPath === 'string' ? state.HeartbeatSecondsPath : undefined;
    if (timeoutPath !== undefined || heartbeatPath !== undefined) {
      // The engine would resolve TimeoutSecondsPath against the Parameters output (and ignores
      // HeartbeatSecondsPath): evaluate both next to the Parameters, against the same input.
      info.wrapped = {
        ...(timeoutPath !== undefined ? { timeoutPath } : {}),
        ...(heartbeatPath !== undefined ? { heartbeatPath } : {}),
      };
      state.Parameters = {
        ...(state.Parameters === undefined
          ? { [`${WRAPPED_PAYLOAD}.$`]: '$' }
          : { [WRAPPED_PAYLOAD]: state.Parameters }),
        ...(timeoutPath !== undefined ? { 'timeout.$': timeoutPath } : {}),
        ...(heartbeatPath !== undefined ? { 'heartbeat.$': heartbeatPath } : {}),
        // These keys stand for path fields: a path selecting nothing is reported as "Invalid path ..."
        // (scripts/patch-engine.mjs, jsonpath-missing-texts), not as a template key.
        [PATH_FIELDS]: ['timeout.$', 'heartbeat.$'],
      };
      delete state.TimeoutSecondsPath;
      delete state.HeartbeatSecondsPath;
    }
    this.tasks.set(name, info);
    state.TimeoutSeconds = NO_TIMEOUT_SECONDS;
  }

  /**
   * Points `$$.State` at a state. RetryCount (Task states only, as on AWS) is the number of invocations
   * started before the current one: the started count while evaluating the input, one less while
   * processing the result of the invocation (`afterInvocation`).
   */
  private pointContextAt(name: string, afterInvocation: boolean): void {
    const entry = this.entries.get(name);
    this.contextState.Name = name;
    this.contextState.EnteredTime = entry?.enteredTime ?? new Date().toISOString();
    if (this.stateTypes.get(name) === 'Task') {
      const started = entry?.attempts ?? 0;
      this.contextState.RetryCount = afterInvocation ? Math.max(started - 1, 0) : started;
    } else delete this.contextState.RetryCount;
  }

  private handlers(TaskTimeout: TimeoutErrorClass): Record<string, (input: JsonValue) => Promise<JsonValue>> {
    const handlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    for (const [name, info] of this.tasks) {
      handlers[name] = (input) => {
        const run = this.runTask(name, info, input, TaskTimeout);
        // The engine may abandon this promise (it throws between calling the handler and awaiting it);
        // a rejection nobody handles would take the whole local cloud down. The engine still sees it.
        run.catch(() => undefined);
        return run;
      };
    }
    return handlers;
  }

  private async runTask(
    name: string,
    info: TaskInfo,
    rawInput: JsonValue,
    TaskTimeout: TimeoutErrorClass,
  ): Promise<JsonValue> {
    // Synchronously, before anything else: the token the Parameters just read is this invocation's.
    const token = info.callback ? this.takeTaskToken() : undefined;
    const entry = this.entries.get(name);
    if (entry) entry.attempts++;
    const { input, timeoutSeconds, heartbeatSeconds } = unwrapTaskInput(info, rawInput);
    const kind = taskKind(info.resource);
    const timeout = {
      ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
      ...(heartbeatSeconds !== undefined ? { heartbeatInSeconds: heartbeatSeconds } : {}),
    };
    const { integrations } = this.params;
    let work: Promise<JsonValue>;
    let names: {
      failed: string;
      timedOut: string;
      succeeded: string;
      details: string;
      base: Record<string, unknown>;
    };
    if (kind.kind === 'lambda') {
      this.taskEvent(name, () => {
        this.append('LambdaFunctionScheduled', 'lambdaFunctionScheduledEventDetails', {
          resource: kind.functionArn,
          input: JSON.stringify(input),
          inputDetails: { truncated: false },
          ...timeout,
        });
        this.append('LambdaFunctionStarted');
      });
      names = {
        failed: 'LambdaFunctionFailed',
        timedOut: 'LambdaFunctionTimedOut',
        succeeded: 'LambdaFunctionSucceeded',
        details: 'lambdaFunction',
        base: {},
      };
      work = integrations.invokeFunction(kind.functionArn, input);
    } else {
      const base =
        kind.kind === 'integration'
          ? { resourceType: kind.resourceType, resource: kind.resource }
          : { resourceType: 'unknown', resource: kind.resource };
      this.taskEvent(name, () => {
        this.append('TaskScheduled', 'taskScheduledEventDetails', {
          ...base,
          region: 'us-east-1',
          parameters: JSON.stringify(input),
          ...timeout,
        });
        this.append('TaskStarted', 'taskStartedEventDetails', base);
      });
      names = {
        failed: 'TaskFailed',
        timedOut: 'TaskTimedOut',
        succeeded: 'TaskSucceeded',
        details: 'task',
        base,
      };
      work =
        kind.kind === 'integration'
          ? token !== undefined
            ? this.awaitCallback(name, token, integrations.run(kind.run, input), base)
            : integrations.run(kind.run, input)
          : Promise.reject(
              new TaskError(
                'States.Runtime',
                `The local cloud does not support the Task resource '${kind.resource}' (supported: Lambda function ARNs, lambda:invoke, sqs:sendMessage, dynamodb:putItem/getItem/updateItem/deleteItem, aws-sdk:dynamodb|sqs|sfn:<action>)`,
              ),
            );
    }
    let cancelTimer: (() => void) | undefined;
    let cancelHeartbeatTimer: (() => void) | undefined;
    const deadlines: Promise<never>[] = [];
    if (timeoutSeconds !== undefined) {
      deadlines.push(
        new Promise<never>((_, reject) => {
          cancelTimer = setLongTimeout(() => reject(new TaskTimeout()), timeoutSeconds * 1000);
        }),
      );
    }
    if (token !== undefined && heartbeatSeconds !== undefined) {
      // The heartbeat clock runs from the start of the Task; each SendTaskHeartbeat restarts it.
      deadlines.push(
        new Promise<never>((_, reject) => {
          const restart = () => {
            cancelHeartbeatTimer?.();
            cancelHeartbeatTimer = setLongTimeout(() => reject(new TaskTimeout()), heartbeatSeconds * 1000);
          };
          restart();
          this.taskTokens.onHeartbeat(token, restart);
        }),
      );
    }
    try {
      const output = await (deadlines.length > 0 ? Promise.race([work, ...deadlines]) : work);
      if (exceedsDataLimit(output)) throw new DataLimitExceededError(name);
      this.taskEvent(name, () =>
        this.append(names.succeeded, `${names.details}SucceededEventDetails`, {
          ...names.base,
          output: JSON.stringify(output),
          outputDetails: { truncated: false },
        }),
      );
      return output;
    } catch (error) {
      // The invocation succeeded; its result cannot be kept (the execution fails, no Task event).
      if (error instanceof DataLimitExceededError) throw error;
      const timedOut = error instanceof TaskTimeout;
      // A SendTaskFailure without error/cause reports neither (both are null in Catch, as on AWS).
      const errorName: string | null = timedOut
        ? 'States.Timeout'
        : error instanceof Error
          ? error.name
          : 'States.TaskFailed';
      const cause: string | null | undefined = timedOut
        ? undefined
        : error instanceof Error
          ? error.message
          : String(error);
      this.taskEvent(name, () =>
        this.append(
          timedOut ? names.timedOut : names.failed,
          `${names.details}${timedOut ? 'TimedOut' : 'Failed'}EventDetails`,
          {
            ...names.base,
            ...(errorName !== null ? { error: errorName } : {}),
            ...(cause !== undefined && cause !== null ? { cause } : {}),
          },
        ),
      );
      throw error;
    } finally {
      cancelTimer?.();
      cancelHeartbeatTimer?.();
      if (token !== undefined) {
        this.openTokens.delete(token);
        this.taskTokens.close(token);
      }
    }
  }

  /** `$$.Task.Token`: defined in callback Tasks only (elsewhere the path points to no value). */
  private readTaskToken(): string | undefined {
    if (!this.tasks.get(this.contextState.Name)?.callback) return undefined;
    this.pendingToken ??= this.taskTokens.issue();
    return this.pendingToken;
  }

  /** The token of the callback Task starting now (issued here if its Parameters did not read it). */
  private takeTaskToken(): string {
    const token = this.pendingToken ?? this.taskTokens.issue();
    this.pendingToken = undefined;
    this.openTokens.add(token);
    return token;
  }

  /**
   * The callback pattern: the integration's answer is recorded as TaskSubmitted, then the Task's result
   * is what SendTaskSuccess reports (SendTaskFailure: its error and cause).
   */
  private async awaitCallback(
    name: string,
    token: string,
    call: Promise<JsonValue>,
    base: Record<string, unknown>,
  ): Promise<JsonValue> {
    const submitted = await call;
    // The Task may have timed out while the call ran: then nothing more is recorded.
    if (!this.openTokens.has(token)) return null;
    this.taskEvent(name, () =>
      this.append('TaskSubmitted', 'taskSubmittedEventDetails', {
        ...base,
        output: JSON.stringify(submitted),
        outputDetails: { truncated: false },
      }),
    );
    const outcome = await this.taskTokens.outcome(token);
    if (outcome.status === 'SUCCEEDED') return outcome.output;
    if (outcome.status === 'CLOSED') throw new TaskError('States.Runtime', 'The task is over');
    throw new CallbackFailure(outcome.error, outcome.cause);
  }
}

/** The longest delay `setTimeout` honours (2^31-1 ms, ~24.8 days): a longer one fires after 1 ms. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * `setTimeout` for any delay (Task TimeoutSeconds and HeartbeatSeconds go up to 99999999 s): a delay
 * beyond the timer limit is armed in chunks until its deadline. Returns the function that cancels it.
 */
function setLongTimeout(callback: () => void, delayMs: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  if (delayMs <= MAX_TIMER_DELAY_MS) {
    timer = setTimeout(callback, delayMs);
  } else {
    const deadline = Date.now() + delayMs;
    const arm = () => {
      const remaining = deadline - Date.now();
      timer = remaining > 0 ? setTimeout(arm, Math.min(remaining, MAX_TIMER_DELAY_MS)) : undefined;
      if (remaining <= 0) callback();
    };
    arm();
  }
  return () => clearTimeout(timer);
}

/** The Task's real input and its timeouts, resolved from a wrapped input (see `TaskInfo.wrapped`). */
function unwrapTaskInput(
  info: TaskInfo,
  input: JsonValue,
): { input: JsonValue; timeoutSeconds?: number; heartbeatSeconds?: number } {
  const { wrapped } = info;
  if (!wrapped) {
    return {
      input,
      ...(info.timeoutSeconds !== undefined ? { timeoutSeconds: info.timeoutSeconds } : {}),
      ...(info.heartbeatSeconds !== undefined ? { heartbeatSeconds: info.heartbeatSeconds } : {}),
    };
  }
  const fields = input as Record<string, JsonValue>;
  const timeoutSeconds =
    wrapped.timeoutPath !== undefined
      ? positiveSeconds('TimeoutSecondsPath', wrapped.timeoutPath, fields.timeout)
      : info.timeoutSeconds;
  const heartbeatSeconds =
    wrapped.heartbeatPath !== undefined
      ? positiveSeconds('HeartbeatSecondsPath', wrapped.heartbeatPath, fields.heartbeat)
      : info.heartbeatSeconds;
  return {
    input: fields[WRAPPED_PAYLOAD] ?? null,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
  };
}

function positiveSeconds(field: string, path: string, value: JsonValue | undefined): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new StatesRuntimeError(
      `The ${field} field refers to value "${typeof value === 'string' ? value : JSON.stringify(value ?? null)}" which is not a valid positive integer: ${path}`,
    );
  }
  return value;
}

// -----------------------------------------------------------------------------------------------------
// Context Object copies
// -----------------------------------------------------------------------------------------------------

/**
 * `$$` and `$$.State` must evaluate to a copy of the Context Object as it is at that moment, but the
 * engine hands out its live, shared `State` object (later states change it under the stored value).
 * These rewrites evaluate them field by field instead, which builds fresh objects, with the same result:
 * in payload templates (Parameters, ItemSelector, ResultSelector), a whole-`$$` InputPath of a state
 * without Parameters, and a whole-`$$` OutputPath of a state without ResultSelector.
 */
function copyContextOnEvaluation(state: Record<string, unknown>): void {
  const scope: ContextScope = { task: state.Type === 'Task', map: false };
  if (state.Type === 'Map') {
    // ItemSelector (and the legacy per-item Parameters) are evaluated with $$.Map set.
    for (const key of ['ItemSelector', 'Parameters'])
      if (state[key] !== undefined) state[key] = expandTemplate(state[key], { ...scope, map: true });
  } else if (state.Parameters !== undefined) {
    state.Parameters = expandTemplate(state.Parameters, scope);
  }
  if (state.ResultSelector !== undefined) state.ResultSelector = expandTemplate(state.ResultSelector, scope);
  if (
    typeof state.InputPath === 'string' &&
    isWholeContext(state.InputPath) &&
    state.Parameters === undefined
  ) {
    state.Parameters = contextTemplate(state.InputPath, scope);
    delete state.InputPath;
  }
  if (
    typeof state.OutputPath === 'string' &&
    isWholeContext(state.OutputPath) &&
    state.ResultSelector === undefined &&
    (state.Type === 'Pass' || state.Type === 'Task')
  ) {
    // The output is the Context Object whatever the result: select it from the result, which then
    // replaces the input.
    state.ResultSelector = contextTemplate(state.OutputPath, scope);
    delete state.ResultPath;
    delete state.OutputPath;
  }
}

interface ContextScope {
  task: boolean;
  map: boolean;
}

function isWholeContext(path: string): boolean {
  return path === '$$' || path === '$$.State';
}

function contextTemplate(path: string, scope: ContextScope): Record<string, unknown> {
  const state = {
    'Name.$': '$$.State.Name',
    'EnteredTime.$': '$$.State.EnteredTime',
    ...(scope.task ? { 'RetryCount.$': '$$.State.RetryCount' } : {}),
  };
  if (path === '$$.State') return state;
  return {
    'Execution.$': '$$.Execution',
    'StateMachine.$': '$$.StateMachine',
    State: state,
    ...(scope.map ? { 'Map.$': '$$.Map' } : {}),
  };
}

function expandTemplate(template: unknown, scope: ContextScope): unknown {
  if (Array.isArray(template)) return template.map((value) => expandTemplate(value, scope));
  if (typeof template !== 'object' || template === null) return template;
  const expanded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && typeof value === 'string' && isWholeContext(value)) {
      expanded[key.slice(0, -2)] = contextTemplate(value, scope);
    } else {
      expanded[key] = expandTemplate(value, scope);
    }
  }
  return expanded;
}
