/**
 * The local-cloud harness: a local cloud started for tests (a random port, the test assembly, quiet) and
 * the project's shared local cloud, started once per test project by `localcloud.global.ts` and handed to
 * the test files through vitest's `provide`/`inject`.
 *
 * A file uses the shared cloud when it isolates itself by its own names (order ids, tables, queues, state
 * machines) and needs no option of its own. A file that needs options (IAM off, `--persist`, a mock config,
 * another Retry scale, hooks on requests or logs, a kill) starts its own with `startTestCloud`.
 */
import { inject } from 'vitest';
import type { Outputs } from '../../client/outputs';
import { ensureAssembly } from '../../localcloud/assembly';
import { type LocalCloud, type LocalCloudOptions, startLocalCloud } from '../../localcloud/cloud';
import type { DeployReport } from '../../localcloud/deploy/deploy';
import { describeDenial } from '../../localcloud/iam/enforcer';

/** What a test file gets of the shared local cloud (plain data: it crosses from the runner to the files). */
export interface SharedCloud {
  endpoint: string;
  consoleUrl: string;
  /** Stack outputs, plus `Endpoint`, `ConsoleUrl` and `ApiUrl`. */
  outputs: Outputs;
  /** What the deployment created and skipped. */
  deployment: Pick<DeployReport, 'created' | 'skipped'>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The project's shared local cloud; undefined when the suite runs against LocalStack or AWS. */
    localCloud: SharedCloud | undefined;
  }
}

/** The administrator's credentials of the local cloud (any key it did not issue). */
export const ADMIN_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/**
 * The options of each project's shared cloud: the test assembly (dev stage, fault injection on), the demo
 * data seeded, Retry intervals scaled down. Projects not listed get no shared cloud.
 */
export const SHARED_CLOUD_OPTIONS: Record<string, Pick<LocalCloudOptions, 'seed' | 'retryScale'>> = {
  localcloud: { seed: true, retryScale: 0.02 },
  e2e: { seed: true, retryScale: 0.01 },
};

/**
 * Starts a local cloud of its own for one test file: port 0, quiet, Lambda logs dropped, and the test
 * assembly unless `assembly` says otherwise. Close it in `afterAll`: `close()` rejects, naming them, if
 * IAM denied any call — the stack's roles must be sufficient for everything a test does. The shared
 * clouds' teardown (`localcloud.global.ts`) closes theirs the same way; a file that denies on purpose
 * (iam.test.ts) runs a cloud of its own and asserts that rejection.
 */
export async function startTestCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const cloud = await startLocalCloud({
    port: 0,
    quiet: true,
    onLog: () => undefined,
    ...options,
    assembly: options.assembly ?? (await ensureAssembly()),
  });
  const close = cloud.close;
  let closing: Promise<void> | undefined;
  cloud.close = () => {
    closing ??= close().then(() => {
      const { denials, denied } = cloud.iam.summary();
      if (denials > 0)
        throw new Error(
          `IAM denied ${denials} call${denials === 1 ? '' : 's'} on this test cloud (a role of the stack lacks a grant; a test that denies on purpose needs a cloud of its own, as in test/localcloud/iam.test.ts):\n${denied.map((d) => `  ${describeDenial(d)}`).join('\n')}`,
        );
    });
    return closing;
  };
  return cloud;
}

/** The shared local cloud of this test project (see `localcloud.global.ts`). */
export function sharedCloud(): SharedCloud {
  const cloud = inject('localCloud');
  if (!cloud)
    throw new Error(
      'No shared local cloud in this test project: its vitest project needs globalSetup ' +
        "'test/support/localcloud.global.ts' and an entry in SHARED_CLOUD_OPTIONS",
    );
  return cloud;
}

/** SDK client config for a local cloud, as the administrator. */
export function sdkConfig(cloud: { endpoint: string }): {
  endpoint: string;
  region: string;
  credentials: typeof ADMIN_CREDENTIALS;
} {
  return { endpoint: cloud.endpoint, region: 'us-east-1', credentials: ADMIN_CREDENTIALS };
}

export { ensureAssembly, TEST_ASSEMBLY_DIR } from '../../localcloud/assembly';
