/**
 * The local Lambda's limits under load, in one place (AWS Lambda quotas and scaling behaviour).
 *
 * - Concurrency: AWS counts the invocations in flight, per account and region (1,000 by default), and a
 *   function with reserved concurrency (`ReservedConcurrentExecutions`) has its own share, taken out of
 *   that pool. A synchronous invocation beyond its pool is refused at once: 429
 *   `TooManyRequestsException`, message `Rate Exceeded.`, `Reason` `ConcurrentInvocationLimitExceeded`
 *   (or `ReservedFunctionConcurrentInvocationLimitExceeded`).
 * - Containers: the local cloud runs at most `containersPerFunction` worker threads per function; an
 *   invocation within the concurrency limit that finds them all busy waits for one (that wait stands for
 *   AWS's scale-out: it counts toward the concurrency in flight, as a starting environment does).
 * - Idle containers: AWS freezes an idle execution environment and reclaims it after a while (minutes;
 *   not documented exactly); the local cloud ends a container that served nothing for
 *   `idleContainerSeconds`, so its memory follows the load, and the next invocation is a cold start.
 * - Asynchronous (Event) invocations are never refused for concurrency: Lambda queues them and its poller
 *   retries a throttled one for up to 6 hours (the maximum event age), then discards it.
 */
import os from 'node:os';

export const LAMBDA_LIMITS = {
  /** Concurrent executions per account and region (AWS's default quota). */
  accountConcurrency: 1000,
  /**
   * Worker-thread containers per function: one per CPU, at least 2. They share the machine's cores (on AWS
   * each environment has its own), so more only adds memory (a container is ~50 MB) and contention.
   */
  containersPerFunction: (): number => Math.max(2, os.availableParallelism()),
  /** How long a container may stay idle before it is ended (its memory freed). */
  idleContainerSeconds: 5 * 60,
  /**
   * Container Init phases at once, over all functions: one per CPU, at least 2. AWS gives each new
   * environment its own CPU; here they share the machine's, so more at once only makes each one slower.
   */
  concurrentInits: (): number => Math.max(2, os.availableParallelism()),
  /** Maximum age of a queued Event invocation before it is discarded (AWS: 6 hours). */
  maxEventAgeSeconds: 6 * 60 * 60,
} as const;

export type ThrottleReason =
  | 'ConcurrentInvocationLimitExceeded'
  | 'ReservedFunctionConcurrentInvocationLimitExceeded';
