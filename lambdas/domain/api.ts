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
  type CancelReason,
  type IdempotencyState,
  ORDER_ACTIONS,
  type OrderAction,
  type OrderRecord,
  type OrderSagaInput,
  type OrderStatus,
  REVIEW_REJECTED,
  type SagaOperation,
  STATE_NAMES,
  STEP_NAMES,
  UNSETTLED_STATUSES,
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
  describeExecution(executionArn: string): Promise<ExecutionDescription>;
  /** StopExecution (Standard only): the execution ends ABORTED. */
  stopExecution(input: { executionArn: string; error: string; cause: string }): Promise<void>;
  /** RedriveExecution (Standard only): restarts an ABORTED/FAILED/TIMED_OUT execution at its failed state. */
  redriveExecution(executionArn: string): Promise<void>;
  sendTaskSuccess(input: { taskToken: string; output: string }): Promise<void>;
  sendTaskFailure(input: { taskToken: string; error: string; cause: string }): Promise<void>;
  /** GetExecutionHistory without execution data; oldest first unless `reverseOrder`, pages of `maxResults`. */
  getExecutionHistory(input: {
    executionArn: string;
    nextToken?: string;
    reverseOrder?: boolean;
    maxResults?: number;
  }): Promise<{ events: HistoryEvent[]; nextToken?: string }>;
}

