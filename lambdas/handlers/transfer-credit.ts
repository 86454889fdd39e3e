import { transferHandler } from '../domain/transfer';

/** Transfer saga, Credit: Credits the destination account (UnknownAccount). */
export const handler = transferHandler('Credit');
