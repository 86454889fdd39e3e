/**
 * Task resources the local Step Functions runs, with the results and errors AWS produces for them:
 * - a Lambda function ARN (the function's raw result; `LambdaFunction*` history events);
 * - `arn:aws:states:::lambda:invoke` (the `{ExecutedVersion, Payload, SdkHttpMetadata, ...}` envelope);
 * - `arn:aws:states:::sqs:sendMessage`;
 * - `arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem`;
 * - `arn:aws:states:::aws-sdk:<service>:<action>` for the local cloud's JSON-protocol services
 *   (`dynamodb`, `sqs`, `sfn`): every action, the plain SDK output (no `SdkHttpMetadata`).
 *
 * Errors follow the SDK Step Functions uses behind each kind of resource:
 * - optimised integrations (AWS SDK for Java v1): `<Prefix>.<ModeledException>` or, for an error the
 *   service model does not declare, `<Prefix>.Amazon<Service>Exception` (`DynamoDB.AmazonDynamoDBException`
 *   for a `ValidationException`), cause `<message> (Service: AmazonDynamoDBv2; Status Code: 400;
 *   Error Code: ValidationException; Request ID: ...; Proxy: null)`;
 * - aws-sdk integrations (AWS SDK for Java v2): `<Client>.<ModeledException>` or `<Client>.<Client>Exception`
 *   (`DynamoDb.DynamoDbException`), cause `<message> (Service: DynamoDb, Status Code: 400, Request ID: ...)
 *   (SDK Attempt Count: 1)`;
 * - function errors: `Error = errorType`, `Cause = the function's error payload`.
 * Which exceptions a service models is read from the AWS SDK for JavaScript v3 client of that service.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import * as dynamodbModel from '@aws-sdk/client-dynamodb';
import * as sfnModel from '@aws-sdk/client-sfn';
import * as sqsModel from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';
import { LambdaApiError } from '../lambda/errors';
import { functionNameOf, type LambdaService } from '../lambda/service';
import { LOCAL_REGION } from '../types';

/** An error a Task reports to the state machine (`Error`/`Cause` of Catch and of the history). */
export class TaskError extends Error {
  constructor(errorName: string, cause: string) {
    super(cause);
    this.name = errorName;
  }
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

/** What a Task resource looks like in the history: a Lambda function or a service integration. */
export type TaskKind =
  | { kind: 'lambda'; functionArn: string }
  | {
      kind: 'integration';
      resourceType: string;
      /** As the history names it: `sendMessage`, `invoke.waitForTaskToken`... */
      resource: string;
      run: IntegrationName;
      /** `.waitForTaskToken`: the Task waits for SendTaskSuccess/SendTaskFailure after the call. */
      callback: boolean;
    }
  | { kind: 'unsupported'; resource: string };

type OptimisedDynamoOperation = 'putItem' | 'getItem' | 'updateItem' | 'deleteItem';
type IntegrationName =
  | 'lambda:invoke'
  | 'sqs:sendMessage'
  | `dynamodb:${OptimisedDynamoOperation}`
  | `aws-sdk:${AwsSdkService}:${string}`;

// ------------------------------------------------------------------------------------------------------
// The JSON-protocol services behind the integrations
// ------------------------------------------------------------------------------------------------------

interface ServiceModel {
  /** The SDK v3 package's exports: its modeled exceptions are subclasses of `base`. */
  exports: Record<string, unknown>;
  base: abstract new (...args: never[]) => Error;
}

interface JsonService {
  signingName: string;
  /** `X-Amz-Target: <targetPrefix>.<Action>`. */
  targetPrefix: string;
  /** The AWS SDK for Java v2 client name: prefix of aws-sdk errors and `Service:` of their causes. */
  sdkV2Name: string;
  /** The wire protocol names members in camelCase (Step Functions' parameters are PascalCase). */
  camelCaseWire: boolean;
  /** String members Step Functions serialises to JSON text when given another JSON value. */
  jsonTextMembers: string[];
  model: ServiceModel;
}

type AwsSdkService = 'dynamodb' | 'sqs' | 'sfn';

const JSON_SERVICES: Record<AwsSdkService, JsonService> = {
  dynamodb: {
    signingName: 'dynamodb',
    targetPrefix: 'DynamoDB_20120810',
    sdkV2Name: 'DynamoDb',
    camelCaseWire: false,
    jsonTextMembers: [],
    model: { exports: dynamodbModel, base: dynamodbModel.DynamoDBServiceException },
  },
  sqs: {
    signingName: 'sqs',
    targetPrefix: 'AmazonSQS',
    sdkV2Name: 'Sqs',
    camelCaseWire: false,
    jsonTextMembers: ['MessageBody'],
    model: { exports: sqsModel, base: sqsModel.SQSServiceException },
  },
  sfn: {
    signingName: 'states',
    targetPrefix: 'AWSStepFunctions',
    sdkV2Name: 'Sfn',
    camelCaseWire: true,
    jsonTextMembers: ['Input', 'Output'],
    model: { exports: sfnModel, base: sfnModel.SFNServiceException },
  },
};

/** How the AWS SDK for Java v1 (behind the optimised integrations) names a service's errors. */
interface JavaV1Naming {
  prefix: string;
  service: string;
  /** The class of errors the service model does not declare. */
  genericException: string;
}

const DYNAMODB_V1: JavaV1Naming = {
  prefix: 'DynamoDB',
  service: 'AmazonDynamoDBv2',
  genericException: 'AmazonDynamoDBException',
};
const SQS_V1: JavaV1Naming = { prefix: 'SQS', service: 'AmazonSQS', genericException: 'AmazonSQSException' };

// ------------------------------------------------------------------------------------------------------
// Resource ARNs
// ------------------------------------------------------------------------------------------------------

const LAMBDA_ARN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]+(:[a-zA-Z0-9_$-]+)?$/;
const AWS_SDK_ARN = /^arn:aws[a-zA-Z-]*:states:::aws-sdk:([a-z0-9]+):([a-z][a-zA-Z0-9]*)$/;
const INTEGRATIONS: Record<string, IntegrationName> = {
  'arn:aws:states:::lambda:invoke': 'lambda:invoke',
  'arn:aws:states:::sqs:sendMessage': 'sqs:sendMessage',
  'arn:aws:states:::dynamodb:putItem': 'dynamodb:putItem',
  'arn:aws:states:::dynamodb:getItem': 'dynamodb:getItem',
  'arn:aws:states:::dynamodb:updateItem': 'dynamodb:updateItem',
  'arn:aws:states:::dynamodb:deleteItem': 'dynamodb:deleteItem',
};
/** The integration pattern suffix of the callback pattern. */
const WAIT_FOR_TASK_TOKEN = '.waitForTaskToken';
/** Optimised integrations with a `.waitForTaskToken` variant (every aws-sdk action has one). */
const CALLBACK_INTEGRATIONS = new Set<IntegrationName>(['lambda:invoke', 'sqs:sendMessage']);

