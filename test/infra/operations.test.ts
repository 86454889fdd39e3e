/**
 * What a real account needs: stages that coexist and come back (physical names), alarms that page only
 * when a person must act (and that watch metrics which exist), an execution deadline, and the API
 * Gateway account setting left alone unless asked.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { STACK_NAME_PREFIX, STATE_NAMES } from '../../lib/contract';
import { EXECUTION_TIMEOUT, executionTimeout, REVIEW_DEFAULTS } from '../../lib/order-saga-stack';
import { PROJECT_ROOT } from '../../toolkit/construct/saga-function';
import { invokedLogicalId, stateMachineDefinition, synthOrderSaga } from '../support/template';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Resources = Record<string, { Type: string; Properties?: Record<string, Json> }>;

/** Context flags the docs name (README, docs/operations.md), each of which may replace resources. */
const VARIANTS: Record<string, Record<string, string>> = {
  dev: {},
  prod: { stage: 'prod' },
  express: { express: 'true' },
  'prod express': { stage: 'prod', express: 'true' },
  faults: { faults: 'on' },
  cors: { corsOrigin: 'https://console.example.com' },
  'API Gateway role': { apiGatewayCloudWatchRole: 'true' },
  'alarm topic': { alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:pager' },
};

/**
 * Name properties that are physical ids (a second resource with the same value cannot exist). Not here: an
 * inline `AWS::IAM::Policy` name (scoped to its role) and a REST API's `Name` (not unique in AWS).
 */
const NAME_PROPERTIES: Record<string, string> = {
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::SNS::Topic': 'TopicName',
};

const templates: Record<string, Template> = {};
beforeAll(() => {
  for (const [name, context] of Object.entries(VARIANTS)) templates[name] = synthOrderSaga(context).template;
});

function resources(template: Template): Resources {
  return template.toJSON().Resources as Resources;
}

/**
 * Renders a name as CloudFormation would for a stack `stack` in `region`, created as `stackUuid`
 * (`Ref` of a resource: a value unique to that resource of that stack).
 */
function render(value: Json, stack: string, region: string, stackUuid: string): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) || value === null || typeof value !== 'object') return JSON.stringify(value);
  const [fn, args] = Object.entries(value)[0] as [string, Json];
  const r = (v: Json) => render(v, stack, region, stackUuid);
  switch (fn) {
    case 'Ref': {
      const pseudo: Record<string, string> = {
        'AWS::StackName': stack,
        'AWS::Region': region,
        'AWS::StackId': `arn:aws:cloudformation:${region}:123456789012:stack/${stack}/${stackUuid}`,
      };
      return pseudo[args as string] ?? `${stack}-${String(args)}-${stackUuid}`;
    }
    case 'Fn::Join': {
      const [sep, parts] = args as [string, Json[]];
      return parts.map(r).join(sep);
    }
    case 'Fn::Split': {
      const [sep, source] = args as [string, Json];
      return JSON.stringify(r(source).split(sep));
    }
    case 'Fn::Select': {
      const [index, list] = args as [number, Json];
      const items: Json = Array.isArray(list) ? list : (JSON.parse(r(list)) as Json);
      return r((items as Json[])[index] as Json);
    }
    default:
      throw new Error(`render: unsupported ${fn}`);
  }
}

/** The physical names a template fixes, rendered for one stack creation in one region. */
function physicalNames(template: Template, stack: string, region: string, stackUuid: string): string[] {
  return Object.values(resources(template)).flatMap((resource) => {
    const property = NAME_PROPERTIES[resource.Type];
    const value = property ? resource.Properties?.[property] : undefined;
    return value === undefined ? [] : [`${resource.Type} ${render(value, stack, region, stackUuid)}`];
  });
}

