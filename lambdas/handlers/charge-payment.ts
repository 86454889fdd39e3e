import { chargePayment } from '../domain/payment';
import { createStepHandler } from '../shared/step-handler';

/** ChargePayment Task: debits the order total from the customer's balance. */
export const handler = createStepHandler(
  'ChargePayment',
  ['Orders', 'Accounts', 'IdempotencyKeys'],
  chargePayment,
);
