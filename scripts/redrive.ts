/**
 * `npm run redrive -- [--outputs FILE]`: invokes the deployed Redrive function (which replays the DLQ's
 * failed compensations) and prints its report. Reads `RedriveFunctionName` and `Endpoint` (absent = real
 * AWS) from `.stepsaga/outputs.json` (flat keys or the `cdk deploy --outputs-file` nested form); signs
 * with the standard credential chain in the stack's region (client/aws.ts).
 * Exits 1 when a message failed again (or the function itself failed).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { awsClientSettings } from '../client/aws';
import type { RedriveEntry, RedriveReport } from '../lambdas/domain/redrive';
import { argValue, readOutputsFile } from './seed';

function line(entry: RedriveEntry): string {
  const what = entry.orderId ? `${entry.orderId} ${entry.step ?? ''}`.trim() : `message ${entry.messageId}`;
  return `  - ${what}${entry.detail ? `: ${entry.detail}` : ''}`;
}

/** A human-readable report. */
export function formatReport(report: RedriveReport): string {
  const out = [
    `Redrive: ${report.processed} message(s) processed, ${report.succeeded.length} succeeded, ` +
      `${report.failed.length} failed, ${report.skipped.length} skipped, ${report.remaining} left on the DLQ`,
  ];
  if (report.succeeded.length > 0)
    out.push('Succeeded (deleted from the DLQ):', ...report.succeeded.map(line));
  if (report.failed.length > 0) {
    out.push('Failed again (kept; they reappear after the visibility timeout):', ...report.failed.map(line));
  }
  if (report.skipped.length > 0) out.push('Skipped (kept):', ...report.skipped.map(line));
  if (report.processed === 0) out.push('The DLQ is empty: nothing to redrive.');
  return out.join('\n');
}

export async function runRedrive(
  argv: readonly string[],
): Promise<{ report: RedriveReport; exitCode: number }> {
  const outputsPath = resolve(argValue(argv, '--outputs') ?? '.stepsaga/outputs.json');
  const outputs = readOutputsFile(outputsPath);
  const functionName = outputs.RedriveFunctionName;
  if (!functionName) throw new Error(`${outputsPath} has no RedriveFunctionName output`);
  const client = new LambdaClient(awsClientSettings(outputs));
  try {
    // `--order ID`: only that order's dead letters (what POST /orders/{orderId}/resume does).
    const orderId = argValue(argv, '--order');
    const out = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        ...(orderId ? { Payload: new TextEncoder().encode(JSON.stringify({ orderId })) } : {}),
      }),
    );
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) throw new Error(`The Redrive function failed (${out.FunctionError}): ${text}`);
    const report = JSON.parse(text) as RedriveReport;
    return { report, exitCode: report.failed.length > 0 ? 1 : 0 };
  } finally {
    client.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runRedrive(process.argv.slice(2))
    .then(({ report, exitCode }) => {
      console.log(formatReport(report));
      process.exitCode = exitCode;
    })
    .catch((error: unknown) => {
      console.error(`redrive failed: ${(error as Error).message}`);
      process.exitCode = 1;
    });
}