export function taskKind(resource: string): TaskKind {
  if (LAMBDA_ARN.test(resource)) return { kind: 'lambda', functionArn: resource };
  const callback = resource.endsWith(WAIT_FOR_TASK_TOKEN);
  const base = callback ? resource.slice(0, -WAIT_FOR_TASK_TOKEN.length) : resource;
  const suffix = callback ? WAIT_FOR_TASK_TOKEN : '';
  const run = INTEGRATIONS[base];
  if (run && (!callback || CALLBACK_INTEGRATIONS.has(run))) {
    const [resourceType = '', name = ''] = run.split(':');
    return { kind: 'integration', resourceType, resource: `${name}${suffix}`, run, callback };
  }
  const sdk = AWS_SDK_ARN.exec(base);
  const service = sdk?.[1];
  const action = sdk?.[2];
  if (service && action && isAwsSdkService(service)) {
    return {
      kind: 'integration',
      resourceType: `aws-sdk:${service}`,
      resource: `${action}${suffix}`,
      run: `aws-sdk:${service}:${action}`,
      callback,
    };
  }
  return { kind: 'unsupported', resource };
}

/** Optimised integrations of the services the local cloud runs, with their integration patterns. */
const KNOWN_OPTIMISED = new Set([
  'lambda:invoke',
  'lambda:invoke.waitForTaskToken',
  'sqs:sendMessage',
  'sqs:sendMessage.waitForTaskToken',
  'dynamodb:getItem',
  'dynamodb:putItem',
  'dynamodb:updateItem',
  'dynamodb:deleteItem',
]);
const STATES_RESOURCE = /^arn:aws[a-zA-Z-]*:states:::(aws-sdk:)?([a-z0-9]+):([a-zA-Z0-9]+)(\.[a-zA-Z]+)?$/;

