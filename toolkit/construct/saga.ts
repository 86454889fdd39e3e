import { Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  IntegrationPattern,
  JitterType,
  JsonPath,
  type LogOptions,
  Pass,
  type RetryProps,
  type State,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  type TaskStateBase,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke, SqsSendMessage } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { REDRIVE_ENV } from '../runtime/config';
import { THROTTLE_ERRORS, TRANSIENT_ERRORS } from './saga-errors';

export { THROTTLE_ERRORS };

/**
 * A forward step that did not answer in time: the function's own timeout (`Sandbox.Timedout`) or the
 * Task's `TimeoutSeconds` (`States.Timeout`). Retried once by {@link Saga.TIMEOUT_RETRY}.
 */
export const TIMEOUT_ERRORS = ['Sandbox.Timedout', Errors.TIMEOUT] as const;

/** The compensation of a saga step: the function that semantically undoes the step's effect. */
export interface SagaCompensation {
  /** State name of the compensation Task (also its name in the DLQ message, `step`). */
  readonly name: string;
  /** The function to invoke. It must be idempotent and safe to run when the step never ran. */
  readonly function: IFunction;
  /**
   * Error names that mean "the step's effect is final and must be kept": the compensation's Catch sends
   * them to the success state instead of unwinding (placed before the `States.ALL` catcher, and never
   * retried). Used by a pivot's guard: its "the pivot had committed" error.
   * @default - none
   */
  readonly succeedOnErrors?: string[];
}

/** Runs a step only when a condition on the input holds (for example: the input has a promo code). */
export interface SagaStepCondition {
  /** Name of the Choice state in front of the step. */
  readonly choiceName: string;
  /**
   * Name of the Choice state in front of the step's compensation (same condition). Required when the
   * step has a compensation.
   */
  readonly skippedCompensationChoiceName?: string;
  /** The condition under which the step (and later its compensation) runs. */
  readonly condition: Condition;
}

/** One forward step of a saga. */
export interface SagaStep {
  /** State name of the forward Task; its result is stored at `$.results.<name>`. */
  readonly name: string;
  /** The function to invoke. */
  readonly action: IFunction;
  /**
   * How to undo the step. A step without compensation (a pure check, or the pivot) catches into the
   * compensation path of the step before it.
   * @default - nothing to undo
   */
  readonly compensation?: SagaCompensation;
  /**
   * Run the step (and its compensation) only when a condition holds.
   * @default - always run
   */
  readonly runWhen?: SagaStepCondition;
  /**
   * A callback step: the Task invokes the function with `.waitForTaskToken` (the payload's
   * `context.taskToken` is `$$.Task.Token`) and waits until someone calls SendTaskSuccess/SendTaskFailure
   * with that token, at most `timeout` (then it fails with `States.Timeout`, which unwinds like any
   * failure). Its result (the SendTaskSuccess output) is stored at `$.results.<Step>`.
   * @default - a plain request-response Lambda Task
   */
  readonly callback?: { readonly timeout: Duration };
  /**
   * Overrides of the forward Retry (the error list defaults to the transient errors; never put business
   * errors or `States.ALL` here).
   * @default - {@link Saga.TRANSIENT_RETRY}
   */
  readonly retry?: Partial<RetryProps>;
  /**
   * Whether a request-response step that timed out is attempted once more ({@link Saga.TIMEOUT_RETRY})
   * before the saga unwinds. Callback steps never are: their timeout is a deadline.
   * @default true
   */
  readonly retryOnTimeout?: boolean;
}

/** State names of the saga's fixed states. */
export interface SagaStateNames {
  /** Suffix of the Pass state that records a forward failure. @default 'Failed' */
  readonly failedSuffix?: string;
  /** Suffix of the SqsSendMessage Task that dead-letters a compensation. @default 'ToDLQ' */
  readonly dlqSuffix?: string;
  /** The Task that invokes `recordFailure`. @default 'RecordFailure' */
  readonly recordFailure?: string;
  /** The Choice on `$.deadLettered`. @default 'AllCompensated' */
  readonly checkCompensations?: string;
  /** The Succeed state reached through `succeedOnErrors`. @default 'SagaSucceeded' */
  readonly succeed?: string;
  /** Fail state when everything was compensated. @default 'SagaFailed' */
  readonly failed?: string;
  /** Fail state when a compensation ended in the DLQ. @default 'CompensationFailed' */
  readonly compensationFailed?: string;
}

