/**
 * The target of the end-to-end suite. By default the project's shared local cloud (`localcloud.ts`: the
 * real assembly synthesized with the app config's `synthContext` (`-c faults=on`) into
 * `.stepsaga/test-assembly`, re-synthesized only when stale (localcloud/synth.ts), and a small `retryScale`). With
 * `STEPSAGA_TARGET=localstack|aws` it reads the outputs file named by `STEPSAGA_OUTPUTS` (flat, or the
 * nested `cdk deploy --outputs-file` form) instead.
 *
 * Whatever the target: outputs, SDK client config, and a SigV4-signing client for the API.
 */
import { type ApiClient, createApiClient } from '../../client/api';
import { clientConfig, type Outputs, readOutputs, requireOutput } from '../../client/outputs';
import { type ChaosTarget, makeTarget, parseOutputs } from '../../client/target';
import type { LocalCloud, LocalCloudOptions } from '../../localcloud/cloud';
import { ADMIN_CREDENTIALS, sharedCloud, startTestCloud } from './localcloud';

/** `STEPSAGA_TARGET`: `local` (default; `localcloud` is accepted too), `localstack` or `aws`. */
export type TargetName = 'local' | 'localstack' | 'aws';

export interface Target {
  name: TargetName;
  outputs: Outputs;
  /** The AWS endpoint (local cloud or LocalStack); undefined for AWS itself. */
  endpoint?: string;
  apiUrl: string;
  /** Config for SDK clients (`new DynamoDBClient(target.sdk)`). */
  sdk: ReturnType<typeof clientConfig>;
  /** Signs every request with SigV4 (the API uses AWS_IAM auth). */
  api: ApiClient;
  /** The running local cloud (only for the `local` target). */
  cloud?: LocalCloud;
  close(): Promise<void>;
}

export function targetName(): TargetName {
  const value = process.env.STEPSAGA_TARGET ?? 'local';
  if (value === 'local' || value === 'localcloud') return 'local';
  if (value === 'localstack' || value === 'aws') return value;
  throw new Error(`STEPSAGA_TARGET must be local, localstack or aws, got '${value}'`);
}

/**
 * Connects to the target. On the local cloud: the project's shared cloud (`localcloud.global.ts`), or,
 * when `ownCloud` options are given (another Retry scale, `--persist`), a local cloud of this file's own.
 * Call `close()` in `afterAll` (it stops only a cloud of the file's own).
 */
export async function startTarget(
  ownCloud?: Pick<LocalCloudOptions, 'retryScale' | 'seed' | 'persistDir'>,
): Promise<Target> {
  const name = targetName();
  if (name !== 'local') {
    const outputs = readOutputs(process.env.STEPSAGA_OUTPUTS);
    if (name === 'localstack' && !outputs.Endpoint)
      outputs.Endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566';
    return connect(name, outputs, async () => undefined);
  }
  if (!ownCloud) {
    const shared = sharedCloud();
    return connect(name, { ...shared.outputs }, async () => undefined, ADMIN_CREDENTIALS);
  }
  const cloud = await startTestCloud({ seed: true, retryScale: 0.01, ...ownCloud });
  return { ...connect(name, { ...cloud.outputs }, () => cloud.close(), ADMIN_CREDENTIALS), cloud };
}

function connect(
  name: TargetName,
  outputs: Outputs,
  close: () => Promise<void>,
  apiCredentials?: typeof ADMIN_CREDENTIALS,
): Target {
  const apiUrl = requireOutput(outputs, 'ApiUrl');
  const sdk = clientConfig(outputs);
  return {
    name,
    outputs,
    apiUrl,
    sdk,
    api: createApiClient({ apiUrl, region: sdk.region, credentials: apiCredentials ?? sdk.credentials }),
    close,
    ...(outputs.Endpoint ? { endpoint: outputs.Endpoint } : {}),
  };
}

/** The chaos tool's view of the target (`npm run chaos` drives the same one). */
export function chaosTarget(target: Target): ChaosTarget {
  return makeTarget(
    target.name,
    parseOutputs(target.outputs, `${target.name} outputs`),
    target.outputs.Endpoint,
  );
}

let faultsChecked: { reason: string | undefined } | undefined;

/**
 * Why this target cannot run fault scenarios, or undefined when it can. The local cloud always can (its
 * assembly is synthesized with `-c faults=on`); a deployed stack can when its `FaultInjection` output is
 * `on`. Otherwise its API rightly refuses every fault plan with 400, so the scenarios are skipped and the
 * reason is printed once. Synchronous: `it.skipIf` needs it while the file is collected.
 */
export function faultScenariosUnavailable(): string | undefined {
  if (faultsChecked) return faultsChecked.reason;
  const name = targetName();
  let reason: string | undefined;
  if (name !== 'local') {
    const file = process.env.STEPSAGA_OUTPUTS;
    const value = readOutputs(file).FaultInjection;
    if (value !== 'on') {
      reason =
        `STEPSAGA_TARGET=${name}: the stack of ${file ?? 'the outputs file'} has FaultInjection=${value ?? '(none)'}, ` +
        'so its API refuses fault plans (400) and the fault scenarios are skipped. Deploy a dev stack with ' +
        '`-c faults=on` to run them (docs/operations.md, "First deploy").';
      process.stderr.write(`${reason}\n`);
    }
  }
  faultsChecked = { reason };
  return reason;
}