/**
 * Why CreateStateMachine refuses a Task `Resource`, for the services the local cloud knows (AWS checks
 * this at creation: `arn:aws:states:::dynamodb:query` is not an optimised integration, an aws-sdk action
 * must exist in the service's API); `undefined` when it is recognised or belongs to another service.
 * The caller appends ` at /States/<State>/Resource`.
 */
export function resourceDefinitionError(resource: string): string | undefined {
  const match = STATES_RESOURCE.exec(resource);
  if (!match) return undefined;
  const [, sdk, service = '', action = '', pattern = ''] = match;
  const recognised = sdk
    ? !isAwsSdkService(service) ||
      ((pattern === '' || pattern === WAIT_FOR_TASK_TOKEN) &&
        typeof JSON_SERVICES[service].model.exports[`${upperFirst(action)}Command`] === 'function')
    : !['lambda', 'sqs', 'dynamodb'].includes(service) ||
      KNOWN_OPTIMISED.has(`${service}:${action}${pattern}`);
  return recognised
    ? undefined
    : `The resource provided ${resource} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.`;
}

function isAwsSdkService(service: string): service is AwsSdkService {
  return Object.hasOwn(JSON_SERVICES, service);
}

// ------------------------------------------------------------------------------------------------------
// Service faults
// ------------------------------------------------------------------------------------------------------

/** An error answer of a service (or the request validation in front of it), before SDK naming. */
class ServiceFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly requestId: string = randomUUID(),
    /** The query-protocol code (`AWS.SimpleQueueService.NonExistentQueue`) when the service sent one. */
    readonly queryCode?: string,
  ) {
    super(message);
  }
}

/** The HTTP request never reached a service (the Java SDKs' `SdkClientException`). */
class ClientFault extends Error {}

/** AWS messages for errors DynamoDB Local words differently. */
const AWS_MESSAGES: Record<string, string> = {
  ResourceNotFoundException: 'Requested resource not found',
  ConditionalCheckFailedException: 'The conditional request failed',
};

function modeledException(model: ServiceModel, code: string): string | undefined {
  for (const name of [code, `${code}Exception`]) {
    const candidate = model.exports[name];
    if (typeof candidate === 'function' && candidate.prototype instanceof model.base) {
      return name.endsWith('Exception') ? name : `${name}Exception`;
    }
  }
  return undefined;
}

/** The optimised integrations' error (SDK for Java v1 naming). */
function javaV1Error(naming: JavaV1Naming, model: ServiceModel, error: unknown): TaskError {
  if (error instanceof TaskError) return error;
  if (error instanceof ClientFault)
    return new TaskError(`${naming.prefix}.SdkClientException`, error.message);
  if (!(error instanceof ServiceFault)) return unexpected(naming.prefix, error);
  const exception = modeledException(model, error.code) ?? naming.genericException;
  return new TaskError(
    `${naming.prefix}.${exception}`,
    `${error.message} (Service: ${naming.service}; Status Code: ${error.status}; Error Code: ${error.queryCode ?? error.code}; Request ID: ${error.requestId}; Proxy: null)`,
  );
}

