/**
 * samples/keras-h5-writer.mjs, typed for tests: writes valid Keras 2.2 HDF5 model files
 * from a config and weights, so a test can build exactly the (hostile) file it needs.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "./cli.js";
import { SEED_BIAS, SEED_KERNEL, SEED_RECURRENT_KERNEL } from "./seed.js";

export interface LayerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

export interface SampleWriter {
  writeKerasH5(spec: unknown): Promise<Uint8Array>;
  lstmConfig(name: string, units: number, extra?: object): LayerConfig;
  denseConfig(name: string, units: number, extra?: object): LayerConfig;
  sequentialConfig(name: string, layers: unknown[]): object;
}

export async function sampleWriter(): Promise<SampleWriter> {
  return (await import(pathToFileURL(join(REPO_ROOT, "samples/keras-h5-writer.mjs")).href)) as SampleWriter;
}

/** The reference example's LSTM weights, stored as layer `name` (Keras 2 names: `name/kernel:0`, ...). */
export function seedLstmWeights(name: string) {
  return {
    name,
    weights: [
      { name: `${name}/kernel:0`, shape: [2, 4], data: SEED_KERNEL.flat() },
      { name: `${name}/recurrent_kernel:0`, shape: [1, 4], data: SEED_RECURRENT_KERNEL.flat() },
      { name: `${name}/bias:0`, shape: [4], data: SEED_BIAS },
    ],
  };
}