export interface ExecutionDescription {
  executionArn: string;
  /** RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED | PENDING_REDRIVE */
  status: string;
  input?: string;
  /** The error of a FAILED execution (a Fail state's error, or States.Runtime, ...). */
  error?: string;
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
  /** Express executions cannot be stopped or redriven: a cancel waits for the saga's next step. */
  express?: boolean;
  /**
   * Resume of a NEEDS_ATTENTION order: the DLQ redrive scoped to one order (lambdas/domain/redrive.ts,
   * the code path of `npm run redrive`). Absent: resume answers 501 for such orders.
   */
  redriveDeadLetters?(orderId: string): Promise<Record<string, unknown>>;
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

/** The action links of an order: each only where that action is possible now. */
function actionLinks(orderId: string, status: OrderStatus, resumable: boolean) {
  return {
    ...links(orderId),
    ...(status === 'PENDING' || status === 'AWAITING_REVIEW' ? { cancel: `/orders/${orderId}/cancel` } : {}),
    ...(status === 'AWAITING_REVIEW' ? { review: `/orders/${orderId}/review` } : {}),
    ...(resumable ? { resume: `/orders/${orderId}/resume` } : {}),
  };
}

/** Statuses that are not an outcome yet. */
const UNSETTLED: ReadonlySet<OrderStatus> = new Set(UNSETTLED_STATUSES);

/** `POST /orders/{orderId}/{action}` when the event names no resource (a plain HTTP server). */
const ACTION_PATH = new RegExp(`/orders/([^/]+)/(${ORDER_ACTIONS.join('|')})$`);

/**
 * Whether an execution ended without an outcome: ABORTED, TIMED_OUT, or FAILED outside the saga's own
 * Fail states. The saga's Fail states come after RecordFailure settled the order (OrderFailed), or with
 * the outcome parked in the DLQ (CompensationFailed: resume redrives the dead letters instead); a FAILED
 * execution whose order is still unsettled failed elsewhere (e.g. States.Runtime) and can be redriven.
 */
export function endedWithoutOutcome(
  execution: ExecutionDescription,
  order: Pick<OrderRecord, 'status'>,
): boolean {
  if (execution.status === 'ABORTED' || execution.status === 'TIMED_OUT') return true;
  if (execution.status !== 'FAILED') return false;
  return execution.error !== STATE_NAMES.failCompensation && UNSETTLED.has(order.status);
}

/**
 * Whether an unsettled order's outcome is parked in the DLQ: its execution ended in the saga's
 * `CompensationFailed` Fail state while the order never got an outcome, which happens only when
 * RecordFailure itself failed after its retries (the unwind is done; `RecordFailureToDLQ` parked the write).
 * A compensation dead-lettered alone still has RecordFailure write NEEDS_ATTENTION. Resume redrives the
 * order's dead letters, as for NEEDS_ATTENTION.
 */
export function outcomeDeadLettered(
  execution: ExecutionDescription,
  order: Pick<OrderRecord, 'status'>,
): boolean {
  return (
    execution.status === 'FAILED' &&
    execution.error === STATE_NAMES.failCompensation &&
    UNSETTLED.has(order.status)
  );
}

/** The execution ARN Step Functions gives execution `name` of `stateMachineArn`. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

type Route =
  | { kind: 'create' }
  | { kind: 'get'; orderId: string }
  | { kind: 'history'; orderId: string }
  | { kind: OrderAction; orderId: string }
  | { kind: 'method-not-allowed'; allow: string }
  | { kind: 'not-found' };

function route(event: APIGatewayProxyEvent): Route {
  const method = event.httpMethod.toUpperCase();
  const path = (event.path ?? '').replace(/\/+$/, '');
  const match = /\/orders(?:\/([^/]+)(\/history)?)?$/.exec(path);
  const resource = event.resource;
  const actionMatch = ACTION_PATH.exec(path);
  const action =
    (ORDER_ACTIONS as readonly string[]).find((a) => resource === `/orders/{orderId}/${a}`) ??
    (resource === undefined ? actionMatch?.[2] : undefined);
  if (action !== undefined) {
    const id = event.pathParameters?.orderId ?? decodeURIComponent(actionMatch?.[1] ?? '');
    return method === 'POST'
      ? { kind: action as OrderAction, orderId: id }
      : { kind: 'method-not-allowed', allow: 'POST' };
  }
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
    ...(order.reviewDecision ? { review: { decision: order.reviewDecision, note: order.reviewNote } } : {}),
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    links: actionLinks(orderId, order.status, await resumable(deps, order)),
  });
}

/** Whether POST /orders/{id}/resume would act now (one DescribeExecution, only for unsettled orders). */
async function resumable(deps: ApiDeps, order: OrderRecord): Promise<boolean> {
  if (order.status === 'NEEDS_ATTENTION') return deps.redriveDeadLetters !== undefined;
  if (!UNSETTLED.has(order.status) || !order.executionArn || deps.express) return false;
  if (isExpressExecution(order.executionArn)) return false;
  const execution = await deps.sfn.describeExecution(order.executionArn).catch(() => undefined);
  if (execution === undefined || !resumableWith(deps, execution, order)) return false;
  // The order was read before the execution ended: its unwind may have written the outcome in between.
  const now = await readOrder(deps, order.orderId).catch(() => undefined);
  return now !== undefined && resumableWith(deps, execution, now);
}

/** Whether resume would act on `order` given how its (ended) execution ended. */
function resumableWith(deps: ApiDeps, execution: ExecutionDescription, order: OrderRecord): boolean {
  if (outcomeDeadLettered(execution, order)) return deps.redriveDeadLetters !== undefined;
  return endedWithoutOutcome(execution, order);
}

/** `ConditionalCheckFailedException` → the item's old image (or undefined when there was none). */
function conditionFailedItem(error: unknown): OrderRecord | undefined {
  if (!(error instanceof ConditionalCheckFailedException)) throw error;
  return (error.Item ? unmarshall(error.Item) : undefined) as OrderRecord | undefined;
}

/** Errors of SendTask(Success/Failure), StopExecution and RedriveExecution meaning "the execution or the wait is already over". */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken', 'ExecutionDoesNotExist']);
function isGone(error: unknown): boolean {
  return error instanceof Error && GONE.has(error.name);
}

/**
 * Wakes a saga whose order was just cancelled (or rejected) so it unwinds now instead of at its next
 * step: a review wait gets SendTaskFailure with the stored token; otherwise (Standard only) a running
 * execution is stopped and redriven, so a step in its Retry backoff (or mid-invocation) is attempted
 * again at once, refuses in its transaction (`OrderCancelled`) and the Catch unwinds. Best effort: the
 * decision is already in DynamoDB, and the saga notices it at its next step anyway.
 */
async function wakeUp(deps: ApiDeps, old: OrderRecord, error: string, cause: string): Promise<string> {
  try {
    if (old.status === 'AWAITING_REVIEW' && old.taskToken) {
      await deps.sfn.sendTaskFailure({ taskToken: old.taskToken, error, cause });
      return 'review-wait-failed';
    }
    if (!old.executionArn || deps.express || isExpressExecution(old.executionArn)) return 'next-step';
    const execution = await deps.sfn.describeExecution(old.executionArn);
    if (execution.status !== 'RUNNING') return 'not-running';
    await deps.sfn.stopExecution({ executionArn: old.executionArn, error, cause });
    await deps.sfn.redriveExecution(old.executionArn);
    return 'stopped-and-redriven';
  } catch (failure) {
    if (isGone(failure)) return 'not-running';
    deps.onUnexpectedError?.(failure, `wake-up of ${old.orderId}`);
    return 'next-step';
  }
}

/** Whether the customer cancelled the order (CANCELLING, or CANCELLED, with reason CustomerCancelled). */
function customerCancelled(order: OrderRecord): boolean {
  const customer = order.cancelReason === 'CustomerCancelled' || order.reason === 'CustomerCancelled';
  return (order.status === 'CANCELLING' || order.status === 'CANCELLED') && customer;
}

/** The 202 answer of a cancel (the same for a repeated cancel). */
function cancelAnswer(orderId: string): APIGatewayProxyResult {
  return respond(202, {
    orderId,
    status: 'CANCELLING',
    reason: 'CustomerCancelled' satisfies CancelReason,
    links: links(orderId),
  });
}

/**
 * `POST /orders/{orderId}/cancel`: the decision is one conditional write (PENDING|AWAITING_REVIEW →
 * CANCELLING); every forward step's transaction checks it, so whichever of the cancel and ConfirmOrder
 * commits first wins. Then the saga is woken up.
 */
async function cancelOrder(orderId: string, deps: ApiDeps): Promise<APIGatewayProxyResult> {
  checkOrderId(orderId);
  let old: OrderRecord;
  try {
    const out = await deps.doc.send(
      new UpdateCommand({
        TableName: deps.tables.Orders,
        Key: { orderId },
        UpdateExpression: 'SET #status = :cancelling, cancelReason = :reason, updatedAt = :now',
        ConditionExpression: '#status IN (:pending, :awaiting)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':cancelling': 'CANCELLING',
          ':reason': 'CustomerCancelled',
          ':pending': 'PENDING',
          ':awaiting': 'AWAITING_REVIEW',
          ':now': (deps.now?.() ?? new Date()).toISOString(),
        },
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    old = out.Attributes as OrderRecord;
  } catch (error) {
    const current = conditionFailedItem(error);
    if (!current) throw new RequestError(404, `Order ${orderId} not found`);
    if (current.status === 'CONFIRMED') {
      throw new RequestError(
        409,
        `Order ${orderId} is already CONFIRMED: it can no longer be cancelled`,
        [],
        'AlreadyConfirmed',
      );
    }
    if (customerCancelled(current)) return cancelAnswer(orderId);
    throw new RequestError(
      409,
      `Order ${orderId} is ${current.status}${current.reason ? ` (${current.reason})` : ''}: there is nothing to cancel`,
      [],
      'NotCancellable',
    );
  }
  await wakeUp(deps, old, 'OrderCancelled', `Order ${orderId} was cancelled by the customer`);
  return cancelAnswer(orderId);
}

interface ReviewRequest {
  decision: 'approve' | 'reject';
  note?: string;
}

function parseReview(event: APIGatewayProxyEvent): ReviewRequest {
  let body: unknown;
  try {
    body = JSON.parse(event.body ?? '');
  } catch {
    throw new RequestError(400, 'The body must be JSON: {"decision": "approve"|"reject", "note"?: string}', [
      { field: '(body)', message: 'not valid JSON' },
    ]);
  }
  const errors: { field: string; message: string }[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    errors.push({ field: '(body)', message: 'must be a JSON object' });
  } else {
    const { decision, note, ...rest } = body as Record<string, unknown>;
    if (decision !== 'approve' && decision !== 'reject') {
      errors.push({ field: 'decision', message: 'must be "approve" or "reject"' });
    }
    if (note !== undefined && (typeof note !== 'string' || note.length > 500)) {
      errors.push({ field: 'note', message: 'must be a string of at most 500 characters' });
    }
    for (const field of Object.keys(rest)) errors.push({ field, message: 'unknown field' });
    if (errors.length === 0) {
      return {
        decision: decision as ReviewRequest['decision'],
        ...(note !== undefined ? { note: String(note) } : {}),
      };
    }
  }
  throw new RequestError(400, 'Invalid review request', errors);
}

/**
 * One write to an order only while it still carries `decision` and its `taskToken` (nothing has moved it
 * since; a lost race changes nothing). `undo` takes back a decision that never reached the saga (its wait
 * closed without it): AWAITING_REVIEW again, with no decision, until the unwind of the timed-out wait
 * records ReviewTimedOut. `forget` removes the token once the decision reached the saga.
 */
async function updateDecided(
  deps: ApiDeps,
  orderId: string,
  decision: ReviewRequest['decision'],
  taskToken: string,
  change: 'undo' | 'forget',
): Promise<void> {
  const undo = change === 'undo';
  try {
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.tables.Orders,
        Key: { orderId },
        UpdateExpression: undo
          ? 'SET #status = :awaiting, updatedAt = :now REMOVE reviewDecision, reviewNote, cancelReason'
          : 'REMOVE taskToken',
        ConditionExpression: `reviewDecision = :decision AND taskToken = :token${undo ? ' AND #status = :next' : ''}`,
        ...(undo ? { ExpressionAttributeNames: { '#status': 'status' } } : {}),
        ExpressionAttributeValues: {
          ':decision': decision,
          ':token': taskToken,
          ...(undo
            ? {
                ':awaiting': 'AWAITING_REVIEW',
                ':next': decidedStatus(decision),
                ':now': (deps.now?.() ?? new Date()).toISOString(),
              }
            : {}),
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** The status a decision moves the order to. */
function decidedStatus(decision: ReviewRequest['decision']): OrderStatus {
  return decision === 'approve' ? 'PENDING' : 'CANCELLING';
}

/** Events that close a Task (any attempt of it). */
const TASK_CLOSINGS = new Set(['TaskSucceeded', 'TaskFailed', 'TaskTimedOut']);

/**
 * How the last review wait of an execution closed: the closing event of the last attempt of the most recent
 * RequestReview Task entry, matched by event ids. The history is read newest first in small pages (the
 * review is near the end of a waiting history) and kept by id, so a page that repeats events changes
 * nothing. Undefined: no such wait, or it has not closed.
 */
async function reviewWaitClosing(deps: ApiDeps, executionArn: string): Promise<HistoryEvent | undefined> {
  const seen = new Map<number, HistoryEvent>();
  let entry: number | undefined;
  let nextToken: string | undefined;
  do {
    const page = await deps.sfn.getExecutionHistory({
      executionArn,
      reverseOrder: true,
      maxResults: 20,
      ...(nextToken ? { nextToken } : {}),
    });
    for (const event of page.events) {
      if (event.id === undefined || seen.has(event.id)) continue;
      seen.set(event.id, event);
      if (
        event.type?.endsWith('StateEntered') &&
        event.stateEnteredEventDetails?.name === STATE_NAMES.requestReview
      )
        entry = Math.max(entry ?? 0, event.id);
    }
    nextToken = page.nextToken;
  } while (nextToken && entry === undefined);
  if (entry === undefined) return undefined;
  const after = [...seen.entries()].filter(([id]) => id > entry).sort(([a], [b]) => a - b);
  let closing: HistoryEvent | undefined;
  for (const [, event] of after) {
    if (event.type?.endsWith('StateEntered') || event.type?.endsWith('StateExited')) break;
    if (event.type !== undefined && TASK_CLOSINGS.has(event.type)) closing = event;
  }
  return closing;
}

/**
 * What closed the review wait of the order's execution, for a decision whose token call answered "gone"
 * (SendTask* answers the same whether an earlier call of ours closed the wait or its deadline did): our
 * `decision` (`delivered`), the deadline (`timedOut`, the only answer that takes the decision back), or
 * nothing known (`unknown`: the wait has not closed, the execution closed it otherwise, or its history
 * could not be read).
 */
async function reviewWaitOutcome(
  deps: ApiDeps,
  order: OrderRecord,
  decision: ReviewRequest['decision'],
): Promise<'delivered' | 'timedOut' | 'unknown'> {
  if (!order.executionArn || isExpressExecution(order.executionArn)) return 'unknown';
  const closing = await reviewWaitClosing(deps, order.executionArn).catch((error: unknown) => {
    if (!isGone(error)) deps.onUnexpectedError?.(error, `reading the review wait of ${order.orderId}`);
    return undefined;
  });
  if (closing?.type === 'TaskTimedOut') return 'timedOut';
  const delivered =
    decision === 'approve'
      ? closing?.type === 'TaskSucceeded'
      : closing?.type === 'TaskFailed' && closing.taskFailedEventDetails?.error === REVIEW_REJECTED;
  return delivered ? 'delivered' : 'unknown';
}

/**
 * Whether the order shows that `decision` already reached its saga: the decision is recorded and its token
 * is gone (removed once the decision was delivered, or by the outcome write), and what the saga did next
 * follows from it (an approval: still PENDING, CONFIRMED or a later step failed; a rejection: whatever it is
 * now, nothing but the rejection moves a rejected order).
 */
function alreadyDelivered(order: OrderRecord, decision: ReviewRequest['decision']): boolean {
  if (order.reviewDecision !== decision || order.taskToken !== undefined) return false;
  if (decision === 'reject') return order.status !== 'AWAITING_REVIEW';
  return order.status === 'PENDING' || order.status === 'CONFIRMED' || order.failedStep !== undefined;
}

/** The 202 answer of a review decision (the same for a repeated one). */
function reviewAnswer(orderId: string, decision: ReviewRequest['decision']): APIGatewayProxyResult {
  return respond(202, {
    orderId,
    status: decidedStatus(decision),
    decision,
    ...(decision === 'approve' ? {} : { reason: REVIEW_REJECTED }),
    links: links(orderId),
  });
}

/**
 * `POST /orders/{orderId}/review`: one conditional write decides (AWAITING_REVIEW → PENDING on approve,
 * → CANCELLING with reason ReviewRejected on reject) and keeps the token; then the waiting Task is
 * completed with it, and only then is the token removed. Whatever dies in between, the same decision
 * sent again completes what the first left undone (202); the Task's "gone" answer is resolved from the
 * execution history (our decision closed it: 202; its deadline did: the decision is taken back, 409
 * ReviewDeadlinePassed; nothing shows which: 503 ReviewOutcomeUnknown, the order as it was). A different
 * decision after one was recorded: 409 NotAwaitingReview.
 */
async function reviewOrder(
  event: APIGatewayProxyEvent,
  orderId: string,
  deps: ApiDeps,
): Promise<APIGatewayProxyResult> {
  checkOrderId(orderId);
  const review = parseReview(event);
  const approve = review.decision === 'approve';
  let old: OrderRecord;
  try {
    const out = await deps.doc.send(
      new UpdateCommand({
        TableName: deps.tables.Orders,
        Key: { orderId },
        UpdateExpression: `SET #status = :next, reviewDecision = :decision, updatedAt = :now${
          review.note !== undefined ? ', reviewNote = :note' : ''
        }${approve ? '' : ', cancelReason = :reason'}`,
        ConditionExpression:
          'attribute_exists(taskToken) AND (#status = :awaiting OR (#status = :next AND reviewDecision = :decision))',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':next': decidedStatus(review.decision),
          ':awaiting': 'AWAITING_REVIEW',
          ':decision': review.decision,
          ':now': (deps.now?.() ?? new Date()).toISOString(),
          ...(review.note !== undefined ? { ':note': review.note } : {}),
          ...(approve ? {} : { ':reason': REVIEW_REJECTED }),
        },
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    old = out.Attributes as OrderRecord;
  } catch (error) {
    const current = conditionFailedItem(error);
    if (!current) throw new RequestError(404, `Order ${orderId} not found`);
    if (alreadyDelivered(current, review.decision)) return reviewAnswer(orderId, review.decision);
    if (customerCancelled(current)) {
      // A cancel needs PENDING or AWAITING_REVIEW, so a decision on the order was recorded before it (an
      // approval, perhaps never delivered): the cancel stands and the saga unwinds.
      throw new RequestError(
        409,
        `Order ${orderId} is ${current.status}: the customer cancelled it (CustomerCancelled)${
          current.reviewDecision ? ` after the ${current.reviewDecision} was recorded; the cancel stands` : ''
        }, there is no review to decide`,
        [],
        'CancelledByCustomer',
      );
    }
    throw new RequestError(
      409,
      `Order ${orderId} is ${current.status}${current.reason ? ` (${current.reason})` : ''}, not AWAITING_REVIEW: ${
        current.reviewDecision
          ? `it was already reviewed (${current.reviewDecision})`
          : 'there is no review to decide'
      }`,
      [],
      'NotAwaitingReview',
    );
  }
  const taskToken = old.taskToken as string;
  try {
    if (approve) {
      await deps.sfn.sendTaskSuccess({
        taskToken,
        output: JSON.stringify({
          decision: 'approve',
          ...(review.note !== undefined ? { note: review.note } : {}),
        }),
      });
    } else {
      await deps.sfn.sendTaskFailure({
        taskToken,
        error: REVIEW_REJECTED,
        cause: review.note ?? `Order ${orderId} was rejected by a reviewer`,
      });
    }
  } catch (error) {
    if (!isGone(error)) throw error;
    const outcome = await reviewWaitOutcome(deps, old, review.decision);
    if (outcome === 'timedOut') {
      // Too late: the wait timed out and the saga is unwinding. The decision never reached it, so it must
      // not stay on the order either (RecordFailure would record a late reject as ReviewRejected).
      await updateDecided(deps, orderId, review.decision, taskToken, 'undo');
      throw new RequestError(
        409,
        `The review of order ${orderId} is over (its deadline passed): the order is being cancelled (ReviewTimedOut)`,
        [],
        'ReviewDeadlinePassed',
      );
    }
    if (outcome === 'unknown') {
      // Nothing shows who closed the wait: the decision and its token stay, the same decision again
      // settles it once the history does.
      throw new RequestError(
        503,
        `The review decision for order ${orderId} is recorded, but its execution does not show yet whether it reached the saga: send the same decision again`,
        [],
        'ReviewOutcomeUnknown',
      );
    }
  }
  // Best effort: a token left behind is never used again (the same decision again finds its wait closed
  // and the history says by whom), and the order's outcome write removes it anyway.
  await updateDecided(deps, orderId, review.decision, taskToken, 'forget').catch((error: unknown) =>
    deps.onUnexpectedError?.(error, `forgetting the review token of ${orderId}`),
  );
  return reviewAnswer(orderId, review.decision);
}

/**
 * `POST /orders/{orderId}/resume`: an execution that ended without an outcome is redriven from where it
 * stopped; a NEEDS_ATTENTION order, or an unsettled one whose outcome write is parked in the DLQ
 * ({@link outcomeDeadLettered}), gets its dead letters redriven (the code path of `npm run redrive`, scoped
 * to this order). Anything else: 409 naming why.
 */
async function resumeOrder(orderId: string, deps: ApiDeps): Promise<APIGatewayProxyResult> {
  checkOrderId(orderId);
  const order = await readOrder(deps, orderId);
  if (order.status === 'NEEDS_ATTENTION') {
    return redriveOrderDeadLetters(deps, orderId, 'a compensation is parked in the DLQ');
  }
  if (!UNSETTLED.has(order.status)) {
    throw new RequestError(
      409,
      `Order ${orderId} is ${order.status}: it has its outcome, nothing to resume`,
      [],
      'NotResumable',
    );
  }
  if (!order.executionArn) {
    throw new RequestError(
      409,
      `Order ${orderId} has no execution yet: POST /orders again with the same body starts it`,
      [],
      'NotResumable',
    );
  }
  if (deps.express || isExpressExecution(order.executionArn)) {
    throw new RequestError(
      409,
      `Order ${orderId} ran on an Express workflow, which cannot be redriven: place it again`,
      [],
      'NotResumable',
    );
  }
  const execution = await deps.sfn.describeExecution(order.executionArn);
  // The order was read before the execution ended: if its unwind wrote the outcome in between (an ended
  // execution wrote everything it will), decide again on the order as it is now.
  if (execution.status !== 'RUNNING' && (await readOrder(deps, orderId)).status !== order.status) {
    return resumeOrder(orderId, deps);
  }
  if (outcomeDeadLettered(execution, order)) {
    return redriveOrderDeadLetters(
      deps,
      orderId,
      `its execution ended ${STATE_NAMES.failCompensation} before ${STATE_NAMES.recordFailure} could write its outcome (parked in the DLQ)`,
    );
  }
  if (!endedWithoutOutcome(execution, order)) {
    throw new RequestError(
      409,
      `Order ${orderId} is ${order.status} and its execution is ${execution.status}${
        execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE'
          ? ': it is still going, nothing to resume'
          : `: nothing to resume (GET /orders/${orderId}/history shows how it ended)`
      }`,
      [],
      'NotResumable',
    );
  }
  await deps.sfn.redriveExecution(order.executionArn);
  return respond(202, {
    orderId,
    status: order.status,
    action: 'redriven',
    executionArn: order.executionArn,
  });
}

/**
 * Resume of an order whose dead letters hold what is left of its saga (`why`): this order's DLQ messages
 * are replayed (the code path of `npm run redrive`, scoped to it); the answer has the order as it now is.
 */
async function redriveOrderDeadLetters(
  deps: ApiDeps,
  orderId: string,
  why: string,
): Promise<APIGatewayProxyResult> {
  if (!deps.redriveDeadLetters) {
    throw new RequestError(
      409,
      `Order ${orderId} needs its dead letters redriven (${why}), which this deployment cannot do from the API: run \`npm run redrive -- --order ${orderId}\``,
      [],
      'NotResumable',
    );
  }
  const report = await deps.redriveDeadLetters(orderId);
  const now = await readOrder(deps, orderId);
  return respond(202, { ...report, orderId, status: now.status, action: 'dead-letters-redriven' });
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
      case 'cancel':
        return await cancelOrder(target.orderId, deps);
      case 'review':
        return await reviewOrder(event, target.orderId, deps);
      case 'resume':
        return await resumeOrder(target.orderId, deps);
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
        ...(error.code ? { code: error.code } : {}),
        message: error.message,
        ...(error.errors.length > 0 ? { errors: error.errors } : {}),
      });
    }
    deps.onUnexpectedError?.(error, requestId);
    return respond(500, { message: 'Internal error; quote the request id when reporting it', requestId });
  }
}
