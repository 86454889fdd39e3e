/**
 * The Lambda bundles of every handler in `lambdas/handlers/`, made by ONE esbuild build (its JS API,
 * one entry point per handler) instead of one `esbuild` process per function as `NodejsFunction` runs:
 * the AWS SDK and the shared code are parsed once for all handlers.
 *
 * The build is cached on disk (`node_modules/.cache/stepsaga-bundles/<key>/`), keyed by the build
 * options, the esbuild version and the entry files; a cached build is reused only while every input file
 * esbuild read (its metafile: handlers, domain code, `lib/contract.ts`, the SDK modules) still has the
 * content it had, so a changed source always rebuilds. Each function's asset is a copy of its handler's
 * `index.js` + `index.js.map` (`SagaFunction` uses it through CDK local bundling, so
 * `aws:cdk:bundling-stacks` still skips it and the asset hash is the hash of the output, as before).
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BuildOptions, Metafile } from 'esbuild';

/** The bundle options (as `NodejsFunction`'s were: CJS, minified, source maps, names kept). */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  // Step Functions' Catch and Retry match on `error.name`: the minifier must not rename error classes.
  keepNames: true,
  // Prefer the ES module builds (AWS SDK v3, Powertools): esbuild tree-shakes them, about 20 % smaller
  // bundles than the CommonJS builds. Nothing external: the SDK that runs is the SDK that was tested.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
} as const satisfies BuildOptions;

const require = createRequire(import.meta.url);

interface CacheManifest {
  /** entry file (absolute) → output directory name */
  entries: Record<string, string>;
  /** input file (relative to the project root) → sha256 of its content */
  inputs: Record<string, string>;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** The bundle directory name of an entry file: its base name without the extension. */
function bundleName(entry: string): string {
  return path.basename(entry).replace(/\.[cm]?[jt]sx?$/, '');
}

/** Builds (or finds cached) the bundles of `entries`; returns entry → directory holding `index.js`. */
export class HandlerBundles {
  private built: Map<string, string> | undefined;

  constructor(
    private readonly projectRoot: string,
    private readonly handlersDir: string,
  ) {}

  /** The directory holding `entry`'s `index.js` and `index.js.map`, building all handlers once. */
  directoryOf(entry: string): string {
    const resolved = path.resolve(entry);
    const dir = this.built?.get(resolved) ?? this.build(resolved).get(resolved);
    if (!dir) throw new Error(`esbuild produced no bundle for ${resolved}`);
    return dir;
  }

  private build(extra: string): Map<string, string> {
    const handlers = readdirSync(this.handlersDir)
      .filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))
      .map((f) => path.join(this.handlersDir, f));
    const entries = [...new Set([...handlers, extra])].sort();
    const names = entries.map(bundleName);
    if (new Set(names).size !== names.length)
      throw new Error(`Two Lambda entry files share a base name: ${entries.join(', ')}`);
    const esbuild = require('esbuild') as typeof import('esbuild');
    const key = sha256(JSON.stringify({ v: esbuild.version, options: BUNDLE_OPTIONS, entries }));
    const cacheRoot = path.join(this.projectRoot, 'node_modules', '.cache', 'stepsaga-bundles');
    const outdir = path.join(cacheRoot, key.slice(0, 24));
    const result = (manifest: CacheManifest): Map<string, string> => {
      const map = new Map(Object.entries(manifest.entries).map(([e, n]) => [e, path.join(outdir, n)]));
      if (entries.every((e) => map.has(e))) this.built = map;
      return map;
    };
    const cached = this.readCache(outdir);
    if (cached) return result(cached);

    const staging = `${outdir}.${process.pid}.tmp`;
    rmSync(staging, { recursive: true, force: true });
    const built = esbuild.buildSync({
      ...BUNDLE_OPTIONS,
      mainFields: [...BUNDLE_OPTIONS.mainFields],
      absWorkingDir: this.projectRoot,
      entryPoints: Object.fromEntries(entries.map((e) => [`${bundleName(e)}/index`, e])),
      outdir: staging,
      metafile: true,
    });
    const manifest: CacheManifest = {
      entries: Object.fromEntries(entries.map((e) => [e, bundleName(e)])),
      inputs: this.hashInputs(built.metafile),
    };
    writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify(manifest));
    // Another synth (a parallel test project) may have finished the same build first: either is valid.
    rmSync(outdir, { recursive: true, force: true });
    try {
      renameSync(staging, outdir);
    } catch {
      rmSync(staging, { recursive: true, force: true });
    }
    return result(manifest);
  }

  private hashInputs(metafile: Metafile): Record<string, string> {
    return Object.fromEntries(
      Object.keys(metafile.inputs).map((input) => [
        input,
        sha256(readFileSync(path.resolve(this.projectRoot, input))),
      ]),
    );
  }

  /** The cached build's manifest if every input it read is unchanged. */
  private readCache(outdir: string): CacheManifest | undefined {
    const file = path.join(outdir, 'manifest.json');
    if (!existsSync(file)) return undefined;
    try {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as CacheManifest;
      for (const [input, hash] of Object.entries(manifest.inputs)) {
        const absolute = path.resolve(this.projectRoot, input);
        if (!existsSync(absolute) || sha256(readFileSync(absolute)) !== hash) return undefined;
      }
      for (const name of Object.values(manifest.entries))
        if (!existsSync(path.join(outdir, name, 'index.js'))) return undefined;
      return manifest;
    } catch {
      return undefined;
    }
  }
}

/** Copies a bundle (`index.js`, `index.js.map`) into CDK's bundling output directory. */
export function copyBundle(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const file of ['index.js', 'index.js.map']) copyFileSync(path.join(from, file), path.join(to, file));
}
