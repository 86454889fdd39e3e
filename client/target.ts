/**
 * Where a chaos run (or a reliability test) points: AWS SDK client settings, the stack outputs, and a
 * SigV4-signed HTTP client for the REST API. The same shape serves the local cloud, LocalStack and AWS.
 * Built from the one outputs parser (`client/outputs.ts`), the one settings resolver (`client/aws.ts`)
 * and the one signed API client (`client/api.ts`).
 */
import { OUTPUTS, type OutputName } from '../lib/contract';
import type { Outputs } from '../localcloud/outputs';
import { createApiClient } from './api';
import { type AwsClientSettings, awsClientSettings } from './aws';
import { readOutputs } from './outputs';

/** The order saga stack's outputs, every one present. */
export type TargetOutputs = Outputs<OutputName>;

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: string;
}

export interface ApiRequest {
  method: string;
  /** Path relative to the API's stage URL, e.g. `orders` or `orders/abc/history`. No leading slash needed. */
  path: string;
  /** Raw body (sent as is, so tests can send invalid JSON). */
  body?: string;
  headers?: Record<string, string>;
}

export interface ChaosTarget {
  name: string;
  aws: AwsClientSettings;
  outputs: TargetOutputs;
  /** One signed request to the REST API. */
  api(request: ApiRequest): Promise<ApiResponse>;
}

/** Checks that flat outputs carry every output the chaos run needs; other stacks' outputs pass through. */
export function parseOutputs(raw: unknown, source: string): TargetOutputs {
  if (typeof raw !== 'object' || raw === null)
    throw new Error(`${source}: expected a JSON object of outputs`);
  const flat = raw as Record<string, unknown>;
  const missing = OUTPUTS.filter((name) => typeof flat[name] !== 'string' || flat[name] === '');
  if (missing.length > 0) throw new Error(`${source}: missing output(s) ${missing.join(', ')}`);
  return Object.fromEntries(
    Object.entries(flat).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  ) as TargetOutputs;
}

/** An outputs file (flat or `cdk deploy --outputs-file` nested), checked, and its `Endpoint` if any. */
export async function readOutputsFile(file: string): Promise<{ outputs: TargetOutputs; endpoint?: string }> {
  const all = readOutputs(file);
  const outputs = parseOutputs(all, file);
  return { outputs, ...(all.Endpoint ? { endpoint: all.Endpoint } : {}) };
}

/**
 * The standard credential chain (test/test for an emulator when it finds nothing) and the target's region
 * (from the outputs' ARNs and URLs, else the profile's): client/aws.ts, the same as every other tool.
 */
export function awsSettings(endpoint: string | undefined, outputs: Partial<Outputs> = {}): AwsClientSettings {
  const known: Record<string, string> = {};
  for (const [key, value] of Object.entries(outputs)) if (typeof value === 'string') known[key] = value;
  return awsClientSettings({ ...known, ...(endpoint ? { Endpoint: endpoint } : {}) });
}

/** A fetch of the REST API, signed with SigV4 for `execute-api` (the API uses AWS_IAM auth). */
export function signedApi(
  apiUrl: string,
  aws: AwsClientSettings,
): (request: ApiRequest) => Promise<ApiResponse> {
  const client = createApiClient({ apiUrl, region: aws.region, credentials: aws.credentials });
  return async ({ method, path, body, headers }) => {
    const response = await client.request(method, path, {
      ...(body !== undefined ? { body } : {}),
      ...(headers ? { headers } : {}),
    });
    return { status: response.status, headers: response.headers, body: response.text };
  };
}

export function makeTarget(name: string, outputs: TargetOutputs, endpoint: string | undefined): ChaosTarget {
  const aws = awsSettings(endpoint, outputs);
  return { name, aws, outputs, api: signedApi(outputs.ApiUrl, aws) };
}