/** The state names a saga gets unless it names its own (`SagaProps.stateNames`). */
export const DEFAULT_STATE_NAMES: Required<SagaStateNames> = {
  failedSuffix: 'Failed',
  dlqSuffix: 'ToDLQ',
  recordFailure: 'RecordFailure',
  checkCompensations: 'AllCompensated',
  succeed: 'SagaSucceeded',
  failed: 'SagaFailed',
  compensationFailed: 'CompensationFailed',
};

export interface SagaProps {
  /** The forward steps, first to last. At least one. */
  readonly steps: SagaStep[];
  /**
   * Where a compensation that still fails after its retries is sent (contract `DeadLetterMessage`), so
   * the unwind can go on and the compensation can be redriven later.
   */
  readonly deadLetterQueue: IQueue;
  /**
   * Invoked once after the unwind (for example to write the read model). Retried on every error.
   * @default - none: the unwind ends directly in the `checkCompensations` Choice
   */
  readonly recordFailure?: IFunction;
  /**
   * JSONPath of the saga's id in the execution input, copied into every DLQ message.
   * @default '$.sagaId'
   */
  readonly correlationIdPath?: string;
  /**
   * The DLQ message's field that holds the saga's id (a name of the messages' contract: what redrive and
   * operators read).
   * @default 'sagaId'
   */
  readonly correlationIdField?: string;
  /**
   * Standard (exactly-once transitions, 90-day history, redrive) or Express (at-least-once, cheaper,
   * history only in logs). The steps are idempotent, so both are safe.
   * @default StateMachineType.STANDARD
   */
  readonly stateMachineType?: StateMachineType;
  /**
   * Execution logging.
   * @default - no logging
   */
  readonly logs?: LogOptions;
  /**
   * X-Ray tracing.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * State names of the fixed states.
   * @default - {@link DEFAULT_STATE_NAMES}
   */
  readonly stateNames?: SagaStateNames;
  /**
   * Name of the state machine (it appears in every execution ARN: `...:execution:<name>:<execution>`).
   * @default - generated by CloudFormation
   */
  readonly stateMachineName?: string;
  /**
   * `TimeoutSeconds` of every Task but a callback's (forward steps, compensations, RecordFailure, DLQ
   * sends): a Task never waits forever on a lost invocation. A few times the function timeout.
   * @default - none
   */
  readonly taskTimeout?: Duration;
  /**
   * Maximum duration of one execution.
   * @default - Standard: none (one year); Express: 5 minutes
   */
  readonly timeout?: Duration;
}

/**
 * A saga orchestrated by Step Functions. The construct only sequences steps and compensations; the work is
 * done by the injected functions, which must be idempotent (see docs/architecture.md).
 *
 * Shape (JSONPath, no JSONata):
 * - forward Task `<Step>`: Parameters `{saga: $, context: {executionArn, retryCount}}`, result at
 *   `$.results.<Step>`, Retry on Lambda throttles ({@link Saga.THROTTLE_RETRY}), then on transient errors
 *   only, then once on a timeout ({@link Saga.TIMEOUT_RETRY}; not a callback step), Catch `States.ALL` at
 *   `$.failure` →
 * - Pass `<Step>Failed` (`$.failure = {step, error, cause}`) → the step's OWN compensation first (its
 *   outcome is unknown: it may have committed before failing), then the earlier ones, last first →
 * - each compensation: Retry Lambda throttles, then `States.ALL`; Catch `States.ALL` at `$.compensationError` →
 *   `<Compensation>ToDLQ` (SqsSendMessage, result at `$.deadLettered.<Compensation>`) → the next
 *   compensation: the unwind never stops half way →
 * - `RecordFailure` → Choice `AllCompensated` → Fail `SagaFailed` | Fail `CompensationFailed`
 *   (default state names: `stateNames` renames them).
 *
 * The success path is the forward Tasks (and their Choices) only: the last step ends the execution, so a
 * saga of N steps costs at most N + C state transitions when it succeeds, C being the number of steps
 * with a `runWhen` Choice (a skipped step costs its Choice only).
 */
