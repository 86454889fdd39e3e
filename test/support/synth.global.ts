/**
 * Vitest global setup: makes sure `cdk.out` holds a current assembly of the dev stage with fault
 * injection on (what the local cloud deploys), synthesizing once per test run when it is missing or older
 * than the sources. Skipped when the tests target LocalStack or AWS.
 */
import { ensureAssembly } from './assembly';

export default async function setup(): Promise<void> {
  if ((process.env.STEPSAGA_TARGET ?? 'local') !== 'local') return;
  await ensureAssembly();
}
