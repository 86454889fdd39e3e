import { bookDelivery } from '../domain/delivery';
import { createStepHandler } from '../shared/step-handler';

/** BookDelivery Task: takes one place in the order's delivery slot. */
export const handler = createStepHandler(
  'BookDelivery',
  ['Orders', 'DeliverySlots', 'IdempotencyKeys'],
  bookDelivery,
);
