/**
 * The contract shared by the CDK stack (`lib/`), the Lambda code (`lambdas/`), the local cloud
 * (`localcloud/`) and the tests. Pure TypeScript: no CDK or AWS SDK imports, so esbuild can bundle it
 * into every function.
 *
 * Everything named here is a contract with users: state names show up in the execution history and the
 * console, error names are what Catch/Retry match on, table keys are what data and tools rely on.
 * Change a name only with a migration note in docs/architecture.md.
 */

import { REDRIVE_ENV } from '../toolkit/runtime/config';
import { FAULTS_ENV, type FaultMode } from '../toolkit/runtime/faults';
import { KEY_ACTIONS } from '../toolkit/runtime/key-actions';
import type { StepEvent as SagaStepEvent } from '../toolkit/runtime/step-event';

/** Forward steps of the order saga, in execution order. */
export const STEP_NAMES = [
  'ReservePromo',
  'ReserveStock',
  'ChargePayment',
  'BookDelivery',
  'ConfirmOrder',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

/**
 * Compensation of each forward step. `RejectOrder` is ConfirmOrder's guard: it tombstones the
 * confirmation so a late ConfirmOrder refuses, and if the confirmation had in fact committed (unknown
 * outcome: timeout or crash after commit) it throws `OrderAlreadyConfirmed`, which ends the saga as a
 * success instead of unwinding a confirmed order (see docs/architecture.md, "the pivot").
 */
export const COMPENSATION_OF = {
  ReservePromo: 'ReleasePromo',
  ReserveStock: 'ReleaseStock',
  ChargePayment: 'RefundPayment',
  BookDelivery: 'CancelDelivery',
  ConfirmOrder: 'RejectOrder',
} as const satisfies Record<StepName, string>;
export type CompensationName = (typeof COMPENSATION_OF)[StepName];
export const COMPENSATION_NAMES = STEP_NAMES.map((s) => COMPENSATION_OF[s]) as CompensationName[];

/** Any saga operation that writes an IdempotencyKeys record. */
export type SagaOperation = StepName | CompensationName;

/** Other state names of the state machine (besides the step and compensation Tasks). */
export const STATE_NAMES = {
  hasPromo: 'HasPromoCode',
  hasPromoToRelease: 'HasPromoToRelease',
  /** Pass state `<Step>Failed` records `{step, error, cause}` at `$.failure`, then enters the unwind. */
  failedSuffix: 'Failed',
  /** SqsSendMessage Task `<Compensation>ToDLQ`, reached when a compensation exhausts its retries. */
  dlqSuffix: 'ToDLQ',
  recordFailure: 'RecordFailure',
  checkCompensations: 'AllCompensated',
  succeed: 'OrderConfirmed',
  failOrder: 'OrderFailed',
  failCompensation: 'CompensationFailed',
  /** Choice in front of the review: only orders whose total reaches the review threshold wait. */
  needsReview: 'NeedsReview',
  /** `.waitForTaskToken` Task between ReserveStock and ChargePayment (no effect to undo). */
  requestReview: 'RequestReview',
} as const;

/** Error names of the review: `POST /orders/{id}/review {decision: "reject"}` fails the review Task with it. */
export const REVIEW_REJECTED = 'ReviewRejected';
/** Step Functions' error of a Task (or a `.waitForTaskToken` wait) past its `TimeoutSeconds`. */
export const STATES_TIMEOUT = 'States.Timeout';

/** The business errors the order's data causes (no promo uses, stock, money or slot left; unknown ids). */
export const DATA_ERRORS = [
  'PromoExhausted',
  'PromoNotFound',
  'InsufficientStock',
  'UnknownSku',
  'InsufficientFunds',
  'UnknownCustomer',
  'SlotFull',
  'UnknownSlot',
] as const;

/** Error names (Catch and Retry match these; classes set `this.name` and bundles keep names). */
export const BUSINESS_ERRORS = [
  ...DATA_ERRORS,
  'OrderNotPending',
  'OrderAlreadyConfirmed',
  /** The order was cancelled (CANCELLING): a forward step refuses in its own transaction. */
  'OrderCancelled',
  /** A reviewer rejected the order (the review Task fails with it). */
  'ReviewRejected',
  'SagaStepCancelled',
  'InjectedFailure',
  'CrashAfterCommit',
  'InvalidSagaInput',
] as const;
export type BusinessErrorName = (typeof BUSINESS_ERRORS)[number];

/** Errors a forward step retries (with backoff and full jitter): the toolkit's (toolkit/construct/saga-errors.ts). */
export { TRANSIENT_ERRORS } from '../toolkit/construct/saga-errors';

/** DynamoDB tables: construct id, key attributes, and the env var that carries the physical name. */
export const TABLES = {
  Accounts: { partitionKey: 'customerId', env: 'ACCOUNTS_TABLE_NAME' },
  Inventory: { partitionKey: 'sku', env: 'INVENTORY_TABLE_NAME' },
  Promos: { partitionKey: 'code', env: 'PROMOS_TABLE_NAME' },
  DeliverySlots: { partitionKey: 'slotId', env: 'DELIVERY_SLOTS_TABLE_NAME' },
  Orders: { partitionKey: 'orderId', env: 'ORDERS_TABLE_NAME' },
  IdempotencyKeys: {
    partitionKey: 'orderId',
    sortKey: 'step',
    env: 'IDEMPOTENCY_TABLE_NAME',
    ttl: 'expiresAt',
  },
} as const;
export type TableId = keyof typeof TABLES;

/** Other environment variables the functions read. */
export const ENV = {
  /** `on` enables the `faults` plan in saga input (local cloud and dev stages only). Anything else: off. */
  faults: FAULTS_ENV,
  stateMachineArn: 'STATE_MACHINE_ARN',
  dlqUrl: REDRIVE_ENV.dlqUrl,
  /** JSON `{ "<CompensationName>": "<function name>" }`, read by the redrive function. */
  compensationFunctions: REDRIVE_ENV.compensationFunctions,
  /** The Redrive function's name, read by the api function (resume of a NEEDS_ATTENTION order). */
  redriveFunction: 'REDRIVE_FUNCTION_NAME',
} as const;

/**
 * The DynamoDB calls a function makes on a table, as IAM authorises them: a `TransactWriteItems` is
 * authorised per item (`PutItem`, `UpdateItem`, `ConditionCheckItem`, `DeleteItem` on that item's
 * table), a `BatchGetItem` as itself. IAM grants each function exactly these on each table, nothing more
 * (no `Scan`, `DescribeTable`, `BatchWriteItem`, no table it does not use).
 */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'ConditionCheckItem';

/** The step engine's calls on IdempotencyKeys (toolkit/runtime/key-actions.ts). */
const ACTION_KEY: readonly TableAction[] = KEY_ACTIONS.action;
const COMPENSATION_KEY: readonly TableAction[] = KEY_ACTIONS.compensation;
/** A forward step's "order not cancelled" ConditionCheck on Orders, inside its transaction. */
const CANCELLATION_GUARD: readonly TableAction[] = ['ConditionCheckItem'];

/**
 * Lambda functions: construct id (`<Id>Function`), entry file under lambdas/handlers, and the tables
 * each touches with the calls it makes there (least privilege: IAM grants exactly these; the function
 * gets the physical names of exactly these tables). Checked against the handlers by the IAM report
 * (`npm run iam-report`, test/localcloud/iam-report.test.ts).
 */
export const FUNCTIONS = {
  ReservePromo: {
    entry: 'reserve-promo.ts',
    tables: { Orders: CANCELLATION_GUARD, Promos: ['GetItem', 'UpdateItem'], IdempotencyKeys: ACTION_KEY },
  },
  ReleasePromo: {
    entry: 'release-promo.ts',
    tables: { Promos: ['UpdateItem'], IdempotencyKeys: COMPENSATION_KEY },
  },
  ReserveStock: {
    entry: 'reserve-stock.ts',
    tables: {
      Orders: CANCELLATION_GUARD,
      Inventory: ['BatchGetItem', 'UpdateItem'],
      IdempotencyKeys: ACTION_KEY,
    },
  },
  ReleaseStock: {
    entry: 'release-stock.ts',
    tables: { Inventory: ['UpdateItem'], IdempotencyKeys: COMPENSATION_KEY },
  },
  ChargePayment: {
    entry: 'charge-payment.ts',
    tables: { Orders: CANCELLATION_GUARD, Accounts: ['UpdateItem'], IdempotencyKeys: ACTION_KEY },
  },
  RefundPayment: {
    entry: 'refund-payment.ts',
    tables: { Accounts: ['UpdateItem'], IdempotencyKeys: COMPENSATION_KEY },
  },
  BookDelivery: {
    entry: 'book-delivery.ts',
    tables: { Orders: CANCELLATION_GUARD, DeliverySlots: ['UpdateItem'], IdempotencyKeys: ACTION_KEY },
  },
  CancelDelivery: {
    entry: 'cancel-delivery.ts',
    tables: { DeliverySlots: ['UpdateItem'], IdempotencyKeys: COMPENSATION_KEY },
  },
  /** The pivot: its own condition (PENDING) is the cancellation check, no separate ConditionCheck. */
  ConfirmOrder: {
    entry: 'confirm-order.ts',
    tables: { Orders: ['UpdateItem'], IdempotencyKeys: ACTION_KEY },
  },
  /**
   * ConfirmOrder's guard: tombstones an unconfirmed confirmation, or refuses (OrderAlreadyConfirmed)
   * before any write, so it never marks a record COMPENSATED (no UpdateItem) and never touches Orders.
   */
  RejectOrder: { entry: 'reject-order.ts', tables: { IdempotencyKeys: ['GetItem', 'PutItem'] } },
  RequestReview: { entry: 'request-review.ts', tables: { Orders: ['UpdateItem'] } },
  RecordFailure: { entry: 'record-failure.ts', tables: { Orders: ['GetItem', 'UpdateItem'] } },
  /** Orders: read, create (POST), cancel/review/resume updates; IdempotencyKeys: an order's step history. */
  Api: {
    entry: 'api.ts',
    tables: { Orders: ['GetItem', 'PutItem', 'UpdateItem'], IdempotencyKeys: ['Query'] },
  },
  Redrive: { entry: 'redrive.ts', tables: { Orders: ['GetItem', 'UpdateItem'] } },
} as const satisfies Record<
  string,
  { entry: string; tables: Partial<Record<TableId, readonly TableAction[]>> }
>;
export type FunctionId = keyof typeof FUNCTIONS;

/** CfnOutput names (tests and tools read these from an outputs file). */
export const OUTPUTS = [
  'ApiUrl',
  'StateMachineArn',
  'DlqUrl',
  'AccountsTableName',
  'InventoryTableName',
  'PromosTableName',
  'DeliverySlotsTableName',
  'OrdersTableName',
  'IdempotencyKeysTableName',
  'RedriveFunctionName',
  /** `on` when the stack honours fault plans (`-c faults=on`), else `off`: the e2e suite reads it. */
  'FaultInjection',
] as const;
export type OutputName = (typeof OUTPUTS)[number];

/**
 * Every stage is its own CloudFormation stack, `OrderSaga-<stage>` (`OrderSaga-dev`, `OrderSaga-prod`),
 * so stages coexist in one account and region. Tools find a stack's outputs under any name with this
 * prefix (`cdk deploy --outputs-file` nests them under the stack name).
 */
export const STACK_NAME_PREFIX = 'OrderSaga';

/** Deployment stage: `prod` keeps data on delete and logs less; `dev` cleans up and logs everything. */
export type Stage = 'dev' | 'prod';

/** The CloudFormation stack name of a stage. */
export function stackName(stage: string): string {
  return `${STACK_NAME_PREFIX}-${stage}`;
}

// ---------------------------------------------------------------------------------------------------
// Data shapes
// ---------------------------------------------------------------------------------------------------

export interface OrderItem {
  sku: string;
  /** Whole units, 1..1000. */
  quantity: number;
}

/** Fault modes and their validation: the toolkit's (toolkit/runtime/faults.ts). */
export {
  FAULT_MODE_NAMES,
  FAULT_MODE_PATTERN,
  FAULT_MODES,
  type FaultMode,
  isFaultMode,
} from '../toolkit/runtime/faults';

/** What a fault can target: a step, a compensation, or `RecordFailure` (the unwind's last write). */
export type FaultTarget = SagaOperation | typeof STATE_NAMES.recordFailure;

/** `{ "ChargePayment": "fail", "RefundPayment": "fail" }`: keys are step or compensation names, or RecordFailure. */
export type FaultPlan = Partial<Record<FaultTarget, FaultMode>>;

/** The execution input, written by the api function. */
export interface OrderSagaInput {
  orderId: string;
  customerId: string;
  items: OrderItem[];
  promoCode?: string;
  deliverySlot: string;
  faults?: FaultPlan;
}

export interface ReservePromoResult {
  code: string;
  discountPercent: number;
}
export interface PricedLine {
  sku: string;
  quantity: number;
  /** Minor units. */
  unitPrice: number;
}
/** The order total is computed once, here, and carried in the state. Integer minor units. */
export interface ReserveStockResult {
  lines: PricedLine[];
  subtotal: number;
  discount: number;
  total: number;
}
export interface ChargePaymentResult {
  amount: number;
}
export interface BookDeliveryResult {
  slotId: string;
}
export interface ConfirmOrderResult {
  status: 'CONFIRMED';
  total: number;
}
/** What a reviewer decided (the review Task's output, from SendTaskSuccess). */
export interface ReviewResult {
  decision: 'approve';
  note?: string;
}
export interface StepResults {
  RequestReview?: ReviewResult;
  ReservePromo?: ReservePromoResult;
  ReserveStock?: ReserveStockResult;
  ChargePayment?: ChargePaymentResult;
  BookDelivery?: BookDeliveryResult;
  ConfirmOrder?: ConfirmOrderResult;
}

/** Step Functions' Catch output `{Error, Cause}`. */
export interface StatesError {
  Error: string;
  Cause?: string;
}

/** The execution's JSON state as it flows through the state machine. */
export interface OrderSagaState extends OrderSagaInput {
  /** Forward Task results, at ResultPath `$.results.<Step>`. */
  results?: StepResults;
  /** Set by the `<Step>Failed` Pass state when a forward step failed. */
  failure?: { step: StepName | typeof STATE_NAMES.requestReview; error: string; cause?: string };
  /** Catch output of the compensation that just failed (ResultPath `$.compensationError`). */
  compensationError?: StatesError;
  /** `<Compensation>ToDLQ` results (SendMessage output, or the error if even that failed). */
  deadLettered?: Partial<Record<CompensationName, unknown>>;
}

/**
 * What every step/compensation Lambda receives: Parameters
 * `{ "saga.$": "$", "context": { "executionArn.$": "$$.Execution.Id", "retryCount.$": "$$.State.RetryCount" } }`.
 * Its return value is the step result (forward: stored at `$.results.<Step>`; compensation: discarded).
 */
/** The event every order function receives (`context.taskToken` only for the review Task). */
export type StepEvent = SagaStepEvent<OrderSagaState>;

/** The DLQ message body written by `<Compensation>ToDLQ` (and replayed by redrive). */
/**
 * What a DLQ message asks redrive to run again: a compensation, or `RecordFailure` (the unwind finished
 * but its outcome could not be written, so the order is still PENDING).
 */
export type DeadLetterStep = CompensationName | typeof STATE_NAMES.recordFailure;
export const DEAD_LETTER_STEPS: readonly DeadLetterStep[] = [
  ...COMPENSATION_NAMES,
  STATE_NAMES.recordFailure,
];

export interface DeadLetterMessage {
  orderId: string;
  step: DeadLetterStep;
  error: string;
  cause?: string;
  executionArn: string;
  input: OrderSagaState;
  /**
   * Set when a pivot guard (RejectOrder) could not decide: the unwind stopped there, so these
   * compensations, in this order, still have to run once redrive has run `step` successfully. If the
   * guard answers `OrderAlreadyConfirmed` instead, the order stays confirmed and none of them runs.
   */
  resume?: CompensationName[];
}

/**
 * Orders table item (the read model). Life:
 * `PENDING → AWAITING_REVIEW? → CONFIRMED | CANCELLED | NEEDS_ATTENTION`, with the transient
 * `CANCELLING` (a cancel or a rejection was decided; the saga is unwinding). `CANCELLED.reason` is
 * `<Error>: <message>` of the failed step (with `failedStep`), or one of {@link CANCEL_REASONS}.
 */
export const ORDER_STATUSES = [
  'PENDING',
  'AWAITING_REVIEW',
  'CANCELLING',
  'CONFIRMED',
  'CANCELLED',
  'NEEDS_ATTENTION',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Statuses that are not an outcome yet: the saga may still be running or unwinding (RecordFailure settles them). */
export const UNSETTLED_STATUSES: readonly OrderStatus[] = ['PENDING', 'AWAITING_REVIEW', 'CANCELLING'];

/** The POST actions on one order (`/orders/{orderId}/{action}`): the API's routes, the stack, the console. */
export const ORDER_ACTIONS = ['cancel', 'resume', 'review'] as const;
export type OrderAction = (typeof ORDER_ACTIONS)[number];

/**
 * Review deadlines (seconds) off AWS, where `-c reviewTimeout` is not given: `local` for a `faults=on` stack
 * (the local cloud of `npm start`: a person has a few minutes to click Approve), `test` for the assembly
 * of the tests, benchmarks and the chaos tool (stepsaga.config.ts `testSynthContext`), short enough to wait out.
 */
export const LOCAL_REVIEW_TIMEOUT_SECONDS = 300;
export const TEST_REVIEW_TIMEOUT_SECONDS = 20;

/** Why an order was cancelled when no step failed on its own. */
export const CANCEL_REASONS = ['CustomerCancelled', 'ReviewRejected', 'ReviewTimedOut'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** Statuses in which a forward step refuses (its transaction's ConditionCheck on the order). */
export const STOPPED_STATUSES: readonly OrderStatus[] = ['CANCELLING', 'CANCELLED'];
export interface OrderRecord {
  orderId: string;
  status: OrderStatus;
  customerId: string;
  items: OrderItem[];
  promoCode?: string;
  deliverySlot: string;
  /** sha256 of the canonical request body: same body again → same order, different → 409. */
  requestHash: string;
  executionArn?: string;
  total?: number;
  failedStep?: StepName;
  reason?: string;
  /** Set with CANCELLING: what RecordFailure will write as `reason`. */
  cancelReason?: CancelReason;
  /** The review Task's token while AWAITING_REVIEW (removed by the decision). */
  taskToken?: string;
  /** The reviewer's note, with the decision. */
  reviewNote?: string;
  reviewDecision?: 'approve' | 'reject';
  /** Compensations that ended in the DLQ and have not been redriven yet (a DynamoDB string set). */
  failedCompensations?: CompensationName[];
  createdAt: string;
  updatedAt: string;
}

/** IdempotencyKeys item: key (orderId, step). */
export type IdempotencyState = 'DONE' | 'COMPENSATED' | 'TOMBSTONE';
export interface IdempotencyRecord {
  orderId: string;
  step: SagaOperation;
  state: IdempotencyState;
  /** The action's result, replayed to duplicates. */
  result?: unknown;
  /** What the action changed, so its compensation reverses exactly that (never recomputed). */
  effect?: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  /** TTL (epoch seconds): 30 days. */
  expiresAt: number;
}

/** Demo/business data shapes (seed/demo.json and the tables). Money in integer minor units. */
export interface AccountRecord {
  customerId: string;
  name: string;
  balance: number;
}
export interface InventoryRecord {
  sku: string;
  name: string;
  price: number;
  stock: number;
}
export interface PromoRecord {
  code: string;
  discountPercent: number;
  usesLeft: number;
}
export interface DeliverySlotRecord {
  slotId: string;
  capacity: number;
  booked: number;
}
export interface SeedData {
  accounts: AccountRecord[];
  inventory: InventoryRecord[];
  promos: PromoRecord[];
  deliverySlots: DeliverySlotRecord[];
}
