/**
 * The transfer saga's steps, each ONE step-engine transaction on the Accounts table (`accountId`,
 * `balance`): Debit (condition: the account exists and holds the amount), Credit (condition: the account
 * exists), and their compensations, which reverse the recorded effect once (or tombstone a step that never
 * ran). The handlers and the redrive function are the toolkit's, given the transfer's schema and dead letters.
 */
import * as z from 'zod/mini';
import {
  TRANSFER_ENV,
  TRANSFER_ID_ATTRIBUTE,
  TRANSFER_STEPS,
  type TransferCompensation,
  type TransferInput,
  type TransferStep,
} from '../../lib/transfer-contract';
import { dynamoDb } from '../../toolkit/runtime/clients/dynamodb';
import { requireEnvs } from '../../toolkit/runtime/config';
import { SagaError } from '../../toolkit/runtime/errors';
import type { RedriveApp } from '../../toolkit/runtime/redrive';
import { runAction, runCompensation, type StepStore } from '../../toolkit/runtime/step-engine';
import { faultPlanSchema, nonEmpty } from '../../toolkit/runtime/step-event';
import { createStepHandler } from '../../toolkit/runtime/step-handler';

export class InsufficientFundsError extends SagaError {
  override readonly name = 'InsufficientFunds';
}
export class UnknownAccountError extends SagaError {
  override readonly name = 'UnknownAccount';
}

const transferSchema = z.looseObject({
  transferId: nonEmpty(),
  from: nonEmpty(),
  to: nonEmpty(),
  amount: z.number().check(z.int(), z.minimum(1)),
  faults: faultPlanSchema,
});

type Deps = StepStore & { accounts: string };

/** `balance = balance + delta` on `accountId`, which must exist (and hold `-delta` when debiting). */
const move = (deps: Deps, accountId: string, delta: number, guardFunds = false) => ({
  Update: {
    TableName: deps.accounts,
    Key: { accountId },
    UpdateExpression: 'SET balance = balance + :delta',
    ConditionExpression: `attribute_exists(accountId)${guardFunds ? ' AND balance >= :amount' : ''}`,
    ExpressionAttributeValues: { ':delta': delta, ...(guardFunds ? { ':amount': -delta } : {}) },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  },
});

/** Debit / Credit: one conditional balance change, recorded as the effect its compensation reverses. */
function step(name: TransferStep, t: TransferInput, deps: Deps) {
  const [accountId, delta] = name === 'Debit' ? [t.from, -t.amount] : [t.to, t.amount];
  return runAction(deps, {
    sagaId: t.transferId,
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
  return runCompensation(deps, {
    sagaId: t.transferId,
    step: name,
    compensation: TRANSFER_STEPS[name],
    reverse: (record) => {
      const { accountId, delta } = record.effect as { accountId: string; delta: number };
      return { writes: [move(deps, accountId, -delta)] };
    },
  });
}

/** The Lambda handler of one step or compensation. */
export function transferHandler(operation: TransferStep | TransferCompensation) {
  const steps = Object.keys(TRANSFER_STEPS) as TransferStep[];
  const forward = steps.find((s) => s === operation || TRANSFER_STEPS[s] === operation) as TransferStep;
  return createStepHandler<TransferInput, Deps, unknown>({
    operation,
    schema: transferSchema,
    id: { key: 'transferId', of: (t) => t.transferId },
    deps: () => {
      const env = requireEnvs({ keys: TRANSFER_ENV.idempotency, accounts: TRANSFER_ENV.accounts });
      return {
        doc: dynamoDb(),
        idempotencyTable: env.keys,
        idAttribute: TRANSFER_ID_ATTRIBUTE,
        accounts: env.accounts,
      };
    },
    run: (t, deps) => (operation === forward ? step(forward, t, deps) : compensation(forward, t, deps)),
  });
}

/** The transfer's dead letters: a compensation, keyed like its idempotency records. */
export const transferRedrive = (): RedriveApp => ({
  idField: TRANSFER_ID_ATTRIBUTE,
  steps: Object.values(TRANSFER_STEPS),
  inputSchema: transferSchema,
});
