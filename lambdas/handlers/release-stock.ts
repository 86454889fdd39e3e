import { releaseStock } from '../domain/stock';
import { createStepHandler } from '../shared/step-handler';

/** ReleaseStock compensation: puts back exactly the units ReserveStock took (or tombstones it). */
export const handler = createStepHandler('ReleaseStock', ['Inventory', 'IdempotencyKeys'], releaseStock);
