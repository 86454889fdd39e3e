import { recordFailure } from '../domain/order';
import { countOrder, OrderMetric } from '../shared/observability';
import { createStepHandler } from '../shared/step-handler';

/** RecordFailure: writes CANCELLED or NEEDS_ATTENTION to the Orders read model after the unwind. */
export const handler = createStepHandler('RecordFailure', ['Orders'], async (saga, deps) => {
  const recorded = await recordFailure(saga, deps);
  if (recorded.changed && recorded.previousStatus === 'PENDING') {
    countOrder(recorded.status === 'CANCELLED' ? OrderMetric.cancelled : OrderMetric.needsAttention);
  }
  return recorded;
});
