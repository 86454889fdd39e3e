/**
 * The function's DynamoDB DocumentClient client: one per module, created at first use, captured by the Tracer.
 * Region and endpoint come from the standard AWS environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...):
 * the local cloud sets them; nothing here names an endpoint.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from '../observability';

let documentClient: DynamoDBDocumentClient | undefined;
export function dynamoDb(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}
