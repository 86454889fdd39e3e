/// <reference lib="dom" />
/**
 * The console API's typed client: one function per route (`../api.ts` holds the shapes the server
 * answers with), fetch + JSON. A refusal or failure throws a {@link ConsoleApiError} carrying the
 * server's sentence, which the views show where the request was made.
 */
import {
  type ApiErrorBody,
  type ChoicesResponse,
  CONSOLE_API_PATH,
  type DlqResponse,
  type ExecutionDetail,
  type ExecutionStatus,
  type ExecutionsResponse,
  type GraphResponse,
  type ItemActionResponse,
  type RedriveResponse,
  type StartResponse,
  type StreamEvents,
} from '../api';

/** A console API request that was refused or failed: the route, the HTTP status, the server's message. */
export class ConsoleApiError extends Error {
  constructor(
    readonly route: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleApiError';
  }
}

export interface ConsoleApiOptions {
  /** Where the console is served (`http://127.0.0.1:4566`); the page's own origin when empty. */
  origin?: string;
  /** The saga every request names (`?saga=`); the app config's first when absent. */
  saga?: string | null;
}

type Query = Record<string, string | undefined>;
type StreamHandlers = { [K in keyof StreamEvents]?: (data: StreamEvents[K]) => void } & {
  open?(): void;
  error?(): void;
};

export type ConsoleApi = ReturnType<typeof createConsoleApi>;

export function createConsoleApi({ origin = '', saga }: ConsoleApiOptions = {}) {
  const url = (route: string, query: Query = {}) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
    if (saga) params.set('saga', saga);
    const search = params.toString();
    return `${origin}${CONSOLE_API_PATH}/${route}${search ? `?${search}` : ''}`;
  };
  const call = async <T>(
    method: 'GET' | 'POST',
    route: string,
    query?: Query,
    body?: unknown,
  ): Promise<T> => {
    // Changes go as JSON: the API refuses anything else (a cross-site form could send it otherwise).
    const response = await fetch(
      url(route, query),
      method === 'POST'
        ? { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) }
        : { method },
    );
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      // The console's own refusals say `error`; an app's answer passed through (e.g. the order API's
      // `{ code, message }`) keeps its sentence too.
      const body = (parsed ?? {}) as Partial<ApiErrorBody> & { message?: unknown; code?: unknown };
      const appMessage =
        typeof body.message === 'string'
          ? `${typeof body.code === 'string' ? `${body.code}: ` : ''}${body.message}`
          : undefined;
      throw new ConsoleApiError(
        `${method} ${route}`,
        response.status,
        typeof body.error === 'string'
          ? body.error
          : (appMessage ?? `${response.status} ${response.statusText}`.trim()),
      );
    }
    if (parsed === undefined)
      throw new ConsoleApiError(
        `${method} ${route}`,
        response.status,
        `${method} ${route} did not answer JSON`,
      );
    return parsed as T;
  };
  return {
    choices: () => call<ChoicesResponse>('GET', 'choices'),
    graph: () => call<GraphResponse>('GET', 'graph'),
    executions: (status?: ExecutionStatus) => call<ExecutionsResponse>('GET', 'executions', { status }),
    execution: (arn: string) => call<ExecutionDetail>('GET', 'execution', { arn }),
    dlq: () => call<DlqResponse>('GET', 'dlq'),
    redrive: () => call<RedriveResponse>('POST', 'redrive'),
    /** Starts an execution through the app's `start` hook (the body is the app's start request). */
    start: (body: unknown) => call<StartResponse>('POST', 'start', {}, body),
    /** The app's data panels (`T`: what the app's `data` hook answers). */
    data: <T>(query: Query = {}) => call<T>('GET', 'data', query),
    /** The item behind an execution (`T`: the body of the app's `item` hook). */
    item: <T>(id: string) => call<T>('GET', 'item', { id }),
    /** One of the app's item actions (`choices().actions`). */
    action: (id: string, action: string, body: unknown) =>
      call<ItemActionResponse>(
        'POST',
        `items/${encodeURIComponent(id)}/${encodeURIComponent(action)}`,
        {},
        body,
      ),
    /** The live stream (server-sent events), watching execution `arn` when given. */
    stream(arn: string | undefined, on: StreamHandlers): EventSource {
      const source = new EventSource(url('stream', { arn }));
      source.onopen = () => on.open?.();
      source.onerror = () => on.error?.();
      const listen = <K extends keyof StreamEvents>(event: K) => {
        const handler = on[event] as ((data: StreamEvents[K]) => void) | undefined;
        if (handler)
          source.addEventListener(event, (message) =>
            handler(JSON.parse((message as MessageEvent<string>).data) as StreamEvents[K]),
          );
      };
      listen('executions');
      listen('execution');
      listen('item');
      listen('problem');
      return source;
    },
  };
}
