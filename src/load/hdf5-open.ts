/**
 * Opening an HDF5 file: the direct reader (hdf5-direct.ts) when the file is in its subset,
 * else the HDF5 library (hdf5.ts, h5wasm), imported only then (see hdf5-file.ts).
 */
import { FileError } from "../errors.js";
import { type ByteSource, type OpenSource, PagedReader } from "./byte-source.js";
import { openDirect } from "./hdf5-direct.js";
import type { H5File } from "./hdf5-file.js";
import { checkHdf5Metadata } from "./hdf5-metadata.js";
import { findHdf5Signature } from "./sniff.js";

/** Whether files in the direct reader's subset are read by it (tests of the library's own behaviour turn it off). */
let directReading = true;

export function setDirectReading(on: boolean): boolean {
  const before = directReading;
  directReading = on;
  return before;
}

/**
 * Opens the HDF5 file in `source`, which it owns from now on (closed with the file, or at
 * once if it cannot be opened). `reopen` opens the same bytes again for values read later.
 */
export async function openH5File(source: ByteSource, label: string, reopen: OpenSource): Promise<H5File> {
  let direct: H5File | undefined;
  try {
    const bytes = new PagedReader(source);
    const superblock = findHdf5Signature(bytes) ?? 0;
    // Metadata the library would trust to allocate by, or to read memory it never wrote (hdf5-metadata.ts).
    const badMetadata = checkHdf5Metadata(bytes, superblock);
    // A layout the decoder does not know is not damage: its message says so itself.
    if (badMetadata !== undefined) throw new FileError(label, /cannot be decoded$/.test(badMetadata) ? badMetadata : `${badMetadata}; the file is damaged`);
    direct = directReading ? openDirect(bytes, superblock, label, reopen) : undefined;
  } catch (err) {
    source.close();
    throw err;
  }
  if (direct) return direct;
  const { H5File: LibraryFile } = await import("./hdf5.js");
  return LibraryFile.open(source, label, reopen);
}
