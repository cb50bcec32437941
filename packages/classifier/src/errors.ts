import { LungflowError } from "@lungflow/volume";

export type ClassifierErrorCode =
  | "BAD_CONFIG"
  | "ENCODER_NOT_SEQUENTIAL"
  | "CHECKPOINT_NOT_FOUND"
  | "NON_FINITE_LOSS"
  | "NO_DATA"
  | "BAD_PREDICTIONS"
  | "BAD_LABELS";

/** Thrown by the classifier package: bad configs, unusable encoders, broken runs and CSVs. */
export class ClassifierError extends LungflowError {
  constructor(
    code: ClassifierErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super("ClassifierError", code, message, context, options);
  }
}
