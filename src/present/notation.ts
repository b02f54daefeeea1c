/**
 * The notation the teaching printers share: Unicode symbols (h₍ₜ₋₁₎, c̃, σ, ⊙) and
 * their 7-bit ASCII spellings for `--ascii`, widths in terminal columns, word wrap.
 */

/** Unicode notation -> 7-bit ASCII, longest first. */
const ASCII: [string, string][] = [
  // The matrix products of the definitions get numpy's @: with * for both, "x*W" and "f*c" read alike.
  ["· is the matrix product", "@ is the matrix product"],
  ["xₜ·", "x[t] @ "],
  ["h₍ₜ₋₁₎·U", "h[t-1] @ U"],
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

/** East Asian wide and fullwidth characters (two terminal columns), from EastAsianWidth.txt. */
function isWide(code: number): boolean {
  return (
    code >= 0x1100 &&
    (code <= 0x115f ||
      code === 0x2329 ||
      code === 0x232a ||
      (code >= 0x2e80 && code <= 0x3247 && code !== 0x303f) ||
      (code >= 0x3250 && code <= 0x4dbf) ||
      (code >= 0x4e00 && code <= 0xa4c6) ||
      (code >= 0xa960 && code <= 0xa97c) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe10 && code <= 0xfe19) ||
      (code >= 0xfe30 && code <= 0xfe6b) ||
      (code >= 0xff01 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x1b000 && code <= 0x1b001) ||
      (code >= 0x1f200 && code <= 0x1f251) ||
      (code >= 0x20000 && code <= 0x3fffd))
  );
}

/**
 * Display width in terminal columns: code points, less combining marks and colour
 * codes, East Asian wide characters counting two. Tables measure every cell with it, so
 * the common case (ASCII and the few symbols we print) is one pass over char codes.
 */
export function displayWidth(s: string): number {
  let simple = true;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x20 || c >= 0x300) {
      simple = false;
      break;
    }
  }
  if (simple) return s.length;
  // eslint-disable-next-line no-control-regex
  const plain = s.replace(/\x1b\[[0-9;]*m/g, "").replace(/\p{M}/gu, "");
  let n = 0;
  for (const ch of plain) n += isWide(ch.codePointAt(0)!) ? 2 : 1;
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


/**
 * One line fitted to `width` columns: broken at spaces (the spacing inside each piece kept
 * as it was), continuation lines indented by `hang` spaces beyond the line's own leading
 * indent; a word longer than a whole line is cut, so no line is wider than `width`.
 * An infinite width keeps the line whole.
 */
export function wrapLine(line: string, width: number, hang = 2): string[] {
  if (!Number.isFinite(width) || displayWidth(line) <= width) return [line];
  const lead = /^ */.exec(line)![0];
  // A hanging indent that leaves too little room falls back to the line's own indent.
  const indent = lead + " ".repeat(width - lead.length - hang >= 20 ? hang : 0);
  const out: string[] = [];
  let current = lead;
  let room = width;
  const push = () => {
    out.push(current.trimEnd());
    current = indent;
  };
  for (const m of line.slice(lead.length).matchAll(/(\s*)(\S+)/g)) {
    const [, gap, word] = m;
    const atStart = current === lead || current === indent;
    let piece = atStart ? word : gap + word;
    if (!atStart && displayWidth(current) + displayWidth(piece) > room) {
      push();
      piece = word;
    }
    // A word wider than a whole line is cut into pieces that fit.
    while (displayWidth(current) + displayWidth(piece) > room && [...piece].length > 1) {
      const chars = [...piece];
      let take = 0;
      let used = displayWidth(current);
      while (take < chars.length && used + displayWidth(chars[take]) <= room) used += displayWidth(chars[take++]);
      if (take === 0) take = 1;
      current += chars.slice(0, take).join("");
      piece = chars.slice(take).join("");
      push();
    }
    current += piece;
  }
  if (current.trim() !== "") out.push(current);
  return out;
}

/** Display names of the trace's intermediates, as the explanation writes them. */
export function displayName(name: string): string {
  return name === "c_tilde" ? "c̃" : name;
}
