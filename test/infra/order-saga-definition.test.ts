import { beforeAll, describe, expect, it } from 'vitest';
import {
  BUSINESS_ERRORS,
  COMPENSATION_OF,
  type DeadLetterMessage,
  STATE_NAMES,
  STEP_NAMES,
  TRANSIENT_ERRORS,
} from '../../lib/contract';
import type { OrderSagaStack } from '../../lib/order-saga-stack';
import {
  type AslDefinition,
  type AslState,
  invokedLogicalId,
  stateMachineDefinition,
  successors,
  synthOrderSaga,
} from './support/synth';

const COMPENSATIONS = STEP_NAMES.map((s) => COMPENSATION_OF[s]);
/** The pivot's guard: when it cannot decide, the unwind stops (see the test below). */
const GUARD = COMPENSATION_OF.ConfirmOrder;
const UNWINDING = COMPENSATIONS.filter((c) => c !== GUARD);
const STEP_PARAMETERS = {
  'saga.$': '$',
  context: { 'executionArn.$': '$$.Execution.Id', 'retryCount.$': '$$.State.RetryCount' },
};

/**
 * The Lambda throttle retrier of every Lambda Task: AWS's retry for Lambda service errors (2 s, ×2,
 * 6 attempts), full jitter.
 */
const THROTTLE_RETRIER = {
  ErrorEquals: ['Lambda.TooManyRequestsException'],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
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

/** Follows Next (and, at a Choice, the branch for an order with or without a promo) until the end. */
function walk(from: string, withPromo: boolean): string[] {
  const path: string[] = [];
  let name: string | undefined = from;
  while (name) {
    if (path.includes(name)) throw new Error(`loop at ${name}: ${path.join(' → ')}`);
    path.push(name);
    const s = state(name);
    if (s.Type === 'Choice') {
      const promoBranch = s.Choices?.find((c) => c.Variable === '$.promoCode' && c.IsPresent === true);
      name = promoBranch ? (withPromo ? promoBranch.Next : s.Default) : undefined;
      if (!promoBranch) break;
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
    'an order %s a promo runs the steps in order and needs at most steps + 1 transitions',
    (_, withPromo, steps) => {
      // Act
      const path = walk(asl.StartAt, withPromo);

      // Assess
      expect(path).toEqual([STATE_NAMES.hasPromo, ...steps]);
      expect(state(path.at(-1)!).End).toBe(true);
      expect(path.length).toBeLessThanOrEqual(STEP_NAMES.length + 1);
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
    '%s retries only throttles and transient errors, with backoff and full jitter',
    (step) => {
      const retry = state(step).Retry ?? [];

      expect(retry).toHaveLength(2);
      for (const retrier of retry) {
        expect(retrier.ErrorEquals).not.toContain('States.ALL');
        for (const error of retrier.ErrorEquals) {
          expect(TRANSIENT_ERRORS).toContain(error);
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
      const path = walk(`${step}Failed`, true);
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
    expect(walk('ReserveStockFailed', false)).toEqual([
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
  it('every Lambda Task, forward or compensating, retries a throttle on its own retrier before any other', () => {
    const lambdaTasks = Object.entries(asl.States).filter(
      // A Lambda Task's Resource is the function (payloadResponseOnly); the DLQ sends are `:states:::sqs:…`.
      ([, s]) => s.Type === 'Task' && !(s.Resource ?? '').includes(':states:::'),
    );

    expect(lambdaTasks.map(([name]) => name)).toEqual(
      expect.arrayContaining([...STEP_NAMES, ...COMPENSATIONS, STATE_NAMES.recordFailure]),
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
