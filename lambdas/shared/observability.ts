/**
 * Powertools Logger, Metrics and Tracer, created once per module (one set per function bundle), and the
 * AWS SDK clients, created once (lazily, at first use) and captured by the Tracer.
 *
 * Region and endpoint come from the standard AWS environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...):
 * the local cloud sets them; nothing here names an endpoint.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'stepsaga';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'StepSaga',
});
export const tracer = new Tracer({ serviceName });

/** Business metrics of the order saga (count of orders reaching each outcome). */
export const OrderMetric = {
  started: 'OrdersStarted',
  confirmed: 'OrdersConfirmed',
  cancelled: 'OrdersCancelled',
  needsAttention: 'OrdersNeedingAttention',
} as const;
export type OrderMetricName = (typeof OrderMetric)[keyof typeof OrderMetric];

/** Counts one order reaching `name` and flushes it (one EMF line per invocation). */
export function countOrder(name: OrderMetricName): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}

/**
 * Puts `orderId` and `executionArn` on every log line of this invocation (temporary keys: the next
 * invocation starts clean).
 */
export function bindLogContext(keys: {
  orderId?: string;
  executionArn?: string;
  [key: string]: unknown;
}): void {
  logger.resetKeys();
  logger.appendKeys(keys);
}

let documentClient: DynamoDBDocumentClient | undefined;
/** The function's DynamoDB DocumentClient (one per module, traced). */
export function dynamoDb(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

let sfnClient: SFNClient | undefined;
export function stepFunctions(): SFNClient {
  sfnClient ??= tracer.captureAWSv3Client(new SFNClient({}));
  return sfnClient;
}

let sqsClient: SQSClient | undefined;
export function sqs(): SQSClient {
  sqsClient ??= tracer.captureAWSv3Client(new SQSClient({}));
  return sqsClient;
}

let lambdaClient: LambdaClient | undefined;
export function lambda(): LambdaClient {
  lambdaClient ??= tracer.captureAWSv3Client(new LambdaClient({}));
  return lambdaClient;
}
