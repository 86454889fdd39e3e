/**
 * `npm run nag`: synthesizes the app with cdk-nag's AwsSolutions pack for every variant the app can
 * produce (dev, prod, Express, CORS) and exits non-zero on any unacknowledged error or warning.
 * CDK prints each finding (rule, construct path, source line, the id to acknowledge); acknowledgements
 * live in lib/nag-acknowledgements.ts, each with its reason.
 *
 * Usage: npm run nag [-- -c key=value ...]   (extra context applies to every variant)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { cdkJsonContext, createApp } from '../lib/app';

const VARIANTS: Record<string, Record<string, string>> = {
  dev: { stage: 'dev' },
  'dev+faults': { stage: 'dev', faults: 'on' },
  prod: { stage: 'prod' },
  'prod+express': { stage: 'prod', express: 'true' },
  'dev+cors': { stage: 'dev', corsOrigin: 'https://console.example.com' },
};

function extraContext(argv: string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '-c' && argv[i] !== '--context') continue;
    const pair = argv[++i] ?? '';
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`expected -c key=value, got '${pair}'`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}

const extra = extraContext(process.argv.slice(2));
const outRoot = mkdtempSync(path.join(tmpdir(), 'stepsaga-nag-'));
let failed = 0;
try {
  for (const [name, variant] of Object.entries(VARIANTS)) {
    const { app, stack } = createApp({
      // Template checks only: skip Lambda bundling (esbuild) for speed.
      context: { ...cdkJsonContext(), ...variant, ...extra, nag: 'true', 'aws:cdk:bundling-stacks': [] },
      outdir: path.join(outRoot, name),
    });
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .reduce((n, m) => n + Object.keys(m.data as object).length, 0);
    try {
      app.synth();
      console.log(`cdk-nag ${name}: 0 unacknowledged findings (${acknowledged} acknowledged, with reasons)`);
    } catch (error) {
      failed++;
      console.error(`cdk-nag ${name}: unacknowledged findings (see the report above): ${String(error)}`);
    }
  }
} finally {
  rmSync(outRoot, { recursive: true, force: true });
}
process.exit(failed > 0 ? 1 : 0);
