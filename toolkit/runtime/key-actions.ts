/**
 * The DynamoDB calls the step engine makes on the IdempotencyKeys table, as IAM authorises them (a
 * `TransactWriteItems` is authorised per item): what a step's or a compensation's function is granted there.
 */
export const KEY_ACTIONS = {
  /** `runAction`: read the key record, then Put it in the step's transaction. */
  action: ['GetItem', 'PutItem'],
  /** `runCompensation`: read, then tombstone (Put) or mark COMPENSATED (Update). */
  compensation: ['GetItem', 'PutItem', 'UpdateItem'],
} as const;
