/**
 * Interfaces between the parts of the local cloud. The edge (`edge.ts`) parses every HTTP request once
 * into an `AwsRequest`, picks the service, and writes the `AwsResponse` back.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Service names as they appear in a SigV4 credential scope (`.../<service>/aws4_request`). */
export type ServiceName = 'dynamodb' | 'sqs' | 'lambda' | 'states' | 'apigateway' | 'console' | 'localcloud';

export interface AwsRequest {
  method: string;
  /** Path without the query string, e.g. `/2015-03-31/functions/name/invocations`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** `X-Amz-Target` header, when present (JSON protocols), e.g. `AWSStepFunctions.StartExecution`. */
  target?: string;
  /** The service picked by the edge. */
  service: ServiceName;
  /** Region from the credential scope, default `us-east-1`. */
  region: string;
  /** The edge's base URL, e.g. `http://127.0.0.1:4566`. */
  endpoint: string;
}

export interface AwsResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** When set, the edge streams these chunks (server-sent events) instead of `body`. */
  stream?: AsyncIterable<string>;
}

export interface Service {
  readonly name: ServiceName;
  handle(req: AwsRequest): Promise<AwsResponse>;
  close?(): Promise<void>;
}

/** Where the local cloud keeps its account-wide constants (ARNs are built from these). */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';
