/**
 * The function's Step Functions client: one per module, created at first use, captured by the Tracer.
 * Region and endpoint come from the standard AWS environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...):
 * the local cloud sets them; nothing here names an endpoint.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { tracer } from '../observability';

let sfnClient: SFNClient | undefined;
export function stepFunctions(): SFNClient {
  sfnClient ??= tracer.captureAWSv3Client(new SFNClient({}));
  return sfnClient;
}
