import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiDeps, handleApiRequest, type StepFunctionsPort } from '../../lambdas/domain/api';
import { recordFailure } from '../../lambdas/domain/order';
import type { OrderRecord, OrderSagaInput, OrderStatus } from '../../lib/contract';
import { createTables, getItem, type LocalTables, newOrderId, putItem } from '../support/dynamodb-local';
import history from '../support/fixtures/history-insufficient-funds.json';
import { loadHandler, sagaInput } from '../support/handlers';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:OrderSagaStateMachine';

/** An in-memory Step Functions with Standard-workflow name idempotency. */
class FakeStepFunctions implements StepFunctionsPort {
  readonly executions = new Map<
    string,
    { executionArn: string; input: string; status: string; error?: string }
  >();
  starts = 0;
  historyEvents: HistoryEvent[] = [];
  historyPageSize = 10;
  failWith: Error | undefined;

  async startExecution(input: { stateMachineArn: string; name: string; input: string }) {
    this.starts++;
    if (this.failWith) throw this.failWith;
    const existing = this.executions.get(input.name);
    if (existing && existing.input === input.input && existing.status === 'RUNNING') return existing;
    if (existing)
      throw Object.assign(new Error(`Execution ${input.name} already exists`), {
        name: 'ExecutionAlreadyExists',
      });
    const execution = {
      executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`,
      input: input.input,
      status: 'RUNNING',
    };
    this.executions.set(input.name, execution);
    return execution;
  }

  async describeExecution(executionArn: string) {
    const found = [...this.executions.values()].find((e) => e.executionArn === executionArn);
    if (!found) throw Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' });
    return found;
  }

  /** Every StopExecution/RedriveExecution/SendTask* call, in order. */
  readonly calls: string[] = [];

  async stopExecution(input: { executionArn: string }) {
    this.calls.push(`stop ${input.executionArn}`);
  }

  async redriveExecution(executionArn: string) {
    this.calls.push(`redrive ${executionArn}`);
  }

  async sendTaskSuccess(input: { taskToken: string; output: string }) {
    this.calls.push(`success ${input.taskToken} ${input.output}`);
  }

  async sendTaskFailure(input: { taskToken: string; error: string }) {
    this.calls.push(`failure ${input.taskToken} ${input.error}`);
  }

  async getExecutionHistory(input: {
    executionArn: string;
    nextToken?: string;
    reverseOrder?: boolean;
    maxResults?: number;
  }) {
    const events = input.reverseOrder ? [...this.historyEvents].reverse() : this.historyEvents;
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const end = start + Math.min(this.historyPageSize, input.maxResults ?? this.historyPageSize);
    return {
      events: events.slice(start, end),
      ...(end < events.length ? { nextToken: String(end) } : {}),
    };
  }
}

let local: LocalTables;

function newDeps(overrides: Partial<ApiDeps> = {}): ApiDeps & { sfn: FakeStepFunctions } {
  return {
    doc: local.doc,
    tables: local.tables,
    sfn: new FakeStepFunctions(),
    stateMachineArn: STATE_MACHINE_ARN,
    faultsEnabled: false,
    ...overrides,
  } as ApiDeps & { sfn: FakeStepFunctions };
}

function apiEvent(
  method: string,
  path: string,
  options: {
    body?: string | null;
    headers?: Record<string, string>;
    pathParameters?: Record<string, string>;
  } = {},
): APIGatewayProxyEvent {
  const action = /\/(history|cancel|resume|review)$/.exec(path)?.[1];
  const resource = action
    ? `/orders/{orderId}/${action}`
    : path === '/orders'
      ? '/orders'
      : '/orders/{orderId}';
  return {
    resource,
    path,
    httpMethod: method,
    headers: { 'Content-Type': 'application/json', ...options.headers },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    body: options.body ?? null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      httpMethod: method,
      identity: {} as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestId: `req-${newOrderId('r')}`,
      requestTimeEpoch: Date.now(),
      resourceId: 'res',
      resourcePath: resource,
      stage: 'prod',
    },
  };
}

const validOrder = (overrides: Record<string, unknown> = {}) => ({
  customerId: 'customer-1',
  items: [{ sku: 'SKU-1', quantity: 2 }],
  deliverySlot: '2026-12-01T10',
  ...overrides,
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  apiEvent('POST', '/orders', { body: typeof body === 'string' ? body : JSON.stringify(body), headers });
const get = (orderId: string, suffix = '') =>
  apiEvent('GET', `/orders/${orderId}${suffix}`, { pathParameters: { orderId } });
const parse = (body: string) =>
  JSON.parse(body) as Record<string, unknown> & {
    errors?: { field: string; message: string }[];
  };
const orderOf = (orderId: string) => getItem<OrderRecord>(local, 'Orders', { orderId });

beforeAll(async () => {
  local = await createTables();
});

describe('POST /orders', () => {
  it('accepts a valid order: 202, PENDING item with requestHash and executionArn, execution started', async () => {
    // Prepare
    const deps = newDeps();
    const orderId = newOrderId();
    // Act
    const response = await handleApiRequest(post(validOrder({ orderId, promoCode: 'WELCOME10' })), deps);
    // Assess
    expect(response.statusCode).toBe(202);
    const body = parse(response.body);
    expect(body).toEqual({
      orderId,
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:OrderSagaStateMachine:${orderId}`,
      status: 'PENDING',
      links: { self: `/orders/${orderId}`, history: `/orders/${orderId}/history` },
    });
    expect(await orderOf(orderId)).toMatchObject({
      status: 'PENDING',
      customerId: 'customer-1',
      promoCode: 'WELCOME10',
      executionArn: body.executionArn,
      requestHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const input = JSON.parse(deps.sfn.executions.get(orderId)?.input ?? '{}') as OrderSagaInput;
    expect(input).toEqual({ ...validOrder(), orderId, promoCode: 'WELCOME10' });
  });

