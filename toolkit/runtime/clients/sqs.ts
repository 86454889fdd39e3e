/**
 * The function's SQS client: one per module, created at first use, captured by the Tracer.
 * Region and endpoint come from the standard AWS environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...):
 * the local cloud sets them; nothing here names an endpoint.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { tracer } from '../observability';

let sqsClient: SQSClient | undefined;
export function sqs(): SQSClient {
  sqsClient ??= tracer.captureAWSv3Client(new SQSClient({}));
  return sqsClient;
}
