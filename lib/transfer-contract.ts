/**
 * The money transfer saga's contract (the second saga built from the toolkit): Debit the source account,
 * then Credit the destination; CreditBack undoes Debit, DebitBack undoes Credit. Amounts are integer
 * minor units; the execution is named after the `transferId`.
 */
import { FAULTS_ENV, type FaultMode } from '../toolkit/runtime/faults';

export const TRANSFER_STEPS = { Debit: 'CreditBack', Credit: 'DebitBack' } as const;
export type TransferStep = keyof typeof TRANSFER_STEPS;
export type TransferCompensation = (typeof TRANSFER_STEPS)[TransferStep];

/** The execution input. `faults` (step or compensation name → fault mode) only where faults are on. */
export interface TransferInput {
  transferId: string;
  from: string;
  to: string;
  amount: number;
  faults?: Partial<Record<TransferStep | TransferCompensation, FaultMode>>;
}

/**
 * The attribute that holds the transferId in IdempotencyKeys (partition key) and DLQ messages: the name the
 * table was created with. Renaming it would replace the table and lose its records.
 */
export const TRANSFER_ID_ATTRIBUTE = 'orderId';

/** The stack outputs: distinct from the order saga's (the local cloud merges all stacks' outputs). */
export const TRANSFER_OUTPUTS = {
  stateMachineArn: 'TransferStateMachineArn',
  dlqUrl: 'TransferDlqUrl',
  accountsTable: 'TransferAccountsTableName',
  idempotencyTable: 'TransferIdempotencyKeysTableName',
  redriveFunction: 'TransferRedriveFunctionName',
} as const;

export const TRANSFER_ENV = {
  accounts: 'TRANSFER_ACCOUNTS_TABLE_NAME',
  idempotency: 'TRANSFER_IDEMPOTENCY_TABLE_NAME',
  faults: FAULTS_ENV,
} as const;

export const transferStackName = (stage: string): string => `TransferSaga-${stage}`;
