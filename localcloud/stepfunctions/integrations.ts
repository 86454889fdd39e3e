/**
 * Task resources the local Step Functions runs, with the results and errors AWS produces for them:
 * - a Lambda function ARN (the function's raw result; `LambdaFunction*` history events);
 * - `arn:aws:states:::lambda:invoke` (the `{ExecutedVersion, Payload, SdkHttpMetadata, ...}` envelope);
 * - `arn:aws:states:::sqs:sendMessage`;
 * - `arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem`.
 * Errors are `<Service>.<Exception>` with the Java SDK style cause Step Functions shows; function errors
 * are `Error = errorType`, `Cause = the function's error payload`.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LambdaApiError } from '../lambda/errors';
import type { LambdaService } from '../lambda/service';
import { LOCAL_REGION } from '../types';

/** An error a Task reports to the state machine (`Error`/`Cause` of Catch and of the history). */
export class TaskError extends Error {
  constructor(errorName: string, cause: string) {
    super(cause);
    this.name = errorName;
  }
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a Task resource looks like in the history: a Lambda function or a service integration. */
export type TaskKind =
  | { kind: 'lambda'; functionArn: string }
  | { kind: 'integration'; resourceType: string; resource: string; run: IntegrationName }
  | { kind: 'unsupported'; resource: string };

type IntegrationName = 'lambda:invoke' | 'sqs:sendMessage' | `dynamodb:${DynamoOperation}`;
type DynamoOperation = 'putItem' | 'getItem' | 'updateItem' | 'deleteItem';

const LAMBDA_ARN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]+(:[a-zA-Z0-9_$-]+)?$/;
const INTEGRATIONS: Record<string, IntegrationName> = {
  'arn:aws:states:::lambda:invoke': 'lambda:invoke',
  'arn:aws:states:::sqs:sendMessage': 'sqs:sendMessage',
  'arn:aws:states:::dynamodb:putItem': 'dynamodb:putItem',
  'arn:aws:states:::dynamodb:getItem': 'dynamodb:getItem',
  'arn:aws:states:::dynamodb:updateItem': 'dynamodb:updateItem',
  'arn:aws:states:::dynamodb:deleteItem': 'dynamodb:deleteItem',
};

export function taskKind(resource: string): TaskKind {
  if (LAMBDA_ARN.test(resource)) return { kind: 'lambda', functionArn: resource };
  const run = INTEGRATIONS[resource];
  if (run) {
    const [resourceType = '', name = ''] = run.split(':');
    return { kind: 'integration', resourceType, resource: name, run };
  }
  return { kind: 'unsupported', resource };
}

export interface IntegrationDeps {
  lambda: LambdaService;
  endpoint: () => string;
}

/** Runs Task resources against the local cloud's own services (Lambda in-process, the rest via the SDK). */
export class Integrations {
  private sqs: SQSClient | undefined;
  private dynamodb: DynamoDBClient | undefined;
  private readonly queueUrls = new Map<string, string>();

  constructor(private readonly deps: IntegrationDeps) {}

  /** A plain function ARN as Resource: the function's result is the state result. */
  async invokeFunction(functionArn: string, input: JsonValue): Promise<JsonValue> {
    const result = await this.invokeLambda(functionArn, JSON.stringify(input));
    return parsePayload(result.payload);
  }

  async run(name: IntegrationName, params: JsonValue): Promise<JsonValue> {
    const input = isObject(params) ? params : {};
    switch (name) {
      case 'lambda:invoke':
        return this.lambdaInvoke(input);
      case 'sqs:sendMessage':
        return this.sqsSendMessage(input);
      default:
        return this.dynamo(name.slice('dynamodb:'.length) as DynamoOperation, input);
    }
  }

  close(): void {
    this.sqs?.destroy();
    this.dynamodb?.destroy();
  }

  private async invokeLambda(
    functionName: string,
    payload: string,
  ): Promise<{ payload: string; requestId: string }> {
    let result: Awaited<ReturnType<LambdaService['invoke']>>;
    try {
      result = await this.deps.lambda.invoke(functionName, payload);
    } catch (error) {
      if (error instanceof LambdaApiError) {
        throw new TaskError(
          `Lambda.${error.errorType}`,
          `${error.message} (Service: AWSLambda; Status Code: ${error.status}; Error Code: ${error.errorType}; Request ID: ${randomUUID()}; Proxy: null)`,
        );
      }
      throw new TaskError('Lambda.ServiceException', error instanceof Error ? error.message : String(error));
    }
    if (result.functionError) {
      const parsed = parsePayload(result.payload);
      const errorType =
        isObject(parsed) && typeof parsed.errorType === 'string' ? parsed.errorType : 'Lambda.Unknown';
      throw new TaskError(errorType, result.payload);
    }
    return { payload: result.payload, requestId: result.requestId };
  }

  private async lambdaInvoke(params: { [key: string]: JsonValue }): Promise<JsonValue> {
    const functionName = params.FunctionName;
    if (typeof functionName !== 'string') {
      throw new TaskError(
        'States.Runtime',
        "The field 'FunctionName' is required for arn:aws:states:::lambda:invoke",
      );
    }
    const raw = params.Payload;
    // A string Payload is the JSON text itself; null or absent reaches the function as {}.
    const payload =
      raw === undefined || raw === null ? '{}' : typeof raw === 'string' ? raw : JSON.stringify(raw);
    const { payload: response, requestId } = await this.invokeLambda(functionName, payload);
    const length = String(Buffer.byteLength(response));
    return {
      ExecutedVersion: '$LATEST',
      Payload: parsePayload(response),
      ...sdkMetadata(requestId, {
        'X-Amz-Executed-Version': '$LATEST',
        'x-amzn-Remapped-Content-Length': '0',
        Connection: 'keep-alive',
        'Content-Length': length,
        'X-Amzn-Trace-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)};Sampled=0`,
        'Content-Type': 'application/json',
      }),
      StatusCode: 200,
    };
  }

