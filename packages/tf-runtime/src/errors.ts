import { LungflowError } from "@lungflow/volume";

/**
 * Thrown by tf-runtime: `BACKEND_UNAVAILABLE` (a requested backend does not load),
 * `BACKEND_REFUSED` (a backend known to compute wrong results, e.g. wasm's 3D conv
 * gradients), `MODEL_DIR` (a model directory is missing or malformed).
 */
export class TfRuntimeError extends LungflowError {
  constructor(
    code: "BACKEND_UNAVAILABLE" | "BACKEND_REFUSED" | "BAD_BACKEND" | "MODEL_DIR",
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super("TfRuntimeError", code, message, context, options);
  }
}

/** True if `err` is a TfRuntimeError, optionally with the given code. */
export function isTfRuntimeErrorCode(err: unknown, code?: string): err is TfRuntimeError {
  return err instanceof TfRuntimeError && (code === undefined || err.code === code);
}
