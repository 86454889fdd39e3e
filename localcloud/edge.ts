/**
 * The edge: one HTTP port speaking the AWS APIs. Every request is routed to a service by its
 * `X-Amz-Target` header (JSON protocols) or the service in its SigV4 credential scope, the way AWS
 * endpoints and LocalStack's edge port do it. Services register themselves; the edge never knows their
 * operations.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HostPolicy } from './hosts';
import { awsJsonError, parseCredential } from './protocol';
import type { AwsRequest, AwsResponse, Service, ServiceName } from './types';
import { LOCAL_REGION } from './types';

/** Largest request body the edge accepts (API Gateway's payload limit is 10 MB; SFN input 256 KB). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

const TARGET_PREFIXES: Array<[string, ServiceName]> = [
  ['DynamoDB_', 'dynamodb'],
  ['AWSStepFunctions.', 'states'],
  ['AmazonSQS.', 'sqs'],
];

/** Picks the service for a request; `undefined` when nothing identifies one. */
export function routeRequest(
  method: string,
  path: string,
  headers: http.IncomingHttpHeaders,
  query: URLSearchParams,
): { service: ServiceName; region: string } | undefined {
  const credential = parseCredential(headers, query);
  const region = credential?.region ?? LOCAL_REGION;
  if (path.startsWith('/restapis/')) return { service: 'apigateway', region };
  if (path === '/_localcloud' || path.startsWith('/_localcloud/')) return { service: 'localcloud', region };
  if (path === '/' && method === 'GET' && !credential) return { service: 'console', region };
  if (path === '/_console' || path.startsWith('/_console/')) return { service: 'console', region };
  const target = headers['x-amz-target'];
  if (typeof target === 'string') {
    for (const [prefix, service] of TARGET_PREFIXES)
      if (target.startsWith(prefix)) return { service, region };
  }
  if (credential) {
    const byScope: Record<string, ServiceName> = {
      dynamodb: 'dynamodb',
      sqs: 'sqs',
      lambda: 'lambda',
      states: 'states',
      apigateway: 'apigateway',
      'execute-api': 'apigateway',
    };
    const service = byScope[credential.service];
    if (service) return { service, region };
  }
  if (path.startsWith('/2015-03-31/functions')) return { service: 'lambda', region };
  return undefined;
}

export interface EdgeOptions {
  port: number;
  host?: string;
  /**
   * Host names answered on top of localhost, `*.localhost`, the loopback addresses and `host`
   * (`parseAllowedHosts`; `.example.test` = that domain and its subdomains). Requests for any other
   * `Host`, or from a web page on any other host (`Origin`), get a 403 and change nothing (see hosts.ts).
   */
  allowedHosts?: readonly string[];
  /**
   * Decides whether the caller may make the request (IAM, see iam/enforcer.ts): undefined = serve it,
   * else the denial to answer instead. Called after routing, before the service sees the request.
   */
  authorize?: (req: AwsRequest) => AwsResponse | undefined;
  /** Called for every request after it is answered (the console's live feed, logs). */
  onRequest?: (req: AwsRequest, res: AwsResponse, ms: number) => void;
}

export class Edge {
  private readonly services = new Map<ServiceName, Service>();
  /** Services whose requests wait (`holdUntil`), and until what. */
  private readonly holds = new Map<ServiceName, Promise<void>>();
  private holding = 0;
  private server: http.Server | undefined;
  private baseUrl = '';
  /** Which requests are for the local cloud (Host and Origin); see hosts.ts. */
  readonly hosts: HostPolicy;

  constructor(private readonly options: EdgeOptions) {
    this.hosts = new HostPolicy({
      ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
      listenHost: options.host ?? '127.0.0.1',
    });
  }

  register(service: Service): void {
    this.services.set(service.name, service);
  }

  get endpoint(): string {
    return this.baseUrl;
  }

  /**
   * Requests to `services` wait until `until` settles before anything (IAM included) sees them: `--persist`
   * holds Step Functions, SQS and Lambda while the state the last run left is restored, so nothing a client
   * sends during start-up lands beside it (or under it). Calls made in-process (the deployment) do not wait.
   */
  holdUntil(services: readonly ServiceName[], until: Promise<unknown>): void {
    const settled = until.then(
      () => undefined,
      () => undefined,
    );
    for (const service of services) this.holds.set(service, settled);
    void settled.then(() => {
      for (const service of services) if (this.holds.get(service) === settled) this.holds.delete(service);
    });
  }

  /** How many requests wait for a `holdUntil` now. */
  get held(): number {
    return this.holding;
  }

  async listen(): Promise<string> {
    const server = http.createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (!res.headersSent) writeResponse(res, awsJsonError(500, 'InternalFailure', message));
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.requestTimeout = 0;
    this.server = server;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    this.baseUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    for (const service of this.services.values()) await service.close?.();
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const refused = this.hosts.refusal(req.headers);
    if (refused) {
      // Not for us (DNS rebinding, a page on another site): answer before reading or routing anything.
      req.resume();
      await writeResponse(res, refused);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://edge');
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) {
      writeResponse(
        res,
        awsJsonError(413, 'RequestEntityTooLargeException', `Request body exceeds ${MAX_BODY_BYTES} bytes`),
      );
      return;
    }
    const method = req.method ?? 'GET';
    const route = routeRequest(method, url.pathname, req.headers, url.searchParams);
    if (!route) {
      writeResponse(
        res,
        awsJsonError(
          403,
          'MissingAuthenticationTokenException',
          'Missing Authentication Token: sign the request with SigV4 (any credentials) or send X-Amz-Target',
        ),
      );
      return;
    }
    const hold = this.holds.get(route.service);
    if (hold) {
      this.holding++;
      await hold.finally(() => this.holding--);
    }
    const service = this.services.get(route.service);
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && !isJsonOrEmpty(body)) {
      // JSON protocols (DynamoDB, Step Functions, SQS JSON): AWS answers unparseable bodies like this.
      writeResponse(res, awsJsonError(400, 'SerializationException', 'The request body is not valid JSON'));
      return;
    }
    const request: AwsRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      service: route.service,
      region: route.region,
      endpoint: this.baseUrl,
      ...(typeof target === 'string' ? { target } : {}),
    };
    const denied = service ? this.options.authorize?.(request) : undefined;
    const response = denied
      ? denied
      : service
        ? await service.handle(request)
        : awsJsonError(
            501,
            'NotImplemented',
            `The local cloud does not emulate the ${route.service} service`,
          );
    await writeResponse(res, response);
    this.options.onRequest?.(request, response, performance.now() - started);
  }
}

function isJsonOrEmpty(body: Buffer): boolean {
  if (body.length === 0) return true;
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) tooLarge = true;
    else chunks.push(chunk);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

async function writeResponse(res: http.ServerResponse, response: AwsResponse): Promise<void> {
  const headers: Record<string, string> = { 'x-amzn-requestid': crypto.randomUUID(), ...response.headers };
  if (response.stream) {
    res.writeHead(response.status, { 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
    for await (const chunk of response.stream) {
      if (res.destroyed) break;
      res.write(chunk);
    }
    res.end();
    return;
  }
  const body = response.body ?? '';
  res.writeHead(response.status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}