export class Saga extends Construct {
  /**
   * Lambda throttling (`Lambda.TooManyRequestsException`: the account's or the function's concurrency,
   * or Lambda's scaling rate, exceeded under a burst). The invoke never reached the function, so it is
   * safe to retry on every Lambda Task, forward steps and compensations alike, and a throttle must never
   * fail a saga. AWS's retry for Lambda's service errors (Step Functions' best practice "Handle Lambda
   * service exceptions", CDK's `LambdaInvoke` `retryOnServiceExceptions`: 2 s, ×2, 6 attempts) waits at
   * most 126 s, about 63 s with full jitter: a burst whose backlog takes longer to drain cancelled orders
   * (test/e2e/burst.test.ts: 30 orders against 3 concurrent executions on a loaded machine drain in
   * 70–85 s). So: the same start, 12 attempts, each wait capped at 30 s: up to 270 s of waits (about
   * 135 s with full jitter), and once the backoff reaches its cap a throttled step tries again every 15 s
   * on average, so it runs soon after the backlog drained. Full jitter, so that the invocations a burst
   * throttled together do not come back together. Its own retrier, placed first: its attempts do not
   * spend the transient or compensation budgets, and theirs do not spend it.
   */
  public static readonly THROTTLE_RETRY: RetryProps = {
    errors: [...THROTTLE_ERRORS],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 12,
    maxDelay: Duration.seconds(30),
    jitterStrategy: JitterType.FULL,
  };

  /** The forward Retry every step gets unless it overrides it: transient errors only, with full jitter. */
  public static readonly TRANSIENT_RETRY: RetryProps = {
    errors: TRANSIENT_ERRORS.filter((error) => !(THROTTLE_ERRORS as readonly string[]).includes(error)),
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxAttempts: 3,
    maxDelay: Duration.seconds(10),
    jitterStrategy: JitterType.FULL,
  };

  /**
   * A forward step that timed out (`TIMEOUT_ERRORS`) is attempted once more before the saga unwinds. Its
   * outcome is unknown — it may have committed before the clock ran out — and the step is idempotent, so a
   * second attempt is safe and turns the unknown into an answer: it replays the recorded result if the
   * first attempt committed, does the work if it did not. Without it a one-off slow invocation (a cold
   * start, a GC pause, a slow dependency) cancels a customer's order that would have gone through; with it
   * a step that really hangs unwinds one attempt later. Placed after the throttle and transient retriers,
   * with its own budget; never on a callback Task (its `States.Timeout` is the deadline passing).
   */
  public static readonly TIMEOUT_RETRY: RetryProps = {
    errors: [...TIMEOUT_ERRORS],
    interval: Duration.seconds(1),
    maxAttempts: 1,
    jitterStrategy: JitterType.FULL,
  };

  /** A compensation must eventually succeed: it is retried on every error before it is dead-lettered. */
  public static readonly COMPENSATION_RETRY: RetryProps = {
    errors: [Errors.ALL],
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxAttempts: 4,
    maxDelay: Duration.seconds(10),
    jitterStrategy: JitterType.FULL,
  };

  /** The payload of a callback step: `STEP_PAYLOAD` plus `context.taskToken`. */
  public static readonly CALLBACK_PAYLOAD = TaskInput.fromObject({
    saga: JsonPath.entirePayload,
    context: {
      executionArn: JsonPath.executionId,
      retryCount: JsonPath.numberAt('$$.State.RetryCount'),
      taskToken: JsonPath.taskToken,
    },
  });

  /** The payload every saga Lambda receives (contract `StepEvent`). */
  public static readonly STEP_PAYLOAD = TaskInput.fromObject({
    saga: JsonPath.entirePayload,
    context: {
      executionArn: JsonPath.executionId,
      retryCount: JsonPath.numberAt('$$.State.RetryCount'),
    },
  });

  /** The state machine. */
  public readonly stateMachine: StateMachine;

  /** The first state of the definition. */
  public readonly startState: State;

  /** Every state of the definition by name (useful for per-state assertions in tests). */
  public readonly states: ReadonlyMap<string, State>;

  /** Where a compensation that keeps failing is parked (`SagaProps.deadLetterQueue`). */
  public readonly deadLetterQueue: IQueue;

  /** Every function a Task invokes, by state name: the steps, the compensations and `recordFailure`. */
  public readonly invokedFunctions: ReadonlyMap<string, IFunction>;

  private readonly names: Required<SagaStateNames>;
  /** `{taskTimeout}` for every non-callback Task, or nothing. */
  private readonly taskTimeout: { taskTimeout?: Timeout };
  private readonly registry = new Map<string, State>();
  private readonly props: SagaProps;