/** The aws-sdk integrations' error (SDK for Java v2 naming). */
function javaV2Error(service: JsonService, error: unknown): TaskError {
  const client = service.sdkV2Name;
  if (error instanceof TaskError) return error;
  if (error instanceof ClientFault) return new TaskError(`${client}.SdkClientException`, error.message);
  if (!(error instanceof ServiceFault)) return unexpected(client, error);
  const exception = modeledException(service.model, error.code) ?? `${client}Exception`;
  return new TaskError(
    `${client}.${exception}`,
    `${error.message} (Service: ${client}, Status Code: ${error.status}, Request ID: ${error.requestId}) (SDK Attempt Count: 1)`,
  );
}

function unexpected(prefix: string, error: unknown): TaskError {
  return new TaskError(
    `${prefix}.SdkClientException`,
    `Unable to execute HTTP request: ${error instanceof Error ? error.message : String(error)}`,
  );
}

// ------------------------------------------------------------------------------------------------------
// Request validation AWS does before the table lookup (DynamoDB Local words it differently or not at all)
// ------------------------------------------------------------------------------------------------------

const DYNAMODB_REQUIRED: Record<string, string[]> = {
  PutItem: ['TableName', 'Item'],
  GetItem: ['TableName', 'Key'],
  UpdateItem: ['TableName', 'Key'],
  DeleteItem: ['TableName', 'Key'],
  Query: ['TableName'],
  Scan: ['TableName'],
  DescribeTable: ['TableName'],
  BatchGetItem: ['RequestItems'],
  BatchWriteItem: ['RequestItems'],
  TransactGetItems: ['TransactItems'],
  TransactWriteItems: ['TransactItems'],
};
const TABLE_NAME_PATTERN = '[a-zA-Z0-9_.-]+';

function validateDynamoRequest(action: string, params: JsonObject): void {
  const errors: string[] = [];
  for (const member of DYNAMODB_REQUIRED[action] ?? []) {
    const value = params[member];
    const at = `at '${lowerFirst(member)}' failed to satisfy constraint: Member must`;
    if (value === undefined || value === null) {
      errors.push(`Value null ${at} not be null`);
    } else if (member === 'TableName' && typeof value === 'string' && !value.startsWith('arn:')) {
      if (!new RegExp(`^${TABLE_NAME_PATTERN}$`).test(value))
        errors.push(`Value '${value}' ${at} satisfy regular expression pattern: ${TABLE_NAME_PATTERN}`);
      if (value.length < 3) errors.push(`Value '${value}' ${at} have length greater than or equal to 3`);
      if (value.length > 255) errors.push(`Value '${value}' ${at} have length less than or equal to 255`);
    }
  }
  if (errors.length > 0) {
    const count = errors.length === 1 ? '1 validation error' : `${errors.length} validation errors`;
    throw new ServiceFault('ValidationException', `${count} detected: ${errors.join('; ')}`);
  }
}

// ------------------------------------------------------------------------------------------------------
// The integrations
// ------------------------------------------------------------------------------------------------------

export interface IntegrationDeps {
  lambda: LambdaService;
  endpoint: () => string;
  /**
   * IAM (iam/enforcer.ts): the credentials of the state machine role's session, which sign the calls
   * through the edge, and the decision on in-process Lambda invokes. Absent: the administrator's `test`.
   */
  iam?: {
    credentialsFor(
      roleArn: string,
      session: string,
    ): { accessKeyId: string; secretAccessKey: string; sessionToken: string } | undefined;
    authorizeRoleInvoke(roleArn: string, session: string, functionArn: string): string | undefined;
  };
}

/** The session name of a state machine role's calls (Step Functions' own is opaque). */
const STATES_SESSION = 'StepFunctions';

interface JsonAnswer {
  body: JsonObject;
  requestId: string;
  contentLength: number;
}

/** Runs Task resources against the local cloud's own services (Lambda in-process, the rest over HTTP). */
export class Integrations {
  private readonly agent: http.Agent;
  private readonly queueUrls: Map<string, string>;
  /** One SigV4 signer per service (signing name) and role, made on first use. */
  private readonly signers: Map<string, SignatureV4>;
  /** The role the calls are made as (the state machine's), when bound with `as()`. */
  private readonly roleArn: string | undefined;

