import { refundPayment } from '../domain/payment';
import { createStepHandler } from '../shared/step-handler';

/** RefundPayment compensation: credits back exactly the charged amount (or tombstones it). */
export const handler = createStepHandler('RefundPayment', ['Accounts', 'IdempotencyKeys'], refundPayment);
