#!/usr/bin/env node
let cli;
try {
  cli = await import("../dist/bundle/main.js");
} catch (err) {
  // A checkout that was installed but not built (`npm ci` runs no build; `npm run build` does).
  if (err?.code !== "ERR_MODULE_NOT_FOUND" || !String(err.message).includes("dist/bundle/main.js")) throw err;
  process.stderr.write("keras-inspect: not built: run `npm run build` in the keras-inspect checkout first\n");
  process.exit(2);
}
await cli.main(process.argv);
