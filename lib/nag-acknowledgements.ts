import { type CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { COMPENSATION_OF, type FunctionId, STEP_NAMES, type Stage } from './contract';
import type { Saga } from './saga';
import type { SagaFunction } from './saga-function';

/** What the acknowledgements look at: the order saga stack's parts (`OrderSagaStack` has them). */
export interface NagSubject extends Stack {
  readonly stage: Stage;
  readonly functions: Readonly<Record<FunctionId, SagaFunction>>;
  readonly deadLetterQueue: Queue;
  readonly saga: Saga;
  readonly api: RestApi;
  readonly corsEnabled: boolean;
}

/**
 * The cdk-nag (AwsSolutions) findings the order saga accepts, each on the narrowest construct and, for
 * granular rules, the exact finding, with the reason in code. `npm run nag` fails on anything else.
 */
export function acknowledgeNagFindings(stack: NagSubject): void {
  const ack = (scope: IConstruct, id: string, reason: string) =>
    Validations.of(scope).acknowledge({ id, reason });
  const logicalId = (element: IConstruct) => stack.resolve((element as CfnElement).logicalId) as string;

  for (const [functionId, fn] of Object.entries(stack.functions)) {
    ack(
      fn,
      'AwsSolutions-L1',
      `${functionId} runs on Node.js 22 (an LTS release Lambda supports until 2027-04-30) on purpose: the ` +
        'bundles target node22 and the local cloud and CI run that version; moving to a newer runtime is a ' +
        'one-line change in lib/saga-function.ts once the test suite passes on it.',
    );
    ack(
      fn.executionRole,
      'AwsSolutions-IAM5[Resource::*]',
      `The only '*' resources in the ${functionId} role are X-Ray (xray:PutTraceSegments, ` +
        'xray:PutTelemetryRecords), which has no resource-level permissions: AWS requires "*" ' +
        '(https://docs.aws.amazon.com/xray/latest/devguide/security_iam_id-based-policy-examples.html)' +
        (functionId === 'Api'
          ? ', and states:SendTaskSuccess/SendTaskFailure (the review decision), which authorise no ' +
            'resource type either: the task token itself is the capability, and only the review Task of ' +
            "this stack's state machine hands one out (stored on the order, never returned by the API)."
          : '.'),
    );
  }

  const stateMachineRole = stack.saga.stateMachine.role;
  ack(
    stateMachineRole,
    'AwsSolutions-IAM5[Resource::*]',
    "The state machine role's '*' resources are X-Ray tracing and CloudWatch Logs log delivery " +
      '(logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, ' +
      'PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups), neither of which supports ' +
      'resource-level permissions (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).',
  );
  const invoked = [
    ...STEP_NAMES,
    ...Object.values(COMPENSATION_OF),
    'RecordFailure',
    'RequestReview',
  ] as const;
  for (const functionId of invoked) {
    const fn = stack.functions[functionId];
    ack(
      stateMachineRole,
      `AwsSolutions-IAM5[Resource::<${logicalId(fn.node.defaultChild!)}.Arn>:*]`,
      `LambdaInvoke grants ${functionId} itself and its qualified ARNs (<arn>:<version|alias>); the ` +
        'wildcard only ranges over versions and aliases of that one function.',
    );
  }

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

  ack(
    stack.deadLetterQueue,
    'AwsSolutions-SQS3',
    'This queue IS the dead-letter store of the saga: the state machine sends compensations that ' +
      'exhausted their retries here, the redrive function replays them, and an alarm fires on depth > 0. ' +
      'Nothing consumes it with a receive count, so a DLQ behind it would never receive anything.',
  );

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

  if (stack.stage === 'prod') {
    ack(
      stack.saga.stateMachine,
      'AwsSolutions-SF1',
      'The prod stage logs ERROR events without execution data: execution data holds customer ids and ' +
        'order contents, and the full history stays available through GetExecutionHistory (Standard).',
    );
  }
}
