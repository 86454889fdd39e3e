/**
 * The transfer saga's steps, each ONE step-engine transaction on the Accounts table (`accountId`,
 * `balance`): Debit (condition: the account exists and holds the amount), Credit (condition: the account
 * exists), and their compensations, which reverse the recorded effect once (or tombstone a step that never
 * ran). The handler factory is the order saga's `createStepHandler` minus the order's event schema.
 */
import * as z from 'zod/mini';
import {
  TRANSFER_ENV,
  TRANSFER_STEPS,
  type TransferCompensation,
  type TransferInput,
  type TransferStep,
} from '../../lib/transfer-contract';
import { dynamoDb } from '../shared/clients/dynamodb';
import { faultsEnabled, once, requireEnv } from '../shared/config';
import { InvalidSagaInputError } from '../shared/errors';
import { withFault } from '../shared/faults';
import { bindLogContext, logger } from '../shared/observability';
import { runAction, runCompensation, type StepStore, type TransactItem } from '../shared/step-engine';
import { describeIssues } from '../shared/step-event';

export class InsufficientFundsError extends Error {
  override readonly name = 'InsufficientFunds';
}
export class UnknownAccountError extends Error {
  override readonly name = 'UnknownAccount';
}

const id = () => z.string().check(z.minLength(1));
const transferEvent = z.object({
  saga: z.looseObject({
    transferId: id(),
    from: id(),
    to: id(),
    amount: z.number().check(z.int(), z.minimum(1)),
    faults: z.optional(z.record(z.string(), z.string())),
  }),
  context: z.object({ executionArn: id(), retryCount: z._default(z.number(), 0) }),
});

interface Deps {
  store: StepStore;
  accounts: string;
}

/** `balance = balance + delta` on `accountId`, which must exist (and hold `-delta` when debiting). */
function move(deps: Deps, accountId: string, delta: number, guardFunds: boolean): TransactItem {
  return {
    Update: {
      TableName: deps.accounts,
      Key: { accountId },
      UpdateExpression: 'SET balance = balance + :delta',
      ConditionExpression: `attribute_exists(accountId)${guardFunds ? ' AND balance >= :amount' : ''}`,
      ExpressionAttributeValues: { ':delta': delta, ...(guardFunds ? { ':amount': -delta } : {}) },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** Debit / Credit: one conditional balance change, recorded as the effect its compensation reverses. */
function step(name: TransferStep, t: TransferInput, deps: Deps) {
  const accountId = name === 'Debit' ? t.from : t.to;
  const delta = name === 'Debit' ? -t.amount : t.amount;
  return runAction<{ accountId: string; amount: number }, TransferStep>(deps.store, {
    orderId: t.transferId,
    step: name,
    plan: async () => ({
      writes: [move(deps, accountId, delta, name === 'Debit')],
      result: { accountId, amount: t.amount },
      effect: { accountId, delta },
      onConditionFailed: (_index, old) =>
        old
          ? new InsufficientFundsError(
              `Account ${accountId} cannot pay ${t.amount}: balance is ${old.balance}`,
            )
          : new UnknownAccountError(`Account ${accountId} does not exist`),
    }),
  });
}

/** CreditBack / DebitBack: reverses exactly the recorded delta (never re-reads the input). */
function compensation(name: TransferStep, t: TransferInput, deps: Deps) {
  return runCompensation<TransferStep, TransferCompensation>(deps.store, {
    orderId: t.transferId,
    step: name,
    compensation: TRANSFER_STEPS[name],
    reverse: (record) => {
      const { accountId, delta } = record.effect as { accountId: string; delta: number };
      return { writes: [move(deps, accountId, -delta, false)] };
    },
  });
}

/** The Lambda handler of one step or compensation: validate, bind logs, apply the fault plan, run. */
export function transferHandler(operation: TransferStep | TransferCompensation) {
  const config = once(() => ({
    store: { doc: dynamoDb(), idempotencyTable: requireEnv(TRANSFER_ENV.idempotency) },
    accounts: requireEnv(TRANSFER_ENV.accounts),
    faults: faultsEnabled(),
  }));
  const forward = (Object.keys(TRANSFER_STEPS) as TransferStep[]).find((s) => s === operation);
  const undone = (Object.keys(TRANSFER_STEPS) as TransferStep[]).find((s) => TRANSFER_STEPS[s] === operation);
  return async (rawEvent: unknown, context?: { getRemainingTimeInMillis?(): number }) => {
    const parsed = transferEvent.safeParse(rawEvent);
    if (!parsed.success)
      throw new InvalidSagaInputError(`Invalid step event: ${describeIssues(parsed.error)}`);
    const { saga, context: ctx } = parsed.data;
    const t = saga as TransferInput;
    bindLogContext({ orderId: t.transferId, executionArn: ctx.executionArn, operation });
    const deps = config();
    const fault = {
      enabled: deps.faults,
      retryCount: ctx.retryCount,
      remainingTimeMs: context?.getRemainingTimeInMillis?.bind(context),
    };
    const work = (): Promise<unknown> =>
      forward ? step(forward, t, deps) : compensation(undone as TransferStep, t, deps);
    try {
      const result = await withFault(operation, t.faults, fault, work);
      logger.info(`${operation} succeeded`, { result });
      return result;
    } catch (error) {
      logger.warn(`${operation} failed`, { error: error as Error });
      throw error;
    }
  };
}
