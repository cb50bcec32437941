import { Command, CommanderError } from "commander";
import { registerClassifierCommands } from "./commands/classifier.js";
import { registerDemo } from "./commands/demo.js";
import { registerDicom } from "./commands/dicom.js";
import { registerFeatures } from "./commands/features.js";
import { registerGmcaeCommands } from "./commands/gmcae.js";
import { registerIngest } from "./commands/ingest.js";
import { registerPhantom } from "./commands/phantom.js";
import { registerReport } from "./commands/report.js";
import { registerStore } from "./commands/store.js";
import { registerView } from "./commands/view.js";
import { registerWorker } from "./commands/worker.js";

/** Version printed by `lungflow --version` and stored in the patch store's metadata. */
export const LUNGFLOW_VERSION = "0.1.0";

/**
 * Builds the `lungflow` command tree. Each command group lives in its own file under
 * `commands/` and registers itself here; an action resolves to the process exit code.
 */
export function buildProgram(): Command {
  const program = new Command("lungflow")
    .description("Deep learning on lung CT: DICOM -> Zarr store -> GMCAE -> cancer classifier")
    .version(LUNGFLOW_VERSION)
    .showHelpAfterError()
    .exitOverride();
  const train = program.command("train").description("train a model (gmcae | classifier)");
  registerPhantom(program);
  registerDicom(program);
  registerIngest(program);
  registerWorker(program);
  registerStore(program);
  registerGmcaeCommands(program, train);
  registerFeatures(program);
  registerClassifierCommands(program, train);
  registerReport(program);
  registerView(program);
  registerDemo(program);
  return program;
}

/**
 * Runs the CLI and resolves to the exit code. Actions report a non-zero outcome by setting
 * `process.exitCode` (e.g. 2 = some patients failed); a thrown error prints its message and
 * gives 1.
 */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return Number(process.exitCode ?? 0);
}
