import { beforeAll, describe, expect, it } from 'vitest';
import { bookDelivery, cancelDelivery } from '../../lambdas/domain/delivery';
import type { DeliverySlotRecord } from '../../lib/contract';
import { createTables, getItem, type LocalTables, newOrderId, putItem } from '../support/dynamodb-local';
import { lambdaContext, loadHandler, sagaInput, stepEvent, thrown } from '../support/handlers';

let local: LocalTables;
const deps = () => ({ doc: local.doc, tables: local.tables });
const bookedIn = async (slotId: string) =>
  (await getItem<DeliverySlotRecord>(local, 'DeliverySlots', { slotId }))?.booked;

async function freshSlot(capacity: number, booked = 0): Promise<string> {
  const slotId = newOrderId('slot');
  await putItem(local, 'DeliverySlots', { slotId, capacity, booked });
  return slotId;
}

beforeAll(async () => {
  local = await createTables();
});

describe('BookDelivery', () => {
  it('takes one place in the slot', async () => {
    const slotId = await freshSlot(50);
    expect(await bookDelivery(sagaInput(newOrderId(), { deliverySlot: slotId }), deps())).toEqual({ slotId });
    expect(await bookedIn(slotId)).toBe(1);
  });

  it('fails with SlotFull when the slot is full, and UnknownSlot when it does not exist', async () => {
    const full = await freshSlot(2, 2);
    const fullError = await thrown(() =>
      bookDelivery(sagaInput(newOrderId(), { deliverySlot: full }), deps()),
    );
    const unknown = await thrown(() =>
      bookDelivery(sagaInput(newOrderId(), { deliverySlot: 'nope' }), deps()),
    );
    expect([fullError.name, unknown.name]).toEqual(['SlotFull', 'UnknownSlot']);
    expect(await bookedIn(full)).toBe(2);
  });

  it('books a duplicate once', async () => {
    const slotId = await freshSlot(5);
    const saga = sagaInput(newOrderId(), { deliverySlot: slotId });
    await Promise.all([bookDelivery(saga, deps()), bookDelivery(saga, deps()), bookDelivery(saga, deps())]);
    expect(await bookedIn(slotId)).toBe(1);
  });

  it('concurrent orders for the last place: exactly one books it', async () => {
    const slotId = await freshSlot(3, 2);
    const orders = Array.from({ length: 6 }, () => sagaInput(newOrderId(), { deliverySlot: slotId }));
    const settled = await Promise.allSettled(orders.map((saga) => bookDelivery(saga, deps())));
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    expect(await bookedIn(slotId)).toBe(3);
  });
});

describe('CancelDelivery', () => {
  it('gives back the place once; before the booking it tombstones and the late booking refuses', async () => {
    const slotId = await freshSlot(5);
    const booked = sagaInput(newOrderId(), { deliverySlot: slotId });
    await bookDelivery(booked, deps());
    await cancelDelivery(booked, deps());
    await cancelDelivery(booked, deps());
    const early = sagaInput(newOrderId(), { deliverySlot: slotId });
    await cancelDelivery(early, deps());
    const late = await thrown(() => bookDelivery(early, deps()));
    expect(late.name).toBe('SagaStepCancelled');
    expect(await bookedIn(slotId)).toBe(0);
  });

  it('through the handlers: crash-after-commit then CancelDelivery frees the place', async () => {
    const book = await loadHandler('book-delivery', local, { STEPSAGA_FAULTS: 'on' });
    const cancel = await loadHandler('cancel-delivery', local, { STEPSAGA_FAULTS: 'on' });
    const slotId = await freshSlot(5);
    const saga = sagaInput(newOrderId(), {
      deliverySlot: slotId,
      faults: { BookDelivery: 'crash-after-commit' },
    });
    expect((await thrown(() => book(stepEvent(saga), lambdaContext()))).name).toBe('CrashAfterCommit');
    expect(await bookedIn(slotId)).toBe(1);
    await cancel(stepEvent(saga), lambdaContext());
    expect(await bookedIn(slotId)).toBe(0);
  });
});
