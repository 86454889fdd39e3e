/**
 * The order saga's states unit-tested with TestState (the way AWS now recommends testing Step Functions):
 * the synthesized definition, one state at a time, with mocked results and errors, on a bare local Step
 * Functions service — no Lambda function runs, no DynamoDB. What is checked is the routing the saga's
 * safety rests on: every forward step retries what is transient and unwinds on anything else, every
 * compensation hands over to the dead-letter queue once its retries are spent, and the pivot's guard ends
 * the saga as a success when the confirmation had in fact committed. Expectations come from the contract
 * (lib/contract.ts) and the definition's own Retry budgets, so a change of either shows up here.
 */
import { SFNClient, TestStateCommand, type TestStateCommandOutput } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSINESS_ERRORS,
  COMPENSATION_OF,
  LOCAL_REVIEW_TIMEOUT_SECONDS,
  REVIEW_REJECTED,
  STATE_NAMES,
  STATES_TIMEOUT,
  STEP_NAMES,
  TRANSIENT_ERRORS,
} from '../../lib/contract';
import { REVIEW_DEFAULTS } from '../../lib/order-saga-stack';
import { ROLE, type StatesHarness, startStatesHarness } from '../support/states-harness';
import { type AslDefinition, type AslState, synthOrderSaga } from '../support/template';

let states: StatesHarness;
/** TestState goes to a `sync-` host on AWS: against a local endpoint the SDK's host prefix is off. */
let sfn: SFNClient;
let asl: AslDefinition;
let definition: string;

/**
 * The template's definition with its CloudFormation references made concrete, as a deploy resolves them:
 * `Fn::GetAtt [Fn, Arn]` → a Lambda function ARN, `Ref Queue` → a queue URL, pseudo parameters → values.
 */
function deployedDefinition(template: ReturnType<typeof synthOrderSaga>['template']): AslDefinition {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const raw: unknown = machines[0]?.Properties.DefinitionString;
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const o = part as Record<string, unknown>;
    if (Array.isArray(o['Fn::GetAtt']))
      return `arn:aws:lambda:us-east-1:000000000000:function:${String(o['Fn::GetAtt'][0])}`;
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': 'us-east-1',
      'AWS::AccountId': '000000000000',
    };
    if (typeof o.Ref === 'string')
      return pseudo[o.Ref] ?? `https://sqs.us-east-1.amazonaws.com/000000000000/${o.Ref}`;
    throw new Error(`unexpected definition fragment ${JSON.stringify(part)}`);
  };
  if (typeof raw === 'string') return JSON.parse(raw) as AslDefinition;
  const [separator, parts] = (raw as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return JSON.parse(parts.map(render).join(separator)) as AslDefinition;
}

beforeAll(async () => {
  asl = deployedDefinition(synthOrderSaga({ faults: 'on' }).template);
  definition = JSON.stringify(asl);
  states = await startStatesHarness({ prefix: 'saga-teststate' });
  sfn = new SFNClient({
    endpoint: states.edge.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    disableHostPrefix: true,
  });
});

afterAll(async () => {
  sfn?.destroy();
  await states?.close();
});

function state(name: string): AslState {
  const found = asl.States[name];
  if (!found) throw new Error(`no state ${name}`);
  return found;
}

/** An order in the middle of the saga, as the state machine carries it. */
const ORDER = {
  orderId: 'o-teststate',
  customerId: 'customer-1',
  items: [{ sku: 'SKU-1', quantity: 1 }],
  deliverySlot: '2026-12-01T10',
  promoCode: 'WELCOME10',
  results: {},
};

/** TestState of one state of the saga with a mocked outcome. */
function test(
  stateName: string,
  mock: { result: unknown } | { error: string; cause?: string },
  stateConfiguration?: { retrierRetryCount?: number },
  input: object = ORDER,
): Promise<TestStateCommandOutput> {
  return sfn.send(
    new TestStateCommand({
      definition,
      stateName,
      roleArn: ROLE,
      input: JSON.stringify(input),
      inspectionLevel: 'DEBUG',
      mock:
        'result' in mock
          ? { result: JSON.stringify(mock.result) }
          : { errorOutput: { error: mock.error, cause: mock.cause ?? `${mock.error} (mocked)` } },
      ...(stateConfiguration ? { stateConfiguration } : {}),
    }),
  );
}

