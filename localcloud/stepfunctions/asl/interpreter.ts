/**
 * Runs states: a state machine, a Parallel branch or a Map iteration is a list of states walked from
 * `StartAt` until a state ends it. Each state records its own history events as it runs; this module
 * owns what every state shares (entering and exiting, the Context Object, variables, uncaught
 * `States.Runtime` causes) and dispatches to one module per state type (`states/*.ts`).
 */
import { tick } from './clock';
import type { State, StateMachineDefinition } from './definition';
import {
  type ChildOutcome,
  type Frame,
  locate,
  type StateResult,
  type StateRun,
  type TakenOverToken,
} from './run';
import { runChoice } from './states/choice';
import { runFail } from './states/fail';
import { runMap } from './states/map';
import { runParallel } from './states/parallel';
import { runPass } from './states/pass';
import { runSucceed } from './states/succeed';
import { runTask } from './states/task';
import { runWait } from './states/wait';
import { type JsonObject, type JsonValue, StatesError } from './types';

/** Runs a list of states from StartAt to the end; resolves with the last state's output. */
export async function runStates(
  machine: StateMachineDefinition,
  input: JsonValue,
  frame: Frame,
): Promise<JsonValue> {
  const { resume } = frame;
  frame.resume = undefined;
  let name: string | undefined = resume?.state ?? machine.StartAt;
  let value = resume ? resume.input : input;
  if (resume) Object.assign(frame.variables, resume.variables);
  let redrive = resume?.children;
  let takeOver = resume?.takeOver;
  // A branch/iteration that runs beside others takes its turn: each runs alone until it must wait.
  if (frame.concurrent) await tick();
  while (name !== undefined) {
    const state = machine.States[name];
    if (!state) throw new StatesError('States.Runtime', `State '${name}' does not exist`);
    frame.checkpoint = { state: name, input: value, variables: { ...frame.variables } };
    const enteredTime = takeOver?.enteredTime ?? new Date().toISOString();
    frame.journal?.checkpoint(frame.checkpoint, enteredTime);
    const result = await runState(name, state, value, frame, redrive, enteredTime, takeOver?.taskToken);
    redrive = undefined;
    takeOver = undefined;
    value = result.output;
    name = result.next;
  }
  frame.checkpoint = undefined;
  return value;
}

async function runState(
  name: string,
  state: State,
  input: JsonValue,
  frame: Frame,
  redrive: Map<number, ChildOutcome> | undefined,
  enteredTime: string,
  takeOverToken: TakenOverToken | undefined,
): Promise<StateResult> {
  const record = (type: string, details?: Record<string, unknown>): number =>
    frame.recorded ? frame.env.history.append(type, details) : 0;
  const enteredEventId = record(`${state.Type}StateEntered`, {
    name,
    input: JSON.stringify(input),
    inputDetails: { truncated: false },
  });
  const run: StateRun = {
    name,
    state,
    frame,
    language: state.QueryLanguage ?? frame.queryLanguage,
    input,
    enteredEventId,
    enteredTime,
    retryCount: 0,
    ...(redrive ? { redrive } : {}),
    ...(takeOverToken !== undefined ? { takeOverToken } : {}),
    record,
    context(map) {
      const context: JsonObject = {
        Execution: frame.env.execution,
        StateMachine: frame.env.stateMachine,
        State: {
          Name: name,
          EnteredTime: this.enteredTime,
          ...(state.Type === 'Task' ? { RetryCount: this.retryCount } : {}),
        },
      };
      if (this.taskToken !== undefined) context.Task = { Token: this.taskToken };
      if (map) context.Map = { Item: map };
      return structuredClone(context);
    },
  };
  // Concurrent branches/iterations advance in step: every state of the step is entered before any
  // goes on (a Task: scheduled before any starts, see states/task.ts).
  if (frame.concurrent && state.Type !== 'Task') await tick();
  let result: StateResult;
  try {
    result = await dispatch(run);
  } catch (error) {
    // Beside other branches/iterations, a state's failure waits its turn: the siblings' events of this
    // step (their Tasks timing out at the same moment...) come first, as AWS records them.
    if (frame.concurrent) await tick();
    // Cut short because a sibling branch/iteration failed (not because the execution stopped).
    if (frame.signal.aborted && !frame.env.stopped()) record(`${state.Type}StateAborted`);
    throw locate(error, run);
  }
  // defineProperty: an Assign key named `__proto__` is a variable like any other.
  for (const [key, value] of Object.entries(result.assign ?? {}))
    Object.defineProperty(frame.variables, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  record(`${state.Type}StateExited`, {
    name,
    output: JSON.stringify(result.output),
    outputDetails: { truncated: false },
  });
  return result;
}

/** Runs one entry of a state by its type (TestState enters a state through here too). */
export function dispatch(run: StateRun): Promise<StateResult> {
  const { state } = run;
  switch (state.Type) {
    case 'Pass':
      return runPass(run as StateRun<typeof state>);
    case 'Task':
      return runTask(run as StateRun<typeof state>);
    case 'Choice':
      return runChoice(run as StateRun<typeof state>);
    case 'Wait':
      return runWait(run as StateRun<typeof state>);
    case 'Succeed':
      return runSucceed(run as StateRun<typeof state>);
    case 'Fail':
      return runFail(run as StateRun<typeof state>);
    case 'Parallel':
      return runParallel(run as StateRun<typeof state>);
    case 'Map':
      return runMap(run as StateRun<typeof state>);
  }
}
