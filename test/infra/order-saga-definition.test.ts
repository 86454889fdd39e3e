import { beforeAll, describe, expect, it } from 'vitest';
import { cancelReasonOf } from '../../lambdas/domain/order';
import {
  BUSINESS_ERRORS,
  COMPENSATION_OF,
  type DeadLetterMessage,
  REVIEW_REJECTED,
  STATE_NAMES,
  STATES_TIMEOUT,
  STEP_NAMES,
  TRANSIENT_ERRORS,
} from '../../lib/contract';
import {
  EXECUTION_TIMEOUT,
  executionTimeout,
  type OrderSagaStack,
  REVIEW_DEFAULTS,
  TASK_TIMEOUT,
} from '../../lib/order-saga-stack';
import { Saga, THROTTLE_ERRORS, TIMEOUT_ERRORS } from '../../toolkit/construct/saga';
import {
  type AslDefinition,
  type AslState,
  invokedLogicalId,
  stateMachineDefinition,
  successors,
  synthOrderSaga,
} from '../support/template';

const COMPENSATIONS = STEP_NAMES.map((s) => COMPENSATION_OF[s]);
/** The pivot's guard: when it cannot decide, the unwind stops (see the test below). */
const GUARD = COMPENSATION_OF.ConfirmOrder;
const UNWINDING = COMPENSATIONS.filter((c) => c !== GUARD);
const STEP_PARAMETERS = {
  'saga.$': '$',
  context: { 'executionArn.$': '$$.Execution.Id', 'retryCount.$': '$$.State.RetryCount' },
};

/**
 * The Lambda throttle retrier of every Lambda Task (`Saga.THROTTLE_RETRY` as rendered): AWS's retry for
 * Lambda service errors (2 s, ×2) with more attempts (12, each wait at most 30 s), full jitter.
 */
const THROTTLE_RETRIER = {
  ErrorEquals: [...THROTTLE_ERRORS],
  IntervalSeconds: 2,
  MaxAttempts: 12,
  BackoffRate: 2,
  MaxDelaySeconds: 30,
  JitterStrategy: 'FULL',
};

const REVIEW = STATE_NAMES.requestReview;
const REVIEW_FAILED = `${REVIEW}${STATE_NAMES.failedSuffix}`;
/** The review Task's payload: the StepEvent plus the task token the reviewer's decision answers with. */
const REVIEW_PAYLOAD = {
  'saga.$': '$',
  context: { ...STEP_PARAMETERS.context, 'taskToken.$': '$$.Task.Token' },
};

let stack: OrderSagaStack;
let asl: AslDefinition;

function state(name: string): AslState {
  const s = asl.States[name];
  if (!s) throw new Error(`no state ${name}; states: ${Object.keys(asl.States).join(', ')}`);
  return s;
}

function functionLogicalId(functionId: string): string {
  const arn = stack.resolve(stack.functions[functionId as keyof typeof stack.functions].functionArn) as {
    'Fn::GetAtt': [string, string];
  };
  return arn['Fn::GetAtt'][0];
}

/** An order as the Choices see it: with or without a promo code, at or over the review threshold or not. */
interface OrderShape {
  promo: boolean;
  review: boolean;
}

/**
 * Follows Next (and, at a Choice, the branch this order takes: HasPromoCode/HasPromoToRelease by its promo
 * code, NeedsReview by its total) until the end.
 */
function walk(from: string, order: OrderShape): string[] {
  const path: string[] = [];
  let name: string | undefined = from;
  while (name) {
    if (path.includes(name)) throw new Error(`loop at ${name}: ${path.join(' → ')}`);
    path.push(name);
    const s = state(name);
    if (s.Type === 'Choice') {
      const promoBranch = s.Choices?.find((c) => c.Variable === '$.promoCode' && c.IsPresent === true);
      const reviewBranch = s.Choices?.find((c) => c.Variable === '$.results.ReserveStock.total');
      if (promoBranch) name = order.promo ? promoBranch.Next : s.Default;
      else if (reviewBranch) name = order.review ? reviewBranch.Next : s.Default;
      else break;
    } else {
      name = s.Next;
    }
  }
  return path;
}