  constructor(
    private readonly deps: IntegrationDeps,
    shared?: {
      agent: http.Agent;
      queueUrls: Map<string, string>;
      signers: Map<string, SignatureV4>;
      roleArn: string;
    },
  ) {
    this.agent = shared?.agent ?? new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.queueUrls = shared?.queueUrls ?? new Map();
    this.signers = shared?.signers ?? new Map();
    this.roleArn = shared?.roleArn;
  }

  /** The same integrations, calling as `roleArn` (a state machine's role): its credentials, its grants. */
  as(roleArn: string): Integrations {
    return new Integrations(this.deps, {
      agent: this.agent,
      queueUrls: this.queueUrls,
      signers: this.signers,
      roleArn,
    });
  }

  /** A plain function ARN as Resource: the function's result is the state result. */
  async invokeFunction(functionArn: string, input: JsonValue): Promise<JsonValue> {
    const result = await this.invokeLambda(functionArn, JSON.stringify(input), {});
    return parsePayload(result.payload);
  }

  async run(name: IntegrationName, params: JsonValue): Promise<JsonValue> {
    const input = isObject(params) ? params : {};
    if (name === 'lambda:invoke') return this.lambdaInvoke(input);
    if (name === 'sqs:sendMessage') return this.sqsSendMessage(input);
    if (name.startsWith('dynamodb:')) return this.dynamo(upperFirst(name.slice('dynamodb:'.length)), input);
    const [, service = '', action = ''] = name.split(':');
    if (!isAwsSdkService(service)) throw new TaskError('States.Runtime', `Unsupported integration ${name}`);
    return this.awsSdk(service, action, input);
  }

  close(): void {
    this.agent.destroy();
  }

  // ---------------------------------------------------------------------------------------------------
  // Lambda
  // ---------------------------------------------------------------------------------------------------

  private async invokeLambda(
    functionName: string,
    payload: string,
    options: { logType?: 'Tail' },
  ): Promise<{ payload: string; requestId: string; logTail?: string }> {
    this.authorizeInvoke(functionName);
    let result: Awaited<ReturnType<LambdaService['invoke']>>;
    try {
      result = await this.deps.lambda.invoke(functionName, payload, options);
    } catch (error) {
      throw lambdaApiError(error);
    }
    if (result.functionError) {
      const parsed = parsePayload(result.payload);
      const errorType =
        isObject(parsed) && typeof parsed.errorType === 'string' ? parsed.errorType : 'Lambda.Unknown';
      throw new TaskError(errorType, result.payload);
    }
    return result;
  }