  const badBodies: [string, unknown, string[]][] = [
    ['empty object', {}, ['customerId', 'items', 'deliverySlot']],
    ['no items', validOrder({ items: [] }), ['items']],
    [
      '51 items',
      validOrder({ items: Array.from({ length: 51 }, (_, i) => ({ sku: `S${i}`, quantity: 1 })) }),
      ['items'],
    ],
    ['quantity 0', validOrder({ items: [{ sku: 'SKU-1', quantity: 0 }] }), ['items[0].quantity']],
    ['fractional quantity', validOrder({ items: [{ sku: 'SKU-1', quantity: 1.5 }] }), ['items[0].quantity']],
    ['quantity 1001', validOrder({ items: [{ sku: 'SKU-1', quantity: 1001 }] }), ['items[0].quantity']],
    ['quantity as a string', validOrder({ items: [{ sku: 'SKU-1', quantity: '2' }] }), ['items[0].quantity']],
    [
      'duplicate SKUs',
      validOrder({
        items: [
          { sku: 'SKU-1', quantity: 1 },
          { sku: 'SKU-1', quantity: 2 },
        ],
      }),
      ['items[1].sku'],
    ],
    ['unknown top-level field', validOrder({ colour: 'red' }), ['colour']],
    [
      'unknown item field',
      validOrder({ items: [{ sku: 'SKU-1', quantity: 1, gift: true }] }),
      ['items[0].gift'],
    ],
    ['bad orderId', validOrder({ orderId: 'no spaces allowed!' }), ['orderId']],
    ['orderId too long', validOrder({ orderId: 'x'.repeat(65) }), ['orderId']],
    ['customerId not a string', validOrder({ customerId: 42 }), ['customerId']],
    ['empty promoCode', validOrder({ promoCode: '' }), ['promoCode']],
    ['faults while disabled', validOrder({ faults: { ChargePayment: 'fail' } }), ['faults']],
    [
      'several problems at once',
      { customerId: '', items: 'SKU-1', extra: 1 },
      ['customerId', 'items', 'deliverySlot', 'extra'],
    ],
  ];

  it.each(badBodies)(
    'rejects %s with 400 naming each bad field, writing nothing',
    async (_label, body, fields) => {
      const deps = newDeps();
      const orderId = newOrderId('bad');
      const withId = typeof body === 'object' && body !== null && !('orderId' in body) ? { ...body } : body;
      const response = await handleApiRequest(post(withId, { 'Idempotency-Key': orderId }), deps);
      expect(response.statusCode).toBe(400);
      const payload = parse(response.body);
      expect(payload.message).toEqual(expect.stringContaining('Invalid order'));
      expect(new Set(payload.errors?.map((e) => e.field))).toEqual(new Set(fields));
      expect(payload.errors?.every((e) => e.message.length > 0)).toBe(true);
      expect(await orderOf(orderId)).toBeUndefined();
      expect(deps.sfn.starts).toBe(0);
    },
  );

  it.each([
    ['invalid JSON', '{"customerId": ', 400, 'not valid JSON'],
    ['an array', '[1,2]', 400, 'must be a JSON object'],
    ['a string', '"order"', 400, 'must be a JSON object'],
    ['an empty body', '', 400, 'body is required'],
    [
      'a body over 64 KB',
      JSON.stringify(validOrder({ promoCode: 'x'.repeat(70_000) })),
      413,
      'limit is 65536',
    ],
  ])('answers %s with %i and a clear message', async (_label, body, status, message) => {
    const deps = newDeps();
    const response = await handleApiRequest(post(body), deps);
    expect(response.statusCode).toBe(status);
    expect(String(parse(response.body).message)).toContain(message);
    expect(deps.sfn.starts).toBe(0);
  });

  it('accepts a valid fault plan when faults are enabled, and names bad operations and modes', async () => {
    const deps = newDeps({ faultsEnabled: true });
    const orderId = newOrderId();
    const plan = { ChargePayment: 'transient:2', RefundPayment: 'fail' };
    const ok = await handleApiRequest(post(validOrder({ orderId, faults: plan })), deps);
    const bad = await handleApiRequest(
      post(validOrder({ faults: { Bogus: 'fail', ChargePayment: 'sometimes' } })),
      deps,
    );
    expect(ok.statusCode).toBe(202);
    expect(JSON.parse(deps.sfn.executions.get(orderId)?.input ?? '{}')).toMatchObject({ faults: plan });
    expect(bad.statusCode).toBe(400);
    expect(
      parse(bad.body)
        .errors?.map((e) => e.field)
        .sort(),
    ).toEqual(['faults.Bogus', 'faults.ChargePayment']);
  });
});

describe('POST /orders idempotency', () => {
  it('the same body again returns the same order and execution', async () => {
    const deps = newDeps();
    const orderId = newOrderId();
    const first = await handleApiRequest(post(validOrder({ orderId })), deps);
    const reordered = {
      deliverySlot: '2026-12-01T10',
      orderId,
      items: [{ quantity: 2, sku: 'SKU-1' }],
      customerId: 'customer-1',
    };
    const second = await handleApiRequest(post(reordered), deps);
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    expect(parse(second.body)).toEqual(parse(first.body));
    expect(deps.sfn.executions.size).toBe(1);
  });

  it('the same order with its fields and fault plan in another order is the same request', async () => {
    const deps = newDeps({ faultsEnabled: true });
    const orderId = newOrderId();
    const first = {
      orderId,
      ...validOrder(),
      faults: { ChargePayment: 'fail', RefundPayment: 'transient:1' },
    };
    const second = {
      faults: { RefundPayment: 'transient:1', ChargePayment: 'fail' },
      ...validOrder(),
      orderId,
    };
    const a = await handleApiRequest(post(first), deps);
    deps.sfn.executions.forEach((e) => {
      e.status = 'SUCCEEDED';
    });
    const b = await handleApiRequest(post(second), deps);
    expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
    expect(parse(b.body).executionArn).toBe(parse(a.body).executionArn);
  });

  it('a different body under the same orderId is a 409, and the order is unchanged', async () => {
    const deps = newDeps();
    const orderId = newOrderId();
    await handleApiRequest(post(validOrder({ orderId })), deps);
    const before = await orderOf(orderId);
    const conflict = await handleApiRequest(
      post(validOrder({ orderId, items: [{ sku: 'SKU-1', quantity: 3 }] })),
      deps,
    );
    expect(conflict.statusCode).toBe(409);
    expect(parse(conflict.body).message).toContain('different request body');
    expect(await orderOf(orderId)).toEqual(before);
  });

  it('takes the orderId from the Idempotency-Key header; body and header must agree', async () => {
    const deps = newDeps();
    const key = newOrderId('key');
    const viaHeader = await handleApiRequest(post(validOrder(), { 'idempotency-key': key }), deps);
    const same = await handleApiRequest(post(validOrder({ orderId: key }), { 'Idempotency-Key': key }), deps);
    const different = await handleApiRequest(
      post(validOrder({ orderId: 'other' }), { 'Idempotency-Key': key }),
      deps,
    );
    expect(parse(viaHeader.body).orderId).toBe(key);
    expect(parse(same.body).orderId).toBe(key);
    expect(different.statusCode).toBe(400);
    expect(parse(different.body).errors).toEqual([expect.objectContaining({ field: 'orderId' })]);
  });

  it('without orderId or header, assigns a fresh UUID per request', async () => {
    const deps = newDeps();
    const a = parse((await handleApiRequest(post(validOrder()), deps)).body).orderId;
    const b = parse((await handleApiRequest(post(validOrder()), deps)).body).orderId;
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(b).not.toBe(a);
  });

  it('recovers an order stored before its execution was recorded (ExecutionAlreadyExists → DescribeExecution)', async () => {
    const deps = newDeps();
    const orderId = newOrderId();
    await handleApiRequest(post(validOrder({ orderId })), deps);
    const execution = deps.sfn.executions.get(orderId);
    if (execution) execution.status = 'SUCCEEDED';
    const stored = await orderOf(orderId);
    await putItem(local, 'Orders', { ...stored, executionArn: undefined });
    const retried = await handleApiRequest(post(validOrder({ orderId })), deps);
    expect(retried.statusCode).toBe(202);
    expect(parse(retried.body).executionArn).toBe(execution?.executionArn);
    expect((await orderOf(orderId))?.executionArn).toBe(execution?.executionArn);
  });

  it('an unexpected failure is a 500 with a request id; the same POST later starts the saga', async () => {
    const errors: unknown[] = [];
    const deps = newDeps({ onUnexpectedError: (error) => errors.push(error) });
    deps.sfn.failWith = new Error('Step Functions is down');
    const orderId = newOrderId();
    const event = post(validOrder({ orderId }));
    const failed = await handleApiRequest(event, deps);
    deps.sfn.failWith = undefined;
    const retried = await handleApiRequest(post(validOrder({ orderId })), deps);
    expect(failed.statusCode).toBe(500);
    expect(parse(failed.body).requestId).toBe(event.requestContext.requestId);
    expect(errors).toHaveLength(1);
    expect(retried.statusCode).toBe(202);
    expect((await orderOf(orderId))?.executionArn).toBeDefined();
  });
});

