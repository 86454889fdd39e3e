import { createRedriveHandler } from '../../toolkit/runtime/redrive-handler';
import { transferRedrive } from '../domain/transfer';

/** Transfer saga, Redrive: replays the compensations parked on the DLQ. */
export const handler = createRedriveHandler(transferRedrive);
