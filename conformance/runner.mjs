#!/usr/bin/env node
// Vendored from the team's shared conformance kit (../shared/conformance/run.mjs), unchanged but for this
// line and `runCases` (the kit's main loop, exported with `parseArgs` for the TestState mode), so a clone runs
// the corpus on its own. `--corpus` is given by conformance/run.ts.
// Runs the AWS-recorded ASL acceptance corpus (cases.json) against an engine adapter.
//
// usage: node run.mjs <adapter.mjs> [--corpus FILE] [--only id1,id2] [--concurrency N]
//                            [--node-modules DIR] [--verbose]
//
// The adapter module exports
//   async function run(definition, input, lambdas, ctx) -> {status, output?, error?, cause?, events?}
// where ctx = {id, services, features}. status is SUCCEEDED | FAILED | TIMED_OUT (anything else fails the case).
// `events` (optional) is the ordered list of AWS history event types; it is compared only when returned.
// --node-modules (or env ASL_NODE_MODULES) tells adapters where their engine package is installed, so nothing
// has to be installed next to this file. Exit code: 0 when every case passes, 1 otherwise.
// Matching rules are described in README.md next to this file.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

export function parseArgs(argv) {
  const opts = { corpus: resolve(HERE, 'cases.json'), only: null, concurrency: 4, verbose: false };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--corpus') opts.corpus = resolve(argv[++i]);
    else if (a === '--only') opts.only = new Set(argv[++i].split(','));
    else if (a === '--concurrency') opts.concurrency = Math.max(1, Number(argv[++i]) || 1);
    else if (a === '--node-modules') process.env.ASL_NODE_MODULES = resolve(argv[++i]);
    else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else rest.push(a);
  }
  opts.adapter = rest[0];
  return opts;
}

// ------------------------------------------------------------------ paths
// "$.output.a.b[0]['odd.key'].*" ; a trailing "?" marks the path optional in the actual result.
function parsePath(path) {
  let p = path.trim();
  let optional = false;
  if (p.endsWith('?')) {
    optional = true;
    p = p.slice(0, -1);
  }
  if (!p.startsWith('$')) throw new Error(`bad path ${path}`);
  const segs = [];
  const re = /\.([^.[\]]+)|\[(\d+|\*)\]|\['([^']*)'\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < p.length) {
    const m = re.exec(p);
    if (!m) throw new Error(`bad path ${path}`);
    if (m[1] !== undefined) segs.push(m[1]);
    else if (m[2] !== undefined) segs.push(m[2] === '*' ? '*' : Number(m[2]));
    else segs.push(m[3]);
  }
  return { segs, optional };
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Visit every (holder, key) addressed by segs: cb(holder, key, exists, label). holder is null when an
// intermediate node is missing or is not a container.
function visit(root, segs, cb) {
  const walk = (holder, hkey, i, label) => {
    if (i === segs.length) return cb(holder, hkey, hkey in holder && holder[hkey] !== undefined, label);
    const node = holder[hkey];
    const s = segs[i];
    if (s === '*') {
      if (Array.isArray(node)) node.forEach((_, j) => walk(node, j, i + 1, `${label}[${j}]`));
      else if (isObj(node)) Object.keys(node).forEach((k) => walk(node, k, i + 1, `${label}.${k}`));
      return undefined;
    }
    const next = typeof s === 'number' ? `${label}[${s}]` : `${label}.${s}`;
    if (node === null || typeof node !== 'object') return cb(null, s, false, next);
    return walk(node, s, i + 1, next);
  };
  walk({ $: root }, '$', 0, '$');
}

// ------------------------------------------------------------------ comparison
function wildcardMatch(expected, actual) {
  if (!expected.includes('<*>')) return expected === actual;
  const parts = expected.split('<*>').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[\\s\\S]*')}$`).test(actual);
}

