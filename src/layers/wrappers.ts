/**
 * Wrappers that hold another layer: Bidirectional (a forward and a backward copy of a
 * recurrent layer, merged) and TimeDistributed (the inner layer applied to every step).
 * Their weights live on their children (see model.ts). What the inner layer is, they ask
 * the registry through the `kindOf` it hands them (registry.ts lists these kinds, so they
 * cannot import it back).
 */
import { InspectError } from "../errors.js";
import type { Layer } from "../model.js";
import type { LayerKind, Shape } from "./kind.js";

/** The kind of a layer class, as the registry knows it. */
type KindOf = (className: string) => LayerKind | undefined;

function innerLayer(layer: Layer, which = 0): Layer {
  const inner = layer.children[which];
  if (!inner) throw new InspectError(`layer '${layer.name}' (${layer.className}) has no inner layer`);
  return inner;
}

/** Bidirectional and TimeDistributed, which look their inner layer up with `kindOf`. */
export function wrapperKinds(kindOf: KindOf): LayerKind[] {
  return [bidirectional(kindOf), timeDistributed(kindOf)];
}

const bidirectional = (kindOf: KindOf): LayerKind => ({
  classNames: ["Bidirectional"],
  outputShapes(layer, inputs, model): Shape[] {
    const fwd = innerLayer(layer, 0);
    const shapes = kindOf(fwd.className)?.outputShapes(fwd, inputs, model);
    if (!shapes) throw new InspectError(`layer '${layer.name}': cannot wrap ${fwd.className}`);
    const [main, ...states] = shapes;
    const mode = layer.config.merge_mode === undefined ? "concat" : layer.config.merge_mode;
    const last = main[main.length - 1];
    const merged: Shape[] =
      mode === "concat"
        ? [[...main.slice(0, -1), last === null ? null : 2 * last]]
        : mode === null
          ? [main, main]
          : [main];
    return [...merged, ...states, ...states];
  },
});

const timeDistributed = (kindOf: KindOf): LayerKind => ({
  classNames: ["TimeDistributed"],
  outputShapes(layer, inputs, model): Shape[] {
    const inner = innerLayer(layer);
    const input = inputs[0] ?? [null, null];
    const kind = kindOf(inner.className);
    if (!kind) throw new InspectError(`layer '${layer.name}': cannot wrap ${inner.className}`);
    const innerShape = kind.outputShapes(inner, [[input[0], ...input.slice(2)]], model)[0];
    return [[input[0], input[1], ...innerShape.slice(1)]];
  },
  forward(layer, inputs, ctx) {
    const inner = innerLayer(layer);
    const kind = kindOf(inner.className);
    if (!kind?.forward) throw new InspectError(`layer '${layer.name}': cannot evaluate ${inner.className} inside TimeDistributed`);
    const x = inputs[0];
    const [B, T, ...rest] = x.shape;
    const [y] = kind.forward(inner, [{ shape: [B * T, ...rest], data: x.data }], { ...ctx, path: `${ctx.path}/${inner.name}` });
    return [{ shape: [B, T, ...y.shape.slice(1)], data: y.data, mask: x.mask }];
  },
});
