import { type CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { IConstruct } from 'constructs';
import type { Saga } from '../toolkit/construct/saga';
import type { SagaFunction } from '../toolkit/construct/saga-function';
import { acknowledgeSagaFindings } from '../toolkit/construct/saga-nag';
import type { FunctionId, Stage } from './contract';

/** What the acknowledgements look at: the order saga stack's parts (`OrderSagaStack` has them). */
export interface NagSubject extends Stack {
  readonly stage: Stage;
  readonly functions: Readonly<Record<FunctionId, SagaFunction>>;
  readonly saga: Saga;
  readonly api: RestApi;
  readonly corsEnabled: boolean;
}

/**
 * The cdk-nag (AwsSolutions) findings the order saga accepts, each on the narrowest construct and, for
 * granular rules, the exact finding, with the reason in code: the toolkit's (every saga's functions, state
 * machine and DLQ) and the order stack's own (its API, the api function's execution ARNs). `npm run nag`
 * fails on anything else.
 */
export function acknowledgeNagFindings(stack: NagSubject): void {
  const ack = (scope: IConstruct, id: string, reason: string) =>
    Validations.of(scope).acknowledge({ id, reason });
  const logicalId = (element: IConstruct) => stack.resolve((element as CfnElement).logicalId) as string;

  acknowledgeSagaFindings(stack.saga, {
    functions: stack.functions,
    starResources: {
      Api:
        'states:SendTaskSuccess/SendTaskFailure (the review decision), which authorise no resource type ' +
        "either: the task token itself is the capability, and only the review Task of this stack's state " +
        'machine hands one out (stored on the order, never returned by the API).',
    },
    ...(stack.stage === 'prod'
      ? {
          withoutExecutionData:
            'The prod stage logs ERROR events without execution data: execution data holds customer ids ' +
            'and order contents, and the full history stays available through GetExecutionHistory (Standard).',
        }
      : {}),
  });

  const resolvedName: unknown = stack.resolve(stack.saga.stateMachine.stateMachineName);
  const stateMachineName =
    typeof resolvedName === 'string'
      ? resolvedName
      : `<${logicalId(stack.saga.stateMachine.node.defaultChild!)}.Name>`;
  for (const resource of ['execution', 'express']) {
    ack(
      stack.functions.Api.executionRole,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:${resource}:${stateMachineName}:*]`,
      'DescribeExecution, GetExecutionHistory, StopExecution and RedriveExecution act on execution ARNs ' +
        '(<stateMachine>:<executionName>); the wildcard is the execution name (= the orderId), confined ' +
        'to this one state machine.',
    );
  }

  const api = stack.api;
  ack(
    api,
    'AwsSolutions-APIG2',
    'Request parameters are validated by API Gateway (validator "parameters"); the body is validated ' +
      'by the api function with zod, whose 400 names every invalid field, which a model validator cannot.',
  );
  ack(
    api,
    'AwsSolutions-COG4',
    'Every method uses IAM (SigV4) authorization instead of a Cognito user pool: the callers are ' +
      'services and operators with AWS credentials, not end users with Cognito tokens.',
  );
  ack(
    api,
    'AwsSolutions-APIG3',
    'A WAFv2 web ACL is an account-level choice (fixed monthly cost per ACL); the API already requires ' +
      'SigV4 and is throttled per stage. Associate an organisation web ACL with the v1 stage where required.',
  );
  ack(
    api,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    "API Gateway's account-level CloudWatch role (needed for access and execution logs) uses the AWS " +
      'managed policy AWS documents for exactly this purpose; it grants log writes only.',
  );

  if (stack.corsEnabled) {
    ack(
      api,
      'AwsSolutions-APIG4',
      'Only the CORS preflight (OPTIONS, a mock integration that returns headers) is unauthenticated: ' +
        'browsers send preflight requests without credentials.',
    );
  }
}
