/**
 * The app config the local cloud loads (`npm start`, `--config FILE` for another): what this app adds to
 * a generic local cloud. The order saga seeds its empty tables with the demo data (`seed/demo.json`) and
 * brings its console extras (the start-an-order form, the data panels, the order actions). The hook
 * types are the local cloud's (`localcloud/plugin.ts`); the money transfer saga is the second entry in `sagas`.
 */
import { orderConsole } from './client/order-console';
import { transferSaga } from './client/transfer';
import { TEST_REVIEW_TIMEOUT_SECONDS } from './lib/contract';
import type { LocalCloudPlugin } from './localcloud/plugin';
import { seedEmptyTables } from './scripts/seed';

export default {
  sagas: [
    { name: 'order', idField: 'orderId', seed: (ctx) => seedEmptyTables(ctx), console: orderConsole },
    transferSaga,
  ],
  outputsFile: '.stepsaga/outputs.json',
  // The dev stage with fault injection on: the console's fault presets and the chaos tool need it. Its
  // review deadline is a few minutes (lib/app.ts), time for a person at the console.
  synthContext: { faults: 'on' },
  // Tests, benchmarks and chaos runs wait reviews out: a short deadline.
  testSynthContext: { reviewTimeout: String(TEST_REVIEW_TIMEOUT_SECONDS) },
} satisfies LocalCloudPlugin;
