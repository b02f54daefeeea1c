/**
 * The two 16-bit floating-point formats model files store, widened to numbers. Both widen
 * exactly: every float16 and every bfloat16 value is a float32 value.
 *
 * - float16 (IEEE 754 binary16): tfjs weights, ONNX tensors, and HDF5 datasets written by
 *   h5py from numpy's float16 (an H5T_FLOAT of 2 bytes: sign bit 15, exponent bits 10-14
 *   with bias 15, mantissa bits 0-9; hdf5-metadata.ts refuses any other 2-byte float layout).
 * - bfloat16 (the upper half of a float32: sign, 8 exponent bits with bias 127, 7 mantissa
 *   bits): Keras 3 writes it from ml_dtypes.bfloat16 arrays, which h5py stores as a 2-byte
 *   H5T_OPAQUE type (numpy kind 'V'), the dataset marked with the attribute
 *   dtype="bfloat16" (keras/src/saving/saving_lib.py, H5IOStore.__setitem__ and
 *   __getitem__, Keras 3.15.1; checked on files Keras 3.15.1 wrote with h5py 3.16).
 */

/** The number a float16 bit pattern denotes; exact in float32. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

const widen = new Float32Array(1);
const widenBits = new Uint32Array(widen.buffer);

/** The number a bfloat16 bit pattern denotes: the float32 whose upper 16 bits these are (NaN stays NaN). */
export function bfloat16ToNumber(bits: number): number {
  widenBits[0] = (bits & 0xffff) << 16;
  return widen[0];
}

let float16Values: Float32Array | undefined;

/** Every float16 bit pattern's value (256 KB, made on first use): a lookup is many times faster than halfToNumber's powers of two. */
export function float16Table(): Float32Array {
  if (!float16Values) {
    float16Values = new Float32Array(0x10000);
    for (let bits = 0; bits < 0x10000; bits++) float16Values[bits] = halfToNumber(bits);
  }
  return float16Values;
}

/**
 * Widens `bits` (float16 or bfloat16 patterns) into `out` from `at`. Into a Float32Array
 * bfloat16 is written as the float32 bits it is the upper half of, and float16 through
 * float16Table; both give exactly bfloat16ToNumber's and halfToNumber's values.
 */
export function widen16(kind: "float16" | "bfloat16", bits: Uint16Array, out: Float32Array | Float64Array, at: number): void {
  if (out instanceof Float32Array && kind === "bfloat16") {
    const words = new Uint32Array(out.buffer, out.byteOffset + at * 4, bits.length);
    for (let k = 0; k < bits.length; k++) words[k] = bits[k] << 16;
  } else if (kind === "float16") {
    const table = float16Table();
    for (let k = 0; k < bits.length; k++) out[at + k] = table[bits[k]];
  } else {
    for (let k = 0; k < bits.length; k++) out[at + k] = bfloat16ToNumber(bits[k]);
  }
}