  /** `lambda:invoke`: Lambda's Invoke API (FunctionName, Payload, Qualifier, InvocationType, LogType). */
  private async lambdaInvoke(params: JsonObject): Promise<JsonValue> {
    const { FunctionName, Qualifier, InvocationType, LogType } = params;
    if (typeof FunctionName !== 'string') {
      throw new TaskError(
        'States.Runtime',
        "The field 'FunctionName' is required for arn:aws:states:::lambda:invoke",
      );
    }
    const functionName = typeof Qualifier === 'string' ? `${FunctionName}:${Qualifier}` : FunctionName;
    const payload = lambdaPayload(params.Payload);
    const traceId = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)};Sampled=0`;
    if (InvocationType === 'Event' || InvocationType === 'DryRun') {
      // Lambda answers 202 with no payload once the event is queued (DryRun: 204, nothing runs).
      let requestId: string = randomUUID();
      this.authorizeInvoke(functionName);
      try {
        if (InvocationType === 'Event')
          requestId = this.deps.lambda.invokeAsync(functionName, payload).requestId;
        else this.deps.lambda.assertInvocable(functionName);
      } catch (error) {
        throw lambdaApiError(error);
      }
      const status = InvocationType === 'Event' ? 202 : 204;
      return {
        Payload: '',
        ...sdkMetadata(
          requestId,
          {
            'x-amzn-Remapped-Content-Length': '0',
            Connection: 'keep-alive',
            'Content-Length': '0',
            'X-Amzn-Trace-Id': traceId,
          },
          status,
        ),
        StatusCode: status,
      };
    }
    const result = await this.invokeLambda(
      functionName,
      payload,
      LogType === 'Tail' ? { logType: 'Tail' } : {},
    );
    const headers: Record<string, string> = {};
    if (result.logTail !== undefined) headers['X-Amz-Log-Result'] = result.logTail;
    Object.assign(headers, {
      'X-Amz-Executed-Version': '$LATEST',
      'x-amzn-Remapped-Content-Length': '0',
      Connection: 'keep-alive',
      'Content-Length': String(Buffer.byteLength(result.payload)),
      'X-Amzn-Trace-Id': traceId,
      'Content-Type': 'application/json',
    });
    return {
      ExecutedVersion: '$LATEST',
      ...(result.logTail !== undefined ? { LogResult: result.logTail } : {}),
      Payload: parsePayload(result.payload),
      ...sdkMetadata(result.requestId, headers),
      StatusCode: 200,
    };
  }

  /** IAM on the in-process invoke: what Lambda answers a role without `lambda:InvokeFunction`. */
  private authorizeInvoke(functionName: string): void {
    if (!this.roleArn || !this.deps.iam) return;
    const ref = functionNameOf(functionName);
    const functionArn = ref
      ? `${this.deps.lambda.functionArn(ref.name)}${ref.qualifier ? `:${ref.qualifier}` : ''}`
      : functionName;
    const denied = this.deps.iam.authorizeRoleInvoke(this.roleArn, STATES_SESSION, functionArn);
    if (denied)
      throw new TaskError(
        'Lambda.AWSLambdaException',
        `${denied} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null)`,
      );
  }

  // ---------------------------------------------------------------------------------------------------
  // SQS
  // ---------------------------------------------------------------------------------------------------

  /** `sqs:sendMessage`: a non-string MessageBody is sent as its JSON text. */
  private async sqsSendMessage(params: JsonObject): Promise<JsonValue> {
    const { MessageBody } = params;
    try {
      if (MessageBody === undefined || MessageBody === null)
        throw new ServiceFault('MissingParameter', 'The request must contain the parameter MessageBody.');
      const body = typeof MessageBody === 'string' ? MessageBody : JSON.stringify(MessageBody);
      const request = await this.withLocalQueueUrl({ ...params, MessageBody: body });
      const answer = await this.callJson(JSON_SERVICES.sqs, 'SendMessage', request);
      const result: JsonObject = {
        MD5OfMessageBody: createHash('md5').update(body).digest('hex'),
        MessageId: randomUUID(),
        ...answer.body,
      };
      return {
        ...result,
        ...sdkMetadata(answer.requestId, {
          connection: 'keep-alive',
          'Content-Length': String(answer.contentLength),
          'Content-Type': 'application/x-amz-json-1.0',
        }),
      };
    } catch (error) {
      throw javaV1Error(SQS_V1, JSON_SERVICES.sqs.model, error);
    }
  }

  /**
   * Points `QueueUrl` at the local queue of the same name. AWS-style URLs
   * (`https://sqs.<region>.amazonaws.com/<account>/<name>`) and loopback URLs resolve by queue name; any
   * other host is one the SDK cannot reach, as on AWS (`SdkClientException`).
   */
  private async withLocalQueueUrl(params: JsonObject): Promise<JsonObject> {
    const queueUrl = params.QueueUrl;
    if (typeof queueUrl !== 'string') return params;
    const endpoint = this.deps.endpoint();
    if (queueUrl.startsWith(endpoint)) return params;
    const cached = this.queueUrls.get(queueUrl);
    if (cached) return { ...params, QueueUrl: cached };
    let url: URL;
    try {
      url = new URL(queueUrl);
    } catch {
      throw new ClientFault(`Unable to execute HTTP request: ${queueUrl}: Name or service not known`);
    }
    if (!isReachableQueueHost(url.hostname, new URL(endpoint).hostname)) {
      throw new ClientFault(`Unable to execute HTTP request: ${url.hostname}: Name or service not known`);
    }
    const name = url.pathname.split('/').filter(Boolean).pop() ?? '';
    const answer = await this.callJson(JSON_SERVICES.sqs, 'GetQueueUrl', { QueueName: name });
    const local = answer.body.QueueUrl;
    if (typeof local !== 'string')
      throw new ServiceFault('QueueDoesNotExist', 'The specified queue does not exist.');
    this.queueUrls.set(queueUrl, local);
    return { ...params, QueueUrl: local };
  }

  // ---------------------------------------------------------------------------------------------------
  // DynamoDB (optimised)
  // ---------------------------------------------------------------------------------------------------

  /** `dynamodb:putItem|getItem|updateItem|deleteItem`: the API's own parameters, passed through. */
  private async dynamo(action: string, params: JsonObject): Promise<JsonValue> {
    try {
      validateDynamoRequest(action, params);
      const answer = await this.callJson(JSON_SERVICES.dynamodb, action, params);
      return {
        ...answer.body,
        ...sdkMetadata(answer.requestId, {
          Connection: 'keep-alive',
          'Content-Length': String(JSON.stringify(answer.body).length),
          'Content-Type': 'application/x-amz-json-1.0',
          Server: 'Server',
          'x-amz-crc32': String(crc32(JSON.stringify(answer.body))),
        }),
      };
    } catch (error) {
      throw javaV1Error(DYNAMODB_V1, JSON_SERVICES.dynamodb.model, error);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // aws-sdk:<service>:<action>
  // ---------------------------------------------------------------------------------------------------

  /** Any action of a JSON-protocol service; the result is the SDK's output alone. */
  private async awsSdk(name: AwsSdkService, action: string, params: JsonObject): Promise<JsonValue> {
    const service = JSON_SERVICES[name];
    const operation = upperFirst(action);
    try {
      // JSON-text members (Input, Output, MessageBody) are the user's own document: serialised before
      // the wire rename, which then never reaches their keys ({"OrderId": ...} stays as written).
      let request = params;
      for (const member of service.jsonTextMembers) {
        const value = request[member];
        if (value !== undefined && value !== null && typeof value !== 'string')
          request = { ...request, [member]: JSON.stringify(value) };
      }
      if (service.camelCaseWire) request = renameKeys(request, lowerFirst) as JsonObject;
      if (name === 'dynamodb') validateDynamoRequest(operation, request);
      if (name === 'sqs') request = await this.withLocalQueueUrl(request);
      const answer = await this.callJson(service, operation, request);
      const output = timestampsToIso(answer.body);
      return service.camelCaseWire ? renameKeys(output, upperFirst) : output;
    } catch (error) {
      throw javaV2Error(service, error);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Transport: SigV4-signed JSON-protocol requests to the local cloud's edge
  // ---------------------------------------------------------------------------------------------------

  private async callJson(service: JsonService, action: string, params: JsonObject): Promise<JsonAnswer> {
    const endpoint = new URL(this.deps.endpoint());
    const body = JSON.stringify(params);
    const credentials = (this.roleArn && this.deps.iam?.credentialsFor(this.roleArn, STATES_SESSION)) || {
      accessKeyId: 'test',
      secretAccessKey: 'test',
    };
    const signerKey = `${service.signingName} ${credentials.accessKeyId}`;
    let signer = this.signers.get(signerKey);
    if (!signer) {
      signer = new SignatureV4({
        service: service.signingName,
        region: LOCAL_REGION,
        credentials,
        sha256: Sha256,
      });
      this.signers.set(signerKey, signer);
    }
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: Number(endpoint.port) || undefined,
      path: '/',
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `${service.targetPrefix}.${action}`,
      },
      body,
    });
    const response = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>(
      (resolve, reject) => {
        const req = http.request(
          {
            agent: this.agent,
            host: endpoint.hostname,
            port: endpoint.port,
            method: 'POST',
            path: '/',
            headers: signed.headers,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 500,
                headers: res.headers,
                text: Buffer.concat(chunks).toString('utf8'),
              }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', (error) =>
          reject(new ClientFault(`Unable to execute HTTP request: ${error.message}`)),
        );
        req.end(body);
      },
    );
    const requestId = headerValue(response.headers['x-amzn-requestid']) ?? randomUUID();
    const parsed = parseObject(response.text);
    if (response.status >= 200 && response.status < 300) {
      return { body: parsed, requestId, contentLength: Buffer.byteLength(response.text) };
    }
    const type = headerValue(response.headers['x-amzn-errortype']) ?? String(parsed.__type ?? '');
    const code = type.split('#').pop()?.split(':')[0] || 'InternalFailure';
    const message = String(parsed.message ?? parsed.Message ?? '');
    const queryCode = headerValue(response.headers['x-amzn-query-error'])?.split(';')[0];
    throw new ServiceFault(code, AWS_MESSAGES[code] ?? message, response.status, requestId, queryCode);
  }
}

