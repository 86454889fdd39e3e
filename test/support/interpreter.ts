/**
 * Executions on stepsaga's interpreter (`localcloud/stepfunctions/asl/execution.ts`) for its unit tests
 * (`test/localcloud/asl`), without the service around it: Wait delays and Retry intervals × 0.001. The
 * integrations serve a local Lambda service, with real Node.js functions when the file needs them, and
 * never call back into a local cloud. `interpreterRunner()` registers its own `beforeAll` (the service,
 * the functions) and `afterAll` (closes them): call it once at the top of a test file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { LambdaService } from '../../localcloud/lambda/service';
import type { StateMachineDefinition } from '../../localcloud/stepfunctions/asl/definition';
import {
  Execution,
  type ExecutionOutcome,
  type RestoredExecution,
} from '../../localcloud/stepfunctions/asl/execution';
import type { HistoryEvent } from '../../localcloud/stepfunctions/asl/history';
import type { JsonValue } from '../../localcloud/stepfunctions/asl/types';
import { Integrations } from '../../localcloud/stepfunctions/integrations';
import type { TaskTokens } from '../../localcloud/stepfunctions/task-tokens';
import { addNodeFunction } from './states-harness';

/**
 * One real local Lambda function: throws `{throw: {name, message}}`, never answers `{hang: true}`,
 * returns `{big: n}` as n characters, otherwise returns its event.
 */
const BEHAVE = `
exports.handler = async (event) => {
  if (event && event.throw) { const e = new Error(event.throw.message); e.name = event.throw.name; throw e; }
  if (event && event.hang) return new Promise(() => {});
  if (event && event.big) return 'a'.repeat(event.big);
  return event;
};`;
export const BEHAVE_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:behave';

/** The `interpreterRunner` options of a file whose Tasks call `behave` (warm before the first test). */
export const withBehave = { functions: { behave: BEHAVE }, warm: true } as const;

/** A callback Task (`.waitForTaskToken`) handing `behave` its token as `Payload.token`; `fields` added. */
export const callbackMachine = (fields: Record<string, JsonValue> = {}): StateMachineDefinition => ({
  StartAt: 'Wait',
  States: {
    Wait: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'behave', Payload: { 'token.$': '$$.Task.Token' } },
      ...fields,
      End: true,
    },
  },
});

/** The task token a callback Task handed its function (its Payload's `token`), from its TaskScheduled event. */
export function tokenOf(scheduled: HistoryEvent): string {
  const details = scheduled.taskScheduledEventDetails as { parameters: string };
  const parameters = JSON.parse(details.parameters) as { Payload: { token: string } };
  return parameters.Payload.token;
}

/** An execution run to its end. */
export interface Finished {
  outcome: ExecutionOutcome;
  history: readonly HistoryEvent[];
  types: string[];
  output: JsonValue | undefined;
}

export interface StartOptions {
  onEvent?: (event: HistoryEvent) => void;
  /** The task tokens a test answers callback Tasks with; a set of the execution's own when absent. */
  taskTokens?: TaskTokens;
  /** @default 0.001 */
  retryScale?: number;
  /** Multiplies Wait delays. @default 0.001 */
  waitScale?: number;
  /** `--persist`: what a previous run left of the execution (a restart takes it over). */
  restored?: RestoredExecution;
}

export interface InterpreterOptions {
  /** The state machine's name (in its ARN and the execution's) and the prefix of the temporary directory. */
  name: string;
  /** Node.js functions (name → source of `index.js`) created on the local Lambda service in `beforeAll`. */
  functions?: Record<string, string>;
  /** Invokes each function once with `{}` in `beforeAll`, so that the tests find a warm container. */
  warm?: boolean;
}

export interface InterpreterRunner {
  /** The integrations the executions use (from `beforeAll` on). */
  readonly integrations: Integrations;
  /** Starts an execution: for tests that watch it (`onEvent`), stop it or move a fake clock. */
  start(definition: StateMachineDefinition, input?: JsonValue, options?: StartOptions): Execution;
  /** Waits for the end of a started execution. */
  finish(execution: Execution): Promise<Finished>;
  /** `start` and `finish` in one. */
  run(definition: StateMachineDefinition, input?: JsonValue, options?: StartOptions): Promise<Finished>;
}

export function interpreterRunner(options: InterpreterOptions): InterpreterRunner {
  const { name } = options;
  const functions = Object.entries(options.functions ?? {});
  let services: { lambda: LambdaService; integrations: Integrations; workDir?: string } | undefined;

  beforeAll(async () => {
    const endpoint = (): string => 'http://127.0.0.1:9'; // nothing listens: no call back into a local cloud
    const workDir = functions.length > 0 ? mkdtempSync(path.join(os.tmpdir(), `${name}-`)) : undefined;
    const lambda = new LambdaService({
      dataDir: workDir === undefined ? '/nonexistent' : path.join(workDir, 'data'),
      endpoint,
    });
    services = {
      lambda,
      integrations: new Integrations({ lambda, endpoint }),
      ...(workDir ? { workDir } : {}),
    };
    for (const [functionName, source] of functions)
      await addNodeFunction(lambda, path.join(workDir ?? '', 'functions'), functionName, source);
    if (options.warm) for (const [functionName] of functions) await lambda.invoke(functionName, '{}');
  });

  afterAll(async () => {
    if (services === undefined) return;
    services.integrations.close();
    await services.lambda.close();
    if (services.workDir !== undefined) rmSync(services.workDir, { recursive: true, force: true });
  });

  const integrations = (): Integrations => {
    if (services === undefined) throw new Error('interpreterRunner: used before its beforeAll');
    return services.integrations;
  };

  const start = (
    definition: StateMachineDefinition,
    input: JsonValue = {},
    startOptions: StartOptions = {},
  ): Execution =>
    new Execution({
      definition,
      input,
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:${name}:run`,
      executionName: 'run',
      stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`,
      stateMachineName: name,
      roleArn: 'arn:aws:iam::000000000000:role/StatesRole',
      startTime: new Date(),
      retryScale: startOptions.retryScale ?? 0.001,
      waitScale: startOptions.waitScale ?? 0.001,
      integrations: integrations(),
      ...(startOptions.taskTokens ? { taskTokens: startOptions.taskTokens } : {}),
      ...(startOptions.restored ? { restored: startOptions.restored } : {}),
      onEvent: startOptions.onEvent ?? (() => undefined),
    });

  const finish = async (execution: Execution): Promise<Finished> => {
    const outcome = await execution.done;
    return {
      outcome,
      history: execution.history,
      types: execution.history.map((event) => event.type),
      output: outcome.output === undefined ? undefined : (JSON.parse(outcome.output) as JsonValue),
    };
  };

  return {
    get integrations() {
      return integrations();
    },
    start,
    finish,
    run: (definition, input, startOptions) => finish(start(definition, input, startOptions)),
  };
}
