/**
 * Lookups keyed by strings read from a file. A class, activation or option named
 * "__proto__", "constructor" or "toString" must find nothing in a plain object table
 * (not Object.prototype's members), and writing such a key must make an ordinary own
 * property (not replace the object's prototype with one from the file).
 */

/** table[key] when key is one of the table's own entries, else undefined. */
export function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** target[key] = value as an own, enumerable property, whatever the key ("__proto__" included). */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
