// The CLI as tsc writes it, with h5wasm as published: bin/keras-inspect.js before the bundle
// and the split binary (src/build.mjs). bench/startup.mjs times it beside the real one.
import { main } from "../dist/cli/main.js";

await main(process.argv);
