/**
 * The order saga's use of the toolkit's step handler and step engine: its state schema, its tables from
 * the contract, its id (`orderId`, also the IdempotencyKeys partition key) and its cancellation guard.
 */

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import {
  type OrderSagaState,
  type SagaOperation,
  STATE_NAMES,
  STOPPED_STATUSES,
  type StepEvent,
  TABLES,
  type TableId,
} from '../../lib/contract';
import { dynamoDb } from '../../toolkit/runtime/clients/dynamodb';
import type { StepStore } from '../../toolkit/runtime/step-engine';
import { createStepHandler as createSagaStepHandler } from '../../toolkit/runtime/step-handler';
import { type TableNames, tableNamesFromEnv } from './config';
import { OrderCancelledError } from './errors';
import { orderStateSchema } from './step-event';

export interface StepDeps<T extends TableId> {
  doc: DynamoDBDocumentClient;
  tables: Pick<TableNames, T>;
}

export type StepFunction<T extends TableId, R> = (
  saga: OrderSagaState,
  deps: StepDeps<T>,
  event: StepEvent,
) => Promise<R>;

/** The attribute that holds the saga's id in IdempotencyKeys (its partition key): the order's id. */
const ID_ATTRIBUTE = TABLES.IdempotencyKeys.partitionKey;

/** A `StepStore` over the IdempotencyKeys table of `deps`. */
export function storeOf(deps: StepDeps<'IdempotencyKeys'>): StepStore {
  return { doc: deps.doc, idempotencyTable: deps.tables.IdempotencyKeys, idAttribute: ID_ATTRIBUTE };
}

/** Deps of a forward step that refuses once its order is cancelled (Orders: ConditionCheck only). */
export type CancellableDeps<T extends TableId> = StepDeps<T> & { tables: { Orders?: string } };

/**
 * A `StepStore` whose actions also check, in their own transaction, that the order is not CANCELLING or
 * CANCELLED (when `deps` names the Orders table), so a cancel decided in DynamoDB refuses the step
 * (`OrderCancelled`). An absent order passes: the API writes the order before it starts the saga, so only
 * tests run steps without one. In a transaction a ConditionCheck costs 2 WCU (per KB of the order item):
 * 2 more per forward step, no extra request and no extra state transition.
 */
export function guardedStoreOf(deps: CancellableDeps<'IdempotencyKeys'>): StepStore {
  const ordersTable = deps.tables.Orders;
  if (!ordersTable) return storeOf(deps);
  return {
    ...storeOf(deps),
    guard: {
      item: (orderId) => ({
        ConditionCheck: {
          TableName: ordersTable,
          Key: { orderId },
          ConditionExpression: 'attribute_not_exists(orderId) OR NOT (#status IN (:s0, :s1))',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':s0': STOPPED_STATUSES[0], ':s1': STOPPED_STATUSES[1] },
        },
      }),
      error: (orderId, step) => new OrderCancelledError(orderId, step),
    },
  };
}

export function createStepHandler<const T extends TableId, R>(
  operation: SagaOperation | typeof STATE_NAMES.recordFailure | typeof STATE_NAMES.requestReview,
  tableIds: readonly T[],
  run: StepFunction<T, R>,
): (event: unknown, context?: Partial<Context>) => Promise<R> {
  return createSagaStepHandler<OrderSagaState, StepDeps<T>, R>({
    operation,
    schema: orderStateSchema,
    id: { key: 'orderId', of: (saga) => saga.orderId },
    deps: () => ({ doc: dynamoDb(), tables: tableNamesFromEnv(tableIds) }),
    // The review Task only hands out its token.
    faults: operation !== STATE_NAMES.requestReview,
    run,
  });
}
