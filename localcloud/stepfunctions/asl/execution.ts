/**
 * One execution of a state machine on stepsaga's interpreter: ExecutionStarted, the states, then
 * ExecutionSucceeded / Failed / TimedOut / Aborted. `stop()` is StopExecution; the definition's
 * TimeoutSeconds ends it TIMED_OUT. An execution never rejects: a fault of the local cloud fails it.
 */
import type { Integrations } from '../integrations';
import { TaskTokens } from '../task-tokens';
import { AbortedError, setLongTimeout } from './clock';
import type { StateMachineDefinition } from './definition';
import { History, type HistoryEvent } from './history';
import { runStates } from './interpreter';
import type { Checkpoint, ExecutionEnv, Frame, FrameJournal, TaskMock } from './run';
import { FailStateError } from './states/fail';
import { type JsonValue, StatesError } from './types';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionOutcome {
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  output?: string;
  error?: string;
  cause?: string;
}

export interface ExecutionParams {
  definition: StateMachineDefinition;
  input: JsonValue;
  executionArn: string;
  executionName: string;
  stateMachineArn: string;
  stateMachineName: string;
  roleArn: string;
  startTime: Date;
  /** Multiplies Retry intervals (and MaxDelaySeconds). @default 1 */
  retryScale: number;
  /** Multiplies Wait state delays. @default 1 */
  waitScale?: number;
  integrations: Integrations;
  /** The service's task tokens (SendTaskSuccess/Failure/Heartbeat); a set of its own when absent. */
  taskTokens?: TaskTokens;
  onEvent: (event: HistoryEvent) => void;
  /** Mocked Task answers (a mock config's test case, `stateMachineArn#TestCase`). */
  taskMock?: TaskMock;
  /** `--persist`: where the top level's checkpoints and callback tokens are recorded. */
  journal?: FrameJournal;
  /** `--persist`: what a previous run of the local cloud left of this execution (see `Execution`). */
  restored?: RestoredExecution;
}

/**
 * An execution as a previous run of the local cloud left it (`--persist`): its history, its outcome when
 * it had ended, its last checkpoint. A closed one stays closed (and redrivable from that checkpoint); a
 * running one continues from the checkpoint the way a Step Functions worker taking over would: no
 * ExecutionRedriven event, no redrive counted, the state it was in entered again.
 */
export interface RestoredExecution {
  events: HistoryEvent[];
  outcome?: ExecutionOutcome;
  checkpoint?: Checkpoint;
  redriveCount: number;
  redriveDate?: Date;
}

/** Why RedriveExecution refuses an execution (ExecutionNotRedrivable). */
export class NotRedrivableError extends Error {}

export class Execution {
  private readonly historyLog: History;
  private controller = new AbortController();
  private readonly env: ExecutionEnv;
  private stopRequest: { error?: string; cause?: string } | undefined;
  private timedOut = false;
  /** The top level's frame of the last run: its checkpoint is where a redrive continues. */
  private frame: Frame | undefined;
  private outcome: ExecutionOutcome | undefined;
  /** How many times RedriveExecution restarted it. */
  redriveCount = 0;
  redriveDate: Date | undefined;
  done: Promise<ExecutionOutcome>;

  constructor(private readonly params: ExecutionParams) {
    this.historyLog = new History(params.onEvent);
    this.env = {
      runStates,
      history: this.historyLog,
      integrations: params.integrations,
      taskTokens: params.taskTokens ?? new TaskTokens(),
      openTokens: new Set(),
      retryScale: params.retryScale,
      waitScale: params.waitScale ?? 1,
      execution: {
        Id: params.executionArn,
        Input: params.input,
        StartTime: params.startTime.toISOString(),
        Name: params.executionName,
        RoleArn: params.roleArn,
        RedriveCount: 0,
      },
      stateMachine: { Id: params.stateMachineArn, Name: params.stateMachineName },
      stopped: () => this.controller.signal.aborted,
      ...(params.taskMock ? { taskMock: params.taskMock } : {}),
    };
    const { restored } = params;
    if (restored) {
      this.redriveCount = restored.redriveCount;
      this.redriveDate = restored.redriveDate;
      this.env.execution.RedriveCount = restored.redriveCount;
      this.historyLog.restore(restored.events, restored.outcome !== undefined);
      if (restored.outcome) {
        // Closed: only its checkpoint matters (RedriveExecution continues there).
        this.outcome = restored.outcome;
        this.frame = {
          env: this.env,
          variables: {},
          queryLanguage: params.definition.QueryLanguage ?? 'JSONPath',
          signal: this.controller.signal,
          concurrent: false,
          recorded: true,
          ...(restored.checkpoint ? { checkpoint: restored.checkpoint } : {}),
        };
        this.done = Promise.resolve(restored.outcome);
        return;
      }
      const from = restored.checkpoint;
      this.done = this.start(
        from ? from.input : structuredClone(params.input),
        from,
        restored.redriveDate ?? params.startTime,
      );
      return;
    }
    this.historyLog.append('ExecutionStarted', {
      input: JSON.stringify(params.input),
      inputDetails: { truncated: false },
      roleArn: params.roleArn,
    });
    this.done = this.start(structuredClone(params.input));
  }

