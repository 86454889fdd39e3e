/**
 * Redrive function: replays the DLQ's failed compensations and unrecorded outcomes (lambdas/domain/redrive.ts)
 * and returns the report. `{ "orderId": "..." }` scopes the run to one order's dead letters.
 */
import { dynamoDb } from '../../toolkit/runtime/clients/dynamodb';
import { createRedriveHandler } from '../../toolkit/runtime/redrive-handler';
import { orderRedrive } from '../domain/redrive';
import { tableNamesFromEnv } from '../shared/config';
import { countOrder, OrderMetric } from '../shared/metrics';

export const handler = createRedriveHandler(() =>
  orderRedrive({
    doc: dynamoDb(),
    ordersTable: tableNamesFromEnv(['Orders']).Orders,
    onOrderCancelled: () => countOrder(OrderMetric.cancelled),
  }),
);
