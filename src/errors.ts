/**
 * User-facing errors. Everything below `cli/` throws these; only `cli/main.ts`
 * turns them into one line on stderr and an exit code.
 *
 * Exit codes (documented in the README):
 *   0  success (for `check`/`diff`: passed / equal)
 *   1  a check failed, or `diff` found a difference
 *   2  the tool could not do what was asked: bad usage, unreadable or invalid file,
 *      unsupported layer, bad input values
 */
export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_ERROR = 2;

export class InspectError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "InspectError";
    this.exitCode = options.exitCode ?? EXIT_ERROR;
  }
}

/** A file that cannot be read as a Keras model (missing, not HDF5, truncated, not Keras...). */
export class FileError extends InspectError {
  constructor(
    file: string,
    /** What is wrong, without the file's name. */
    readonly problem: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${file}: ${problem}`, options);
    this.name = "FileError";
  }
}

/** The model holds something we refuse to evaluate rather than guess. */
export class UnsupportedError extends InspectError {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedError";
  }
}

/** Bad values or options given by the user. */
export class UsageError extends InspectError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * A file-system error in words ("no such file", "permission denied"), the same for every
 * file the user names; `expected` says what a directory given in its place is not. For a
 * file being written (`action` "write"), ENOENT means its folder does not exist.
 */
export function systemReason(err: unknown, expected?: string, action: "read" | "write" = "read"): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case "ENOENT":
      return action === "write" ? "no such directory" : "no such file";
    case "EROFS":
      return "read-only file system";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return expected ? `is a directory, not ${expected}` : "is a directory";
    case "ENAMETOOLONG":
      return "file name too long";
    case "ELOOP":
      return "too many levels of symbolic links";
    case "ENOTDIR":
      return "a component of the path is not a directory";
    case "ENOSPC":
      return "no space left on the device";
    default:
      return `cannot ${action} it (${code ?? (err as Error)?.message ?? String(err)})`;
  }
}
