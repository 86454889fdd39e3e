/**
 * Reads a stack outputs file: the local cloud's `.stepsaga/outputs.json` (flat keys) or the nested form
 * `cdk deploy --outputs-file` writes (`{ "<StackName>": { ...outputs } }`, the order saga's stack).
 * The parser and the `Outputs` type are the local cloud's (`localcloud/outputs.ts`).
 */

import { STACK_NAME_PREFIX } from '../lib/contract';
import { DEFAULT_OUTPUTS_FILE, type Outputs, readOutputs as readOutputsFile } from '../localcloud/outputs';
import { type AwsClientSettings, awsClientSettings } from './aws';

export { DEFAULT_OUTPUTS_FILE, type Outputs, requireOutput } from '../localcloud/outputs';

export function readOutputs(file = process.env.STEPSAGA_OUTPUTS ?? DEFAULT_OUTPUTS_FILE): Outputs {
  return readOutputsFile(file, STACK_NAME_PREFIX);
}

/**
 * SDK client config for the outputs' target: its endpoint (local cloud, LocalStack) or AWS, its region
 * (from the outputs' ARNs and URLs, else the SDK's region chain) and the standard credential chain
 * (client/aws.ts).
 */
export function clientConfig(outputs: Outputs): AwsClientSettings {
  return awsClientSettings(outputs);
}
