/**
 * Keeping the cloud assembly current: whether `cdk.out` is older than the app's sources (or was
 * synthesized without fault injection), and synthesizing it (`npm start`, tests, benchmarks, chaos).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Why the assembly must be (re)synthesized, or undefined when it is up to date. */
export function staleReason(
  assemblyDir: string,
  sourceDirs = ['bin', 'lib', 'lambdas', 'toolkit'],
): string | undefined {
  const manifest = path.join(assemblyDir, 'manifest.json');
  if (!existsSync(manifest)) return `${assemblyDir} is missing`;
  const builtAt = statSync(manifest).mtimeMs;
  const changed = sourceDirs.find((dir) => newestMtime(dir) > builtAt);
  if (changed) return `${changed}/ changed since the last synth`;
  const templates = readdirSync(assemblyDir).filter((f) => f.endsWith('.template.json'));
  const faultsOn = templates.some((t) =>
    /"STEPSAGA_FAULTS":\s*"on"/.test(readFileSync(path.join(assemblyDir, t), 'utf8')),
  );
  if (!faultsOn) return `${assemblyDir} was synthesized without fault injection (-c faults=on)`;
  return undefined;
}

/**
 * `node scripts/cdk.mjs synth -c faults=on --quiet` (the dev-stage assembly with fault injection on).
 * Without CDK's built-in CloudFormation template validation (`CDK_VALIDATION=false`): two thirds of the
 * app's CPU, for a check of the same template that `npm run synth`, `cdk deploy` and CI's synth step run;
 * the local cloud's deploy checks what it runs itself.
 */
export function synthesize(assemblyDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = ['scripts/cdk.mjs', 'synth', '-c', 'faults=on', '--quiet', '--output', assemblyDir];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, CDK_VALIDATION: 'false' },
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(assemblyDir);
      else reject(new Error(`cdk synth failed (exit ${code}):\n${stderr.trim()}`));
    });
  });
}
