/**
 * The layer rule (.dependency-cruiser.cjs, `npm run lint:layers`) run on small trees written here: it
 * passes a tree whose imports point the allowed way, and fails an upward import, an app import from the
 * local cloud, and a cycle, naming the rule each time. So the CI check cannot pass by matching nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DEPCRUISE = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Writes the files into a fresh tree and runs the layer rule on it. */
function lint(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-layers-'));
  dirs.push(dir);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  const run = spawnSync(
    process.execPath,
    [
      DEPCRUISE,
      '--config',
      path.join(ROOT, '.dependency-cruiser.cjs'),
      '--output-type',
      'err',
      ...Object.keys(files),
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const allowed = {
  'toolkit/construct/saga.ts': "import { engine } from '../runtime/engine';\nexport const saga = engine;\n",
  'toolkit/runtime/engine.ts': "export const engine = 'generic';\n",
  'lib/contract.ts': "import { saga } from '../toolkit/construct/saga';\nexport const order = saga;\n",
  'lambdas/step.ts': "import { engine } from '../toolkit/runtime/engine';\nexport const step = engine;\n",
  'client/api.ts':
    "import { order } from '../lib/contract';\nimport { cloud } from '../localcloud/cloud';\nexport const api = [order, cloud];\n",
  'localcloud/cloud.ts': "export const cloud = 'any app';\n",
};

describe('the layer rule (npm run lint:layers)', () => {
  it('passes imports that point down: toolkit construct → runtime, order → toolkit, tools → order and local cloud', () => {
    const { status, output } = lint(allowed);
    expect(output).toContain('no dependency violations found');
    expect(status).toBe(0);
  });

  it('fails the local cloud importing the app', () => {
    const { status, output } = lint({
      ...allowed,
      'localcloud/cloud.ts': "import { order } from '../lib/contract';\nexport const cloud = order;\n",
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/localcloud-is-app-agnostic: localcloud\/cloud\.ts → lib\/contract\.ts/);
  });

  it('fails an upward import: the toolkit importing the order saga or the local cloud, the order saga importing a tool', () => {
    const { status, output } = lint({
      ...allowed,
      'toolkit/construct/saga.ts':
        "import { order } from '../../lib/contract';\nexport const saga = order;\n",
      'toolkit/runtime/engine.ts':
        "import { cloud } from '../../localcloud/cloud';\nexport const engine = cloud;\n",
      'lib/contract.ts': "import { api } from '../client/api';\nexport const order = api;\n",
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/toolkit-is-generic: toolkit\/construct\/saga\.ts → lib\/contract\.ts/);
    expect(output).toMatch(/toolkit-is-generic: toolkit\/runtime\/engine\.ts → localcloud\/cloud\.ts/);
    expect(output).toMatch(/order-saga-imports-only-the-toolkit: lib\/contract\.ts → client\/api\.ts/);
  });

  it('fails a cycle inside one layer', () => {
    const { status, output } = lint({
      ...allowed,
      'localcloud/cloud.ts': "import { deploy } from './deploy';\nexport const cloud = deploy;\n",
      'localcloud/deploy.ts':
        "import type { cloud } from './cloud';\nexport const deploy: typeof cloud = 'x';\n",
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/no-cycles: localcloud\/(cloud|deploy)\.ts/);
  });
});
