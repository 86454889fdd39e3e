/**
 * Who the local cloud answers: a real local cloud on loopback, requests sent over HTTP the
 * way a web page in the developer's browser would send them: with a rebound `Host` (DNS rebinding), as
 * cross-site "simple" requests (`content-type: text/plain`, an `Origin` elsewhere), and as the console
 * page itself. Each refusal is checked to have changed nothing.
 */
import http from 'node:http';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCliArgs, UsageError } from '../../localcloud/cli';
import type { LocalCloud } from '../../localcloud/cloud';
import { ensureAssembly, startTestCloud } from '../support/localcloud';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let cloud: LocalCloud;
let port: string;
let sfn: SFNClient;
let lambda: LambdaClient;

beforeAll(async () => {
  const assembly = await ensureAssembly();
  // One name from the option, a domain from the environment (read when the cloud starts).
  const saved = process.env.STEPSAGA_ALLOWED_HOSTS;
  process.env.STEPSAGA_ALLOWED_HOSTS = '.dev.test';
  try {
    cloud = await startTestCloud({ assembly, seed: true, retryScale: 0.02, allowedHosts: ['stepsaga.test'] });
  } finally {
    if (saved === undefined) delete process.env.STEPSAGA_ALLOWED_HOSTS;
    else process.env.STEPSAGA_ALLOWED_HOSTS = saved;
  }
  port = new URL(cloud.endpoint).port;
  sfn = new SFNClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials });
  lambda = new LambdaClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials });
});

