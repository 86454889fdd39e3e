/**
 * Keeping the cloud assembly current, for any CDK app: whether it is older than the app's sources or was
 * synthesized with other context, and synthesizing it (`npm start`, tests, benchmarks, chaos).
 *
 * The app is run the way the CDK CLI's `synth` runs it, without the CLI: the `app` command of `cdk.json`
 * with `CDK_OUTDIR` and `CDK_CONTEXT_JSON` (the project's context, `cdk.context.json`, the context the CLI
 * adds and the local cloud's own, e.g. the app config's `synthContext`). Same assembly byte for byte as
 * `cdk synth --output DIR` with the same `-c` flags (checked by test/localcloud/synth.test.ts), at half the
 * CPU: the CLI is a second Node.js process loading a 10 MB bundle. The CLI stays what users run for AWS
 * (`npm run synth`, `cdk deploy`).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** CDK context as the CLI's `-c key=value` gives it. */
export type SynthContext = Readonly<Record<string, string>>;

/** What `cdk synth` adds to the context of every app it runs (aws-cdk's `Settings`/exec defaults). */
const CLI_CONTEXT = {
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
  'aws:cdk:version-reporting': true,
  'aws:cdk:bundling-stacks': ['**'],
  '@aws-cdk/core:failSynthOnValidationErrors': false,
};

/** The local cloud's note in the assembly: the context it was synthesized with. */
const MARKER = 'stepsaga-synth.json';

export interface CdkProject {
  /** `cdk.json`'s `app`: the command that runs the CDK app (a shell command, as the CLI runs it). */
  app: string;
  /** `cdk.json`'s `context` with `cdk.context.json`'s cached lookups. */
  context: Record<string, unknown>;
  /** The folders `cdk.json`'s `watch.include` names (the app's sources); empty when it has none. */
  sources: string[];
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** Reads the CDK project at `root` (its `cdk.json`, with an error naming the file when it is unusable). */
export function readCdkProject(root = process.cwd()): CdkProject {
  const file = path.join(root, 'cdk.json');
  if (!existsSync(file))
    throw new Error(`No cdk.json in ${root}: the local cloud synthesizes a CDK app from its project root`);
  const json = readJson(file);
  if (typeof json.app !== 'string') throw new Error(`${file} has no "app" command`);
  const cached = path.join(root, 'cdk.context.json');
  const watch = json.watch as { include?: unknown } | undefined;
  const include = Array.isArray(watch?.include)
    ? watch.include.filter((p): p is string => typeof p === 'string')
    : [];
  // `lib/**` → `lib`: the static part of each pattern, the folder it watches.
  const sources = [
    ...new Set(include.map((p) => p.split(/[*?[{]/)[0]?.replace(/\/+$/, '') ?? '').filter((p) => p !== '')),
  ].map((p) => path.join(root, p));
  return {
    app: json.app,
    context: {
      ...(json.context as Record<string, unknown> | undefined),
      ...(existsSync(cached) ? readJson(cached) : {}),
    },
    sources,
  };
}

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  if (!statSync(dir).isDirectory()) return statSync(dir).mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

const canonical = (context: SynthContext) =>
  JSON.stringify(Object.fromEntries(Object.entries(context).sort(([a], [b]) => a.localeCompare(b))));
const asFlags = (context: SynthContext) =>
  Object.entries(context)
    .map(([key, value]) => `-c ${key}=${value}`)
    .join(' ') || 'no extra context';

export interface StaleOptions {
  /** The context the assembly must have been synthesized with. @default {} */
  context?: SynthContext;
  /** The app's source folders. @default the project's (`cdk.json` watch.include) */
  sources?: string[];
}

/** What the marker records: the extra context, the whole context's hash and the manifest it produced. */
interface Marker {
  context: SynthContext;
  contextHash: string;
  manifestHash: string;
}

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const fullContext = (project: CdkProject, context: SynthContext) => ({
  ...project.context,
  ...CLI_CONTEXT,
  ...context,
});

/**
 * Why the assembly must be (re)synthesized, or undefined when it is up to date: missing; older than the
 * app's sources; synthesized by something else since the local cloud did (`npm run synth`, `cdk deploy`
 * write into the same folder: the manifest is no longer the one noted); or with other context (the extra
 * context, or `cdk.json`/`cdk.context.json` edited). Outside a CDK project (no `cdk.json`) an existing
 * assembly is taken as it is.
 */
export function staleReason(assemblyDir: string, options: StaleOptions = {}): string | undefined {
  const manifest = path.join(assemblyDir, 'manifest.json');
  const hasProject = existsSync(path.join(process.cwd(), 'cdk.json'));
  if (!existsSync(manifest))
    return hasProject
      ? `${assemblyDir} is missing`
      : `${assemblyDir} is missing (and there is no cdk.json here to synthesize it from)`;
  if (!hasProject && options.sources === undefined) return undefined;
  const project = hasProject ? readCdkProject() : undefined;
  const builtAt = statSync(manifest).mtimeMs;
  const sources = options.sources ?? project?.sources ?? [];
  const changed = sources.find((dir) => newestMtime(dir) > builtAt);
  if (changed) return `${path.relative(process.cwd(), changed) || changed}/ changed since the last synth`;
  const wanted = options.context ?? {};
  const markerFile = path.join(assemblyDir, MARKER);
  const marker = existsSync(markerFile) ? (readJson(markerFile) as Partial<Marker>) : undefined;
  if (!marker?.context || canonical(marker.context) !== canonical(wanted))
    return `${assemblyDir} was not synthesized with ${asFlags(wanted)}`;
  if (marker.manifestHash !== sha256(readFileSync(manifest)))
    return `${assemblyDir} was synthesized by another command since (e.g. npm run synth)`;
  if (project && marker.contextHash !== sha256(JSON.stringify(fullContext(project, wanted))))
    return 'the context in cdk.json or cdk.context.json changed since the last synth';
  return undefined;
}

/**
 * Synthesizes the project's app into `assemblyDir` with `context` on top of the project's. Without CDK's
 * built-in CloudFormation template validation (`CDK_VALIDATION=false`): two thirds of the app's CPU, for
 * a check of the same template that `npm run synth`, `cdk deploy` and CI's synth step run; the local
 * cloud's deploy checks what it runs itself.
 */
export function synthesize(
  assemblyDir: string,
  context: SynthContext = {},
  root = process.cwd(),
): Promise<string> {
  const project = readCdkProject(root);
  const outdir = path.resolve(root, assemblyDir);
  // A failed synth must not leave the previous note beside a half-written assembly.
  rmSync(path.join(outdir, MARKER), { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn(project.app, {
      cwd: root,
      shell: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify(fullContext(project, context)),
        CDK_VALIDATION: 'false',
      },
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`synth failed (${project.app}, exit ${code}):\n${stderr.trim()}`));
        return;
      }
      const marker: Marker = {
        context,
        contextHash: sha256(JSON.stringify(fullContext(project, context))),
        manifestHash: sha256(readFileSync(path.join(outdir, 'manifest.json'))),
      };
      writeFileSync(path.join(outdir, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
      resolve(assemblyDir);
    });
  });
}
