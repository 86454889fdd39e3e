/**
 * The event every step/compensation Lambda receives: `{saga, context}`, built by the `Saga` construct
 * (`Saga.STEP_PAYLOAD`): the execution's state as it is, and the execution's context. The saga gives the
 * schema of its state; the envelope is the toolkit's. The state machine builds it, so a malformed event is
 * a wiring bug: it fails with the non-retryable `InvalidSagaInput` naming the bad fields instead of a
 * TypeError deep in the domain code.
 */
import * as z from 'zod/mini';
import { InvalidSagaInputError } from './errors';

/** What every step event carries besides the saga's state. */
export interface StepContext {
  executionArn: string;
  /** `$$.State.RetryCount`: 0 on the first attempt. */
  retryCount: number;
  /** `$$.Task.Token` of a callback step (`.waitForTaskToken`). */
  taskToken?: string;
}

export interface StepEvent<S> {
  saga: S;
  context: StepContext;
}

// zod/mini: the same validation at a fraction of the bundle size (this runs in every step function).
export const nonEmpty = () => z.string().check(z.minLength(1, 'must be a non-empty string'));

/** The fault plan a saga state may carry: step or compensation name → fault mode. */
export const faultPlanSchema = z.optional(z.record(z.string(), z.string()));

const stepContext = z.object({
  executionArn: nonEmpty(),
  retryCount: z._default(z.number().check(z.int(), z.minimum(0)), 0),
  taskToken: z.optional(nonEmpty()),
});

/** Formats zod issues as `field: message; field: message`. */
export function describeIssues(error: {
  issues: readonly { path: PropertyKey[]; message: string }[];
}): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Validates `event` as a step event whose `saga` matches `saga` (the saga's own state schema). */
export function parseStepEvent<S>(saga: z.ZodMiniType, event: unknown): StepEvent<S> {
  const parsed = z.object({ saga, context: stepContext }).safeParse(event);
  if (!parsed.success) throw new InvalidSagaInputError(`Invalid step event: ${describeIssues(parsed.error)}`);
  return { saga: parsed.data.saga as S, context: parsed.data.context };
}