beforeAll(() => {
  const built = synthOrderSaga();
  stack = built.stack;
  asl = stateMachineDefinition(built.template);
});

describe('forward path', () => {
  it('starts at HasPromoCode, which runs ReservePromo only for an order with a promo code', () => {
    // Prepare / Act
    const choice = state(STATE_NAMES.hasPromo);

    // Assess
    expect(asl.StartAt).toBe(STATE_NAMES.hasPromo);
    expect(choice.Type).toBe('Choice');
    expect(choice.Choices).toEqual([{ Variable: '$.promoCode', IsPresent: true, Next: 'ReservePromo' }]);
    expect(choice.Default).toBe('ReserveStock');
  });

  it.each([
    ['with', true, STEP_NAMES],
    ['without', false, STEP_NAMES.filter((s) => s !== 'ReservePromo')],
  ])(
    'an order %s a promo under the review threshold runs the steps in order: steps + HasPromoCode + NeedsReview transitions',
    (_, promo, steps) => {
      // Act
      const path = walk(asl.StartAt, { promo, review: false });

      // Assess: the old success path plus one Choice (NeedsReview) after ReserveStock
      const reserveStock = steps.indexOf('ReserveStock');
      expect(path).toEqual([
        STATE_NAMES.hasPromo,
        ...steps.slice(0, reserveStock + 1),
        STATE_NAMES.needsReview,
        ...steps.slice(reserveStock + 1),
      ]);
      expect(state(path.at(-1)!).End).toBe(true);
      expect(path.length).toBeLessThanOrEqual(STEP_NAMES.length + 1 + 1);
    },
  );

  it.each([
    ['with', true],
    ['without', false],
  ])(
    'an order %s a promo at or over the review threshold also waits in RequestReview, and nowhere else',
    (_, promo) => {
      const under = walk(asl.StartAt, { promo, review: false });
      const over = walk(asl.StartAt, { promo, review: true });

      expect(over).toEqual([
        ...under.slice(0, under.indexOf(STATE_NAMES.needsReview) + 1),
        REVIEW,
        ...under.slice(under.indexOf(STATE_NAMES.needsReview) + 1),
      ]);
      expect(over.length).toBeLessThanOrEqual(STEP_NAMES.length + 1 + 2);
    },
  );

  it.each(STEP_NAMES)(
    '%s invokes its own function with the StepEvent payload and stores its result',
    (step) => {
      const task = state(step);

      expect(task.Type).toBe('Task');
      expect(invokedLogicalId(task)).toBe(functionLogicalId(step));
      expect(task.Parameters).toEqual(STEP_PARAMETERS);
      expect(task.ResultPath).toBe(`$.results.${step}`);
    },
  );

  it.each(STEP_NAMES)(
    '%s retries throttles and transient errors with backoff and full jitter, and a timeout once; never a business error',
    (step) => {
      const retry = state(step).Retry ?? [];

      expect(retry).toHaveLength(3);
      for (const retrier of retry) {
        expect(retrier.ErrorEquals).not.toContain('States.ALL');
        for (const error of retrier.ErrorEquals) {
          expect([...TRANSIENT_ERRORS, ...TIMEOUT_ERRORS]).toContain(error);
          expect(BUSINESS_ERRORS).not.toContain(error);
        }
      }
      expect(retry[0]).toEqual(THROTTLE_RETRIER);
      expect(retry[1]).toEqual({
        ErrorEquals: TRANSIENT_ERRORS.filter((error) => error !== 'Lambda.TooManyRequestsException'),
        IntervalSeconds: 1,
        MaxAttempts: 3,
        BackoffRate: 2,
        MaxDelaySeconds: 10,
        JitterStrategy: 'FULL',
      });
      // The function's own timeout or the Task's TimeoutSeconds: the outcome is unknown and the step is
      // idempotent, so one more attempt learns it (replays a commit, or does the work) before unwinding.
      expect(retry[2]).toEqual({
        ErrorEquals: ['Sandbox.Timedout', 'States.Timeout'],
        IntervalSeconds: 1,
        MaxAttempts: 1,
        JitterStrategy: 'FULL',
      });
    },
  );

  it.each(STEP_NAMES)('%s catches every error into %sFailed, which records {step, error, cause}', (step) => {
    const failed = state(`${step}${STATE_NAMES.failedSuffix}`);

    expect(state(step).Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: `${step}Failed` },
    ]);
    expect(failed.Type).toBe('Pass');
    expect(failed.ResultPath).toBe('$.failure');
    expect(failed.Parameters).toEqual({ step, 'error.$': '$.failure.Error', 'cause.$': '$.failure.Cause' });
  });
});