describe('physical names: stages coexist, update and come back', () => {
  it('each stage is its own stack, OrderSaga-<stage>', () => {
    expect(synthOrderSaga().stack.stackName).toBe(`${STACK_NAME_PREFIX}-dev`);
    expect(synthOrderSaga({ stage: 'prod' }).stack.stackName).toBe(`${STACK_NAME_PREFIX}-prod`);
  });

  it('no fixed physical name on any resource, in any documented variant (express=true replaces the state machine)', () => {
    for (const [variant, template] of Object.entries(templates)) {
      for (const [logicalId, resource] of Object.entries(resources(template))) {
        const property = NAME_PROPERTIES[resource.Type];
        const value = property ? resource.Properties?.[property] : undefined;
        // A name is allowed only when it is computed per stack creation (the stack id, or another
        // resource's generated id) and per region: a literal would block replacement and re-creation.
        if (value === undefined) continue;
        const where = `${variant}: ${logicalId}`;
        const a = render(value, 'S', 'eu-west-1', 'uuid-1');
        // Two stacks (stages) side by side in one region.
        expect(render(value, 'T', 'eu-west-1', 'uuid-9'), `${where} is per stack`).not.toBe(a);
        // Retained past `cdk destroy`: the next create must not collide with it.
        if ((resource as { DeletionPolicy?: string }).DeletionPolicy === 'Retain') {
          expect(render(value, 'S', 'eu-west-1', 'uuid-2'), `${where} survives a re-create`).not.toBe(a);
        }
        // Dashboards are account-wide: the region must be in the name.
        if (resource.Type === 'AWS::CloudWatch::Dashboard') {
          expect(render(value, 'S', 'us-east-1', 'uuid-1'), `${where} is per region`).not.toBe(a);
        }
      }
    }
  });

  it('two stages, a second region, a re-created prod next to its retained data: every physical name differs', () => {
    const names = [
      physicalNames(templates.dev!, 'OrderSaga-dev', 'eu-west-1', 'dev-1'),
      physicalNames(templates.prod!, 'OrderSaga-prod', 'eu-west-1', 'prod-1'),
      physicalNames(templates.dev!, 'OrderSaga-dev', 'us-east-1', 'dev-2'),
    ];
    // prod's retained resources again, after a destroy and re-create.
    const retained = Object.values(resources(templates.prod!)).filter(
      (r) => (r as { DeletionPolicy?: string }).DeletionPolicy === 'Retain',
    );
    const recreated = physicalNames(templates.prod!, 'OrderSaga-prod', 'eu-west-1', 'prod-2').filter((n) =>
      retained.some((r) => n.startsWith(`${r.Type} `)),
    );
    names.push(recreated.filter((n) => !n.startsWith('AWS::CloudWatch::Dashboard')));
    const all = names.flat();
    expect(names[0]!.length).toBeGreaterThan(0);
    expect(new Set(all).size).toBe(all.length);
  });

  it('the state machine has no StateMachineName, so express=true (a replacement) can be deployed on top', () => {
    for (const variant of ['dev', 'express', 'prod express']) {
      for (const sm of Object.values(templates[variant]!.findResources('AWS::StepFunctions::StateMachine')))
        expect(sm.Properties.StateMachineName).toBeUndefined();
    }
  });
});

describe('API Gateway account settings', () => {
  it('are left alone by default; apiGatewayCloudWatchRole=true creates the role (retained) and sets it', () => {
    templates.dev!.resourceCountIs('AWS::ApiGateway::Account', 0);
    const withRole = templates['API Gateway role']!;
    withRole.resourceCountIs('AWS::ApiGateway::Account', 1);
    const roles = withRole.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [{ Principal: { Service: 'apigateway.amazonaws.com' } }],
        },
      },
    });
    expect(Object.values(roles).map((r) => r.DeletionPolicy)).toEqual(['Retain']);
  });

  it('execution logs go to a log group of the stack, with a retention', () => {
    const groups = Object.values(templates.dev!.findResources('AWS::Logs::LogGroup'));
    const execution = groups.find((g) =>
      JSON.stringify(g.Properties.LogGroupName ?? '').includes('API-Gateway-Execution-Logs_'),
    );
    expect(execution?.Properties.RetentionInDays).toBe(90);
    for (const group of groups)
      expect(group.Properties.RetentionInDays, JSON.stringify(group)).toBeGreaterThan(0);
  });
});

