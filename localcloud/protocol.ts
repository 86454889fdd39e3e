/**
 * The AWS wire protocol pieces every local cloud service shares: JSON-protocol responses and errors, the
 * SigV4 credential scope of a request, and proxying a request to an emulator on loopback (DynamoDB
 * Local, the SQS emulator). The edge (`edge.ts`) routes; the services answer with these.
 */
import http from 'node:http';
import type { AwsRequest, AwsResponse } from './types';

/** A JSON-protocol error the way AWS services send them (`__type` + `message`, `x-amzn-ErrorType`). */
export function awsJsonError(status: number, type: string, message: string): AwsResponse {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type },
    body: JSON.stringify({ __type: type, message }),
  };
}

/** A JSON success response. */
export function awsJson(
  body: unknown,
  status = 200,
  contentType = 'application/x-amz-json-1.0',
): AwsResponse {
  return { status, headers: { 'content-type': contentType }, body: JSON.stringify(body) };
}

export interface Credential {
  accessKeyId: string;
  region: string;
  service: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, ...` (header or query). */
export function parseCredential(
  headers: http.IncomingHttpHeaders,
  query: URLSearchParams,
): Credential | undefined {
  const auth = headers.authorization;
  const raw =
    (typeof auth === 'string' ? /Credential=([^,\s]+)/.exec(auth)?.[1] : undefined) ??
    query.get('X-Amz-Credential') ??
    undefined;
  if (!raw) return undefined;
  const [accessKeyId, , region, service] = raw.split('/');
  if (!accessKeyId || !region || !service) return undefined;
  return { accessKeyId, region, service };
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'host',
  'content-length',
]);

/**
 * Forwards a parsed request to a service listening on loopback (DynamoDB Local, the SQS emulator) over a
 * keep-alive agent and returns its answer unchanged, minus hop-by-hop headers.
 */
export function proxyRequest(agent: http.Agent, target: URL, req: AwsRequest): Promise<AwsResponse> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers['content-length'] = String(req.body.length);
  const query = req.query.toString();
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: `${req.path}${query ? `?${query}` : ''}`,
        headers,
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const out: Record<string, string> = {};
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value === undefined || HOP_BY_HOP.has(name)) continue;
            out[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ status: incoming.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}
