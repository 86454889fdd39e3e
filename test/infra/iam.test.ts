import { Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  COMPENSATION_OF,
  FUNCTIONS,
  type FunctionId,
  STEP_NAMES,
  TABLES,
  type TableId,
} from '../../lib/contract';
import type { OrderSagaStack } from '../../lib/order-saga-stack';
import { synthOrderSaga } from '../support/template';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** AWS requires "*" for these (no resource-level permissions); any other action on "*" is a bug. */
const STAR_ONLY_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  // The review decision (POST /orders/{id}/review): SendTaskSuccess/SendTaskFailure authorise no resource
  // type; the task token is the capability (lib/nag-acknowledgements.ts says why, the tests below who).
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
]);

/** What the Api may do in Step Functions on `*`: complete the review Task (nothing else, no one else). */
const REVIEW_DECISION_ACTIONS = ['states:SendTaskFailure', 'states:SendTaskSuccess'];

/**
 * The DynamoDB calls each handler makes, per table, written out here independently of the contract
 * (lib/contract.ts FUNCTIONS) so that widening a grant there fails this test. `TransactWriteItems` is
 * authorised per item (Put/Update/ConditionCheck on that item's table). The step engine reads its key
 * record (GetItem) and Puts it in the step's transaction; a compensation also tombstones (PutItem) or
 * marks it COMPENSATED (UpdateItem); a forward step checks its order is not cancelled (ConditionCheckItem
 * on Orders).
 */
const TABLE_CALLS: Record<FunctionId, Partial<Record<TableId, string[]>>> = {
  ReservePromo: {
    Orders: ['ConditionCheckItem'],
    Promos: ['GetItem', 'UpdateItem'],
    IdempotencyKeys: ['GetItem', 'PutItem'],
  },
  ReleasePromo: { Promos: ['UpdateItem'], IdempotencyKeys: ['GetItem', 'PutItem', 'UpdateItem'] },
  ReserveStock: {
    Orders: ['ConditionCheckItem'],
    Inventory: ['BatchGetItem', 'UpdateItem'],
    IdempotencyKeys: ['GetItem', 'PutItem'],
  },
  ReleaseStock: { Inventory: ['UpdateItem'], IdempotencyKeys: ['GetItem', 'PutItem', 'UpdateItem'] },
  ChargePayment: {
    Orders: ['ConditionCheckItem'],
    Accounts: ['UpdateItem'],
    IdempotencyKeys: ['GetItem', 'PutItem'],
  },
  RefundPayment: { Accounts: ['UpdateItem'], IdempotencyKeys: ['GetItem', 'PutItem', 'UpdateItem'] },
  BookDelivery: {
    Orders: ['ConditionCheckItem'],
    DeliverySlots: ['UpdateItem'],
    IdempotencyKeys: ['GetItem', 'PutItem'],
  },
  CancelDelivery: { DeliverySlots: ['UpdateItem'], IdempotencyKeys: ['GetItem', 'PutItem', 'UpdateItem'] },
  ConfirmOrder: { Orders: ['UpdateItem'], IdempotencyKeys: ['GetItem', 'PutItem'] },
  RejectOrder: { IdempotencyKeys: ['GetItem', 'PutItem'] },
  RequestReview: { Orders: ['UpdateItem'] },
  RecordFailure: { Orders: ['GetItem', 'UpdateItem'] },
  Api: { Orders: ['GetItem', 'PutItem', 'UpdateItem'], IdempotencyKeys: ['Query'] },
  Redrive: { Orders: ['GetItem', 'UpdateItem'] },
};

let stack: OrderSagaStack;
let template: Template;
/** The Express variant: no review, no stop/redrive (Express executions can be neither). */
let express: { stack: OrderSagaStack; template: Template };

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const ref = (token: string): unknown => stack.resolve(token);

