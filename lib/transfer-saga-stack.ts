import {
  Aws,
  type CfnElement,
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { LogLevel } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { Saga } from './saga';
import { SagaFunction } from './saga-function';
import {
  TRANSFER_ENV,
  TRANSFER_OUTPUTS,
  TRANSFER_STEPS,
  type TransferCompensation,
  type TransferStep,
} from './transfer-contract';

export interface TransferSagaStackProps extends StackProps {
  readonly prod?: boolean;
  /** Honour the `faults` plan in the input (dev stages only). */
  readonly faults?: boolean;
}

const kebab = (name: string) => name.replace(/(?<=.)([A-Z])/g, '-$1').toLowerCase();

/**
 * The money transfer saga, built only from the toolkit: two tables (Accounts, IdempotencyKeys), four
 * SagaFunctions (each granted exactly the DynamoDB calls of its step-engine transaction), the Saga
 * construct (Debit → Credit; CreditBack, DebitBack), its DLQ and distinct outputs.
 */
export class TransferSagaStack extends Stack {
  public readonly saga: Saga;
  public readonly functions: Record<TransferStep | TransferCompensation, SagaFunction>;

  constructor(scope: Construct, id: string, props: TransferSagaStackProps = {}) {
    super(scope, id, props);
    const removalPolicy = props.prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const table = (tableId: string, partitionKey: string, sortKey?: string) =>
      new dynamodb.Table(this, tableId, {
        partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
        ...(sortKey ? { sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING } } : {}),
        ...(sortKey ? { timeToLiveAttribute: 'expiresAt' } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: props.prod ?? false,
        removalPolicy,
      });
    const accounts = table('Accounts', 'accountId');
    // The step engine's key schema: the saga's business id (here the transferId) and the step name.
    const idempotency = table('IdempotencyKeys', 'orderId', 'step');
    const dlq = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      removalPolicy,
    });

    const fn = (name: TransferStep | TransferCompensation, keyActions: string[]) => {
      const f = new SagaFunction(this, `${name}Function`, {
        entry: `transfer-${kebab(name)}.ts`,
        description: `stepsaga transfer ${name}`,
        serviceName: 'stepsaga-transfer',
        logRemovalPolicy: removalPolicy,
        environment: {
          [TRANSFER_ENV.accounts]: accounts.tableName,
          [TRANSFER_ENV.idempotency]: idempotency.tableName,
          [TRANSFER_ENV.faults]: props.faults ? 'on' : 'off',
        },
      });
      const grant = (sid: string, actions: string[], t: dynamodb.Table) =>
        f.addToRolePolicy(
          new iam.PolicyStatement({
            sid,
            actions: actions.map((a) => `dynamodb:${a}`),
            resources: [t.tableArn],
          }),
        );
      grant('AccountsTable', ['UpdateItem'], accounts);
      grant('IdempotencyKeysTable', keyActions, idempotency);
      return f;
    };
    const steps = Object.entries(TRANSFER_STEPS) as [TransferStep, TransferCompensation][];
    this.functions = Object.fromEntries(
      steps.flatMap(([step, undo]) => [
        [step, fn(step, ['GetItem', 'PutItem'])],
        [undo, fn(undo, ['GetItem', 'PutItem', 'UpdateItem'])],
      ]),
    ) as Record<TransferStep | TransferCompensation, SagaFunction>;

    const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    this.saga = new Saga(this, 'Saga', {
      steps: steps.map(([name, undo]) => ({
        name,
        action: this.functions[name],
        compensation: { name: undo, function: this.functions[undo] },
      })),
      deadLetterQueue: dlq,
      correlationIdPath: '$.transferId',
      // Named after the stack, so its executions are told apart from the order saga's at a glance.
      stateMachineName: this.stackName,
      stateNames: { failed: 'TransferFailed' },
      taskTimeout: Duration.seconds(15),
      timeout: Duration.hours(1),
      logs: {
        destination: new logs.LogGroup(this, 'StateMachineLogGroup', {
          logGroupName: Fn.join('', ['/aws/vendedlogs/states/', Aws.STACK_NAME, '-', stackUuid]),
          retention: logs.RetentionDays.TWO_WEEKS,
          removalPolicy,
        }),
        level: props.prod ? LogLevel.ERROR : LogLevel.ALL,
        includeExecutionData: !props.prod,
      },
    });

    const outputs = {
      [TRANSFER_OUTPUTS.stateMachineArn]: this.saga.stateMachine.stateMachineArn,
      [TRANSFER_OUTPUTS.dlqUrl]: dlq.queueUrl,
      [TRANSFER_OUTPUTS.accountsTable]: accounts.tableName,
      [TRANSFER_OUTPUTS.idempotencyTable]: idempotency.tableName,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });

    // cdk-nag: the same accepted findings as the order saga (lib/nag-acknowledgements.ts), same reasons.
    const ack = (scope: Construct, nagId: string, reason: string) =>
      Validations.of(scope).acknowledge({ id: nagId, reason });
    const role = this.saga.stateMachine.role;
    for (const f of Object.values(this.functions)) {
      ack(f, 'AwsSolutions-L1', 'Node.js 22 on purpose: the bundles, the local cloud and CI target it.');
      ack(f.executionRole, 'AwsSolutions-IAM5[Resource::*]', 'X-Ray has no resource-level permissions.');
      const logicalId = this.resolve((f.node.defaultChild as CfnElement).logicalId) as string;
      ack(
        role,
        `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        "LambdaInvoke: the function's versions.",
      );
    }
    ack(role, 'AwsSolutions-IAM5[Resource::*]', 'X-Ray and log delivery have no resource-level permissions.');
    ack(dlq, 'AwsSolutions-SQS3', 'This queue is the dead-letter store of the saga: nothing consumes it.');
    if (props.prod)
      ack(this.saga.stateMachine, 'AwsSolutions-SF1', 'Prod logs errors without execution data.');
  }
}
