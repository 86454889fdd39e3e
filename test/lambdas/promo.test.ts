import { beforeAll, describe, expect, it } from 'vitest';
import { releasePromo, reservePromo } from '../../lambdas/domain/promo';
import type { PromoRecord } from '../../lib/contract';
import {
  createTables,
  getItem,
  idempotencyRecords,
  type LocalTables,
  loadSeed,
  newOrderId,
  putItem,
} from '../support/dynamodb-local';
import { lambdaContext, loadHandler, sagaInput, stepEvent, thrown } from '../support/handlers';

let local: LocalTables;
const deps = () => ({ doc: local.doc, tables: local.tables });
const usesLeft = async (code: string) => (await getItem<PromoRecord>(local, 'Promos', { code }))?.usesLeft;

beforeAll(async () => {
  local = await createTables();
  await loadSeed(local);
});

async function freshPromo(usesLeftValue: number, discountPercent = 10): Promise<string> {
  const code = newOrderId('PROMO');
  await putItem(local, 'Promos', { code, discountPercent, usesLeft: usesLeftValue });
  return code;
}

describe('ReservePromo', () => {
  it('takes one use and returns the discount', async () => {
    // Prepare
    const code = await freshPromo(3, 10);
    const saga = sagaInput(newOrderId(), { promoCode: code });
    // Act
    const result = await reservePromo(saga, deps());
    // Assess
    expect(result).toEqual({ code, discountPercent: 10 });
    expect(await usesLeft(code)).toBe(2);
    expect(await idempotencyRecords(local, saga.orderId)).toMatchObject([
      { step: 'ReservePromo', state: 'DONE', result: { code, discountPercent: 10 } },
    ]);
  });

  it('fails with PromoExhausted when no use is left, changing nothing', async () => {
    const saga = sagaInput(newOrderId(), { promoCode: 'EXPIRED' });
    const error = await thrown(() => reservePromo(saga, deps()));
    expect(error.name).toBe('PromoExhausted');
    expect(error.message).toContain('EXPIRED');
    expect(await usesLeft('EXPIRED')).toBe(0);
    expect(await idempotencyRecords(local, saga.orderId)).toEqual([]);
  });

  it('fails with PromoNotFound for an unknown code, writing no key', async () => {
    const saga = sagaInput(newOrderId(), { promoCode: 'NO-SUCH-CODE' });
    const error = await thrown(() => reservePromo(saga, deps()));
    expect(error.name).toBe('PromoNotFound');
    expect(await idempotencyRecords(local, saga.orderId)).toEqual([]);
  });

  it('replays a duplicate (sequential and concurrent) with one effect', async () => {
    const code = await freshPromo(10);
    const saga = sagaInput(newOrderId(), { promoCode: code });
    const first = await reservePromo(saga, deps());
    const again = await Promise.all(Array.from({ length: 5 }, () => reservePromo(saga, deps())));
    expect(again).toEqual(Array(5).fill(first));
    expect(await usesLeft(code)).toBe(9);
  });

  it('concurrent orders on the last use: exactly one wins, the others get PromoExhausted', async () => {
    const code = await freshPromo(1);
    const orders = Array.from({ length: 6 }, () => sagaInput(newOrderId(), { promoCode: code }));
    const settled = await Promise.allSettled(orders.map((saga) => reservePromo(saga, deps())));
    const won = settled.filter((s) => s.status === 'fulfilled');
    const lost = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).name] : []));
    expect(won).toHaveLength(1);
    expect(new Set(lost)).toEqual(new Set(['PromoExhausted']));
    expect(await usesLeft(code)).toBe(0);
  });
});

describe('ReleasePromo', () => {
  it('gives back the use, once, however often it runs', async () => {
    const code = await freshPromo(3);
    const saga = sagaInput(newOrderId(), { promoCode: code });
    await reservePromo(saga, deps());
    const first = await releasePromo(saga, deps());
    const second = await releasePromo(saga, deps());
    expect(first.outcome).toBe('compensated');
    expect(second.outcome).toBe('already-compensated');
    expect(await usesLeft(code)).toBe(3);
    expect(await idempotencyRecords(local, saga.orderId)).toMatchObject([
      { step: 'ReservePromo', state: 'COMPENSATED' },
    ]);
  });

  it('before the action leaves a tombstone, and the late action refuses with SagaStepCancelled', async () => {
    const code = await freshPromo(3);
    const saga = sagaInput(newOrderId(), { promoCode: code });
    const release = await releasePromo(saga, deps());
    const late = await thrown(() => reservePromo(saga, deps()));
    expect(release.outcome).toBe('tombstoned');
    expect(late.name).toBe('SagaStepCancelled');
    expect(await usesLeft(code)).toBe(3);
    expect(await idempotencyRecords(local, saga.orderId)).toMatchObject([
      { step: 'ReservePromo', state: 'TOMBSTONE' },
    ]);
  });

  it('racing a concurrent action still leaves the promo balanced', async () => {
    const code = await freshPromo(5);
    const saga = sagaInput(newOrderId(), { promoCode: code });
    await Promise.allSettled([reservePromo(saga, deps()), releasePromo(saga, deps())]);
    await releasePromo(saga, deps());
    expect(await usesLeft(code)).toBe(5);
  });
});

describe('promo handlers', () => {
  it('crash-after-commit commits, reports CrashAfterCommit, and ReleasePromo undoes it', async () => {
    const reserve = await loadHandler('reserve-promo', local, { STEPSAGA_FAULTS: 'on' });
    const code = await freshPromo(3);
    const saga = sagaInput(newOrderId(), { promoCode: code, faults: { ReservePromo: 'crash-after-commit' } });
    const error = await thrown(() => reserve(stepEvent(saga), lambdaContext()));
    expect(error.name).toBe('CrashAfterCommit');
    expect(await usesLeft(code)).toBe(2);

    const release = await loadHandler('release-promo', local, { STEPSAGA_FAULTS: 'on' });
    await release(stepEvent(saga), lambdaContext());
    expect(await usesLeft(code)).toBe(3);
  });

  it('ignores the fault plan when STEPSAGA_FAULTS is off', async () => {
    const reserve = await loadHandler('reserve-promo', local, { STEPSAGA_FAULTS: undefined });
    const code = await freshPromo(3, 15);
    const saga = sagaInput(newOrderId(), { promoCode: code, faults: { ReservePromo: 'fail' } });
    const result = await reserve(stepEvent(saga), lambdaContext());
    expect(result).toEqual({ code, discountPercent: 15 });
    expect(await usesLeft(code)).toBe(2);
  });

  it('rejects a malformed event with InvalidSagaInput naming the field', async () => {
    const reserve = await loadHandler('reserve-promo', local);
    const error = await thrown(() => reserve({ saga: { orderId: 'x' }, context: {} }, lambdaContext()));
    expect(error.name).toBe('InvalidSagaInput');
    expect(error.message).toContain('saga.customerId');
    expect(error.message).toContain('context.executionArn');
  });
});
