/**
 * Vitest global setup: synthesizes the test assembly (dev stage, fault injection on) once per run, before
 * the test files start, when it is missing or older than the sources. Skipped for LocalStack and AWS.
 */
import { ensureAssembly, targetName } from './target';

export default async function setup(): Promise<void> {
  if (targetName() !== 'local') return;
  await ensureAssembly();
}
