/**
 * Task: calls its resource (a Lambda function, an optimised integration, an `aws-sdk:*` action; with
 * `.waitForTaskToken`, waits for SendTaskSuccess/SendTaskFailure) under TimeoutSeconds and
 * HeartbeatSeconds, recording `LambdaFunction*` or `Task*` events, then runs the data flow. Retry and
 * Catch wrap each attempt (an attempt evaluates its Parameters/Arguments again: `$$.State.RetryCount`).
 */
import { pausableDeadline, withCapacityClock } from '../../../capacity';
import { TaskError, taskKind } from '../../integrations';
import { AbortedError, abortable, setLongTimeout, tick } from '../clock';
import { effectiveInput, jsonataBindings, jsonPathScope, stateArguments, stateOutput } from '../dataflow';
import type { TaskState } from '../definition';
import { evaluateJsonata, isJsonataTemplate } from '../jsonata';
import { selectPath } from '../jsonpath';
import { withRetryAndCatch } from '../retry';
import { checkResultSize, type MockedAnswer, type StateResult, type StateRun, transition } from '../run';
import { type JsonObject, type JsonValue, queryEvaluationError, runtimeError, StatesError } from '../types';

/** A SendTaskFailure: its error and cause may be absent (Catch then sees `null` for both, as on AWS). */
class CallbackFailure extends StatesError {
  constructor(
    readonly callbackError: string | undefined,
    readonly callbackCause: string | undefined,
  ) {
    super(callbackError ?? '', callbackCause);
  }

  override errorOutput(): JsonObject {
    return { Error: this.callbackError ?? null, Cause: this.callbackCause ?? null };
  }
}

/** A Task's time limits, in seconds (undefined: none). */
interface Limits {
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
}

export function runTask(run: StateRun<TaskState>): Promise<StateResult> {
  const { state } = run;
  const kind = taskKind(state.Resource);
  const callback = kind.kind === 'integration' && kind.callback;
  return withRetryAndCatch(run, async () => {
    const effective = effectiveInput(run);
    if (callback) {
      // A restart taking over a waiting callback Task waits on the token it handed out, until the
      // deadline that attempt had.
      const takeOver = run.takeOverToken;
      run.takeOverToken = undefined;
      run.taskToken = run.frame.env.taskTokens.issue(takeOver?.token);
      const since = takeOver ? Date.parse(takeOver.since) : Number.NaN;
      run.attemptStart = Number.isNaN(since) ? Date.now() : since;
      run.frame.journal?.taskToken(run.taskToken, new Date(run.attemptStart).toISOString());
    }
    let parameters: JsonValue;
    let limits: Limits;
    try {
      parameters = await stateArguments(run, effective);
      limits = await taskLimits(run, effective);
    } catch (error) {
      if (run.taskToken !== undefined) run.frame.env.taskTokens.close(run.taskToken);
      run.taskToken = undefined;
      throw error;
    }
    const result = await invoke(run, parameters, limits);
    run.frame.inspect?.stage('result', result);
    const { output, assign } = await stateOutput(run, result);
    return { output, next: transition(state), ...(assign ? { assign } : {}) };
  });
}

async function taskLimits(run: StateRun<TaskState>, effective: JsonValue): Promise<Limits> {
  const { state } = run;
  const limits: Limits = {};
  const timeout = await seconds(
    run,
    effective,
    'TimeoutSeconds',
    state.TimeoutSeconds,
    state.TimeoutSecondsPath,
  );
  const heartbeat = await seconds(
    run,
    effective,
    'HeartbeatSeconds',
    state.HeartbeatSeconds,
    state.HeartbeatSecondsPath,
  );
  if (timeout !== undefined) limits.timeoutSeconds = timeout;
  if (heartbeat !== undefined) limits.heartbeatSeconds = heartbeat;
  return limits;
}

