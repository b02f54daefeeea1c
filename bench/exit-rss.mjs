// Preloaded (node --import) into a measured child when /usr/bin/time is missing: writes
// "- <max RSS in KiB>" to $BENCH_RSS_FILE as the process exits (see whole-process.mjs).
import { writeFileSync } from "node:fs";

process.on("exit", () => {
  if (process.env.BENCH_RSS_FILE) writeFileSync(process.env.BENCH_RSS_FILE, `- ${process.resourceUsage().maxRSS}`);
});
