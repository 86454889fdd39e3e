/**
 * The function's Lambda client: one per module, created at first use, captured by the Tracer.
 * Region and endpoint come from the standard AWS environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...):
 * the local cloud sets them; nothing here names an endpoint.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { tracer } from '../observability';

let lambdaClient: LambdaClient | undefined;
export function lambda(): LambdaClient {
  lambdaClient ??= tracer.captureAWSv3Client(new LambdaClient({}));
  return lambdaClient;
}
