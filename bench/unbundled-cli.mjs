// The CLI as tsc writes it (h5wasm, when a file needs it, as published): bin/keras-inspect.js
// before the bundle and the split binary (src/build.mjs). bench/startup.mjs times it beside
// the real one.
import { main } from "../dist/cli/main.js";

await main(process.argv);
