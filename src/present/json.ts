/**
 * JSON output shared by every command's --json: indented objects, arrays of numbers
 * kept on one line, typed arrays as arrays, and NaN / ±Infinity (which JSON lacks)
 * as the strings "NaN", "Infinity", "-Infinity".
 */
function normalize(value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>, normalize);
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, normalize(v)]),
    );
  }
  return value;
}

/**
 * JSON.stringify escapes C0 controls (ESC becomes \u001b) but writes DEL, C1 controls
 * (U+009B is a CSI to many terminals), bidirectional overrides and line separators raw.
 * Names come from untrusted files, so those are escaped too; JSON.parse gives them back.
 * Found by the fuzz suite: layer names "csi\u009b2J" and "rtl\u202eevil" reached the terminal.
 */
function quote(v: unknown): string {
  const text = JSON.stringify(v);
  return typeof v === "string" ? text.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) : text;
}

function render(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every((v) => v === null || typeof v !== "object")) return `[${value.map((v) => quote(v)).join(", ")}]`;
    const inner = indent + "  ";
    return `[\n${value.map((v) => inner + render(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    const inner = indent + "  ";
    return `{\n${entries.map(([k, v]) => `${inner}${quote(k)}: ${render(v, inner)}`).join(",\n")}\n${indent}}`;
  }
  return quote(value);
}

export function toJson(value: unknown): string {
  return render(normalize(value), "");
}

/** One number as toJson writes it inside an array (NaN and infinities as strings). */
export function jsonNumber(v: number): string {
  return quote(normalize(v));
}
