/**
 * The console: a web page served by the local cloud at `<endpoint>/_console/`.
 *
 * The server side is an ordinary AWS client of the local cloud: it talks to it only through the AWS SDK
 * v3 clients pointed at the edge (Step Functions, SQS, Lambda), exactly as it would talk to AWS. Nothing
 * reaches into the services' internals, so what the page shows is what any AWS client would see. What is
 * the app's (the start form, the data panels, the item and its actions) comes from the app config's
 * `console` hooks (`localcloud/plugin.ts`), which reach the edge the same way.
 *
 * The routes' shapes are `api.ts`'s, which the page imports too. The front end (`web/main.ts` and its
 * views, vanilla DOM + SVG, plus the browser module each saga's `console.web` names) is bundled with
 * esbuild when the service is first asked for it and kept in memory (about 50 ms; no build step, nothing
 * written to disk). The graph is laid out here with elkjs, once per definition.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  type ConsoleExtension,
  DEFAULT_ID_FIELD,
  type LocalCloudPlugin,
  outputNames,
  type PluginContext,
  PluginError,
  type SagaPlugin,
} from '../plugin';
import { type AwsRequest, type AwsResponse, LOCAL_REGION, type Service } from '../types';
import {
  type ChoicesResponse,
  type DeadLetter,
  type DlqResponse,
  EXECUTION_STATUSES,
  type ExecutionDetail,
  type ExecutionSummary,
  type GraphResponse,
  type RedriveResponse,
  type StreamEvents,
} from './api';
import { type GraphLayout, layoutGraph } from './layout';
import { type AwsHistoryEvent, buildGraph, deriveStatuses, type SagaGraph, toConsoleEvents } from './model';

export interface ConsoleServiceOptions {
  /** The edge URL (known once the edge listens). */
  endpoint: () => string;
  /** The deployed stacks' outputs (StateMachineArn, DlqUrl, RedriveFunctionName, and the app's). */
  outputs: () => Record<string, string>;
  /** The app config: its sagas' output names and console hooks. Without one: the generic views only. */
  plugin?: LocalCloudPlugin;
  /**
   * Optional push from the Step Functions service (`StatesApi.onEvent`): wakes the live stream as soon
   * as an execution records an event. Without it the stream polls the Step Functions API every 300 ms.
   */
  onEvent?: (listener: (executionArn: string, event: unknown) => void) => () => void;
  /** Poll interval of the live stream. @default 300 */
  pollMs?: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A client-visible error: the status and a message naming what is wrong (the hooks' error too). */
const ConsoleError = PluginError;

function json(body: unknown, status = 200): AwsResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/**
 * Why a state-changing console API request may come from another site, or undefined when it comes from
 * the console page itself. A page elsewhere can send a "simple" cross-site POST (a form, or `fetch` with
 * `content-type: text/plain`) without asking first; it cannot send `content-type: application/json`
 * without a CORS preflight, which the console never grants. So the API takes only JSON, and refuses
 * whatever the browser marks as coming from another origin (`Origin`, `Sec-Fetch-Site`). SDKs, curl and
 * scripts send neither header and only need the content type.
 */
export function crossSiteReason(req: Pick<AwsRequest, 'headers'>): string | undefined {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const fetchSite = header('sec-fetch-site');
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none')
    return `the browser marks it as coming from another site (Sec-Fetch-Site: ${fetchSite})`;
  const origin = header('origin');
  if (origin !== undefined && !sameOrigin(origin, header('host')))
    return `it comes from a page on ${JSON.stringify(origin)}, not from the console (${JSON.stringify(`http://${header('host') ?? ''}`)})`;
  const contentType = header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json')
    return `its content type is ${contentType ? JSON.stringify(contentType) : 'missing'}: send "content-type: application/json" (and a JSON body)`;
  return undefined;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    const page = new URL(origin);
    return page.protocol === 'http:' && page.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

function sleep(ms: number, wake: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      wake.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    wake.add(done);
  });
}