/**
 * The retrier of a state that matches `error`, as Step Functions picks it (the first whose ErrorEquals
 * names it, or States.ALL): its index (`retryIndex`) and its Retry budget (MaxAttempts).
 */
function retrierFor(name: string, error: string): { index: number; attempts: number } {
  const retry = state(name).Retry ?? [];
  const index = retry.findIndex((r) => r.ErrorEquals.includes(error) || r.ErrorEquals.includes('States.ALL'));
  if (index < 0) throw new Error(`${name} retries no ${error}`);
  return { index, attempts: retry[index]!.MaxAttempts ?? 3 };
}

function attemptsFor(name: string, error: string): number {
  return retrierFor(name, error).attempts;
}

describe('forward steps', () => {
  it.each(STEP_NAMES)(
    '%s retries every transient error, with backoff, until its budget is spent',
    async (step) => {
      for (const error of TRANSIENT_ERRORS) {
        const first = await test(step, { error });
        expect(first).toMatchObject({ status: 'RETRIABLE', error });
        // Throttles on their own retrier (first), the other transient errors on the next one.
        expect(first.inspectionData?.errorDetails?.retryIndex, error).toBe(retrierFor(step, error).index);
        expect(first.inspectionData?.errorDetails?.retryBackoffIntervalSeconds).toBeGreaterThanOrEqual(0);

        const spent = await test(step, { error }, { retrierRetryCount: attemptsFor(step, error) });
        expect(spent).toMatchObject({
          status: 'CAUGHT_ERROR',
          nextState: `${step}${STATE_NAMES.failedSuffix}`,
        });
      }
    },
  );

  it.each(STEP_NAMES)(
    '%s unwinds at once on a business error: no retry, caught into <Step>Failed',
    async (step) => {
      for (const error of BUSINESS_ERRORS) {
        const out = await test(step, { error, cause: 'a reason the customer sees' });
        expect(out, `${step} ${error}`).toMatchObject({
          status: 'CAUGHT_ERROR',
          nextState: `${step}${STATE_NAMES.failedSuffix}`,
        });
        // The failure travels with the saga for <Step>Failed and RecordFailure.
        expect(JSON.parse(out.output ?? '{}').failure).toEqual({
          Error: error,
          Cause: 'a reason the customer sees',
        });
      }
    },
  );

  it.each(STEP_NAMES)(
    '%s refuses a cancelled order: OrderCancelled unwinds at once, not retried',
    async (step) => {
      const out = await test(step, {
        error: 'OrderCancelled',
        cause: `Order ${ORDER.orderId} was cancelled`,
      });
      expect(out).toMatchObject({ status: 'CAUGHT_ERROR', nextState: `${step}${STATE_NAMES.failedSuffix}` });
    },
  );

  it('go forward with their result on success', async () => {
    for (const step of STEP_NAMES) {
      const out = await test(step, { result: { done: step } });
      const expected = state(step).Next;
      expect(out.status, step).toBe('SUCCEEDED');
      if (expected) expect(out.nextState, step).toBe(expected);
      expect(JSON.parse(out.output ?? '{}').results?.[step]).toEqual({ done: step });
    }
  });
});

describe('the pivot', () => {
  const guard = COMPENSATION_OF.ConfirmOrder;

  it('ends the saga as a success when the confirmation had in fact committed (the guard finds it confirmed)', async () => {
    const out = await test(guard, { error: 'OrderAlreadyConfirmed' });
    expect(out).toMatchObject({ status: 'CAUGHT_ERROR', nextState: STATE_NAMES.succeed });
  });

  it('unwinds the rest once the guard has tombstoned the confirmation', async () => {
    const out = await test(guard, { result: { rejected: true } });
    expect(out).toMatchObject({ status: 'SUCCEEDED', nextState: state(guard).Next });
  });
});

