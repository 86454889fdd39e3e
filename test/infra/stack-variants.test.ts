import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app';
import {
  ENV,
  FUNCTIONS,
  LOCAL_REVIEW_TIMEOUT_SECONDS,
  OUTPUTS,
  STATE_NAMES,
  TABLES,
} from '../../lib/contract';
import {
  EXECUTION_TIMEOUT,
  executionTimeout,
  REVIEW_DEFAULTS,
  TASK_TIMEOUT,
} from '../../lib/order-saga-stack';
import { type AslDefinition, stateMachineDefinition, synthOrderSaga } from '../support/template';

/** The order's actions: POST /orders/{orderId}/<action>. */
const ORDER_ACTIONS = ['cancel', 'resume', 'review'];

let dev: Template;
let prod: Template;
let express: Template;
let faults: Template;
let cors: Template;

beforeAll(() => {
  dev = synthOrderSaga().template;
  prod = synthOrderSaga({ stage: 'prod' }).template;
  express = synthOrderSaga({ express: 'true' }).template;
  faults = synthOrderSaga({ faults: 'on' }).template;
  cors = synthOrderSaga({ corsOrigin: 'https://console.example.com', throttlingRateLimit: '7' }).template;
});

function functionEnvironments(template: Template): Record<string, string | object>[] {
  return Object.values(template.findResources('AWS::Lambda::Function')).map(
    (f) => f.Properties.Environment.Variables as Record<string, string | object>,
  );
}

describe('tables', () => {
  it('has the six contract tables: on-demand, encrypted, point-in-time recovery, TTL on IdempotencyKeys', () => {
    const tables = dev.findResources('AWS::DynamoDB::Table');

    expect(Object.keys(tables)).toHaveLength(Object.keys(TABLES).length);
    for (const [tableId, spec] of Object.entries(TABLES)) {
      const keySchema = [
        { AttributeName: spec.partitionKey, KeyType: 'HASH' },
        ...('sortKey' in spec ? [{ AttributeName: spec.sortKey, KeyType: 'RANGE' }] : []),
      ];
      const [logicalId] = Object.keys(tables).filter(
        (id) => id.startsWith(tableId) && !id.startsWith(`${tableId}s`),
      );
      const props = tables[logicalId!]!.Properties;
      expect(props.KeySchema).toEqual(keySchema);
      expect(props.BillingMode).toBe('PAY_PER_REQUEST');
      expect(props.SSESpecification).toEqual({ SSEEnabled: true });
      expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(props.TimeToLiveSpecification).toEqual(
        'ttl' in spec ? { AttributeName: spec.ttl, Enabled: true } : undefined,
      );
    }
  });

  it('prod retains tables and DLQ (and protects tables from deletion); dev destroys them', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SQS::Queue']) {
      for (const r of Object.values(prod.findResources(type))) {
        expect(r.DeletionPolicy).toBe('Retain');
        expect(r.UpdateReplacePolicy).toBe('Retain');
      }
      for (const r of Object.values(dev.findResources(type))) expect(r.DeletionPolicy).toBe('Delete');
    }
    prod.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    dev.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });
});

describe('dead-letter queue', () => {
  it('is encrypted, keeps messages 14 days and refuses plain HTTP', () => {
    dev.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    dev.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has an alarm on any visible message', () => {
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });
});

describe('functions', () => {
  it('are Node.js 22 on arm64 with X-Ray, source maps, Powertools env and their own log group', () => {
    const fns = dev.findResources('AWS::Lambda::Function');

    expect(Object.keys(fns)).toHaveLength(Object.keys(FUNCTIONS).length);
    for (const fn of Object.values(fns)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/LogGroup/) } },
        Environment: {
          Variables: expect.objectContaining({
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_SERVICE_NAME: 'stepsaga',
            POWERTOOLS_METRICS_NAMESPACE: 'StepSaga',
          }),
        },
      });
    }
    // Plus the state machine's, and the API's access and execution logs.
    dev.resourceCountIs('AWS::Logs::LogGroup', Object.keys(FUNCTIONS).length + 3);
  });

  it('honour fault injection only when synthesized with faults=on', () => {
    for (const env of functionEnvironments(faults)) expect(env[ENV.faults]).toBe('on');
    for (const template of [dev, prod, express]) {
      for (const env of functionEnvironments(template)) expect(env[ENV.faults]).toBe('off');
    }
  });

  it('only Api and Redrive page on Lambda errors (as a rate); saga functions throw by design, throttling is retried', () => {
    const alarmsOn = (metric: string) =>
      Object.values(dev.findResources('AWS::CloudWatch::Alarm'))
        .flatMap((a) => (a.Properties.Metrics ?? [a.Properties]) as Record<string, unknown>[])
        .map((m) => JSON.stringify(m))
        .filter((m) => m.includes(`"MetricName":"${metric}"`) && m.includes('AWS/Lambda'));
    const functionRef = (id: string) =>
      Object.keys(dev.findResources('AWS::Lambda::Function')).find((logicalId) =>
        logicalId.startsWith(`${id}Function`),
      );

    expect(alarmsOn('Throttles')).toEqual([]);
    const errored = alarmsOn('Errors');
    for (const id of Object.keys(FUNCTIONS)) {
      const ref = functionRef(id)!;
      expect(
        errored.some((m) => m.includes(ref)),
        id,
      ).toBe(id === 'Api' || id === 'Redrive');
    }
  });
});

