/**
 * The transfer saga's redrive, in process: the toolkit's DLQ replay given the transfer's dead letters
 * (`transferRedrive`), real SQS (local-aws-sqs over HTTP), the real transfer handlers on DynamoDB Local.
 * A Debit committed, its CreditBack kept failing and was dead-lettered as the `Saga` construct writes it;
 * the replay credits the source back once and deletes the message. test/e2e/transfer.test.ts runs the same
 * through the state machine and the deployed Redrive function.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { transferRedrive } from '../../lambdas/domain/transfer';
import { TRANSFER_ENV, TRANSFER_ID_ATTRIBUTE, type TransferInput } from '../../lib/transfer-contract';
import { type InvokePort, redriveDeadLetters } from '../../toolkit/runtime/redrive';
import { localClient } from '../support/dynamodb-local';
import { type Handler, lambdaContext, loadHandler } from '../support/handlers';
import { type LocalSqs, startSqs } from '../support/sqs-local';

const prefix = `transfer-${randomUUID().slice(0, 8)}`;
const tables = { accounts: `${prefix}-Accounts`, keys: `${prefix}-IdempotencyKeys` };
const doc = DynamoDBDocumentClient.from(localClient());
let localSqs: LocalSqs;
let sqs: SQSClient;
const handlers: Record<string, Handler> = {};
const FUNCTIONS = {
  CreditBack: 'TransferSaga-CreditBackFunction',
  DebitBack: 'TransferSaga-DebitBackFunction',
};

/** RequestResponse-shaped invoke of the transfer handlers, in process. */
const invoke: InvokePort = async (functionName, event) => {
  const handler = handlers[functionName];
  if (!handler) return { ok: false, error: 'ResourceNotFoundException', cause: functionName };
  try {
    return { ok: true, result: await handler(event, lambdaContext()) };
  } catch (error) {
    return { ok: false, error: (error as Error).name, cause: (error as Error).message };
  }
};

beforeAll(async () => {
  const client = localClient();
  const create = (TableName: string, keys: string[]) =>
    client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
        KeySchema: keys.map((AttributeName, i) => ({ AttributeName, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      }),
    );
  await create(tables.accounts, ['accountId']);
  await create(tables.keys, [TRANSFER_ID_ATTRIBUTE, 'step']);
  localSqs = await startSqs();
  sqs = localSqs.sqs;
  const env = { [TRANSFER_ENV.accounts]: tables.accounts, [TRANSFER_ENV.idempotency]: tables.keys };
  const local = { endpoint: inject('dynamodbEndpoint'), env };
  handlers.Debit = await loadHandler('transfer-debit', local);
  handlers[FUNCTIONS.DebitBack] = await loadHandler('transfer-debit-back', local);
  // Faults on (read at the first invocation): the letter's plan would fail CreditBack if it were replayed.
  handlers[FUNCTIONS.CreditBack] = await loadHandler('transfer-credit-back', local, {
    STEPSAGA_FAULTS: 'on',
  });
});

afterAll(async () => {
  await localSqs?.close();
});

const balance = async (accountId: string) =>
  (await doc.send(new GetCommand({ TableName: tables.accounts, Key: { accountId }, ConsistentRead: true })))
    .Item?.balance;

describe('the transfer saga redrive', () => {
  it('replays a dead-lettered CreditBack once: the source is credited back and the message deleted', async () => {
    // Arrange: the Debit committed; CreditBack kept failing and the state machine parked it.
    const transfer: TransferInput = {
      transferId: `${prefix}-1`,
      from: `${prefix}-src`,
      to: `${prefix}-dst`,
      amount: 200,
    };
    await doc.send(
      new PutCommand({ TableName: tables.accounts, Item: { accountId: transfer.from, balance: 500 } }),
    );
    const executionArn = `arn:aws:states:us-east-1:123456789012:execution:TransferSaga-dev:${transfer.transferId}`;
    await handlers.Debit?.({ saga: transfer, context: { executionArn, retryCount: 0 } }, lambdaContext());
    const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-dlq` })))
      .QueueUrl as string;
    const letter = {
      [TRANSFER_ID_ATTRIBUTE]: transfer.transferId,
      step: 'CreditBack',
      error: 'InjectedFailure',
      cause: 'Injected failure in CreditBack',
      executionArn,
      input: {
        ...transfer,
        faults: { CreditBack: 'fail' },
        failure: { step: 'Credit', error: 'UnknownAccount' },
      },
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(letter) }));
    await sqs.send(
      new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify({ ...letter, step: 'Debit' }) }),
    );
    expect(await balance(transfer.from)).toBe(300);
    const redrive = () =>
      redriveDeadLetters({
        ...transferRedrive(),
        sqs,
        dlqUrl,
        invoke,
        compensationFunctions: FUNCTIONS,
        visibilityTimeoutSeconds: 1,
      });

    // Act
    const report = await redrive();

    // Assess: replayed without its fault plan; a letter naming a step that is not a compensation is refused.
    expect(report.succeeded).toEqual([
      expect.objectContaining({
        [TRANSFER_ID_ATTRIBUTE]: transfer.transferId,
        step: 'CreditBack',
        detail: 'compensated',
      }),
    ]);
    expect(report.failed).toEqual([
      expect.objectContaining({ detail: 'malformed message: bad or missing step' }),
    ]);
    expect(await balance(transfer.from)).toBe(500);
    // Only the refused letter is left: received again once its 1 s visibility timeout lapses.
    const left = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }),
    );
    expect(left.Messages?.map((m) => JSON.parse(m.Body ?? '{}').step)).toEqual(['Debit']);
  });
});