  constructor(scope: Construct, id: string, props: SagaProps) {
    super(scope, id);
    this.props = props;
    this.deadLetterQueue = props.deadLetterQueue;
    if (props.steps.length === 0) {
      throw new Error(`Saga ${id}: 'steps' must contain at least one step`);
    }
    for (const step of props.steps) {
      if (step.retry?.errors?.includes(Errors.ALL)) {
        throw new Error(
          `Saga ${id}: step ${step.name} must not retry States.ALL: business errors would be retried; ` +
            'list the transient errors instead',
        );
      }
    }
    this.names = { ...DEFAULT_STATE_NAMES, ...props.stateNames };
    this.invokedFunctions = new Map([
      ...props.steps.flatMap((s) => [
        [s.name, s.action] as const,
        ...(s.compensation ? [[s.compensation.name, s.compensation.function] as const] : []),
      ]),
      ...(props.recordFailure ? [[this.names.recordFailure, props.recordFailure] as const] : []),
    ]);
    this.states = this.registry;
    this.taskTimeout = props.taskTimeout ? { taskTimeout: Timeout.duration(props.taskTimeout) } : {};
    for (const step of props.steps) {
      if (step.compensation && step.runWhen && !step.runWhen.skippedCompensationChoiceName) {
        throw new Error(
          `Saga ${id}: step ${step.name} has a compensation and runWhen: name its skippedCompensationChoiceName`,
        );
      }
    }

    const unwindEnd = this.buildUnwindEnd(props);
    const succeed = props.steps.some((s) => s.compensation?.succeedOnErrors?.length)
      ? this.register(new Succeed(this, this.names.succeed, { comment: 'The saga committed its pivot.' }))
      : undefined;

    // Compensation path, built from the first step up: unwindFrom[i] is where step i's failure goes.
    const unwindFrom: State[] = [];
    let next: State = unwindEnd;
    const earlier: string[] = []; // compensations that run after the one being built, as the unwind runs them
    for (const step of props.steps) {
      if (step.compensation) {
        next = this.buildCompensation(step, next, props, succeed, unwindEnd, [...earlier]);
        earlier.unshift(step.compensation.name);
      }
      unwindFrom.push(next);
    }

    // Forward path, built from the last step down.
    let forward: State | undefined;
    for (let i = props.steps.length - 1; i >= 0; i--) {
      const step = props.steps[i]!;
      const failed = this.register(
        new Pass(this, `${step.name}${this.names.failedSuffix}`, {
          comment: `Record that ${step.name} failed, then undo it and every step before it.`,
          parameters: {
            step: step.name,
            'error.$': '$.failure.Error',
            'cause.$': '$.failure.Cause',
          },
          resultPath: '$.failure',
        }),
      );
      failed.next(unwindFrom[i]!);
      const task = this.register(
        step.callback
          ? new LambdaInvoke(this, step.name, {
              lambdaFunction: step.action,
              integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
              retryOnServiceExceptions: false,
              payload: Saga.CALLBACK_PAYLOAD,
              resultPath: `$.results.${step.name}`,
              taskTimeout: Timeout.duration(step.callback.timeout),
            })
          : new LambdaInvoke(this, step.name, {
              lambdaFunction: step.action,
              payloadResponseOnly: true,
              retryOnServiceExceptions: false,
              payload: Saga.STEP_PAYLOAD,
              resultPath: `$.results.${step.name}`,
              ...this.taskTimeout,
            }),
      );
      task.addRetry(Saga.THROTTLE_RETRY);
      task.addRetry({ ...Saga.TRANSIENT_RETRY, ...step.retry });
      if (!step.callback && step.retryOnTimeout !== false) task.addRetry(Saga.TIMEOUT_RETRY);
      task.addCatch(failed, { errors: [Errors.ALL], resultPath: '$.failure' });
      const after = forward;
      if (after) task.next(after);
      forward = task;
      if (step.runWhen) {
        const choice = this.register(new Choice(this, step.runWhen.choiceName));
        choice.when(step.runWhen.condition, task);
        // A skipped last step still completes the saga.
        choice.otherwise(after ?? this.register(new Succeed(this, `${step.name}Skipped`)));
        forward = choice;
      }
    }
    this.startState = forward!;

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromChainable(this.startState),
      stateMachineType: props.stateMachineType ?? StateMachineType.STANDARD,
      tracingEnabled: props.tracing ?? true,
      ...(props.logs ? { logs: props.logs } : {}),
      ...(props.timeout ? { timeout: props.timeout } : {}),
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
    });
  }

  /**
   * Makes `fn` the saga's redrive function (toolkit/runtime/redrive-handler.ts): it gets the DLQ's URL
   * (`DLQ_URL`) and the function of each step it may replay (`COMPENSATION_FUNCTIONS`: every compensation,
   * and `recordFailure`), and may consume the DLQ (re-parking a compensation that fails again while it
   * resumes an unwind) and invoke exactly those functions.
   */
  public grantRedrive(fn: LambdaFunction): void {
    const compensations = this.props.steps.flatMap((s) => (s.compensation ? [s.compensation] : []));
    const queue = this.props.deadLetterQueue;
    const replayed = [
      ...compensations.map((c) => [c.name, c.function] as const),
      ...(this.props.recordFailure ? [[this.names.recordFailure, this.props.recordFailure] as const] : []),
    ];
    fn.addEnvironment(REDRIVE_ENV.dlqUrl, queue.queueUrl);
    fn.addEnvironment(
      REDRIVE_ENV.compensationFunctions,
      Stack.of(this).toJsonString(Object.fromEntries(replayed.map(([name, f]) => [name, f.functionName]))),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ConsumeDeadLetterQueue',
        actions: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
          // Resuming an unwind that a pivot guard stopped parks a compensation that fails again.
          'sqs:SendMessage',
        ],
        resources: [queue.queueArn],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'InvokeCompensations',
        actions: ['lambda:InvokeFunction'],
        resources: compensations.map((c) => c.function.functionArn),
      }),
    );
    if (this.props.recordFailure) {
      fn.addToRolePolicy(
        new PolicyStatement({
          sid: `Invoke${this.names.recordFailure}`,
          actions: ['lambda:InvokeFunction'],
          resources: [this.props.recordFailure.functionArn],
        }),
      );
    }
  }

  /**
   * The whole definition as the ASL object Step Functions receives (`StartAt` + `States`), with tokens
   * resolved to CloudFormation intrinsics, e.g. for per-state assertions or documentation.
   */
  public toGraphJson(): { StartAt: string; States: Record<string, Record<string, unknown>> } {
    const stack = Stack.of(this);
    const states = [...this.registry].map(
      ([name, state]) => [name, stack.resolve(state.toStateJson()) as Record<string, unknown>] as const,
    );
    return { StartAt: this.startState.stateId, States: Object.fromEntries(states) };
  }

  private buildUnwindEnd(props: SagaProps): State {
    const recordFailure = props.recordFailure;
    const failedState = this.register(
      new Fail(this, this.names.failed, {
        comment: 'A step failed and every effect was undone.',
        errorPath: '$.failure.error',
        causePath: '$.failure.cause',
      }),
    );
    const compensationFailed = this.register(
      new Fail(this, this.names.compensationFailed, {
        comment: 'A step failed and at least one compensation is in the DLQ (redrive it).',
        error: this.names.compensationFailed,
        causePath: '$.failure.cause',
      }),
    );
    const check = this.register(
      new Choice(this, this.names.checkCompensations, {
        comment: 'Did any compensation end in the dead-letter queue?',
      }),
    );
    check.when(
      // `$.deadLettered` only exists when a <Compensation>ToDLQ state wrote into it.
      Condition.isPresent('$.deadLettered'),
      compensationFailed,
    );
    check.otherwise(failedState);
    if (!recordFailure) return check;
    const record = this.register(
      new LambdaInvoke(this, this.names.recordFailure, {
        lambdaFunction: recordFailure,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        payload: Saga.STEP_PAYLOAD,
        resultPath: JsonPath.DISCARD,
        ...this.taskTimeout,
      }),
    );
    record.addRetry(Saga.THROTTLE_RETRY);
    record.addRetry(Saga.COMPENSATION_RETRY);
    record.next(check);

    // The unwind is done but its outcome could not be written (the saga's record of it would never learn it): park the
    // write itself in the DLQ, where redrive replays it, and end as CompensationFailed.
    const toDlq = this.register(
      new SqsSendMessage(this, `${this.names.recordFailure}${this.names.dlqSuffix}`, {
        comment: `${this.names.recordFailure} kept failing: park it in the DLQ for redrive.`,
        queue: props.deadLetterQueue,
        messageBody: this.deadLetterBody(props, this.names.recordFailure, '$.recordFailureError'),
        resultSelector: { messageId: JsonPath.stringAt('$.MessageId') },
        resultPath: `$.recordFailureDeadLettered`,
        ...this.taskTimeout,
      }),
    );
    toDlq.addRetry({ ...Saga.COMPENSATION_RETRY, maxAttempts: 3 });
    toDlq.addCatch(compensationFailed, { errors: [Errors.ALL], resultPath: '$.recordFailureDeadLettered' });
    toDlq.next(compensationFailed);
    record.addCatch(toDlq, { errors: [Errors.ALL], resultPath: '$.recordFailureError' });
    return record;
  }

  /**
   * A compensation Task with its Retry, Catch and DLQ hand-off. `after` lists the compensations that
   * follow it in the unwind.
   *
   * A pivot guard (a compensation with `succeedOnErrors`) that keeps failing has not decided whether the
   * pivot committed, so undoing the earlier steps could unwind a committed saga (a committed purchase with
   * its money refunded). Its DLQ hand-off therefore stops the unwind: the message carries
   * `resume: after`, and redrive runs those only once the guard succeeds.
   */
  private buildCompensation(
    step: SagaStep,
    next: State,
    props: SagaProps,
    succeed: State | undefined,
    unwindEnd: State,
    after: string[],
  ): State {
    const compensation = step.compensation!;
    const task = this.register(
      new LambdaInvoke(this, compensation.name, {
        lambdaFunction: compensation.function,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        payload: Saga.STEP_PAYLOAD,
        resultPath: JsonPath.DISCARD,
        ...this.taskTimeout,
      }),
    );
    const keep = compensation.succeedOnErrors ?? [];
    if (keep.length > 0) {
      // Final outcomes are not retried (a Retrier with MaxAttempts 0 placed before States.ALL).
      task.addRetry({ errors: keep, maxAttempts: 0 });
    }
    task.addRetry(Saga.THROTTLE_RETRY);
    task.addRetry(Saga.COMPENSATION_RETRY);
    if (keep.length > 0 && succeed) task.addCatch(succeed, { errors: keep });

    const isGuard = keep.length > 0;
    const afterDlq = isGuard ? unwindEnd : next;
    const toDlq = this.register(
      new SqsSendMessage(this, `${compensation.name}${this.names.dlqSuffix}`, {
        comment: isGuard
          ? `${compensation.name} could not decide: park it in the DLQ with the rest of the unwind to resume, and stop.`
          : `${compensation.name} kept failing: park it in the DLQ for redrive and go on unwinding.`,
        queue: props.deadLetterQueue,
        messageBody: this.deadLetterBody(
          props,
          compensation.name,
          '$.compensationError',
          isGuard ? { resume: after } : {},
        ),
        resultSelector: { messageId: JsonPath.stringAt('$.MessageId') },
        resultPath: `$.deadLettered.${compensation.name}`,
        ...this.taskTimeout,
      }),
    );
    toDlq.addRetry({ ...Saga.COMPENSATION_RETRY, maxAttempts: 3 });
    // Even a failed DLQ send must not stop the unwind; the error is kept at $.deadLettered.<name>.
    toDlq.addCatch(afterDlq, { errors: [Errors.ALL], resultPath: `$.deadLettered.${compensation.name}` });
    toDlq.next(afterDlq);

    task.addCatch(toDlq, { errors: [Errors.ALL], resultPath: '$.compensationError' });
    task.next(next);

    if (!step.runWhen) return task;
    const choice = this.register(new Choice(this, step.runWhen.skippedCompensationChoiceName as string));
    choice.when(step.runWhen.condition, task);
    choice.otherwise(next);
    return choice;
  }

  /** The DLQ message (contract `DeadLetterMessage`) for `step`, whose caught error is at `errorPath`. */
  private deadLetterBody(
    props: SagaProps,
    step: string,
    errorPath: string,
    extra: Record<string, unknown> = {},
  ): TaskInput {
    return TaskInput.fromObject({
      [props.correlationIdField ?? 'sagaId']: JsonPath.stringAt(props.correlationIdPath ?? '$.sagaId'),
      step,
      error: JsonPath.stringAt(`${errorPath}.Error`),
      cause: JsonPath.stringAt(`${errorPath}.Cause`),
      executionArn: JsonPath.executionId,
      input: JsonPath.entirePayload,
      ...extra,
    });
  }

  private register<T extends State | TaskStateBase>(state: T): T {
    this.registry.set(state.stateId, state);
    return state;
  }
}
