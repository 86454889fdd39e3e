/**
 * Where a chaos run (or a reliability test) points: AWS SDK client settings, the stack outputs, and a
 * SigV4-signed HTTP client for the REST API. The same shape serves the local cloud, LocalStack and AWS.
 */
import { readFile } from 'node:fs/promises';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Provider } from '@smithy/types';
import { awsClientSettings } from '../client/aws';
import { OUTPUTS, type OutputName } from '../lib/contract';

export type Outputs = Record<OutputName, string>;

export interface AwsSettings {
  region: string | Provider<string>;
  /** Custom endpoint (local cloud, LocalStack); undefined for AWS itself. */
  endpoint?: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

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
  aws: AwsSettings;
  outputs: Outputs;
  /** One signed request to the REST API. */
  api(request: ApiRequest): Promise<ApiResponse>;
}

/** Checks that an outputs object carries every output the chaos run needs. */
export function parseOutputs(raw: unknown, source: string): Outputs {
  if (typeof raw !== 'object' || raw === null)
    throw new Error(`${source}: expected a JSON object of outputs`);
  // `cdk deploy --outputs-file` nests outputs under the stack name; the local cloud writes them flat.
  const record = raw as Record<string, unknown>;
  const nested = Object.values(record).find(
    (v): v is Record<string, unknown> => typeof v === 'object' && v !== null && 'ApiUrl' in v,
  );
  const flat = 'ApiUrl' in record ? record : (nested ?? record);
  const missing = OUTPUTS.filter((name) => typeof flat[name] !== 'string' || flat[name] === '');
  if (missing.length > 0) throw new Error(`${source}: missing output(s) ${missing.join(', ')}`);
  return Object.fromEntries(OUTPUTS.map((name) => [name, flat[name] as string])) as Outputs;
}

export async function readOutputsFile(file: string): Promise<{ outputs: Outputs; endpoint?: string }> {
  const raw: unknown = JSON.parse(await readFile(file, 'utf8'));
  const outputs = parseOutputs(raw, file);
  const endpoint =
    typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).Endpoint : undefined;
  return { outputs, ...(typeof endpoint === 'string' ? { endpoint } : {}) };
}

/**
 * The standard credential chain (test/test for an emulator when it finds nothing) and the target's region
 * (from the outputs' ARNs and URLs, else the profile's): client/aws.ts, the same as every other tool.
 */
export function awsSettings(endpoint: string | undefined, outputs: Partial<Outputs> = {}): AwsSettings {
  const known: Record<string, string> = {};
  for (const [key, value] of Object.entries(outputs)) if (typeof value === 'string') known[key] = value;
  return awsClientSettings({ ...known, ...(endpoint ? { Endpoint: endpoint } : {}) });
}

/** A fetch of the REST API, signed with SigV4 for `execute-api` (the API uses AWS_IAM auth). */
export function signedApi(apiUrl: string, aws: AwsSettings): (request: ApiRequest) => Promise<ApiResponse> {
  const signer = new SignatureV4({
    service: 'execute-api',
    region: aws.region,
    credentials: aws.credentials,
    sha256: Sha256,
  });
  const base = new URL(apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`);
  return async ({ method, path, body, headers }) => {
    const url = new URL(path.replace(/^\/+/, ''), base);
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: {
        host: url.host,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body } : {}),
    });
    const response = await fetch(url, {
      method,
      headers: signed.headers,
      ...(body !== undefined ? { body } : {}),
    });
    return { status: response.status, headers: response.headers, body: await response.text() };
  };
}

export function makeTarget(name: string, outputs: Outputs, endpoint: string | undefined): ChaosTarget {
  const aws = awsSettings(endpoint, outputs);
  return { name, aws, outputs, api: signedApi(outputs.ApiUrl, aws) };
}