/** One server-sent event of the live stream (`GET stream`). */
function sse<K extends keyof StreamEvents>(event: K, data: StreamEvents[K]): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function summarize(item: ExecutionListItem): ExecutionSummary {
  return {
    executionArn: item.executionArn ?? '',
    stateMachineArn: item.stateMachineArn ?? '',
    name: item.name ?? '',
    status: item.status ?? 'RUNNING',
    ...(item.startDate ? { startDate: item.startDate.toISOString() } : {}),
    ...(item.stopDate ? { stopDate: item.stopDate.toISOString() } : {}),
  };
}

/** The console's data access: AWS SDK clients pointed at the edge, created on first use. */
class ConsoleBackend {
  private clients: { sfn: SFNClient; sqs: SQSClient; lambda: LambdaClient; endpoint: string } | undefined;
  private graphCache:
    | { definition: string; value: Promise<{ graph: SagaGraph; layout: GraphLayout }> }
    | undefined;

  constructor(private readonly options: ConsoleServiceOptions) {}

  private get aws() {
    const endpoint = this.options.endpoint();
    if (!this.clients || this.clients.endpoint !== endpoint) {
      const config = { endpoint, region: LOCAL_REGION, credentials: CREDENTIALS };
      this.clients = {
        endpoint,
        sfn: new SFNClient(config),
        sqs: new SQSClient(config),
        lambda: new LambdaClient(config),
      };
    }
    return this.clients;
  }

  /** The saga `?saga=` names, else the config's first (undefined without a config). */
  saga(name: string | null | undefined): SagaPlugin | undefined {
    const sagas = this.options.plugin?.sagas ?? [];
    if (!name) return sagas[0];
    const saga = sagas.find((s) => s.name === name);
    if (!saga)
      throw new ConsoleError(
        404,
        `No saga "${name}" in the app config (have: ${sagas.map((s) => s.name).join(', ') || 'none'})`,
      );
    return saga;
  }

  /** What a console hook gets: the edge, the outputs, and the console's credentials. */
  context(): PluginContext {
    return {
      endpoint: this.options.endpoint(),
      region: LOCAL_REGION,
      credentials: CREDENTIALS,
      outputs: this.options.outputs(),
      output: (name) => this.output(name),
    };
  }

  /** The saga's console hook `name`, or a 404 saying the app config has none. */
  hook<K extends keyof ConsoleExtension>(
    saga: SagaPlugin | undefined,
    name: K,
  ): NonNullable<ConsoleExtension[K]> {
    const hook = saga?.console?.[name];
    if (!hook)
      throw new ConsoleError(
        404,
        saga
          ? `The app config's saga "${saga.name}" has no console hook "${name}"`
          : `No app config (stepsaga.config.ts) provides the console hook "${name}"`,
      );
    return hook as NonNullable<ConsoleExtension[K]>;
  }

  output(name: string): string {
    const value = this.options.outputs()[name];
    if (!value)
      throw new ConsoleError(
        503,
        `The stack output ${name} is not available: the local cloud has not deployed the assembly (yet)`,
      );
    return value;
  }

  async graph(saga: SagaPlugin | undefined): Promise<GraphResponse> {
    const stateMachineArn = this.output(outputNames(saga).stateMachineArn);
    const described = await this.aws.sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
    const definition = described.definition ?? '';
    if (this.graphCache?.definition !== definition) {
      const graph = buildGraph(definition);
      this.graphCache = { definition, value: layoutGraph(graph).then((layout) => ({ graph, layout })) };
    }
    return { stateMachineArn, name: described.name ?? '', ...(await this.graphCache.value) };
  }

