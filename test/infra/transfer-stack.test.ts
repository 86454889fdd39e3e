/**
 * The money transfer stack (`TransferSaga-<stage>`), built only from the toolkit: its state machine, the
 * Retry/Catch of every Task, exactly the DynamoDB calls each handler makes, and outputs that never collide
 * with the order saga's (the local cloud merges every stack's outputs into one record).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AslDefinition, stateMachineDefinition, synthOrderSaga } from '../support/template';

let transfer: Template;
let order: Template;
let asl: AslDefinition;

beforeAll(() => {
  const built = synthOrderSaga();
  transfer = Template.fromStack(built.transfer);
  order = built.template;
  asl = stateMachineDefinition(transfer);
});

const fnOf = (logicalId: string | undefined) =>
  String(logicalId)
    .replace(/^arn:/, '')
    .replace(/Function.*$/, '');

describe('TransferSaga stack', () => {
  it('debits then credits, and unwinds a failure with its own compensation first, then in reverse', () => {
    const s = asl.States;
    expect(asl.StartAt).toBe('Debit');
    expect(s.Debit).toMatchObject({ Next: 'Credit' });
    expect(s.Credit).toMatchObject({ End: true });
    expect(s.Debit?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'DebitFailed' },
    ]);
    expect(s.DebitFailed?.Next).toBe('CreditBack');
    expect(s.CreditFailed?.Next).toBe('DebitBack');
    expect(s.DebitBack?.Next).toBe('CreditBack');
    expect(s.CreditBack?.Next).toBe('AllCompensated');
    expect(s.TransferFailed?.Type).toBe('Fail');
    expect(
      Object.fromEntries(
        ['Debit', 'Credit', 'CreditBack', 'DebitBack'].map((n) => [n, fnOf(s[n]?.Resource)]),
      ),
    ).toEqual({ Debit: 'Debit', Credit: 'Credit', CreditBack: 'CreditBack', DebitBack: 'DebitBack' });
  });

  it('retries forward steps on transient errors only, and compensations on everything before the DLQ', () => {
    for (const step of ['Debit', 'Credit']) {
      const errors = asl.States[step]?.Retry?.flatMap((r) => r.ErrorEquals) ?? [];
      expect(errors).toContain('TransientError');
      expect(errors).not.toContain('States.ALL');
    }
    for (const compensation of ['CreditBack', 'DebitBack']) {
      const state = asl.States[compensation];
      expect(state?.Retry?.at(-1)?.ErrorEquals).toEqual(['States.ALL']);
      expect(state?.Catch?.[0]?.Next).toBe(`${compensation}ToDLQ`);
    }
  });

  it('grants each function exactly the DynamoDB calls of its step-engine transaction', () => {
    const policies = transfer.findResources('AWS::IAM::Policy');
    const dynamo = (fn: string) => {
      const policy = Object.entries(policies).find(([id]) => id.startsWith(`${fn}FunctionRoleDefaultPolicy`));
      const statements = (policy?.[1].Properties.PolicyDocument.Statement ?? []) as {
        Sid?: string;
        Action: string | string[];
      }[];
      return Object.fromEntries(
        statements
          .filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')))
          .map((st) => [st.Sid, [st.Action].flat().sort()]),
      );
    };
    const action = ['dynamodb:GetItem', 'dynamodb:PutItem'];
    const compensation = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
    for (const [fn, keys] of [
      ['Debit', action],
      ['Credit', action],
      ['CreditBack', compensation],
      ['DebitBack', compensation],
    ] as const) {
      expect(dynamo(fn), fn).toEqual({ AccountsTable: ['dynamodb:UpdateItem'], IdempotencyKeysTable: keys });
    }
  });

  it('gives its redrive function the DLQ and exactly the compensations to replay', () => {
    const [redrive] = Object.entries(transfer.findResources('AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('RedriveFunction'),
    );
    const env = redrive?.[1].Properties.Environment.Variables as Record<string, unknown>;
    expect(env.DLQ_URL).toEqual({ Ref: expect.stringMatching(/^DeadLetterQueue/) });
    expect(JSON.stringify(env.COMPENSATION_FUNCTIONS)).toMatch(
      /CreditBack.*CreditBackFunction.*DebitBack.*DebitBackFunction/,
    );
    const policy = Object.entries(transfer.findResources('AWS::IAM::Policy')).find(([id]) =>
      id.startsWith('RedriveFunctionRoleDefaultPolicy'),
    );
    const statements = policy?.[1].Properties.PolicyDocument.Statement as {
      Sid: string;
      Action: string | string[];
      Resource: unknown;
    }[];
    const bySid = Object.fromEntries(statements.map((st) => [st.Sid, st]));
    expect([bySid.ConsumeDeadLetterQueue?.Action].flat()).toContain('sqs:DeleteMessage');
    expect(JSON.stringify(bySid.ConsumeDeadLetterQueue?.Resource)).toMatch(/DeadLetterQueue/);
    expect(
      [bySid.InvokeCompensations?.Resource]
        .flat()
        .map((r) => fnOf(JSON.stringify(r).match(/"(\w+Function\w*)"/)?.[1])),
    ).toEqual(['CreditBack', 'DebitBack']);
    expect(statements.flatMap((st) => [st.Action].flat()).filter((a) => a.startsWith('dynamodb:'))).toEqual(
      [],
    );
  });

  it('names its state machine after the stack', () => {
    transfer.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'TransferSaga-dev',
    });
  });

  it('names its outputs apart from the order saga', () => {
    const outputs = Object.keys(transfer.toJSON().Outputs as object);
    expect(outputs.sort()).toEqual([
      'TransferAccountsTableName',
      'TransferDlqUrl',
      'TransferIdempotencyKeysTableName',
      'TransferRedriveFunctionName',
      'TransferStateMachineArn',
    ]);
    const orderOutputs = Object.keys(order.toJSON().Outputs as object);
    expect(outputs.filter((o) => orderOutputs.includes(o))).toEqual([]);
  });

  it('alarms as soon as a compensation is parked in its DLQ (money waiting for a redrive)', () => {
    const [queueId] = Object.keys(transfer.findResources('AWS::SQS::Queue'));
    transfer.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
    });
  });
});
