/** `node --import ./test/fuzz/ts-register.mjs file.ts`: run TypeScript through ts-loader.mjs. */
import { register } from "node:module";

register("./ts-loader.mjs", import.meta.url);
