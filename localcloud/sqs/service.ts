/**
 * SQS: npm `local-aws-sqs` (JSON and query protocols) on a loopback port behind the edge. Its queue URLs
 * are rewritten to point back at the edge (`http://127.0.0.1:4566/000000000000/<QueueName>`), so SDK
 * clients and the AWS CLI can use the URLs they get back, exactly as with AWS.
 *
 * Corrected difference: the emulator's `ApproximateNumberOfMessages` counts messages in flight (received,
 * not yet deleted) as well as visible ones; on AWS in-flight messages are only in
 * `ApproximateNumberOfMessagesNotVisible`. `GetQueueAttributes` answers are rewritten (JSON and query
 * protocols) so `ApproximateNumberOfMessages` is the visible count, as on AWS: a DLQ depth read by a
 * dashboard or a test means the same thing locally and in the cloud.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestHandler } from 'local-aws-sqs';
import { proxyRequest } from '../edge';
import type { AwsRequest, AwsResponse, Service } from '../types';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../types';

export interface SqsQueueSpec {
  QueueName: string;
  Attributes?: Record<string, string>;
  tags?: Record<string, string>;
}

export class SqsService implements Service {
  readonly name = 'sqs' as const;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly emulator: ReturnType<typeof createRequestHandler>;
  private server: http.Server | undefined;
  private target: URL | undefined;

  constructor() {
    this.emulator = createRequestHandler({
      accountId: LOCAL_ACCOUNT_ID,
      region: LOCAL_REGION,
      // AWS makes you wait 60 s before re-creating a deleted queue; a local runtime should not.
      emulateQueueCreationLifecycle: false,
      port: 0,
    });
  }

  /** Starts the emulator on a loopback port. */
  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      this.emulator.requestHandler(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.target = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  /** Makes the queue URLs the emulator hands out point at the edge (call once the edge listens). */
  setPublicEndpoint(endpoint: string): void {
    const url = new URL(endpoint);
    this.emulator.service.HOSTNAME = url.hostname;
    this.emulator.service.PORT = Number(url.port || 80);
  }

  /** The queue URL clients use for a queue name (it points at the edge). */
  queueUrl(queueName: string): string {
    const { HOSTNAME, PORT, BASE_URL } = this.emulator.service;
    return `http://${HOSTNAME}:${PORT}${BASE_URL}${LOCAL_ACCOUNT_ID}/${queueName}`;
  }

  queueArn(queueName: string): string {
    return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${queueName}`;
  }

  async handle(req: AwsRequest): Promise<AwsResponse> {
    if (!this.target) await this.start();
    const response = await proxyRequest(this.agent, this.target as URL, req);
    const queueName = response.status === 200 ? getQueueAttributesTarget(req) : undefined;
    return queueName ? this.withVisibleCount(queueName, response) : response;
  }

  /** Rewrites `ApproximateNumberOfMessages` to the visible count (AWS semantics). */
  private withVisibleCount(queueName: string, response: AwsResponse): AwsResponse {
    const queue = this.emulator.service.Queues.find((q) => q.QueueName === queueName);
    if (!queue || response.body === undefined) return response;
    const counts = queue.getAttributes([
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
    ]) as Record<string, string | undefined>;
    const visible = String(
      Math.max(
        0,
        Number(counts.ApproximateNumberOfMessages ?? 0) -
          Number(counts.ApproximateNumberOfMessagesNotVisible ?? 0),
      ),
    );
    const text = response.body.toString();
    const body = text.trimStart().startsWith('{')
      ? text.replace(/("ApproximateNumberOfMessages"\s*:\s*")\d+"/, `$1${visible}"`)
      : text.replace(/(<Name>ApproximateNumberOfMessages<\/Name>\s*<Value>)\d+(<\/Value>)/, `$1${visible}$2`);
    return { ...response, body };
  }

  async close(): Promise<void> {
    this.agent.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

/** The queue name of a `GetQueueAttributes` request (JSON or query protocol), else undefined. */
function getQueueAttributesTarget(req: AwsRequest): string | undefined {
  let queueUrl: string | undefined;
  if (req.target === 'AmazonSQS.GetQueueAttributes') {
    try {
      const body = JSON.parse(req.body.toString('utf8')) as { QueueUrl?: unknown };
      queueUrl = typeof body.QueueUrl === 'string' ? body.QueueUrl : undefined;
    } catch {
      return undefined;
    }
  } else if (!req.target) {
    const form = new URLSearchParams(req.body.toString('utf8'));
    const action = form.get('Action') ?? req.query.get('Action');
    if (action !== 'GetQueueAttributes') return undefined;
    queueUrl = form.get('QueueUrl') ?? req.query.get('QueueUrl') ?? req.path;
  }
  return queueUrl?.split('/').filter(Boolean).pop();
}
