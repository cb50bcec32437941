import type { Command } from "commander";

/** Registers `dicom` (not implemented yet). */
export function registerDicom(program: Command): void {
  program
    .command("dicom")
    .description("(not implemented yet)")
    .action(() => {
      throw new Error("dicom: not implemented yet");
    });
}
