/**
 * The app's assembly as the local cloud runs it (with the app config's `synthContext`, plus its
 * `testSynthContext`), kept current for tests, benchmarks and the chaos tool: synthesized into `.stepsaga/test-assembly` when missing, older
 * than the sources or synthesized with other context. Parallel processes synthesize once: one holds a
 * lock directory, the others wait for it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadPlugin } from './plugin';
import { type SynthContext, staleReason, synthesize } from './synth';

export const TEST_ASSEMBLY_DIR = '.stepsaga/test-assembly';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Synthesizes the app into `dir` unless it is up to date, with `context` (default: the app config's
 * `synthContext` with its `testSynthContext` on top). Test files run in parallel workers, so one synthesizes under a lock directory and the
 * others wait for it.
 */
export async function ensureAssembly(
  dir = TEST_ASSEMBLY_DIR,
  timeoutMs = 240_000,
  context?: SynthContext,
): Promise<string> {
  const plugin = context === undefined ? await loadPlugin() : undefined;
  const wanted = context ?? { ...plugin?.synthContext, ...plugin?.testSynthContext };
  const lock = `${dir}.lock`;
  const deadline = Date.now() + timeoutMs;
  mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  for (;;) {
    if (!staleReason(dir, { context: wanted })) return dir;
    try {
      mkdirSync(lock);
    } catch {
      const owner = Number(existsSync(`${lock}/pid`) ? readFileSync(`${lock}/pid`, 'utf8') : Number.NaN);
      if (Number.isInteger(owner) && !processAlive(owner)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline)
        throw new Error(`Timed out waiting for another process to synthesize ${dir}`);
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      writeFileSync(`${lock}/pid`, String(process.pid));
      if (staleReason(dir, { context: wanted })) {
        rmSync(dir, { recursive: true, force: true });
        await synthesize(dir, wanted);
      }
      return dir;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
