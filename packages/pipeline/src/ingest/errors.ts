import { LungflowError } from "@lungflow/volume";

/**
 * Codes of {@link IngestError}.
 * - `BAD_ROOT`: the DICOM root is missing or not a folder.
 * - `WORKER_FAILED`: a pool worker died or Piscina rejected a task (out of memory, crash);
 *   the patient is reported failed and the rest go on.
 * - `INTERNAL`: an unexpected non-lungflow error inside a worker (a bug: report it).
 * - `BAD_OPTIONS`: invalid ingest options.
 */
export type IngestErrorCode = "BAD_ROOT" | "WORKER_FAILED" | "INTERNAL" | "BAD_OPTIONS";

/** A failure of the ingest flow itself (not of a DICOM series or the store). */
export class IngestError extends LungflowError {
  declare readonly code: IngestErrorCode;
  constructor(
    code: IngestErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super("IngestError", code, message, context, options);
  }
}

/** A typed error as it crosses a thread and lands in events and reports. */
export interface SerializedError {
  tag: string;
  code: string;
  message: string;
  context: Record<string, unknown>;
}

/** Flattens any thrown value into a {@link SerializedError} (keeps lungflow tags and codes). */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const e = err as Error & { _tag?: unknown; code?: unknown; context?: unknown };
    const tagged = typeof e._tag === "string" && typeof e.code === "string";
    return {
      tag: tagged ? (e._tag as string) : e.name,
      code: tagged ? (e.code as string) : "INTERNAL",
      message: e.message,
      context:
        tagged && e.context && typeof e.context === "object"
          ? jsonSafe(e.context as Record<string, unknown>)
          : {},
    };
  }
  return { tag: "Error", code: "INTERNAL", message: String(err), context: {} };
}

function jsonSafe(o: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(o));
  } catch {
    return {};
  }
}
