import { transferHandler } from '../domain/transfer';

/** Transfer saga, DebitBack: Undoes Credit: debits the destination back (or tombstones a Credit that never ran). */
export const handler = transferHandler('DebitBack');