/** Worst case of one Task: every attempt runs to its timeout, every retry waits its longest interval. */
function taskBudgetSeconds(
  state: ReturnType<typeof stateMachineDefinition>['States'][string],
  timeoutOf: (logicalId: string) => number | undefined,
): number {
  // An attempt ends at the Task's TimeoutSeconds at the latest (a lost invocation, or a DLQ send that
  // hangs); without one, a Lambda Task runs at most its function's timeout and the SDK integration (SQS
  // SendMessage to the DLQ) answers in milliseconds: count a generous 10 s per attempt.
  const timeoutSeconds = (state as { TimeoutSeconds?: number }).TimeoutSeconds;
  const attemptSeconds = timeoutSeconds ?? timeoutOf(invokedLogicalId(state) ?? '') ?? 10;
  let attempts = 1;
  let waits = 0;
  for (const retry of state.Retry ?? []) {
    const max = retry.MaxAttempts ?? 3;
    // A throttled invoke is refused before the function runs (Lambda answers 429 at once): its
    // attempts cost no function time, only the waits between them.
    const throttleOnly = retry.ErrorEquals.every((error) => error === 'Lambda.TooManyRequestsException');
    if (!throttleOnly) attempts += max;
    for (let i = 0; i < max; i++) {
      const wait = (retry.IntervalSeconds ?? 1) * (retry.BackoffRate ?? 2) ** i;
      waits += Math.min(wait, retry.MaxDelaySeconds ?? Number.POSITIVE_INFINITY);
    }
  }
  return attempts * attemptSeconds + waits;
}

describe('execution deadline', () => {
  it('is at least twice the worst case of the whole Retry budget (Standard), the 5-minute maximum on Express', () => {
    const template = templates.dev!;
    const functions = resources(template);
    const timeoutOf = (logicalId: string) =>
      functions[logicalId]?.Type === 'AWS::Lambda::Function'
        ? Number(functions[logicalId]?.Properties?.Timeout ?? 3)
        : undefined;
    const definition = stateMachineDefinition(template);
    // The review waits for a person (its own TimeoutSeconds, added to the deadline); the rest is the budget.
    const budget = Object.entries(definition.States)
      .filter(([name, s]) => s.Type === 'Task' && name !== STATE_NAMES.requestReview)
      .reduce((sum, [, s]) => sum + taskBudgetSeconds(s, timeoutOf), 0);
    const review = definition.States[STATE_NAMES.requestReview] as unknown as { TimeoutSeconds: number };

    const standard = EXECUTION_TIMEOUT.standard.toSeconds();
    expect(budget).toBeGreaterThan(60);
    expect(standard).toBeGreaterThanOrEqual(2 * budget);
    expect(review.TimeoutSeconds).toBe(REVIEW_DEFAULTS.timeout.toSeconds());
    expect((definition as unknown as { TimeoutSeconds: number }).TimeoutSeconds).toBe(
      executionTimeout(false).toSeconds(),
    );
    expect(executionTimeout(false).toSeconds()).toBe(review.TimeoutSeconds + standard);
    const express = stateMachineDefinition(templates.express!) as unknown as { TimeoutSeconds: number };
    expect(express.TimeoutSeconds).toBe(300);
  });

  it('outlives an expired review by more than the whole Retry budget, whatever the review deadline', () => {
    for (const reviewTimeout of ['20', '3600', String(REVIEW_DEFAULTS.timeout.toSeconds()), '604800']) {
      const template = synthOrderSaga({ reviewTimeout }).template;
      const definition = stateMachineDefinition(template);
      const functions = resources(template);
      const budget = Object.entries(definition.States)
        .filter(([name, s]) => s.Type === 'Task' && name !== STATE_NAMES.requestReview)
        .reduce(
          (sum, [, s]) => sum + taskBudgetSeconds(s, (id) => Number(functions[id]?.Properties?.Timeout ?? 3)),
          0,
        );
      const review = definition.States[STATE_NAMES.requestReview] as unknown as { TimeoutSeconds: number };
      const deadline = (definition as unknown as { TimeoutSeconds: number }).TimeoutSeconds;

      expect(review.TimeoutSeconds, reviewTimeout).toBe(Number(reviewTimeout));
      expect(deadline, reviewTimeout).toBeGreaterThanOrEqual(review.TimeoutSeconds + 2 * budget);
    }
  });
});

