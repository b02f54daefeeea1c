/**
 * Keeps h5wasm's C stack balanced when HDF5 reports an error.
 *
 * h5wasm turns HDF5 errors into JavaScript exceptions thrown from inside the wasm call
 * (its throwing error handler). A JavaScript exception unwinds the wasm frames without
 * running their epilogues, so the C stack pointer (a wasm global) stays where the
 * deepest frame left it: every HDF5 error leaks about 1 KB of the module's fixed-size C
 * stack. After about 2,000 errors in one process the stack runs into other memory, the
 * module aborts, and every later file, good ones included, fails with "Aborted()".
 * Found by the fuzz suite (its probes, re-run between mutated files, stopped matching).
 *
 * The stack pointer is not exported on h5wasm's Module, so we catch the wasm instance as
 * it is created: this module must be evaluated before h5wasm (hdf5.ts imports it first).
 * If h5wasm was instantiated earlier (a test that imported it directly), nothing is
 * captured and calls run unguarded, as before.
 */

interface StackExports {
  emscripten_stack_get_current(): number;
  _emscripten_stack_restore(sp: number): void;
}

/** The part of the WebAssembly global we touch (the DOM typings that describe it are not in this project's libs). */
type Instantiate = (...args: unknown[]) => Promise<unknown>;
const wasm = (globalThis as unknown as { WebAssembly: { instantiate: Instantiate } }).WebAssembly;

let stack: StackExports | undefined;
const original: Instantiate = wasm.instantiate;

function isHdf5Instance(exports: Record<string, unknown>): boolean {
  return typeof exports.emscripten_stack_get_current === "function" && typeof exports._emscripten_stack_restore === "function" && "H5Fopen" in exports;
}

const patched: Instantiate = async function (this: unknown, ...args: unknown[]) {
  const result = await original.apply(this, args);
  // instantiate(bytes) gives {module, instance}; instantiate(module) gives the instance.
  const instance = ((result as { instance?: unknown }).instance ?? result) as { exports?: Record<string, unknown> };
  if (!stack && instance?.exports && isHdf5Instance(instance.exports)) {
    stack = instance.exports as unknown as StackExports;
    uninstallStackCapture();
  }
  return result;
};

wasm.instantiate = patched;

/** Forgets the current instance and captures the next one (hdf5.ts replaces an instance after a wasm trap). */
export function captureNextInstance(): void {
  stack = undefined;
  wasm.instantiate = patched;
}

/** Puts WebAssembly.instantiate back (called once h5wasm is ready, captured or not). */
export function uninstallStackCapture(): void {
  if (wasm.instantiate === patched) wasm.instantiate = original;
}

/** Whether errors inside h5wasm calls get their C stack restored. */
export function wasmStackGuarded(): boolean {
  return stack !== undefined;
}

/** Runs one synchronous h5wasm call; if it throws, the C stack pointer is put back where it was. */
export function withWasmStack<T>(fn: () => T): T {
  const s = stack;
  if (!s) return fn();
  const sp = s.emscripten_stack_get_current();
  try {
    return fn();
  } catch (err) {
    s._emscripten_stack_restore(sp);
    throw err;
  }
}
