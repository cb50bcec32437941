import { isLungflowError } from "@lungflow/volume";

/** Runs an action; a lungflow error prints `lungflow <cmd>: CODE message` and exits 1. */
export async function guarded(cmd: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (isLungflowError(err)) {
      console.error(`lungflow ${cmd}: ${err.code}: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
