/**
 * Validation of the event every step/compensation Lambda receives (contract `StepEvent`). The state
 * machine builds it, so a malformed event is a wiring bug: it fails with the non-retryable
 * `InvalidSagaInput` naming the bad fields instead of a TypeError deep in the domain code.
 */
import { z } from 'zod';
import type { OrderSagaState, StepEvent } from '../../lib/contract';
import { InvalidSagaInputError } from './errors';

const item = z.object({ sku: z.string().min(1), quantity: z.number().int().min(1) });

const saga = z.looseObject({
  orderId: z.string().min(1),
  customerId: z.string().min(1),
  items: z.array(item).min(1),
  promoCode: z.string().min(1).optional(),
  deliverySlot: z.string().min(1),
  faults: z.record(z.string(), z.string()).optional(),
  results: z.looseObject({}).optional(),
});

const stepEvent = z.object({
  saga,
  context: z.object({
    executionArn: z.string().min(1),
    retryCount: z.number().int().min(0).default(0),
  }),
});

/** Formats zod issues as `field: message; field: message`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export function parseStepEvent(event: unknown): StepEvent {
  const parsed = stepEvent.safeParse(event);
  if (!parsed.success) throw new InvalidSagaInputError(`Invalid step event: ${describeIssues(parsed.error)}`);
  return { saga: parsed.data.saga as OrderSagaState, context: parsed.data.context };
}
