import { transferHandler } from '../domain/transfer';

/** Transfer saga, CreditBack: Undoes Debit: credits the source back (or tombstones a Debit that never ran). */
export const handler = transferHandler('CreditBack');
