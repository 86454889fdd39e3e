/**
 * The synthesized assembly the tests and the local cloud use: `cdk.out`, synthesized with `-c faults=on`
 * (the dev stage with fault injection). Re-synthesized when missing, older than the sources, or
 * synthesized without fault injection.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { STACK_NAME } from '../../lib/contract';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ASSEMBLY_DIR = path.join(ROOT, 'cdk.out');
const SOURCES = ['bin', 'lib', 'lambdas', 'cdk.json', 'package-lock.json'];

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/** True when cdk.out is current and was synthesized with fault injection on. */
export function assemblyIsCurrent(): boolean {
  const template = path.join(ASSEMBLY_DIR, `${STACK_NAME}.template.json`);
  if (!existsSync(template)) return false;
  const built = statSync(template).mtimeMs;
  if (SOURCES.some((source) => newestMtime(path.join(ROOT, source)) > built)) return false;
  return /"STEPSAGA_FAULTS":\s*"on"/.test(readFileSync(template, 'utf8'));
}

export async function ensureAssembly(): Promise<string> {
  if (!assemblyIsCurrent()) {
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'scripts/cdk.mjs'), 'synth', '-c', 'faults=on', '--quiet'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  }
  return ASSEMBLY_DIR;
}
