import { describe, expect, it } from 'vitest';
import { tableNamesFromEnv } from '../../lambdas/shared/config';
import * as orderErrors from '../../lambdas/shared/errors';
import { parseStepEvent } from '../../lambdas/shared/step-event';
import { BUSINESS_ERRORS, TABLES } from '../../lib/contract';
import * as toolkitErrors from '../../toolkit/runtime/errors';

describe('errors', () => {
  it('has one class per contract business error, named exactly as the contract (with an Error suffix)', () => {
    // The order's business errors and the toolkit's (the step engine's refusal, injected faults, bad input).
    const classes = Object.entries({ ...orderErrors, ...toolkitErrors }).filter(
      ([, value]) => typeof value === 'function' && value.prototype instanceof toolkitErrors.SagaError,
    ) as [string, new (...args: never[]) => Error][];
    const names = classes.map(
      ([className, Class]) =>
        [className, new (Class as unknown as new (...a: unknown[]) => Error)('x', 'y', 1).name] as const,
    );
    for (const [className, name] of names) expect(className).toBe(`${name}Error`);
    expect(names.map(([, name]) => name).sort()).toEqual([...BUSINESS_ERRORS].sort());
  });

  it('keeps the name through rethrow and JSON (what the Lambda runtime reports as errorType)', () => {
    const error = new orderErrors.InsufficientFundsError('customer-2', 450000, 1000);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('InsufficientFunds');
    expect(error.message).toBe('Customer customer-2 cannot pay 450000: balance is 1000');
    expect(new toolkitErrors.TransientError('throttled').name).toBe('TransientError');
  });
});

describe('config', () => {
  it('names every missing table variable', () => {
    expect(() => tableNamesFromEnv(['Orders', 'IdempotencyKeys'], {})).toThrow(
      new toolkitErrors.ConfigurationError(
        `Environment variable(s) not set: ${TABLES.Orders.env}, ${TABLES.IdempotencyKeys.env}`,
      ),
    );
    expect(tableNamesFromEnv(['Orders'], { ORDERS_TABLE_NAME: 'orders-table' })).toEqual({
      Orders: 'orders-table',
    });
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