// ------------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------------

function lambdaApiError(error: unknown): TaskError {
  if (error instanceof TaskError) return error;
  if (error instanceof LambdaApiError) {
    return new TaskError(
      `Lambda.${error.errorType}`,
      `${error.message} (Service: AWSLambda; Status Code: ${error.status}; Error Code: ${error.errorType}; Request ID: ${randomUUID()}; Proxy: null)`,
    );
  }
  return new TaskError('Lambda.ServiceException', error instanceof Error ? error.message : String(error));
}

/**
 * The Invoke payload Step Functions sends: null or absent is `{}`; a string that is JSON text is sent
 * as is, any other string as a JSON string; other values as their JSON text.
 */
function lambdaPayload(raw: JsonValue | undefined): string {
  if (raw === undefined || raw === null) return '{}';
  if (typeof raw !== 'string') return JSON.stringify(raw);
  try {
    JSON.parse(raw);
    return raw;
  } catch {
    return JSON.stringify(raw);
  }
}

/** Queue hosts the local cloud answers for: AWS's SQS endpoints, loopback and its own endpoint. */
function isReachableQueueHost(hostname: string, endpointHost: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === endpointHost ||
    host === 'localhost' ||
    host === '::1' ||
    /^127\.\d+\.\d+\.\d+$/.test(host) ||
    /(^|\.)localhost\.localstack\.cloud$/.test(host) ||
    /^(sqs\.[a-z0-9-]+|[a-z0-9-]+\.queue|queue)\.amazonaws\.com(\.cn)?$/.test(host)
  );
}

