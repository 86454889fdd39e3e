import { transferHandler } from '../domain/transfer';

/** Transfer saga, Debit: Debits the source account (InsufficientFunds, UnknownAccount). */
export const handler = transferHandler('Debit');
