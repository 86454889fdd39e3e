import { releasePromo } from '../domain/promo';
import { createStepHandler } from '../shared/step-handler';

/** ReleasePromo compensation: gives back the use ReservePromo took (or tombstones it). */
export const handler = createStepHandler('ReleasePromo', ['Promos', 'IdempotencyKeys'], releasePromo);
