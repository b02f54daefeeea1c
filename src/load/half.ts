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
