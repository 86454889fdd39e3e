import { reservePromo } from '../domain/promo';
import { createStepHandler } from '../shared/step-handler';

/** ReservePromo Task: takes one use of the order's promo code. */
export const handler = createStepHandler(
  'ReservePromo',
  ['Orders', 'Promos', 'IdempotencyKeys'],
  reservePromo,
);
