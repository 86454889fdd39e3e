/**
 * Validation of the event every step/compensation Lambda receives (contract `StepEvent`). The state
 * machine builds it, so a malformed event is a wiring bug: it fails with the non-retryable
 * `InvalidSagaInput` naming the bad fields instead of a TypeError deep in the domain code.
 */
import * as z from 'zod/mini';
import type { OrderSagaState, StepEvent } from '../../lib/contract';
import { InvalidSagaInputError } from './errors';

// zod/mini: the same validation at a fraction of the bundle size (this runs in every step function).
const nonEmpty = () => z.string().check(z.minLength(1, 'must be a non-empty string'));

const item = z.object({ sku: nonEmpty(), quantity: z.number().check(z.int(), z.minimum(1)) });

const saga = z.looseObject({
  orderId: nonEmpty(),
  customerId: nonEmpty(),
  items: z.array(item).check(z.minLength(1, 'must have at least one item')),
  promoCode: z.optional(nonEmpty()),
  deliverySlot: nonEmpty(),
  faults: z.optional(z.record(z.string(), z.string())),
  results: z.optional(z.looseObject({})),
});

const stepEvent = z.object({
  saga,
  context: z.object({
    executionArn: nonEmpty(),
    retryCount: z._default(z.number().check(z.int(), z.minimum(0)), 0),
    taskToken: z.optional(nonEmpty()),
  }),
});

/** Formats zod issues as `field: message; field: message`. */
export function describeIssues(error: {
  issues: readonly { path: PropertyKey[]; message: string }[];
}): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}

export function parseStepEvent(event: unknown): StepEvent {
  const parsed = stepEvent.safeParse(event);
  if (!parsed.success) throw new InvalidSagaInputError(`Invalid step event: ${describeIssues(parsed.error)}`);
  return { saga: parsed.data.saga as OrderSagaState, context: parsed.data.context };
}