describe('state machine', () => {
  it('is Standard by default, with X-Ray and full logging in dev', () => {
    dev.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
  });

  it('logs only errors, without execution data, in prod', () => {
    prod.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ERROR', IncludeExecutionData: false }),
    });
  });

  it('synthesizes as an Express workflow with express=true: the same states without the review, a 5-minute deadline', () => {
    const definitionOf = (t: Template) =>
      stateMachineDefinition(t) as AslDefinition & { TimeoutSeconds?: number };
    const standard = definitionOf(dev);
    const expressDefinition = definitionOf(express);
    const review = [STATE_NAMES.needsReview, STATE_NAMES.requestReview, `${STATE_NAMES.requestReview}Failed`];

    // Express cannot wait for a task token: the review's three states are gone and ReserveStock goes
    // straight to ChargePayment, where NeedsReview's default (an order under the threshold) goes.
    express.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'EXPRESS' });
    for (const name of review) {
      expect(standard.States[name], name).toBeDefined();
      expect(expressDefinition.States[name], name).toBeUndefined();
    }
    const withoutReview = Object.fromEntries(
      Object.entries(standard.States)
        .filter(([name]) => !review.includes(name))
        .map(([name, state]) => [
          name,
          state.Next === STATE_NAMES.needsReview
            ? { ...state, Next: standard.States[STATE_NAMES.needsReview]?.Default }
            : state,
        ]),
    );
    expect(expressDefinition.States).toEqual(withoutReview);
    expect(expressDefinition.StartAt).toBe(standard.StartAt);
    // Only the execution deadline differs: Express runs at most 5 minutes; Standard waits for the review
    // and then has the whole Retry budget, twice over (test/infra/operations.test.ts).
    expect(expressDefinition.TimeoutSeconds).toBe(EXECUTION_TIMEOUT.express.toSeconds());
    expect(expressDefinition.TimeoutSeconds).toBe(300);
    expect(standard.TimeoutSeconds).toBe(executionTimeout(false).toSeconds());
    expect(standard.TimeoutSeconds).toBe(24 * 3600 + EXECUTION_TIMEOUT.standard.toSeconds());
  });

  it('every Task has a TimeoutSeconds, in every variant: the Task timeout, or the review deadline', () => {
    // The review waits 24 hours by default; a faults=on stack (the local cloud of `npm start`) 5 minutes;
    // Express has no review.
    const reviewDeadline: Record<string, number | undefined> = {
      dev: REVIEW_DEFAULTS.timeout.toSeconds(),
      prod: REVIEW_DEFAULTS.timeout.toSeconds(),
      faults: LOCAL_REVIEW_TIMEOUT_SECONDS,
      express: undefined,
    };
    for (const [variant, template] of Object.entries({ dev, prod, express, faults })) {
      const definition = stateMachineDefinition(template) as AslDefinition & { TimeoutSeconds?: number };
      const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');
      expect(tasks.length, variant).toBeGreaterThan(0);
      expect(definition.States[STATE_NAMES.requestReview] !== undefined, variant).toBe(
        reviewDeadline[variant] !== undefined,
      );
      for (const [name, task] of tasks) {
        const timeout = (task as { TimeoutSeconds?: number }).TimeoutSeconds;
        expect(timeout, `${variant} ${name}`).toBe(
          name === STATE_NAMES.requestReview ? reviewDeadline[variant] : TASK_TIMEOUT.toSeconds(),
        );
      }
      // The execution outlives the review's wait (an expired review still unwinds before the deadline).
      expect(definition.TimeoutSeconds, variant).toBe(
        executionTimeout(variant === 'express', Duration.seconds(reviewDeadline[variant] ?? 0)).toSeconds(),
      );
    }
  });

  it('the review deadline and threshold come from context (reviewTimeout in seconds, reviewThreshold)', () => {
    const custom = stateMachineDefinition(
      synthOrderSaga({ reviewTimeout: '3600', reviewThreshold: '5000' }).template,
    ) as AslDefinition & { TimeoutSeconds?: number };
    const review = custom.States[STATE_NAMES.requestReview] as { TimeoutSeconds?: number };
    const needsReview = custom.States[STATE_NAMES.needsReview] as { Choices?: Record<string, unknown>[] };

    expect(review.TimeoutSeconds).toBe(3600);
    expect(needsReview.Choices?.[0]).toMatchObject({ NumericGreaterThanEquals: 5000 });
    expect(custom.TimeoutSeconds).toBe(3600 + EXECUTION_TIMEOUT.standard.toSeconds());
    expect(() => createApp({ context: { reviewTimeout: '0', 'aws:cdk:bundling-stacks': [] } })).toThrow(
      /reviewTimeout/,
    );
  });

  it('alarms on executions past their deadline, not on failed ones (a cancelled order is an outcome)', () => {
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsTimedOut',
      Namespace: 'AWS/States',
    });
    expect(
      dev.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'ExecutionsFailed' } }),
    ).toEqual({});
    dev.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('API', () => {
  it('requires IAM (SigV4) authorization on every method and validates path parameters', () => {
    const methods = Object.values(dev.findResources('AWS::ApiGateway::Method'));

    expect(methods.map((m) => m.Properties.HttpMethod).sort()).toEqual([
      'GET',
      'GET',
      'POST',
      'POST',
      'POST',
      'POST',
    ]);
    for (const m of methods) {
      expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
      expect(m.Properties.RequestValidatorId).toBeDefined();
      expect(m.Properties.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
    }
    dev.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestParameters: true });
    dev.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      RequestParameters: { 'method.request.path.orderId': true },
    });
  });

  it.each(ORDER_ACTIONS)(
    'POST /orders/{orderId}/%s: IAM-authorized, orderId required, on the api function',
    (action) => {
      const resources = dev.findResources('AWS::ApiGateway::Resource');
      const [orderId] = Object.entries(resources).filter(([, r]) => r.Properties.PathPart === '{orderId}');
      const [resourceId] = Object.entries(resources)
        .filter(([, r]) => r.Properties.PathPart === action)
        .map(([id]) => id);
      const methods = Object.values(
        dev.findResources('AWS::ApiGateway::Method', { Properties: { ResourceId: { Ref: resourceId } } }),
      );

      expect(resources[resourceId!]?.Properties.ParentId).toEqual({ Ref: orderId![0] });
      expect(methods.map((m) => m.Properties.HttpMethod)).toEqual(['POST']);
      expect(methods[0]?.Properties).toMatchObject({
        AuthorizationType: 'AWS_IAM',
        RequestParameters: { 'method.request.path.orderId': true },
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
      });
      expect(JSON.stringify(methods[0]?.Properties.Integration.Uri)).toContain('ApiFunction');
    },
  );

  it('only the v1 stage may invoke the api function, one permission per route', () => {
    const permissions = Object.values(dev.findResources('AWS::Lambda::Permission'));
    const routes = permissions.map((p) => {
      const parts = (p.Properties.SourceArn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      return String(parts.at(-1));
    });

    expect(routes.sort()).toEqual(
      [
        '/GET/orders/*',
        '/GET/orders/*/history',
        '/POST/orders',
        ...ORDER_ACTIONS.map((action) => `/POST/orders/*/${action}`),
      ].sort(),
    );
    for (const p of permissions) {
      expect(p.Properties.Principal).toBe('apigateway.amazonaws.com');
      expect(p.Properties.Action).toBe('lambda:InvokeFunction');
      const sourceArn = JSON.stringify(p.Properties.SourceArn);
      expect(sourceArn).toMatch(/"\/(GET|POST)\/orders/);
      expect(sourceArn).toMatch(/\{"Ref":"OrdersApiDeploymentStagev1[0-9A-F]+"\}/);
      expect(sourceArn).not.toContain('test-invoke-stage');
    }
  });

  it('has the /orders, /orders/{orderId}, /orders/{orderId}/history and the order action resources', () => {
    const paths = Object.values(dev.findResources('AWS::ApiGateway::Resource')).map(
      (r) => r.Properties.PathPart,
    );

    expect(paths.sort()).toEqual(['history', 'orders', '{orderId}', ...ORDER_ACTIONS].sort());
  });

  it('stage v1 is throttled (50/100 by default, from context otherwise), access-logged and traced', () => {
    dev.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })],
    });
    cors.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 7, ThrottlingBurstLimit: 100 })],
    });
  });

  it('answers CORS preflight only when a corsOrigin is configured', () => {
    const options = (t: Template) =>
      Object.values(t.findResources('AWS::ApiGateway::Method')).filter(
        (m) => m.Properties.HttpMethod === 'OPTIONS',
      );

    expect(options(dev)).toHaveLength(0);
    expect(options(cors).length).toBeGreaterThan(0);
    expect(JSON.stringify(options(cors))).toContain('https://console.example.com');
  });
});

describe('outputs and context', () => {
  it('has exactly the contract outputs', () => {
    expect(Object.keys(dev.findOutputs('*')).sort()).toEqual([...OUTPUTS].sort());
  });

  it.each([
    [{ stage: 'qa' }, /context stage must be 'dev' or 'prod', got 'qa'/],
    [{ faults: 'yes' }, /context faults must be 'on' or 'off', got 'yes'/],
    [{ throttlingRateLimit: '-1' }, /context throttlingRateLimit must be a positive integer, got '-1'/],
    [{ stage: 'prod', faults: 'on' }, /faults=on is for dev stages only/],
  ])('rejects bad context %o with an error naming it', (context, message) => {
    expect(() => createApp({ context: { ...context, 'aws:cdk:bundling-stacks': [] } })).toThrow(message);
  });
});
