/**
 * The `--persist` journal (localcloud/journal.ts) on a real directory: what a kill or a power cut can leave
 * (a torn last line, a compaction stopped between two steps), what it must refuse (a damaged line in the
 * middle), a short write (a real file size limit, `ulimit -f`, in a child process), when a compaction
 * pays, and the Step Functions and SQS records surviving replay → snapshot → replay unchanged.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../../localcloud/journal';
import { apply, type SqsState, snapshotRecords as sqsSnapshot } from '../../localcloud/sqs/persist';
import { replay, snapshotRecords as statesSnapshot } from '../../localcloud/stepfunctions/persist';

let dir: string;
const opened: Journal[] = [];

/** Opens the journal of `name` in the test's directory (closed after the test). */
function open(name = 'states'): { journal: Journal; records: unknown[] } {
  const result = Journal.open(dir, name);
  opened.push(result.journal);
  return result;
}

/** Closes the journals the test opened, then opens `name` again: a restart. */
function restart(name = 'states'): { journal: Journal; records: unknown[] } {
  for (const journal of opened.splice(0)) journal.close();
  return open(name);
}

const lines = (...records: object[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stepsaga-journal-'));
});

afterEach(() => {
  for (const journal of opened.splice(0)) journal.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a journal left by a kill or a power cut', () => {
  it('drops a torn last line and cuts it off, so the next record starts a line of its own', () => {
    // Prepare
    const file = path.join(dir, 'states.0.jsonl');
    writeFileSync(file, `${lines({ n: 1 }, { n: 2 })}{"n":3,"pay`);

    // Act
    const { journal, records } = open();
    journal.append({ n: 4 });

    // Assess
    expect(records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(readFileSync(file, 'utf8')).toBe(lines({ n: 1 }, { n: 2 }, { n: 4 }));
    expect(restart().records).toEqual([{ n: 1 }, { n: 2 }, { n: 4 }]);
  });

  it('drops a last record whose newline was not written (the append was not acknowledged)', () => {
    const file = path.join(dir, 'states.0.jsonl');
    writeFileSync(file, `${lines({ n: 1 })}{"n":2}`);

    const { journal, records } = open();
    journal.append({ n: 3 });

    expect(records).toEqual([{ n: 1 }]);
    expect(restart().records).toEqual([{ n: 1 }, { n: 3 }]);
  });

  it('refuses a damaged line in the middle, naming the file and the line, and changes nothing', () => {
    const file = path.join(dir, 'states.0.jsonl');
    const text = `${lines({ n: 1 })}{"n":2,"pay\n${lines({ n: 3 })}{"n":4,"torn`;
    writeFileSync(file, text);

    expect(() => open()).toThrow(`${file}:2: not a journal record`);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('refuses a damaged snapshot line (a snapshot is renamed into place whole: nothing in it may be torn)', () => {
    const snapshot = path.join(dir, 'states.1.snapshot.jsonl');
    writeFileSync(snapshot, `${lines({ n: 1 })}{"n":2`);

    expect(() => open()).toThrow(`${snapshot}:2: not a journal record`);
  });
});

describe('a compaction stopped between two steps', () => {
  it('before its snapshot was renamed into place: generation G loads, the temporary file goes', () => {
    writeFileSync(path.join(dir, 'states.1.snapshot.jsonl'), lines({ snapshot: 1 }));
    writeFileSync(path.join(dir, 'states.1.jsonl'), lines({ appended: 1 }));
    writeFileSync(path.join(dir, 'states.2.snapshot.jsonl.tmp'), `${lines({ snapshot: 2 })}{"snaps`);

    const { records } = open();

    expect(records).toEqual([{ snapshot: 1 }, { appended: 1 }]);
    expect(readdirSync(dir).sort()).toEqual(['states.1.jsonl', 'states.1.snapshot.jsonl']);
  });

  it('after its snapshot was renamed, before generation G was deleted: G+1 loads, G goes', () => {
    // G = 0 (no snapshot) with its journal; G+1's snapshot holds all of it (and its journal may not exist)
    writeFileSync(path.join(dir, 'states.0.jsonl'), lines({ appended: 0 }));
    writeFileSync(path.join(dir, 'states.1.snapshot.jsonl'), lines({ snapshot: 1 }));

    const { journal, records } = open();
    journal.append({ appended: 1 });

    expect(records).toEqual([{ snapshot: 1 }]);
    expect(readdirSync(dir).sort()).toEqual(['states.1.jsonl', 'states.1.snapshot.jsonl']);
    expect(restart().records).toEqual([{ snapshot: 1 }, { appended: 1 }]);
  });

  it("leaves other services' files alone", () => {
    writeFileSync(path.join(dir, 'sqs.0.jsonl'), lines({ q: 0 }));
    writeFileSync(path.join(dir, 'states.1.snapshot.jsonl'), lines({ snapshot: 1 }));

    open('states');

    expect(open('sqs').records).toEqual([{ q: 0 }]);
  });
});

describe('a short write', () => {
  it('throws, naming the file, and cuts the half line off: the records before and after it load', async () => {
    // Prepare: a child process with a 2 KiB file size limit appends 1.5 KiB, then 1.5 KiB (short), then a
    // small record
    const child = path.join(dir, 'child.ts');
    const journalModule = path.resolve('localcloud/journal.ts');
    writeFileSync(
      child,
      `import { Journal } from ${JSON.stringify(journalModule)};
const { journal } = Journal.open(${JSON.stringify(dir)}, 'states');
const pay = 'x'.repeat(1500);
journal.append({ n: 1, pay });
let error = '';
try { journal.append({ n: 2, pay }); } catch (e) { error = (e as Error).message; }
journal.append({ n: 3 });
journal.close();
process.stdout.write(JSON.stringify({ error }));
`,
    );

    // Act
    const { stdout } = await promisify(execFile)(
      'bash',
      ['-c', `ulimit -f 2 && exec "${process.execPath}" --import tsx "${child}"`],
      { cwd: process.cwd() },
    );

    // Assess
    const { error } = JSON.parse(stdout) as { error: string };
    expect(error).toMatch(/states\.0\.jsonl: short write \(\d+ of \d+ bytes/);
    expect(open().records.map((r) => (r as { n: number }).n)).toEqual([1, 3]);
  });
});

describe('when a compaction pays', () => {
  it('is due once as many records were appended as the last snapshot held, and at least 10,000', () => {
    const { journal } = open('sqs');
    const append = (n: number) => {
      for (let i = 0; i < n; i++) journal.append({ i });
    };
    append(9_999);
    expect(journal.due).toBe(false);
    append(1);
    expect(journal.due).toBe(true);

    journal.compact(Array.from({ length: 15_000 }, (_, i) => ({ kept: i })));
    append(14_999);
    expect(journal.due).toBe(false);
    append(1);
    expect(journal.due).toBe(true);
  });
});

describe('a compaction that fails while the cloud serves', () => {
  it('changes nothing, leaves no temporary file, reports the error and waits as long again', () => {
    const { journal } = open('sqs');
    for (let i = 0; i < 10_000; i++) journal.append({ i });
    const errors: unknown[] = [];
    // The snapshot's write fails half way (a full disk): the records stop coming with an error.
    const failing = function* () {
      yield { kept: 1 };
      throw new Error('ENOSPC: no space left on device, write');
    };

    journal.compactIfDue(failing, (error) => errors.push(error));

    expect(errors).toEqual([expect.objectContaining({ message: expect.stringContaining('ENOSPC') })]);
    expect(readdirSync(dir).sort()).toEqual(['sqs.0.jsonl']);
    expect(journal.due).toBe(false);
    journal.append({ i: 10_000 });
    expect(restart('sqs').records).toHaveLength(10_001);
  });
});

describe('replay → snapshot → replay', () => {
  it('gives back the same Step Functions state (machines, executions, histories, checkpoints, tokens, redrives)', () => {
    // Prepare: what a run records
    const machine = 'arn:aws:states:us-east-1:000000000000:stateMachine:m';
    const running = 'arn:aws:states:us-east-1:000000000000:execution:m:running';
    const redriven = 'arn:aws:states:us-east-1:000000000000:execution:m:redriven';
    const event = (id: number, type: string, at: string) => ({
      id,
      type,
      timestamp: at,
      previousEventId: id - 1,
    });
    const { journal } = open();
    for (const record of [
      {
        k: 'm',
        arn: machine,
        name: 'm',
        definition: '{"StartAt":"A"}',
        roleArn: 'r',
        type: 'STANDARD',
        created: '2026-12-05T10:00:00.000Z',
      },
      {
        k: 'm',
        arn: `${machine}2`,
        name: 'm2',
        definition: '{}',
        roleArn: 'r',
        type: 'STANDARD',
        created: '2026-12-05T10:00:00.000Z',
      },
      { k: 'md', arn: `${machine}2` },
      {
        k: 'x',
        arn: running,
        name: 'running',
        m: machine,
        input: '{"a":1}',
        start: '2026-12-05T10:00:01.000Z',
      },
      { k: 'e', x: running, e: event(1, 'ExecutionStarted', '2026-12-05T10:00:01.000Z') },
      { k: 'c', x: running, s: 'A', i: { a: 1 }, v: { v: 2 }, t: '2026-12-05T10:00:01.001Z' },
      { k: 't', x: running, token: 'tok-1', at: '2026-12-05T10:00:01.002Z' },
      {
        k: 'x',
        arn: redriven,
        name: 'redriven',
        m: machine,
        input: '{}',
        start: '2026-12-05T10:00:02.000Z',
        testCase: 'T',
      },
      { k: 'e', x: redriven, e: event(1, 'ExecutionStarted', '2026-12-05T10:00:02.000Z') },
      { k: 'c', x: redriven, s: 'B', i: {}, v: {}, t: '2026-12-05T10:00:02.001Z' },
      { k: 'o', x: redriven, status: 'FAILED', error: 'E', cause: 'C', stop: '2026-12-05T10:00:03.000Z' },
      { k: 'r', x: redriven, count: 1, date: '2026-12-05T10:00:04.000Z', token: 'client-1' },
      { k: 'e', x: redriven, e: event(2, 'ExecutionRedriven', '2026-12-05T10:00:04.000Z') },
      { k: 'o', x: redriven, status: 'TIMED_OUT', stop: '2026-12-05T10:00:05.000Z' },
    ])
      journal.append(record);

    // Act
    const loaded = restart();
    const before = replay(loaded.records);
    loaded.journal.compact(statesSnapshot(before));
    const after = replay(restart().records);

    // Assess
    expect(before.machines.size).toBe(1);
    expect(before.executions.get(running)).toMatchObject({ taskToken: 'tok-1', checkpoint: { state: 'A' } });
    expect(before.executions.get(redriven)).toMatchObject({
      redriveCount: 1,
      outcome: { status: 'TIMED_OUT' },
    });
    expect(after).toEqual(before);
    expect(readdirSync(dir).sort()).toEqual(['states.1.jsonl', 'states.1.snapshot.jsonl']);
  });

  it('gives back the same SQS state (queues, attributes, tags, visible, received, delayed and deleted messages)', () => {
    const { journal } = open('sqs');
    for (const record of [
      { k: 'q', name: 'q1', attrs: { VisibilityTimeout: '30' }, tags: { team: 'a' } },
      { k: 'qa', name: 'q1', attrs: { DelaySeconds: '5' } },
      {
        k: 's',
        q: 'q1',
        id: 'm1',
        body: 'visible',
        t: 1000,
        vis: 1000,
        ma: { a: { DataType: 'String', StringValue: 'x' } },
      },
      { k: 's', q: 'q1', id: 'm2', body: 'received twice', t: 1001, vis: 1001 },
      { k: 'r', q: 'q1', id: 'm2', h: 'h1', vis: 31_001 },
      { k: 'r', q: 'q1', id: 'm2', h: 'h2', vis: 61_001 },
      { k: 'v', q: 'q1', id: 'm2', vis: 90_000 },
      { k: 's', q: 'q1', id: 'm3', body: 'delayed', t: 1002, vis: 900_000 },
      { k: 's', q: 'q1', id: 'm4', body: 'deleted', t: 1003, vis: 1003 },
      { k: 'd', q: 'q1', id: 'm4' },
      { k: 'q', name: 'q2', attrs: {} },
      { k: 's', q: 'q2', id: 'm5', body: 'purged', t: 1004, vis: 1004 },
      { k: 'p', q: 'q2' },
      { k: 'q', name: 'gone', attrs: {} },
      { k: 'qd', name: 'gone' },
    ])
      journal.append(record);
    const load = (records: unknown[]): SqsState => {
      const state: SqsState = new Map();
      for (const record of records) apply(state, record);
      return state;
    };

    const loaded = restart('sqs');
    const before = load(loaded.records);
    loaded.journal.compact(sqsSnapshot(before));
    const after = load(restart('sqs').records);

    expect([...before.keys()]).toEqual(['q1', 'q2']);
    expect(before.get('q1')?.messages.get('m2')).toMatchObject({
      receiveCount: 2,
      handle: 'h2',
      visibleAt: 90_000,
    });
    expect(after).toEqual(before);
  });
});
