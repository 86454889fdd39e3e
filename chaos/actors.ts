/**
 * The people around a chaos run: a customer who cancels, a reviewer who approves, rejects or lets the
 * deadline pass, an operator who stops an execution and resumes it. Each acts on one saga (its plan's
 * `action`) at its moment, through the same doors a person uses (the REST API; the operator's
 * StopExecution through the Step Functions API), and records what it saw and what it was answered, so the
 * checker can hold every answer to what became of the order (chaos/invariants.ts, `actions`).
 *
 * Moments are observed, never slept for: the actor polls the order (and, for "after a step", that step's
 * idempotency record) with consistent reads until the moment came or the order settled without it.
 */
import { DescribeExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiResponse, ChaosTarget } from '../client/target';
import type { OrderRecord } from '../lib/contract';
import type { Clients } from './observe';
import type { ActionMoment, ActionObservation, ApiAnswer, PlannedSaga, SagaAction } from './plan';

/** The operator's StopExecution error (shows in the execution history and the console). */
export const OPERATOR_ABORT = { error: 'OperatorAbort', cause: 'chaos: an operator stopped the execution' };

const SETTLED: ReadonlySet<string> = new Set(['CONFIRMED', 'CANCELLED', 'NEEDS_ATTENTION']);

export interface ActorOptions {
  /**
   * Between two polls of the order. Default 400 ms (plus up to 50 % jitter): a few hundred actors at once
   * must not load the tables the sagas use.
   */
  pollMs?: number;
  /** An actor whose moment neither came nor passed in this long gives up. Default 10 minutes. */
  deadlineMs?: number;
  /** During a crash (`interrupt`): a promise that resolves once the target is back. */
  outage?: () => Promise<void> | undefined;
  /**
   * Under a burst (`--lambda-concurrency`): a 5xx is sent again with backoff, as a client retries a
   * server error of an idempotent request (every call of the API is: by orderId). API Gateway answers 5xx
   * when Lambda throttles the Api function (a proxy integration cannot pass the 429 on).
   */
  retryServerErrors?: RetryServerErrors;
}

/** How a client retries a 5xx under a burst, and a count of the retries it sent. */
export interface RetryServerErrors {
  /** Retry for this long after the first answer. */
  forMs: number;
  /** Called once per retry sent. */
  onRetry: () => void;
}

/**
 * One API call. No answer (status 0) or a 5xx during an outage is sent again once the target is back; a
 * 5xx under a burst (`retryServerErrors`) is sent again after a jittered exponential backoff.
 */
export async function callApi(
  target: ChaosTarget,
  method: string,
  path: string,
  body: string,
  options: Pick<ActorOptions, 'outage' | 'retryServerErrors'> = {},
): Promise<ApiResponse> {
  const { outage, retryServerErrors } = options;
  const once = () =>
    target.api({ method, path, body }).catch((error: unknown) => ({
      status: 0,
      headers: new Headers(),
      body: `network error: ${error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : String(error)}`,
    }));
  const failed = (status: number) => status === 0 || status >= 500;
  let response = await once();
  for (let attempt = 0; outage && attempt < 5 && failed(response.status); attempt++) {
    const down = outage();
    if (down) await down;
    else await new Promise((r) => setTimeout(r, 500));
    response = await once();
  }
  if (retryServerErrors) {
    const until = Date.now() + retryServerErrors.forMs;
    for (let attempt = 0; response.status >= 500 && Date.now() < until; attempt++) {
      // Full jitter: 250 ms × 2^attempt, at most 5 s (AWS's advice for retrying throttles).
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(5_000, 250 * 2 ** attempt)));
      retryServerErrors.onRetry();
      response = await once();
    }
  }
  return response;
}

/**
 * An SDK call of the operator: refused while the target restarts (a kill -9 run), it is sent again once
 * the target is back (a few times), as a person would; outside an outage an error is the actor's.
 */
async function throughOutage<T>(
  outage: (() => Promise<void> | undefined) | undefined,
  call: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const down = outage?.();
      if (!down || attempt >= 4) throw error;
      await down;
    }
  }
}

function answerOf(response: ApiResponse): ApiAnswer {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(response.body) as Record<string, unknown>;
  } catch {
    // no JSON body: the status says enough
  }
  const { code, action } = body;
  return {
    status: response.status,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof action === 'string' ? { action } : {}),
  };
}

async function readOrder(clients: Clients, target: ChaosTarget, orderId: string) {
  const out = await clients.doc.send(
    new GetCommand({ TableName: target.outputs.OrdersTableName, Key: { orderId }, ConsistentRead: true }),
  );
  return out.Item as OrderRecord | undefined;
}

