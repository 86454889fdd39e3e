/** Shared fixtures for the Lambda tests: realistic StepEvents, handler loading with a given env. */
import type { Context } from 'aws-lambda';
import { vi } from 'vitest';
import type { OrderSagaState, StepEvent } from '../../lib/contract';
import type { LocalTables } from './dynamodb-local';

export function executionArnOf(orderId: string): string {
  return `arn:aws:states:us-east-1:123456789012:execution:OrderSagaStateMachine:${orderId}`;
}

export function sagaInput(orderId: string, overrides: Partial<OrderSagaState> = {}): OrderSagaState {
  return {
    orderId,
    customerId: 'customer-1',
    items: [{ sku: 'SKU-1', quantity: 2 }],
    deliverySlot: '2026-12-01T10',
    ...overrides,
  };
}

/** The event the state machine's Parameters build for a Lambda Task. */
export function stepEvent(saga: OrderSagaState, retryCount = 0): StepEvent {
  return { saga, context: { executionArn: executionArnOf(saga.orderId), retryCount } };
}

/** A Lambda context with `remainingMs` left before the (simulated) timeout. */
export function lambdaContext(remainingMs = 30_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test-function',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test-function',
    memoryLimitInMB: '256',
    awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
    logGroupName: '/aws/lambda/test-function',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export type Handler = (event: unknown, context?: Context) => Promise<unknown>;

/**
 * Imports a handler module fresh (its env is read once per module) with the table env vars of `local`,
 * `AWS_ENDPOINT_URL` pointing at DynamoDB Local, and `STEPSAGA_FAULTS` as given.
 */
export async function loadHandler(
  entry: string,
  local: Pick<LocalTables, 'endpoint' | 'env'>,
  env: Record<string, string | undefined> = {},
): Promise<Handler> {
  vi.resetModules();
  vi.stubEnv('AWS_ENDPOINT_URL', local.endpoint);
  for (const [name, value] of Object.entries({ ...local.env, STEPSAGA_FAULTS: 'off', ...env })) {
    vi.stubEnv(name, value);
  }
  const module = (await import(`../../lambdas/handlers/${entry}.ts`)) as { handler: Handler };
  return module.handler;
}

/** Runs `fn` and returns what it threw (fails if it did not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw, it returned');
}
