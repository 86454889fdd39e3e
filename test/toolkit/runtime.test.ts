/**
 * The toolkit's runtime without a saga of the app: fault injection, configuration, the step event's
 * envelope around a saga's own state schema, and the step handler (validation, fault plan) on a booking
 * saga invented here. The step engine and redrive run on DynamoDB Local and SQS in their own files.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod/mini';
import { once, requireEnv, requireEnvs } from '../../toolkit/runtime/config';
import { ConfigurationError } from '../../toolkit/runtime/errors';
import { faultsEnabled, isFaultMode, withFault } from '../../toolkit/runtime/faults';
import { faultPlanSchema, nonEmpty, parseStepEvent } from '../../toolkit/runtime/step-event';
import { createStepHandler } from '../../toolkit/runtime/step-handler';

describe('config', () => {
  it('names every missing variable, and reads each one once', () => {
    expect(() => requireEnv('SEATS_TABLE', {})).toThrow(
      new ConfigurationError('Environment variable SEATS_TABLE is not set'),
    );
    expect(() => requireEnvs({ seats: 'SEATS_TABLE', keys: 'KEYS_TABLE' }, { KEYS_TABLE: 'k' })).toThrow(
      new ConfigurationError('Environment variable(s) not set: SEATS_TABLE'),
    );
    expect(requireEnvs({ seats: 'SEATS_TABLE' }, { SEATS_TABLE: 'seats-1' })).toEqual({ seats: 'seats-1' });
    let reads = 0;
    const config = once(() => ++reads);
    expect([config(), config()]).toEqual([1, 1]);
  });

  it('enables faults only for STEPSAGA_FAULTS=on exactly', () => {
    expect(
      [undefined, 'off', 'ON', 'true', '1', 'on'].map((v) => faultsEnabled({ STEPSAGA_FAULTS: v })),
    ).toEqual([false, false, false, false, false, true]);
  });
});

describe('faults', () => {
  it('accepts exactly the fault modes', () => {
    const valid = [
      'fail',
      'timeout',
      'crash-after-commit',
      'duplicate',
      'transient:0',
      'transient:3',
      'transient:100',
    ];
    const invalid = ['FAIL', 'transient', 'transient:-1', 'transient:x', 'transient:01', 'crash', '', 3];
    expect(valid.filter(isFaultMode)).toEqual(valid);
    expect(invalid.filter(isFaultMode)).toEqual([]);
  });

  it('runs the operation untouched when disabled or when no fault is planned for it', async () => {
    const ctx = { enabled: false, retryCount: 0 };
    expect(await withFault('ReserveSeat', { ReserveSeat: 'fail' }, ctx, async () => 'ran')).toBe('ran');
    expect(
      await withFault('ReserveSeat', { FreeSeat: 'fail' }, { ...ctx, enabled: true }, async () => 'ran'),
    ).toBe('ran');
  });

  it('duplicate runs twice and returns the second result', async () => {
    let runs = 0;
    const op = async () => ++runs;
    expect(
      await withFault('BookDelivery', { BookDelivery: 'duplicate' }, { enabled: true, retryCount: 0 }, op),
    ).toBe(2);
    expect(runs).toBe(2);
  });

  it('crash-after-commit commits then throws on the first attempt only; the retry meets the commit', async () => {
    // Prepare: an idempotent compensation (the second run is a no-op, like the step engine's COMPENSATED key).
    let balance = 0;
    let compensated = false;
    const refund = async () => {
      if (!compensated) {
        balance += 40;
        compensated = true;
      }
      return { compensated: true };
    };
    const plan = { FreeSeat: 'crash-after-commit' } as const;

    // Act: the first attempt, then the Retry (States.ALL) with RetryCount 1.
    const first = withFault('FreeSeat', plan, { enabled: true, retryCount: 0 }, refund);
    await expect(first).rejects.toMatchObject({ name: 'CrashAfterCommit' });
    const balanceAfterCrash = balance;
    const retried = await withFault('FreeSeat', plan, { enabled: true, retryCount: 1 }, refund);

    // Assess: the crash happened after the commit, and the retry succeeded without applying it twice.
    expect(balanceAfterCrash).toBe(40);
    expect(retried).toEqual({ compensated: true });
    expect(balance).toBe(40);
  });

  it('fail throws on every attempt without running the operation', async () => {
    let runs = 0;
    const op = async () => ++runs;
    for (const retryCount of [0, 1, 2]) {
      await expect(
        withFault('ReserveSeat', { ReserveSeat: 'fail' }, { enabled: true, retryCount }, op),
      ).rejects.toMatchObject({ name: 'InjectedFailure' });
    }
    expect(runs).toBe(0);
  });

  it('transient:N throws TransientError on the first N attempts, then runs', async () => {
    let runs = 0;
    const op = async () => ++runs;
    const plan = { ReserveStock: 'transient:2' } as const;
    for (const retryCount of [0, 1]) {
      await expect(withFault('ReserveStock', plan, { enabled: true, retryCount }, op)).rejects.toMatchObject({
        name: 'TransientError',
      });
    }
    expect(await withFault('ReserveStock', plan, { enabled: true, retryCount: 2 }, op)).toBe(1);
    expect(runs).toBe(1);
  });

  it('timeout outlives the remaining time on every attempt without running the operation', async () => {
    let runs = 0;
    const op = async () => ++runs;
    for (const retryCount of [0, 1]) {
      await expect(
        withFault(
          'BookDelivery',
          { BookDelivery: 'timeout' },
          { enabled: true, retryCount, remainingTimeMs: () => -990 },
          op,
        ),
      ).rejects.toMatchObject({ name: 'Sandbox.Timedout' });
    }
    expect(runs).toBe(0);
  });
});

const bookingSchema = z.looseObject({ bookingId: nonEmpty(), seat: nonEmpty(), faults: faultPlanSchema });
interface Booking {
  bookingId: string;
  seat: string;
  faults?: Record<string, 'fail'>;
}
const event = (saga: object, retryCount = 0) => ({
  saga,
  context: { executionArn: 'arn:execution', retryCount },
});

describe('step event', () => {
  it("validates the saga's state with the saga's schema, inside the toolkit's envelope", () => {
    const parsed = parseStepEvent<Booking>(bookingSchema, {
      saga: { bookingId: 'b-1', seat: '12A', extra: 1 },
      context: { executionArn: 'arn' },
    });
    expect(parsed).toEqual({
      saga: { bookingId: 'b-1', seat: '12A', extra: 1 },
      context: { executionArn: 'arn', retryCount: 0 },
    });
    expect(() =>
      parseStepEvent(bookingSchema, { saga: { bookingId: '' }, context: { retryCount: -1 } }),
    ).toThrow(
      expect.objectContaining({
        name: 'InvalidSagaInput',
        message: expect.stringMatching(
          /saga\.bookingId.*saga\.seat.*context\.executionArn.*context\.retryCount/s,
        ),
      }),
    );
  });
});

describe('step handler', () => {
  afterEach(() => vi.unstubAllEnvs());

  /** A ReserveSeat handler; the deployment's STEPSAGA_FAULTS is read at its first invocation. */
  const reserveSeat = () => {
    const runs: string[] = [];
    const handle = createStepHandler<Booking, { table: string }, string>({
      operation: 'ReserveSeat',
      schema: bookingSchema,
      id: { key: 'bookingId', of: (b) => b.bookingId },
      deps: () => ({ table: 'seats' }),
      run: async (booking, deps) => {
        runs.push(`${deps.table}:${booking.seat}`);
        return `reserved ${booking.seat}`;
      },
    });
    return { handle, runs };
  };

  it('runs the step with its deps and returns its result; a malformed event fails before it runs', async () => {
    const { handle, runs } = reserveSeat();

    expect(await handle(event({ bookingId: 'b-1', seat: '12A' }))).toBe('reserved 12A');
    await expect(handle(event({ bookingId: 'b-1' }))).rejects.toMatchObject({ name: 'InvalidSagaInput' });
    expect(runs).toEqual(['seats:12A']);
  });

  it("applies the saga's fault plan only where faults are on", async () => {
    const planned = event({ bookingId: 'b-2', seat: '3C', faults: { ReserveSeat: 'fail' } });
    const on = reserveSeat();
    const off = reserveSeat();

    vi.stubEnv('STEPSAGA_FAULTS', 'on');
    await expect(on.handle(planned)).rejects.toMatchObject({ name: 'InjectedFailure' });
    vi.stubEnv('STEPSAGA_FAULTS', 'off');
    expect(await off.handle(planned)).toBe('reserved 3C');

    expect([on.runs, off.runs]).toEqual([[], ['seats:3C']]);
  });
});