async function stepCommitted(clients: Clients, target: ChaosTarget, orderId: string, step: string) {
  const out = await clients.doc.send(
    new GetCommand({
      TableName: target.outputs.IdempotencyKeysTableName,
      Key: { orderId, step },
      ConsistentRead: true,
      ProjectionExpression: 'orderId',
    }),
  );
  return out.Item !== undefined;
}

/**
 * Polls until `came` says the moment came, or the order settled, or the deadline passed. Returns the
 * trigger and the last order read.
 */
async function until(
  clients: Clients,
  target: ChaosTarget,
  orderId: string,
  came: (order: OrderRecord | undefined) => Promise<boolean>,
  options: ActorOptions,
): Promise<{ trigger: ActionObservation['trigger']; order: OrderRecord | undefined }> {
  const deadline = Date.now() + (options.deadlineMs ?? 600_000);
  const pollMs = options.pollMs ?? 400;
  for (;;) {
    let order: OrderRecord | undefined;
    try {
      order = await readOrder(clients, target, orderId);
      if (await came(order)) return { trigger: 'reached', order };
    } catch (error) {
      // A read refused while the target restarts: poll again once it is back.
      const down = options.outage?.();
      if (!down) throw error;
      await down;
      continue;
    }
    if (order && SETTLED.has(order.status)) return { trigger: 'settled', order };
    if (Date.now() > deadline) return { trigger: 'gave-up', order };
    await new Promise((r) => setTimeout(r, pollMs * (1 + Math.random() / 2)));
  }
}

function momentCame(clients: Clients, target: ChaosTarget, orderId: string, moment: ActionMoment) {
  return async (order: OrderRecord | undefined): Promise<boolean> => {
    switch (moment.at) {
      case 'placed':
        return true;
      case 'confirmed':
        return order?.status === 'CONFIRMED';
      case 'after':
        return stepCommitted(clients, target, orderId, moment.step);
    }
  };
}

/** Plays `saga.action` (the saga was just accepted; `executionArn` is the one the POST answered). */
export async function act(
  target: ChaosTarget,
  clients: Clients,
  saga: PlannedSaga & { action: SagaAction },
  executionArn: string,
  options: ActorOptions = {},
): Promise<ActionObservation> {
  const { action } = saga;
  const orderId = saga.input.orderId;
  const path = `orders/${encodeURIComponent(orderId)}`;
  const seen: ActionObservation = { orderId, index: saga.index, action, trigger: 'gave-up' };
  try {
    switch (action.kind) {
      case 'cancel': {
        const moment = momentCame(clients, target, orderId, action.moment);
        const { trigger, order } = await until(clients, target, orderId, moment, options);
        Object.assign(seen, { trigger, ...(order ? { statusBefore: order.status } : {}) });
        if (trigger === 'gave-up') return seen;
        seen.answer = answerOf(await callApi(target, 'POST', `${path}/cancel`, '{}', options));
        return seen;
      }
      case 'review': {
        const awaiting = async (order: OrderRecord | undefined) => order?.status === 'AWAITING_REVIEW';
        const { trigger, order } = await until(clients, target, orderId, awaiting, options);
        Object.assign(seen, { trigger, ...(order ? { statusBefore: order.status } : {}) });
        if (trigger !== 'reached' || action.choice === 'wait') return seen;
        const response =
          action.choice === 'cancel'
            ? await callApi(target, 'POST', `${path}/cancel`, '{}', options)
            : await callApi(
                target,
                'POST',
                `${path}/review`,
                JSON.stringify({ decision: action.choice, note: `chaos saga #${saga.index}` }),
                options,
              );
        seen.answer = answerOf(response);
        return seen;
      }
      case 'abort': {
        const moment = momentCame(clients, target, orderId, action.moment);
        const { trigger, order } = await until(clients, target, orderId, moment, options);
        Object.assign(seen, { trigger, ...(order ? { statusBefore: order.status } : {}) });
        if (trigger === 'gave-up') return seen;
        await throughOutage(options.outage, () =>
          clients.sfn.send(new StopExecutionCommand({ executionArn, ...OPERATOR_ABORT })),
        );
        const stopped = await throughOutage(options.outage, () =>
          clients.sfn.send(new DescribeExecutionCommand({ executionArn })),
        );
        seen.stoppedStatus = stopped.status ?? 'UNKNOWN';
        seen.answer = answerOf(await callApi(target, 'POST', `${path}/resume`, '{}', options));
        return seen;
      }
    }
  } catch (error) {
    seen.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return seen;
  }
}
