import { reserveStock } from '../domain/stock';
import { createStepHandler } from '../shared/step-handler';

/** ReserveStock Task: reserves every line of the order (or none) and computes the order total. */
export const handler = createStepHandler(
  'ReserveStock',
  ['Orders', 'Inventory', 'IdempotencyKeys'],
  reserveStock,
);
