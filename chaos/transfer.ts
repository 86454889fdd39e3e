/**
 * Chaos for the money transfer saga (`npm run chaos -- --saga transfer`): a seeded plan of transfers
 * between a few accounts (some to or from unknown accounts, some with injected faults on the steps and on
 * the compensations), run concurrently, then checked:
 *
 * - money is conserved across all accounts (no unknown account appears);
 * - no transfer is stuck (every execution ended) and none dead-lettered (the DLQ is empty);
 * - every transfer has one outcome consistent with its execution: SUCCEEDED ⇔ its Debit and Credit
 *   records are DONE; FAILED ⇒ neither is (compensated, tombstoned or never run); a transfer that touches an
 *   unknown account or whose Debit/Credit was made to fail (or to crash after its commit) is FAILED.
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClientSettings } from '../client/aws';
import { putAccounts, TransferDriver } from '../client/transfer';
import { TRANSFER_OUTPUTS, type TransferInput } from '../lib/transfer-contract';
import { formatIam, iamDuring, readIam } from './iam';
import { Random } from './random';

export interface TransferChaosOptions {
  seed: number;
  sagas: number;
  concurrency: number;
  namespace: string;
  log(line: string): void;
}

const ACCOUNTS = 12;
/** Faults that leave the saga able to finish its unwind (a compensation always succeeds in the end). */
const FAULTS: readonly TransferInput['faults'][] = [
  { Debit: 'fail' },
  { Credit: 'fail' },
  { Debit: 'transient:2' },
  { Credit: 'transient:2' },
  { Debit: 'duplicate', Credit: 'duplicate' },
  { Debit: 'crash-after-commit' },
  { Credit: 'crash-after-commit', DebitBack: 'duplicate' },
  { Credit: 'fail', CreditBack: 'transient:2', DebitBack: 'crash-after-commit' },
];

/** The seeded plan: opening balances and the transfers. */
export function planTransfers(options: Pick<TransferChaosOptions, 'seed' | 'sagas' | 'namespace'>) {
  const random = new Random(options.seed);
  const accounts: Record<string, number> = {};
  for (let i = 0; i < ACCOUNTS; i++) accounts[`${options.namespace}-acct-${i}`] = random.int(0, 10_000);
  const ids = Object.keys(accounts);
  const unknown = `${options.namespace}-acct-unknown`;
  const transfers: TransferInput[] = [];
  for (let n = 0; n < options.sagas; n++) {
    const [from, to] = random.sample(ids, 2) as [string, string];
    const roll = random.next();
    transfers.push({
      transferId: `${options.namespace}-t${n}`,
      from: roll < 0.05 ? unknown : from,
      to: roll >= 0.05 && roll < 0.12 ? unknown : to,
      amount: random.int(1, 4_000),
      ...(random.chance(0.4) ? { faults: random.pick(FAULTS) } : {}),
    });
  }
  return { accounts, unknown, transfers };
}

export async function runTransferChaos(
  sdk: AwsClientSettings,
  outputs: Readonly<Record<string, string>>,
  options: TransferChaosOptions,
): Promise<{ violations: number; lines: string[] }> {
  const missing = Object.values(TRANSFER_OUTPUTS).filter((name) => !outputs[name]);
  if (missing.length > 0)
    throw new Error(
      `the target has no transfer saga (missing output(s) ${missing.join(', ')}): deploy TransferSaga`,
    );
  const plan = planTransfers(options);
  const driver = new TransferDriver(sdk, outputs);
  const iamBefore = await readIam(sdk.endpoint);
  const violations: string[] = [];
  const outcomes = new Map<string, string>();
  try {
    await putAccounts(driver.doc, driver.accountsTable, plan.accounts);
    const queue = [...plan.transfers];
    options.log(
      `chaos: ${queue.length} transfers over ${ACCOUNTS} accounts, concurrency ${options.concurrency}`,
    );
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        for (let t = queue.shift(); t; t = queue.shift()) {
          const arn = await driver.start(t);
          const result = await driver
            .outcome(arn, 300_000)
            .catch((error: Error) => ({ status: error.message }));
          outcomes.set(t.transferId, result.status);
        }
      }),
    );

    const before = Object.values(plan.accounts).reduce((a, b) => a + b, 0);
    let after = 0;
    for (const id of Object.keys(plan.accounts)) after += (await driver.balance(id)) ?? Number.NaN;
    if (after !== before) violations.push(`money not conserved: ${before} before, ${after} after`);
    if ((await driver.balance(plan.unknown)) !== undefined) violations.push(`${plan.unknown} was created`);

    for (const t of plan.transfers) {
      const status = outcomes.get(t.transferId);
      const done = [];
      for (const step of ['Debit', 'Credit']) {
        const key = { orderId: t.transferId, step };
        const table = outputs[TRANSFER_OUTPUTS.idempotencyTable];
        const record = await driver.doc.send(
          new GetCommand({ TableName: table, Key: key, ConsistentRead: true }),
        );
        if (record.Item?.state === 'DONE') done.push(step);
      }
      const mustFail =
        t.from === plan.unknown ||
        t.to === plan.unknown ||
        t.faults?.Debit === 'fail' ||
        t.faults?.Credit === 'fail';
      if (status === 'SUCCEEDED' && (done.length !== 2 || mustFail))
        violations.push(`${t.transferId}: SUCCEEDED with ${done.join('+') || 'no step'} DONE`);
      else if (status === 'FAILED' && done.length > 0)
        violations.push(`${t.transferId}: FAILED but ${done.join('+')} still DONE`);
      else if (status !== 'SUCCEEDED' && status !== 'FAILED') violations.push(`${t.transferId}: ${status}`);
    }

    const sqs = new SQSClient(sdk);
    const dlq = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: outputs[TRANSFER_OUTPUTS.dlqUrl],
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    sqs.destroy();
    const letters =
      Number(dlq.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(dlq.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    if (letters > 0) violations.push(`${letters} dead letter(s) in the transfer DLQ`);
    const iam = iamDuring(iamBefore, await readIam(sdk.endpoint));
    violations.push(...(iam?.violations ?? []));

    const count = (s: string) => [...outcomes.values()].filter((o) => o === s).length;
    return {
      violations: violations.length,
      lines: [
        `transfers: ${plan.transfers.length} (succeeded ${count('SUCCEEDED')}, failed ${count('FAILED')})`,
        `money: ${before} before, ${after} after`,
        formatIam(iam?.counts),
        ...violations.map((v) => `  violation: ${v}`),
        `invariant violations: ${violations.length}`,
      ],
    };
  } finally {
    driver.close();
  }
}
