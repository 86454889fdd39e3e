/**
 * A small client for the order API, signing every request with SigV4 (the API uses AWS_IAM auth).
 * Works against AWS, LocalStack and the local cloud (which accepts any credentials). Without explicit
 * settings it signs with the standard credential chain (env, SSO, profiles, instance roles) for the
 * region in the API's URL, else the profile's (client/aws.ts).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Provider } from '@smithy/types';
import { credentialProvider, isAwsUrl, regionOf, regionProvider } from './aws';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body is JSON, else the raw text. */
  body: T;
  text: string;
}

export interface ApiClientOptions {
  /** The stack's `ApiUrl` output (ends with `/`). */
  apiUrl: string;
  /** @default the region in `apiUrl`, else `AWS_REGION` or the profile's region */
  region?: string | Provider<string>;
  /** @default the standard credential chain (test/test for an emulator when it finds nothing) */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export interface ApiClient {
  request<T = unknown>(
    method: string,
    path: string,
    options?: { body?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  post<T = unknown>(path: string, json: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  get<T = unknown>(path: string): Promise<ApiResponse<T>>;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = new URL(options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`);
  const emulator = !isAwsUrl(base.href);
  const region = options.region ?? regionProvider(regionOf(base.href), emulator);
  const credentials = options.credentials ?? credentialProvider(emulator);
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });

  async function request<T>(
    method: string,
    path: string,
    opts: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const url = new URL(path.replace(/^\/+/, ''), base);
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => {
      query[key] = value;
    });
    const headers: Record<string, string> = { host: url.host, ...opts.headers };
    if (opts.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers,
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    });
    const { host: _host, ...sendHeaders } = signed.headers;
    const response = await fetch(url, {
      method,
      headers: sendHeaders,
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    });
    const text = await response.text();
    let body: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') || /^[[{]/.test(text)) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: response.status, headers: response.headers, body: body as T, text };
  }

  return {
    request,
    post: (path, json, headers) =>
      request('POST', path, {
        body: typeof json === 'string' ? json : JSON.stringify(json),
        ...(headers ? { headers } : {}),
      }),
    get: (path) => request('GET', path),
  };
}