describe('unwind', () => {
  it.each(STEP_NAMES.map((step, i) => [step, i] as const))(
    'a failure of %s compensates it first, then every earlier step in reverse, then records the failure',
    (step, index) => {
      // Act: the unwind of an order with a promo code (every compensation applies)
      const path = walk(`${step}Failed`, { promo: true, review: true });
      const compensationsRun = path.filter((name) => (COMPENSATIONS as string[]).includes(name));

      // Assess
      expect(compensationsRun).toEqual(COMPENSATIONS.slice(0, index + 1).reverse());
      expect(path.slice(-2)).toEqual([STATE_NAMES.recordFailure, STATE_NAMES.checkCompensations]);
    },
  );

  it('ConfirmOrder is guarded by RejectOrder (its own compensation) before anything else is undone', () => {
    expect(state('ConfirmOrderFailed').Next).toBe('RejectOrder');
  });

  it('ReleasePromo runs only for an order with a promo code', () => {
    const choice = state(STATE_NAMES.hasPromoToRelease);

    expect(state('ReservePromoFailed').Next).toBe(STATE_NAMES.hasPromoToRelease);
    expect(state('ReleaseStock').Next).toBe(STATE_NAMES.hasPromoToRelease);
    expect(choice.Choices).toEqual([{ Variable: '$.promoCode', IsPresent: true, Next: 'ReleasePromo' }]);
    expect(choice.Default).toBe(STATE_NAMES.recordFailure);
    expect(walk('ReserveStockFailed', { promo: false, review: false })).toEqual([
      'ReserveStockFailed',
      'ReleaseStock',
      STATE_NAMES.hasPromoToRelease,
      STATE_NAMES.recordFailure,
      STATE_NAMES.checkCompensations,
    ]);
  });

  it.each(COMPENSATIONS)('%s invokes its own function and discards its result', (compensation) => {
    const task = state(compensation);

    expect(invokedLogicalId(task)).toBe(functionLogicalId(compensation));
    expect(task.Parameters).toEqual(STEP_PARAMETERS);
    expect(task.ResultPath).toBeNull();
  });

  it.each(UNWINDING)(
    '%s is retried on every error, then dead-lettered, and the unwind goes on',
    (compensation) => {
      const task = state(compensation);
      const toDlq = state(`${compensation}${STATE_NAMES.dlqSuffix}`);

      expect(task.Retry?.at(-2)).toEqual(THROTTLE_RETRIER);
      expect(task.Retry?.at(-1)).toEqual({
        ErrorEquals: ['States.ALL'],
        IntervalSeconds: 1,
        MaxAttempts: 4,
        BackoffRate: 2,
        MaxDelaySeconds: 10,
        JitterStrategy: 'FULL',
      });
      expect(task.Catch?.at(-1)).toEqual({
        ErrorEquals: ['States.ALL'],
        ResultPath: '$.compensationError',
        Next: `${compensation}ToDLQ`,
      });
      expect(toDlq.Type).toBe('Task');
      expect(toDlq.Next).toBe(task.Next);
      expect(toDlq.ResultPath).toBe(`$.deadLettered.${compensation}`);
      expect(toDlq.Retry?.[0]?.ErrorEquals).toEqual(['States.ALL']);
      // Even a failed DLQ send records itself and goes on unwinding.
      expect(toDlq.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: `$.deadLettered.${compensation}`, Next: task.Next },
      ]);
    },
  );

  it(`${GUARD} that keeps failing stops the unwind: its DLQ message lists the compensations to resume`, () => {
    const guard = state(GUARD);
    const toDlq = state(`${GUARD}${STATE_NAMES.dlqSuffix}`);
    const body = (toDlq.Parameters as { MessageBody: Record<string, unknown> }).MessageBody;

    expect(guard.Catch?.at(-1)).toEqual({
      ErrorEquals: ['States.ALL'],
      ResultPath: '$.compensationError',
      Next: `${GUARD}ToDLQ`,
    });
    // Not the next compensation (CancelDelivery): the guard did not decide whether ConfirmOrder committed.
    expect(guard.Next).toBe('CancelDelivery');
    expect(toDlq.Next).toBe(STATE_NAMES.recordFailure);
    expect(toDlq.Catch?.[0]?.Next).toBe(STATE_NAMES.recordFailure);
    expect(body.resume).toEqual(['CancelDelivery', 'RefundPayment', 'ReleaseStock', 'ReleasePromo']);
  });

  it.each(COMPENSATIONS)('%sToDLQ sends the DeadLetterMessage to the DLQ', (compensation) => {
    const toDlq = state(`${compensation}ToDLQ`);
    const queue = stack.resolve(stack.deadLetterQueue.queueUrl) as { Ref: string };
    const body: Omit<Record<keyof DeadLetterMessage, unknown>, 'resume'> & { resume?: string[] } = {
      orderId: '$.orderId',
      step: compensation,
      error: '$.compensationError.Error',
      cause: '$.compensationError.Cause',
      executionArn: '$$.Execution.Id',
      input: '$',
      ...(compensation === GUARD
        ? { resume: ['CancelDelivery', 'RefundPayment', 'ReleaseStock', 'ReleasePromo'] }
        : {}),
    };

    expect(toDlq.Resource).toMatch(/:states:::sqs:sendMessage$/);
    expect(toDlq.Parameters).toEqual({
      QueueUrl: `ref:${queue.Ref}`,
      MessageBody: Object.fromEntries(
        Object.entries(body).map(([k, v]) => (k === 'step' || k === 'resume' ? [k, v] : [`${k}.$`, v])),
      ),
    });
  });

  it('RejectOrder keeps a confirmed order: OrderAlreadyConfirmed is not retried and ends in OrderConfirmed', () => {
    const reject = state('RejectOrder');

    expect(reject.Retry?.[0]).toMatchObject({ ErrorEquals: ['OrderAlreadyConfirmed'], MaxAttempts: 0 });
    expect(reject.Catch?.[0]).toEqual({ ErrorEquals: ['OrderAlreadyConfirmed'], Next: STATE_NAMES.succeed });
    expect(reject.Catch?.at(-1)?.ErrorEquals).toEqual(['States.ALL']);
    expect(state(STATE_NAMES.succeed).Type).toBe('Succeed');
  });

  it('RecordFailure writes the read model (retried on every error), then AllCompensated picks the Fail state', () => {
    const record = state(STATE_NAMES.recordFailure);
    const check = state(STATE_NAMES.checkCompensations);

    expect(invokedLogicalId(record)).toBe(functionLogicalId('RecordFailure'));
    expect(record.Parameters).toEqual(STEP_PARAMETERS);
    expect(record.Retry?.[0]).toEqual(THROTTLE_RETRIER);
    expect(record.Retry?.[1]?.ErrorEquals).toEqual(['States.ALL']);
    expect(record.Next).toBe(STATE_NAMES.checkCompensations);
    // If the outcome cannot be written, the write itself goes to the DLQ (the order must not stay PENDING).
    expect(record.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.recordFailureError', Next: 'RecordFailureToDLQ' },
    ]);
    const toDlq = state('RecordFailureToDLQ');
    expect(toDlq.Resource).toMatch(/:states:::sqs:sendMessage$/);
    expect(toDlq.Parameters?.MessageBody).toMatchObject({
      step: 'RecordFailure',
      'error.$': '$.recordFailureError.Error',
      'input.$': '$',
    });
    expect(toDlq.Next).toBe(STATE_NAMES.failCompensation);
    expect(toDlq.Catch?.[0]?.Next).toBe(STATE_NAMES.failCompensation);
    expect(check.Choices).toEqual([
      { Variable: '$.deadLettered', IsPresent: true, Next: STATE_NAMES.failCompensation },
    ]);
    expect(check.Default).toBe(STATE_NAMES.failOrder);
    expect(state(STATE_NAMES.failOrder)).toMatchObject({
      Type: 'Fail',
      ErrorPath: '$.failure.error',
      CausePath: '$.failure.cause',
    });
    expect(state(STATE_NAMES.failCompensation)).toMatchObject({
      Type: 'Fail',
      Error: STATE_NAMES.failCompensation,
      CausePath: '$.failure.cause',
    });
  });
});

