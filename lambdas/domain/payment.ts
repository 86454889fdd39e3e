/**
 * ChargePayment / RefundPayment: debit the customer's balance by the order total computed by
 * ReserveStock (`saga.results.ReserveStock.total`, integer minor units); refund exactly what was charged.
 */
import type { ChargePaymentResult, OrderSagaState } from '../../lib/contract';
import { InvalidSagaInputError } from '../../toolkit/runtime/errors';
import { type CompensationResult, runAction, runCompensation } from '../../toolkit/runtime/step-engine';
import { InsufficientFundsError, UnknownCustomerError } from '../shared/errors';
import { type CancellableDeps, guardedStoreOf, storeOf } from '../shared/step-handler';

export type PaymentDeps = CancellableDeps<'Accounts' | 'IdempotencyKeys'>;

interface PaymentEffect {
  customerId: string;
  amount: number;
}

function orderTotal(saga: OrderSagaState): number {
  const total = saga.results?.ReserveStock?.total;
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0) {
    throw new InvalidSagaInputError(`Order ${saga.orderId} has no total at results.ReserveStock.total`);
  }
  return total;
}

export async function chargePayment(saga: OrderSagaState, deps: PaymentDeps): Promise<ChargePaymentResult> {
  const { customerId } = saga;
  return runAction(guardedStoreOf(deps), {
    sagaId: saga.orderId,
    step: 'ChargePayment',
    async plan() {
      const amount = orderTotal(saga);
      const effect: PaymentEffect = { customerId, amount };
      return {
        writes: [
          {
            Update: {
              TableName: deps.tables.Accounts,
              Key: { customerId },
              UpdateExpression: 'SET balance = balance - :amount',
              ConditionExpression: 'attribute_exists(customerId) AND balance >= :amount',
              ExpressionAttributeValues: { ':amount': amount },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
        result: { amount },
        effect: { ...effect },
        onConditionFailed(_index, old) {
          if (!old) return new UnknownCustomerError(customerId);
          return new InsufficientFundsError(customerId, amount, Number(old.balance));
        },
      };
    },
  });
}

export async function refundPayment(saga: OrderSagaState, deps: PaymentDeps): Promise<CompensationResult> {
  return runCompensation(storeOf(deps), {
    sagaId: saga.orderId,
    step: 'ChargePayment',
    compensation: 'RefundPayment',
    reverse(record) {
      const effect = record.effect as unknown as PaymentEffect;
      return {
        writes: [
          {
            Update: {
              TableName: deps.tables.Accounts,
              Key: { customerId: effect.customerId },
              UpdateExpression: 'SET balance = balance + :amount',
              ConditionExpression: 'attribute_exists(customerId)',
              ExpressionAttributeValues: { ':amount': effect.amount },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
        onConditionFailed: () => new UnknownCustomerError(effect.customerId),
      };
    },
  });
}
