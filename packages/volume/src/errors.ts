/**
 * The base of every lungflow error: a literal `_tag` naming the failure kind, a stable
 * `code` (for CLIs and reports), typed context and an optional `cause`.
 * Packages subclass it (e.g. dicom-ingest's `DicomError` with codes such as `GANTRY_TILT`).
 * Context never carries patient names, only paths and UIDs.
 */
export class LungflowError extends Error {
  readonly _tag: string;
  readonly code: string;
  readonly context: Record<string, unknown>;

  constructor(
    tag: string,
    code: string,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this._tag = tag;
    this.code = code;
    this.context = context;
    this.name = tag;
  }

  /** A plain object that survives structured clone (worker threads) and JSON. */
  toJSON(): { _tag: string; code: string; message: string; context: Record<string, unknown> } {
    return { _tag: this._tag, code: this.code, message: this.message, context: this.context };
  }
}

/** True if `err` is a LungflowError, optionally with one of the given tags. */
export function isLungflowError(err: unknown, ...tags: string[]): err is LungflowError {
  if (!(err instanceof Error)) return false;
  const tag = (err as { _tag?: unknown })._tag;
  if (typeof tag !== "string" || typeof (err as { code?: unknown }).code !== "string") return false;
  return tags.length === 0 || tags.includes(tag);
}
