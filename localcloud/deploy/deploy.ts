/** Deploys a cloud assembly (`cdk.out`) onto the local cloud. */
import type { ApiGatewayService } from '../apigateway/service';
import type { LambdaApi, StatesApi } from '../cloud';
import type { SqsService } from '../sqs/service';

export interface DeployReport {
  stackName: string;
  outputs: Record<string, string>;
  skipped: Array<{ type: string; logicalIds: string[] }>;
}

export interface DeployOptions {
  assemblyDir: string;
  endpoint: string;
  lambda: LambdaApi;
  states: StatesApi;
  sqs: SqsService;
  apigateway: ApiGatewayService;
}

export async function deployAssembly(options: DeployOptions): Promise<DeployReport> {
  throw new Error(`Deploying ${options.assemblyDir} is not implemented yet`);
}
