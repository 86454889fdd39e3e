/**
 * The errors the toolkit's runtime throws. Each class sets `this.name` exactly: Step Functions Catch/Retry
 * match on the error name the Lambda runtime reports, which is `error.name` (bundles keep class names, but
 * the explicit name is what counts). A saga's own business errors extend {@link SagaError}.
 *
 * Business errors are never retried by the state machine; `TransientError` is (`TRANSIENT_ERRORS`).
 */

/** Base class of every business error: stable name, never retried. */
export abstract class SagaError extends Error {
  abstract override readonly name: string;
}

/** A step whose idempotency key was already compensated or tombstoned: it refuses to run. */
export class SagaStepCancelledError extends SagaError {
  override readonly name = 'SagaStepCancelled';
  constructor(
    readonly sagaId: string,
    readonly step: string,
    readonly state: string,
  ) {
    super(`${step} for ${sagaId} was already compensated (${state}): it will not run`);
  }
}

export class InjectedFailureError extends SagaError {
  override readonly name = 'InjectedFailure';
  constructor(readonly operation: string) {
    super(`Injected failure in ${operation}`);
  }
}

export class CrashAfterCommitError extends SagaError {
  override readonly name = 'CrashAfterCommit';
  constructor(readonly operation: string) {
    super(`Injected crash in ${operation} after its effect was committed`);
  }
}

/** A malformed step event (a wiring bug): names the bad fields, never retried. */
export class InvalidSagaInputError extends SagaError {
  override readonly name = 'InvalidSagaInput';
}

/** A failure worth retrying (throttling, transaction conflicts, injected `transient:N`). */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/** Mirrors what the Lambda runtime reports when a function outlives its timeout (injected `timeout`). */
export class FunctionTimeoutError extends Error {
  override readonly name = 'Sandbox.Timedout';
}

/** A missing or malformed environment variable: names it, at the first invocation. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}
