/** Business metrics of the order saga (count of orders reaching each outcome). */
import { countMetric } from '../../toolkit/runtime/observability';

export const OrderMetric = {
  started: 'OrdersStarted',
  confirmed: 'OrdersConfirmed',
  cancelled: 'OrdersCancelled',
  needsAttention: 'OrdersNeedingAttention',
  /**
   * Orders the saga gave up on because a step failed with a technical error (not a business rule) after
   * all its retries; counted besides OrdersCancelled/OrdersNeedingAttention. `OrdersFailedByErrorAlarm`.
   */
  failedByError: 'OrdersFailedByError',
} as const;
export type OrderMetricName = (typeof OrderMetric)[keyof typeof OrderMetric];

/** Counts one order reaching `name` and flushes it (one EMF line per invocation). */
export function countOrder(name: OrderMetricName): void {
  countMetric(name);
}
