import { type Command, Option } from "commander";
import { exportLayer, type ExportFormat, type ExportLayout } from "../../export/index.js";
import { loadModel } from "../../load/index.js";
import { safe } from "../../present/text.js";

interface ExportOptions {
  layer: string;
  to: string;
  layout: ExportLayout;
  format: ExportFormat;
  allowActivationMismatch?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .description("write one layer's weights, cut by gate, as .npy or JSON files (or as a PyTorch nn.LSTM/nn.GRU state dict)")
    .argument("<file>", "a Keras model or weights file (.h5, .hdf5, .keras, .weights.h5)")
    .requiredOption("-l, --layer <name>", "the layer (path for nested layers, e.g. bidirectional_1/forward_lstm_1)")
    .requiredOption("--to <dir>", "directory to write into (created when missing; files of the same name are replaced)")
    .addOption(new Option("--layout <layout>", "keras: kernel_i.npy, recurrent_kernel_f.npy, bias_o.npy, ... and the packed tensors; torch: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0").choices(["keras", "torch"]).default("keras"))
    .addOption(new Option("--format <format>", "npy: float32 .npy files; json: nested arrays").choices(["npy", "json"]).default("npy"))
    .option("--allow-activation-mismatch", "--layout torch: write the state dict even though PyTorch applies sigmoid/tanh and the layer does not")
    .action(async (file: string, opts: ExportOptions) => {
      const model = await loadModel(file);
      const { plan, written } = await exportLayer(
        model,
        { layer: opts.layer, layout: opts.layout, format: opts.format, allowActivationMismatch: opts.allowActivationMismatch },
        opts.to,
      );
      const lines = [`wrote ${written.length} files to ${safe(opts.to)} (layout ${opts.layout}, ${opts.format === "npy" ? "float32 .npy" : "JSON"}):`];
      const width = Math.max(...plan.files.map((f) => f.file.length), "manifest.json".length);
      for (const f of plan.files) lines.push(`  ${safe(f.file).padEnd(width)}  (${f.shape.join(", ")}${f.shape.length === 1 ? "," : ""})`);
      lines.push(`  ${"manifest.json".padEnd(width)}  what was written, from which layer`);
      if (plan.torchConstructor) lines.push(`load into: ${plan.torchConstructor}`);
      for (const n of plan.notes) lines.push(`note: ${safe(n)}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
