/**
 * Where a model file's bytes come from, read where they are asked for instead of all
 * at once: a file on disk (read through its descriptor at a position), bytes already
 * in memory (a zip member that had to be inflated, tests, the fuzz suite), or a window
 * of another source (a stored member of a `.keras` zip, at its offset in the archive).
 *
 * The HDF5 library reads the file through a ByteSource (hdf5.ts), and so do the checks
 * that run before it (sniff.ts, hdf5-guard.ts, hdf5-metadata.ts) and the zip reader,
 * through a PagedReader: nothing needs the whole file in memory, and files larger than
 * 4 GB (positions past 2^32) are read like any other.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { FileError, systemReason } from "../errors.js";

export interface ByteSource {
  /** Bytes in the source. */
  readonly size: number;
  /**
   * Fills `into` with the bytes from `position` on; returns how many it read, fewer than
   * `into.length` only at the end of the source. Throws when the bytes cannot be read.
   */
  read(into: Uint8Array, position: number): number;
  /** Bytes already in memory, without a copy, or undefined when they are not (a file). */
  view?(position: number, length: number): Uint8Array | undefined;
  /** Gives back what the source holds (a file descriptor). Reading after close throws. */
  close(): void;
}

/** Opens a source afresh each time it is called: the loader's first read, and every later one (hdf5.ts DeferredDatasets). */
export type OpenSource = () => ByteSource;

/** Counts descriptors opened by FileSource and not yet closed (the fuzz worker checks it returns to 0 after every run). */
let openFileSources = 0;

export function openFileSourceCount(): number {
  return openFileSources;
}

/** What tells a file on disk apart from another one put in its place. */
interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** A regular file on disk, read through its descriptor. */
export class FileSource implements ByteSource {
  private fd: number;

  private constructor(
    fd: number,
    readonly size: number,
    readonly identity: FileIdentity,
    private readonly label: string,
  ) {
    this.fd = fd;
    openFileSources++;
  }

  /**
   * Opens `path` for reading. Opened non-blocking, so that a FIFO cannot make the open wait
   * for a writer; anything but a regular file is then refused. Throws FileError.
   */
  static open(path: string): FileSource {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    } catch (err) {
      throw new FileError(path, systemReason(err, "a model file"), { cause: err });
    }
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw new FileError(path, "is a directory, not a model file");
      if (!st.isFile()) throw new FileError(path, "is not a regular file");
      return new FileSource(fd, st.size, { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs }, path);
    } catch (err) {
      closeSync(fd);
      if (err instanceof FileError) throw err;
      throw new FileError(path, systemReason(err, "a model file"), { cause: err });
    }
  }

  /** Throws FileError when the OS cannot read the file (EIO...). */
  read(into: Uint8Array, position: number): number {
    if (this.fd < 0) throw new Error(`${this.label} was read after it was closed`);
    let done = 0;
    try {
      while (done < into.length) {
        // readSync may read less than asked; position is a byte offset, exact up to 2^53.
        const n = readSync(this.fd, into, done, into.length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (err) {
      throw new FileError(this.label, systemReason(err), { cause: err });
    }
    return done;
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    // Forget the number first: the OS reuses it for the next file opened.
    this.fd = -1;
    openFileSources--;
    closeSync(fd);
  }
}

/** The file at `path`, opened again for each read; a file changed on disk since the first open is an error. */
export function fileOpener(path: string): OpenSource {
  let first: FileIdentity | undefined;
  return () => {
    const source = FileSource.open(path);
    if (!first) {
      first = source.identity;
    } else if (!sameFile(first, source.identity)) {
      source.close();
      throw new FileError(path, "changed on disk since it was opened; run the command again");
    }
    return source;
  };
}

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** Bytes in memory. */
export class MemorySource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.length;
  }

  read(into: Uint8Array, position: number): number {
    const part = this.bytes.subarray(Math.min(position, this.bytes.length), Math.min(position + into.length, this.bytes.length));
    into.set(part);
    return part.length;
  }

  view(position: number, length: number): Uint8Array {
    return this.bytes.subarray(Math.min(position, this.bytes.length), Math.min(position + length, this.bytes.length));
  }

  close(): void {
    /* nothing to give back */
  }
}

/** `size` bytes of `parent` from `start` on (a stored zip member); closing it closes the parent. */
export class WindowSource implements ByteSource {
  constructor(
    private readonly parent: ByteSource,
    private readonly start: number,
    readonly size: number,
  ) {}

  read(into: Uint8Array, position: number): number {
    const length = Math.max(0, Math.min(into.length, this.size - position));
    return length === 0 ? 0 : this.parent.read(into.subarray(0, length), this.start + position);
  }

  view(position: number, length: number): Uint8Array | undefined {
    const clipped = Math.max(0, Math.min(length, this.size - position));
    return this.parent.view?.(this.start + position, clipped);
  }

  close(): void {
    this.parent.close();
  }
}

const PAGE_BYTES = 64 * 1024;
/** At most this many pages are kept (16 MB); the oldest goes first. */
const MAX_PAGES = 256;

/**
 * Byte-by-byte access to a source through a small page cache, for the structure walks
 * that run before the HDF5 library and for the zip reader: they touch a few kilobytes
 * of metadata scattered over a file that may be gigabytes long.
 */
export class PagedReader {
  private readonly pages = new Map<number, Uint8Array>();
  private lastIndex = -1;
  private lastPage: Uint8Array = new Uint8Array(0);

  constructor(readonly source: ByteSource) {}

  /** A reader over bytes already in memory. */
  static of(bytes: Uint8Array): PagedReader {
    return new PagedReader(new MemorySource(bytes));
  }

  get size(): number {
    return this.source.size;
  }

  /**
   * The byte at `at`; NaN past either end, which, like reading a missing element of an
   * array, makes every arithmetic test on it fail instead of reading a made-up value.
   */
  u8(at: number): number {
    const index = Math.floor(at / PAGE_BYTES);
    if (index !== this.lastIndex) {
      if (!(at >= 0 && at < this.source.size)) return NaN;
      this.lastPage = this.page(index);
      this.lastIndex = index;
    }
    const v = this.lastPage[at - index * PAGE_BYTES];
    return v === undefined ? NaN : v;
  }

  u16(at: number): number {
    return this.u8(at) | (this.u8(at + 1) << 8);
  }

  u32(at: number): number {
    return (this.u8(at) | (this.u8(at + 1) << 8) | (this.u8(at + 2) << 16)) + this.u8(at + 3) * 0x1000000;
  }

  /** `length` bytes from `at` (fewer at the end of the source), copied out. */
  bytes(at: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(at, this.size));
    const out = new Uint8Array(Math.max(0, Math.min(length, this.size - start)));
    const direct = this.source.view?.(start, out.length);
    if (direct) out.set(direct);
    else this.source.read(out, start);
    return out;
  }

  private page(index: number): Uint8Array {
    const cached = this.pages.get(index);
    if (cached) return cached;
    const start = index * PAGE_BYTES;
    const length = Math.min(PAGE_BYTES, this.source.size - start);
    let page = this.source.view?.(start, length);
    if (!page) {
      page = new Uint8Array(length);
      page = page.subarray(0, this.source.read(page, start));
    }
    if (this.pages.size >= MAX_PAGES) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(index, page);
    return page;
  }
}
