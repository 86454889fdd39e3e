/**
 * BookDelivery / CancelDelivery: a delivery slot has a capacity; booking takes one place
 * (condition `booked < capacity`), cancelling gives back the place the booking took.
 */
import type { BookDeliveryResult, OrderSagaState } from '../../lib/contract';
import { type CompensationResult, runAction, runCompensation } from '../../toolkit/runtime/step-engine';
import { SlotFullError, UnknownSlotError } from '../shared/errors';
import { type CancellableDeps, guardedStoreOf, storeOf } from '../shared/step-handler';

export type DeliveryDeps = CancellableDeps<'DeliverySlots' | 'IdempotencyKeys'>;

export async function bookDelivery(saga: OrderSagaState, deps: DeliveryDeps): Promise<BookDeliveryResult> {
  const slotId = saga.deliverySlot;
  return runAction(guardedStoreOf(deps), {
    sagaId: saga.orderId,
    step: 'BookDelivery',
    async plan() {
      return {
        writes: [
          {
            Update: {
              TableName: deps.tables.DeliverySlots,
              Key: { slotId },
              UpdateExpression: 'SET booked = booked + :one',
              ConditionExpression: 'attribute_exists(slotId) AND booked < #capacity',
              ExpressionAttributeNames: { '#capacity': 'capacity' },
              ExpressionAttributeValues: { ':one': 1 },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
        result: { slotId },
        effect: { slotId, places: 1 },
        onConditionFailed: (_index, old) => (old ? new SlotFullError(slotId) : new UnknownSlotError(slotId)),
      };
    },
  });
}

export async function cancelDelivery(saga: OrderSagaState, deps: DeliveryDeps): Promise<CompensationResult> {
  return runCompensation(storeOf(deps), {
    sagaId: saga.orderId,
    step: 'BookDelivery',
    compensation: 'CancelDelivery',
    reverse(record) {
      const effect = record.effect as { slotId: string; places: number };
      return {
        writes: [
          {
            Update: {
              TableName: deps.tables.DeliverySlots,
              Key: { slotId: effect.slotId },
              UpdateExpression: 'SET booked = booked - :places',
              ConditionExpression: 'attribute_exists(slotId)',
              ExpressionAttributeValues: { ':places': effect.places },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
        onConditionFailed: () => new UnknownSlotError(effect.slotId),
      };
    },
  });
}
