/**
 * Waits for the local cloud's own capacity, kept off the clocks of the workflow that waits.
 *
 * On AWS a Lambda invocation within its concurrency limit runs at once: Lambda scales out, each
 * execution environment on its own CPU. The local cloud runs a bounded pool of containers per function
 * on the machine's few cores, so under a burst an invocation waits for a container (or for an init slot)
 * where AWS would not have waited at all. A Task's `TimeoutSeconds` must not count that wait: if it did, a
 * burst on a slow machine would time out steps that AWS runs in milliseconds, and cancel orders for a
 * reason no deployment would show. The Task runs its work inside {@link withCapacityClock}; the Lambda
 * pool wraps each wait for capacity in {@link waitingForCapacity}, which pauses that clock meanwhile.
 * (Throttling is not such a wait: an invocation beyond the concurrency limit is refused at once, as AWS
 * does.)
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** A deadline that stands still while its work waits for local capacity. */
export interface CapacityClock {
  pause(): void;
  resume(): void;
}

const current = new AsyncLocalStorage<CapacityClock>();

/** Runs `work` with `clock` as the clock its waits for local capacity pause. */
export function withCapacityClock<T>(clock: CapacityClock, work: () => T): T {
  return current.run(clock, work);
}

/** `wait`, with the caller's clock (if any) paused until it settles. */
export function waitingForCapacity<T>(wait: Promise<T>): Promise<T> {
  const clock = current.getStore();
  if (!clock) return wait;
  clock.pause();
  return wait.finally(() => clock.resume());
}

/**
 * A deadline of `ms` that calls `expire` unless cancelled first; {@link CapacityClock.pause} stops it
 * (pauses nest) and `resume` lets the rest of it run.
 */
export function pausableDeadline(
  ms: number,
  expire: () => void,
  arm: (callback: () => void, ms: number) => () => void,
): CapacityClock & { cancel(): void } {
  let remaining = ms;
  let startedAt = Date.now();
  let disarm: (() => void) | undefined = arm(expire, remaining);
  let pauses = 0;
  let done = false;
  return {
    pause() {
      if (done || pauses++ > 0) return;
      disarm?.();
      disarm = undefined;
      remaining -= Date.now() - startedAt;
    },
    resume() {
      if (done || pauses === 0 || --pauses > 0) return;
      startedAt = Date.now();
      disarm = arm(expire, Math.max(remaining, 0));
    },
    cancel() {
      done = true;
      disarm?.();
      disarm = undefined;
    },
  };
}
