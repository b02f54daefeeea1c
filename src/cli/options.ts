/** Option parsers shared by commands; each throws UsageError (exit 2) on a bad value. */
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
