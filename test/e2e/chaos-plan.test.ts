import { describe, expect, it } from 'vitest';
import { formatIam, iamAcross, iamDuring } from '../../chaos/iam';
import {
  DEFAULT_REVIEW_THRESHOLD,
  FAULT_KINDS,
  generateScenario,
  pathOf,
  predictOutcome,
  REVIEW_CHOICES,
  unwindOf,
} from '../../chaos/plan';
import { mixSeed, Random } from '../../chaos/random';
import { COMPENSATION_NAMES, STEP_NAMES } from '../../lib/contract';
import type { DecisionRecord } from '../../localcloud/iam/enforcer';

describe('seeded random', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const draw = (seed: number) => {
      const rng = new Random(seed);
      return Array.from({ length: 8 }, () => rng.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('stays in range and roughly uniform', () => {
    const rng = new Random(7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[rng.int(0, 3)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(9_000);
    expect(counts.reduce((a, b) => a + b)).toBe(40_000);
  });

  it('mixes seed and index into distinct streams', () => {
    expect(mixSeed(1, 0)).not.toBe(mixSeed(1, 1));
    expect(mixSeed(1, 0)).not.toBe(mixSeed(2, 0));
    expect(mixSeed(5, 9)).toBe(mixSeed(5, 9));
  });

  it('rejects a seed that is not an integer', () => {
    expect(() => new Random(1.5)).toThrow(/safe integer/);
  });
});

describe('generateScenario', () => {
  it('is reproducible: same seed → identical dataset and plans', () => {
    expect(generateScenario({ seed: 1, sagas: 300 })).toEqual(generateScenario({ seed: 1, sagas: 300 }));
  });

  it('changes with the seed', () => {
    const a = generateScenario({ seed: 1, sagas: 50, namespace: 'x' });
    const b = generateScenario({ seed: 2, sagas: 50, namespace: 'x' });
    expect(a.sagas.map((s) => s.input)).not.toEqual(b.sagas.map((s) => s.input));
  });

  it('draws saga i from its own stream, whatever the number of sagas', () => {
    const small = generateScenario({ seed: 9, sagas: 10 });
    const large = generateScenario({ seed: 9, sagas: 500 });
    expect(large.sagas.slice(0, 10).map((s) => [s.kind, s.input.faults, s.input.items])).toEqual(
      small.sagas.map((s) => [s.kind, s.input.faults, s.input.items]),
    );
  });

  it('mixes every fault kind, every fault mode, compensation faults and clean sagas', () => {
    const { sagas } = generateScenario({ seed: 1, sagas: 2_000 });
    const kinds = new Set(sagas.map((s) => s.kind));
    expect([...kinds].sort()).toEqual([...FAULT_KINDS].sort());
    const modes = new Set(sagas.flatMap((s) => Object.values(s.input.faults ?? {})));
    for (const mode of ['fail', 'transient:1', 'transient:2', 'timeout', 'crash-after-commit', 'duplicate']) {
      expect(modes).toContain(mode);
    }
    const faulted = new Set(sagas.flatMap((s) => Object.keys(s.input.faults ?? {})));
    for (const op of [...STEP_NAMES, ...COMPENSATION_NAMES]) expect(faulted).toContain(op);
    expect(sagas.filter((s) => s.expected.outcome === 'needs-attention').length).toBeGreaterThan(100);
    expect(sagas.filter((s) => s.expected.outcome === 'confirmed').length).toBeGreaterThan(500);
    expect(sagas.filter((s) => s.postTwice).length).toBeGreaterThan(30);
  });

  it('plans only valid orders over its own namespaced data', () => {
    const { sagas, dataset } = generateScenario({ seed: 3, sagas: 400, namespace: 'ns1' });
    const ids = [
      ...dataset.accounts.map((a) => a.customerId),
      ...dataset.inventory.map((i) => i.sku),
      ...dataset.promos.map((p) => p.code),
      ...dataset.deliverySlots.map((s) => s.slotId),
    ];
    for (const id of ids) expect(id.startsWith('ns1-')).toBe(true);
    expect(new Set(sagas.map((s) => s.input.orderId)).size).toBe(400);
    for (const { input } of sagas) {
      expect(input.orderId.startsWith('ns1-order-')).toBe(true);
      expect(input.items.length).toBeGreaterThan(0);
      expect(new Set(input.items.map((i) => i.sku)).size).toBe(input.items.length);
      for (const item of input.items)
        expect(Number.isInteger(item.quantity) && item.quantity >= 1).toBe(true);
      for (const op of Object.keys(input.faults ?? {})) {
        if (op === 'ReservePromo' || op === 'ReleasePromo') expect(input.promoCode).toBeDefined();
      }
    }
  });

  it('leaves timeouts out when asked', () => {
    const { sagas } = generateScenario({ seed: 1, sagas: 1_000, timeouts: false });
    expect(sagas.flatMap((s) => Object.values(s.input.faults ?? {}))).not.toContain('timeout');
  });

  it('rejects nonsense options with a message naming the option', () => {
    expect(() => generateScenario({ seed: 1, sagas: -1 })).toThrow(/sagas/);
    expect(() => generateScenario({ seed: 1, sagas: 1, namespace: 'a b' })).toThrow(/namespace/);
    expect(() => generateScenario({ seed: 1, sagas: 1, reviewThreshold: 20_000 })).toThrow(
      /reviewThreshold must be a whole number ≥ 50000/,
    );
  });
});

describe('actions: cancels, reviews and operator stops', () => {
  const { sagas, dataset } = generateScenario({ seed: 1, sagas: 2_000, namespace: 'act' });
  const priceOf = new Map(dataset.inventory.map((i) => [i.sku, i.price]));
  /** The largest total an order can reach (before any promo discount). */
  const gross = (input: (typeof sagas)[number]['input']) =>
    input.items.reduce((sum, item) => sum + (priceOf.get(item.sku) ?? 0) * item.quantity, 0);
  const acting = (kind: string) => sagas.filter((s) => s.kind === kind);

  it('gives an action to exactly the cancel, review and abort-resume sagas', () => {
    for (const saga of sagas) {
      const expected = { cancel: 'cancel', review: 'review', 'abort-resume': 'abort' }[saga.kind as string];
      expect(saga.action?.kind).toBe(expected);
    }
    expect(acting('cancel').length).toBeGreaterThan(100);
    expect(acting('review').length).toBeGreaterThan(100);
    expect(acting('abort-resume').length).toBeGreaterThan(60);
  });

  it('cancels before, racing and after the pivot, sometimes while the next step is in its Retry backoff', () => {
    const moments = acting('cancel').map((s) => (s.action?.kind === 'cancel' ? s.action.moment : undefined));
    expect(moments.filter((m) => m?.at === 'placed').length).toBeGreaterThan(10);
    expect(moments.filter((m) => m?.at === 'confirmed').length).toBeGreaterThan(30);
    const after = new Set(moments.flatMap((m) => (m?.at === 'after' ? [m.step] : [])));
    expect([...after].sort()).toEqual(['BookDelivery', 'ChargePayment', 'ReservePromo', 'ReserveStock']);
    // The racing moment: BookDelivery committed, ConfirmOrder next.
    expect(moments.filter((m) => m?.at === 'after' && m.step === 'BookDelivery').length).toBeGreaterThan(30);
    const inBackoff = acting('cancel').filter((s) =>
      Object.values(s.input.faults ?? {}).includes('transient:2'),
    );
    expect(inBackoff.length).toBeGreaterThan(30);
    // Nothing else in the plan stops a cancel saga: its faults are all recovered.
    for (const saga of acting('cancel')) expect(saga.expected).toEqual({ outcome: 'confirmed' });
  });

  it('sends every review saga over the threshold (even with a promo) and every other order under it', () => {
    for (const saga of sagas) {
      const total = gross(saga.input) * (saga.input.promoCode ? 0.75 : 1);
      if (saga.kind === 'review') expect(total).toBeGreaterThanOrEqual(DEFAULT_REVIEW_THRESHOLD);
      else expect(gross(saga.input)).toBeLessThan(DEFAULT_REVIEW_THRESHOLD / 2);
    }
    const choices = new Set(
      acting('review').map((s) => (s.action?.kind === 'review' ? s.action.choice : '')),
    );
    expect([...choices].sort()).toEqual([...REVIEW_CHOICES].sort());
    // Some approved orders then fail at a step after the review (money moves only after the approval).
    const failAfter = acting('review').filter((s) => s.expected.outcome === 'cancelled');
    expect(failAfter.length).toBeGreaterThan(10);
    for (const saga of failAfter)
      expect(['ChargePayment', 'BookDelivery', 'ConfirmOrder']).toContain(
        saga.expected.outcome === 'cancelled' ? saga.expected.failedStep : '',
      );
  });

  it('stops executions before the pivot, on clean, recovering and failing sagas', () => {
    const aborts = acting('abort-resume');
    for (const saga of aborts) {
      expect(saga.action?.kind === 'abort' && saga.action.moment.at).not.toBe('confirmed');
    }
    expect(aborts.filter((s) => s.input.faults === undefined).length).toBeGreaterThan(20);
    expect(aborts.filter((s) => s.expected.outcome === 'cancelled').length).toBeGreaterThan(10);
  });

  it('scales the luxury article with the threshold', () => {
    const high = generateScenario({ seed: 1, sagas: 10, reviewThreshold: 400_000 });
    const luxury = high.dataset.inventory.find((i) => i.sku.includes('-luxury-'));
    expect(luxury?.price).toBeGreaterThanOrEqual(400_000 / 0.75);
  });
});

describe('predictOutcome', () => {
  const order = { orderId: 'o', customerId: 'c', items: [{ sku: 's', quantity: 1 }], deliverySlot: 'd' };

  it('unwinds from the failed step, its own compensation first', () => {
    expect(pathOf({ promoCode: 'P' })[0]).toBe('ReservePromo');
    expect(pathOf({})[0]).toBe('ReserveStock');
    expect(unwindOf({ promoCode: 'P' }, 'ChargePayment')).toEqual([
      'RefundPayment',
      'ReleaseStock',
      'ReleasePromo',
    ]);
  });

  it('recovers transient faults and duplicates; a business failure cancels at its step', () => {
    expect(
      predictOutcome({ ...order, faults: { ChargePayment: 'transient:2', BookDelivery: 'duplicate' } }),
    ).toEqual({
      outcome: 'confirmed',
    });
    expect(predictOutcome({ ...order, faults: { BookDelivery: 'fail' } })).toEqual({
      outcome: 'cancelled',
      failedStep: 'BookDelivery',
      deadLettered: [],
    });
  });

  it('treats a crash after the confirmation committed as confirmed (the pivot)', () => {
    expect(predictOutcome({ ...order, faults: { ConfirmOrder: 'crash-after-commit' } })).toEqual({
      outcome: 'confirmed',
    });
  });

  it('sends permanently failing compensations that run to the DLQ, and only those', () => {
    expect(
      predictOutcome({
        ...order,
        faults: {
          ChargePayment: 'crash-after-commit',
          ReleaseStock: 'fail',
          CancelDelivery: 'fail',
          RefundPayment: 'transient:1',
        },
      }),
    ).toEqual({ outcome: 'needs-attention', failedStep: 'ChargePayment', deadLettered: ['ReleaseStock'] });
  });

  it('does not dead-letter a compensation that crashes after its commit: its retry finds the work done', () => {
    expect(
      predictOutcome({
        ...order,
        faults: { ConfirmOrder: 'fail', RejectOrder: 'crash-after-commit', CancelDelivery: 'transient:2' },
      }),
    ).toEqual({ outcome: 'cancelled', failedStep: 'ConfirmOrder', deadLettered: [] });
  });

  it('stops the unwind at a pivot guard that keeps failing: nothing after it is dead-lettered', () => {
    expect(
      predictOutcome({
        ...order,
        faults: { ConfirmOrder: 'fail', RejectOrder: 'fail', RefundPayment: 'fail' },
      }),
    ).toEqual({ outcome: 'needs-attention', failedStep: 'ConfirmOrder', deadLettered: ['RejectOrder'] });
  });
});

describe('the IAM check of a chaos run (GET /_localcloud/iam before and after)', () => {
  const denial: DecisionRecord = {
    type: 'decision',
    principal: 'arn:aws:sts::000000000000:assumed-role/R/F',
    role: 'arn:aws:iam::000000000000:role/R',
    action: 'dynamodb:PutItem',
    resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/T',
    decision: 'implicitDeny',
    via: 'edge',
  };
  const before = { enabled: true, decisions: 10, denials: 1, denied: [denial] };

  it('counts what happened during the run, and each denial is a violation naming it', () => {
    expect(iamDuring(before, { ...before, decisions: 50 })).toEqual({
      counts: { enabled: true, decisions: 40, denials: 0 },
      violations: [],
    });
    const during = iamDuring(before, { enabled: true, decisions: 60, denials: 2, denied: [denial, denial] });
    expect(during?.violations).toEqual([
      'IAM denied arn:aws:sts::000000000000:assumed-role/R/F: dynamodb:PutItem on arn:aws:dynamodb:us-east-1:000000000000:table/T (implicitDeny)',
    ]);
    expect(formatIam(during?.counts)).toBe('IAM: 50 decisions, 1 denials (each one an invariant violation)');
  });

  it('checks both stretches of a kill run: the killed process up to the kill, the restarted one from its start', () => {
    // The restarted process soon has more decisions than the killed one had at the start of the run: its
    // first denial must not be taken for the killed process's (counts from zero, not from `before`).
    const atKill = { enabled: true, decisions: 30, denials: 2, denied: [denial, denial] };
    const restarted = { enabled: true, decisions: 40, denials: 1, denied: [denial] };
    const run = iamAcross(iamDuring(before, atKill), iamDuring(undefined, restarted));
    expect(run?.counts).toEqual({ enabled: true, decisions: 60, denials: 2 });
    expect(run?.violations).toHaveLength(2);
  });

  it('counts from the restart after a kill, and says when the target is not a local cloud', () => {
    expect(iamDuring(before, { enabled: true, decisions: 5, denials: 0, denied: [] })?.counts).toEqual({
      enabled: true,
      decisions: 5,
      denials: 0,
    });
    expect(iamDuring(before, undefined)).toBeUndefined();
    expect(formatIam(undefined)).toBe('IAM: not observed (the target is not a local cloud)');
    expect(formatIam({ enabled: false, decisions: 0, denials: 0 })).toBe(
      'IAM: not enforced on this local cloud (--iam off)',
    );
  });
});
