/**
 * `--persist DIR` for the services that live in this process (Step Functions, SQS): an append-only
 * JSON-lines journal per service, compacted into a snapshot.
 *
 * Files, per service `<name>` and generation `G`: `<name>.G.snapshot.jsonl` (the state as records, written
 * to a temporary file, fsync'd, then renamed: it is there whole or not at all) and `<name>.G.jsonl` (the
 * records appended since). Loading takes the highest generation whose snapshot exists (generation 0 has
 * none) and replays its snapshot then its journal. Compacting writes generation G+1's snapshot, starts its
 * empty journal and deletes generation G: a kill at any instant leaves either G or G+1 whole.
 *
 * Each append is one `write(2)` of one line on an `O_APPEND` descriptor before the caller goes on, so a
 * `kill -9` loses nothing that was appended (the kernel has it); an fdatasync every 200 ms (when something
 * was written) bounds what a power cut may lose. A torn last line (a power cut mid-write) is ignored.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

const SYNC_INTERVAL_MS = 200;

export class Journal {
  private fd: number;
  private generation: number;
  private dirty = false;
  private readonly timer: NodeJS.Timeout;
  /** Records appended since the last compaction. */
  appended = 0;

  private constructor(
    private readonly dir: string,
    private readonly name: string,
    generation: number,
  ) {
    this.generation = generation;
    this.fd = openSync(this.journalFile(generation), 'a');
    this.timer = setInterval(() => this.sync(), SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  /** Opens (creating DIR) the journal of `name`; `records` is what the last run left, oldest first. */
  static open(dir: string, name: string): { journal: Journal; records: unknown[] } {
    mkdirSync(dir, { recursive: true });
    const pattern = new RegExp(`^${name}\\.(\\d+)\\.snapshot\\.jsonl$`);
    let generation = 0;
    for (const file of readdirSync(dir)) {
      const match = pattern.exec(file);
      if (match) generation = Math.max(generation, Number(match[1]));
    }
    const records: unknown[] = [];
    const snapshot = path.join(dir, `${name}.${generation}.snapshot.jsonl`);
    if (generation > 0) readLines(snapshot, records);
    const journalFile = path.join(dir, `${name}.${generation}.jsonl`);
    if (existsSync(journalFile)) readLines(journalFile, records);
    return { journal: new Journal(dir, name, generation), records };
  }

  /** Appends one record (one line, written before this returns). */
  append(record: object): void {
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    this.dirty = true;
    this.appended++;
  }

  /**
   * Replaces everything with `records` (the state as it is now): the next generation's snapshot, then an
   * empty journal; the previous generation's files are deleted.
   */
  compact(records: Iterable<object>): void {
    const next = this.generation + 1;
    const snapshot = path.join(this.dir, `${this.name}.${next}.snapshot.jsonl`);
    const tmp = `${snapshot}.tmp`;
    const fd = openSync(tmp, 'w');
    let chunk = '';
    for (const record of records) {
      chunk += `${JSON.stringify(record)}\n`;
      if (chunk.length > 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    if (chunk) writeSync(fd, chunk);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, snapshot);
    const previous = this.generation;
    closeSync(this.fd);
    this.generation = next;
    this.fd = openSync(this.journalFile(next), 'a');
    this.syncDir();
    rmSync(this.journalFile(previous), { force: true });
    rmSync(path.join(this.dir, `${this.name}.${previous}.snapshot.jsonl`), { force: true });
    this.appended = 0;
    this.dirty = false;
  }

  close(): void {
    clearInterval(this.timer);
    this.sync();
    closeSync(this.fd);
  }

  private sync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    fdatasyncSync(this.fd);
  }

  private syncDir(): void {
    try {
      const fd = openSync(this.dir, 'r');
      fsyncSync(fd);
      closeSync(fd);
    } catch {
      // Not every platform can fsync a directory; the rename is still atomic.
    }
  }

  private journalFile(generation: number): string {
    return path.join(this.dir, `${this.name}.${generation}.jsonl`);
  }
}

function readLines(file: string, into: unknown[]): void {
  const text = readFileSync(file, 'utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      into.push(JSON.parse(line));
    } catch {
      // A torn last line (a power cut mid-append): what follows it was never acknowledged.
    }
  }
}
