/**
 * Vitest global setup of the projects that run against a local cloud: synthesizes the test assembly (dev
 * stage, fault injection on) when it is missing or older than the sources, then starts the project's
 * shared local cloud (`SHARED_CLOUD_OPTIONS`) and provides it to the test files (`sharedCloud()`); its
 * teardown fails the run (exit code 1) when IAM denied any call on it (`startTestCloud`). In the
 * e2e project with `STEPSAGA_TARGET=localstack|aws` it does neither: its files read the target's outputs
 * (the localcloud project tests the local cloud itself, whatever the target).
 */
import type { TestProject } from 'vitest/node';
import { ensureAssembly } from '../../localcloud/assembly';
import { SHARED_CLOUD_OPTIONS, startTestCloud } from './localcloud';
import { targetName } from './target';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  project.provide('localCloud', undefined);
  if (project.name === 'e2e' && targetName() !== 'local') return undefined;
  const assembly = await ensureAssembly();
  const options = SHARED_CLOUD_OPTIONS[project.name];
  if (!options) return undefined;
  const cloud = await startTestCloud({ ...options, assembly });
  project.provide('localCloud', {
    endpoint: cloud.endpoint,
    consoleUrl: cloud.consoleUrl,
    outputs: { ...cloud.outputs },
    deployment: { created: cloud.deployment?.created ?? [], skipped: cloud.deployment?.skipped ?? [] },
  });
  return async () => {
    // vitest only logs a teardown's error: the exit code says the run saw a denial no test asked for.
    await cloud.close().catch((error: unknown) => {
      process.exitCode = 1;
      throw error;
    });
  };
}
