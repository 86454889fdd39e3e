/**
 * The local cloud synthesizes the app itself (cdk.json's `app` with the CLI's context), not through the
 * CDK CLI: the assembly must be the one `cdk synth` makes with the same `-c` flags.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCdkProject, staleReason, synthesize } from '../../localcloud/synth';

const dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cdkSynth(output: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/cdk.ts', 'synth', '-c', 'faults=on', '--quiet', '--output', output],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CDK_VALIDATION: 'false' } },
    );
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cdk synth exited ${code}`))));
  });
}

const json = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe('synthesize', () => {
  it('makes the assembly `cdk synth -c faults=on` makes, and marks it with its context', async () => {
    const direct = path.join(dir, 'direct');
    const viaCli = path.join(dir, 'cli');
    await Promise.all([synthesize(direct, { faults: 'on' }), cdkSynth(viaCli)]);

    const files = (d: string) =>
      readdirSync(d).filter((f) => f.endsWith('.json') && f !== 'stepsaga-synth.json');
    expect(files(direct).sort()).toEqual(files(viaCli).sort());
    expect(files(direct)).toContain('manifest.json');
    for (const file of files(viaCli))
      expect(json(path.join(direct, file)), file).toEqual(json(path.join(viaCli, file)));
    const assets = (d: string) =>
      readdirSync(d)
        .filter((f) => f.startsWith('asset.'))
        .sort();
    expect(assets(direct)).toEqual(assets(viaCli));
    expect(assets(direct).length).toBeGreaterThan(10);

    expect(staleReason(direct, { context: { faults: 'on' } })).toBeUndefined();
    expect(staleReason(viaCli, { context: { faults: 'on' } })).toMatch(/not synthesized with -c faults=on/);
    // `npm run synth --output` the same folder afterwards (the CLI leaves the note): not ours any more
    writeFileSync(
      path.join(direct, 'manifest.json'),
      readFileSync(path.join(direct, 'manifest.json'), 'utf8').replace('{', '{ '),
    );
    expect(staleReason(direct, { context: { faults: 'on' } })).toMatch(
      /synthesized by another command since/,
    );
  });

  it('names the folder when the project has no cdk.json', () => {
    expect(() => readCdkProject(dir)).toThrow(`No cdk.json in ${dir}`);
  });

  it('reads the app command, the context and the watched source folders from cdk.json', () => {
    const project = readCdkProject();
    expect(project.app).toBe('node --import tsx bin/app.ts');
    expect(project.context).toMatchObject({ stage: 'dev' });
    expect(project.sources.map((s) => path.relative(process.cwd(), s))).toEqual([
      'bin',
      'lib',
      'lambdas',
      'toolkit',
    ]);
  });
});
