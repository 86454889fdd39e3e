/**
 * Api function: API Gateway (REST, Lambda proxy) → the order API. Thin: wires the module-level SDK
 * clients into `handleApiRequest` (lambdas/domain/api.ts).
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ENV } from '../../lib/contract';
import { dynamoDb } from '../../toolkit/runtime/clients/dynamodb';
import { lambda } from '../../toolkit/runtime/clients/lambda';
import { stepFunctions } from '../../toolkit/runtime/clients/sfn';
import { once, requireEnv } from '../../toolkit/runtime/config';
import { faultsEnabled } from '../../toolkit/runtime/faults';
import { bindLogContext, logger, traced } from '../../toolkit/runtime/observability';
import { handleApiRequest, type StepFunctionsPort } from '../domain/api';
import { tableNamesFromEnv } from '../shared/config';
import { countOrder, OrderMetric } from '../shared/metrics';

const config = once(() => ({
  tables: tableNamesFromEnv(['Orders', 'IdempotencyKeys']),
  stateMachineArn: requireEnv(ENV.stateMachineArn),
  faultsEnabled: faultsEnabled(),
  redriveFunction: process.env[ENV.redriveFunction],
}));

/** Invokes the Redrive function for one order's dead letters and returns its report. */
async function redriveOrder(functionName: string, orderId: string): Promise<Record<string, unknown>> {
  const out = await lambda().send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify({ orderId })),
    }),
  );
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  if (out.FunctionError) throw new Error(`The Redrive function failed (${out.FunctionError}): ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Step Functions through the SDK (one client per module). */
export const sdkStepFunctions: StepFunctionsPort = {
  async startExecution(input) {
    const out = await stepFunctions().send(new StartExecutionCommand(input));
    return { executionArn: out.executionArn as string };
  },
  async describeExecution(executionArn) {
    const out = await stepFunctions().send(new DescribeExecutionCommand({ executionArn }));
    return {
      executionArn: out.executionArn as string,
      status: String(out.status),
      ...(out.input !== undefined ? { input: out.input } : {}),
      ...(out.error !== undefined ? { error: out.error } : {}),
    };
  },
  async stopExecution(input) {
    await stepFunctions().send(new StopExecutionCommand(input));
  },
  async redriveExecution(executionArn) {
    await stepFunctions().send(new RedriveExecutionCommand({ executionArn }));
  },
  async sendTaskSuccess(input) {
    await stepFunctions().send(new SendTaskSuccessCommand(input));
  },
  async sendTaskFailure(input) {
    await stepFunctions().send(new SendTaskFailureCommand(input));
  },
  async getExecutionHistory({ executionArn, nextToken, reverseOrder, maxResults }) {
    const out = await stepFunctions().send(
      new GetExecutionHistoryCommand({
        executionArn,
        nextToken,
        reverseOrder,
        maxResults: maxResults ?? 1000,
        includeExecutionData: false,
      }),
    );
    return { events: out.events ?? [], nextToken: out.nextToken };
  },
};

export const handler = async (
  event: APIGatewayProxyEvent,
  context?: Context,
): Promise<APIGatewayProxyResult> => {
  const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
  bindLogContext({
    requestId,
    orderId: event.pathParameters?.orderId,
    route: `${event.httpMethod} ${event.resource}`,
  });
  if (context) logger.addContext(context);
  let settings: ReturnType<typeof config>;
  try {
    settings = config();
  } catch (error) {
    logger.error('Misconfigured function', { error: error as Error });
    return {
      statusCode: 500,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'Internal error; quote the request id when reporting it', requestId }),
    };
  }
  const { tables, stateMachineArn, faultsEnabled: faults, redriveFunction } = settings;
  const response = await traced('Api', { route: `${event.httpMethod} ${event.resource}` }, () =>
    handleApiRequest(
      event,
      {
        doc: dynamoDb(),
        tables,
        sfn: sdkStepFunctions,
        stateMachineArn,
        faultsEnabled: faults,
        ...(redriveFunction
          ? { redriveDeadLetters: (orderId: string) => redriveOrder(redriveFunction, orderId) }
          : {}),
        onOrderStarted: (orderId) => {
          logger.appendKeys({ orderId });
          countOrder(OrderMetric.started);
        },
        onUnexpectedError: (error, id) =>
          logger.error('Unexpected error', { error: error as Error, requestId: id }),
      },
      requestId,
    ),
  );
  logger.info('Request handled', { statusCode: response.statusCode });
  return response;
};
