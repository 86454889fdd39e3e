import { ArnFormat, Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Condition, LogLevel, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { Saga, type SagaStep } from '../toolkit/construct/saga';
import { SagaFunction } from '../toolkit/construct/saga-function';
import {
  COMPENSATION_OF,
  type CompensationName,
  ENV,
  FUNCTIONS,
  type FunctionId,
  ORDER_ACTIONS,
  type OutputName,
  STATE_NAMES,
  STEP_NAMES,
  type Stage,
  type StepName,
  TABLES,
  type TableAction,
  type TableId,
} from './contract';
import { acknowledgeNagFindings } from './nag-acknowledgements';

export interface OrderSagaStackProps extends StackProps {
  /**
   * `prod`: tables and DLQ are retained (and deletion-protected), state machine logs ERROR without
   * execution data. `dev`: everything is destroyed with the stack, logs ALL with execution data.
   * @default 'dev'
   */
  readonly stage?: Stage;
  /**
   * Honour the `faults` plan in saga input (env `STEPSAGA_FAULTS=on`). For demos, chaos tests and the
   * local cloud; never in production.
   * @default false
   */
  readonly faults?: boolean;
  /**
   * Synthesize the saga as an Express workflow (at-least-once, history in logs only). Safe because every
   * step is idempotent; see docs/architecture.md for the trade-offs.
   * @default false (Standard)
   */
  readonly express?: boolean;
  /**
   * API stage throttling: steady-state requests per second.
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * API stage throttling: burst capacity.
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Allowed CORS origin of the API (for a browser client).
   * @default - no CORS preflight at all
   */
  readonly corsOrigin?: string;
  /**
   * An SNS topic that receives every alarm's state changes.
   * @default - alarms without actions (attach your own)
   */
  readonly alarmTopicArn?: string;
  /**
   * Create the region's API Gateway CloudWatch Logs role and set it in the account settings
   * (`AWS::ApiGateway::Account`). That setting is one per account and region and the stage's access and
   * execution logging need it: turn this on for one deploy in a region that has none (docs/operations.md,
   * "First deploy"), never where a platform team manages it (it would overwrite their role).
   * @default false
   */
  readonly apiGatewayCloudWatchRole?: boolean;
  /**
   * Orders whose total (minor units) reaches this wait for a reviewer after ReserveStock and before
   * ChargePayment (context `reviewThreshold`).
   * @default 100000
   */
  readonly reviewThreshold?: number;
  /**
   * How long an order waits for its review before it is cancelled with reason ReviewTimedOut (the review
   * Task's TimeoutSeconds; context `reviewTimeout`, in seconds). The execution deadline is this plus
   * {@link EXECUTION_TIMEOUT}.standard.
   * @default 24 hours
   */
  readonly reviewTimeout?: Duration;
}

/** Defaults of the manual review. */
export const REVIEW_DEFAULTS = {
  threshold: 100_000,
  timeout: Duration.hours(24),
} as const;

/**
 * `TimeoutSeconds` of every Task but the review's: three times the step functions' 5-second timeout, so a
 * Task never waits forever on a lost invocation, yet a slow cold start or a throttled invoke queued by
 * Lambda still completes.
 */
export const TASK_TIMEOUT = Duration.seconds(15);

/**
 * Deadline of one execution (the `ExecutionsTimedOutAlarm` fires when one outlives it), besides the time
 * it may wait for a review: the deadline of a Standard execution is `reviewTimeout + standard`
 * ({@link executionTimeout}). The worst case of the Retry budget (every Task of both directions
 * exhausting its retries at its full timeout, and every Lambda Task also riding out a throttle to its
 * last retry: 270 s of waits each, every attempt counted at its Task's `TimeoutSeconds`, see
 * test/infra/operations.test.ts; a forward step's timeout retry included) is about 73 minutes; 150
 * minutes is more than twice that, so one that times out is stuck, not slow. Express workflows cannot
 * run longer than 5 minutes (an AWS limit), so their deadline is that limit (and they have no review).
 */
export const EXECUTION_TIMEOUT = {
  standard: Duration.minutes(150),
  express: Duration.minutes(5),
} as const;

/** The execution deadline: the review's wait plus the whole Retry budget of both directions, doubled. */
export function executionTimeout(
  express: boolean,
  reviewTimeout: Duration = REVIEW_DEFAULTS.timeout,
): Duration {
  if (express) return EXECUTION_TIMEOUT.express;
  return Duration.seconds(reviewTimeout.toSeconds() + EXECUTION_TIMEOUT.standard.toSeconds());
}

/** The Powertools metrics (namespace `StepSaga`, dimension `service`) the dashboard and alarms read. */
export const METRICS = {
  namespace: 'StepSaga',
  service: 'stepsaga',
} as const;

/** The API's stage (the last path segment of `ApiUrl`). */
const API_STAGE = 'v1';

/** Per-function timeouts; the step functions keep the SagaFunction default (5 s). */
const TIMEOUTS: Partial<Record<FunctionId, Duration>> = {
  // Under API Gateway's 29-second integration timeout: resume may wait for one order's redrive.
  Api: Duration.seconds(28),
  Redrive: Duration.seconds(60),
};

/**
 * The order saga: six tables, thirteen functions, the Step Functions saga, the DLQ, the REST API, alarms,
 * a dashboard and the outputs the tools read (contract `OUTPUTS`).
 */
export class OrderSagaStack extends Stack {
  public readonly stage: Stage;
  public readonly tables: Readonly<Record<TableId, dynamodb.Table>>;
  public readonly functions: Readonly<Record<FunctionId, SagaFunction>>;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly saga: Saga;
  public readonly api: apigateway.RestApi;
  /** Whether the API answers CORS preflight requests (context `corsOrigin`). */
  public readonly corsEnabled: boolean;

  constructor(scope: Construct, id: string, props: OrderSagaStackProps = {}) {
    super(scope, id, props);
    this.stage = props.stage ?? 'dev';
    this.corsEnabled = props.corsOrigin !== undefined;
    const prod = this.stage === 'prod';
    const dataRemovalPolicy = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.tables = this.createTables(prod, dataRemovalPolicy);

    // SSE-SQS (SQS-managed keys): encrypted at rest at no cost and with no key policy to get wrong; a
    // customer managed KMS key would add kms:GenerateDataKey/Decrypt grants to the state machine and the
    // redrive function and a per-request KMS charge, for no extra protection of this data (nobody outside
    // the account can read the queue either way).
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      visibilityTimeout: Duration.minutes(2),
      removalPolicy: dataRemovalPolicy,
    });

    this.functions = this.createFunctions(props, dataRemovalPolicy);

    const stepFunction = (name: StepName) => this.functions[name];
    const compensationFunction = (name: CompensationName) => this.functions[name];
    const hasPromo = Condition.isPresent('$.promoCode');
    // The `/aws/vendedlogs/` prefix keeps Step Functions' log delivery out of the account's CloudWatch Logs
    // resource policy (5,120 characters for all of them). The name ends with this stack's id (unique per
    // stack, region and creation): a prod log group retained by `cdk destroy` never blocks the next create.
    const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    const stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogGroup', {
      logGroupName: Fn.join('', ['/aws/vendedlogs/states/', Aws.STACK_NAME, '-', stackUuid]),
      retention: prod ? logs.RetentionDays.THREE_MONTHS : logs.RetentionDays.TWO_WEEKS,
      removalPolicy: dataRemovalPolicy,
    });
    const express = props.express ?? false;
    const reviewTimeout = props.reviewTimeout ?? REVIEW_DEFAULTS.timeout;
    const reviewThreshold = props.reviewThreshold ?? REVIEW_DEFAULTS.threshold;
    const steps: SagaStep[] = STEP_NAMES.map((name) => ({
      name,
      action: stepFunction(name),
      compensation: {
        name: COMPENSATION_OF[name],
        function: compensationFunction(COMPENSATION_OF[name]),
        ...(name === 'ConfirmOrder' ? { succeedOnErrors: ['OrderAlreadyConfirmed'] } : {}),
      },
      ...(name === 'ReservePromo'
        ? {
            runWhen: {
              choiceName: STATE_NAMES.hasPromo,
              skippedCompensationChoiceName: STATE_NAMES.hasPromoToRelease,
              condition: hasPromo,
            },
          }
        : {}),
    }));
    // Manual review between ReserveStock (which prices the order) and ChargePayment. Only orders at or
    // over the threshold take it; the others pay one Choice transition. Express workflows cannot wait for
    // a task token, so an Express stack has no review (docs/architecture.md, "Manual review").
    if (!express) {
      steps.splice(STEP_NAMES.indexOf('ChargePayment'), 0, {
        name: STATE_NAMES.requestReview,
        action: this.functions.RequestReview,
        runWhen: {
          choiceName: STATE_NAMES.needsReview,
          condition: Condition.numberGreaterThanEquals('$.results.ReserveStock.total', reviewThreshold),
        },
        callback: { timeout: reviewTimeout },
      });
    }
    this.saga = new Saga(this, 'Saga', {
      steps,
      taskTimeout: TASK_TIMEOUT,
      deadLetterQueue: this.deadLetterQueue,
      correlationIdPath: '$.orderId',
      correlationIdField: 'orderId',
      recordFailure: this.functions.RecordFailure,
      stateNames: {
        failedSuffix: STATE_NAMES.failedSuffix,
        dlqSuffix: STATE_NAMES.dlqSuffix,
        recordFailure: STATE_NAMES.recordFailure,
        checkCompensations: STATE_NAMES.checkCompensations,
        succeed: STATE_NAMES.succeed,
        failed: STATE_NAMES.failOrder,
        compensationFailed: STATE_NAMES.failCompensation,
      },
      // No StateMachineName: switching `-c express=true` replaces the state machine, which CloudFormation
      // refuses for a custom name; the generated one is unique per stack and region.
      stateMachineType: express ? StateMachineType.EXPRESS : StateMachineType.STANDARD,
      timeout: executionTimeout(express, reviewTimeout),
      tracing: true,
      logs: {
        destination: stateMachineLogs,
        level: prod ? LogLevel.ERROR : LogLevel.ALL,
        includeExecutionData: !prod,
      },
    });
    const stateMachine = this.saga.stateMachine;

    this.wireApiFunction(props.express ?? false);
    // Redrive replays the compensations and RecordFailure (whose DLQ message means the unwind's outcome
    // was never written).
    this.saga.grantRedrive(this.functions.Redrive);

    this.api = this.createApi(props);
    this.createAlarmsAndDashboard(props);

    const outputs: Record<OutputName, string> = {
      ApiUrl: this.api.url,
      StateMachineArn: stateMachine.stateMachineArn,
      DlqUrl: this.deadLetterQueue.queueUrl,
      AccountsTableName: this.tables.Accounts.tableName,
      InventoryTableName: this.tables.Inventory.tableName,
      PromosTableName: this.tables.Promos.tableName,
      DeliverySlotsTableName: this.tables.DeliverySlots.tableName,
      OrdersTableName: this.tables.Orders.tableName,
      IdempotencyKeysTableName: this.tables.IdempotencyKeys.tableName,
      RedriveFunctionName: this.functions.Redrive.functionName,
      FaultInjection: props.faults ? 'on' : 'off',
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });

    acknowledgeNagFindings(this);
  }

  private createTables(prod: boolean, removalPolicy: RemovalPolicy): Record<TableId, dynamodb.Table> {
    const entries = (Object.keys(TABLES) as TableId[]).map((tableId) => {
      const spec: { partitionKey: string; sortKey?: string; ttl?: string } = TABLES[tableId];
      const table = new dynamodb.Table(this, tableId, {
        partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
        ...(spec.sortKey ? { sortKey: { name: spec.sortKey, type: dynamodb.AttributeType.STRING } } : {}),
        ...(spec.ttl ? { timeToLiveAttribute: spec.ttl } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        // Every table holds money, stock or the records that undo them (IdempotencyKeys): all get PITR.
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: prod,
        removalPolicy,
      });
      return [tableId, table] as const;
    });
    return Object.fromEntries(entries) as Record<TableId, dynamodb.Table>;
  }

  private createFunctions(
    props: OrderSagaStackProps,
    logRemovalPolicy: RemovalPolicy,
  ): Record<FunctionId, SagaFunction> {
    const entries = (Object.keys(FUNCTIONS) as FunctionId[]).map((functionId) => {
      const spec = FUNCTIONS[functionId];
      const access: Partial<Record<TableId, readonly TableAction[]>> = spec.tables;
      const environment: Record<string, string> = { [ENV.faults]: props.faults ? 'on' : 'off' };
      for (const tableId of Object.keys(access) as TableId[]) {
        environment[TABLES[tableId].env] = this.tables[tableId].tableName;
      }
      const fn = new SagaFunction(this, `${functionId}Function`, {
        entry: spec.entry,
        description: `stepsaga ${functionId}`,
        environment,
        logRemovalPolicy,
        ...(TIMEOUTS[functionId] ? { timeout: TIMEOUTS[functionId] } : {}),
      });
      // Exactly the calls the handler makes on each table (contract FUNCTIONS), on that table only.
      for (const [tableId, actions] of Object.entries(access) as [TableId, readonly TableAction[]][]) {
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            sid: `${tableId}Table`,
            actions: actions.map((a) => `dynamodb:${a}`),
            resources: [this.tables[tableId].tableArn],
          }),
        );
      }
      return [functionId, fn] as const;
    });
    return Object.fromEntries(entries) as Record<FunctionId, SagaFunction>;
  }

  /** The API function starts executions of this state machine and reads its executions, nothing else. */
  private wireApiFunction(express: boolean): void {
    const api = this.functions.Api;
    const stateMachine = this.saga.stateMachine;
    api.addEnvironment(ENV.stateMachineArn, stateMachine.stateMachineArn);
    api.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StartSagaExecution',
        actions: ['states:StartExecution'],
        resources: [stateMachine.stateMachineArn],
      }),
    );
    api.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSagaExecutions',
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [
          this.formatArn({
            service: 'states',
            resource: express ? 'express' : 'execution',
            resourceName: `${stateMachine.stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    // Cancel wakes a saga in a Retry backoff (stop, then redrive: the redriven step refuses at once);
    // resume redrives an execution that ended without an outcome. Standard executions only.
    if (!express) {
      api.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'StopAndRedriveSagaExecutions',
          actions: ['states:StopExecution', 'states:RedriveExecution'],
          resources: [
            this.formatArn({
              service: 'states',
              resource: 'execution',
              resourceName: `${stateMachine.stateMachineName}:*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
      // SendTaskSuccess/SendTaskFailure authorise no resource type (the task token is the capability):
      // IAM accepts only "*" for them. See lib/nag-acknowledgements.ts.
      api.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'CompleteReviewTasks',
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          resources: ['*'],
        }),
      );
    }
    // Resume of a NEEDS_ATTENTION order: the Redrive function, scoped to that order.
    api.addEnvironment(ENV.redriveFunction, this.functions.Redrive.functionName);
    api.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InvokeRedrive',
        actions: ['lambda:InvokeFunction'],
        resources: [this.functions.Redrive.functionArn],
      }),
    );
  }

  private createApi(props: OrderSagaStackProps): apigateway.RestApi {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogGroup', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: this.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Authentication: IAM (SigV4) rather than API keys. An API key is an identifier, not a credential
    // (AWS says so: use it for usage plans, not for authorization); SigV4 authenticates every request
    // with short-lived credentials, authorises it per caller with IAM (execute-api:Invoke on exactly
    // these routes), is logged with the caller's identity, and every AWS SDK and the AWS CLI already sign
    // requests. The local cloud accepts any SigV4 signature, so local clients do not change.
    const api = new apigateway.RestApi(this, 'OrdersApi', {
      restApiName: `${this.stackName}-orders`,
      description:
        'stepsaga order API: POST /orders, GET /orders/{orderId}, GET /orders/{orderId}/history, ' +
        'POST /orders/{orderId}/cancel|resume|review',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // API Gateway writes access and execution logs through one role per account and region, set in its
      // account settings. Setting it is opt-in (context apiGatewayCloudWatchRole=true): it would overwrite
      // a role a platform team manages, and each stack that owns it leaves one more role behind. When on,
      // the role is retained on delete: the account setting outlives the stack, and every other API of the
      // region logs through that role.
      ...(props.apiGatewayCloudWatchRole
        ? { cloudWatchRole: true, cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN }
        : { cloudWatchRole: false }),
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: {
        stageName: API_STAGE,
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
      },
      ...(props.corsOrigin
        ? {
            defaultCorsPreflightOptions: {
              allowOrigins: [props.corsOrigin],
              allowMethods: ['GET', 'POST', 'OPTIONS'],
              allowHeaders: [...apigateway.Cors.DEFAULT_HEADERS, 'Idempotency-Key'],
            },
          }
        : {}),
    });
    // Parameters are validated by API Gateway; the body by the function's zod schema, whose 400 names
    // every bad field (API Gateway's model validation answers one generic message).
    const validator = api.addRequestValidator('ParameterValidator', {
      requestValidatorName: 'parameters',
      validateRequestParameters: true,
      validateRequestBody: false,
    });
    // Execution logs: API Gateway writes them to `API-Gateway-Execution-Logs_<api id>/<stage>`, creating it
    // (without retention) unless it exists. Create it first, in the stack, with a retention.
    const executionLogs = new logs.LogGroup(this, 'ApiExecutionLogGroup', {
      logGroupName: `API-Gateway-Execution-Logs_${api.restApiId}/${API_STAGE}`,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: this.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    api.deploymentStage.node.addDependency(executionLogs);
    // The contract output is ApiUrl; drop RestApi's own `<Id>Endpoint<hash>` output so tools see one URL.
    api.node.tryRemoveChild('Endpoint');
    // Only the deployed stage may invoke the function (no console test-invoke permission).
    const integration = new apigateway.LambdaIntegration(this.functions.Api, {
      proxy: true,
      allowTestInvoke: false,
    });
    const orders = api.root.addResource('orders');
    orders.addMethod('POST', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.header.Idempotency-Key': false },
    });
    const order = orders.addResource('{orderId}');
    const orderIdParam = { 'method.request.path.orderId': true };
    order.addMethod('GET', integration, { requestValidator: validator, requestParameters: orderIdParam });
    order
      .addResource('history')
      .addMethod('GET', integration, { requestValidator: validator, requestParameters: orderIdParam });
    // The order's actions (docs/operations.md: a reviewer's policy allows only .../review).
    for (const action of ORDER_ACTIONS) {
      order
        .addResource(action)
        .addMethod('POST', integration, { requestValidator: validator, requestParameters: orderIdParam });
    }
    return api;
  }

  private createAlarmsAndDashboard(props: OrderSagaStackProps): void {
    const period = Duration.minutes(5);
    const topic = props.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
      : undefined;
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 1,
    ) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods,
        datapointsToAlarm: evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `${description} Runbook: docs/operations.md#${id.toLowerCase()}`,
      });
      if (topic) {
        a.addAlarmAction(new cloudwatchActions.SnsAction(topic));
        a.addOkAction(new cloudwatchActions.SnsAction(topic));
      }
      alarms.push(a);
      return a;
    };
    // Every alarm pages for something a person must act on, and only that (docs/operations.md, "Alarms").
    // Not alarmed on purpose: business outcomes (a CANCELLED order, ExecutionsFailed ending in OrderFailed,
    // the pivot's OrderAlreadyConfirmed), and transient failures Step Functions retries away (a
    // compensation's TransientError, Lambda throttling): their lasting effects are what is alarmed, as a
    // DLQ message, an order failed by a technical error, an API 5XX or an execution past its deadline.

    const dlqDepth = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    alarm(
      'DeadLetterQueueNotEmptyAlarm',
      dlqDepth,
      0,
      'A compensation (or RecordFailure) failed after all its retries and is parked in the DLQ: the ' +
        'order is NEEDS_ATTENTION (or PENDING). Fix the cause, then run `npm run redrive`.',
    );

    const business = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace: METRICS.namespace,
        metricName,
        dimensionsMap: { service: METRICS.service },
        period,
        statistic: cloudwatch.Stats.SUM,
        label,
      });
    const failedByError = business('OrdersFailedByError', 'failed by a technical error');
    alarm(
      'OrdersFailedByErrorAlarm',
      failedByError,
      0,
      'An order failed because a step hit a technical error (not a business rule) after all its retries: ' +
        'a dependency, a permission or a deployment is broken. The order reason names the error.',
    );

    const stateMachine = this.saga.stateMachine;
    const timedOut = stateMachine.metricTimedOut({ period, statistic: cloudwatch.Stats.SUM });
    alarm(
      'ExecutionsTimedOutAlarm',
      timedOut,
      0,
      `A saga execution outlived its deadline (${executionTimeout(props.express ?? false, props.reviewTimeout).toHumanString()}): its order is stuck mid-saga. Resume it: POST /orders/{orderId}/resume.`,
    );
    const aborted = stateMachine.metricAborted({ period, statistic: cloudwatch.Stats.SUM });
    // A cancel wakes a running saga by StopExecution then RedriveExecution: one abort and one redrive.
    // Only an abort nobody redrove is stuck, so the alarm is on the difference. Each metric is published
    // only for periods that had one, and metric math gives no value where a term has none: FILL makes an
    // abort with no redrive in its period 1 - 0 (not a missing point that NOT_BREACHING would swallow).
    // One period: the difference is a per-period count, so an abort nobody redrives shows in one period
    // only (2 of 2 periods would never page); a cancel's stop and redrive, milliseconds apart, fall in
    // different periods only across a period boundary (then +1 and -1: one false page, OK again next period).
    const unredriven = new cloudwatch.MathExpression({
      expression: 'FILL(aborted, 0) - FILL(redriven, 0)',
      usingMetrics: {
        aborted,
        redriven: stateMachine.metric('ExecutionsRedriven', { period, statistic: cloudwatch.Stats.SUM }),
      },
      period,
      label: 'aborted, not redriven',
    });
    alarm(
      'ExecutionsAbortedAlarm',
      unredriven,
      0,
      'A saga execution was stopped (StopExecution) and not redriven: its order is stuck mid-saga. ' +
        'Resume it: POST /orders/{orderId}/resume.',
    );

    const serverErrors = this.api.metricServerError({
      period,
      statistic: cloudwatch.Stats.AVERAGE,
      label: '5XX rate',
    });
    alarm(
      'ApiServerErrorsAlarm',
      serverErrors,
      0.05,
      'More than 5% of API requests answered 5XX for 10 minutes: callers cannot place or read orders.',
      2,
    );

    const functionWidgets: cloudwatch.IWidget[] = [];
    for (const [functionId, fn] of Object.entries(this.functions)) {
      const errors = fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM });
      const throttles = fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM });
      // Api and Redrive answer every outcome (an HTTP status, a report): a Lambda error there is a crash,
      // a timeout or an out-of-memory, never a designed answer, so its rate pages. The saga's functions
      // throw by design (business errors, TransientError for Step Functions to retry).
      if (functionId === 'Api' || functionId === 'Redrive') {
        const rate = new cloudwatch.MathExpression({
          expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
          usingMetrics: {
            errors,
            invocations: fn.metricInvocations({ period, statistic: cloudwatch.Stats.SUM }),
          },
          period,
          label: `${functionId} error rate (%)`,
        });
        alarm(
          `${functionId}ErrorRateAlarm`,
          rate,
          5,
          `More than 5% of ${functionId} invocations failed in Lambda (crash, timeout, out of memory).`,
        );
      }
      functionWidgets.push(
        new cloudwatch.GraphWidget({
          title: functionId,
          left: [errors, throttles],
          right: [fn.metricDuration({ period, statistic: cloudwatch.Stats.p(99) })],
          width: 8,
        }),
      );
    }

    // Dashboards are account-wide (not regional): the name carries the stack name and the region.
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Aws.STACK_NAME}-${Aws.REGION}`,
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Orders (Powertools metrics, namespace StepSaga)',
        left: [
          business('OrdersStarted', 'started'),
          business('OrdersConfirmed', 'confirmed'),
          business('OrdersCancelled', 'cancelled'),
          business('OrdersNeedingAttention', 'needing attention'),
          failedByError,
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Saga executions',
        left: [
          stateMachine.metricStarted({ period, statistic: cloudwatch.Stats.SUM }),
          stateMachine.metricSucceeded({ period, statistic: cloudwatch.Stats.SUM }),
          stateMachine.metricFailed({ period, statistic: cloudwatch.Stats.SUM }),
          timedOut,
          aborted,
        ],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API',
        left: [
          this.api.metricCount({ period, statistic: cloudwatch.Stats.SUM }),
          this.api.metricClientError({ period, statistic: cloudwatch.Stats.SUM }),
          this.api.metricServerError({ period, statistic: cloudwatch.Stats.SUM }),
        ],
        right: [this.api.metricLatency({ period, statistic: cloudwatch.Stats.p(99) })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'DLQ depth (NEEDS_ATTENTION orders)',
        left: [dlqDepth],
        width: 8,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 8 }),
    );
    dashboard.addWidgets(...functionWidgets);
  }
}
