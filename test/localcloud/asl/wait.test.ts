/**
 * Wait on stepsaga's interpreter: Seconds, Timestamp, SecondsPath, TimestampPath and their errors. The
 * delays run 1000 times faster (waitScale 0.001): these tests assert outcomes, never durations; the
 * take-over after a restart runs at scale 1 on a fake clock (setTimeout only). Case ids name AWS recordings
 * (conformance/cases).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StateMachineDefinition } from '../../../localcloud/stepfunctions/asl/definition';
import type { JsonValue } from '../../../localcloud/stepfunctions/asl/types';
import { interpreterRunner } from '../../support/interpreter';

// These machines call no Task resource: the integrations only complete the execution's parameters.
const { run, start, finish } = interpreterRunner({ name: 'asl-wait' });

afterEach(() => {
  vi.useRealTimers();
});

const waitMachine = (wait: Record<string, JsonValue>): StateMachineDefinition => ({
  StartAt: 'WaitState',
  States: { WaitState: { Type: 'Wait', ...wait, End: true } },
});

describe('Wait', () => {
  it('taken over by a restart (--persist) goes on at the deadline it had before: Seconds run from its entry', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    // Prepare: a Wait of 600 s was entered 590 s before the restart
    const enteredTime = new Date(Date.now() - 590_000).toISOString();

    // Act: take it over; 9 s later it still waits, 10 s later it has gone on
    const execution = start(
      waitMachine({ Seconds: 600 }),
      { a: 1 },
      {
        waitScale: 1,
        restored: {
          events: [],
          redriveCount: 0,
          checkpoint: { state: 'WaitState', input: { a: 1 }, variables: {}, takeOver: { enteredTime } },
        },
      },
    );
    await vi.advanceTimersByTimeAsync(9_000);
    expect(execution.history.map((event) => event.type)).not.toContain('WaitStateExited');
    await vi.advanceTimersByTimeAsync(1_500);

    // Assess: not 600 s after the restart
    expect(execution.history.map((event) => event.type)).toContain('WaitStateExited');
    const { outcome, output, types } = await finish(execution);
    expect(outcome.status).toBe('SUCCEEDED');
    expect(output).toEqual({ a: 1 });
    expect(types.slice(-2)).toEqual(['WaitStateExited', 'ExecutionSucceeded']);
  });

  it('waits Seconds and passes its input on', async () => {
    const { outcome, output, types } = await run(waitMachine({ Seconds: 2 }), { a: 1 });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(output).toEqual({ a: 1 });
    expect(types).toEqual(['ExecutionStarted', 'WaitStateEntered', 'WaitStateExited', 'ExecutionSucceeded']);
  });

  it('goes on at once for a Timestamp in the past (more-wait-timestamp-seconds)', async () => {
    const { output } = await run(waitMachine({ Timestamp: '2016-03-14T01:59:00Z' }), { x: true });
    expect(output).toEqual({ x: true });
  });

  it('reads SecondsPath and TimestampPath from the input (base-wait-seconds-path-one, base-wait-timestamp-path-z)', async () => {
    expect(
      (await run(waitMachine({ SecondsPath: '$.input.waitSeconds' }), { input: { waitSeconds: 1 } })).outcome
        .status,
    ).toBe('SUCCEEDED');
    expect(
      (await run(waitMachine({ TimestampPath: '$.start_at' }), { start_at: '2023-12-13T07:09:32Z' })).outcome
        .status,
    ).toBe('SUCCEEDED');
  });

  it('fails with States.Runtime for a negative SecondsPath value (base-wait-seconds-path-negative)', async () => {
    const { outcome, types } = await run(waitMachine({ SecondsPath: '$.input.waitSeconds' }), {
      input: { waitSeconds: -1 },
    });
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'States.Runtime',
      cause:
        "An error occurred while executing the state 'WaitState' (entered at the event id #2). The SecondsPath parameter references a negative value: $.input.waitSeconds == -1",
    });
    expect(types).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionFailed']);
  });

  it('fails with States.Runtime for a fractional SecondsPath value (base-wait-seconds-path-fraction)', async () => {
    const { outcome } = await run(waitMachine({ SecondsPath: '$.input.waitSeconds' }), {
      input: { waitSeconds: 1.5 },
    });
    expect(outcome.error).toBe('States.Runtime');
    expect(outcome.cause).toContain(
      'The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == 1.5',
    );
  });

  it('fails with States.Runtime for a timestamp without offset (base-wait-timestamp-path-no-zone)', async () => {
    const { outcome } = await run(waitMachine({ TimestampPath: '$.start_at' }), {
      start_at: '2023-12-13T07:09:32',
    });
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'States.Runtime',
      cause:
        "An error occurred while executing the state 'WaitState' (entered at the event id #2). The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.start_at == 2023-12-13T07:09:32",
    });
  });

  it('fails with States.Runtime for a delay beyond 2^31-1 seconds (base-wait-timestamp-too-far)', async () => {
    const { outcome } = await run(waitMachine({ TimestampPath: '$.start_at' }), {
      start_at: '2100-01-01T00:00:00.000Z',
    });
    expect(outcome).toEqual({
      status: 'FAILED',
      error: 'States.Runtime',
      cause:
        "An error occurred while executing the state 'WaitState' (entered at the event id #2). Wait state delay is too long.",
    });
  });

  it('applies InputPath, OutputPath and Assign (base-assign-in-wait)', async () => {
    const { output } = await run(
      {
        StartAt: 'W',
        States: {
          W: { Type: 'Wait', Seconds: 0, InputPath: '$.in', Assign: { 'seen.$': '$.v' }, Next: 'Show' },
          Show: { Type: 'Pass', Parameters: { 'seen.$': '$seen', 'input.$': '$' }, End: true },
        },
      },
      { in: { v: 7 }, other: 1 },
    );
    expect(output).toEqual({ seen: 7, input: { v: 7 } });
  });
});
