/**
 * The order saga's business errors. Each class sets `this.name` to the contract name (lib/contract.ts
 * `BUSINESS_ERRORS`) exactly: Step Functions Catch/Retry match on it. The toolkit's own errors
 * (`SagaStepCancelled`, `InjectedFailure`, `CrashAfterCommit`, `InvalidSagaInput`, `TransientError`) are in
 * toolkit/runtime/errors.ts.
 */
import type { BusinessErrorName } from '../../lib/contract';
import { SagaError } from '../../toolkit/runtime/errors';

/** Base class of the order's business errors: a contract name, never retried. */
abstract class OrderError extends SagaError {
  abstract override readonly name: BusinessErrorName;
}

export class PromoExhaustedError extends OrderError {
  override readonly name = 'PromoExhausted';
  constructor(readonly code: string) {
    super(`Promo code ${code} has no uses left`);
  }
}

export class PromoNotFoundError extends OrderError {
  override readonly name = 'PromoNotFound';
  constructor(readonly code: string) {
    super(`Promo code ${code} does not exist`);
  }
}

export class InsufficientStockError extends OrderError {
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

export class UnknownSkuError extends OrderError {
  override readonly name = 'UnknownSku';
  constructor(readonly sku: string) {
    super(`SKU ${sku} does not exist`);
  }
}

export class InsufficientFundsError extends OrderError {
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

export class UnknownCustomerError extends OrderError {
  override readonly name = 'UnknownCustomer';
  constructor(readonly customerId: string) {
    super(`Customer ${customerId} does not exist`);
  }
}

export class SlotFullError extends OrderError {
  override readonly name = 'SlotFull';
  constructor(readonly slotId: string) {
    super(`Delivery slot ${slotId} is fully booked`);
  }
}

export class UnknownSlotError extends OrderError {
  override readonly name = 'UnknownSlot';
  constructor(readonly slotId: string) {
    super(`Delivery slot ${slotId} does not exist`);
  }
}

export class OrderNotPendingError extends OrderError {
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

export class OrderAlreadyConfirmedError extends OrderError {
  override readonly name = 'OrderAlreadyConfirmed';
  constructor(readonly orderId: string) {
    super(`Order ${orderId} was already confirmed: it is not unwound`);
  }
}

/** The order is CANCELLING (or CANCELLED): a forward step refuses, and the saga unwinds. */
export class OrderCancelledError extends OrderError {
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
export class ReviewRejectedError extends OrderError {
  override readonly name = 'ReviewRejected';
  constructor(readonly orderId: string) {
    super(`Order ${orderId} was rejected by a reviewer`);
  }
}
