/**
 * The console's typed API client (`localcloud/console/web/api.ts`) against the console service on a real
 * edge (HTTP on a loopback port): every answer has the server's types, a refusal reaches the caller as a
 * `ConsoleApiError` with the server's sentence, and the app's hooks get what the page sent. The app here is
 * a small config written for the test (no deployed stack: the hooks answer by themselves).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTION_STATUSES } from '../../localcloud/console/api';
import { createConsoleService } from '../../localcloud/console/service';
import { ConsoleApiError, createConsoleApi } from '../../localcloud/console/web/api';
import { Edge } from '../../localcloud/edge';
import type { LocalCloudPlugin } from '../../localcloud/plugin';

const dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-console-api-'));
const webModule = path.join(dir, 'widget.web.ts');
writeFileSync(webModule, "export default { noun: 'widget-from-the-app-module' };\n");
const calls: unknown[][] = [];
const app: LocalCloudPlugin = {
  sagas: [
    {
      name: 'widgets',
      console: {
        choices: async () => ({ colours: ['red', 'blue'] }),
        start: async (_ctx, body) => {
          calls.push(['start', body]);
          return { status: 202, body: { executionArn: 'arn:aws:states:us-east-1:0:execution:m:w-1' } };
        },
        item: async (_ctx, id) => ({ status: 200, body: { widgetId: id, status: 'MADE' } }),
        actions: ['paint', 'varnish'],
        action: async (_ctx, id, action, body) => {
          calls.push([action, id, body]);
          if (action === 'varnish')
            return { status: 409, body: { code: 'NotPainted', message: `Widget ${id} is not painted yet` } };
          return { status: 200, body: { status: 'PAINTED', action } };
        },
        web: webModule,
      },
    },
    { name: 'plain' },
  ],
};

let edge: Edge;
let origin: string;
beforeAll(async () => {
  edge = new Edge({ port: 0 });
  edge.register(createConsoleService({ endpoint: () => edge.endpoint, outputs: () => ({}), plugin: app }));
  origin = await edge.listen();
});
afterAll(async () => {
  await edge?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The rejection of `promise`, which must be a ConsoleApiError. */
async function refusal(promise: Promise<unknown>): Promise<ConsoleApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConsoleApiError);
  return error as ConsoleApiError;
}

describe('console API client', () => {
  it('reads the choices of the first saga, or of the one it names, with the app’s own under "app"', async () => {
    const first = await createConsoleApi({ origin }).choices();
    expect(first).toMatchObject({
      saga: 'widgets',
      sagas: ['widgets', 'plain'],
      statuses: [...EXECUTION_STATUSES],
      actions: ['paint', 'varnish'],
      app: { colours: ['red', 'blue'] },
    });
    const plain = await createConsoleApi({ origin, saga: 'plain' }).choices();
    expect(plain).toMatchObject({ saga: 'plain', actions: [] });
    expect(plain.app).toBeUndefined();
  });

  it('passes the start request and the item actions to the app’s hooks and answers what they answered', async () => {
    const api = createConsoleApi({ origin });
    expect(await api.start({ widgetId: 'w-1', colour: 'red' })).toEqual({
      executionArn: 'arn:aws:states:us-east-1:0:execution:m:w-1',
    });
    expect(await api.item<{ widgetId: string }>('w-1')).toEqual({ widgetId: 'w-1', status: 'MADE' });
    expect(await api.action('w 1', 'paint', { colour: 'blue' })).toEqual({
      status: 'PAINTED',
      action: 'paint',
    });
    expect(calls).toEqual([
      ['start', { widgetId: 'w-1', colour: 'red' }],
      ['paint', 'w 1', { colour: 'blue' }],
    ]);
  });

  it('surfaces a refusal as a ConsoleApiError with the route, the status and the server’s sentence', async () => {
    const api = createConsoleApi({ origin });
    const noStack = await refusal(api.graph());
    expect(noStack).toMatchObject({ route: 'GET graph', status: 503 });
    expect(noStack.message).toMatch(/StateMachineArn is not available/);
    const noHook = await refusal(api.data());
    expect(noHook).toMatchObject({ route: 'GET data', status: 404 });
    expect(noHook.message).toBe('The app config\'s saga "widgets" has no console hook "data"');
    const unknownAction = await refusal(api.action('w-1', 'melt', {}));
    expect(unknownAction).toMatchObject({ route: 'POST items/w-1/melt', status: 404 });
    expect(unknownAction.message).toBe('No action "melt": one of paint, varnish');
    // the app's own refusal, passed through as it answered it ({ code, message }): its sentence reaches the page
    const appRefusal = await refusal(api.action('w-1', 'varnish', {}));
    expect(appRefusal).toMatchObject({ route: 'POST items/w-1/varnish', status: 409 });
    expect(appRefusal.message).toBe('NotPainted: Widget w-1 is not painted yet');
    const unknownSaga = await refusal(createConsoleApi({ origin, saga: 'gadgets' }).choices());
    expect(unknownSaga.message).toBe('No saga "gadgets" in the app config (have: widgets, plain)');
    const badStatus = await refusal(api.executions('BOGUS' as (typeof EXECUTION_STATUSES)[number]));
    expect(badStatus).toMatchObject({ status: 400 });
  });

  it('bundles the browser module the app config names into the page', async () => {
    const bundle = await fetch(`${origin}/_console/app.js`);
    expect(bundle.status).toBe(200);
    expect(await bundle.text()).toContain('widget-from-the-app-module');
  });
});

describe('console live stream', () => {
  it('names a poll that failed in a problem event (here: no stack deployed)', async () => {
    const controller = new AbortController();
    const response = await fetch(`${origin}/_console/api/stream?saga=plain`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: problem\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    controller.abort();
    const data = /event: problem\ndata: (.*)\n/.exec(text)?.[1];
    expect(JSON.parse(data ?? '{}')).toEqual({
      error: expect.stringMatching(/StateMachineArn is not available/),
    });
  });
});
