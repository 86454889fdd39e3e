/**
 * Child processes the local cloud starts (the DynamoDB Local JVM). Every one is registered here so it is
 * killed when the Node.js process exits or receives SIGINT/SIGTERM: the local cloud never leaves an
 * orphaned JVM behind, even when its owner forgets to call `close()`.
 */
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  // When nobody else handles the signal, keep the default behaviour (terminate with that signal).
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

/** Tracks a child so it dies with this process; untracked again once it exits. */
export function trackChild(child: ChildProcess): void {
  installHooks();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Pids of the live children (tests use it to prove nothing is left behind). */
export function childPids(): number[] {
  return [...children].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
}
