/**
 * The target an end-to-end test runs against, from `STEPSAGA_TARGET`:
 * - `local` (default): a local cloud started here on a random port from `cdk.out`, with Retry
 *   intervals scaled down so compensation retries take milliseconds;
 * - `localstack` / `aws`: an already deployed stack, from the outputs file `STEPSAGA_OUTPUTS`
 *   (`cdk deploy --outputs-file` form), nothing started or stopped here.
 */
import { type Outputs, readOutputs } from '../../client/outputs';
import { startLocalCloud } from '../../localcloud/cloud';
import { ensureAssembly } from './assembly';

export type TargetName = 'local' | 'localstack' | 'aws';

export interface Target {
  name: TargetName;
  outputs: Outputs;
  close(): Promise<void>;
}

export function targetName(): TargetName {
  const name = process.env.STEPSAGA_TARGET ?? 'local';
  if (name !== 'local' && name !== 'localstack' && name !== 'aws') {
    throw new Error(`STEPSAGA_TARGET=${name}: expected local, localstack or aws`);
  }
  return name;
}

export async function startTarget(options: { retryScale?: number } = {}): Promise<Target> {
  const name = targetName();
  if (name === 'local') {
    const assembly = await ensureAssembly();
    const cloud = await startLocalCloud({
      port: 0,
      assembly,
      retryScale: options.retryScale ?? 0.01,
      quiet: true,
    });
    return { name, outputs: cloud.outputs, close: () => cloud.close() };
  }
  const file = process.env.STEPSAGA_OUTPUTS;
  if (!file)
    throw new Error(`STEPSAGA_TARGET=${name} needs STEPSAGA_OUTPUTS=<outputs file of the deployed stack>`);
  const outputs = readOutputs(file);
  if (name === 'localstack') outputs.Endpoint ??= process.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566';
  return { name, outputs, close: async () => {} };
}
