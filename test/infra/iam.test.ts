import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  COMPENSATION_OF,
  FUNCTIONS,
  type FunctionId,
  STEP_NAMES,
  TABLES,
  type TableAccess,
  type TableId,
} from '../../lib/contract';
import type { OrderSagaStack } from '../../lib/order-saga-stack';
import { synthOrderSaga } from './support/synth';

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
]);

/**
 * What each access level may do. `TransactWriteItems` is authorised per item as Put/Update/
 * ConditionCheck; no function deletes or scans.
 */
const TABLE_ACTIONS: Record<TableAccess, string[]> = {
  /** Only a ConditionCheck in the function's transactions (a forward step checks its order is not cancelled). */
  check: ['dynamodb:ConditionCheckItem'],
  r: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  rw: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:ConditionCheckItem',
  ],
};

let stack: OrderSagaStack;
let template: Template;

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const ref = (token: string): unknown => stack.resolve(token);

/** Every statement of every policy attached to the role with this logical id. */
function statementsOfRole(roleLogicalId: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    list(p.Properties.Roles as unknown[]).some(
      (r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }),
    ),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function roleLogicalIdOf(functionId: FunctionId): string {
  return (ref(stack.functions[functionId].executionRole.roleArn) as { 'Fn::GetAtt': [string] })[
    'Fn::GetAtt'
  ][0];
}

function statementsOf(functionId: FunctionId): Statement[] {
  return statementsOfRole(roleLogicalIdOf(functionId));
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
});

describe('function roles', () => {
  it.each(Object.keys(FUNCTIONS) as FunctionId[])(
    '%s reaches only its own tables (contract FUNCTIONS), with only the actions of its access level',
    (functionId) => {
      // Prepare: what the contract allows
      const access: Partial<Record<TableId, TableAccess>> = FUNCTIONS[functionId].tables;
      const expected = new Map<string, Set<string>>();
      for (const [tableId, level] of Object.entries(access) as [TableId, TableAccess][]) {
        const arn = JSON.stringify(ref(stack.tables[tableId].tableArn));
        for (const action of TABLE_ACTIONS[level]) {
          expected.set(action, (expected.get(action) ?? new Set()).add(arn));
        }
      }

      // Act
      const actual = grants(statementsOf(functionId), 'dynamodb:');

      // Assess
      expect(actual).toEqual(expected);
      for (const action of actual.keys()) expect(action).not.toMatch(/\*|Scan|DeleteTable|BatchWriteItem/);
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
    '%s has no managed policy, logs only to its own log group, and uses "*" only for X-Ray',
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
      for (const s of statements.filter((s) => list(s.Resource).includes('*'))) {
        for (const action of list(s.Action)) expect(action).toMatch(/^xray:/);
      }
    },
  );

  it('Api may start executions of this state machine and read its executions, nothing else in Step Functions', () => {
    const states = grants(statementsOf('Api'), 'states:');
    const machine = JSON.stringify(ref(stack.saga.stateMachine.stateMachineArn));

    expect([...(states.get('states:StartExecution') ?? [])]).toEqual([machine]);
    for (const action of ['states:DescribeExecution', 'states:GetExecutionHistory']) {
      const [resource, ...others] = [...(states.get(action) ?? [])];
      expect(others).toEqual([]);
      const name = ref(stack.saga.stateMachine.stateMachineName);
      expect(resource).toContain(typeof name === 'string' ? `:execution:${name}:*` : JSON.stringify(name));
    }
    expect([...states.keys()].sort()).toEqual([
      'states:DescribeExecution',
      'states:GetExecutionHistory',
      'states:StartExecution',
    ]);
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

  it('no other function may invoke functions, start executions or touch the DLQ', () => {
    for (const functionId of Object.keys(FUNCTIONS) as FunctionId[]) {
      const statements = statementsOf(functionId);
      if (functionId !== 'Redrive') {
        expect(grants(statements, 'lambda:').size).toBe(0);
        expect(grants(statements, 'sqs:').size).toBe(0);
      }
      if (functionId !== 'Api') expect(grants(statements, 'states:').size).toBe(0);
    }
  });
});

describe('state machine role', () => {
  it('invokes only the saga functions and sends only to the DLQ', () => {
    const roleId = (ref(stack.saga.stateMachine.role.roleArn) as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const statements = statementsOfRole(roleId);
    const invoked = [
      ...STEP_NAMES,
      ...STEP_NAMES.map((s) => COMPENSATION_OF[s]),
      'RecordFailure',
    ] as FunctionId[];
    const allowedInvoke = new Set(
      invoked.flatMap((f) => {
        const arn = ref(stack.functions[f].functionArn);
        return [JSON.stringify(arn), JSON.stringify({ 'Fn::Join': ['', [arn, ':*']] })];
      }),
    );

    const lambdaGrants = grants(statements, 'lambda:');
    expect([...lambdaGrants.keys()]).toEqual(['lambda:InvokeFunction']);
    expect(lambdaGrants.get('lambda:InvokeFunction')).toEqual(allowedInvoke);
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
});

describe('wildcards', () => {
  it('no policy in the stack grants an action on "*" unless AWS requires "*" for it', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
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
  });
});
