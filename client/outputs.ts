/**
 * Reads a stack outputs file: the local cloud's `.stepsaga/outputs.json` (flat keys) or the nested form
 * `cdk deploy --outputs-file` writes (`{ "<StackName>": { ...outputs } }`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { STACK_NAME_PREFIX } from '../lib/contract';
import { type AwsClientSettings, awsClientSettings } from './aws';

export const DEFAULT_OUTPUTS_FILE = '.stepsaga/outputs.json';

export type Outputs = Record<string, string>;

export function readOutputs(file = process.env.STEPSAGA_OUTPUTS ?? DEFAULT_OUTPUTS_FILE): Outputs {
  const resolved = path.resolve(file);
  let raw: string;
  try {
    raw = readFileSync(resolved, 'utf8');
  } catch {
    throw new Error(
      `No outputs file at ${resolved}. Start the local cloud with "npm start" (it writes ${DEFAULT_OUTPUTS_FILE}), ` +
        'or pass the file "cdk deploy --outputs-file" wrote (--outputs FILE or STEPSAGA_OUTPUTS).',
    );
  }
  const parsed: unknown = JSON.parse(raw);
  if (!parsed || typeof parsed !== 'object') throw new Error(`${resolved} is not a JSON object`);
  const record = parsed as Record<string, unknown>;
  const nested = Object.entries(record).find(
    ([key, value]) => value && typeof value === 'object' && key.startsWith(STACK_NAME_PREFIX),
  );
  const source = (nested ? nested[1] : record) as Record<string, unknown>;
  const outputs: Outputs = {};
  for (const [key, value] of Object.entries(source)) if (typeof value === 'string') outputs[key] = value;
  if (nested)
    for (const [key, value] of Object.entries(record)) if (typeof value === 'string') outputs[key] ??= value;
  return outputs;
}

/** Returns `outputs[name]` or throws an error naming the missing output and the file's keys. */
export function requireOutput(outputs: Outputs, name: string): string {
  const value = outputs[name];
  if (!value)
    throw new Error(`The outputs have no "${name}" (have: ${Object.keys(outputs).join(', ') || 'nothing'})`);
  return value;
}

/**
 * SDK client config for the outputs' target: its endpoint (local cloud, LocalStack) or AWS, its region
 * (from the outputs' ARNs and URLs, else the SDK's region chain) and the standard credential chain
 * (client/aws.ts).
 */
export function clientConfig(outputs: Outputs): AwsClientSettings {
  return awsClientSettings(outputs);
}
