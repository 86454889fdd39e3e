/**
 * `--persist DIR` for SQS: queues and their messages (visible, in flight with their visibility deadline,
 * delayed), journaled from the requests the edge forwards to `local-aws-sqs` and their answers (the
 * emulator keeps its messages in private fields), in `sqs.*.jsonl` (`../journal.ts`). One record a line:
 *
 * - `{k:'q', name, attrs, tags?}` CreateQueue (or the same queue deployed again), `{k:'qa', name, attrs}`
 *   SetQueueAttributes, `{k:'qd', name}` DeleteQueue, `{k:'p', q}` PurgeQueue
 * - `{k:'s', q, id, body, ma?, msa?, g?, dd?, t, vis}` a message sent at `t` (ms), visible from `vis`
 *   (its delay)
 * - `{k:'r', q, id, h, vis}` received (one more receive), handle `h`, invisible until `vis`
 * - `{k:'v', q, id, vis}` ChangeMessageVisibility
 * - `{k:'d', q, id}` deleted
 *
 * Only the JSON protocol (every SDK v3 client, the AWS CLI v2) is journaled; the query protocol (AWS CLI v1)
 * still works, unrecorded. Moves done inside the emulator (a RedrivePolicy's maxReceiveCount, retention
 * expiry) are not journaled: the deployed stack has no RedrivePolicy, and expiry is applied on restore.
 */

export interface SavedMessage {
  id: string;
  body: string;
  messageAttributes?: Record<string, unknown>;
  systemAttributes?: Record<string, unknown>;
  groupId?: string;
  dedupId?: string;
  /** Sent at (epoch ms). */
  sent: number;
  /** Visible again from (epoch ms): the end of its delay, or of its visibility timeout once received. */
  visibleAt: number;
  receiveCount: number;
  /** The last receipt handle handed out (still valid after a restart, as on AWS). */
  handle?: string;
}

export interface SavedQueue {
  name: string;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  messages: Map<string, SavedMessage>;
}

export type SqsState = Map<string, SavedQueue>;

type Rec = Record<string, unknown>;

const str = (r: Rec, key: string): string => String(r[key] ?? '');
const num = (r: Rec, key: string): number => Number(r[key] ?? 0);
const strings = (value: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
};
const object = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/** Applies one journal record to `state` (unknown records and unknown queues are skipped). */
export function apply(state: SqsState, raw: unknown): void {
  const r = object(raw);
  if (!r) return;
  const queue = typeof r.q === 'string' ? state.get(r.q) : undefined;
  switch (r.k) {
    case 'q': {
      const name = str(r, 'name');
      const existing = state.get(name);
      if (existing) {
        existing.attributes = { ...existing.attributes, ...strings(r.attrs) };
        existing.tags = { ...existing.tags, ...strings(r.tags) };
      } else
        state.set(name, { name, attributes: strings(r.attrs), tags: strings(r.tags), messages: new Map() });
      break;
    }
    case 'qa': {
      const target = state.get(str(r, 'name'));
      if (target) target.attributes = { ...target.attributes, ...strings(r.attrs) };
      break;
    }
    case 'qd':
      state.delete(str(r, 'name'));
      break;
    case 'p':
      queue?.messages.clear();
      break;
    case 's': {
      if (!queue) break;
      const ma = object(r.ma);
      const msa = object(r.msa);
      const message: SavedMessage = {
        id: str(r, 'id'),
        body: str(r, 'body'),
        sent: num(r, 't'),
        visibleAt: num(r, 'vis'),
        receiveCount: 0,
        ...(ma ? { messageAttributes: ma } : {}),
        ...(msa ? { systemAttributes: msa } : {}),
        ...(typeof r.g === 'string' ? { groupId: r.g } : {}),
        ...(typeof r.dd === 'string' ? { dedupId: r.dd } : {}),
      };
      queue.messages.set(message.id, message);
      break;
    }
    case 'r': {
      const message = queue?.messages.get(str(r, 'id'));
      if (!message) break;
      message.receiveCount++;
      message.visibleAt = num(r, 'vis');
      message.handle = str(r, 'h');
      break;
    }
    case 'v': {
      const message = queue?.messages.get(str(r, 'id'));
      if (message) message.visibleAt = num(r, 'vis');
      break;
    }
    case 'd':
      queue?.messages.delete(str(r, 'id'));
      break;
  }
}

/** The records that rebuild `state` (a snapshot). */
export function* snapshotRecords(state: SqsState): Generator<Rec> {
  for (const queue of state.values()) {
    yield { k: 'q', name: queue.name, attrs: queue.attributes, tags: queue.tags };
    for (const m of queue.messages.values()) {
      yield {
        k: 's',
        q: queue.name,
        id: m.id,
        body: m.body,
        t: m.sent,
        vis: m.receiveCount > 0 ? m.sent : m.visibleAt,
        ...(m.messageAttributes ? { ma: m.messageAttributes } : {}),
        ...(m.systemAttributes ? { msa: m.systemAttributes } : {}),
        ...(m.groupId ? { g: m.groupId } : {}),
        ...(m.dedupId ? { dd: m.dedupId } : {}),
      };
      // One receive record per receive: the count comes back by replaying them.
      for (let i = 0; i < m.receiveCount; i++)
        yield { k: 'r', q: queue.name, id: m.id, h: m.handle ?? '', vis: m.visibleAt };
    }
  }
}

