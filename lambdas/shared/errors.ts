/**
 * Typed saga errors. Each class sets `this.name` to the contract name (lib/contract.ts `BUSINESS_ERRORS`)
 * exactly: Step Functions Catch/Retry match on the error name the Lambda runtime reports, which is
 * `error.name` (bundles keep class names, but the explicit name is what counts).
 *
 * Business errors are never retried by the state machine; `TransientError` is (contract `TRANSIENT_ERRORS`).
 */
import type { BusinessErrorName } from '../../lib/contract';

/** Base class of every business error: stable name, never retried. */
export abstract class SagaError extends Error {
  abstract override readonly name: BusinessErrorName;
}

export class PromoExhaustedError extends SagaError {
  override readonly name = 'PromoExhausted';
  constructor(readonly code: string) {
    super(`Promo code ${code} has no uses left`);
  }
}

export class PromoNotFoundError extends SagaError {
  override readonly name = 'PromoNotFound';
  constructor(readonly code: string) {
    super(`Promo code ${code} does not exist`);
  }
}

export class InsufficientStockError extends SagaError {
  override readonly name = 'InsufficientStock';
  constructor(
    readonly sku: string,
    readonly requested: number,
    readonly available: number | undefined,
  ) {
    super(
      available === undefined
        ? `Not enough stock of ${sku} for ${requested} unit(s)`
        : `Not enough stock of ${sku}: ${requested} requested, ${available} available`,
    );
  }
}

export class UnknownSkuError extends SagaError {
  override readonly name = 'UnknownSku';
  constructor(readonly sku: string) {
    super(`SKU ${sku} does not exist`);
  }
}

export class InsufficientFundsError extends SagaError {
  override readonly name = 'InsufficientFunds';
  constructor(
    readonly customerId: string,
    readonly amount: number,
    readonly balance: number | undefined,
  ) {
    super(
      balance === undefined
        ? `Customer ${customerId} cannot pay ${amount}`
        : `Customer ${customerId} cannot pay ${amount}: balance is ${balance}`,
    );
  }
}

export class UnknownCustomerError extends SagaError {
  override readonly name = 'UnknownCustomer';
  constructor(readonly customerId: string) {
    super(`Customer ${customerId} does not exist`);
  }
}

export class SlotFullError extends SagaError {
  override readonly name = 'SlotFull';
  constructor(readonly slotId: string) {
    super(`Delivery slot ${slotId} is fully booked`);
  }
}

export class UnknownSlotError extends SagaError {
  override readonly name = 'UnknownSlot';
  constructor(readonly slotId: string) {
    super(`Delivery slot ${slotId} does not exist`);
  }
}

export class OrderNotPendingError extends SagaError {
  override readonly name = 'OrderNotPending';
  constructor(
    readonly orderId: string,
    readonly status: string | undefined,
  ) {
    super(
      status === undefined
        ? `Order ${orderId} does not exist`
        : `Order ${orderId} is ${status}, not PENDING: it cannot be confirmed`,
    );
  }
}

export class OrderAlreadyConfirmedError extends SagaError {
  override readonly name = 'OrderAlreadyConfirmed';
  constructor(readonly orderId: string) {
    super(`Order ${orderId} was already confirmed: it is not unwound`);
  }
}

export class SagaStepCancelledError extends SagaError {
  override readonly name = 'SagaStepCancelled';
  constructor(
    readonly orderId: string,
    readonly step: string,
    readonly state: string,
  ) {
    super(`${step} for order ${orderId} was already compensated (${state}): it will not run`);
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

export class InvalidSagaInputError extends SagaError {
  override readonly name = 'InvalidSagaInput';
  constructor(message: string) {
    super(message);
  }
}

/** A failure worth retrying (throttling, transaction conflicts, injected `transient:N`). */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/** Mirrors what the Lambda runtime reports when a function outlives its timeout (injected `timeout`). */
export class FunctionTimeoutError extends Error {
  override readonly name = 'Sandbox.Timedout';
}

/** The order is CANCELLING (or CANCELLED): a forward step refuses, and the saga unwinds. */
export class OrderCancelledError extends SagaError {
  override readonly name = 'OrderCancelled';
  constructor(
    readonly orderId: string,
    readonly step: string,
  ) {
    super(`Order ${orderId} is being cancelled: ${step} refused`);
  }
}

/**
 * A reviewer rejected the order. Not thrown by a function: `POST /orders/{id}/review` fails the review
 * Task with this name (SendTaskFailure), and the Catch unwinds the saga like any business error.
 */
export class ReviewRejectedError extends SagaError {
  override readonly name = 'ReviewRejected';
  constructor(readonly orderId: string) {
    super(`Order ${orderId} was rejected by a reviewer`);
  }
}
