import { BUSINESS_ERRORS, UNSETTLED_STATUSES } from '../../lib/contract';
import { recordFailure } from '../domain/order';
import { countOrder, OrderMetric } from '../shared/metrics';
import { createStepHandler } from '../shared/step-handler';

const businessErrors: ReadonlySet<string> = new Set(BUSINESS_ERRORS);

/**
 * Whether a saga failure is technical: anything but a business error (a Lambda timeout or crash, a
 * TransientError or throttling past the retries, a permission): a person must look (the alarm's runbook).
 */
export function isTechnicalFailure(failure: { error: string } | undefined): boolean {
  return failure !== undefined && !businessErrors.has(failure.error);
}

/** RecordFailure: writes CANCELLED or NEEDS_ATTENTION to the Orders read model after the unwind. */
export const handler = createStepHandler('RecordFailure', ['Orders'], async (saga, deps) => {
  const recorded = await recordFailure(saga, deps);
  // Counted once, when the order first gets its outcome: from any unsettled status (a customer cancel or a
  // review reject unwinds from CANCELLING), not again when a redrive moves NEEDS_ATTENTION on.
  if (
    recorded.changed &&
    recorded.previousStatus !== undefined &&
    UNSETTLED_STATUSES.includes(recorded.previousStatus)
  ) {
    countOrder(recorded.status === 'CANCELLED' ? OrderMetric.cancelled : OrderMetric.needsAttention);
    if (isTechnicalFailure(saga.failure)) countOrder(OrderMetric.failedByError);
  }
  return recorded;
});
