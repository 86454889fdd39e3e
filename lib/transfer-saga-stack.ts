import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { LogLevel } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { Saga } from '../toolkit/construct/saga';
import { SagaFunction, type SagaFunctionProps } from '../toolkit/construct/saga-function';
import { acknowledgeSagaFindings } from '../toolkit/construct/saga-nag';
import { KEY_ACTIONS } from '../toolkit/runtime/key-actions';
import {
  TRANSFER_ENV,
  TRANSFER_ID_ATTRIBUTE,
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
 * construct (Debit → Credit; CreditBack, DebitBack), its DLQ, its redrive function and distinct outputs.
 */
export class TransferSagaStack extends Stack {
  public readonly saga: Saga;
  public readonly functions: Record<TransferStep | TransferCompensation, SagaFunction>;
  public readonly redrive: SagaFunction;

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
    // The step engine's key schema: the saga's id attribute and the step name.
    const idempotency = table('IdempotencyKeys', TRANSFER_ID_ATTRIBUTE, 'step');
    const dlq = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      removalPolicy,
    });

    const sagaFunction = (name: string, props: Partial<SagaFunctionProps> = {}) =>
      new SagaFunction(this, `${name}Function`, {
        entry: `transfer-${kebab(name)}.ts`,
        description: `stepsaga transfer ${name}`,
        serviceName: 'stepsaga-transfer',
        logRemovalPolicy: removalPolicy,
        ...props,
      });
    const fn = (name: TransferStep | TransferCompensation, keyActions: readonly string[]) => {
      const f = sagaFunction(name, {
        environment: {
          [TRANSFER_ENV.accounts]: accounts.tableName,
          [TRANSFER_ENV.idempotency]: idempotency.tableName,
          [TRANSFER_ENV.faults]: props.faults ? 'on' : 'off',
        },
      });
      const grants = [
        ['AccountsTable', ['UpdateItem'], accounts],
        ['IdempotencyKeysTable', keyActions, idempotency],
      ] as const;
      for (const [sid, actions, t] of grants) {
        const statement = { sid, actions: actions.map((a) => `dynamodb:${a}`), resources: [t.tableArn] };
        f.addToRolePolicy(new iam.PolicyStatement(statement));
      }
      return f;
    };
    const steps = Object.entries(TRANSFER_STEPS) as [TransferStep, TransferCompensation][];
    this.functions = Object.fromEntries(
      steps.flatMap(([step, undo]) => [
        [step, fn(step, KEY_ACTIONS.action)],
        [undo, fn(undo, KEY_ACTIONS.compensation)],
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
      correlationIdField: TRANSFER_ID_ATTRIBUTE,
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

    this.redrive = sagaFunction('Redrive', { timeout: Duration.seconds(60) });
    this.saga.grantRedrive(this.redrive);

    const outputs = {
      [TRANSFER_OUTPUTS.stateMachineArn]: this.saga.stateMachine.stateMachineArn,
      [TRANSFER_OUTPUTS.dlqUrl]: dlq.queueUrl,
      [TRANSFER_OUTPUTS.accountsTable]: accounts.tableName,
      [TRANSFER_OUTPUTS.idempotencyTable]: idempotency.tableName,
      [TRANSFER_OUTPUTS.redriveFunction]: this.redrive.functionName,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });

    // Money parked in the DLQ (a CreditBack/DebitBack that kept failing) must be seen: redrive it.
    new cloudwatch.Alarm(this, 'DeadLetterQueueNotEmptyAlarm', {
      metric: dlq.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'A transfer compensation failed after all its retries and is parked in the DLQ: fix the cause, then invoke the Redrive function.',
    });

    acknowledgeSagaFindings(this.saga, {
      functions: { ...this.functions, Redrive: this.redrive },
      ...(props.prod
        ? { withoutExecutionData: 'Prod logs errors without execution data (account ids).' }
        : {}),
    });
  }
}
