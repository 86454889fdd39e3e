import { rejectOrder } from '../domain/order';
import { createStepHandler } from '../shared/step-handler';

/**
 * RejectOrder compensation (ConfirmOrder's guard): tombstones an unconfirmed order's confirmation, or
 * throws OrderAlreadyConfirmed when the confirmation had committed (the saga then ends as a success).
 */
export const handler = createStepHandler('RejectOrder', ['IdempotencyKeys'], rejectOrder);