describe('Lambda throttles', () => {
  it('THROTTLE_RETRIER is Saga.THROTTLE_RETRY as Step Functions receives it', () => {
    expect(Saga.THROTTLE_RETRY).toMatchObject({
      errors: THROTTLE_RETRIER.ErrorEquals,
      maxAttempts: THROTTLE_RETRIER.MaxAttempts,
      backoffRate: THROTTLE_RETRIER.BackoffRate,
      jitterStrategy: THROTTLE_RETRIER.JitterStrategy,
    });
    expect(Saga.THROTTLE_RETRY.interval?.toSeconds()).toBe(THROTTLE_RETRIER.IntervalSeconds);
    expect(Saga.THROTTLE_RETRY.maxDelay?.toSeconds()).toBe(THROTTLE_RETRIER.MaxDelaySeconds);
    // The throttle is transient, but retried on its own retrier: the transient one leaves it out.
    expect(Saga.TRANSIENT_RETRY.errors).toEqual(
      TRANSIENT_ERRORS.filter((e) => !(THROTTLE_ERRORS as readonly string[]).includes(e)),
    );
  });

  it('every Lambda Task, forward, compensating or the review, retries a throttle on its own retrier before any other', () => {
    const lambdaTasks = Object.entries(asl.States).filter(
      // A Lambda Task's Resource is the function (payloadResponseOnly) or, for the review,
      // `:states:::lambda:invoke.waitForTaskToken`; the DLQ sends are `:states:::sqs:…`.
      ([, s]) =>
        s.Type === 'Task' &&
        (!(s.Resource ?? '').includes(':states:::') || /:states:::lambda:/.test(s.Resource!)),
    );

    expect(lambdaTasks.map(([name]) => name).sort()).toEqual(
      [...STEP_NAMES, ...COMPENSATIONS, STATE_NAMES.recordFailure, REVIEW].sort(),
    );
    for (const [name, task] of lambdaTasks) {
      const retry = task.Retry ?? [];
      const throttle = retry.findIndex((r) => r.ErrorEquals.includes('Lambda.TooManyRequestsException'));
      expect(retry[throttle], name).toEqual(THROTTLE_RETRIER);
      // Only a final outcome (the guard's OrderAlreadyConfirmed, never retried) may come before it.
      expect(
        retry.slice(0, throttle).every((r) => r.MaxAttempts === 0),
        name,
      ).toBe(true);
    }
  });
});

