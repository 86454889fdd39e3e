/**
 * API Gateway REST APIs (v1) on the edge: `/restapis/<apiId>/<stage>/_user_request_/<path>` (LocalStack's
 * URL shape), routed through the resource tree deployed from the template, with Lambda proxy integration
 * (payload format 1.0).
 *
 * Matching follows API Gateway: a literal path part beats `{param}`, which beats a greedy `{proxy+}`; a
 * method `ANY` matches every verb. An unknown route or verb answers 403 `Missing Authentication Token`,
 * exactly as AWS does.
 *
 * `AWS_IAM` authorization: a request must carry a SigV4 signature (an `Authorization` header with a
 * `Credential=` scope, or presigned `X-Amz-Credential` query parameters), otherwise 403. The signature itself
 * is NOT verified (there are no secret keys locally); the caller's access key id shows up in
 * `requestContext.identity`.
 */
import { randomUUID } from 'node:crypto';
import { parseCredential } from '../protocol';
import type { AwsRequest, AwsResponse, Service } from '../types';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../types';
import type { ApiMethod, ApiResource, RestApiModel } from './model';

export interface ApiGatewayLambda {
  invoke(
    functionName: string,
    payload: string,
  ): Promise<{ statusCode: number; payload: string; functionError?: 'Unhandled' }>;
}

/** An API Gateway v1 (REST) Lambda proxy event. */
export interface ProxyEventV1 {
  resource: string;
  path: string;
  httpMethod: string;
  headers: Record<string, string> | null;
  multiValueHeaders: Record<string, string[]> | null;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
  pathParameters: Record<string, string> | null;
  stageVariables: Record<string, string> | null;
  requestContext: Record<string, unknown>;
  body: string | null;
  isBase64Encoded: boolean;
}

interface Route {
  api: RestApiModel;
  resourcePath: string;
  method: ApiMethod;
  pathParameters: Record<string, string>;
}

const json = (status: number, body: unknown, errorType?: string): AwsResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) },
  body: JSON.stringify(body),
});

const MISSING_TOKEN = () =>
  json(403, { message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException');
const INTERNAL_ERROR = () => json(502, { message: 'Internal server error' });

/** Text content types are passed to Lambda as UTF-8 strings; anything else base64 (with isBase64Encoded). */
function isText(contentType: string | undefined): boolean {
  if (!contentType) return true;
  return /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript|[a-z.+-]*\+json|[a-z.+-]*\+xml))/i.test(
    contentType,
  );
}

export class ApiGatewayService implements Service {
  readonly name = 'apigateway' as const;
  private readonly apis = new Map<string, RestApiModel>();

  constructor(
    private readonly options: {
      lambda: ApiGatewayLambda;
      now?: () => number;
      /**
       * IAM: whether the function's Lambda permissions let API Gateway invoke it for this execute-api
       * ARN (`arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`); a refusal is AWS's
       * 500 `Internal server error` ("Invalid permissions on Lambda function").
       */
      authorizeInvoke?: (functionName: string, sourceArn: string) => boolean;
    },
  ) {}

  addRestApi(api: RestApiModel): void {
    this.apis.set(api.id, api);
  }

  listRestApis(): RestApiModel[] {
    return [...this.apis.values()];
  }

