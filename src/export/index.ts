/**
 * `export`: one layer's weights written as files other tools read.
 *
 * Layout `keras` (default): every gate block named as in the seed notebook
 * (kernel_i.npy, recurrent_kernel_f.npy, bias_o.npy, ...; GRU reset_after also
 * recurrent_bias_z.npy ...), plus the packed Keras 2 tensors after any Keras 1 assembly
 * or CuDNN conversion (kernel.npy, recurrent_kernel.npy, bias.npy). A Bidirectional
 * writes forward/ and backward/ subdirectories. Other layers: their tensors as stored.
 *
 * Layout `torch`: the torch.nn.LSTM / GRU / RNN state dict (see torch.ts).
 *
 * Format `npy`: float32 little-endian C-order .npy files (numpy.load reads them).
 * Format `json`: one JSON file per tensor holding nested arrays of the shortest
 * decimals that read back as the same float32.
 * Every export also writes manifest.json describing what was written.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FileError, UnsupportedError } from "../errors.js";
import type { Model } from "../model.js";
import type { Floats } from "../eval/trace.js";
import { writeNpyFloat32 } from "../npy.js";
import { nested } from "../present/weights.js";
import { findLayer, layerReports, type CellReport, type LayerReport } from "../slice/index.js";
import { torchStateDict } from "./torch.js";

export type ExportLayout = "keras" | "torch";
export type ExportFormat = "npy" | "json";

export interface ExportRequest {
  /** Layer path or name. */
  layer: string;
  layout: ExportLayout;
  format: ExportFormat;
  /** Torch layout: write the state dict even when the Keras activations differ from PyTorch's fixed ones. */
  allowActivationMismatch?: boolean;
}

export interface PlannedFile {
  /** Path relative to the export directory, with '/' separators; built only from fixed names and sanitized tensor names. */
  file: string;
  tensor: string;
  shape: number[];
  data: Floats;
}

export interface ExportPlan {
  files: PlannedFile[];
  /** What manifest.json holds. */
  manifest: Record<string, unknown>;
  notes: string[];
  /** Torch layout: the Python expression that builds the matching module. */
  torchConstructor?: string;
}

/** A tensor name as a file name: only letters, digits, '_', '-' and '.', never a path. */
export function safeFileName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_");
  return s === "" ? "_" : s;
}

function cellFiles(cell: CellReport, dir: string, ext: string): PlannedFile[] {
  const prefix = dir ? `${dir}/` : "";
  return [
    ...cell.tensors.map((t) => ({ file: `${prefix}${t.name}.${ext}`, tensor: t.name, shape: t.shape, data: t.data })),
    ...cell.packed.map((p) => ({ file: `${prefix}${p.name}.${ext}`, tensor: p.name, shape: p.shape, data: p.data })),
  ];
}

function cellManifest(cell: CellReport) {
  return {
    path: cell.path,
    class: cell.className,
    direction: cell.direction,
    kind: cell.kind,
    units: cell.units,
    inputDim: cell.inputDim,
    ...(cell.kernelSize ? { kernelSize: cell.kernelSize } : {}),
    gates: cell.gates,
    activations: cell.activations,
    hardSigmoid: cell.hardSigmoid,
    useBias: cell.useBias,
    resetAfter: cell.resetAfter,
    goBackwards: cell.goBackwards,
    sourceDType: cell.dtype,
    notes: cell.notes,
  };
}

