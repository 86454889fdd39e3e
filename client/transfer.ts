/**
 * Tools for the money transfer saga (lib/transfer-contract.ts): the demo accounts the local cloud seeds
 * into an empty Accounts table, and a small driver (start a transfer, wait for its outcome, read balances,
 * redrive the DLQ) shared by the e2e tests and chaos.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { TRANSFER_ID_ATTRIBUTE, TRANSFER_OUTPUTS, type TransferInput } from '../lib/transfer-contract';
import type { PluginContext, SagaPlugin, SeedReport } from '../localcloud/plugin';
import type { RedriveReport } from '../toolkit/runtime/redrive';
import type { AwsClientSettings } from './aws';

/** The demo accounts (minor units). */
export const DEMO_ACCOUNTS: Record<string, number> = {
  'acct-alice': 100_000,
  'acct-bob': 50_000,
  'acct-carol': 0,
};

/** Writes `accounts` (id → balance) into the Accounts table. */
export async function putAccounts(
  doc: DynamoDBDocumentClient,
  table: string,
  accounts: Record<string, number>,
) {
  for (const [accountId, balance] of Object.entries(accounts))
    await doc.send(new PutCommand({ TableName: table, Item: { accountId, balance } }));
}

/** Seeds the demo accounts when the Accounts table is empty (a `--persist`ed table keeps its data). */
async function seedTransferAccounts(ctx: PluginContext): Promise<SeedReport> {
  const table = ctx.output(TRANSFER_OUTPUTS.accountsTable);
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: ctx.endpoint, region: ctx.region, credentials: ctx.credentials }),
  );
  try {
    const scan = await doc.send(new ScanCommand({ TableName: table, Limit: 1, Select: 'COUNT' }));
    if ((scan.Count ?? 0) > 0) return { counts: {}, kept: ['TransferAccounts'] };
    await putAccounts(doc, table, DEMO_ACCOUNTS);
    return { counts: { TransferAccounts: Object.keys(DEMO_ACCOUNTS).length }, kept: [] };
  } finally {
    doc.destroy();
  }
}

/** The transfer's entry in the app config (stepsaga.config.ts). */
export const transferSaga: SagaPlugin = {
  name: 'transfer',
  outputNames: { stateMachineArn: TRANSFER_OUTPUTS.stateMachineArn, dlqUrl: TRANSFER_OUTPUTS.dlqUrl },
  idField: TRANSFER_ID_ATTRIBUTE,
  seed: seedTransferAccounts,
};

export type TransferOutcome = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** Starts transfers on the state machine (execution name = transferId) and reads accounts. */
export class TransferDriver {
  readonly sfn: SFNClient;
  readonly doc: DynamoDBDocumentClient;
  readonly lambda: LambdaClient;
  constructor(
    sdk: AwsClientSettings,
    readonly outputs: Readonly<Record<string, string>>,
  ) {
    this.sfn = new SFNClient(sdk);
    this.doc = DynamoDBDocumentClient.from(new DynamoDBClient(sdk));
    this.lambda = new LambdaClient(sdk);
  }

  get accountsTable(): string {
    return String(this.outputs[TRANSFER_OUTPUTS.accountsTable]);
  }

  async start(input: TransferInput): Promise<string> {
    const out = await this.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: this.outputs[TRANSFER_OUTPUTS.stateMachineArn],
        name: input.transferId,
        input: JSON.stringify(input),
      }),
    );
    return String(out.executionArn);
  }

  /** Polls DescribeExecution until the execution ends (at most `timeoutMs`). */
  async outcome(
    executionArn: string,
    timeoutMs = 60_000,
  ): Promise<{ status: TransferOutcome; error?: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const d = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (d.status !== 'RUNNING' && d.status !== 'PENDING_REDRIVE')
        return { status: d.status as TransferOutcome, ...(d.error ? { error: d.error } : {}) };
      if (Date.now() > deadline) throw new Error(`${executionArn} still ${d.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async run(input: TransferInput): Promise<{ status: TransferOutcome; error?: string }> {
    return this.outcome(await this.start(input));
  }

  async balance(accountId: string): Promise<number | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.accountsTable, Key: { accountId }, ConsistentRead: true }),
    );
    return out.Item ? Number(out.Item.balance) : undefined;
  }

  /**
   * Runs the transfer's Redrive function (replays the compensations parked on the DLQ, or only those of
   * `transferId`): its report.
   */
  async redrive(transferId?: string): Promise<RedriveReport> {
    const scope = transferId ? { [TRANSFER_ID_ATTRIBUTE]: transferId } : {};
    const out = await this.lambda.send(
      new InvokeCommand({
        FunctionName: this.outputs[TRANSFER_OUTPUTS.redriveFunction],
        Payload: JSON.stringify(scope),
      }),
    );
    const text = new TextDecoder().decode(out.Payload);
    if (out.FunctionError) throw new Error(`Redrive failed: ${text}`);
    return JSON.parse(text) as RedriveReport;
  }

  close(): void {
    this.sfn.destroy();
    this.doc.destroy();
    this.lambda.destroy();
  }
}
