// zip64 archives (APPNOTE 4.3.14-15, 4.5.3): what Python's zipfile writes for a .keras past
// 4 GB. The test writes a real .keras (tf.keras 2.15's GRU, test/fixtures/real) again with every
// size and offset deferred to zip64 records, as an archive past 4 GB has them, and the model
// must load with the same tensors, bit for bit (tolerance 0: the same stored bytes). A record
// that defers a field to a zip64 extra it does not hold is refused in one line.
import { readFileSync } from "node:fs";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { FileError } from "../../src/errors.js";
import { loadModelFromBytes } from "../../src/load/index.js";
import { crc32 } from "../../src/load/zip.js";
import { allWeights, type Model, walkLayers } from "../../src/model.js";
import { fixturePath } from "./fixture-paths.js";

const enc = (s: string) => new TextEncoder().encode(s);

/** A stored zip of `entries` whose records all say 0xFFFFFFFF and carry their sizes and offsets in zip64 extra fields. */
function zip64Archive(entries: [string, Uint8Array][], options: { dropCentralExtra?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    offset += b.length;
  };
  for (const [name, data] of entries) {
    const n = enc(name);
    const crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30 + n.length + 20));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 45, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, 0xffffffff, true);
    local.setUint32(22, 0xffffffff, true);
    local.setUint16(26, n.length, true);
    local.setUint16(28, 20, true);
    new Uint8Array(local.buffer).set(n, 30);
    local.setUint16(30 + n.length, 0x0001, true);
    local.setUint16(32 + n.length, 16, true);
    local.setBigUint64(34 + n.length, BigInt(data.length), true);
    local.setBigUint64(42 + n.length, BigInt(data.length), true);
    const at = offset;
    push(new Uint8Array(local.buffer));
    push(data);
    const extra = options.dropCentralExtra ? 0 : 28;
    const c = new DataView(new ArrayBuffer(46 + n.length + extra));
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 45, true);
    c.setUint16(6, 45, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, 0xffffffff, true);
    c.setUint32(24, 0xffffffff, true);
    c.setUint16(28, n.length, true);
    c.setUint16(30, extra, true);
    c.setUint32(42, 0xffffffff, true);
    new Uint8Array(c.buffer).set(n, 46);
    if (extra) {
      c.setUint16(46 + n.length, 0x0001, true);
      c.setUint16(48 + n.length, 24, true);
      c.setBigUint64(50 + n.length, BigInt(data.length), true);
      c.setBigUint64(58 + n.length, BigInt(data.length), true);
      c.setBigUint64(66 + n.length, BigInt(at), true);
    }
    central.push(new Uint8Array(c.buffer));
  }
  const cdStart = offset;
  for (const c of central) push(c);
  const cdSize = offset - cdStart;
  const end64At = offset;
  const end64 = new DataView(new ArrayBuffer(56));
  end64.setUint32(0, 0x06064b50, true);
  end64.setBigUint64(4, 44n, true);
  end64.setUint16(12, 45, true);
  end64.setUint16(14, 45, true);
  end64.setBigUint64(24, BigInt(entries.length), true);
  end64.setBigUint64(32, BigInt(entries.length), true);
  end64.setBigUint64(40, BigInt(cdSize), true);
  end64.setBigUint64(48, BigInt(cdStart), true);
  push(new Uint8Array(end64.buffer));
  const locator = new DataView(new ArrayBuffer(20));
  locator.setUint32(0, 0x07064b50, true);
  locator.setBigUint64(8, BigInt(end64At), true);
  locator.setUint32(16, 1, true);
  push(new Uint8Array(locator.buffer));
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, 0xffff, true);
  end.setUint16(10, 0xffff, true);
  end.setUint32(12, 0xffffffff, true);
  end.setUint32(16, 0xffffffff, true);
  push(new Uint8Array(end.buffer));
  const out = new Uint8Array(offset);
  let p = 0;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

const tensors = (m: Model) => [...walkLayers(m.layers)].flatMap(({ path, layer }) => allWeights(layer).map((t) => `${path}/${t.name} ${t.shape} ${Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString("base64")}`));

describe("zip64 .keras archives", () => {
  const path = fixturePath("tfk2_gru_stacked_v3.keras")!;
  const original = readFileSync(path);
  const entries = Object.entries(unzipSync(new Uint8Array(original)));

  it("load as the same model, every size and offset read from zip64 records", async () => {
    const rewritten = zip64Archive(entries);
    const expected = tensors(await loadModelFromBytes(new Uint8Array(original), path));
    expect(tensors(await loadModelFromBytes(rewritten, "zip64.keras"))).toEqual(expected);
  });

  it("a record that defers its sizes to a zip64 field it does not hold is refused in one line", async () => {
    const err = await loadModelFromBytes(zip64Archive(entries, { dropCentralExtra: true }), "zip64.keras").catch((e) => e);
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toMatch(/^zip64\.keras: not a readable zip archive \(central directory record 1 defers its sizes to a zip64 field it does not hold\)/);
  });
});