  async executions(saga: SagaPlugin | undefined, status?: string): Promise<ExecutionSummary[]> {
    const statusFilter = EXECUTION_STATUSES.find((s) => s === status);
    if (status && !statusFilter)
      throw new ConsoleError(
        400,
        `Unknown status filter "${status}": one of ${EXECUTION_STATUSES.join(', ')}`,
      );
    const out = await this.aws.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: this.output(outputNames(saga).stateMachineArn),
        maxResults: 100,
        ...(statusFilter ? { statusFilter } : {}),
      }),
    );
    return (out.executions ?? [])
      .map(summarize)
      .sort((a, b) => (b.startDate ?? '').localeCompare(a.startDate ?? ''));
  }

  async execution(saga: SagaPlugin | undefined, executionArn: string): Promise<ExecutionDetail> {
    if (!executionArn) throw new ConsoleError(400, 'Query parameter "arn" (the execution ARN) is required');
    const sfn = this.aws.sfn;
    const [described, { graph }] = await Promise.all([
      sfn.send(new DescribeExecutionCommand({ executionArn })),
      this.graph(saga),
    ]);
    const raw: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
      );
      raw.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const events = toConsoleEvents(raw as unknown as AwsHistoryEvent[]);
    return {
      execution: {
        executionArn,
        stateMachineArn: described.stateMachineArn ?? '',
        name: described.name ?? '',
        status: described.status ?? 'RUNNING',
        startDate: described.startDate?.toISOString(),
        stopDate: described.stopDate?.toISOString(),
        input: described.input,
        output: described.output,
        error: described.error,
        cause: described.cause,
      },
      events,
      ...deriveStatuses(graph, events),
    };
  }

  /** The JSON body of a request to a hook (`{}` when empty), or a 400 naming what it is for. */
  static body(body: Buffer, what: string): unknown {
    const text = body.toString('utf8').trim();
    if (!text) return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new ConsoleError(400, `The ${what} must be a JSON object`);
    }
  }

  /** Peeks the DLQ without hiding its messages (VisibilityTimeout 0), so redrive still finds them. */
  async deadLetters(saga: SagaPlugin | undefined): Promise<DlqResponse> {
    const QueueUrl = this.output(outputNames(saga).dlqUrl);
    const seen = new Map<string, DeadLetter>();
    for (let round = 0; round < 5; round += 1) {
      const out = await this.aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
        }),
      );
      const fresh = (out.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        let parsed: Record<string, unknown> = {};
        try {
          const value: unknown = JSON.parse(message.Body ?? '');
          if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
        } catch {
          parsed = { error: 'unreadable message body', cause: message.Body };
        }
        const sent = Number(message.Attributes?.SentTimestamp);
        const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
        seen.set(message.MessageId ?? '', {
          messageId: message.MessageId ?? '',
          id: text(parsed[saga?.idField ?? DEFAULT_ID_FIELD]),
          step: text(parsed.step),
          error: text(parsed.error),
          cause: text(parsed.cause),
          executionArn: text(parsed.executionArn),
          ...(Number.isFinite(sent) ? { sentAt: new Date(sent).toISOString() } : {}),
        });
      }
    }
    return { messages: [...seen.values()] };
  }

  async redrive(saga: SagaPlugin | undefined): Promise<RedriveResponse> {
    const FunctionName = this.output(outputNames(saga).redriveFunctionName);
    const out = await this.aws.lambda.send(new InvokeCommand({ FunctionName, Payload: Buffer.from('{}') }));
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    let payload: unknown = text;
    try {
      payload = JSON.parse(text);
    } catch {
      // not JSON: show the text
    }
    if (out.FunctionError) return { ok: false, functionError: out.FunctionError, payload };
    return { ok: true, report: payload };
  }

  /** What the page needs first: the generic lists, the sagas, and the saga's start-form choices. */
  async choices(saga: SagaPlugin | undefined): Promise<ChoicesResponse> {
    const app = saga?.console?.choices ? await saga.console.choices(this.context()) : undefined;
    const outputs = this.options.outputs();
    const stateMachineArn = outputs[outputNames(saga).stateMachineArn];
    return {
      ...(stateMachineArn ? { stateMachineArn } : {}),
      endpoint: this.options.endpoint(),
      ...(outputs.ApiUrl ? { apiUrl: outputs.ApiUrl } : {}),
      statuses: EXECUTION_STATUSES,
      sagas: (this.options.plugin?.sagas ?? []).map((s) => s.name),
      ...(saga ? { saga: saga.name } : {}),
      actions: saga?.console?.actions ?? [],
      ...(app !== undefined ? { app } : {}),
    };
  }
}