describe('manual review', () => {
  it('NeedsReview follows ReserveStock: an order whose total reaches the threshold waits, the others pay', () => {
    const choice = state(STATE_NAMES.needsReview);

    expect(state('ReserveStock').Next).toBe(STATE_NAMES.needsReview);
    expect(choice.Type).toBe('Choice');
    expect(choice.Choices).toEqual([
      {
        Variable: '$.results.ReserveStock.total',
        NumericGreaterThanEquals: REVIEW_DEFAULTS.threshold,
        Next: REVIEW,
      },
    ]);
    expect(choice.Default).toBe('ChargePayment');
    expect(state(REVIEW).Next).toBe('ChargePayment');
  });

  it('RequestReview invokes its function with .waitForTaskToken, passing $$.Task.Token, and stores the decision', () => {
    const review = state(REVIEW);

    expect(review.Type).toBe('Task');
    expect(review.Resource).toMatch(/:states:::lambda:invoke\.waitForTaskToken$/);
    expect(review.Parameters).toEqual({
      FunctionName: `arn:${functionLogicalId(REVIEW)}`,
      Payload: REVIEW_PAYLOAD,
    });
    expect(review.ResultPath).toBe(`$.results.${REVIEW}`);
    // No heartbeat: a reviewer is not a worker; the deadline is the whole wait.
    expect(review).not.toHaveProperty('HeartbeatSeconds');
  });

  it('RequestReview waits at most reviewTimeout (TimeoutSeconds), then fails with States.Timeout', () => {
    expect(state(REVIEW).TimeoutSeconds).toBe(REVIEW_DEFAULTS.timeout.toSeconds());
  });

  it('RequestReview retries only the invoke (throttles, transient errors), never a decision or its deadline', () => {
    const retry = state(REVIEW).Retry ?? [];

    expect(retry[0]).toEqual(THROTTLE_RETRIER);
    expect(retry[1]?.ErrorEquals).toEqual(Saga.TRANSIENT_RETRY.errors);
    expect(retry).toHaveLength(2);
    for (const error of [STATES_TIMEOUT, REVIEW_REJECTED, 'OrderCancelled', 'States.ALL']) {
      expect(
        retry.some((r) => r.ErrorEquals.includes(error)),
        error,
      ).toBe(false);
    }
  });

  it.each([
    [STATES_TIMEOUT, 'AWAITING_REVIEW', 'ReviewTimedOut'],
    [REVIEW_REJECTED, 'CANCELLING', 'ReviewRejected'],
    ['OrderCancelled', 'CANCELLING', 'CustomerCancelled'],
  ] as const)(
    'RequestReview on %s unwinds (ReleaseStock, ReleasePromo, RecordFailure), which records the order as cancelled: %s → %s',
    (error, status, reason) => {
      const review = state(REVIEW);
      const failed = state(REVIEW_FAILED);

      // Catch: every error of the review (its deadline, a rejection, a cancel) goes to RequestReviewFailed…
      expect(review.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: REVIEW_FAILED },
      ]);
      expect(failed.Type).toBe('Pass');
      expect(failed.ResultPath).toBe('$.failure');
      expect(failed.Parameters).toEqual({
        step: REVIEW,
        'error.$': '$.failure.Error',
        'cause.$': '$.failure.Cause',
      });
      // …which undoes what was reserved before it (the review has no effect of its own to undo)…
      const path = walk(REVIEW_FAILED, { promo: true, review: true });
      expect(path.filter((name) => (COMPENSATIONS as string[]).includes(name))).toEqual([
        'ReleaseStock',
        'ReleasePromo',
      ]);
      expect(path.slice(-2)).toEqual([STATE_NAMES.recordFailure, STATE_NAMES.checkCompensations]);
      expect(state(STATE_NAMES.checkCompensations).Default).toBe(STATE_NAMES.failOrder);
      // …and RecordFailure turns the recorded failure ({step, error}) into the cancel reason.
      const failure = { step: REVIEW, error, cause: `${error} (cause)` };
      expect(
        cancelReasonOf({ failure }, { status, ...(status === 'CANCELLING' ? { cancelReason: reason } : {}) }),
      ).toBe(reason);
    },
  );

  it('a States.Timeout of any other Task is a step failure, not a review timeout', () => {
    expect(
      cancelReasonOf({ failure: { step: 'ChargePayment', error: STATES_TIMEOUT } }, { status: 'PENDING' }),
    ).toBeUndefined();
  });

  it('is reached only through NeedsReview, and has no compensation (nor DLQ send) of its own', () => {
    const toReview = Object.entries(asl.States)
      .filter(([, s]) => successors(s).includes(REVIEW))
      .map(([name]) => name);

    expect(toReview).toEqual([STATE_NAMES.needsReview]);
    expect(
      Object.keys(asl.States)
        .filter((name) => name.startsWith(REVIEW))
        .sort(),
    ).toEqual([REVIEW, REVIEW_FAILED].sort());
  });
});

