/**
 * ReservePromo / ReleasePromo: a promo code has a discount and a limited number of uses.
 * Reserving takes one use (condition `usesLeft > 0`); releasing gives back exactly the use it took.
 */

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { OrderSagaState, ReservePromoResult } from '../../lib/contract';
import { InvalidSagaInputError, TransientError } from '../../toolkit/runtime/errors';
import { type CompensationResult, runAction, runCompensation } from '../../toolkit/runtime/step-engine';
import { PromoExhaustedError, PromoNotFoundError } from '../shared/errors';
import { type CancellableDeps, guardedStoreOf, storeOf } from '../shared/step-handler';

export type PromoDeps = CancellableDeps<'Promos' | 'IdempotencyKeys'>;

function promoCodeOf(saga: OrderSagaState): string {
  if (!saga.promoCode) throw new InvalidSagaInputError(`Order ${saga.orderId} has no promo code to reserve`);
  return saga.promoCode;
}

export async function reservePromo(saga: OrderSagaState, deps: PromoDeps): Promise<ReservePromoResult> {
  const code = promoCodeOf(saga);
  return runAction(guardedStoreOf(deps), {
    sagaId: saga.orderId,
    step: 'ReservePromo',
    async plan() {
      const promo = await deps.doc.send(
        new GetCommand({ TableName: deps.tables.Promos, Key: { code }, ConsistentRead: true }),
      );
      if (!promo.Item) throw new PromoNotFoundError(code);
      const discountPercent = Number(promo.Item.discountPercent);
      return {
        writes: [
          {
            Update: {
              TableName: deps.tables.Promos,
              Key: { code },
              UpdateExpression: 'SET usesLeft = usesLeft - :one',
              ConditionExpression: 'attribute_exists(code) AND usesLeft > :zero AND discountPercent = :pct',
              ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':pct': discountPercent },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
        result: { code, discountPercent },
        effect: { code, uses: 1 },
        onConditionFailed(_index, old) {
          if (!old) return new PromoNotFoundError(code);
          if (Number(old.usesLeft) <= 0) return new PromoExhaustedError(code);
          return new TransientError(`Promo ${code} changed while it was being reserved: retry`);
        },
      };
    },
  });
}

export async function releasePromo(saga: OrderSagaState, deps: PromoDeps): Promise<CompensationResult> {
  return runCompensation(storeOf(deps), {
    sagaId: saga.orderId,
    step: 'ReservePromo',
    compensation: 'ReleasePromo',
    reverse(record) {
      const effect = record.effect as { code: string; uses: number };
      return {
        writes: [
          {
            Update: {
              TableName: deps.tables.Promos,
              Key: { code: effect.code },
              UpdateExpression: 'SET usesLeft = usesLeft + :uses',
              ConditionExpression: 'attribute_exists(code)',
              ExpressionAttributeValues: { ':uses': effect.uses },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
        onConditionFailed: () => new PromoNotFoundError(effect.code),
      };
    },
  });
}
