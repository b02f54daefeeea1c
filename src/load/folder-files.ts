/**
 * Files that an export names inside itself: tfjs weight shards (`weightsManifest[].paths`)
 * and ONNX external data (`external_data.location`). Those names come from the file, so
 * they are untrusted: each must be a relative path that stays inside the export's own
 * folder once symbolic links are followed, and must name a regular file. Anything else
 * (`../`, an absolute path, a URL, a link out of the folder, a FIFO or a device) is
 * refused with one line naming the reference, before a byte of it is read.
 */
import { constants } from "node:fs";
import { open, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import { FileError, systemReason } from "../errors.js";

/** A file inside an export's folder, checked and measured, not yet read. */
export interface FolderFile {
  /** The reference as the export wrote it, for messages. */
  reference: string;
  /** Its real path (links resolved). */
  path: string;
  size: number;
}

/** Why a reference is not a plain relative path, or undefined when it is one. */
function referenceProblem(reference: string): string | undefined {
  if (reference.length === 0) return "is empty";
  if (reference.includes("\0")) return "contains a NUL character";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(reference)) return "is a URL; only files in the model's folder are read";
  if (isAbsolute(reference) || reference.startsWith("/") || reference.startsWith("\\") || /^[a-z]:/i.test(reference)) {
    return "is an absolute path; only files in the model's folder are read";
  }
  if (reference.split(/[\\/]/).includes("..")) return "leaves the model's folder ('..'); only files in the model's folder are read";
  return undefined;
}

/**
 * Resolves `reference` against `folder` and checks that it names a regular file inside
 * it. `label` is the model file named in messages, `what` says what the reference is
 * (`weight shard`, `external data of tensor 'W0'`).
 */
export async function fileInFolder(folder: string, reference: string, label: string, what: string): Promise<FolderFile> {
  const quoted = `${what} '${reference.slice(0, 200)}'`;
  const problem = referenceProblem(reference);
  if (problem) throw new FileError(label, `${quoted} ${problem}`);
  let realFolder: string;
  let path: string;
  try {
    realFolder = await realpath(folder);
    path = await realpath(join(folder, reference));
  } catch (err) {
    throw new FileError(label, `${quoted}: ${systemReason(err)}`, { cause: err });
  }
  const rel = relative(realFolder, path);
  if (rel === "") throw new FileError(label, `${quoted} names the model's folder itself, not a file in it`);
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new FileError(label, `${quoted} resolves (through a symbolic link) to ${path}, outside the model's folder; only files in the model's folder are read`);
  }
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new FileError(label, `${quoted} is not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(label, `${quoted}: ${systemReason(err)}`, { cause: err });
  }
  return { reference, path, size };
}

/**
 * Reads `length` bytes at `offset` of a file found by `fileInFolder`. The caller has
 * checked `offset + length` against the size measured then; the file is opened without
 * blocking and without following a link, and measured again, so a file swapped for a
 * FIFO or a link in between is refused rather than waited on.
 */
export async function readFolderFile(file: FolderFile, offset: number, length: number, label: string, what: string): Promise<Uint8Array> {
  const quoted = `${what} '${file.reference.slice(0, 200)}'`;
  let handle;
  try {
    handle = await open(file.path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (err) {
    throw new FileError(label, `${quoted}: ${systemReason(err)}`, { cause: err });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new FileError(label, `${quoted} is not a regular file`);
    if (offset + length > st.size) {
      throw new FileError(label, `${quoted} holds ${st.size} bytes, but ${offset + length} are needed`);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) throw new FileError(label, `${quoted} ended after ${done} of ${length} bytes (it changed while being read)`);
      done += bytesRead;
    }
    return out;
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(label, `${quoted}: ${systemReason(err)}`, { cause: err });
  } finally {
    await handle.close();
  }
}
