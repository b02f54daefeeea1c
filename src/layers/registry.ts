/**
 * Keras class name -> the module that knows the layer kind.
 * Adding a layer kind: write its module in this folder and list it here.
 */
import { UnsupportedError } from "../errors.js";
import type { Layer } from "../model.js";
import { elu, leakyRelu, prelu, relu, softmax, thresholdedRelu } from "./activation-layers.js";
import { additiveAttention, attention } from "./attention.js";
import { batchNormalization } from "./batch-normalization.js";
import { conv1d } from "./conv1d.js";
import { convLstm } from "./conv-lstm.js";
import { activation, dropout, inputLayer, masking } from "./core.js";
import { dense } from "./dense.js";
import { dot } from "./dot.js";
import { embedding } from "./embedding.js";
import { flatten } from "./flatten.js";
import { globalPooling1d } from "./global-pooling1d.js";
import { gru } from "./gru.js";
import { isRecurrentKind, type LayerKind, type RecurrentKind } from "./kind.js";
import { layerNormalization } from "./layer-normalization.js";
import { lstm } from "./lstm.js";
import { multiHeadAttention } from "./multi-head-attention.js";
import { concatenate, elementwiseMerge, keras1Merge } from "./merge.js";
import { permute } from "./permute.js";
import { pooling1d } from "./pooling1d.js";
import { repeatVector } from "./repeat-vector.js";
import { reshape } from "./reshape.js";
import { simpleRnn } from "./simple-rnn.js";
import { wrapperKinds } from "./wrappers.js";

const KINDS: LayerKind[] = [
  lstm, gru, simpleRnn, convLstm, dense, inputLayer, dropout, activation, masking, ...wrapperKinds(kindOf),
  embedding, flatten, reshape, repeatVector, permute, concatenate, elementwiseMerge, dot, keras1Merge,
  batchNormalization, layerNormalization, conv1d, pooling1d, globalPooling1d,
  leakyRelu, relu, elu, thresholdedRelu, prelu, softmax, attention, additiveAttention, multiHeadAttention,
];

const BY_CLASS = new Map<string, LayerKind>();
for (const kind of KINDS) for (const c of kind.classNames) BY_CLASS.set(c, kind);

export function kindOf(className: string): LayerKind | undefined {
  return BY_CLASS.get(className);
}

export function recurrentKindOf(className: string): RecurrentKind | undefined {
  const k = BY_CLASS.get(className);
  return isRecurrentKind(k) ? k : undefined;
}

/** Class names with a known output shape (summary) and, separately, with a forward pass (predict). */
export function supportedClasses(): { shown: string[]; evaluated: string[] } {
  const all = [...BY_CLASS.keys()].sort();
  return {
    shown: all,
    evaluated: all.filter((c) => {
      const k = BY_CLASS.get(c)!;
      return k.forward !== undefined || isRecurrentKind(k) || c === "Bidirectional";
    }),
  };
}

export function requireRecurrentKind(layer: Layer, path: string): RecurrentKind {
  const k = recurrentKindOf(layer.className);
  if (!k) {
    throw new UnsupportedError(
      `layer '${path}' is ${layer.className}, not a recurrent layer (LSTM, GRU, SimpleRNN, CuDNNLSTM, CuDNNGRU, ConvLSTM1D/2D/3D, or Bidirectional of one)`,
    );
  }
  return k;
}

/** True for layers whose recurrent cell `step`/`weights` can show: recurrent kinds and Bidirectional wrappers of them. */
export function isRecurrentLayer(layer: Layer): boolean {
  if (recurrentKindOf(layer.className)) return true;
  return layer.className === "Bidirectional" && layer.children.length > 0 && recurrentKindOf(layer.children[0].className) !== undefined;
}