/** Decides what an export writes, without touching the disk. */
export function planExport(model: Model, req: ExportRequest): ExportPlan {
  const found = findLayer(model, req.layer);
  const reports = layerReports(model, req.layer);
  const ext = req.format;
  const report: LayerReport | undefined = reports.length === 1 ? reports[0] : undefined;
  if (!report) {
    const inside = reports.map((r) => r.path).join(", ") || "none";
    throw new UnsupportedError(`layer '${found.path}' (${found.layer.className}) holds several layers; export one of them: ${inside}`);
  }
  const base = { file: model.source, kerasVersion: model.kerasVersion ?? null, layer: report.path, class: report.className, layout: req.layout, format: req.format, dtype: "float32" };

  if (report.type === "plain") {
    if (req.layout === "torch") {
      throw new UnsupportedError(`layer '${report.path}' is ${report.className}; --layout torch applies to recurrent layers (LSTM, GRU, SimpleRNN), use --layout keras`);
    }
    if (report.tensors.length === 0) throw new UnsupportedError(`layer '${report.path}' (${report.className}) has no weights to export`);
    const used = new Set<string>();
    const files = report.tensors.map((t) => {
      let name = safeFileName(t.name);
      while (used.has(name)) name = `${name}_`;
      used.add(name);
      return { file: `${name}.${ext}`, tensor: t.name, shape: t.shape, data: t.data };
    });
    return { files, manifest: { ...base, files: files.map(({ file, tensor, shape }) => ({ file, tensor, shape })) }, notes: [] };
  }

  const notes = [...new Set(report.cells.flatMap((c) => c.notes))];
  if (report.cells.some((c) => c.dtype === "float64")) notes.push("the file stores float64 values; they are written as float32");
  if (req.layout === "torch") {
    const t = torchStateDict(report, req.allowActivationMismatch === true);
    const files = t.tensors.map((s) => ({ file: `${s.name}.${ext}`, tensor: s.name, shape: s.shape, data: s.data }));
    const allNotes = [...notes, ...t.notes];
    return {
      files,
      manifest: {
        ...base,
        ...(report.mergeMode !== undefined ? { mergeMode: report.mergeMode } : {}),
        pytorch: { ...t.module, constructor: t.constructor },
        cells: report.cells.map(cellManifest),
        files: files.map(({ file, tensor, shape }) => ({ file, tensor, shape })),
        notes: allNotes,
      },
      notes: allNotes,
      torchConstructor: t.constructor,
    };
  }
  const split = report.cells.length === 2;
  const files = report.cells.flatMap((c) => cellFiles(c, split ? c.direction : "", ext));
  return {
    files,
    manifest: {
      ...base,
      ...(report.mergeMode !== undefined ? { mergeMode: report.mergeMode } : {}),
      cells: report.cells.map(cellManifest),
      files: files.map(({ file, tensor, shape }) => ({ file, tensor, shape })),
      notes,
    },
    notes,
  };
}

function encode(f: PlannedFile, format: ExportFormat): Uint8Array | string {
  if (format === "npy") return writeNpyFloat32(f.shape, f.data);
  // Values rounded to float32 first, so .json and .npy hold the same numbers.
  return `${JSON.stringify(nested(f.shape, Float32Array.from(f.data), true))}\n`;
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return "permission denied";
    case "ENOTDIR":
    case "EEXIST":
      return "a file is in the way (not a directory)";
    case "ENOSPC":
      return "no space left on the device";
    case "EISDIR":
      return "a directory is in the way";
    default:
      return code ?? (err as Error)?.message ?? String(err);
  }
}

/** Writes a plan into `dir` (created when missing). Returns the files written, relative to `dir`. */
export async function writeExport(plan: ExportPlan, dir: string, format: ExportFormat): Promise<string[]> {
  const fail = (err: unknown, what: string): never => {
    throw new FileError(dir, `cannot write the export ${what}: ${reason(err)}`, { cause: err });
  };
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    fail(err, "directory");
  }
  const written: string[] = [];
  const all: { file: string; bytes: Uint8Array | string }[] = [
    ...plan.files.map((f) => ({ file: f.file, bytes: encode(f, format) })),
    { file: "manifest.json", bytes: `${JSON.stringify(plan.manifest, null, 2)}\n` },
  ];
  for (const { file, bytes } of all) {
    const target = join(dir, ...file.split("/"));
    try {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, bytes);
    } catch (err) {
      fail(err, `file ${file}`);
    }
    written.push(file);
  }
  return written;
}

export async function exportLayer(model: Model, req: ExportRequest, dir: string): Promise<{ plan: ExportPlan; written: string[] }> {
  const plan = planExport(model, req);
  return { plan, written: await writeExport(plan, dir, req.format) };
}
