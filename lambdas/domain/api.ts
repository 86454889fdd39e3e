/**
 * The order API behind API Gateway (REST, Lambda proxy, v1 events):
 *
 * - `POST /orders`: validate, put the Orders item (PENDING, requestHash) with
 *   `attribute_not_exists(orderId)`, then StartExecution with name = orderId. The same body again
 *   returns the same order (202); a different body under the same orderId is a 409.
 * - `GET /orders/{orderId}`: the read model plus the saga steps from IdempotencyKeys.
 * - `GET /orders/{orderId}/history`: the step timeline from the execution history.
 *
 * Bad input is always a 4xx naming what is wrong; anything unexpected is a 500 with a request id.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  type IdempotencyState,
  type OrderRecord,
  type OrderSagaInput,
  type SagaOperation,
  STEP_NAMES,
} from '../../lib/contract';
import type { TableNames } from '../shared/config';
import { buildTimeline } from './history';
import { canonicalJson, ORDER_ID_PATTERN, parseOrderRequest, RequestError } from './order-request';

/** The Step Functions calls the API needs (the SDK in production, a fake or the local cloud in tests). */
export interface StepFunctionsPort {
  startExecution(input: {
    stateMachineArn: string;
    name: string;
    input: string;
  }): Promise<{ executionArn: string }>;
  describeExecution(executionArn: string): Promise<{ executionArn: string; status: string; input?: string }>;
  getExecutionHistory(input: {
    executionArn: string;
    nextToken?: string;
  }): Promise<{ events: HistoryEvent[]; nextToken?: string }>;
}

/** Thrown by a port when an execution with that name exists (the SDK's `ExecutionAlreadyExists`). */
export function isExecutionAlreadyExists(error: unknown): boolean {
  return error instanceof Error && error.name === 'ExecutionAlreadyExists';
}

