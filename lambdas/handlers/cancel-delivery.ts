import { cancelDelivery } from '../domain/delivery';
import { createStepHandler } from '../shared/step-handler';

/** CancelDelivery compensation: gives back the place BookDelivery took (or tombstones it). */
export const handler = createStepHandler(
  'CancelDelivery',
  ['DeliverySlots', 'IdempotencyKeys'],
  cancelDelivery,
);