/** The MessageId a receipt handle names (the emulator's handles are base64 JSON), else undefined. */
export function receiptMessageId(handle: unknown): string | undefined {
  if (typeof handle !== 'string') return undefined;
  try {
    const text = Buffer.from(handle, 'base64').toString('utf8');
    const parsed = object(JSON.parse(text.slice(text.indexOf('{'))));
    return typeof parsed?.MessageId === 'string' ? parsed.MessageId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The journal records one JSON-protocol request and its successful answer make (none for reads).
 * `queueAttributes` gives a queue's current attributes (its default DelaySeconds and VisibilityTimeout).
 */
export function recordsFor(
  action: string,
  request: Rec,
  response: Rec,
  queueAttributes: (queue: string) => Record<string, string> | undefined,
  now: number,
): Rec[] {
  const queueOf = (url: unknown) =>
    typeof url === 'string' ? url.split('/').filter(Boolean).pop() : undefined;
  const q = queueOf(request.QueueUrl);
  const attrs = q ? queueAttributes(q) : undefined;
  const seconds = (value: unknown, fallback: string | undefined) => {
    const n = Number(value ?? fallback ?? 0);
    return Number.isFinite(n) ? n : 0;
  };
  const sent = (entry: Rec, id: unknown): Rec | undefined => {
    if (!q || typeof id !== 'string') return undefined;
    const delay = seconds(entry.DelaySeconds, attrs?.DelaySeconds);
    return {
      k: 's',
      q,
      id,
      body: String(entry.MessageBody ?? ''),
      t: now,
      vis: now + delay * 1000,
      ...(object(entry.MessageAttributes) ? { ma: entry.MessageAttributes } : {}),
      ...(object(entry.MessageSystemAttributes) ? { msa: entry.MessageSystemAttributes } : {}),
      ...(typeof entry.MessageGroupId === 'string' ? { g: entry.MessageGroupId } : {}),
      ...(typeof entry.MessageDeduplicationId === 'string' ? { dd: entry.MessageDeduplicationId } : {}),
    };
  };
  const entries = (value: unknown): Rec[] =>
    Array.isArray(value) ? value.filter((e): e is Rec => object(e) !== undefined) : [];
  const succeeded = (ids: unknown) => new Set(entries(ids).map((e) => String(e.Id)));
  const out: Rec[] = [];
  switch (action) {
    case 'CreateQueue': {
      const name = typeof request.QueueName === 'string' ? request.QueueName : undefined;
      if (name) out.push({ k: 'q', name, attrs: strings(request.Attributes), tags: strings(request.tags) });
      break;
    }
    case 'SetQueueAttributes':
      if (q) out.push({ k: 'qa', name: q, attrs: strings(request.Attributes) });
      break;
    case 'DeleteQueue':
      if (q) out.push({ k: 'qd', name: q });
      break;
    case 'PurgeQueue':
      if (q) out.push({ k: 'p', q });
      break;
    case 'SendMessage': {
      const record = sent(request, response.MessageId);
      if (record) out.push(record);
      break;
    }
    case 'SendMessageBatch': {
      const byId = new Map(entries(request.Entries).map((e) => [String(e.Id), e]));
      for (const ok of entries(response.Successful)) {
        const entry = byId.get(String(ok.Id));
        const record = entry ? sent(entry, ok.MessageId) : undefined;
        if (record) out.push(record);
      }
      break;
    }
    case 'ReceiveMessage': {
      if (!q) break;
      const vis = now + seconds(request.VisibilityTimeout, attrs?.VisibilityTimeout ?? '30') * 1000;
      for (const m of entries(response.Messages))
        out.push({ k: 'r', q, id: String(m.MessageId), h: String(m.ReceiptHandle ?? ''), vis });
      break;
    }
    case 'DeleteMessage': {
      const id = receiptMessageId(request.ReceiptHandle);
      if (q && id) out.push({ k: 'd', q, id });
      break;
    }
    case 'DeleteMessageBatch': {
      const ok = succeeded(response.Successful);
      for (const e of entries(request.Entries)) {
        const id = receiptMessageId(e.ReceiptHandle);
        if (q && id && ok.has(String(e.Id))) out.push({ k: 'd', q, id });
      }
      break;
    }
    case 'ChangeMessageVisibility': {
      const id = receiptMessageId(request.ReceiptHandle);
      if (q && id) out.push({ k: 'v', q, id, vis: now + seconds(request.VisibilityTimeout, '0') * 1000 });
      break;
    }
    case 'ChangeMessageVisibilityBatch': {
      const ok = succeeded(response.Successful);
      for (const e of entries(request.Entries)) {
        const id = receiptMessageId(e.ReceiptHandle);
        if (q && id && ok.has(String(e.Id)))
          out.push({ k: 'v', q, id, vis: now + seconds(e.VisibilityTimeout, '0') * 1000 });
      }
      break;
    }
  }
  return out;
}