export interface ApiDeps {
  doc: DynamoDBDocumentClient;
  tables: Pick<TableNames, 'Orders' | 'IdempotencyKeys'>;
  sfn: StepFunctionsPort;
  stateMachineArn: string;
  faultsEnabled: boolean;
  /** Called when a new order was accepted (metrics). */
  onOrderStarted?(orderId: string): void;
  /** Called with unexpected errors before the 500 is returned. */
  onUnexpectedError?(error: unknown, requestId: string): void;
  now?: () => Date;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

function respond(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

function links(orderId: string) {
  return { self: `/orders/${orderId}`, history: `/orders/${orderId}/history` };
}

/** The execution ARN Step Functions gives execution `name` of `stateMachineArn`. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

type Route =
  | { kind: 'create' }
  | { kind: 'get'; orderId: string }
  | { kind: 'history'; orderId: string }
  | { kind: 'method-not-allowed'; allow: string }
  | { kind: 'not-found' };

function route(event: APIGatewayProxyEvent): Route {
  const method = event.httpMethod.toUpperCase();
  const path = (event.path ?? '').replace(/\/+$/, '');
  const match = /\/orders(?:\/([^/]+)(\/history)?)?$/.exec(path);
  const resource = event.resource;
  const orderId = event.pathParameters?.orderId ?? (match?.[1] ? decodeURIComponent(match[1]) : undefined);
  const isHistory =
    resource === '/orders/{orderId}/history' || (resource === undefined && Boolean(match?.[2]));
  const isOrder = resource === '/orders/{orderId}' || (!isHistory && orderId !== undefined);
  const isCollection = resource === '/orders' || (!isOrder && !isHistory && match !== null);
  if (isHistory && orderId !== undefined) {
    return method === 'GET' ? { kind: 'history', orderId } : { kind: 'method-not-allowed', allow: 'GET' };
  }
  if (isOrder && orderId !== undefined) {
    return method === 'GET' ? { kind: 'get', orderId } : { kind: 'method-not-allowed', allow: 'GET' };
  }
  if (isCollection)
    return method === 'POST' ? { kind: 'create' } : { kind: 'method-not-allowed', allow: 'POST' };
  return { kind: 'not-found' };
}

function checkOrderId(orderId: string): void {
  if (!ORDER_ID_PATTERN.test(orderId)) {
    throw new RequestError(400, 'Invalid orderId in the path', [
      { field: 'orderId', message: 'orderId must be 1-64 characters of A-Z, a-z, 0-9, _ or -' },
    ]);
  }
}

async function readOrder(deps: ApiDeps, orderId: string): Promise<OrderRecord> {
  const out = await deps.doc.send(
    new GetCommand({ TableName: deps.tables.Orders, Key: { orderId }, ConsistentRead: true }),
  );
  if (!out.Item) throw new RequestError(404, `Order ${orderId} not found`);
  return out.Item as OrderRecord;
}

/** Starts (or finds) the execution named `orderId`; safe to repeat for the same order. */
async function ensureExecution(deps: ApiDeps, input: OrderSagaInput): Promise<string> {
  try {
    const started = await deps.sfn.startExecution({
      stateMachineArn: deps.stateMachineArn,
      name: input.orderId,
      // Canonical, so the same order always sends the same input (Standard: same name + input = same run).
      input: canonicalJson(input),
    });
    return started.executionArn;
  } catch (error) {
    if (!isExecutionAlreadyExists(error)) throw error;
    // Already started (and maybe finished) for this order: the Orders item's hash proved it is the same body.
    const described = await deps.sfn.describeExecution(executionArnFor(deps.stateMachineArn, input.orderId));
    if (described.input !== undefined && !sameJson(described.input, input)) {
      throw new RequestError(
        409,
        `An execution named ${input.orderId} already exists with a different input`,
        [
          {
            field: 'orderId',
            message: 'already used by another execution; use a new orderId or Idempotency-Key',
          },
        ],
      );
    }
    return described.executionArn;
  }
}

function sameJson(text: string, value: unknown): boolean {
  try {
    return canonicalJson(JSON.parse(text)) === canonicalJson(value);
  } catch {
    return false;
  }
}

async function createOrder(event: APIGatewayProxyEvent, deps: ApiDeps): Promise<APIGatewayProxyResult> {
  const { input, requestHash } = parseOrderRequest(event, { faultsEnabled: deps.faultsEnabled });
  const now = (deps.now?.() ?? new Date()).toISOString();
  const record: OrderRecord = {
    orderId: input.orderId,
    status: 'PENDING',
    customerId: input.customerId,
    items: input.items,
    ...(input.promoCode !== undefined ? { promoCode: input.promoCode } : {}),
    deliverySlot: input.deliverySlot,
    requestHash,
    createdAt: now,
    updatedAt: now,
  };
  let order = record;
  let created = true;
  try {
    await deps.doc.send(
      new PutCommand({
        TableName: deps.tables.Orders,
        Item: record,
        ConditionExpression: 'attribute_not_exists(orderId)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const existing = (error.Item ? unmarshall(error.Item) : undefined) as OrderRecord | undefined;
    if (!existing) throw error;
    if (existing.requestHash !== requestHash) {
      throw new RequestError(409, `Order ${input.orderId} already exists with a different request body`, [
        {
          field: 'orderId',
          message: 'already used for a different order; use a new orderId or Idempotency-Key',
        },
      ]);
    }
    order = existing;
    created = false;
  }
  let executionArn = order.executionArn;
  if (!executionArn) {
    executionArn = await ensureExecution(deps, input);
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.tables.Orders,
        Key: { orderId: input.orderId },
        UpdateExpression: 'SET executionArn = :arn',
        ExpressionAttributeValues: { ':arn': executionArn },
      }),
    );
  }
  if (created) deps.onOrderStarted?.(input.orderId);
  return respond(
    202,
    { orderId: input.orderId, executionArn, status: order.status, links: links(input.orderId) },
    { Location: links(input.orderId).self },
  );
}

export interface StepState {
  step: SagaOperation;
  state: IdempotencyState;
  updatedAt?: string;
}

async function getOrder(orderId: string, deps: ApiDeps): Promise<APIGatewayProxyResult> {
  checkOrderId(orderId);
  const order = await readOrder(deps, orderId);
  const keys = await deps.doc.send(
    new QueryCommand({
      TableName: deps.tables.IdempotencyKeys,
      KeyConditionExpression: 'orderId = :o',
      ExpressionAttributeValues: { ':o': orderId },
      ConsistentRead: true,
    }),
  );
  const rank = (step: string) => STEP_NAMES.indexOf(step as (typeof STEP_NAMES)[number]);
  const steps: StepState[] = (keys.Items ?? [])
    .map((item) => ({
      step: item.step as SagaOperation,
      state: item.state as IdempotencyState,
      updatedAt: item.updatedAt as string,
    }))
    .sort((a, b) => rank(a.step) - rank(b.step));
  const failed = order.failedCompensations as unknown;
  return respond(200, {
    orderId: order.orderId,
    status: order.status,
    total: order.total,
    customerId: order.customerId,
    items: order.items,
    promoCode: order.promoCode,
    deliverySlot: order.deliverySlot,
    executionArn: order.executionArn,
    steps,
    failedStep: order.failedStep,
    reason: order.reason,
    failedCompensations: failed instanceof Set ? [...failed].sort() : failed,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    links: links(orderId),
  });
}

/** Whether an execution ARN is an Express workflow's (`arn:<partition>:states:<region>:<account>:express:…`). */
export function isExpressExecution(executionArn: string): boolean {
  return executionArn.split(':')[5] === 'express';
}

async function getHistory(orderId: string, deps: ApiDeps): Promise<APIGatewayProxyResult> {
  checkOrderId(orderId);
  const order = await readOrder(deps, orderId);
  if (!order.executionArn) {
    return respond(200, { orderId, executionArn: null, status: 'NOT_STARTED', steps: [] });
  }
  // Express executions (arn:…:express:<state machine>:<name>:<id>) have no GetExecutionHistory: their
  // history is only in the state machine's log group. Say so instead of failing with a 500.
  if (isExpressExecution(order.executionArn)) {
    return respond(404, {
      message:
        `Order ${orderId} ran on an Express workflow (the stack was deployed with -c express=true), which ` +
        'keeps no execution history in Step Functions: read its events in the state machine log group ' +
        '(CloudWatch Logs, filter on the executionArn). GET /orders/{orderId} has its steps.',
      code: 'ExpressHistoryUnavailable',
      executionArn: order.executionArn,
      links: links(orderId),
    });
  }
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await deps.sfn
      .getExecutionHistory({ executionArn: order.executionArn, ...(nextToken ? { nextToken } : {}) })
      .catch((error: unknown) => {
        if (error instanceof Error && error.name === 'ExecutionDoesNotExist') {
          throw new RequestError(404, `Execution ${order.executionArn} of order ${orderId} not found`);
        }
        throw error;
      });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return respond(200, { orderId, executionArn: order.executionArn, ...buildTimeline(events) });
}

/** Routes one API Gateway proxy event. Never throws: every outcome is an HTTP response. */
export async function handleApiRequest(
  event: APIGatewayProxyEvent,
  deps: ApiDeps,
  requestId: string = event.requestContext?.requestId ?? 'unknown',
): Promise<APIGatewayProxyResult> {
  try {
    const target = route(event);
    switch (target.kind) {
      case 'create':
        return await createOrder(event, deps);
      case 'get':
        return await getOrder(target.orderId, deps);
      case 'history':
        return await getHistory(target.orderId, deps);
      case 'method-not-allowed':
        return respond(
          405,
          { message: `Method ${event.httpMethod} not allowed here; use ${target.allow}` },
          {
            Allow: target.allow,
          },
        );
      default:
        return respond(404, { message: `No route for ${event.httpMethod} ${event.path}` });
    }
  } catch (error) {
    if (error instanceof RequestError) {
      return respond(error.statusCode, {
        message: error.message,
        ...(error.errors.length > 0 ? { errors: error.errors } : {}),
      });
    }
    deps.onUnexpectedError?.(error, requestId);
    return respond(500, { message: 'Internal error; quote the request id when reporting it', requestId });
  }
}
