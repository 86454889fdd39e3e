/**
 * The step engine with a saga of its own, on DynamoDB Local: a booking saga invented here (ReserveSeat,
 * undone by FreeSeat) whose idempotency records are keyed by `bookingId`, with a guard that refuses a
 * step once its show is closed. What a saga gets from the engine: one effect per step however often it
 * is delivered, the recorded result replayed, a reversal of exactly the recorded effect, and a step that
 * refuses once it was compensated or tombstoned.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { SagaError } from '../../toolkit/runtime/errors';
import { runAction, runCompensation, type StepStore } from '../../toolkit/runtime/step-engine';
import { localClient } from '../support/dynamodb-local';

class SeatTakenError extends SagaError {
  override readonly name = 'SeatTaken';
}
class ShowClosedError extends SagaError {
  override readonly name = 'ShowClosed';
}

const prefix = `engine-${randomUUID().slice(0, 8)}`;
const tables = { keys: `${prefix}-BookingKeys`, seats: `${prefix}-Seats`, shows: `${prefix}-Shows` };
const doc = DynamoDBDocumentClient.from(localClient());
const store: StepStore = {
  doc,
  idempotencyTable: tables.keys,
  idAttribute: 'bookingId',
  guard: {
    item: (bookingId) => ({
      ConditionCheck: {
        TableName: tables.shows,
        Key: { showId: bookingId.split('/')[0] },
        ConditionExpression: '#status <> :closed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':closed': 'CLOSED' },
      },
    }),
    error: (bookingId, step) => new ShowClosedError(`${step} of ${bookingId}: the show is closed`),
  },
};

beforeAll(async () => {
  const client = localClient();
  const create = (TableName: string, hash: string, range?: string) =>
    client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [hash, ...(range ? [range] : [])].map((AttributeName) => ({
          AttributeName,
          AttributeType: 'S',
        })),
        KeySchema: [
          { AttributeName: hash, KeyType: 'HASH' },
          ...(range ? [{ AttributeName: range, KeyType: 'RANGE' as const }] : []),
        ],
      }),
    );
  await Promise.all([
    create(tables.keys, 'bookingId', 'step'),
    create(tables.seats, 'seatId'),
    create(tables.shows, 'showId'),
  ]);
});

let count = 0;
/** A fresh open show with one free seat, and a booking of it. */
async function booking(): Promise<{ bookingId: string; seatId: string }> {
  const showId = `show-${++count}`;
  const seatId = `${showId}-12A`;
  await doc.send(new PutCommand({ TableName: tables.shows, Item: { showId, status: 'OPEN' } }));
  await doc.send(new PutCommand({ TableName: tables.seats, Item: { seatId, holder: 'nobody' } }));
  return { bookingId: `${showId}/b-${count}`, seatId };
}

const seat = async (seatId: string) =>
  (await doc.send(new GetCommand({ TableName: tables.seats, Key: { seatId }, ConsistentRead: true }))).Item;
const record = async (bookingId: string, step: string) =>
  (await doc.send(new GetCommand({ TableName: tables.keys, Key: { bookingId, step }, ConsistentRead: true })))
    .Item;

/** ReserveSeat: the seat goes from nobody to the booking, in the key record's transaction. */
const reserveSeat = (b: { bookingId: string; seatId: string }) =>
  runAction(store, {
    sagaId: b.bookingId,
    step: 'ReserveSeat',
    plan: async () => ({
      writes: [
        {
          Update: {
            TableName: tables.seats,
            Key: { seatId: b.seatId },
            UpdateExpression: 'SET holder = :me',
            ConditionExpression: 'holder = :nobody',
            ExpressionAttributeValues: { ':me': b.bookingId, ':nobody': 'nobody' },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ],
      result: { seatId: b.seatId, reservedAt: new Date().toISOString() },
      effect: { seatId: b.seatId },
      onConditionFailed: (_index, old) => new SeatTakenError(`${b.seatId} is held by ${old?.holder}`),
    }),
  });

/** FreeSeat: gives back exactly the seat the record names. */
const freeSeat = (b: { bookingId: string }) =>
  runCompensation(store, {
    sagaId: b.bookingId,
    step: 'ReserveSeat',
    compensation: 'FreeSeat',
    reverse: (done) => ({
      writes: [
        {
          Update: {
            TableName: tables.seats,
            Key: { seatId: (done.effect as { seatId: string }).seatId },
            UpdateExpression: 'SET holder = :nobody',
            ExpressionAttributeValues: { ':nobody': 'nobody' },
          },
        },
      ],
    }),
  });

describe('the step engine, with a saga of its own', () => {
  it('commits a step once however often it is delivered, and replays the recorded result', async () => {
    const b = await booking();

    const results = await Promise.all([reserveSeat(b), reserveSeat(b), reserveSeat(b)]);
    const later = await reserveSeat(b);

    for (const result of [...results, later]) expect(result).toEqual(results[0]);
    expect(await seat(b.seatId)).toMatchObject({ holder: b.bookingId });
    expect(await record(b.bookingId, 'ReserveSeat')).toMatchObject({
      bookingId: b.bookingId,
      step: 'ReserveSeat',
      state: 'DONE',
      effect: { seatId: b.seatId },
    });
  });

  it("turns a failed business condition into the saga's error, and records nothing", async () => {
    const b = await booking();
    await doc.send(
      new PutCommand({ TableName: tables.seats, Item: { seatId: b.seatId, holder: 'someone' } }),
    );

    await expect(reserveSeat(b)).rejects.toThrow(new SeatTakenError(`${b.seatId} is held by someone`));
    expect(await record(b.bookingId, 'ReserveSeat')).toBeUndefined();
  });

  it('compensates the recorded effect once; the step then refuses', async () => {
    const b = await booking();
    await reserveSeat(b);

    const outcomes = [(await freeSeat(b)).outcome, (await freeSeat(b)).outcome];

    expect(outcomes).toEqual(['compensated', 'already-compensated']);
    expect(await freeSeat(b)).toMatchObject({ bookingId: b.bookingId, compensation: 'FreeSeat' });
    expect(await seat(b.seatId)).toMatchObject({ holder: 'nobody' });
    await expect(reserveSeat(b)).rejects.toMatchObject({ name: 'SagaStepCancelled' });
    expect(await seat(b.seatId)).toMatchObject({ holder: 'nobody' });
  });

  it('tombstones a step compensated before it ran: the late delivery refuses and changes nothing', async () => {
    const b = await booking();

    expect((await freeSeat(b)).outcome).toBe('tombstoned');
    await expect(reserveSeat(b)).rejects.toMatchObject({ name: 'SagaStepCancelled' });

    expect(await seat(b.seatId)).toMatchObject({ holder: 'nobody' });
    expect(await record(b.bookingId, 'ReserveSeat')).toMatchObject({
      state: 'TOMBSTONE',
      compensatedBy: 'FreeSeat',
    });
  });

  it("checks the saga's guard in the step's own transaction: its refusal wins", async () => {
    const b = await booking();
    await doc.send(
      new PutCommand({
        TableName: tables.shows,
        Item: { showId: b.bookingId.split('/')[0], status: 'CLOSED' },
      }),
    );
    // The seat is taken too: the guard's refusal is the one reported.
    await doc.send(
      new PutCommand({ TableName: tables.seats, Item: { seatId: b.seatId, holder: 'someone' } }),
    );

    await expect(reserveSeat(b)).rejects.toMatchObject({ name: 'ShowClosed' });
    expect(await record(b.bookingId, 'ReserveSeat')).toBeUndefined();
  });
});
