/**
 * The notation the teaching printers share: Unicode symbols (h₍ₜ₋₁₎, c̃, σ, ⊙) and
 * their 7-bit ASCII spellings for `--ascii`, widths in terminal columns, word wrap.
 */

/** Unicode notation -> 7-bit ASCII, longest first. */
const ASCII: [string, string][] = [
  ["h₍ₜ₋₁₎", "h[t-1]"],
  ["c₍ₜ₋₁₎", "c[t-1]"],
  ["₍ₜ₋₁₎", "[t-1]"],
  ["ₜ", "[t]"],
  ["c̃", "c_tilde"],
  ["σ", "sigmoid"],
  ["⊙", "*"],
  ["·", "*"],
  ["×", "x"],
  ["−", "-"],
  ["–", "-"],
  ["—", "-"],
  ["…", "..."],
  ["Σ", "sum"],
  ["√", "sqrt"],
  ["≤", "<="],
  ["≥", ">="],
  ["→", "->"],
];

/** Our Unicode notation in ASCII; any other non-ASCII character (from a file name, say) as \uXXXX. */
export function asciiText(s: string): string {
  let out = s;
  for (const [u, a] of ASCII) out = out.split(u).join(a);
  return out.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** Display width in terminal columns: code points, less combining marks. */
export function displayWidth(s: string): number {
  // eslint-disable-next-line no-control-regex
  const plain = s.replace(/\x1b\[[0-9;]*m/g, "").replace(/\p{M}/gu, "");
  let n = 0;
  for (const _ of plain) n++;
  return n;
}

export function wrapWords(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && displayWidth(line) + 1 + displayWidth(word) > width) {
      out.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(line);
  return out;
}


/** Display names of the trace's intermediates, as the explanation writes them. */
export function displayName(name: string): string {
  return name === "c_tilde" ? "c̃" : name;
}
