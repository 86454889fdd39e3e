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
import { Journal } from '../journal';
import { proxyRequest } from '../protocol';
import type { AwsRequest, AwsResponse, Service } from '../types';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../types';
import { apply, recordsFor, type SqsState, snapshotRecords } from './persist';

export interface SqsQueueSpec {
  QueueName: string;
  Attributes?: Record<string, string>;
  tags?: Record<string, string>;
}

export interface SqsServiceOptions {
  /** Keep queues and messages in this directory (`persist.ts`); call `restore()` after the deployment. */
  persistDir?: string;
}

/** What `setRecord` hands back: the emulator's own entry for the message. */
interface EmulatorEntry {
  record: { attributes: Record<string, string> };
}

export class SqsService implements Service {
  readonly name = 'sqs' as const;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly emulator: ReturnType<typeof createRequestHandler>;
  private server: http.Server | undefined;
  private target: URL | undefined;

  /** `--persist`: the journal, and the queues and messages it describes (kept up to date). */
  private journal: Journal | undefined;
  private readonly state: SqsState = new Map();

  constructor(options: SqsServiceOptions = {}) {
    if (options.persistDir) {
      const { journal, records } = Journal.open(options.persistDir, 'sqs');
      this.journal = journal;
      for (const record of records) apply(this.state, record);
    }
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
    if (this.journal && response.status === 200 && req.target?.startsWith('AmazonSQS.'))
      this.record(req.target.slice('AmazonSQS.'.length), req, response);
    const queueName = response.status === 200 ? getQueueAttributesTarget(req) : undefined;
    return queueName ? this.withVisibleCount(queueName, response) : response;
  }

  /** Journals what a successful JSON-protocol request changed (before the caller gets the answer). */
  private record(action: string, req: AwsRequest, response: AwsResponse): void {
    let request: Record<string, unknown>;
    let answer: Record<string, unknown>;
    try {
      request = JSON.parse(req.body.toString('utf8') || '{}') as Record<string, unknown>;
      answer = JSON.parse(response.body?.toString() || '{}') as Record<string, unknown>;
    } catch {
      return;
    }
    const records = recordsFor(action, request, answer, (q) => this.state.get(q)?.attributes, Date.now());
    for (const record of records) {
      this.journal?.append(record);
      apply(this.state, record);
    }
    // Most records are replaced by later ones (a message sent, received, deleted): a busy queue would grow
    // the journal without end between two starts.
    this.journal?.compactIfDue(
      () => snapshotRecords(this.state),
      (error) =>
        process.stderr.write(
          `sqs: compacting the --persist journal failed (it keeps growing; retried later): ${error instanceof Error ? error.message : String(error)}\n`,
        ),
    );
  }

  /**
   * `--persist`: brings back the queues and messages the last run left (call once the deployment created
   * its queues). Messages keep their MessageId, receive count and receipt handle; one in flight stays
   * invisible for what remained of its visibility timeout, a delayed one for what remained of its delay;
   * one past its retention period is gone. The journal is first compacted into a snapshot. Returns the
   * number of messages restored.
   */
  async restore(): Promise<{ queues: number; messages: number }> {
    const journal = this.journal;
    if (!journal) return { queues: 0, messages: 0 };
    const now = Date.now();
    let messages = 0;
    for (const saved of this.state.values()) {
      if (!this.emulator.service.Queues.some((q) => q.QueueName === saved.name)) {
        const created = await this.call('CreateQueue', {
          QueueName: saved.name,
          Attributes: saved.attributes,
          ...(Object.keys(saved.tags).length > 0 ? { tags: saved.tags } : {}),
        });
        if (created.status !== 200) continue;
      }
      const queue = this.emulator.service.Queues.find((q) => q.QueueName === saved.name);
      if (!queue) continue;
      const retentionMs = Number(saved.attributes.MessageRetentionPeriod ?? 345_600) * 1000;
      for (const m of [...saved.messages.values()].sort((a, b) => a.sent - b.sent)) {
        if (m.sent + retentionMs <= now) {
          saved.messages.delete(m.id);
          continue;
        }
        const inFlight = m.receiveCount > 0 && m.visibleAt > now;
        const delay = m.receiveCount === 0 ? Math.max(0, m.visibleAt - now) / 1000 : 0;
        const entry = queue.setRecord(
          {
            MessageBody: m.body,
            DelaySeconds: delay,
            ...(m.messageAttributes ? { MessageAttributes: m.messageAttributes } : {}),
            ...(m.systemAttributes ? { MessageSystemAttributes: m.systemAttributes } : {}),
            ...(m.groupId ? { MessageGroupId: m.groupId } : {}),
            ...(m.dedupId ? { MessageDeduplicationId: m.dedupId } : {}),
          },
          m.id,
        ) as EmulatorEntry | undefined;
        const attributes = entry?.record.attributes;
        if (attributes) {
          attributes.SentTimestamp = String(m.sent);
          // changeVisibility counts a receive itself (the emulator's doing): one less first.
          attributes.ApproximateReceiveCount = String(inFlight ? m.receiveCount - 1 : m.receiveCount);
        }
        if (inFlight && m.handle) queue.changeVisibility(m.handle, String((m.visibleAt - now) / 1000));
        messages++;
      }
    }
    journal.compact(snapshotRecords(this.state));
    return { queues: this.state.size, messages };
  }

  /**
   * CreateQueue for the deployment: straight to the emulator (the edge holds clients' SQS requests while
   * `--persist` restores), journaled like a client's. Returns the queue URL; a refusal throws, naming it.
   */
  async createQueue(spec: SqsQueueSpec): Promise<string> {
    const response = await this.call('CreateQueue', { ...spec });
    const text = response.body?.toString() ?? '';
    let answer: { QueueUrl?: unknown; message?: unknown; __type?: unknown } = {};
    try {
      answer = JSON.parse(text || '{}') as typeof answer;
    } catch {
      // Not JSON: the refusal below quotes the text.
    }
    if (response.status !== 200)
      throw new Error(
        `CreateQueue ${spec.QueueName} was refused (${response.status}): ${String(answer.message ?? answer.__type ?? text)}`,
      );
    return typeof answer.QueueUrl === 'string' ? answer.QueueUrl : this.queueUrl(spec.QueueName);
  }

  /** One JSON-protocol request to the emulator, as a client would send it (journaled like one). */
  private call(action: string, body: Record<string, unknown>): Promise<AwsResponse> {
    return this.handle({
      method: 'POST',
      path: '/',
      query: new URLSearchParams(),
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `AmazonSQS.${action}`,
      },
      body: Buffer.from(JSON.stringify(body)),
      target: `AmazonSQS.${action}`,
      service: 'sqs',
      region: LOCAL_REGION,
      endpoint: this.target?.origin ?? '',
    });
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
    // With --persist, what is in flight now stays in flight at the next start: nothing is recorded.
    this.journal?.close();
    this.journal = undefined;
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