async function seconds(
  run: StateRun<TaskState>,
  effective: JsonValue,
  field: 'TimeoutSeconds' | 'HeartbeatSeconds',
  value: number | string | undefined,
  path: string | undefined,
): Promise<number | undefined> {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && isJsonataTemplate(value)) {
    const result = await evaluateJsonata(value, jsonataBindings(run), field);
    if (typeof result !== 'number' || !Number.isInteger(result) || result < 1)
      throw queryEvaluationError(
        `The ${field} field must evaluate to a positive integer, but evaluated to ${JSON.stringify(result)}`,
      );
    return result;
  }
  if (path === undefined) return undefined;
  const pathField = `${field}Path`;
  const result = selectPath(path, jsonPathScope(run, effective), pathField);
  if (typeof result !== 'number' || !Number.isInteger(result) || result < 1)
    throw runtimeError(
      `The ${pathField} field refers to value "${typeof result === 'string' ? result : JSON.stringify(result)}" which is not a valid positive integer: ${path}`,
    );
  return result;
}

/** Calls the Task's resource once, recording its events; resolves with its result. */
async function invoke(run: StateRun<TaskState>, input: JsonValue, limits: Limits): Promise<JsonValue> {
  const { env, signal } = run.frame;
  const kind = taskKind(run.state.Resource);
  const timeouts = {
    ...(limits.timeoutSeconds !== undefined ? { timeoutInSeconds: limits.timeoutSeconds } : {}),
    ...(limits.heartbeatSeconds !== undefined ? { heartbeatInSeconds: limits.heartbeatSeconds } : {}),
  };
  const token = run.taskToken;
  const mocked = env.taskMock?.(run.name);
  // TimeoutSeconds, armed when the Task is scheduled: a wait for the local cloud's own capacity (a Lambda
  // container, an init slot) does not count, as AWS would not have waited (localcloud/capacity.ts).
  // A callback Task's attempt may have started before a restart took it over (`--persist`).
  const timeout =
    limits.timeoutSeconds === undefined
      ? undefined
      : taskDeadline(
          limits.timeoutSeconds * 1000 -
            (token !== undefined ? Date.now() - (run.attemptStart ?? Date.now()) : 0),
        );
  const started = <T>(call: () => T): T => (timeout ? withCapacityClock(timeout.clock, call) : call());
  let work: Promise<JsonValue>;
  let events: { succeeded: string; failed: string; timedOut: string; base: Record<string, unknown> };
  if (kind.kind === 'lambda') {
    run.record('LambdaFunctionScheduled', {
      resource: kind.functionArn,
      input: JSON.stringify(input),
      inputDetails: { truncated: false },
      ...timeouts,
    });
    await inStep(run);
    run.record('LambdaFunctionStarted');
    events = {
      succeeded: 'LambdaFunctionSucceeded',
      failed: 'LambdaFunctionFailed',
      timedOut: 'LambdaFunctionTimedOut',
      base: {},
    };
    work = mocked
      ? mockedWork(mocked)
      : started(() => env.integrations.invokeFunction(kind.functionArn, input));
  } else {
    const base =
      kind.kind === 'integration'
        ? { resourceType: kind.resourceType, resource: kind.resource }
        : { resourceType: 'unknown', resource: kind.resource };
    run.record('TaskScheduled', {
      ...base,
      region: 'us-east-1',
      parameters: JSON.stringify(input),
      ...timeouts,
    });
    await inStep(run);
    run.record('TaskStarted', base);
    events = { succeeded: 'TaskSucceeded', failed: 'TaskFailed', timedOut: 'TaskTimedOut', base };
    if (mocked) {
      // A mocked callback Task answers at once: no token is waited for.
      work = mockedWork(mocked);
    } else if (kind.kind === 'unsupported') {
      work = Promise.reject(
        new StatesError(
          'States.Runtime',
          `The local cloud does not support the Task resource '${kind.resource}' (supported: Lambda function ARNs, lambda:invoke, sqs:sendMessage, dynamodb:putItem/getItem/updateItem/deleteItem, aws-sdk:dynamodb|sqs|sfn:<action>)`,
        ),
      );
    } else {
      const call = started(() => env.integrations.run(kind.run, input));
      work = token !== undefined ? awaitCallback(run, token, call, base) : call;
    }
  }
  if (token !== undefined) env.openTokens.add(token);
  const cancels: Array<() => void> = [];
  const deadlines: Promise<never>[] = [];
  if (timeout) {
    deadlines.push(timeout.expired);
    cancels.push(() => timeout.clock.cancel());
  }
  if (token !== undefined && limits.heartbeatSeconds !== undefined) {
    // The heartbeat clock runs from the start of the Task; each SendTaskHeartbeat restarts it.
    const ms = limits.heartbeatSeconds * 1000;
    deadlines.push(
      new Promise<never>((_, reject) => {
        let cancel = setLongTimeout(() => reject(timedOut()), ms);
        cancels.push(() => cancel());
        env.taskTokens.onHeartbeat(token, () => {
          cancel();
          cancel = setLongTimeout(() => reject(timedOut()), ms);
        });
      }),
    );
  }
  work.catch(() => undefined);
  try {
    const output = await abortable(deadlines.length > 0 ? Promise.race([work, ...deadlines]) : work, signal);
    checkResultSize(run, output);
    run.record(events.succeeded, {
      ...events.base,
      output: JSON.stringify(output),
      outputDetails: { truncated: false },
    });
    return output;
  } catch (thrown) {
    if (thrown instanceof AbortedError) throw thrown;
    if (thrown instanceof StatesError && thrown.error === 'States.DataLimitExceeded') throw thrown;
    const error = asTaskError(thrown);
    const isTimeout = error.error === 'States.Timeout' && thrown instanceof TaskTimeout;
    const name = error instanceof CallbackFailure ? error.callbackError : error.error;
    run.record(isTimeout ? events.timedOut : events.failed, {
      ...events.base,
      ...(name !== undefined ? { error: name } : {}),
      ...(error.cause !== undefined && !isTimeout ? { cause: error.cause } : {}),
    });
    throw error;
  } finally {
    for (const cancel of cancels) cancel();
    if (token !== undefined) {
      env.openTokens.delete(token);
      env.taskTokens.close(token);
      run.taskToken = undefined;
    }
  }
}

