/**
 * The thin Lambda handler of every saga step and compensation: validate the step event against the
 * saga's state schema, bind the saga's id and `executionArn` to the logs, apply the fault plan (only when
 * `STEPSAGA_FAULTS=on`), run the domain function in a trace subsegment, log the outcome. Errors propagate
 * with their name intact (Catch matches on it).
 */
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { once } from './config';
import { type FaultMode, faultsEnabled, withFault } from './faults';
import { bindLogContext, logger, traced } from './observability';
import { parseStepEvent, type StepEvent } from './step-event';

/** What the toolkit reads from a saga's state: its fault plan, if any. */
export interface SagaState {
  faults?: Partial<Record<string, FaultMode>>;
}

export interface StepHandlerOptions<S extends SagaState, D, R> {
  /** The step or compensation name: the fault plan's key, the log and trace name. */
  operation: string;
  /** The schema of the saga's state (`event.saga`). */
  schema: z.ZodMiniType;
  /** The log and trace key of the saga's id, and how to read the id from the state. */
  id: { key: string; of(saga: S): string };
  /** Reads the function's dependencies (tables, clients) once, at the first invocation. */
  deps(): D;
  /**
   * Whether the saga's fault plan applies (a callback step that only hands out its token has nothing to
   * inject into).
   * @default true
   */
  faults?: boolean;
  run(saga: S, deps: D, event: StepEvent<S>): Promise<R>;
}

export function createStepHandler<S extends SagaState, D, R>(
  options: StepHandlerOptions<S, D, R>,
): (event: unknown, context?: Partial<Context>) => Promise<R> {
  const { operation } = options;
  const config = once(() => ({ deps: options.deps(), faults: options.faults !== false && faultsEnabled() }));
  return async (rawEvent, context) => {
    const event = parseStepEvent<S>(options.schema, rawEvent);
    const { saga } = event;
    const id = { [options.id.key]: options.id.of(saga) };
    bindLogContext({ ...id, executionArn: event.context.executionArn, operation });
    if (context?.awsRequestId) logger.addContext(context as Context);
    const { deps, faults } = config();
    const fault = faults ? saga.faults?.[operation] : undefined;
    logger.info(`${operation} started`, {
      retryCount: event.context.retryCount,
      ...(fault ? { fault } : {}),
    });
    return traced(operation, { ...id, operation }, async () => {
      try {
        const result = await withFault(
          operation,
          saga.faults,
          {
            enabled: faults,
            retryCount: event.context.retryCount,
            remainingTimeMs: context?.getRemainingTimeInMillis?.bind(context),
          },
          () => options.run(saga, deps, event),
        );
        logger.info(`${operation} succeeded`, { result });
        return result;
      } catch (error) {
        logger.warn(`${operation} failed`, { error: error as Error });
        throw error;
      }
    });
  };
}