function fmt(v) {
  if (v === undefined) return 'undefined';
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

function deepCompare(exp, act, path, diffs) {
  if (diffs.length > 20) return;
  if (typeof exp === 'string' && typeof act === 'string') {
    if (!wildcardMatch(exp, act)) diffs.push(`${path}: expected ${fmt(exp)}, got ${fmt(act)}`);
    return;
  }
  if (Array.isArray(exp)) {
    if (!Array.isArray(act)) {
      diffs.push(`${path}: expected array, got ${fmt(act)}`);
      return;
    }
    if (exp.length !== act.length) diffs.push(`${path}: expected ${exp.length} items, got ${act.length}`);
    for (let i = 0; i < Math.min(exp.length, act.length); i++) deepCompare(exp[i], act[i], `${path}[${i}]`, diffs);
    return;
  }
  if (isObj(exp)) {
    if (!isObj(act)) {
      diffs.push(`${path}: expected object, got ${fmt(act)}`);
      return;
    }
    for (const k of new Set([...Object.keys(exp), ...Object.keys(act)])) {
      const ev = exp[k];
      const av = act[k];
      if (ev === undefined && av === undefined) continue;
      if (ev === undefined) diffs.push(`${path}.${k}: unexpected (value ${fmt(av)})`);
      else if (av === undefined) diffs.push(`${path}.${k}: missing (expected ${fmt(ev)})`);
      else deepCompare(ev, av, `${path}.${k}`, diffs);
    }
    return;
  }
  // numbers (0.0 === 0), booleans, null
  if (exp !== act) diffs.push(`${path}: expected ${fmt(exp)}, got ${fmt(act)}`);
}

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

export function compareCase(c, result) {
  const diffs = [];
  const exp = c.expected;
  if (!result || typeof result !== 'object') return [`adapter returned ${fmt(result)}`];
  if (result.status !== exp.status) {
    diffs.push(`status: expected ${exp.status}, got ${result.status}` +
      (result.status !== 'SUCCEEDED' ? ` (error ${fmt(result.error)}, cause ${fmt(result.cause)})` : ` (output ${fmt(result.output)})`));
    return diffs;
  }
  const e = { status: exp.status };
  const a = { status: result.status };
  if (exp.status === 'SUCCEEDED') {
    e.output = clone(exp.output);
    a.output = clone(result.output);
  }
  if (exp.status === 'FAILED') {
    // null/absent expected error or cause means AWS reported none: the result must not have one either.
    e.error = exp.error ?? undefined;
    e.cause = exp.cause ?? undefined;
    a.error = result.error ?? undefined;
    a.cause = result.cause ?? undefined;
  }
  // JSON-encoded strings: both sides must hold a string there; the decoded values are compared.
  for (const p of c.jsonStrings ?? []) {
    const { segs } = parsePath(p);
    const bad = new Set();
    visit(a, segs, (holder, key, exists, label) => {
      if (!holder || !exists) return;
      try {
        if (typeof holder[key] !== 'string') throw new Error('not a string');
        holder[key] = JSON.parse(holder[key]);
      } catch {
        diffs.push(`${label}: expected a JSON-encoded string, got ${fmt(holder[key])}`);
        bad.add(label);
        delete holder[key];
      }
    });
    visit(e, segs, (holder, key, exists, label) => {
      if (!holder || !exists || typeof holder[key] !== 'string') return;
      if (bad.has(label)) delete holder[key];
      else holder[key] = JSON.parse(holder[key]);
    });
  }
  // Ignored paths: value not compared; must be present in the result when the expected value has it,
  // unless the path ends with "?".
  // A Node.js function's error payload carries `trace` where Python's carries `stackTrace`: never compared.
  const ignore = [...(c.ignore ?? []), ...(c.jsonStrings ?? []).map((p) => `${p}.trace?`)];
  for (const p of ignore) {
    const { segs, optional } = parsePath(p);
    const expectedAt = [];
    visit(e, segs, (holder, key, exists, label) => {
      if (holder && exists) {
        expectedAt.push(label);
        delete holder[key];
      }
    });
    const actualAt = new Set();
    visit(a, segs, (holder, key, exists, label) => {
      if (holder && exists) {
        actualAt.add(label);
        delete holder[key];
      }
    });
    if (!optional) {
      for (const label of expectedAt) if (!actualAt.has(label)) diffs.push(`${label}: missing (value ignored, but must be present)`);
    }
  }
  deepCompare(e, a, '$', diffs);
  // History event types, only when the adapter reports them (order-insensitive for Parallel/Map cases).
  if (Array.isArray(result.events) && Array.isArray(c.events)) {
    const concurrent = (c.features ?? []).some((f) => f.startsWith('Parallel') || f.startsWith('Map'));
    const ea = concurrent ? [...c.events].sort() : c.events;
    const aa = concurrent ? [...result.events].sort() : result.events;
    if (JSON.stringify(ea) !== JSON.stringify(aa)) {
      diffs.push(`events: expected ${c.events.join(' ')} | got ${result.events.join(' ')}`);
    }
  }
  return diffs;
}

// ------------------------------------------------------------------ main
/**
 * Runs `check(c)` -> `{diffs, result}` over the cases, `concurrency` at a time, printing `PASS id` / `FAIL id ::
 * differences` in corpus order and `N passed, M failed`; resolves to the number of failed cases. A `check` that
 * throws (or outlasts `timeoutMs`) fails its case with the error's first line.
 */
export async function runCases(cases, check, { concurrency = 4, verbose = false, timeoutMs = 120000 } = {}) {
  const results = new Array(cases.length);
  let next = 0;
  let printed = 0;
  const flush = () => {
    while (printed < cases.length && results[printed]) {
      const { c, diffs, ms, result } = results[printed];
      const head = `${diffs.length ? 'FAIL' : 'PASS'} ${c.id} (${ms} ms)`;
      if (!diffs.length) console.log(head);
      else {
        const more = diffs.length > 6 ? ` ; (+${diffs.length - 6} more)` : '';
        console.log(`${head} :: ${diffs.slice(0, 6).join(' ; ')}${more}`);
        if (verbose) console.log(`     result: ${fmt(result)}`);
      }
      printed++;
    }
  };
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i];
      const t0 = Date.now();
      let result;
      let diffs;
      let timer;
      try {
        ({ diffs, result } = await Promise.race([
          check(c),
          new Promise((_, rej) => {
            timer = setTimeout(() => rej(new Error(`case exceeded ${timeoutMs} ms`)), timeoutMs);
          }),
        ]));
      } catch (err) {
        diffs = [`adapter threw: ${String(err?.stack ?? err).split('\n')[0]}`];
      } finally {
        clearTimeout(timer);
      }
      results[i] = { c, diffs, ms: Date.now() - t0, result };
      flush();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, cases.length) }, worker));
  const failed = results.filter((r) => r.diffs.length).length;
  console.log(`${cases.length - failed} passed, ${failed} failed`);
  return failed;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.adapter) {
    console.error('usage: node run.mjs <adapter.mjs> [--corpus FILE] [--only ids] [--concurrency N] ' +
      '[--node-modules DIR] [--verbose]');
    process.exit(2);
  }
  const corpus = JSON.parse(readFileSync(opts.corpus, 'utf8'));
  const cases = corpus.filter((c) => !opts.only || opts.only.has(c.id));
  const adapter = await import(pathToFileURL(resolve(opts.adapter)).href);
  if (typeof adapter.run !== 'function') throw new Error(`${opts.adapter} does not export run()`);
  const check = async (c) => {
    const result = await adapter.run(clone(c.definition), clone(c.input), clone(c.lambdas ?? {}),
      { id: c.id, services: clone(c.services ?? null), features: c.features ?? [] });
    return { result, diffs: compareCase(c, result) };
  };
  const timeoutMs = Number(process.env.ASL_CASE_TIMEOUT_MS || 120000);
  const failed = await runCases(cases, check, { concurrency: opts.concurrency, verbose: opts.verbose, timeoutMs });
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(2);
  });
}