describe('ExecutionsAbortedAlarm', () => {
  it("pages on executions stopped and not redriven (aborted - redriven, each missing point filled with 0), so a cancel's stop + redrive does not", () => {
    const [alarm] = Object.entries(templates.dev!.findResources('AWS::CloudWatch::Alarm')).filter(([id]) =>
      id.startsWith('ExecutionsAbortedAlarm'),
    );
    const metrics = (alarm?.[1].Properties.Metrics ?? []) as {
      Id: string;
      Expression?: string;
      ReturnData?: boolean;
      MetricStat?: { Metric: { MetricName: string; Namespace: string } };
    }[];
    const byId = Object.fromEntries(metrics.map((m) => [m.Id, m]));
    const returned = metrics.filter((m) => m.ReturnData !== false);

    expect(alarm?.[1].Properties).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(returned).toHaveLength(1);
    // An abort in a period with no redrive: ExecutionsRedriven has no data point there, and without FILL
    // the difference would have none either (missing, not breaching): the alarm would never fire.
    expect(returned[0]?.Expression).toBe('FILL(aborted, 0) - FILL(redriven, 0)');
    expect(byId.aborted?.MetricStat?.Metric).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsAborted',
    });
    expect(byId.redriven?.MetricStat?.Metric).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsRedriven',
    });
  });
});

/** Metrics AWS publishes, with their dimensions (AWS docs of each service's CloudWatch metrics). */
const AWS_METRICS: Record<string, Record<string, string[][]>> = {
  'AWS/SQS': { ApproximateNumberOfMessagesVisible: [['QueueName']] },
  'AWS/States': {
    ExecutionsTimedOut: [['StateMachineArn']],
    ExecutionsAborted: [['StateMachineArn']],
    ExecutionsRedriven: [['StateMachineArn']],
  },
  'AWS/ApiGateway': { '5XXError': [['ApiName'], ['ApiName', 'Stage']] },
  'AWS/Lambda': { Errors: [['FunctionName']], Invocations: [['FunctionName']] },
};

interface AlarmMetric {
  namespace: string;
  metricName: string;
  dimensions: string[];
  values: Record<string, Json>;
}

function alarmMetrics(properties: Record<string, Json>): AlarmMetric[] {
  const stats = properties.Metrics
    ? (properties.Metrics as { MetricStat?: { Metric: Record<string, Json> } }[]).flatMap((m) =>
        m.MetricStat ? [m.MetricStat.Metric] : [],
      )
    : [properties];
  return stats.map((m) => {
    const dims = (m.Dimensions ?? []) as { Name: string; Value: Json }[];
    return {
      namespace: String(m.Namespace),
      metricName: String(m.MetricName),
      dimensions: dims.map((d) => d.Name).sort(),
      values: Object.fromEntries(dims.map((d) => [d.Name, d.Value])),
    };
  });
}

/** The EMF lines the functions' own Powertools code writes for every business metric. */
async function emittedMetrics(env: Record<string, string>): Promise<AlarmMetric[]> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  for (const [key, value] of Object.entries(env)) process.env[key] = value;
  const observability = await import('../../lambdas/shared/metrics').finally(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    for (const name of Object.values(observability.OrderMetric)) observability.countOrder(name);
  } finally {
    process.stdout.write = write;
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('_aws'))
    .flatMap((l) => {
      const emf = JSON.parse(l) as {
        _aws: {
          CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
        };
        [key: string]: unknown;
      };
      return emf._aws.CloudWatchMetrics.flatMap((d) =>
        d.Metrics.map((m) => ({
          namespace: d.Namespace,
          metricName: m.Name,
          dimensions: [...(d.Dimensions[0] ?? [])].sort(),
          values: Object.fromEntries((d.Dimensions[0] ?? []).map((k) => [k, emf[k] as Json])),
        })),
      );
    });
}