/** Every statement of every policy attached to the role with this logical id. */
function statementsOfRole(roleLogicalId: string, from: Template = template): Statement[] {
  const policies = Object.values(from.findResources('AWS::IAM::Policy')).filter((p) =>
    list(p.Properties.Roles as unknown[]).some(
      (r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }),
    ),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function roleLogicalIdOf(functionId: FunctionId, of: OrderSagaStack = stack): string {
  return (of.resolve(of.functions[functionId].executionRole.roleArn) as { 'Fn::GetAtt': [string] })[
    'Fn::GetAtt'
  ][0];
}

function statementsOf(
  functionId: FunctionId,
  variant?: { stack: OrderSagaStack; template: Template },
): Statement[] {
  return variant
    ? statementsOfRole(roleLogicalIdOf(functionId, variant.stack), variant.template)
    : statementsOfRole(roleLogicalIdOf(functionId));
}

/** Map of action → resources (as JSON) granted by these statements. */
function grants(statements: Statement[], prefix: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const s of statements) {
    expect(s.Effect).toBe('Allow');
    for (const action of list(s.Action).filter((a) => a.startsWith(prefix))) {
      const set = out.get(action) ?? new Set<string>();
      for (const r of list(s.Resource)) set.add(JSON.stringify(r));
      out.set(action, set);
    }
  }
  return out;
}

beforeAll(() => {
  const built = synthOrderSaga();
  stack = built.stack;
  template = built.template;
  const builtExpress = synthOrderSaga({ express: 'true' });
  express = { stack: builtExpress.stack, template: builtExpress.template };
});

