/**
 * The input options shared by step, predict, explain and check:
 *   --input VALUES | --input NAME=VALUES   (repeatable; ';' separates steps, ',' features;
 *                                           or a JSON object of arrays by input name)
 *   --input-file FILE | --input-file NAME=FILE   (.npy, .npz, JSON, CSV, TSV; '-' for standard input)
 * Named inputs map to the model's InputLayer names; unnamed ones are taken in model input order.
 */
import type { Command } from "commander";
import { graphOfModel, SEQUENTIAL_INPUT } from "../eval/graph.js";
import { modelInputShapes } from "../eval/step.js";
import { UsageError } from "../errors.js";
import { type GivenInput, parseInputText, readInputFileArrays } from "../inputs.js";
import type { Model } from "../model.js";
import type { NdArray } from "../npy.js";
import { safe } from "../present/text.js";

export interface InputOptions {
  input?: string[];
  inputFile?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addInputOptions(cmd: Command): Command {
  return cmd
    .option("-i, --input <values>", "input values: '1,10' is one step of 2 features, '1,10;2,20' two steps; NAME=VALUES for a named model input (repeatable)", collect)
    .option("--input-file <file>", "input from a .npy, .npz, JSON, CSV or TSV file ('-' = standard input); NAME=FILE for a named input (repeatable)", collect);
}

function splitName(arg: string): { name?: string; value: string } {
  const m = /^([A-Za-z_][\w.-]*)=(.*)$/s.exec(arg);
  return m ? { name: m[1], value: m[2] } : { value: arg };
}

function inputNames(model: Model): string[] {
  return graphOfModel(model).inputs.map((r) => (r.layer === SEQUENTIAL_INPUT ? "input" : r.layer));
}

/** How to give this model its input, from its own input shapes: the hint of "no input given". */
export function inputHint(model: Model): string {
  const names = inputNames(model);
  const shapes = modelInputShapes(model);
  const shapeText = (s: (number | null)[] | undefined) => (s ? `(${s.map((d) => d ?? "steps").join(", ")})` : "(shape not recorded in the file)");
  if (names.length !== 1) {
    const list = names.map((n, k) => `${safe(n)} ${shapeText(shapes[k])}`).join(", ");
    return `the model takes ${names.length} inputs, ${list}: pass --input NAME=VALUES for each, or --input-file FILE (.npz or a JSON object keyed by input name)`;
  }
  const shape = shapes[0];
  const features = shape?.[shape.length - 1];
  if (!shape || features === null || features === undefined) return "pass --input VALUES (',' separates features, ';' steps) or --input-file FILE";
  const example = features <= 6 ? `'${Array.from({ length: features }, (_, k) => k + 1).join(",")}'` : "VALUES";
  if (shape.length === 2) {
    const steps = shape[0] === null ? "" : `; the model takes ${shape[0]} step${shape[0] === 1 ? "" : "s"}`;
    return `pass --input ${example} (one step of ${features} feature${features === 1 ? "" : "s"}; ';' separates steps${steps}) or --input-file FILE`;
  }
  return `pass --input ${example} (input shape ${shapeText(shape)} per sample) or --input-file FILE`;
}

/**
 * The user's inputs in the model's input order; with `target` "layer" (`--raw-input`),
 * the one array fed straight into the layer, whatever inputs the model has.
 */
export function collectInputs(model: Model, opts: InputOptions, required = true, target: "model" | "layer" = "model"): NdArray[] {
  const args = [
    ...(opts.input ?? []).map((a) => ({ ...splitName(a), read: (v: string, name?: string) => parseInputText(v, name === undefined ? "--input" : `--input ${name}=…`) })),
    ...(opts.inputFile ?? []).map((a) => ({ ...splitName(a), read: (v: string) => readInputFileArrays(v) })),
  ];
  if (args.length === 0) {
    if (required) throw new UsageError(`no input given: ${inputHint(model)}`);
    return [];
  }
  // Each argument gives one array, or several keyed by input name (a JSON object, an .npz).
  const given: GivenInput[] = args.flatMap((a) => {
    const arrays = a.read(a.value, a.name);
    if (a.name === undefined) return arrays;
    if (arrays.length !== 1) throw new UsageError(`${a.name}=${a.value}: holds ${arrays.length} arrays; NAME=… takes one`);
    return [{ name: a.name, values: arrays[0].values }];
  });
  if (target === "layer") {
    if (given.length !== 1 || given[0].name !== undefined) {
      throw new UsageError(`--raw-input feeds one layer directly: give it one array (--input VALUES or --input-file FILE), without a model input name; ${given.length} given`);
    }
    return [given[0].values];
  }
  const names = inputNames(model);
  if (given.every((g) => g.name === undefined)) {
    if (given.length !== names.length) {
      throw new UsageError(`the model has ${names.length} input(s) (${names.join(", ")}), ${given.length} given; name them with --input NAME=VALUES`);
    }
    return given.map((g) => g.values);
  }
  const unknown = given.find((g) => g.name !== undefined && !names.includes(g.name) && names.length > 1);
  if (unknown) throw new UsageError(`no model input is named '${unknown.name}'; the model's inputs: ${names.join(", ")}`);
  return names.map((name) => {
    const g = given.find((x) => x.name === name) ?? (names.length === 1 ? given.find((x) => x.name === undefined) : undefined);
    if (!g) throw new UsageError(`no value for model input '${name}'; the model's inputs: ${names.join(", ")}`);
    return g.values;
  });
}