describe('alarms', () => {
  let emitted: AlarmMetric[];
  const runbook = readFileSync(path.join(PROJECT_ROOT, 'docs/operations.md'), 'utf8');

  beforeAll(async () => {
    const fn = Object.values(templates.dev!.findResources('AWS::Lambda::Function'))[0]!;
    const env = fn.Properties.Environment.Variables as Record<string, string>;
    emitted = await emittedMetrics({
      POWERTOOLS_SERVICE_NAME: env.POWERTOOLS_SERVICE_NAME!,
      POWERTOOLS_METRICS_NAMESPACE: env.POWERTOOLS_METRICS_NAMESPACE!,
      POWERTOOLS_DEV: 'false',
      // The lambdas project's global setup turns metrics off for its whole process; emit them here.
      POWERTOOLS_METRICS_DISABLED: 'false',
    });
  });

  it('watch metrics that exist: what AWS publishes, or what the functions emit (namespace, name, dimensions)', () => {
    expect(emitted.map((m) => m.metricName)).toContain('OrdersFailedByError');
    for (const template of Object.values(templates)) {
      for (const [id, alarm] of Object.entries(template.findResources('AWS::CloudWatch::Alarm'))) {
        for (const metric of alarmMetrics(alarm.Properties)) {
          const published = AWS_METRICS[metric.namespace]?.[metric.metricName];
          if (published) {
            expect(
              published.map((d) => JSON.stringify([...d].sort())),
              `${id} ${metric.namespace} ${metric.metricName} ${metric.dimensions.join()}`,
            ).toContain(JSON.stringify(metric.dimensions));
            continue;
          }
          expect(
            emitted.some(
              (e) =>
                e.namespace === metric.namespace &&
                e.metricName === metric.metricName &&
                JSON.stringify(e.dimensions) === JSON.stringify(metric.dimensions) &&
                JSON.stringify(e.values) === JSON.stringify(metric.values),
            ),
            `${id}: ${JSON.stringify(metric)} is neither published by AWS nor emitted (${JSON.stringify(emitted)})`,
          ).toBe(true);
        }
      }
    }
  });

  it('each has a runbook entry in docs/operations.md, and its description points there', () => {
    const alarms = templates.dev!.findResources('AWS::CloudWatch::Alarm');
    expect(Object.keys(alarms).length).toBeGreaterThan(0);
    for (const [logicalId, alarm] of Object.entries(alarms)) {
      const id = logicalId.replace(/[0-9A-F]{8}$/, '');
      expect(runbook, id).toContain(`### ${id}`);
      expect(String(alarm.Properties.AlarmDescription)).toContain(`docs/operations.md#${id.toLowerCase()}`);
    }
  });

  it('none pages on a designed outcome: no Errors alarm on the saga functions (RejectOrder, compensations), no ExecutionsFailed', () => {
    const watched = Object.values(templates.dev!.findResources('AWS::CloudWatch::Alarm')).flatMap((a) =>
      alarmMetrics(a.Properties),
    );
    expect(watched.map((m) => m.metricName)).not.toContain('ExecutionsFailed');
    expect(watched.map((m) => m.metricName)).not.toContain('Throttles');
    const functionIds = watched
      .filter((m) => m.namespace === 'AWS/Lambda')
      .map((m) => JSON.stringify(m.values.FunctionName));
    expect(
      functionIds.every((f) => /ApiFunction|RedriveFunction/.test(f)),
      functionIds.join(),
    ).toBe(true);
  });

  it('the dashboard shows the Powertools business metrics as emitted', () => {
    const [dashboard] = Object.values(templates.dev!.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard!.Properties.DashboardBody);
    for (const metric of emitted) {
      expect(body).toContain(
        `[\\"${metric.namespace}\\",\\"${metric.metricName}\\",\\"service\\",\\"${String(metric.values.service)}\\"`,
      );
    }
  });
});
