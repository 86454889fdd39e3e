import { requestReview } from '../domain/order';
import { createStepHandler } from '../shared/step-handler';

/**
 * RequestReview Task (`.waitForTaskToken`): parks the order in AWAITING_REVIEW with the task token; the
 * execution waits for a reviewer's decision (POST /orders/{orderId}/review) or the review deadline.
 */
export const handler = createStepHandler('RequestReview', ['Orders'], (saga, deps, event) =>
  requestReview(saga, event.context.taskToken, deps),
);
