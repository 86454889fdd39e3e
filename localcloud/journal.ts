/**
 * `--persist DIR` for the services that live in this process (Step Functions, SQS): an append-only
 * JSON-lines journal per service, compacted into a snapshot.
 *
 * Files, per service `<name>` and generation `G`: `<name>.G.snapshot.jsonl` (the state as records, written
 * to a temporary file, fsync'd, then renamed: it is there whole or not at all) and `<name>.G.jsonl` (the
 * records appended since). Loading takes the highest generation whose snapshot exists (generation 0 has
 * none) and replays its snapshot then its journal. Compacting writes generation G+1's snapshot, starts its
 * empty journal and deletes generation G: a kill at any instant leaves either G or G+1 whole. What a
 * compaction killed half-way left (an older generation beside a newer snapshot, a temporary file) is
 * removed when the journal is opened.
 *
 * Each append is one `write(2)` of one line on an `O_APPEND` descriptor before the caller goes on, so a
 * `kill -9` loses nothing that was appended (the kernel has it); an fdatasync every 200 ms (when something
 * was written) bounds what a power cut may lose. A short write (a full disk, a file size limit) throws and
 * is cut off again, so the line never stays half-written. Only the journal's last line may be torn (a
 * power cut mid-append: it was never acknowledged); it is cut off on open, so the next append starts a line
 * of its own. Any other line that is not a record fails the open, naming the file and the line.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

const SYNC_INTERVAL_MS = 200;
/** `due` never comes before this many appended records. */
const COMPACT_AFTER_RECORDS = 10_000;

/** A journal or snapshot that cannot be read: which file, which line, what is wrong. */
export class JournalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JournalError';
  }
}

export class Journal {
  private fd: number;
  private generation: number;
  /** The journal file's length: where a short write is cut back to. */
  private size: number;
  private dirty = false;
  private readonly timer: NodeJS.Timeout;
  /** Records appended since the last compaction. */
  appended = 0;
  /** Records the last snapshot (or, before any compaction here, the files opened) held. */
  private kept: number;

  private constructor(
    private readonly dir: string,
    private readonly name: string,
    generation: number,
    size: number,
    kept: number,
  ) {
    this.generation = generation;
    this.size = size;
    this.kept = kept;
    this.fd = openSync(this.journalFile(generation), 'a');
    this.timer = setInterval(() => this.sync(), SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Opens (creating DIR) the journal of `name`; `records` is what the last run left, oldest first. Throws a
   * `JournalError` (changing nothing) when a file holds a line that is not a record, other than a torn last
   * line of the journal.
   */
  static open(dir: string, name: string): { journal: Journal; records: unknown[] } {
    mkdirSync(dir, { recursive: true });
    const files = new RegExp(`^${name}\\.(\\d+)\\.(jsonl|snapshot\\.jsonl|snapshot\\.jsonl\\.tmp)$`);
    const found: { file: string; generation: number; kind: string }[] = [];
    let generation = 0;
    for (const file of readdirSync(dir)) {
      const match = files.exec(file);
      if (!match) continue;
      const kind = match[2] ?? '';
      found.push({ file, generation: Number(match[1]), kind });
      if (kind === 'snapshot.jsonl') generation = Math.max(generation, Number(match[1]));
    }
    const records: unknown[] = [];
    const snapshot = path.join(dir, `${name}.${generation}.snapshot.jsonl`);
    if (generation > 0) readRecords(snapshot, readFileSync(snapshot), records);
    const journalFile = path.join(dir, `${name}.${generation}.jsonl`);
    let size = 0;
    let torn = false;
    if (existsSync(journalFile)) {
      const bytes = readFileSync(journalFile);
      // Everything after the last newline is a torn append (never acknowledged).
      size = bytes.lastIndexOf(0x0a) + 1;
      torn = size < bytes.length;
      readRecords(journalFile, bytes.subarray(0, size), records);
    }
    // All read: only now is anything changed.
    if (torn) truncateSync(journalFile, size);
    for (const f of found)
      if (f.kind.endsWith('.tmp') || f.generation < generation)
        rmSync(path.join(dir, f.file), { force: true });
    return { journal: new Journal(dir, name, generation, size, records.length), records };
  }

  /** Appends one record (one line, written before this returns). */
  append(record: object): void {
    const line = Buffer.from(`${JSON.stringify(record)}\n`);
    const file = this.journalFile(this.generation);
    let written: number;
    try {
      written = writeSync(this.fd, line);
    } catch (error) {
      throw new JournalError(`${file}: could not append a record: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (written !== line.length) {
      // Half a line would glue the next record onto it: cut it off again.
      ftruncateSync(this.fd, this.size);
      throw new JournalError(
        `${file}: short write (${written} of ${line.length} bytes: is the disk full, or a file size limit reached?); the record was not kept`,
      );
    }
    this.size += written;
    this.dirty = true;
    this.appended++;
  }

  /**
   * Whether a compaction would pay now: at least as many records were appended since the last one as
   * its snapshot held (and at least 10,000), so compacting costs O(1) per appended record. A service
   * whose records mostly replace earlier ones (SQS: sent, received, deleted) compacts when this says so.
   */
  get due(): boolean {
    return this.appended >= Math.max(COMPACT_AFTER_RECORDS, this.kept);
  }

  /**
   * Compacts when {@link due}, for a service that compacts while it serves: a compaction that fails (a
   * full disk) changes nothing and must not fail the request whose change is already journaled, so it is
   * reported to `onError` and the next attempt waits as long again.
   */
  compactIfDue(records: () => Iterable<object>, onError: (error: unknown) => void): void {
    if (!this.due) return;
    try {
      this.compact(records());
    } catch (error) {
      this.appended = 0;
      onError(error);
    }
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
    let kept = 0;
    try {
      let chunk = '';
      for (const record of records) {
        kept++;
        chunk += `${JSON.stringify(record)}\n`;
        if (chunk.length > 1 << 20) {
          writeAll(fd, chunk, tmp);
          chunk = '';
        }
      }
      if (chunk) writeAll(fd, chunk, tmp);
      fsyncSync(fd);
    } catch (error) {
      // Nothing changed: the journal and its snapshot stay as they were; no half snapshot is left behind.
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw error;
    }
    closeSync(fd);
    renameSync(tmp, snapshot);
    const previous = this.generation;
    closeSync(this.fd);
    this.generation = next;
    this.fd = openSync(this.journalFile(next), 'a');
    this.size = 0;
    this.syncDir();
    rmSync(this.journalFile(previous), { force: true });
    rmSync(path.join(this.dir, `${this.name}.${previous}.snapshot.jsonl`), { force: true });
    this.appended = 0;
    this.kept = kept;
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

/** Writes all of `text` (a snapshot's chunk) or throws, naming `file`. */
function writeAll(fd: number, text: string, file: string): void {
  const bytes = Buffer.from(text);
  const written = writeSync(fd, bytes);
  if (written !== bytes.length)
    throw new JournalError(`${file}: short write (${written} of ${bytes.length} bytes)`);
}

/** Parses whole lines (each ends with a newline) into `into`; a line that is not JSON throws, naming it. */
function readRecords(file: string, bytes: Buffer, into: unknown[]): void {
  const lines = bytes.toString('utf8').split('\n');
  // The text ends with a newline (or is empty): the last element is the empty rest.
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, index) => {
    try {
      into.push(JSON.parse(line));
    } catch (error) {
      throw new JournalError(
        `${file}:${index + 1}: not a journal record (${(error as Error).message}): the file is damaged; nothing was changed. Repair or remove that line, or start with another --persist directory`,
      );
    }
  });
}