function sdkMetadata(requestId: string, headers: Record<string, string>, status = 200): JsonObject {
  const all: Record<string, string> = {
    ...headers,
    'x-amzn-RequestId': requestId,
    Date: new Date().toUTCString(),
  };
  return {
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, [v]])),
      HttpHeaders: all,
      HttpStatusCode: status,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

/** Timestamps travel as epoch seconds on the JSON wire; the Java SDK v2 output shows ISO-8601 text. */
function timestampsToIso(body: JsonObject): JsonObject {
  const convert = (value: JsonValue, key: string): JsonValue => {
    if (typeof value === 'number' && /(Date|DateTime|Timestamp)$/i.test(key))
      return new Date(value * 1000).toISOString();
    if (Array.isArray(value)) return value.map((item) => convert(item, ''));
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v, k)]));
    return value;
  };
  return convert(body, '') as JsonObject;
}

function renameKeys(value: JsonValue, rename: (key: string) => string): JsonValue {
  if (Array.isArray(value)) return value.map((item) => renameKeys(item, rename));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [rename(k), renameKeys(v, rename)]));
  return value;
}

const upperFirst = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseObject(text: string): JsonObject {
  if (text.trim() === '') return {};
  const parsed = parsePayload(text);
  return isObject(parsed) ? parsed : {};
}

/** CRC32 of a response body (DynamoDB's `x-amz-crc32` header). */
function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export function parsePayload(payload: string): JsonValue {
  try {
    return JSON.parse(payload) as JsonValue;
  } catch {
    return payload;
  }
}

export function isObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