/**
 * Concurrent iterations and branches advance in step, as AWS records them: every Task of the step is
 * scheduled before any starts (see `interpreter.ts`, `Frame.concurrent`).
 */
async function inStep(run: StateRun<TaskState>): Promise<void> {
  if (run.frame.concurrent) await tick();
}

function mockedWork(answer: MockedAnswer): Promise<JsonValue> {
  return 'result' in answer
    ? Promise.resolve(structuredClone(answer.result))
    : Promise.reject(new StatesError(answer.error, answer.cause));
}

/** The Task's TimeoutSeconds: `expired` rejects with States.Timeout when it passes (pausable clock). */
function taskDeadline(ms: number): { clock: ReturnType<typeof pausableDeadline>; expired: Promise<never> } {
  let expire: () => void = () => undefined;
  const expired = new Promise<never>((_, reject) => {
    expire = () => reject(timedOut());
  });
  expired.catch(() => undefined);
  const clock = pausableDeadline(ms, () => expire(), setLongTimeout);
  return { clock, expired };
}

class TaskTimeout extends StatesError {
  constructor() {
    super('States.Timeout');
  }
}

function timedOut(): TaskTimeout {
  return new TaskTimeout();
}

function asTaskError(error: unknown): StatesError {
  if (error instanceof StatesError) return error;
  if (error instanceof TaskError) return new StatesError(error.name, error.message);
  return new StatesError('States.Runtime', error instanceof Error ? error.message : String(error));
}

/**
 * The callback pattern: the integration's answer is recorded as TaskSubmitted, then the Task's result
 * is what SendTaskSuccess reports (SendTaskFailure: its error and cause).
 */
async function awaitCallback(
  run: StateRun<TaskState>,
  token: string,
  call: Promise<JsonValue>,
  base: Record<string, unknown>,
): Promise<JsonValue> {
  const { env } = run.frame;
  const submitted = await call;
  // The Task may have timed out while the call ran: then nothing more is recorded.
  if (!env.openTokens.has(token)) return null;
  run.record('TaskSubmitted', {
    ...base,
    output: JSON.stringify(submitted),
    outputDetails: { truncated: false },
  });
  const outcome = await env.taskTokens.outcome(token);
  if (outcome.status === 'SUCCEEDED') return outcome.output;
  if (outcome.status === 'CLOSED') throw new StatesError('States.Runtime', 'The task is over');
  throw new CallbackFailure(outcome.error ?? undefined, outcome.cause ?? undefined);
}
