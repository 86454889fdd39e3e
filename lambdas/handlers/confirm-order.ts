import { confirmOrder } from '../domain/order';
import { countOrder, OrderMetric } from '../shared/metrics';
import { createStepHandler } from '../shared/step-handler';

/** ConfirmOrder Task: the point of no return, PENDING → CONFIRMED. */
export const handler = createStepHandler('ConfirmOrder', ['Orders', 'IdempotencyKeys'], (saga, deps) =>
  confirmOrder(saga, deps, { onConfirmed: () => countOrder(OrderMetric.confirmed) }),
);
