/**
 * The input options shared by step, predict, explain and check:
 *   --input VALUES | --input NAME=VALUES   (repeatable; ';' separates steps, ',' features)
 *   --input-file FILE | --input-file NAME=FILE   (.npy, JSON, CSV; '-' for standard input)
 * Named inputs map to the model's InputLayer names; unnamed ones are taken in model input order.
 */
import type { Command } from "commander";
import { graphOfModel, SEQUENTIAL_INPUT } from "../eval/graph.js";
import { UsageError } from "../errors.js";
import { parseInlineValues, readInputFile } from "../inputs.js";
import type { Model } from "../model.js";
import type { NdArray } from "../npy.js";

export interface InputOptions {
  input?: string[];
  inputFile?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addInputOptions(cmd: Command): Command {
  return cmd
    .option("-i, --input <values>", "input values: '1,10' is one step of 2 features, '1,10;2,20' two steps; NAME=VALUES for a named model input (repeatable)", collect)
    .option("--input-file <file>", "input from a .npy, JSON or CSV file ('-' = standard input); NAME=FILE for a named input (repeatable)", collect);
}

function splitName(arg: string): { name?: string; value: string } {
  const m = /^([A-Za-z_][\w.-]*)=(.*)$/s.exec(arg);
  return m ? { name: m[1], value: m[2] } : { value: arg };
}

/** The user's inputs in the model's input order. */
export function collectInputs(model: Model, opts: InputOptions, required = true): NdArray[] {
  const given = [
    ...(opts.input ?? []).map((a) => ({ ...splitName(a), read: (v: string) => parseInlineValues(v) })),
    ...(opts.inputFile ?? []).map((a) => ({ ...splitName(a), read: (v: string) => readInputFile(v) })),
  ];
  if (given.length === 0) {
    if (required) throw new UsageError("no input given: pass --input '1,10' (one step of 2 features) or --input-file FILE");
    return [];
  }
  const names = graphOfModel(model).inputs.map((r) => (r.layer === SEQUENTIAL_INPUT ? "input" : r.layer));
  if (given.every((g) => g.name === undefined)) {
    if (given.length !== names.length) {
      throw new UsageError(`the model has ${names.length} input(s) (${names.join(", ")}), ${given.length} given; name them with --input NAME=VALUES`);
    }
    return given.map((g) => g.read(g.value));
  }
  return names.map((name) => {
    const g = given.find((x) => x.name === name) ?? (names.length === 1 ? given.find((x) => x.name === undefined) : undefined);
    if (!g) throw new UsageError(`no value for model input '${name}'; the model's inputs: ${names.join(", ")}`);
    return g.read(g.value);
  });
}