class ConsoleService implements Service {
  readonly name = 'console' as const;
  private readonly backend: ConsoleBackend;
  private bundle: Promise<string> | undefined;
  private closed = false;
  private readonly sleepers = new Set<() => void>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: ConsoleServiceOptions) {
    this.backend = new ConsoleBackend(options);
    this.unsubscribe = options.onEvent?.(() => {
      for (const wake of [...this.sleepers]) wake();
    });
  }

  async handle(req: AwsRequest): Promise<AwsResponse> {
    try {
      return await this.route(req);
    } catch (error) {
      if (error instanceof ConsoleError) return json({ error: error.message }, error.status);
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      return json({ error: `${name}: ${message}` }, 502);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    for (const wake of [...this.sleepers]) wake();
  }

  private async route(req: AwsRequest): Promise<AwsResponse> {
    const { method, path: p } = req;
    if (p === '/' || p === '/_console') return { status: 302, headers: { location: '/_console/' } };
    if (method === 'GET' && (p === '/_console/' || p === '/_console/index.html')) return this.page();
    if (method === 'GET' && p === '/_console/app.js')
      return {
        status: 200,
        headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' },
        body: await this.appBundle(),
      };
    if (method === 'GET' && p === '/_console/app.css')
      return {
        status: 200,
        headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' },
        body: await readFile(path.join(here, 'web', 'app.css'), 'utf8'),
      };
    const api = p.startsWith('/_console/api/') ? p.slice('/_console/api/'.length) : undefined;
    if (api !== undefined && method !== 'GET' && method !== 'HEAD') {
      const reason = crossSiteReason(req);
      if (reason)
        throw new ConsoleError(
          403,
          `Refused ${method} ${p}: the console's API takes changes only from the console page itself, and ${reason}.`,
        );
    }
    if (api === undefined) return json({ error: `No console resource ${method} ${p}` }, 404);
    const backend = this.backend;
    const saga = backend.saga(req.query.get('saga'));
    const action = method === 'POST' ? /^items\/([^/]+)\/([a-z]+)$/.exec(api) : null;
    if (action) {
      const run = backend.hook(saga, 'action');
      const actions = saga?.console?.actions ?? [];
      const verb = actions.find((a) => a === action[2]);
      if (!verb) return json({ error: `No action "${action[2]}": one of ${actions.join(', ')}` }, 404);
      const body = ConsoleBackend.body(req.body, `${verb} request`);
      let id: string;
      try {
        id = decodeURIComponent(action[1] ?? '');
      } catch {
        throw new ConsoleError(400, `The item id in ${p} is not a valid URL path segment`);
      }
      const result = await run(backend.context(), id, verb, body);
      return json(result.body, result.status);
    }
    switch (`${method} ${api}`) {
      case 'GET choices':
        return json(await backend.choices(saga));
      case 'GET graph':
        return json(await backend.graph(saga));
      case 'GET executions':
        return json({ executions: await backend.executions(saga, req.query.get('status') ?? undefined) });
      case 'GET execution':
        return json(await backend.execution(saga, req.query.get('arn') ?? ''));
      case 'POST start': {
        const start = backend.hook(saga, 'start');
        if (!req.body.toString('utf8').trim())
          throw new ConsoleError(400, 'The start request must be a JSON object');
        const result = await start(backend.context(), ConsoleBackend.body(req.body, 'start request'));
        return json(result.body, result.status);
      }
      case 'GET dlq':
        return json(await backend.deadLetters(saga));
      case 'POST redrive':
        return json(await backend.redrive(saga));
      case 'GET data':
        return json(await backend.hook(saga, 'data')(backend.context(), req.query));
      case 'GET item': {
        const result = await backend.hook(saga, 'item')(backend.context(), req.query.get('id') ?? '');
        return json(result.body, result.status);
      }
      case 'GET stream':
        return {
          status: 200,
          headers: { 'content-type': 'text/event-stream; charset=utf-8', 'x-accel-buffering': 'no' },
          stream: this.stream(saga, req.query.get('arn') ?? undefined),
        };
      default:
        return json({ error: `No console resource ${method} ${p}` }, 404);
    }
  }

  private async page(): Promise<AwsResponse> {
    const html = await readFile(path.join(here, 'web', 'index.html'), 'utf8');
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
      body: html,
    };
  }

  /**
   * The front end, bundled once with esbuild and kept in memory: the console's entry, which boots with
   * the browser modules the app config's sagas name (`console.web`), keyed by saga.
   */
  appBundle(): Promise<string> {
    this.bundle ??= import('esbuild')
      .then((esbuild) =>
        esbuild.build({
          stdin: {
            contents: consoleEntry(this.options.plugin),
            resolveDir: path.join(here, 'web'),
            sourcefile: 'console-entry.ts',
            loader: 'ts',
          },
          bundle: true,
          write: false,
          format: 'esm',
          platform: 'browser',
          target: 'es2022',
          minify: true,
          sourcemap: 'inline',
          logLevel: 'silent',
        }),
      )
      .then((result) => result.outputFiles[0]?.text ?? '');
    this.bundle.catch(() => {
      this.bundle = undefined;
    });
    return this.bundle;
  }

  /**
   * Server-sent events ({@link StreamEvents}): `executions` when the list changes, `execution` when the
   * watched execution (`?arn=`) records new events, `item` (the app's `item` hook's answer, e.g. the
   * order with its action links) when the item behind that execution changes. Polls the Step Functions
   * API (or wakes on `onEvent`).
   */
  private async *stream(saga: SagaPlugin | undefined, arn: string | undefined): AsyncGenerator<string> {
    const item = saga?.console?.item;
    const itemMark = saga?.console?.itemMark;
    const pollMs = this.options.pollMs ?? 300;
    let lastList = '';
    let lastExecution = '';
    let lastItem = '';
    let lastBeat = 0;
    yield 'retry: 1000\n\n';
    while (!this.closed) {
      try {
        const executions = await this.backend.executions(saga);
        const signature = JSON.stringify(executions);
        if (signature !== lastList) {
          lastList = signature;
          yield sse('executions', executions);
        }
        if (arn) {
          const detail = await this.backend.execution(saga, arn);
          const mark = `${detail.execution.status}:${detail.events.length}`;
          if (mark !== lastExecution) {
            lastExecution = mark;
            yield sse('execution', detail);
          }
          // The item behind the execution (its name, e.g. the order): a review wait or a cancel changes
          // the item without an execution event, so the item's own mark is watched too.
          const itemId = detail.execution.name;
          if (item) {
            const context = this.backend.context();
            const itemState = `${mark}:${itemMark ? await itemMark(context, itemId) : ''}`;
            if (itemState !== lastItem) {
              lastItem = itemState;
              const answer = await item(context, itemId);
              if (answer.status === 200) yield sse('item', answer.body);
            }
          }
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        yield sse('problem', { error: message });
        // The next poll that works sends the list again: the page learns the problem is over.
        lastList = '';
      }
      if (Date.now() - lastBeat > 2000) {
        lastBeat = Date.now();
        yield ': keep-alive\n\n';
      }
      const slept = Date.now();
      await sleep(pollMs, this.sleepers);
      // Woken by onEvent: still leave 100 ms between polls so a burst of events costs one poll.
      const gap = 100 - (Date.now() - slept);
      if (gap > 0 && !this.closed) await sleep(gap, new Set());
    }
  }
}

/**
 * The bundle's entry: the console's `boot`, given each saga's browser module (its default export, a
 * `WebExtension`) by saga name. The modules are the app's files, named by the app config: bundled, not
 * imported, so the local cloud stays free of the app.
 */
export function consoleEntry(plugin: LocalCloudPlugin | undefined): string {
  const modules = (plugin?.sagas ?? []).flatMap((saga) =>
    saga.console?.web ? [{ saga: saga.name, file: saga.console.web }] : [],
  );
  return [
    `import { boot } from './main';`,
    ...modules.map((m, i) => `import web${i} from ${JSON.stringify(m.file)};`),
    `boot({ ${modules.map((m, i) => `${JSON.stringify(m.saga)}: web${i}`).join(', ')} });`,
  ].join('\n');
}

/**
 * The console service for the edge (`edge.register(createConsoleService(...))`). It serves
 * `GET /` (without credentials) and `/_console/**`.
 */
export function createConsoleService(opts: ConsoleServiceOptions): Service {
  return new ConsoleService(opts);
}
