/**
 * The local cloud as a child process in its own process group (`npm start -- --persist DIR`), for the
 * kill -9 runs: start it, SIGKILL the whole group (the Node process, its Lambda workers and the DynamoDB
 * Local JVM at the same instant), start it again on the same directory and port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type ChaosTarget, makeTarget, parseOutputs } from '../client/target';
import { freePort } from '../localcloud/dynamodb/local';
import type { ChaosOptions } from './run';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface CloudProcessOptions {
  persistDir: string;
  port: number;
  assembly: string;
  retryScale: number;
  /** Where the CLI writes the outputs. */
  outputsFile: string;
  /** More CLI options (e.g. `['--iam', 'off']`). */
  extraArgs?: string[];
  /** How long to wait for the ready line. @default 120 s */
  startTimeoutMs?: number;
}

export class CloudProcess {
  private child: ChildProcess | undefined;
  /** The ready line of the last start. */
  readyLine = '';

  constructor(readonly options: CloudProcessOptions) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  outputs(): Record<string, unknown> {
    return JSON.parse(readFileSync(this.options.outputsFile, 'utf8')) as Record<string, unknown>;
  }

  /** Starts `npm start -- --persist DIR` (through node directly) and resolves on its ready line. */
  async start(): Promise<string> {
    const o = this.options;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'localcloud/cli.ts',
        '--persist',
        o.persistDir,
        '--port',
        String(o.port),
        '--assembly',
        o.assembly,
        '--no-synth',
        '--retry-scale',
        String(o.retryScale),
        '--outputs',
        o.outputsFile,
        '--quiet',
        ...(o.extraArgs ?? []),
      ],
      { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    this.readyLine = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the local cloud did not print its ready line in time:\n${stderr}`));
      }, o.startTimeoutMs ?? 120_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = stdout.split('\n').find((l) => l.startsWith('ready'));
        if (line) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the local cloud exited before it was ready (${code ?? signal}):\n${stderr}`));
      });
    });
    child.stdout?.resume();
    return this.readyLine;
  }

  /** SIGKILL to the whole process group; resolves once the local cloud's own process is gone. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM (a graceful stop); resolves once the process exited. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
    await gone;
  }
}

/**
 * `--kill-at random`: a number of posted orders drawn from the seed (1..sagas), the same for the same
 * seed.
 */
export function randomKillPoint(sagas: number, seed: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return 1 + (((h ^ (h >>> 16)) >>> 0) % sagas);
}

/**
 * `npm run chaos -- --persist DIR [--kill-at N]` (and the kill -9 test): a local cloud of its own with
 * `--persist DIR` in a child process, the chaos target on it, and with `killAfterPosted` the interrupt
 * that SIGKILLs its whole process group once that many orders were posted and starts it again on the
 * same directory and port.
 */
export async function persistedCloud(options: {
  dir: string;
  assembly: string;
  retryScale: number;
  killAfterPosted?: number;
  /** `--lambda-concurrency N` for the local cloud (and its restart). */
  lambdaConcurrency?: number;
  log?: (line: string) => void;
}): Promise<{
  target: ChaosTarget;
  cloud: CloudProcess;
  interrupt?: ChaosOptions['interrupt'];
  /** The ready line of the restart, once it happened. */
  restartLine: () => string | undefined;
  close: () => Promise<void>;
}> {
  const log = options.log ?? (() => undefined);
  const persistDir = path.resolve(options.dir);
  const cloud = new CloudProcess({
    persistDir,
    port: await freePort(),
    assembly: options.assembly,
    retryScale: options.retryScale,
    outputsFile: path.join(persistDir, 'outputs.json'),
    ...(options.lambdaConcurrency !== undefined
      ? { extraArgs: ['--lambda-concurrency', String(options.lambdaConcurrency)] }
      : {}),
  });
  log(`chaos: starting a local cloud with --persist ${persistDir} (child process)`);
  log(`  ${await cloud.start()}`);
  let restartLine: string | undefined;
  const { killAfterPosted } = options;
  return {
    target: makeTarget('local', parseOutputs(cloud.outputs(), 'local cloud'), cloud.endpoint),
    cloud,
    ...(killAfterPosted !== undefined
      ? {
          interrupt: {
            afterPosted: killAfterPosted,
            crash: async () => {
              await cloud.kill9();
              log("  SIGKILL to the local cloud's process group; restarting on the same directory");
              restartLine = await cloud.start();
              log(`  ${restartLine}`);
            },
          },
        }
      : {}),
    restartLine: () => restartLine,
    close: () => cloud.stop(),
  };
}