describe('timeouts', () => {
  it('every Task has a TimeoutSeconds: the review its deadline, every other Task the Task timeout', () => {
    const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');

    expect(tasks.length).toBeGreaterThan(STEP_NAMES.length * 2);
    for (const [name, task] of tasks) {
      expect(task.TimeoutSeconds, name).toBe(
        name === REVIEW ? REVIEW_DEFAULTS.timeout.toSeconds() : TASK_TIMEOUT.toSeconds(),
      );
    }
  });

  it('the Task timeout lets a Lambda Task run its function to its own timeout (it only ends a lost invocation)', () => {
    for (const [name, task] of Object.entries(asl.States)) {
      if (task.Type !== 'Task' || name === REVIEW || (task.Resource ?? '').includes(':states:::')) continue;
      const logicalId = invokedLogicalId(task);
      const fn = Object.values(stack.functions).find(
        (f) => (stack.resolve(f.functionArn) as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0] === logicalId,
      );
      expect(fn?.timeout, name).toBeDefined();
      expect(task.TimeoutSeconds, name).toBeGreaterThan(fn!.timeout!.toSeconds());
    }
  });

  it('the execution deadline exceeds the review deadline plus the whole unwind budget', () => {
    const deadline = (asl as unknown as { TimeoutSeconds: number }).TimeoutSeconds;
    const review = state(REVIEW).TimeoutSeconds ?? 0;

    expect(deadline).toBe(executionTimeout(false).toSeconds());
    expect(deadline).toBe(review + EXECUTION_TIMEOUT.standard.toSeconds());
    // The unwind after an expired review: every compensation and RecordFailure retried to the end at its
    // full Task timeout (the DLQ sends included) — far below what the deadline leaves after the review.
    const unwind = [...COMPENSATIONS, STATE_NAMES.recordFailure].flatMap((name) => [
      state(name),
      state(`${name}${STATE_NAMES.dlqSuffix}`),
    ]);
    const worstCase = unwind.reduce((sum, task) => {
      let seconds = task.TimeoutSeconds ?? 0;
      for (const retrier of task.Retry ?? []) {
        for (let i = 0; i < (retrier.MaxAttempts ?? 3); i++) {
          const wait = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** i;
          seconds +=
            Math.min(wait, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) + (task.TimeoutSeconds ?? 0);
        }
      }
      return sum + seconds;
    }, 0);
    expect(deadline).toBeGreaterThan(review + worstCase);
  });
});