describe('function roles', () => {
  it.each(Object.keys(FUNCTIONS) as FunctionId[])(
    '%s reaches only the tables it uses, with only the calls its handler makes there',
    (functionId) => {
      // Prepare: what the handler calls
      const expected = new Map<string, Set<string>>();
      for (const [tableId, actions] of Object.entries(TABLE_CALLS[functionId]) as [TableId, string[]][]) {
        const arn = JSON.stringify(ref(stack.tables[tableId].tableArn));
        for (const action of actions) {
          expected.set(`dynamodb:${action}`, (expected.get(`dynamodb:${action}`) ?? new Set()).add(arn));
        }
      }

      // Act
      const actual = grants(statementsOf(functionId), 'dynamodb:');

      // Assess
      expect(actual).toEqual(expected);
      for (const action of actual.keys())
        expect(action).not.toMatch(/\*|Scan|Describe|DeleteItem|DeleteTable|BatchWriteItem/);
    },
  );

  it.each(Object.keys(FUNCTIONS) as FunctionId[])(
    '%s gets the physical names of exactly its tables, under the contract env var names',
    (functionId) => {
      const fn = template.findResources('AWS::Lambda::Function');
      const logicalId = (ref(stack.functions[functionId].functionArn) as { 'Fn::GetAtt': [string] })[
        'Fn::GetAtt'
      ][0];
      const env = fn[logicalId]!.Properties.Environment.Variables as Record<string, unknown>;
      const tableVars = Object.keys(env).filter((k) => Object.values(TABLES).some((t) => t.env === k));

      expect(tableVars.sort()).toEqual(
        Object.keys(FUNCTIONS[functionId].tables)
          .map((t) => TABLES[t as TableId].env)
          .sort(),
      );
      for (const tableId of Object.keys(FUNCTIONS[functionId].tables) as TableId[]) {
        expect(env[TABLES[tableId].env]).toEqual(ref(stack.tables[tableId].tableName));
      }
    },
  );

  it.each(Object.keys(FUNCTIONS) as FunctionId[])(
    '%s has no managed policy, logs only to its own log group, and uses "*" only for X-Ray (Api: and the review decision)',
    (functionId) => {
      const role = template.findResources('AWS::IAM::Role')[roleLogicalIdOf(functionId)];
      const statements = statementsOf(functionId);
      const logGrants = grants(statements, 'logs:');

      expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
      expect([...logGrants.keys()].sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      for (const resources of logGrants.values()) {
        expect([...resources]).toEqual([
          JSON.stringify(ref(stack.functions[functionId].logGroup.logGroupArn)),
        ]);
      }
      const onStar = statements
        .filter((s) => list(s.Resource).includes('*'))
        .flatMap((s) => list(s.Action))
        .filter((action) => !action.startsWith('xray:'));
      expect(onStar.sort()).toEqual(functionId === 'Api' ? REVIEW_DECISION_ACTIONS : []);
      // The nag acknowledgement of the role's "*" says why, and names the review actions only where granted.
      const reason = stack.functions[functionId].executionRole.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>))
        .filter(([rule]) => rule.endsWith('AwsSolutions-IAM5[Resource::*]'))
        .map(([, text]) => text)
        .find((r) => r !== undefined);
      expect(reason).toMatch(/X-Ray/);
      if (functionId === 'Api') {
        expect(reason).toMatch(/SendTaskSuccess\/SendTaskFailure/);
        expect(reason).toMatch(/task token itself is the capability/);
      } else {
        expect(reason).not.toMatch(/SendTask/);
      }
    },
  );

  it('Api starts executions of this state machine, reads, stops and redrives its executions, and completes review tasks; nothing else in Step Functions', () => {
    const states = grants(statementsOf('Api'), 'states:');
    const machine = JSON.stringify(ref(stack.saga.stateMachine.stateMachineArn));
    const name = ref(stack.saga.stateMachine.stateMachineName);
    const executions = typeof name === 'string' ? `:execution:${name}:*` : JSON.stringify(name);

    expect([...(states.get('states:StartExecution') ?? [])]).toEqual([machine]);
    for (const action of [
      'states:DescribeExecution',
      'states:GetExecutionHistory',
      // cancel: stop + redrive a saga in a Retry backoff; resume: redrive one that ended without outcome
      'states:StopExecution',
      'states:RedriveExecution',
    ]) {
      const [resource, ...others] = [...(states.get(action) ?? [])];
      expect(others, action).toEqual([]);
      expect(resource, action).toContain(executions);
      expect(resource, action).toContain(':execution:');
    }
    // The review decision: the task token is the capability, so the resource is "*" (see STAR_ONLY_ACTIONS).
    for (const action of REVIEW_DECISION_ACTIONS) {
      expect([...(states.get(action) ?? [])], action).toEqual([JSON.stringify('*')]);
    }
    expect([...states.keys()].sort()).toEqual(
      [
        'states:DescribeExecution',
        'states:GetExecutionHistory',
        'states:RedriveExecution',
        'states:StartExecution',
        'states:StopExecution',
        ...REVIEW_DECISION_ACTIONS,
      ].sort(),
    );
  });

  it('Api on Express: no stop, no redrive, no review decision (Express has neither redrive nor a review step)', () => {
    const states = grants(statementsOf('Api', express), 'states:');

    expect([...states.keys()].sort()).toEqual([
      'states:DescribeExecution',
      'states:GetExecutionHistory',
      'states:StartExecution',
    ]);
    const onStar = statementsOf('Api', express)
      .filter((s) => list(s.Resource).includes('*'))
      .flatMap((s) => list(s.Action));
    for (const action of onStar) expect(action).toMatch(/^xray:/);
  });

  it('Api invokes only the Redrive function (resume of a NEEDS_ATTENTION order)', () => {
    for (const variant of [undefined, express]) {
      const lambdaGrants = grants(statementsOf('Api', variant), 'lambda:');
      const of = variant?.stack ?? stack;

      expect([...lambdaGrants.keys()]).toEqual(['lambda:InvokeFunction']);
      expect([...(lambdaGrants.get('lambda:InvokeFunction') ?? [])]).toEqual([
        JSON.stringify(of.resolve(of.functions.Redrive.functionArn)),
      ]);
    }
  });

  it('Redrive consumes only the DLQ and invokes only the compensation functions and RecordFailure', () => {
    const statements = statementsOf('Redrive');
    const sqsGrants = grants(statements, 'sqs:');
    const lambdaGrants = grants(statements, 'lambda:');
    const dlq = JSON.stringify(ref(stack.deadLetterQueue.queueArn));
    const compensations = [...STEP_NAMES.map((s) => COMPENSATION_OF[s]), 'RecordFailure' as const].map((f) =>
      JSON.stringify(ref(stack.functions[f].functionArn)),
    );

    expect([...sqsGrants.keys()].sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    for (const resources of sqsGrants.values()) expect([...resources]).toEqual([dlq]);
    expect([...lambdaGrants.keys()]).toEqual(['lambda:InvokeFunction']);
    expect([...(lambdaGrants.get('lambda:InvokeFunction') ?? [])].sort()).toEqual(compensations.sort());
  });

  it('no other function may invoke functions, call Step Functions or touch the DLQ', () => {
    for (const functionId of Object.keys(FUNCTIONS) as FunctionId[]) {
      const statements = statementsOf(functionId);
      // Redrive invokes the compensations and RecordFailure; Api invokes Redrive (both tested above).
      if (functionId !== 'Redrive' && functionId !== 'Api') {
        expect(grants(statements, 'lambda:').size, functionId).toBe(0);
      }
      if (functionId !== 'Redrive') expect(grants(statements, 'sqs:').size, functionId).toBe(0);
      // RequestReview hands out the task token but never completes it: only the Api decides.
      if (functionId !== 'Api') expect(grants(statements, 'states:').size, functionId).toBe(0);
    }
  });
});

