/**
 * API Gateway REST APIs on the edge: routing through the resource tree, v1 proxy events, AWS_IAM presence
 * check, and AWS's answers for unknown routes and broken integrations. Real Lambda workers run the
 * handlers (small functions written to a temporary directory).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../client/api';
import type { RestApiModel } from '../../localcloud/apigateway/model';
import { ApiGatewayService } from '../../localcloud/apigateway/service';
import { Edge } from '../../localcloud/edge';
import { LambdaService } from '../../localcloud/lambda/service';
import { addNodeFunction } from '../support/states-harness';

const HANDLERS = {
  echo: `exports.handler = async (event) => ({
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'x-single': 'one' },
    multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'] },
    body: JSON.stringify(event),
  });`,
  binary: `exports.handler = async () => ({
    statusCode: 201,
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from([0, 1, 2, 255]).toString('base64'),
    isBase64Encoded: true,
  });`,
  malformed: 'exports.handler = async () => ({ statusCode: "teapot", body: { not: "a string" } });',
  crash: 'exports.handler = async () => { throw new Error("boom"); };',
};

let dir: string;
let edge: Edge;
let lambda: LambdaService;
let apiUrl: string;

function api(): RestApiModel {
  const integration = (fn: string) => ({
    type: 'AWS_PROXY',
    uri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${lambda.functionArn(fn)}/invocations`,
  });
  const method = (resourceId: string, httpMethod: string, fn: string, authorizationType = 'AWS_IAM') => ({
    resourceId,
    httpMethod,
    authorizationType,
    apiKeyRequired: false,
    integration: integration(fn),
  });
  return {
    id: 'abc123defg',
    name: 'test-api',
    rootResourceId: 'root',
    resources: [
      { id: 'root', pathPart: '' },
      { id: 'orders', parentId: 'root', pathPart: 'orders' },
      { id: 'order', parentId: 'orders', pathPart: '{orderId}' },
      { id: 'history', parentId: 'order', pathPart: 'history' },
      { id: 'latest', parentId: 'orders', pathPart: 'latest' },
      { id: 'files', parentId: 'root', pathPart: 'files' },
      { id: 'proxy', parentId: 'files', pathPart: '{proxy+}' },
      { id: 'public', parentId: 'root', pathPart: 'public' },
      { id: 'broken', parentId: 'root', pathPart: 'broken' },
      { id: 'crash', parentId: 'root', pathPart: 'crash' },
    ],
    methods: [
      method('orders', 'POST', 'echo'),
      method('order', 'GET', 'echo'),
      method('history', 'GET', 'echo'),
      method('latest', 'GET', 'binary', 'NONE'),
      method('proxy', 'ANY', 'echo'),
      method('public', 'GET', 'echo', 'NONE'),
      method('broken', 'GET', 'malformed', 'NONE'),
      method('crash', 'GET', 'crash', 'NONE'),
    ],
    stages: [{ name: 'v1', variables: { color: 'blue' } }],
  };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-apigw-'));
  edge = new Edge({ port: 0 });
  lambda = new LambdaService({ dataDir: path.join(dir, 'data'), endpoint: () => edge.endpoint });
  for (const [name, code] of Object.entries(HANDLERS)) await addNodeFunction(lambda, dir, name, code, 5);
  const apigateway = new ApiGatewayService({ lambda });
  apigateway.addRestApi(api());
  edge.register(apigateway);
  edge.register(lambda);
  await edge.listen();
  apiUrl = `${edge.endpoint}/restapis/abc123defg/v1/_user_request_/`;
});

afterAll(async () => {
  await edge?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface EchoedEvent {
  resource: string;
  path: string;
  httpMethod: string;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
  pathParameters: Record<string, string> | null;
  stageVariables: Record<string, string> | null;
  requestContext: {
    accountId: string;
    apiId: string;
    resourcePath: string;
    httpMethod: string;
    requestId: string;
    stage: string;
    path: string;
    requestTimeEpoch: number;
    protocol: string;
    domainName: string;
    identity: { sourceIp: string; userAgent: string | null; accessKey: string | null };
  };
  body: string | null;
  isBase64Encoded: boolean;
}

const signed = () =>
  createApiClient({
    apiUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 's' },
  });

describe('API Gateway: routing and Lambda proxy events (v1)', () => {
  it('passes a v1 event with path parameters, query strings, headers, body and request context', async () => {
    const res = await signed().request('GET', 'orders/order-42/history?verbose=1&tag=a&tag=b', {
      headers: { 'x-custom': 'hello' },
    });
    const event = res.body as EchoedEvent;

    expect(res.status).toBe(200);
    expect(event).toMatchObject({
      resource: '/orders/{orderId}/history',
      path: '/orders/order-42/history',
      httpMethod: 'GET',
      pathParameters: { orderId: 'order-42' },
      queryStringParameters: { verbose: '1', tag: 'b' },
      multiValueQueryStringParameters: { verbose: ['1'], tag: ['a', 'b'] },
      stageVariables: { color: 'blue' },
      body: null,
      isBase64Encoded: false,
    });
    expect(event.headers['x-custom']).toBe('hello');
    expect(event.multiValueHeaders['x-custom']).toEqual(['hello']);
    expect(event.requestContext).toMatchObject({
      accountId: '000000000000',
      apiId: 'abc123defg',
      resourcePath: '/orders/{orderId}/history',
      httpMethod: 'GET',
      stage: 'v1',
      path: '/v1/orders/order-42/history',
      protocol: 'HTTP/1.1',
      identity: { sourceIp: '127.0.0.1', accessKey: 'AKIDLOCAL' },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(event.requestContext.requestTimeEpoch - Date.now())).toBeLessThan(60_000);
  });

  it('prefers a literal path part over a path parameter, passes the body, decodes base64 responses', async () => {
    const post = await signed().post('orders', { hello: 'world' });
    const literal = await fetch(`${apiUrl}orders/latest`);

    expect((post.body as EchoedEvent).body).toBe('{"hello":"world"}');
    expect((post.body as EchoedEvent).pathParameters).toBeNull();
    expect(literal.status).toBe(201);
    expect(new Uint8Array(await literal.arrayBuffer())).toEqual(new Uint8Array([0, 1, 2, 255]));
  });

  it('matches a greedy {proxy+} with ANY method', async () => {
    const res = await signed().request('DELETE', 'files/a/b/c.txt');

    expect((res.body as EchoedEvent).pathParameters).toEqual({ proxy: 'a/b/c.txt' });
    expect((res.body as EchoedEvent).resource).toBe('/files/{proxy+}');
  });

  it('maps headers and multiValueHeaders of the proxy response', async () => {
    const res = await fetch(`${apiUrl}public`);

    expect(res.status).toBe(200);
    expect(res.headers.get('x-single')).toBe('one');
    expect(res.headers.get('set-cookie')).toContain('a=1');
  });
});

describe('API Gateway: AWS answers for auth, unknown routes and broken integrations', () => {
  it('refuses an AWS_IAM method without a signature: 403 Missing Authentication Token', async () => {
    const res = await fetch(`${apiUrl}orders`, { method: 'POST', body: '{}' });

    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it('refuses a malformed Authorization header with IncompleteSignatureException', async () => {
    const res = await fetch(`${apiUrl}orders`, {
      method: 'POST',
      body: '{}',
      headers: { authorization: 'Bearer x' },
    });

    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('IncompleteSignatureException');
  });

  it('answers an unknown path or an undeclared verb with 403 Missing Authentication Token', async () => {
    const unknownPath = await signed().get('nothing/here');
    const wrongVerb = await signed().request('DELETE', 'orders/order-1');

    expect(unknownPath.status).toBe(403);
    expect(unknownPath.body).toEqual({ message: 'Missing Authentication Token' });
    expect(wrongVerb.status).toBe(403);
  });

  it('answers 502 Internal server error for a malformed proxy response and for a crashing function', async () => {
    const malformed = await fetch(`${apiUrl}broken`);
    const crash = await fetch(`${apiUrl}crash`);
    const stillServing = await fetch(`${apiUrl}public`);

    expect(malformed.status).toBe(502);
    expect(await malformed.json()).toEqual({ message: 'Internal server error' });
    expect(crash.status).toBe(502);
    expect(stillServing.status).toBe(200);
  });

  it('answers 403 Forbidden for an unknown stage or API', async () => {
    const res = await fetch(`${edge.endpoint}/restapis/abc123defg/prod/_user_request_/public`);

    expect(res.status).toBe(403);
  });
});