describe('definition', () => {
  it('uses JSONPath only (no JSONata, no Assign) and every state is reachable', () => {
    const reachable = new Set<string>();
    const queue = [asl.StartAt];
    while (queue.length > 0) {
      const name = queue.pop()!;
      if (reachable.has(name)) continue;
      reachable.add(name);
      queue.push(...successors(state(name)));
    }

    expect(JSON.stringify(asl)).not.toMatch(/JSONata|"Assign"|"Arguments"|"Output"/);
    expect([...reachable].sort()).toEqual(Object.keys(asl.States).sort());
  });

  it('the Saga construct exposes the definition it deployed (same states, same transitions)', () => {
    const exposed = stack.saga.toGraphJson();

    expect(exposed.StartAt).toBe(asl.StartAt);
    expect(Object.keys(exposed.States).sort()).toEqual(Object.keys(asl.States).sort());
    for (const [name, s] of Object.entries(exposed.States)) {
      expect(successors(s as unknown as AslState), name).toEqual(successors(state(name)));
    }
  });

  it('the Saga construct renders the same ChargePayment state as the template holds', () => {
    const rendered = stack.resolve(stack.saga.states.get('ChargePayment')!.toStateJson()) as AslState;

    expect({ ...rendered, Resource: invokedLogicalId(state('ChargePayment')) }).toEqual({
      ...state('ChargePayment'),
      Resource: functionLogicalId('ChargePayment'),
    });
  });
});