  private async sqsSendMessage(params: { [key: string]: JsonValue }): Promise<JsonValue> {
    if (!this.sqs) this.sqs = new SQSClient(clientConfig(this.deps.endpoint()));
    const client = this.sqs;
    const { QueueUrl, MessageBody, ...rest } = params;
    if (typeof QueueUrl !== 'string')
      throw new TaskError('States.Runtime', "The field 'QueueUrl' is required");
    const body = typeof MessageBody === 'string' ? MessageBody : JSON.stringify(MessageBody ?? null);
    try {
      const queueUrl = await this.localQueueUrl(client, QueueUrl);
      const output = await client.send(
        new SendMessageCommand({ ...(rest as object), QueueUrl: queueUrl, MessageBody: body }),
      );
      const result: { [key: string]: JsonValue } = {
        MD5OfMessageBody: output.MD5OfMessageBody ?? createHash('md5').update(body).digest('hex'),
        MessageId: output.MessageId ?? randomUUID(),
      };
      if (output.MD5OfMessageAttributes) result.MD5OfMessageAttributes = output.MD5OfMessageAttributes;
      if (output.SequenceNumber) result.SequenceNumber = output.SequenceNumber;
      const requestId = output.$metadata.requestId ?? randomUUID();
      return {
        ...result,
        ...sdkMetadata(requestId, {
          connection: 'keep-alive',
          'Content-Length': String(JSON.stringify(result).length),
          'Content-Type': 'application/x-amz-json-1.0',
        }),
      };
    } catch (error) {
      throw serviceError('SQS', 'AmazonSQS', error);
    }
  }

  /** AWS-style queue URLs (`https://sqs.<region>.amazonaws.com/<account>/<name>`) resolve by queue name. */
  private async localQueueUrl(client: SQSClient, queueUrl: string): Promise<string> {
    if (queueUrl.startsWith(this.deps.endpoint())) return queueUrl;
    const cached = this.queueUrls.get(queueUrl);
    if (cached) return cached;
    const name = queueUrl.split('/').filter(Boolean).pop() ?? queueUrl;
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl)
      throw new TaskError(
        'SQS.QueueDoesNotExistException',
        `The specified queue does not exist: ${queueUrl}`,
      );
    this.queueUrls.set(queueUrl, QueueUrl);
    return QueueUrl;
  }

  private async dynamo(operation: DynamoOperation, params: { [key: string]: JsonValue }): Promise<JsonValue> {
    if (!this.dynamodb) this.dynamodb = new DynamoDBClient(clientConfig(this.deps.endpoint()));
    const client = this.dynamodb;
    // The parameters are the DynamoDB API's own (AttributeValue JSON), passed through unchanged.
    const input = params as never;
    try {
      const output =
        operation === 'putItem'
          ? await client.send(new PutItemCommand(input))
          : operation === 'getItem'
            ? await client.send(new GetItemCommand(input))
            : operation === 'updateItem'
              ? await client.send(new UpdateItemCommand(input))
              : await client.send(new DeleteItemCommand(input));
      const { $metadata, ...rest } = output;
      const result = JSON.parse(JSON.stringify(rest)) as { [key: string]: JsonValue };
      return {
        ...result,
        ...sdkMetadata($metadata.requestId ?? randomUUID(), {
          Connection: 'keep-alive',
          'Content-Length': String(JSON.stringify(result).length),
          'Content-Type': 'application/x-amz-json-1.0',
          Server: 'Server',
        }),
      };
    } catch (error) {
      throw serviceError('DynamoDB', 'AmazonDynamoDBv2', error);
    }
  }
}

function clientConfig(endpoint: string) {
  return {
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
}

/** AWS messages for errors DynamoDB Local words differently. */
const AWS_MESSAGES: Record<string, string> = {
  ResourceNotFoundException: 'Requested resource not found',
  ConditionalCheckFailedException: 'The conditional request failed',
};

function serviceError(prefix: string, javaService: string, error: unknown): TaskError {
  if (error instanceof TaskError) return error;
  if (!(error instanceof Error)) return new TaskError(`${prefix}.Unknown`, String(error));
  const meta = (error as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata;
  // Step Functions names errors after the Java SDK's exception classes: SDK v3's `QueueDoesNotExist`
  // is `SQS.QueueDoesNotExistException` there.
  const code = error.name.endsWith('Exception') ? error.name : `${error.name}Exception`;
  const message = AWS_MESSAGES[code] ?? error.message;
  const status = meta?.httpStatusCode ?? 400;
  const requestId = meta?.requestId ?? randomUUID();
  return new TaskError(
    `${prefix}.${code}`,
    `${message} (Service: ${javaService}; Status Code: ${status}; Error Code: ${code}; Request ID: ${requestId}; Proxy: null)`,
  );
}

function sdkMetadata(requestId: string, headers: Record<string, string>): { [key: string]: JsonValue } {
  const all: Record<string, string> = {
    ...headers,
    'x-amzn-RequestId': requestId,
    Date: new Date().toUTCString(),
  };
  return {
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, [v]])),
      HttpHeaders: all,
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
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