describe('GET /orders/{orderId}', () => {
  it('returns the read model with the saga steps from IdempotencyKeys', async () => {
    const deps = newDeps();
    const orderId = newOrderId();
    await handleApiRequest(post(validOrder({ orderId })), deps);
    await putItem(local, 'IdempotencyKeys', { orderId, step: 'ChargePayment', state: 'TOMBSTONE' });
    await putItem(local, 'IdempotencyKeys', { orderId, step: 'ReserveStock', state: 'COMPENSATED' });
    await putItem(local, 'Orders', {
      ...(await orderOf(orderId)),
      status: 'NEEDS_ATTENTION',
      failedStep: 'ChargePayment',
      reason: 'InsufficientFunds: balance is 1000',
      failedCompensations: new Set(['ReleaseStock']),
    });
    const response = await handleApiRequest(get(orderId), deps);
    expect(response.statusCode).toBe(200);
    expect(parse(response.body)).toMatchObject({
      orderId,
      status: 'NEEDS_ATTENTION',
      customerId: 'customer-1',
      items: [{ sku: 'SKU-1', quantity: 2 }],
      deliverySlot: '2026-12-01T10',
      steps: [
        { step: 'ReserveStock', state: 'COMPENSATED' },
        { step: 'ChargePayment', state: 'TOMBSTONE' },
      ],
      failedStep: 'ChargePayment',
      reason: 'InsufficientFunds: balance is 1000',
      failedCompensations: ['ReleaseStock'],
    });
  });

  it('404 for an unknown order, 400 for a malformed id', async () => {
    const deps = newDeps();
    const missing = await handleApiRequest(get('no-such-order'), deps);
    const malformed = await handleApiRequest(get('bad id!'), deps);
    expect(missing.statusCode).toBe(404);
    expect(parse(missing.body)).toEqual({ message: 'Order no-such-order not found' });
    expect(malformed.statusCode).toBe(400);
    expect(parse(malformed.body).errors).toEqual([expect.objectContaining({ field: 'orderId' })]);
  });

  it('answers other methods with 405 and unknown paths with 404', async () => {
    const deps = newDeps();
    expect(
      (await handleApiRequest(apiEvent('DELETE', '/orders/x', { pathParameters: { orderId: 'x' } }), deps))
        .statusCode,
    ).toBe(405);
    expect(
      (await handleApiRequest({ ...apiEvent('GET', '/things'), resource: '/things' }, deps)).statusCode,
    ).toBe(404);
  });
});

describe('GET /orders/{orderId}/history', () => {
  it('maps the execution history (all pages) to a step timeline', async () => {
    const deps = newDeps();
    deps.sfn.historyEvents = history.events as unknown as HistoryEvent[];
    const orderId = newOrderId();
    await handleApiRequest(post(validOrder({ orderId })), deps);
    const response = await handleApiRequest(get(orderId, '/history'), deps);
    expect(response.statusCode).toBe(200);
    const body = parse(response.body) as { status: string; error: string; steps: Record<string, unknown>[] };
    expect(body.status).toBe('FAILED');
    expect(body.error).toBe('OrderFailed');
    expect(body.steps.map((s) => [s.name, s.kind, s.status, s.attempts])).toEqual([
      ['HasPromoCode', 'control', 'succeeded', 0],
      ['ReservePromo', 'action', 'succeeded', 1],
      ['ReserveStock', 'action', 'succeeded', 2],
      ['ChargePayment', 'action', 'caught', 1],
      ['ChargePaymentFailed', 'control', 'succeeded', 0],
      ['RefundPayment', 'compensation', 'succeeded', 1],
      ['ReleaseStock', 'compensation', 'succeeded', 1],
      ['HasPromoToRelease', 'control', 'succeeded', 0],
      ['ReleasePromo', 'compensation', 'succeeded', 1],
      ['RecordFailure', 'control', 'succeeded', 1],
      ['AllCompensated', 'control', 'succeeded', 0],
      ['OrderFailed', 'control', 'failed', 0],
    ]);
    const charge = body.steps[3];
    expect(charge).toMatchObject({
      error: 'InsufficientFunds',
      startedAt: expect.any(String),
      endedAt: expect.any(String),
    });
    expect(JSON.parse(String(charge?.cause)).errorMessage).toContain('balance is 1000');
  });

  it('404 when the order or its execution does not exist', async () => {
    const deps = newDeps();
    const orderId = newOrderId();
    await handleApiRequest(post(validOrder({ orderId })), deps);
    deps.sfn.getExecutionHistory = async () => {
      throw Object.assign(new Error('gone'), { name: 'ExecutionDoesNotExist' });
    };
    const gone = await handleApiRequest(get(orderId, '/history'), deps);
    const unknown = await handleApiRequest(get('never-ordered', '/history'), deps);
    expect(gone.statusCode).toBe(404);
    expect(parse(gone.body).message).toContain(`of order ${orderId} not found`);
    expect(unknown.statusCode).toBe(404);
    expect(parse(unknown.body)).toEqual({ message: 'Order never-ordered not found' });
  });

  it('on an Express workflow (no GetExecutionHistory) answers 404 naming why, never 500', async () => {
    // Express execution ARNs are arn:aws:states:<region>:<account>:express:<state machine>:<name>:<id>.
    const deps = newDeps({
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:SagaStateMachine-AbC123',
    });
    deps.sfn.startExecution = async (input) => ({
      executionArn: `arn:aws:states:eu-west-1:123456789012:express:SagaStateMachine-AbC123:${input.name}:0f1e2d3c`,
      input: input.input,
      status: 'RUNNING',
    });
    deps.sfn.getExecutionHistory = async () => {
      throw Object.assign(new Error('Express executions have no history'), { name: 'InvalidArn' });
    };
    const orderId = newOrderId();
    expect((await handleApiRequest(post(validOrder({ orderId })), deps)).statusCode).toBe(202);

    const response = await handleApiRequest(get(orderId, '/history'), deps);

    expect(response.statusCode).toBe(404);
    const body = parse(response.body);
    expect(body.code).toBe('ExpressHistoryUnavailable');
    expect(body.message).toContain('Express workflow');
    expect(body.message).toContain('log group');
    expect((await handleApiRequest(get(orderId), deps)).statusCode).toBe(200);
  });

  it('an order whose execution is waiting for a retry shows the step as retried', async () => {
    const deps = newDeps();
    deps.sfn.historyEvents = (history.events as unknown as HistoryEvent[]).slice(0, 12);
    const orderId = newOrderId();
    await handleApiRequest(post(validOrder({ orderId })), deps);
    const body = parse((await handleApiRequest(get(orderId, '/history'), deps)).body) as {
      status: string;
      steps: Record<string, unknown>[];
    };
    expect(body.status).toBe('RUNNING');
    expect(body.steps.at(-1)).toMatchObject({
      name: 'ReserveStock',
      status: 'retried',
      attempts: 1,
      error: 'TransientError',
    });
  });
});

