/**
 * API Gateway (REST APIs, v1): the resources and methods deployed from the template, Lambda proxy
 * integration. Requests arrive at `/restapis/<apiId>/<stage>/_user_request_/<path>`.
 */
import { awsJson } from '../edge';
import type { AwsRequest, AwsResponse, Service } from '../types';

export interface ApiGatewayLambda {
  invoke(
    functionName: string,
    payload: string,
  ): Promise<{ statusCode: number; payload: string; functionError?: 'Unhandled' }>;
}

export class ApiGatewayService implements Service {
  readonly name = 'apigateway' as const;

  constructor(readonly options: { lambda: ApiGatewayLambda }) {}

  async handle(_req: AwsRequest): Promise<AwsResponse> {
    return awsJson({ message: 'Missing Authentication Token' }, 403, 'application/json');
  }
}