/** The grants the state machine role holds for the functions its Tasks invoke (ARN and any version). */
function invokeGrants(of: OrderSagaStack, invoked: FunctionId[]): Set<string> {
  return new Set(
    invoked.flatMap((f) => {
      const arn = of.resolve(of.functions[f].functionArn);
      return [JSON.stringify(arn), JSON.stringify({ 'Fn::Join': ['', [arn, ':*']] })];
    }),
  );
}

describe('state machine role', () => {
  /** Every function a Task of the saga invokes: steps, compensations, RecordFailure (and the review). */
  const SAGA_FUNCTIONS = [
    ...STEP_NAMES,
    ...STEP_NAMES.map((s) => COMPENSATION_OF[s]),
    'RecordFailure',
  ] as FunctionId[];

  it('invokes only the saga functions and RequestReview, and sends only to the DLQ', () => {
    const roleId = (ref(stack.saga.stateMachine.role.roleArn) as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const statements = statementsOfRole(roleId);

    const lambdaGrants = grants(statements, 'lambda:');
    expect([...lambdaGrants.keys()]).toEqual(['lambda:InvokeFunction']);
    expect(lambdaGrants.get('lambda:InvokeFunction')).toEqual(
      invokeGrants(stack, [...SAGA_FUNCTIONS, 'RequestReview']),
    );
    const sqsGrants = grants(statements, 'sqs:');
    expect([...sqsGrants.keys()]).toEqual(['sqs:SendMessage']);
    expect([...(sqsGrants.get('sqs:SendMessage') ?? [])]).toEqual([
      JSON.stringify(ref(stack.deadLetterQueue.queueArn)),
    ]);
    for (const s of statements) {
      for (const action of list(s.Action))
        expect(action).toMatch(/^(lambda:InvokeFunction|sqs:SendMessage|xray:|logs:)/);
    }
  });

  it('on Express (no review step) does not invoke RequestReview', () => {
    const of = express.stack;
    const roleId = (of.resolve(of.saga.stateMachine.role.roleArn) as { 'Fn::GetAtt': [string] })[
      'Fn::GetAtt'
    ][0];
    const lambdaGrants = grants(statementsOfRole(roleId, express.template), 'lambda:');

    expect(lambdaGrants.get('lambda:InvokeFunction')).toEqual(invokeGrants(of, SAGA_FUNCTIONS));
  });
});

describe('wildcards', () => {
  it.each(['dev', 'express'])(
    '%s: no policy grants an action on "*" unless AWS requires "*" for it',
    (variant) => {
      const from = variant === 'express' ? express.template : template;
      const statements = Object.values(from.findResources('AWS::IAM::Policy')).flatMap(
        (p) => p.Properties.PolicyDocument.Statement as Statement[],
      );
      const onStar = statements.filter((s) => list(s.Resource).includes('*'));

      expect(onStar.length).toBeGreaterThan(0);
      for (const s of onStar) {
        for (const action of list(s.Action)) expect(STAR_ONLY_ACTIONS).toContain(action);
      }
      for (const s of statements) {
        for (const action of list(s.Action)) expect(action).not.toMatch(/^[a-z0-9-]+:\*$|^\*$/);
      }
    },
  );
});
