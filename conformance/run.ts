/**
 * `npm run conformance [-- --only id,id --verbose]`: runs the AWS-recorded Step Functions cases
 * (`../shared/conformance`, or STEPSAGA_CONFORMANCE_RUNNER) with `conformance/adapter.mjs`.
 * Against STEPSAGA_ENDPOINT when it is set (a running local cloud, LocalStack...), otherwise against a
 * fresh local cloud started here (bare services, no assembly) and stopped afterwards.
 * Prints the runner's `N passed, M failed` and exits with its code.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCloud } from '../localcloud/cloud';

const here = path.dirname(fileURLToPath(import.meta.url));
const runner =
  process.env.STEPSAGA_CONFORMANCE_RUNNER ??
  path.resolve(here, '..', '..', 'shared', 'conformance', 'run.mjs');
const adapter = path.join(here, 'adapter.mjs');

async function main(): Promise<number> {
  const external = process.env.STEPSAGA_ENDPOINT;
  const cloud = external ? undefined : await startLocalCloud({ port: 0, assembly: false, quiet: true });
  const endpoint = external ?? cloud?.endpoint ?? '';
  try {
    const child = spawn(process.execPath, [runner, adapter, ...process.argv.slice(2)], {
      env: { ...process.env, STEPSAGA_ENDPOINT: endpoint },
      stdio: 'inherit',
    });
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await cloud?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
