/**
 * The cdk-nag (AwsSolutions) findings every saga built with the toolkit has, acknowledged on the
 * narrowest construct with the reason in code: what the `Saga` construct and `SagaFunction` create. An app
 * acknowledges what its own stack adds (an API, extra permissions) itself.
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { Saga } from './saga';
import type { SagaFunction } from './saga-function';

export interface SagaNagOptions {
  /** Every `SagaFunction` of the saga's stack, by name. */
  readonly functions: Readonly<Record<string, SagaFunction>>;
  /** What else a function's role grants on `*`, besides X-Ray (by function name). */
  readonly starResources?: Readonly<Record<string, string>>;
  /** The stage logs ERROR events without execution data (cdk-nag SF1): why. @default - logs all */
  readonly withoutExecutionData?: string;
}

export function acknowledgeSagaFindings(saga: Saga, options: SagaNagOptions): void {
  const stack = Stack.of(saga);
  const ack = (scope: IConstruct, id: string, reason: string) =>
    Validations.of(scope).acknowledge({ id, reason });
  const logicalId = (element: IConstruct) => stack.resolve((element as CfnElement).logicalId) as string;

  for (const [name, fn] of Object.entries(options.functions)) {
    ack(
      fn,
      'AwsSolutions-L1',
      `${name} runs on Node.js 22 (an LTS release Lambda supports until 2027-04-30) on purpose: the ` +
        'bundles target node22 and the local cloud and CI run that version; moving to a newer runtime is a ' +
        'one-line change in toolkit/construct/saga-function.ts once the test suite passes on it.',
    );
    const more = options.starResources?.[name];
    ack(
      fn.executionRole,
      'AwsSolutions-IAM5[Resource::*]',
      `The only '*' resources in the ${name} role are X-Ray (xray:PutTraceSegments, ` +
        'xray:PutTelemetryRecords), which has no resource-level permissions: AWS requires "*" ' +
        '(https://docs.aws.amazon.com/xray/latest/devguide/security_iam_id-based-policy-examples.html)' +
        (more ? `, and ${more}` : '.'),
    );
  }

  const stateMachineRole = saga.stateMachine.role;
  ack(
    stateMachineRole,
    'AwsSolutions-IAM5[Resource::*]',
    "The state machine role's '*' resources are X-Ray tracing and CloudWatch Logs log delivery " +
      '(logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, ' +
      'PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups), neither of which supports ' +
      'resource-level permissions (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).',
  );
  for (const [name, fn] of saga.invokedFunctions) {
    ack(
      stateMachineRole,
      `AwsSolutions-IAM5[Resource::<${logicalId(fn.node.defaultChild!)}.Arn>:*]`,
      `LambdaInvoke grants ${name} itself and its qualified ARNs (<arn>:<version|alias>); the ` +
        'wildcard only ranges over versions and aliases of that one function.',
    );
  }

  ack(
    saga.deadLetterQueue,
    'AwsSolutions-SQS3',
    'This queue IS the dead-letter store of the saga: the state machine sends compensations that ' +
      'exhausted their retries here, the redrive function replays them, and an alarm fires on depth > 0. ' +
      'Nothing consumes it with a receive count, so a DLQ behind it would never receive anything.',
  );

  if (options.withoutExecutionData) ack(saga.stateMachine, 'AwsSolutions-SF1', options.withoutExecutionData);
}