describe('compensations', () => {
  it.each(STEP_NAMES.map((s) => COMPENSATION_OF[s]))(
    '%s retries any error, then hands itself to the dead-letter queue',
    async (compensation) => {
      const first = await test(compensation, { error: 'TransientError' });
      expect(first).toMatchObject({ status: 'RETRIABLE' });

      const spent = await test(
        compensation,
        { error: 'TransientError' },
        { retrierRetryCount: attemptsFor(compensation, 'TransientError') },
      );
      expect(spent).toMatchObject({
        status: 'CAUGHT_ERROR',
        nextState: `${compensation}${STATE_NAMES.dlqSuffix}`,
      });
    },
  );

  it.each(STEP_NAMES.map((s) => COMPENSATION_OF[s]))(
    '%sToDLQ sends the redrive message (step, error, saga) and goes on unwinding',
    async (compensation) => {
      const dlq = `${compensation}${STATE_NAMES.dlqSuffix}`;
      const failing = { ...ORDER, compensationError: { Error: 'TransientError', Cause: 'still down' } };
      const out = await sfn.send(
        new TestStateCommand({
          definition,
          stateName: dlq,
          roleArn: ROLE,
          input: JSON.stringify(failing),
          inspectionLevel: 'DEBUG',
          mock: {
            result: JSON.stringify({
              MessageId: 'm-1',
              MD5OfMessageBody: 'd41d8cd98f00b204e9800998ecf8427e',
            }),
          },
        }),
      );
      expect(out.status).toBe('SUCCEEDED');
      expect(out.nextState).toBe(state(dlq).Next);
      const sent = JSON.parse(out.inspectionData?.afterParameters ?? '{}') as {
        MessageBody?: Record<string, unknown>;
      };
      expect(sent.MessageBody).toMatchObject({
        orderId: ORDER.orderId,
        step: compensation,
        error: 'TransientError',
        cause: 'still down',
        input: failing,
      });
      expect(JSON.parse(out.output ?? '{}').deadLettered?.[compensation]).toEqual({ messageId: 'm-1' });
    },
  );
});

describe('manual review', () => {
  const REVIEW = STATE_NAMES.requestReview;
  const REVIEW_FAILED = `${REVIEW}${STATE_NAMES.failedSuffix}`;
  const priced = (total: number) => ({ ...ORDER, results: { ReserveStock: { total } } });

  it('NeedsReview sends an order whose total reaches the threshold to RequestReview, the others to ChargePayment', async () => {
    const threshold = REVIEW_DEFAULTS.threshold;
    for (const [total, next] of [
      [threshold, REVIEW],
      [threshold + 1, REVIEW],
      [threshold - 1, 'ChargePayment'],
    ] as const) {
      const out = await sfn.send(
        new TestStateCommand({
          definition,
          stateName: STATE_NAMES.needsReview,
          roleArn: ROLE,
          input: JSON.stringify(priced(total)),
          inspectionLevel: 'DEBUG',
        }),
      );
      expect(out, String(total)).toMatchObject({ status: 'SUCCEEDED', nextState: next });
    }
  });

  it("RequestReview waits reviewTimeout (a faults=on stack: the local cloud's few minutes)", () => {
    expect((state(REVIEW) as { TimeoutSeconds?: number }).TimeoutSeconds).toBe(LOCAL_REVIEW_TIMEOUT_SECONDS);
  });

  it('an approval (SendTaskSuccess) goes on to ChargePayment with the decision in the results', async () => {
    const out = await test(
      REVIEW,
      { result: { decision: 'approve', note: 'ok' } },
      undefined,
      priced(150_000),
    );
    expect(out).toMatchObject({ status: 'SUCCEEDED', nextState: 'ChargePayment' });
    expect(JSON.parse(out.output ?? '{}').results?.[REVIEW]).toEqual({ decision: 'approve', note: 'ok' });
  });

  it.each([STATES_TIMEOUT, REVIEW_REJECTED, 'OrderCancelled'])(
    'RequestReview on %s unwinds at once (no retry) through RequestReviewFailed',
    async (error) => {
      const out = await test(REVIEW, { error, cause: `${error} (mocked)` }, undefined, priced(150_000));
      expect(out).toMatchObject({ status: 'CAUGHT_ERROR', nextState: REVIEW_FAILED });
      expect(JSON.parse(out.output ?? '{}').failure).toEqual({ Error: error, Cause: `${error} (mocked)` });
      // RequestReviewFailed records the step, which RecordFailure turns into the cancel reason.
      expect(state(REVIEW_FAILED).Next).toBe(COMPENSATION_OF.ReserveStock);
    },
  );

  it('RequestReview retries a failed invoke (throttle, transient error): the order is still waiting for nobody', async () => {
    for (const error of TRANSIENT_ERRORS) {
      const first = await test(REVIEW, { error }, undefined, priced(150_000));
      expect(first, error).toMatchObject({ status: 'RETRIABLE', error });
      expect(first.inspectionData?.errorDetails?.retryIndex, error).toBe(retrierFor(REVIEW, error).index);
    }
  });
});