  async handle(req: AwsRequest): Promise<AwsResponse> {
    const match = /^\/restapis\/([^/]+)\/([^/]+)\/_user_request_(\/.*)?$/.exec(req.path);
    if (!match) return MISSING_TOKEN();
    const [, apiId = '', stageName = '', userPath = '/'] = match;
    const api = this.apis.get(apiId);
    const stage = api?.stages.find((s) => s.name === stageName);
    if (!api || !stage) return json(403, { message: 'Forbidden' }, 'ForbiddenException');
    const route = findRoute(api, userPath, req.method);
    if (!route) return MISSING_TOKEN();

    const credential = parseCredential(req.headers, req.query);
    if (route.method.authorizationType === 'AWS_IAM') {
      const auth = req.headers.authorization;
      if (!credential) {
        if (typeof auth === 'string' && auth.length > 0)
          return json(
            403,
            {
              message: `Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=${auth}`,
            },
            'IncompleteSignatureException',
          );
        return MISSING_TOKEN();
      }
    }
    const integration = route.method.integration;
    if (integration?.type === 'MOCK')
      return { status: 200, headers: { 'content-type': 'application/json' }, body: '' };
    if (integration?.type !== 'AWS_PROXY' || !integration.uri) return INTERNAL_ERROR();
    const functionName = functionNameFromUri(integration.uri);
    if (!functionName) return INTERNAL_ERROR();

    // The execute-api ARN names the resource the request matched (empty segments and a trailing slash,
    // which routing ignores, are not part of it).
    const matchedPath = userPath
      .split('/')
      .filter((segment) => segment.length > 0)
      .join('/');
    // The API lives in the local cloud's region, whatever region the caller signed for.
    const sourceArn = `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${api.id}/${stage.name}/${req.method}/${matchedPath}`;
    if (this.options.authorizeInvoke && !this.options.authorizeInvoke(functionName, sourceArn))
      return json(500, { message: 'Internal server error' });
    const event = this.buildEvent(req, route, stage.name, stage.variables, userPath, credential?.accessKeyId);
    let result: Awaited<ReturnType<ApiGatewayLambda['invoke']>>;
    try {
      result = await this.options.lambda.invoke(functionName, JSON.stringify(event));
    } catch {
      return INTERNAL_ERROR();
    }
    if (result.functionError || result.statusCode !== 200) return INTERNAL_ERROR();
    return toHttpResponse(result.payload);
  }

  buildEvent(
    req: AwsRequest,
    route: Route,
    stage: string,
    stageVariables: Record<string, string>,
    userPath: string,
    accessKeyId: string | undefined,
  ): ProxyEventV1 {
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      const values = Array.isArray(value) ? value : [value];
      multiValueHeaders[name] = values;
      headers[name] = values[values.length - 1] ?? '';
    }
    const query: Record<string, string> = {};
    const multiQuery: Record<string, string[]> = {};
    for (const [key, value] of req.query) {
      query[key] = value;
      multiQuery[key] = [...(multiQuery[key] ?? []), value];
    }
    const now = this.options.now?.() ?? Date.now();
    const requestId = randomUUID();
    const contentType = req.headers['content-type'];
    const binary = !isText(typeof contentType === 'string' ? contentType : undefined);
    const sourceIp =
      (typeof req.headers['x-forwarded-for'] === 'string' && req.headers['x-forwarded-for']) || '127.0.0.1';
    const host = typeof req.headers.host === 'string' ? req.headers.host : new URL(req.endpoint).host;
    const nonEmpty = <T extends object>(o: T): T | null => (Object.keys(o).length > 0 ? o : null);
    return {
      resource: route.resourcePath,
      path: userPath,
      httpMethod: req.method,
      headers: nonEmpty(headers),
      multiValueHeaders: nonEmpty(multiValueHeaders),
      queryStringParameters: nonEmpty(query),
      multiValueQueryStringParameters: nonEmpty(multiQuery),
      pathParameters: nonEmpty(route.pathParameters),
      stageVariables: nonEmpty(stageVariables),
      requestContext: {
        resourceId: route.method.resourceId,
        resourcePath: route.resourcePath,
        httpMethod: req.method,
        extendedRequestId: requestId,
        requestTime: formatRequestTime(new Date(now)),
        path: `/${stage}${userPath}`,
        accountId: LOCAL_ACCOUNT_ID,
        protocol: 'HTTP/1.1',
        stage,
        domainPrefix: route.api.id,
        requestTimeEpoch: now,
        requestId,
        identity: {
          cognitoIdentityPoolId: null,
          accountId: accessKeyId ? LOCAL_ACCOUNT_ID : null,
          cognitoIdentityId: null,
          caller: accessKeyId ?? null,
          sourceIp,
          principalOrgId: null,
          accessKey: accessKeyId ?? null,
          cognitoAuthenticationType: null,
          cognitoAuthenticationProvider: null,
          userArn: accessKeyId ? `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${accessKeyId}` : null,
          userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
          user: accessKeyId ?? null,
        },
        domainName: host,
        apiId: route.api.id,
      },
      body: req.body.length === 0 ? null : binary ? req.body.toString('base64') : req.body.toString('utf8'),
      isBase64Encoded: req.body.length > 0 && binary,
    };
  }
}

