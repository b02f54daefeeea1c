/**
 * Tells the container format from a file's first bytes, never from its extension:
 * a real public `bilstm_model.keras` is HDF5, and tf.keras 2.8 wrote HDF5 to
 * `.keras` names (docs/keras-formats.md A1.7). Reads a few bytes through the page
 * cache, however large the file. Exports: a TensorFlow.js `model.json` (JSON naming a
 * modelTopology), an ONNX model (a protobuf ModelProto, ir_version first) and a TFLite
 * flatbuffer (the file identifier `TFL3` at bytes 4..8).
 */
import type { PagedReader } from "./byte-source.js";
import { hasTfliteIdentifier } from "./tflite-schema.js";

export type ContainerKind = "hdf5" | "zip" | "tfjs-json" | "onnx" | "tflite" | "keras-shards";

export interface Sniffed {
  kind: ContainerKind;
  /** HDF5 only: where the superblock signature was found (0, or a user-block size 512, 1024, 2048, ...). */
  offset: number;
}

/** `\x89HDF\r\n\x1a\n` */
export const HDF5_SIGNATURE = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

function hasSignatureAt(bytes: PagedReader, offset: number): boolean {
  if (offset + HDF5_SIGNATURE.length > bytes.size) return false;
  for (let i = 0; i < HDF5_SIGNATURE.length; i++) {
    if (bytes.u8(offset + i) !== HDF5_SIGNATURE[i]) return false;
  }
  return true;
}

/**
 * The HDF5 spec puts the superblock at 0 or, after a user block, at 512 and then
 * every power of two above it. The library searches the same places, 0 then 2^9, 2^10, ...
 * below the file's size (H5FD_locate_signature), and then takes the place it found as the
 * base of every address in the file, whatever base address the superblock records: so a
 * small file behind 4 GiB of anything opens with all its addresses past 2^32.
 */
export function findHdf5Signature(bytes: PagedReader): number | undefined {
  if (hasSignatureAt(bytes, 0)) return 0;
  for (let offset = 512; offset + HDF5_SIGNATURE.length <= bytes.size; offset *= 2) {
    if (hasSignatureAt(bytes, offset)) return offset;
  }
  return undefined;
}

/** `PK\x03\x04` (a local file header) or `PK\x05\x06` (the end record of an empty archive). */
function isZip(bytes: PagedReader): boolean {
  return (
    bytes.size >= 4 &&
    bytes.u8(0) === 0x50 &&
    bytes.u8(1) === 0x4b &&
    ((bytes.u8(2) === 0x03 && bytes.u8(3) === 0x04) || (bytes.u8(2) === 0x05 && bytes.u8(3) === 0x06))
  );
}

/** How far into a JSON file the `modelTopology` key of a tfjs model.json is looked for. */
const TFJS_KEY_WINDOW = 64 * 1024;

/**
 * A JSON object (after an optional UTF-8 byte-order mark and white space) that names
 * `modelTopology` near its start: converters write it after format, generatedBy and
 * convertedBy, TensorFlow.js first. Other JSON stays "not a model file".
 */
function isTfjsModelJson(bytes: PagedReader): boolean {
  return jsonObjectNaming(bytes, '"modelTopology"');
}

/** A JSON object (after an optional byte-order mark and white space) whose first 64 KB name `key`. */
function jsonObjectNaming(bytes: PagedReader, key: string): boolean {
  const head = bytes.bytes(0, Math.min(bytes.size, TFJS_KEY_WINDOW));
  let at = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (at < head.length && (head[at] === 0x20 || head[at] === 0x0a || head[at] === 0x0d || head[at] === 0x09)) at++;
  if (head[at] !== 0x7b) return false;
  return new TextDecoder("utf-8").decode(head).includes(key);
}

/**
 * The index of Keras 3 sharded weights (`*.weights.json`): `{"metadata": {...}, "weight_map": {...}}`
 * as ShardedH5IOStore writes it (keras3-sharded.ts).
 */
function isShardIndex(bytes: PagedReader): boolean {
  return jsonObjectNaming(bytes, '"weight_map"');
}

/** Tags of ModelProto fields that follow ir_version in files ONNX writers save: 2 to 8 and 14 (onnx.proto). */
const ONNX_SECOND_TAGS = new Set([0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72]);

/**
 * An ONNX ModelProto: every writer (onnx.save, tf2onnx, keras2onnx, torch.onnx) serializes
 * fields in number order, so the file opens with ir_version (field 1, a small varint) and
 * then another of the model's own fields. Protobuf has no magic number; this is its shape.
 */
function isOnnx(bytes: PagedReader): boolean {
  return bytes.size >= 3 && bytes.u8(0) === 0x08 && bytes.u8(1) >= 1 && bytes.u8(1) <= 0x7f && ONNX_SECOND_TAGS.has(bytes.u8(2));
}

/** A flatbuffer with TFLite's file identifier `TFL3` after its root offset (schema.fbs: file_identifier). */
function isTflite(bytes: PagedReader): boolean {
  return bytes.size >= 8 && hasTfliteIdentifier(bytes.bytes(0, 8));
}

export function sniff(bytes: PagedReader): Sniffed | undefined {
  if (isZip(bytes)) return { kind: "zip", offset: 0 };
  const offset = findHdf5Signature(bytes);
  if (offset !== undefined) return { kind: "hdf5", offset };
  if (isTflite(bytes)) return { kind: "tflite", offset: 0 };
  if (isOnnx(bytes)) return { kind: "onnx", offset: 0 };
  if (isTfjsModelJson(bytes)) return { kind: "tfjs-json", offset: 0 };
  if (isShardIndex(bytes)) return { kind: "keras-shards", offset: 0 };
  return undefined;
}

/** The first bytes as hex, for "starts with bytes 7b 22 ..." messages. */
const LFS_POINTER = "version https://git-lfs.github.com/spec/";

/**
 * What a file that is no model is, when it is a thing users mistake for one: a Git LFS
 * pointer (the repository was cloned without `git lfs`), or a TensorFlow SavedModel's
 * graph. A sentence for the error message, or undefined.
 */
export function knownNonModel(bytes: PagedReader, path: string | undefined): string | undefined {
  const head = new TextDecoder("latin1").decode(bytes.bytes(0, Math.min(bytes.size, 200)));
  if (head.startsWith(LFS_POINTER)) {
    const size = /\nsize (\d+)/.exec(head)?.[1];
    return `is a Git LFS pointer, not the model itself${size ? ` (it stands for a file of ${size} bytes)` : ""}: fetch the file with 'git lfs pull' (or 'git lfs fetch && git lfs checkout') in its repository`;
  }
  if (path !== undefined && /(^|[\\/])saved_model\.pbt?x?t?$/.test(path)) {
    return SAVED_MODEL_ADVICE;
  }
  return undefined;
}

/** Why a TensorFlow SavedModel cannot be read, and what to do instead. */
export const SAVED_MODEL_ADVICE =
  "is a TensorFlow SavedModel, whose weights are TensorFlow variables and its layers a graph, not a Keras file: save the model with model.save('model.keras') or model.save('model.h5'), or convert it to TensorFlow.js or ONNX, which keras-inspect reads";

export function leadingBytesHex(bytes: PagedReader, count = 8): string {
  return Array.from(bytes.bytes(0, count), (b) => b.toString(16).padStart(2, "0")).join(" ");
}
