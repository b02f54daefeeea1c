/** JSON output shared by every command's --json. */

/** JSON with NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers). */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
      if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
      return v;
    },
    2,
  );
}