/** `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations` → the name. */
export function functionNameFromUri(uri: string): string | undefined {
  const match = /functions\/(.+)\/invocations$/.exec(uri);
  const target = match?.[1];
  if (!target) return undefined;
  const fn = /:function:([^:]+)/.exec(target);
  return fn?.[1] ?? target;
}

/** API Gateway's `requestTime` format: `22/Nov/2026:01:50:05 +0000`. */
function formatRequestTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function resourcePaths(api: RestApiModel): Map<string, { resource: ApiResource; path: string }> {
  const byId = new Map(api.resources.map((r) => [r.id, r]));
  const out = new Map<string, { resource: ApiResource; path: string }>();
  const pathOf = (r: ApiResource): string => {
    if (!r.parentId) return '/';
    const parent = byId.get(r.parentId);
    const base = parent ? pathOf(parent) : '/';
    return `${base === '/' ? '' : base}/${r.pathPart}`;
  };
  for (const r of api.resources) out.set(r.id, { resource: r, path: pathOf(r) });
  return out;
}

/** Finds the resource and method for a request path, API Gateway's way. */
export function findRoute(api: RestApiModel, userPath: string, httpMethod: string): Route | undefined {
  const segments = userPath
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  const children = new Map<string, ApiResource[]>();
  for (const r of api.resources)
    if (r.parentId) children.set(r.parentId, [...(children.get(r.parentId) ?? []), r]);
  const paths = resourcePaths(api);
  const root = api.resources.find((r) => !r.parentId);
  if (!root) return undefined;

  const rank = (r: ApiResource) => (r.pathPart.endsWith('+}') ? 2 : r.pathPart.startsWith('{') ? 1 : 0);
  const walk = (node: ApiResource, index: number, params: Record<string, string>): Route | undefined => {
    if (index === segments.length) {
      const method =
        api.methods.find((m) => m.resourceId === node.id && m.httpMethod === httpMethod.toUpperCase()) ??
        api.methods.find((m) => m.resourceId === node.id && m.httpMethod === 'ANY');
      if (!method) return undefined;
      return { api, resourcePath: paths.get(node.id)?.path ?? '/', method, pathParameters: params };
    }
    const segment = segments[index] as string;
    const candidates = [...(children.get(node.id) ?? [])].sort((a, b) => rank(a) - rank(b));
    for (const child of candidates) {
      const part = child.pathPart;
      if (part.endsWith('+}')) {
        const name = part.slice(1, -2);
        const route = walk(child, segments.length, { ...params, [name]: segments.slice(index).join('/') });
        if (route) return route;
      } else if (part.startsWith('{') && part.endsWith('}')) {
        const route = walk(child, index + 1, { ...params, [part.slice(1, -1)]: segment });
        if (route) return route;
      } else if (part === segment) {
        const route = walk(child, index + 1, params);
        if (route) return route;
      }
    }
    return undefined;
  };
  return walk(root, 0, {});
}

/** Maps a Lambda proxy response `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}`. */
export function toHttpResponse(payload: string): AwsResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return INTERNAL_ERROR();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return INTERNAL_ERROR();
  const response = parsed as Record<string, unknown>;
  const status = response.statusCode ?? 200;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
    return INTERNAL_ERROR();
  if (response.body !== undefined && response.body !== null && typeof response.body !== 'string')
    return INTERNAL_ERROR();
  const headers: Record<string, string> = {};
  if (response.headers !== undefined && response.headers !== null) {
    if (typeof response.headers !== 'object') return INTERNAL_ERROR();
    for (const [k, v] of Object.entries(response.headers as Record<string, unknown>))
      headers[k.toLowerCase()] = String(v);
  }
  if (response.multiValueHeaders !== undefined && response.multiValueHeaders !== null) {
    if (typeof response.multiValueHeaders !== 'object') return INTERNAL_ERROR();
    for (const [k, v] of Object.entries(response.multiValueHeaders as Record<string, unknown>))
      if (Array.isArray(v)) headers[k.toLowerCase()] = v.map(String).join(', ');
  }
  headers['content-type'] ??= 'application/json';
  const text = (response.body as string | undefined | null) ?? '';
  const body = response.isBase64Encoded === true ? Buffer.from(text, 'base64') : text;
  return { status, headers, body };
}