afterAll(async () => {
  sfn?.destroy();
  lambda?.destroy();
  await cloud?.close();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => Record<string, unknown>;
}

/** A raw request to the edge's socket with exactly these headers (fetch would not let us set Host). */
function send(method: string, path: string, headers: Record<string, string>, body = ''): Promise<Answer> {
  const { hostname } = new URL(cloud.endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: hostname,
        port,
        method,
        path,
        headers: { host: `127.0.0.1:${port}`, 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** CreateFunction as a page can send it without a preflight: unsigned, `text/plain`. */
function createFunctionBody(name: string): string {
  const code = zipSync({ 'index.js': new TextEncoder().encode('exports.handler = async () => "ran";') });
  return JSON.stringify({
    FunctionName: name,
    Runtime: 'nodejs22.x',
    Handler: 'index.handler',
    Role: 'arn:aws:iam::000000000000:role/r',
    Code: { ZipFile: Buffer.from(code).toString('base64') },
  });
}

async function functionNames(): Promise<string[]> {
  const out = await lambda.send(new ListFunctionsCommand({}));
  return (out.Functions ?? []).map((f) => f.FunctionName ?? '');
}

async function executionNames(): Promise<string[]> {
  const out = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn: cloud.outputs.StateMachineArn, maxResults: 1000 }),
  );
  return (out.executions ?? []).map((e) => e.name ?? '');
}

function order(orderId: string): string {
  return JSON.stringify({
    orderId,
    customerId: 'customer-1',
    items: [{ sku: 'SKU-1', quantity: 1 }],
    deliverySlot: '2026-12-01T10',
  });
}

describe('edge: only requests addressed to the local cloud are answered (DNS rebinding)', () => {
  it('gives a foreign Host a 403 naming it and how to allow it, and creates nothing', async () => {
    const res = await send(
      'POST',
      '/2015-03-31/functions',
      { host: `evil.example:${port}`, 'content-type': 'text/plain;charset=UTF-8' },
      createFunctionBody('rebound'),
    );

    expect(res.status).toBe(403);
    expect(res.headers['x-amzn-errortype']).toBe('HostNotAllowed');
    expect(res.json().message).toContain(`"evil.example:${port}"`);
    expect(res.json().message).toContain('--allowed-hosts evil.example');
    expect(res.json().message).toContain('STEPSAGA_ALLOWED_HOSTS=evil.example');
    expect(await functionNames()).not.toContain('rebound');
  });

  it('serves a rebound page nothing: not the console, not an order, not the health check', async () => {
    const before = await executionNames();
    const page = await send('GET', '/_console/', { host: `evil.example:${port}` });
    const start = await send(
      'POST',
      '/_console/api/start',
      {
        host: `evil.example:${port}`,
        origin: `http://evil.example:${port}`,
        'content-type': 'application/json',
      },
      order('order-rebound'),
    );
    const health = await send('GET', '/_localcloud/health', { host: 'evil.example' });

    expect([page.status, start.status, health.status]).toEqual([403, 403, 403]);
    expect(page.text).not.toContain('<html');
    expect(await executionNames()).toEqual(before);
  });

  it('refuses look-alikes of the allowed names', async () => {
    for (const host of ['localhost.evil.example', '127.0.0.1.evil.example', 'evil@127.0.0.1', 'xdev.test']) {
      const res = await send('GET', '/_localcloud/health', { host });
      expect({ host, status: res.status }).toEqual({ host, status: 403 });
    }
  });

  it('answers localhost, *.localhost, loopback addresses and the names from --allowed-hosts and STEPSAGA_ALLOWED_HOSTS, any port', async () => {
    for (const host of [
      `localhost:${port}`,
      'LOCALHOST',
      `stepsaga.localhost:${port}`,
      `127.0.0.1:${port}`,
      '127.0.0.2:80',
      `[::1]:${port}`,
      `sync-127.0.0.1:${port}`,
      `stepsaga.test:${port}`,
      'stepsaga.test.',
      `api.dev.test:${port}`,
      'dev.test:8080',
    ]) {
      const res = await send('GET', '/_localcloud/health', { host });
      expect({ host, status: res.status }).toEqual({ host, status: 200 });
    }
  });

  it('lets a configured host create and invoke a function, like any client', async () => {
    const res = await send(
      'POST',
      '/2015-03-31/functions',
      { host: `stepsaga.test:${port}`, 'content-type': 'application/json' },
      createFunctionBody('by-allowed-name'),
    );

    const invoked = await send(
      'POST',
      '/2015-03-31/functions/by-allowed-name/invocations',
      { host: `api.dev.test:${port}`, 'content-type': 'application/json' },
      '{}',
    );

    expect(res.status).toBe(201);
    expect(await functionNames()).toContain('by-allowed-name');
    expect(invoked.status).toBe(200);
    expect(invoked.text).toBe('"ran"');
  });
});

describe('edge: web pages on other sites get no service (cross-site simple requests)', () => {
  it('refuses a text/plain CreateFunction from another site with 403 and creates nothing', async () => {
    const res = await send(
      'POST',
      '/2015-03-31/functions',
      { origin: 'http://evil.example', 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' },
      createFunctionBody('cross-site'),
    );
    const sandboxed = await send(
      'POST',
      '/2015-03-31/functions',
      { origin: 'null', 'content-type': 'text/plain' },
      createFunctionBody('sandboxed'),
    );

    expect(res.status).toBe(403);
    expect(res.headers['x-amzn-errortype']).toBe('OriginNotAllowed');
    expect(res.json().message).toContain('"http://evil.example"');
    expect(sandboxed.status).toBe(403);
    expect(await functionNames()).not.toContain('cross-site');
    expect(await functionNames()).not.toContain('sandboxed');
  });
});

describe('console API: changes only from the console page itself', () => {
  const consoleOrigin = () => `http://127.0.0.1:${port}`;

  it('refuses cross-site POSTs to /start with 403 and starts no execution', async () => {
    const before = await executionNames();
    const attempts: Array<Record<string, string>> = [
      // a page on another site: the edge refuses it
      { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' },
      // another local page (allowed host, other origin): a simple request, then with JSON anyway
      { origin: 'http://localhost:5173', 'sec-fetch-site': 'same-site', 'content-type': 'text/plain' },
      { origin: 'http://localhost:5173', 'content-type': 'application/json' },
      // a browser that sends no Origin but marks it cross-site
      { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
      // no browser headers at all, but not JSON (an old browser's form post)
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
    ];
    const answers = await Promise.all(
      attempts.map((headers, i) => send('POST', '/_console/api/start', headers, order(`order-csrf-${i}`))),
    );

    expect(answers.map((a) => a.status)).toEqual(attempts.map(() => 403));
    for (const answer of answers.slice(1))
      expect(answer.json().error).toMatch(/^Refused POST \/_console\/api\/start/);
    expect(answers[2]?.json().error).toContain('"http://localhost:5173"');
    expect(answers[4]?.json().error).toContain('content-type: application/json');
    expect(await executionNames()).toEqual(before);
  });

  it('refuses a cross-site POST to /redrive with 403', async () => {
    const res = await send('POST', '/_console/api/redrive', {
      origin: 'http://localhost:3000',
      'content-type': 'text/plain',
    });

    expect(res.status).toBe(403);
    expect(res.json().error).toMatch(/^Refused POST \/_console\/api\/redrive/);
  });

  it('starts an order from the console page (same origin, JSON) and redrives', async () => {
    const sameOrigin = {
      origin: consoleOrigin(),
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/json',
    };
    const started = await send('POST', '/_console/api/start', sameOrigin, order('order-same-origin'));
    const redrive = await send('POST', '/_console/api/redrive', sameOrigin, '{}');

    expect(started.status).toBeLessThan(300);
    expect(started.json().executionArn).toEqual(expect.stringContaining('order-same-origin'));
    expect(await executionNames()).toContain('order-same-origin');
    expect(redrive.status).toBe(200);
    expect(redrive.json().ok).toBe(true);
  });

  it('takes a JSON POST from a script without browser headers (curl, SDK-style clients)', async () => {
    const started = await send(
      'POST',
      '/_console/api/start',
      { 'content-type': 'application/json; charset=utf-8' },
      order('order-from-script'),
    );

    expect(started.status).toBeLessThan(300);
    expect(await executionNames()).toContain('order-from-script');
  });
});

describe('npm start -- --allowed-hosts', () => {
  it('takes names from the option (repeatable, comma-separated) and checks STEPSAGA_ALLOWED_HOSTS', () => {
    expect(parseCliArgs([]).allowedHosts).toEqual([]);
    expect(
      parseCliArgs([
        '--allowed-hosts',
        'a.test,B.test',
        '--allowed-hosts',
        '.dev.test',
        '--allowed-hosts',
        '::1',
      ]).allowedHosts,
    ).toEqual(['a.test', 'b.test', '.dev.test', '[::1]']);
    expect(() => parseCliArgs(['--allowed-hosts', 'http://a.test/'])).toThrow(UsageError);
    expect(() => parseCliArgs(['--allowed-hosts', 'a.test:4566'])).toThrow(/--allowed-hosts: "a.test:4566"/);
    expect(() => parseCliArgs([], { STEPSAGA_ALLOWED_HOSTS: 'ok.test, not a/host' })).toThrow(
      /STEPSAGA_ALLOWED_HOSTS: "a\/host"/,
    );
  });
});
