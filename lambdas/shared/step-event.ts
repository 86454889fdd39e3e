/**
 * The order saga's state schema: what every order step function receives as `event.saga` (contract
 * `OrderSagaState`), validated by the toolkit's step handler.
 */
import * as z from 'zod/mini';
import type { OrderSagaState, StepEvent } from '../../lib/contract';
import {
  faultPlanSchema,
  nonEmpty,
  parseStepEvent as parseSagaStepEvent,
} from '../../toolkit/runtime/step-event';

const item = z.object({ sku: nonEmpty(), quantity: z.number().check(z.int(), z.minimum(1)) });

export const orderStateSchema = z.looseObject({
  orderId: nonEmpty(),
  customerId: nonEmpty(),
  items: z.array(item).check(z.minLength(1, 'must have at least one item')),
  promoCode: z.optional(nonEmpty()),
  deliverySlot: nonEmpty(),
  faults: faultPlanSchema,
  results: z.optional(z.looseObject({})),
});

export function parseStepEvent(event: unknown): StepEvent {
  return parseSagaStepEvent<OrderSagaState>(orderStateSchema, event);
}
