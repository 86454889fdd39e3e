import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Saga } from '../../toolkit/construct/saga';
import { type AslDefinition, type AslState, stateMachineDefinition } from '../support/template';

/** A different saga than the order one: book a seat, then issue a ticket that cannot be undone. */
function buildTravelSaga(stack: Stack) {
  const fn = (id: string) =>
    new LambdaFunction(stack, id, {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => ({})'),
    });
  const dlq = new Queue(stack, 'Dlq');
  const saga = new Saga(stack, 'TravelSaga', {
    steps: [
      {
        name: 'BookSeat',
        action: fn('BookSeatFn'),
        compensation: { name: 'FreeSeat', function: fn('FreeSeatFn') },
        retry: { maxAttempts: 5 },
      },
      // Issuing twice would print two tickets if the first attempt's outcome is not recorded: no timeout retry.
      { name: 'IssueTicket', action: fn('IssueTicketFn'), retryOnTimeout: false },
    ],
    deadLetterQueue: dlq,
    correlationIdPath: '$.bookingId',
    correlationIdField: 'bookingId',
    stateNames: { failed: 'BookingFailed', compensationFailed: 'BookingNeedsAttention' },
    timeout: Duration.minutes(5),
  });
  return { saga, dlq };
}

let asl: AslDefinition;
let saga: Saga;
let stack: Stack;

function state(name: string): AslState {
  const s = asl.States[name];
  if (!s) throw new Error(`no state ${name}; states: ${Object.keys(asl.States).join(', ')}`);
  return s;
}

beforeAll(() => {
  stack = new Stack(new App(), 'TravelStack');
  saga = buildTravelSaga(stack).saga;
  asl = stateMachineDefinition(Template.fromStack(stack));
});

describe('Saga construct, reused for a two-step saga', () => {
  it('runs the steps in order and ends with the last one (no extra transition on success)', () => {
    expect(asl.StartAt).toBe('BookSeat');
    expect(state('BookSeat').Next).toBe('IssueTicket');
    expect(state('IssueTicket').End).toBe(true);
  });

  it('a step without compensation catches into the compensation of the step before it', () => {
    expect(state('IssueTicket').Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'IssueTicketFailed' },
    ]);
    expect(state('IssueTicketFailed').Next).toBe('FreeSeat');
    expect(state('BookSeatFailed').Next).toBe('FreeSeat');
  });

  it('without recordFailure the unwind ends in the AllCompensated choice, with the given Fail names', () => {
    expect(state('FreeSeat').Next).toBe('AllCompensated');
    expect(state('AllCompensated').Choices?.[0]?.Next).toBe('BookingNeedsAttention');
    expect(state('AllCompensated').Default).toBe('BookingFailed');
    expect(asl.States.RecordFailure).toBeUndefined();
    // No compensation declares succeedOnErrors, so there is no Succeed state at all.
    expect(Object.values(asl.States).filter((s) => s.Type === 'Succeed')).toEqual([]);
  });

  it('merges a step retry override into the transient-error retrier, after the throttle retrier and before the timeout retrier', () => {
    expect(state('BookSeat').Retry).toEqual([
      expect.objectContaining({ ErrorEquals: Saga.THROTTLE_RETRY.errors, MaxAttempts: 12 }),
      expect.objectContaining({
        ErrorEquals: Saga.TRANSIENT_RETRY.errors,
        MaxAttempts: 5,
        JitterStrategy: 'FULL',
      }),
      expect.objectContaining({ ErrorEquals: ['Sandbox.Timedout', 'States.Timeout'], MaxAttempts: 1 }),
    ]);
  });

  it('a step with retryOnTimeout: false unwinds at its first timeout', () => {
    expect(state('IssueTicket').Retry?.map((r) => r.ErrorEquals)).toEqual([
      Saga.THROTTLE_RETRY.errors,
      Saga.TRANSIENT_RETRY.errors,
    ]);
  });

  it('dead-letters a failing compensation with the configured correlation id', () => {
    const toDlq = state('FreeSeatToDLQ');

    expect(toDlq.Parameters?.MessageBody).toMatchObject({ 'bookingId.$': '$.bookingId', step: 'FreeSeat' });
    expect(toDlq.Next).toBe('AllCompensated');
  });

  it('exposes each state, rendering the same ASL as the synthesized definition', () => {
    const rendered = stack.resolve(saga.states.get('FreeSeat')!.toStateJson()) as AslState;

    expect(rendered.Retry).toEqual(state('FreeSeat').Retry);
    expect(rendered.Catch).toEqual(state('FreeSeat').Catch);
    expect(rendered.Next).toBe(state('FreeSeat').Next);
  });

  it('rejects a forward retry on States.ALL, naming the step', () => {
    const bad = new Stack(new App(), 'Bad');
    const fn = new LambdaFunction(bad, 'Fn', {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => ({})'),
    });

    expect(
      () =>
        new Saga(bad, 'Retries', {
          steps: [{ name: 'Charge', action: fn, retry: { errors: ['States.ALL'] } }],
          deadLetterQueue: new Queue(bad, 'Q'),
        }),
    ).toThrow(/step Charge must not retry States.ALL/);
  });

  it('rejects a saga without steps', () => {
    const empty = new Stack(new App(), 'Empty');

    expect(() => new Saga(empty, 'Nothing', { steps: [], deadLetterQueue: new Queue(empty, 'Q') })).toThrow(
      /'steps' must contain at least one step/,
    );
  });
});
