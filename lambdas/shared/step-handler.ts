/**
 * The thin Lambda handler shared by every saga step and compensation: validate the `StepEvent`, bind
 * `orderId`/`executionArn` to the logs, apply the fault plan (only when enabled), run the domain
 * function, log the outcome. Errors propagate with their name intact (Catch matches on it).
 */

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import type { OrderSagaState, SagaOperation, StepEvent, TableId } from '../../lib/contract';
import { dynamoDb } from './clients/dynamodb';
import { faultsEnabled, once, type TableNames, tableNamesFromEnv } from './config';
import { withFault } from './faults';
import { bindLogContext, logger, traced } from './observability';
import type { StepStore } from './step-engine';
import { parseStepEvent } from './step-event';

export interface StepDeps<T extends TableId> {
  doc: DynamoDBDocumentClient;
  tables: Pick<TableNames, T>;
}

export type StepFunction<T extends TableId, R> = (
  saga: OrderSagaState,
  deps: StepDeps<T>,
  event: StepEvent,
) => Promise<R>;

/** A `StepStore` over the IdempotencyKeys table of `deps`. */
export function storeOf(deps: StepDeps<'IdempotencyKeys'>): StepStore {
  return { doc: deps.doc, idempotencyTable: deps.tables.IdempotencyKeys };
}

/** Deps of a forward step that refuses once its order is cancelled (Orders: ConditionCheck only). */
export type CancellableDeps<T extends TableId> = StepDeps<T> & { tables: { Orders?: string } };

/**
 * A `StepStore` whose actions also check, in their own transaction, that the order is not being
 * cancelled (when `deps` names the Orders table).
 */
export function guardedStoreOf(deps: CancellableDeps<'IdempotencyKeys'>): StepStore {
  return {
    ...storeOf(deps),
    ...(deps.tables.Orders ? { cancellationGuardTable: deps.tables.Orders } : {}),
  };
}

export function createStepHandler<const T extends TableId, R>(
  operation: SagaOperation | 'RecordFailure' | 'RequestReview',
  tableIds: readonly T[],
  run: StepFunction<T, R>,
): (event: unknown, context?: Partial<Context>) => Promise<R> {
  const config = once(() => ({ tables: tableNamesFromEnv(tableIds), faults: faultsEnabled() }));
  return async (rawEvent, context) => {
    const event = parseStepEvent(rawEvent);
    const { saga } = event;
    bindLogContext({ orderId: saga.orderId, executionArn: event.context.executionArn, operation });
    if (context?.awsRequestId) logger.addContext(context as Context);
    const { tables, faults } = config();
    const fault =
      faults && operation !== 'RecordFailure' && operation !== 'RequestReview'
        ? saga.faults?.[operation]
        : undefined;
    logger.info(`${operation} started`, {
      retryCount: event.context.retryCount,
      ...(fault ? { fault } : {}),
    });
    return traced(operation, { orderId: saga.orderId, operation }, async () => {
      try {
        const work = () => run(saga, { doc: dynamoDb(), tables }, event);
        const result =
          operation === 'RequestReview'
            ? await work()
            : await withFault(
                operation,
                saga.faults,
                {
                  enabled: faults,
                  retryCount: event.context.retryCount,
                  remainingTimeMs: context?.getRemainingTimeInMillis?.bind(context),
                },
                work,
              );
        logger.info(`${operation} succeeded`, { result });
        return result;
      } catch (error) {
        logger.warn(`${operation} failed`, { error: error as Error });
        throw error;
      }
    });
  };
}