  get history(): readonly HistoryEvent[] {
    return this.historyLog.events;
  }

  /** StopExecution: the execution ends ABORTED with the given error/cause. */
  stop(error?: string, cause?: string): void {
    if (this.outcome || this.controller.signal.aborted) return;
    this.stopRequest = { ...(error ? { error } : {}), ...(cause ? { cause } : {}) };
    this.controller.abort();
  }

  /**
   * Why RedriveExecution would refuse this execution now, or undefined when it can be redriven (AWS's
   * `redriveStatusReason` texts).
   */
  notRedrivableReason(): string | undefined {
    if (!this.outcome) return 'Execution is RUNNING and cannot be redriven.';
    if (this.outcome.status === 'SUCCEEDED') return 'Execution is SUCCEEDED and cannot be redriven.';
    if (!this.frame?.checkpoint) return 'Execution has no state to continue from.';
    return undefined;
  }

  /**
   * RedriveExecution: the execution continues from the state that did not succeed, with the input and
   * variables it had there; succeeded states do not run again, and in a Parallel or Map only the branches
   * and iterations that did not succeed run again. Records ExecutionRedriven; `done` is the new outcome.
   */
  redrive(): void {
    const reason = this.notRedrivableReason();
    const checkpoint = this.frame?.checkpoint;
    if (reason !== undefined || !checkpoint) throw new NotRedrivableError(reason);
    this.redriveCount++;
    this.redriveDate = new Date();
    this.env.execution.RedriveCount = this.redriveCount;
    this.outcome = undefined;
    this.stopRequest = undefined;
    this.timedOut = false;
    this.controller = new AbortController();
    this.historyLog.reopen();
    this.historyLog.append('ExecutionRedriven', { redriveCount: this.redriveCount });
    this.done = this.start(checkpoint.input, checkpoint);
  }

  /** Runs from StartAt (or `resume`); `since`: when its TimeoutSeconds started (a restart keeps it). */
  private async start(input: JsonValue, resume?: Checkpoint, since = new Date()): Promise<ExecutionOutcome> {
    const { definition } = this.params;
    const cancelTimeout =
      definition.TimeoutSeconds !== undefined
        ? setLongTimeout(
            () => {
              this.timedOut = true;
              this.controller.abort();
            },
            definition.TimeoutSeconds * 1000 - (Date.now() - since.getTime()),
          )
        : undefined;
    const frame: Frame = {
      env: this.env,
      variables: {},
      queryLanguage: definition.QueryLanguage ?? 'JSONPath',
      signal: this.controller.signal,
      concurrent: false,
      recorded: true,
      ...(resume ? { resume } : {}),
      ...(this.params.journal ? { journal: this.params.journal } : {}),
    };
    this.frame = frame;
    let outcome: ExecutionOutcome;
    try {
      const output = await runStates(definition, input, frame);
      outcome = { status: 'SUCCEEDED', output: JSON.stringify(output) };
    } catch (error) {
      outcome = this.failure(error);
    } finally {
      cancelTimeout?.();
    }
    this.finish(outcome);
    this.outcome = outcome;
    return outcome;
  }

  private failure(error: unknown): ExecutionOutcome {
    if (this.timedOut) return { status: 'TIMED_OUT' };
    if (this.stopRequest) return { status: 'ABORTED', ...this.stopRequest };
    if (error instanceof FailStateError) {
      return {
        status: 'FAILED',
        ...(error.failError !== undefined ? { error: error.failError } : {}),
        ...(error.failCause !== undefined ? { cause: error.failCause } : {}),
      };
    }
    if (error instanceof StatesError) {
      return {
        status: 'FAILED',
        ...(error.error ? { error: error.error } : {}),
        ...(error.cause !== undefined ? { cause: error.cause } : {}),
      };
    }
    if (error instanceof AbortedError) return { status: 'ABORTED' };
    return {
      status: 'FAILED',
      error: 'States.Runtime',
      cause: `The local cloud could not run this execution: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    };
  }

  private finish(outcome: ExecutionOutcome): void {
    // A Task still waiting for its callback is over with the execution.
    for (const token of this.env.openTokens) this.env.taskTokens.close(token);
    this.env.openTokens.clear();
    const details = {
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      ...(outcome.cause !== undefined ? { cause: outcome.cause } : {}),
    };
    switch (outcome.status) {
      case 'SUCCEEDED':
        this.historyLog.close('ExecutionSucceeded', {
          output: outcome.output,
          outputDetails: { truncated: false },
        });
        break;
      case 'FAILED':
        this.historyLog.close('ExecutionFailed', details);
        break;
      case 'TIMED_OUT':
        this.historyLog.close('ExecutionTimedOut', details);
        break;
      case 'ABORTED':
        this.historyLog.close('ExecutionAborted', details);
        break;
    }
  }
}
