import { describe, expect, it } from 'vitest';
import { ConfigurationError, faultsEnabled, tableNamesFromEnv } from '../../lambdas/shared/config';
import * as errors from '../../lambdas/shared/errors';
import { isFaultMode, withFault } from '../../lambdas/shared/faults';
import { parseStepEvent } from '../../lambdas/shared/step-event';
import { BUSINESS_ERRORS, TABLES } from '../../lib/contract';

describe('errors', () => {
  it('has one class per contract business error, named exactly as the contract (with an Error suffix)', () => {
    const classes = Object.entries(errors).filter(
      ([, value]) => typeof value === 'function' && value.prototype instanceof errors.SagaError,
    ) as [string, new (...args: never[]) => Error][];
    const names = classes.map(
      ([className, Class]) =>
        [className, new (Class as unknown as new (...a: unknown[]) => Error)('x', 'y', 1).name] as const,
    );
    for (const [className, name] of names) expect(className).toBe(`${name}Error`);
    expect(names.map(([, name]) => name).sort()).toEqual([...BUSINESS_ERRORS].sort());
  });

  it('keeps the name through rethrow and JSON (what the Lambda runtime reports as errorType)', () => {
    const error = new errors.InsufficientFundsError('customer-2', 450000, 1000);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('InsufficientFunds');
    expect(error.message).toBe('Customer customer-2 cannot pay 450000: balance is 1000');
    expect(new errors.TransientError('throttled').name).toBe('TransientError');
  });
});

describe('config', () => {
  it('names every missing table variable', () => {
    expect(() => tableNamesFromEnv(['Orders', 'IdempotencyKeys'], {})).toThrow(
      new ConfigurationError(
        `Environment variable(s) not set: ${TABLES.Orders.env}, ${TABLES.IdempotencyKeys.env}`,
      ),
    );
    expect(tableNamesFromEnv(['Orders'], { ORDERS_TABLE_NAME: 'orders-table' })).toEqual({
      Orders: 'orders-table',
    });
  });

  it('enables faults only for STEPSAGA_FAULTS=on exactly', () => {
    expect(
      [undefined, 'off', 'ON', 'true', '1', 'on'].map((v) => faultsEnabled({ STEPSAGA_FAULTS: v })),
    ).toEqual([false, false, false, false, false, true]);
  });
});

describe('faults', () => {
  it('accepts exactly the contract modes', () => {
    const valid = [
      'fail',
      'timeout',
      'crash-after-commit',
      'duplicate',
      'transient:0',
      'transient:3',
      'transient:100',
    ];
    const invalid = ['FAIL', 'transient', 'transient:-1', 'transient:x', 'transient:01', 'crash', '', 3];
    expect(valid.filter(isFaultMode)).toEqual(valid);
    expect(invalid.filter(isFaultMode)).toEqual([]);
  });

  it('runs the operation untouched when disabled or when no fault is planned for it', async () => {
    const ctx = { enabled: false, retryCount: 0 };
    expect(await withFault('ChargePayment', { ChargePayment: 'fail' }, ctx, async () => 'ran')).toBe('ran');
    expect(
      await withFault(
        'ChargePayment',
        { RefundPayment: 'fail' },
        { ...ctx, enabled: true },
        async () => 'ran',
      ),
    ).toBe('ran');
  });

  it('duplicate runs twice and returns the second result', async () => {
    let runs = 0;
    const op = async () => ++runs;
    expect(
      await withFault('BookDelivery', { BookDelivery: 'duplicate' }, { enabled: true, retryCount: 0 }, op),
    ).toBe(2);
    expect(runs).toBe(2);
  });

  it('crash-after-commit commits then throws on the first attempt only; the retry meets the commit', async () => {
    // Prepare: an idempotent compensation (the second run is a no-op, like the step engine's COMPENSATED key).
    let balance = 0;
    let compensated = false;
    const refund = async () => {
      if (!compensated) {
        balance += 40;
        compensated = true;
      }
      return { compensated: true };
    };
    const plan = { RefundPayment: 'crash-after-commit' } as const;

    // Act: the first attempt, then the Retry (States.ALL) with RetryCount 1.
    const first = withFault('RefundPayment', plan, { enabled: true, retryCount: 0 }, refund);
    await expect(first).rejects.toMatchObject({ name: 'CrashAfterCommit' });
    const balanceAfterCrash = balance;
    const retried = await withFault('RefundPayment', plan, { enabled: true, retryCount: 1 }, refund);

    // Assess: the crash happened after the commit, and the retry succeeded without applying it twice.
    expect(balanceAfterCrash).toBe(40);
    expect(retried).toEqual({ compensated: true });
    expect(balance).toBe(40);
  });

  it('fail throws on every attempt without running the operation', async () => {
    let runs = 0;
    const op = async () => ++runs;
    for (const retryCount of [0, 1, 2]) {
      await expect(
        withFault('ChargePayment', { ChargePayment: 'fail' }, { enabled: true, retryCount }, op),
      ).rejects.toMatchObject({ name: 'InjectedFailure' });
    }
    expect(runs).toBe(0);
  });

  it('transient:N throws TransientError on the first N attempts, then runs', async () => {
    let runs = 0;
    const op = async () => ++runs;
    const plan = { ReserveStock: 'transient:2' } as const;
    for (const retryCount of [0, 1]) {
      await expect(withFault('ReserveStock', plan, { enabled: true, retryCount }, op)).rejects.toMatchObject({
        name: 'TransientError',
      });
    }
    expect(await withFault('ReserveStock', plan, { enabled: true, retryCount: 2 }, op)).toBe(1);
    expect(runs).toBe(1);
  });

  it('timeout outlives the remaining time on every attempt without running the operation', async () => {
    let runs = 0;
    const op = async () => ++runs;
    for (const retryCount of [0, 1]) {
      await expect(
        withFault(
          'BookDelivery',
          { BookDelivery: 'timeout' },
          { enabled: true, retryCount, remainingTimeMs: () => -990 },
          op,
        ),
      ).rejects.toMatchObject({ name: 'Sandbox.Timedout' });
    }
    expect(runs).toBe(0);
  });
});

describe('step event', () => {
  it('accepts the state machine payload and defaults retryCount', () => {
    const event = parseStepEvent({
      saga: {
        orderId: 'o',
        customerId: 'c',
        items: [{ sku: 's', quantity: 1 }],
        deliverySlot: 'd',
        extra: true,
      },
      context: { executionArn: 'arn' },
    });
    expect(event.context.retryCount).toBe(0);
    expect(event.saga).toMatchObject({ orderId: 'o', extra: true });
  });

  it('rejects a malformed payload with InvalidSagaInput naming each field', () => {
    expect(() =>
      parseStepEvent({ saga: { orderId: '', items: [{ sku: 's', quantity: 0 }] }, context: {} }),
    ).toThrow(
      expect.objectContaining({
        name: 'InvalidSagaInput',
        message: expect.stringMatching(
          /saga\.orderId.*saga\.customerId.*saga\.items\.0\.quantity.*context\.executionArn/s,
        ),
      }),
    );
  });
});
