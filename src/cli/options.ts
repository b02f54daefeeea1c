/** Option parsers shared by commands; each throws UsageError (exit 2) on a bad value. */
import type { Command } from "commander";
import { UsageError } from "../errors.js";

export function parseNonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`${name} must be a whole number ≥ 0, got '${value}'`);
    return n;
  };
}

export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n === 0) throw new UsageError(`${name} must be a whole number ≥ 1, got '${value}'`);
    return n;
  };
}

export function parseNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${name} must be a number, got '${value}'`);
    return n;
  };
}

export function parseChoice<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${name} must be one of ${choices.join(", ")}, got '${value}'`);
    return value as T;
  };
}

/** A --steps value: a Python index or slice, resolved against the number of steps once it is known. */
export interface StepSlice {
  text: string;
  /** A single index, or start:stop:step (each part may be missing). */
  index?: number;
  start?: number;
  stop?: number;
  step?: number;
}

const STEPS_USAGE = "--steps takes an index or a slice START:STOP[:STEP] counted from 0 as Python counts (3, -1, 0:10, -5:, ::2)";

/** Parses --steps: `3`, `-1`, `0:10`, `-5:`, `:`, `::2`, `10:0:-1`. */
export function parseSteps(value: string): StepSlice {
  const text = value.trim();
  const int = (s: string): number | undefined => {
    if (s.trim() === "") return undefined;
    if (!/^[+-]?\d+$/.test(s.trim())) throw new UsageError(`${STEPS_USAGE}, got '${value}'`);
    return Number(s);
  };
  const parts = text.split(":");
  if (text === "" || parts.length > 3) throw new UsageError(`${STEPS_USAGE}, got '${value}'`);
  if (parts.length === 1) return { text, index: int(parts[0]) };
  const [start, stop, step] = parts.map(int);
  if (step === 0) throw new UsageError(`--steps ${text}: a slice's step cannot be zero`);
  return { text, start, stop, step };
}

/**
 * The processing steps (from 0) a --steps value selects among `n`, as Python's
 * `range(n)[slice]` does: out-of-range slice bounds are clipped, an out-of-range index
 * or an empty selection is an error.
 */
export function selectSteps(slice: StepSlice, n: number): number[] {
  const range = n === 1 ? "its only step is 0 (or -1)" : `its steps are 0 to ${n - 1} (or -${n} to -1)`;
  if (slice.index !== undefined) {
    const i = slice.index < 0 ? slice.index + n : slice.index;
    if (i < 0 || i >= n) throw new UsageError(`--steps ${slice.text} is out of range: the input has ${n} step(s); ${range}`);
    return [i];
  }
  const step = slice.step ?? 1;
  const [lower, upper] = step > 0 ? [0, n] : [-1, n - 1];
  const clip = (v: number | undefined, missing: number) => (v === undefined ? missing : v < 0 ? Math.max(v + n, lower) : Math.min(v, upper));
  const start = clip(slice.start, step > 0 ? lower : upper);
  const stop = clip(slice.stop, step > 0 ? upper : lower);
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  if (out.length === 0) throw new UsageError(`--steps ${slice.text} selects no step: the input has ${n} step(s); ${range}`);
  return out;
}

/** --steps, on step and explain: which processing steps, as a Python index or slice. */
export function addStepsOption(cmd: Command, what: string): Command {
  return cmd.option("--steps <slice>", `${what}: an index or a slice counted from 0 as in Python (3, -1, 0:10, -5:, ::2); default: all`, parseSteps);
}