describe('Api handler', () => {
  it('serves GET through the exported handler with the contract env', async () => {
    const handler = await loadHandler('api', local, { STATE_MACHINE_ARN: STATE_MACHINE_ARN });
    const response = (await handler(get('never-created'))) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toEqual({ message: 'Order never-created not found' });
  });

  it('answers 500 with a request id when the function is misconfigured', async () => {
    const handler = await loadHandler('api', local, { STATE_MACHINE_ARN: '' });
    const response = (await handler(get('x'))) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body).requestId).toMatch(/^req-/);
  });
});

const act = (orderId: string, action: 'cancel' | 'resume' | 'review', body?: unknown) =>
  apiEvent('POST', `/orders/${orderId}/${action}`, {
    pathParameters: { orderId },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
const arnOf = (orderId: string) => `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${orderId}`;

/** An order placed through the API (its execution RUNNING in the fake), then put in `status`. */
async function placed(
  deps: ApiDeps,
  status: OrderStatus = 'PENDING',
  extra: Partial<Record<keyof OrderRecord, unknown>> = {},
) {
  const orderId = newOrderId();
  expect((await handleApiRequest(post(validOrder({ orderId })), deps)).statusCode).toBe(202);
  await putItem(local, 'Orders', { ...(await orderOf(orderId)), status, ...extra });
  return orderId;
}

const linksOf = async (deps: ApiDeps, orderId: string) =>
  Object.keys(parse((await handleApiRequest(get(orderId), deps)).body).links as object).sort();

describe('POST /orders/{orderId}/cancel', () => {
  it('PENDING: 202 CANCELLING (CustomerCancelled), and the running execution is stopped and redriven at once', async () => {
    const deps = newDeps();
    const orderId = await placed(deps);
    expect(await linksOf(deps, orderId)).toEqual(['cancel', 'history', 'self']);

    const response = await handleApiRequest(act(orderId, 'cancel'), deps);

    expect(response.statusCode).toBe(202);
    expect(parse(response.body)).toEqual({
      orderId,
      status: 'CANCELLING',
      reason: 'CustomerCancelled',
      links: { self: `/orders/${orderId}`, history: `/orders/${orderId}/history` },
    });
    expect(await orderOf(orderId)).toMatchObject({ status: 'CANCELLING', cancelReason: 'CustomerCancelled' });
    expect(deps.sfn.calls).toEqual([`stop ${arnOf(orderId)}`, `redrive ${arnOf(orderId)}`]);
    expect(await linksOf(deps, orderId)).toEqual(['history', 'self']);
  });

  it('AWAITING_REVIEW: 202, and the review wait is failed with OrderCancelled (no stop)', async () => {
    const deps = newDeps();
    const orderId = await placed(deps, 'AWAITING_REVIEW', { taskToken: 'token-1' });
    const response = await handleApiRequest(act(orderId, 'cancel'), deps);
    expect(response.statusCode).toBe(202);
    expect(await orderOf(orderId)).toMatchObject({ status: 'CANCELLING', cancelReason: 'CustomerCancelled' });
    expect(deps.sfn.calls).toEqual(['failure token-1 OrderCancelled']);
  });

  it('the decision stands when the execution is already over (the wait timed out meanwhile)', async () => {
    const deps = newDeps();
    const orderId = await placed(deps, 'AWAITING_REVIEW', { taskToken: 'token-1' });
    deps.sfn.sendTaskFailure = async () => {
      throw Object.assign(new Error('Task timed out'), { name: 'TaskTimedOut' });
    };
    expect((await handleApiRequest(act(orderId, 'cancel'), deps)).statusCode).toBe(202);
    expect((await orderOf(orderId))?.status).toBe('CANCELLING');
  });

  it('a repeated cancel gets the same answer and wakes nothing again, also once the order is CANCELLED', async () => {
    const deps = newDeps();
    const orderId = await placed(deps);
    const first = await handleApiRequest(act(orderId, 'cancel'), deps);
    const second = await handleApiRequest(act(orderId, 'cancel'), deps);
    await putItem(local, 'Orders', {
      ...(await orderOf(orderId)),
      status: 'CANCELLED',
      reason: 'CustomerCancelled',
    });
    const third = await handleApiRequest(act(orderId, 'cancel'), deps);
    expect([first, second, third].map((r) => r.statusCode)).toEqual([202, 202, 202]);
    expect(parse(second.body)).toEqual(parse(first.body));
    expect(parse(third.body)).toEqual(parse(first.body));
    expect(deps.sfn.calls).toHaveLength(2);
  });

  it('CONFIRMED: 409 AlreadyConfirmed, the order stays confirmed and the saga is left alone', async () => {
    const deps = newDeps();
    const orderId = await placed(deps, 'CONFIRMED', { total: 3000 });
    const response = await handleApiRequest(act(orderId, 'cancel'), deps);
    expect(response.statusCode).toBe(409);
    expect(parse(response.body)).toMatchObject({ code: 'AlreadyConfirmed' });
    expect(parse(response.body).message).toContain('already CONFIRMED');
    expect(await orderOf(orderId)).toMatchObject({ status: 'CONFIRMED', total: 3000 });
    expect(deps.sfn.calls).toEqual([]);
  });

  it('an order cancelled for another reason (its step failed, a reviewer rejected it): 409 NotCancellable', async () => {
    const deps = newDeps();
    const failed = await placed(deps, 'CANCELLED', { reason: 'InsufficientFunds: balance is 1000' });
    const rejected = await placed(deps, 'CANCELLING', { cancelReason: 'ReviewRejected' });
    for (const orderId of [failed, rejected]) {
      const response = await handleApiRequest(act(orderId, 'cancel'), deps);
      expect(response.statusCode).toBe(409);
      expect(parse(response.body).code).toBe('NotCancellable');
    }
    expect(parse((await handleApiRequest(act(failed, 'cancel'), deps)).body).message).toContain(
      'InsufficientFunds',
    );
  });

  it('404 for an unknown order (nothing written), 400 for a malformed id, 405 for GET', async () => {
    const deps = newDeps();
    const unknown = await handleApiRequest(act('never-ordered', 'cancel'), deps);
    expect(unknown.statusCode).toBe(404);
    expect(parse(unknown.body)).toEqual({ message: 'Order never-ordered not found' });
    expect(await orderOf('never-ordered')).toBeUndefined();
    expect((await handleApiRequest(act('bad id!', 'cancel'), deps)).statusCode).toBe(400);
    const viaGet = apiEvent('GET', '/orders/x/cancel', { pathParameters: { orderId: 'x' } });
    expect((await handleApiRequest(viaGet, deps)).statusCode).toBe(405);
  });
});

describe('POST /orders/{orderId}/review', () => {
  it('approve: 202 PENDING, the wait completes with the decision, the token is gone', async () => {
    const deps = newDeps();
    const orderId = await placed(deps, 'AWAITING_REVIEW', { taskToken: 'token-1', total: 150000 });
    expect(await linksOf(deps, orderId)).toEqual(['cancel', 'history', 'review', 'self']);

    const response = await handleApiRequest(
      act(orderId, 'review', { decision: 'approve', note: 'ok' }),
      deps,
    );

    expect(response.statusCode).toBe(202);
    expect(parse(response.body)).toMatchObject({ orderId, status: 'PENDING', decision: 'approve' });
    expect(deps.sfn.calls).toEqual(['success token-1 {"decision":"approve","note":"ok"}']);
    const order = await orderOf(orderId);
    expect(order).toMatchObject({ status: 'PENDING', reviewDecision: 'approve', reviewNote: 'ok' });
    expect(order?.taskToken).toBeUndefined();
    expect(parse((await handleApiRequest(get(orderId), deps)).body).review).toEqual({
      decision: 'approve',
      note: 'ok',
    });
  });

  it('reject: 202 CANCELLING (ReviewRejected), the wait fails with ReviewRejected', async () => {
    const deps = newDeps();
    const orderId = await placed(deps, 'AWAITING_REVIEW', { taskToken: 'token-1' });
    const response = await handleApiRequest(act(orderId, 'review', { decision: 'reject' }), deps);
    expect(response.statusCode).toBe(202);
    expect(parse(response.body)).toMatchObject({
      status: 'CANCELLING',
      decision: 'reject',
      reason: 'ReviewRejected',
    });
    expect(deps.sfn.calls).toEqual(['failure token-1 ReviewRejected']);
    expect(await orderOf(orderId)).toMatchObject({
      status: 'CANCELLING',
      cancelReason: 'ReviewRejected',
      reviewDecision: 'reject',
    });
  });

  it('a second decision is a 409 naming the first one, and reaches no task', async () => {
    const deps = newDeps();
    const orderId = await placed(deps, 'AWAITING_REVIEW', { taskToken: 'token-1' });
    await handleApiRequest(act(orderId, 'review', { decision: 'approve' }), deps);
    const second = await handleApiRequest(act(orderId, 'review', { decision: 'reject' }), deps);
    expect(second.statusCode).toBe(409);
    expect(parse(second.body)).toMatchObject({ code: 'NotAwaitingReview' });
    expect(parse(second.body).message).toContain('already reviewed (approve)');
    expect(deps.sfn.calls).toHaveLength(1);
    expect((await orderOf(orderId))?.status).toBe('PENDING');
  });

  it('an order with no review: 409 saying so; an unknown order: 404', async () => {
    const deps = newDeps();
    const orderId = await placed(deps);
    const response = await handleApiRequest(act(orderId, 'review', { decision: 'approve' }), deps);
    expect(response.statusCode).toBe(409);
    expect(parse(response.body).message).toContain('there is no review to decide');
    expect(
      (await handleApiRequest(act('never-ordered', 'review', { decision: 'approve' }), deps)).statusCode,
    ).toBe(404);
  });

  it('a bad decision is a 400 naming each field, deciding nothing', async () => {
    const deps = newDeps();
    const orderId = await placed(deps, 'AWAITING_REVIEW', { taskToken: 'token-1' });
    const response = await handleApiRequest(
      act(orderId, 'review', { decision: 'maybe', note: 42, urgent: true }),
      deps,
    );
    expect(response.statusCode).toBe(400);
    expect(parse(response.body).errors?.map((e) => e.field)).toEqual(['decision', 'note', 'urgent']);
    expect(await orderOf(orderId)).toMatchObject({ status: 'AWAITING_REVIEW', taskToken: 'token-1' });
    expect(deps.sfn.calls).toEqual([]);
  });

  it.each(['approve', 'reject'] as const)(
    'a late %s (the deadline passed before it) is a 409, and the order is still cancelled for ReviewTimedOut',
    async (decision) => {
      const deps = newDeps();
      const orderId = await placed(deps, 'AWAITING_REVIEW', { taskToken: 'token-1' });
      const timedOut = async () => {
        throw Object.assign(new Error('Task timed out'), { name: 'TaskTimedOut' });
      };
      deps.sfn.sendTaskSuccess = timedOut;
      deps.sfn.sendTaskFailure = timedOut;
      deps.sfn.historyEvents = reviewHistory({ type: 'TaskTimedOut' } as HistoryEvent);

      const late = await handleApiRequest(act(orderId, 'review', { decision }), deps);
      // The execution's unwind then records the outcome of the timed-out review Task.
      const saga = sagaInput(orderId, { failure: { step: 'RequestReview', error: 'States.Timeout' } });
      await recordFailure(saga, { doc: local.doc, tables: local.tables });

      expect(late.statusCode).toBe(409);
      expect(parse(late.body).code).toBe('ReviewDeadlinePassed');
      const order = await orderOf(orderId);
      expect(order).toMatchObject({ status: 'CANCELLED', reason: 'ReviewTimedOut' });
      expect(order?.reviewDecision).toBeUndefined();
    },
  );

  it('a review of an order the customer cancelled while it waited: 409 CancelledByCustomer, also once CANCELLED', async () => {
    const deps = newDeps();
    const orderId = await placed(deps, 'AWAITING_REVIEW', { taskToken: 'token-1', total: 150000 });
    expect((await handleApiRequest(act(orderId, 'cancel'), deps)).statusCode).toBe(202);

    const cancelling = await handleApiRequest(act(orderId, 'review', { decision: 'approve' }), deps);
    await putItem(local, 'Orders', {
      ...(await orderOf(orderId)),
      status: 'CANCELLED',
      reason: 'CustomerCancelled',
    });
    const cancelled = await handleApiRequest(act(orderId, 'review', { decision: 'approve' }), deps);

    for (const [response, status] of [
      [cancelling, 'CANCELLING'],
      [cancelled, 'CANCELLED'],
    ] as const) {
      expect(response.statusCode).toBe(409);
      expect(parse(response.body)).toMatchObject({ code: 'CancelledByCustomer' });
      expect(parse(response.body).message).toBe(
        `Order ${orderId} is ${status}: the customer cancelled it (CustomerCancelled), there is no review to decide`,
      );
    }
  });
});

/** An error that is not a "gone" answer: the connection dropped, the function died, the cloud was killed. */
const networkError = () => Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
const gone = () => Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' });

/** Every SendTaskSuccess/SendTaskFailure from now on throws `error()`. */
function tokenCallsThrow(sfn: FakeStepFunctions, error: () => Error) {
  const fail = async () => {
    throw error();
  };
  sfn.sendTaskSuccess = fail;
  sfn.sendTaskFailure = fail;
}

/**
 * A history that reached the review wait, newest last: the wait closed with `closing`, then `after` (the
 * saga carried on). The review's Task Lambda failed once and was retried (two attempts in one state).
 */
function reviewHistory(closing: HistoryEvent | undefined, after: HistoryEvent[] = []): HistoryEvent[] {
  const entered = (type: string, name: string) => ({ type, stateEnteredEventDetails: { name } });
  const events = [
    { type: 'ExecutionStarted' },
    entered('TaskStateEntered', 'ReserveStock'),
    { type: 'TaskScheduled' },
    { type: 'TaskSucceeded' },
    { type: 'TaskStateExited', stateExitedEventDetails: { name: 'ReserveStock' } },
    entered('ChoiceStateEntered', 'NeedsReview'),
    { type: 'ChoiceStateExited', stateExitedEventDetails: { name: 'NeedsReview' } },
    entered('TaskStateEntered', 'RequestReview'),
    { type: 'TaskScheduled' },
    { type: 'TaskFailed', taskFailedEventDetails: { error: 'TransientError' } },
    { type: 'TaskScheduled' },
    { type: 'TaskSubmitted' },
    ...(closing ? [closing] : []),
    ...after,
  ];
  return events.map((event, index) => ({ ...event, id: index + 1 })) as HistoryEvent[];
}

const afterApproval = [
  { type: 'TaskStateExited', stateExitedEventDetails: { name: 'RequestReview' } },
  { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'ChargePayment' } },
  { type: 'TaskScheduled' },
  { type: 'TaskFailed', taskFailedEventDetails: { error: 'TransientError' } },
] as HistoryEvent[];
const afterRejection = [
  { type: 'PassStateEntered', stateEnteredEventDetails: { name: 'RequestReviewFailed' } },
] as HistoryEvent[];

describe('POST /orders/{orderId}/review when the API dies between its decision and the token call', () => {
  const decisions = [
    ['approve', 'PENDING', 'success token-1 {"decision":"approve"}'],
    ['reject', 'CANCELLING', 'failure token-1 ReviewRejected'],
  ] as const;

  /** The first attempt: the decision is written, then the token call never answers (the function died). */
  async function decidedThenDied(deps: ApiDeps & { sfn: FakeStepFunctions }, decision: string) {
    const orderId = await placed(deps, 'AWAITING_REVIEW', { taskToken: 'token-1', total: 150000 });
    const { sendTaskSuccess, sendTaskFailure } = deps.sfn;
    tokenCallsThrow(deps.sfn, networkError);
    const first = await handleApiRequest(act(orderId, 'review', { decision }), deps);
    expect(first.statusCode).toBe(500);
    Object.assign(deps.sfn, { sendTaskSuccess, sendTaskFailure });
    return orderId;
  }

  it.each(decisions)(
    'the same %s again: 202, the stored token is sent this time, and then forgotten',
    async (decision, status, call) => {
      const deps = newDeps();
      const orderId = await decidedThenDied(deps, decision);
      expect(await orderOf(orderId)).toMatchObject({
        status,
        reviewDecision: decision,
        taskToken: 'token-1',
      });

      const retry = await handleApiRequest(act(orderId, 'review', { decision }), deps);

      expect(retry.statusCode).toBe(202);
      expect(parse(retry.body)).toMatchObject({ orderId, status, decision });
      expect(deps.sfn.calls).toEqual([call]);
      const order = await orderOf(orderId);
      expect(order).toMatchObject({ status, reviewDecision: decision });
      expect(order?.taskToken).toBeUndefined();
    },
  );

  it.each([
    ['approve', 'PENDING', { type: 'TaskSucceeded' }, afterApproval],
    [
      'reject',
      'CANCELLING',
      { type: 'TaskFailed', taskFailedEventDetails: { error: 'ReviewRejected' } },
      afterRejection,
    ],
  ] as const)(
    'the first %s reached the wait before the function died: the retry finds the wait closed by it, 202, nothing undone',
    async (decision, status, closing, after) => {
      const deps = newDeps();
      const orderId = await decidedThenDied(deps, decision);
      deps.sfn.historyPageSize = 3;
      deps.sfn.historyEvents = reviewHistory(closing as HistoryEvent, after);
      tokenCallsThrow(deps.sfn, gone);

      const retry = await handleApiRequest(act(orderId, 'review', { decision }), deps);

      expect(retry.statusCode).toBe(202);
      expect(parse(retry.body)).toMatchObject({ orderId, status, decision });
      const order = await orderOf(orderId);
      expect(order).toMatchObject({ status, reviewDecision: decision });
      expect(order?.taskToken).toBeUndefined();
      // Once delivered and forgotten, the same decision again is answered the same, and sends nothing.
      const again = await handleApiRequest(act(orderId, 'review', { decision }), deps);
      expect(again.statusCode).toBe(202);
      expect(parse(again.body)).toEqual(parse(retry.body));
    },
  );

  it.each(decisions)(
    'the retried %s finds the wait timed out: 409 ReviewDeadlinePassed, the decision taken back, ReviewTimedOut',
    async (decision) => {
      const deps = newDeps();
      const orderId = await decidedThenDied(deps, decision);
      deps.sfn.historyPageSize = 3;
      deps.sfn.historyEvents = reviewHistory({ type: 'TaskTimedOut' } as HistoryEvent, afterRejection);
      tokenCallsThrow(deps.sfn, gone);

      const retry = await handleApiRequest(act(orderId, 'review', { decision }), deps);

      expect(retry.statusCode).toBe(409);
      expect(parse(retry.body).code).toBe('ReviewDeadlinePassed');
      const undone = await orderOf(orderId);
      expect(undone).toMatchObject({ status: 'AWAITING_REVIEW', taskToken: 'token-1' });
      expect([undone?.reviewDecision, undone?.cancelReason]).toEqual([undefined, undefined]);
      const saga = sagaInput(orderId, { failure: { step: 'RequestReview', error: 'States.Timeout' } });
      await recordFailure(saga, { doc: local.doc, tables: local.tables });
      expect(await orderOf(orderId)).toMatchObject({ status: 'CANCELLED', reason: 'ReviewTimedOut' });
    },
  );

  it('the retried approve reads pages that repeat events (the saga appends between two pages): it still finds the wait closed by it, 202, nothing undone', async () => {
    const deps = newDeps();
    const orderId = await decidedThenDied(deps, 'approve');
    deps.sfn.historyPageSize = 3;
    deps.sfn.historyEvents = reviewHistory({ type: 'TaskSucceeded' } as HistoryEvent, afterApproval);
    tokenCallsThrow(deps.sfn, gone);
    const read = deps.sfn.getExecutionHistory.bind(deps.sfn);
    const repeated: number[] = [];
    const seen = new Set<number>();
    deps.sfn.getExecutionHistory = async (input) => {
      const page = await read(input);
      for (const event of page.events) {
        if (seen.has(event.id ?? 0)) repeated.push(event.id ?? 0);
        seen.add(event.id ?? 0);
      }
      // ChargePayment is retried meanwhile: a history paged by position shifts, the next page repeats.
      const id = deps.sfn.historyEvents.length;
      deps.sfn.historyEvents = [
        ...deps.sfn.historyEvents,
        { type: 'TaskScheduled', id: id + 1 },
        { type: 'TaskFailed', id: id + 2, taskFailedEventDetails: { error: 'TransientError' } },
      ] as HistoryEvent[];
      return page;
    };

    const retry = await handleApiRequest(act(orderId, 'review', { decision: 'approve' }), deps);

    expect(repeated).toContain(14); // TaskStateEntered ChargePayment, read twice
    expect(retry.statusCode).toBe(202);
    const order = await orderOf(orderId);
    expect(order).toMatchObject({ status: 'PENDING', reviewDecision: 'approve' });
    expect(order?.taskToken).toBeUndefined();
  });

  const noClosing: Array<[string, (() => HistoryEvent[]) | undefined]> = [
    ['the wait is still open', () => reviewHistory(undefined)],
    [
      'the execution was aborted',
      () => reviewHistory(undefined, [{ type: 'ExecutionAborted' } as HistoryEvent]),
    ],
    ['the history cannot be read', undefined],
  ];
  it.each(
    decisions.flatMap(([decision]) => noClosing.map(([what, history]) => [decision, what, history] as const)),
  )(
    'the retried %s finds no closing event (%s): 503 ReviewOutcomeUnknown, the order and its token kept',
    async (decision, _case, history) => {
      const deps = newDeps();
      const orderId = await decidedThenDied(deps, decision);
      if (history) deps.sfn.historyEvents = history();
      else
        deps.sfn.getExecutionHistory = async () => {
          throw networkError();
        };
      tokenCallsThrow(deps.sfn, gone);
      const before = await orderOf(orderId);

      const retry = await handleApiRequest(act(orderId, 'review', { decision }), deps);

      expect(retry.statusCode).toBe(503);
      expect(parse(retry.body)).toMatchObject({ code: 'ReviewOutcomeUnknown' });
      expect(parse(retry.body).message).toContain('send the same decision again');
      // The retry's own write only renews updatedAt; nothing is taken back.
      expect(await orderOf(orderId)).toEqual({ ...before, updatedAt: expect.any(String) });
      expect(before).toMatchObject({ reviewDecision: decision, taskToken: 'token-1' });
    },
  );

  it.each([
    ['the approval retried', 'approve'],
    ['a rejection', 'reject'],
  ] as const)(
    'an approval recorded but not delivered, then a customer cancel: %s is 409 CancelledByCustomer, nothing sent, the cancel stands',
    async (_, decision) => {
      const deps = newDeps();
      const orderId = await decidedThenDied(deps, 'approve');
      expect((await handleApiRequest(act(orderId, 'cancel'), deps)).statusCode).toBe(202);
      const calls = [...deps.sfn.calls];
      const before = await orderOf(orderId);

      const retry = await handleApiRequest(act(orderId, 'review', { decision }), deps);

      expect(retry.statusCode).toBe(409);
      expect(parse(retry.body)).toMatchObject({ code: 'CancelledByCustomer' });
      expect(parse(retry.body).message).toBe(
        `Order ${orderId} is CANCELLING: the customer cancelled it (CustomerCancelled) after the approve was recorded; the cancel stands, there is no review to decide`,
      );
      expect(deps.sfn.calls).toEqual(calls);
      expect(await orderOf(orderId)).toEqual(before);
      expect(before).toMatchObject({ status: 'CANCELLING', cancelReason: 'CustomerCancelled' });
    },
  );

  it('a different decision after one was recorded: 409 NotAwaitingReview, and the first one is still sent on its retry', async () => {
    const deps = newDeps();
    const orderId = await decidedThenDied(deps, 'approve');

    const other = await handleApiRequest(act(orderId, 'review', { decision: 'reject' }), deps);

    expect(other.statusCode).toBe(409);
    expect(parse(other.body)).toMatchObject({ code: 'NotAwaitingReview' });
    expect(parse(other.body).message).toContain('already reviewed (approve)');
    expect(deps.sfn.calls).toEqual([]);
    expect(await orderOf(orderId)).toMatchObject({
      status: 'PENDING',
      reviewDecision: 'approve',
      taskToken: 'token-1',
    });
    expect((await handleApiRequest(act(orderId, 'review', { decision: 'approve' }), deps)).statusCode).toBe(
      202,
    );
    expect(deps.sfn.calls).toEqual(['success token-1 {"decision":"approve"}']);
  });
});

describe('POST /orders/{orderId}/resume', () => {
  it.each([
    ['ABORTED', undefined],
    ['TIMED_OUT', undefined],
    ['FAILED', 'States.Runtime'],
  ])('an execution %s (%s) without an outcome is redriven: 202', async (status, error) => {
    const deps = newDeps();
    const orderId = await placed(deps);
    const execution = deps.sfn.executions.get(orderId);
    if (execution) Object.assign(execution, { status, ...(error ? { error } : {}) });
    expect(await linksOf(deps, orderId)).toContain('resume');

    const response = await handleApiRequest(act(orderId, 'resume'), deps);

    expect(response.statusCode).toBe(202);
    expect(parse(response.body)).toEqual({
      orderId,
      status: 'PENDING',
      action: 'redriven',
      executionArn: arnOf(orderId),
    });
    expect(deps.sfn.calls).toEqual([`redrive ${arnOf(orderId)}`]);
  });

  it.each([
    ['PENDING', 'RUNNING', undefined, 'still going'],
    ['CANCELLING', 'PENDING_REDRIVE', undefined, 'still going'],
    ['CONFIRMED', 'SUCCEEDED', undefined, 'has its outcome'],
    ['CANCELLED', 'FAILED', 'OrderFailed', 'has its outcome'],
  ] as const)(
    'an order %s whose execution is %s (%s): 409 NotResumable, nothing redriven',
    async (orderStatus, executionStatus, error, message) => {
      const deps = newDeps();
      const orderId = await placed(deps, orderStatus);
      const execution = deps.sfn.executions.get(orderId);
      if (execution) Object.assign(execution, { status: executionStatus, ...(error ? { error } : {}) });
      expect(await linksOf(deps, orderId)).not.toContain('resume');

      const response = await handleApiRequest(act(orderId, 'resume'), deps);

      expect(response.statusCode).toBe(409);
      expect(parse(response.body).code).toBe('NotResumable');
      expect(parse(response.body).message).toContain(message);
      expect(deps.sfn.calls).toEqual([]);
    },
  );

  it.each([
    ['NEEDS_ATTENTION', 'a compensation in the DLQ'],
    ['PENDING', 'execution FAILED with CompensationFailed: RecordFailure in the DLQ'],
    ['AWAITING_REVIEW', 'execution FAILED with CompensationFailed: RecordFailure in the DLQ'],
    ['CANCELLING', 'execution FAILED with CompensationFailed: RecordFailure in the DLQ'],
  ] as const)(
    "%s (%s): the order's dead letters are redriven and the answer has the order as it now is",
    async (status, _why) => {
      const redriven: string[] = [];
      const deps = newDeps({
        redriveDeadLetters: async (orderId) => {
          redriven.push(orderId);
          await putItem(local, 'Orders', { ...(await orderOf(orderId)), status: 'CANCELLED' });
          return { processed: 1, succeeded: ['m-1'], failed: [], remaining: 0 };
        },
      });
      const attention = status === 'NEEDS_ATTENTION';
      const orderId = await placed(
        deps,
        status,
        attention ? { failedCompensations: new Set(['RefundPayment']) } : {},
      );
      const execution = deps.sfn.executions.get(orderId);
      if (execution && !attention)
        Object.assign(execution, { status: 'FAILED', error: 'CompensationFailed' });
      expect(await linksOf(deps, orderId)).toContain('resume');

      const response = await handleApiRequest(act(orderId, 'resume'), deps);

      expect(response.statusCode).toBe(202);
      expect(parse(response.body)).toMatchObject({
        orderId,
        status: 'CANCELLED',
        action: 'dead-letters-redriven',
        succeeded: ['m-1'],
        remaining: 0,
      });
      expect(redriven).toEqual([orderId]);
      expect(deps.sfn.calls).toEqual([]);
    },
  );

  it.each([
    ['NEEDS_ATTENTION', 'CompensationFailed', 202],
    ['CANCELLED', 'InjectedFailure', 409],
  ] as const)(
    'an unwind that writes %s between the read of the order and of its execution (%s): decided on the order as it is now (%s)',
    async (outcome, error, statusCode) => {
      const deps = newDeps({
        redriveDeadLetters: async () => ({ processed: 1, succeeded: ['m-1'], failed: [], remaining: 0 }),
      });
      const orderId = await placed(deps, 'PENDING');
      const { describeExecution } = deps.sfn;
      // RecordFailure commits, then the execution ends, just after the API read the order PENDING.
      deps.sfn.describeExecution = async (arn) => {
        await putItem(local, 'Orders', { ...(await orderOf(orderId)), status: outcome });
        return { ...(await describeExecution.call(deps.sfn, arn)), status: 'FAILED', error };
      };

      const links = await linksOf(deps, orderId);
      await putItem(local, 'Orders', { ...(await orderOf(orderId)), status: 'PENDING' });
      const response = await handleApiRequest(act(orderId, 'resume'), deps);

      expect(links).not.toContain('resume');
      expect(response.statusCode).toBe(statusCode);
      if (statusCode === 202) expect(parse(response.body)).toMatchObject({ action: 'dead-letters-redriven' });
      else expect(parse(response.body).message).toContain('has its outcome');
      expect(deps.sfn.calls).toEqual([]);
    },
  );

  it('an unsettled order whose outcome is in the DLQ, where the API cannot redrive dead letters: 409 naming the DLQ and the command', async () => {
    const deps = newDeps();
    const orderId = await placed(deps, 'PENDING');
    const execution = deps.sfn.executions.get(orderId);
    if (execution) Object.assign(execution, { status: 'FAILED', error: 'CompensationFailed' });
    expect(await linksOf(deps, orderId)).not.toContain('resume');

    const response = await handleApiRequest(act(orderId, 'resume'), deps);

    expect(response.statusCode).toBe(409);
    expect(parse(response.body).code).toBe('NotResumable');
    expect(parse(response.body).message).toContain(
      'RecordFailure could write its outcome (parked in the DLQ)',
    );
    expect(parse(response.body).message).toContain(`npm run redrive -- --order ${orderId}`);
    expect(deps.sfn.calls).toEqual([]);
    expect((await orderOf(orderId))?.status).toBe('PENDING');
  });

  it('NEEDS_ATTENTION where the API cannot redrive dead letters: 409; an unknown order: 404', async () => {
    const deps = newDeps();
    const orderId = await placed(deps, 'NEEDS_ATTENTION');
    const response = await handleApiRequest(act(orderId, 'resume'), deps);
    expect(response.statusCode).toBe(409);
    expect(parse(response.body).code).toBe('NotResumable');
    expect((await handleApiRequest(act('never-ordered', 'resume'), deps)).statusCode).toBe(404);
  });
});
