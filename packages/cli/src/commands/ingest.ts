import type { Command } from "commander";

/** Registers `ingest` (not implemented yet). */
export function registerIngest(program: Command): void {
  program
    .command("ingest")
    .description("(not implemented yet)")
    .action(() => {
      throw new Error("ingest: not implemented yet");
    });
}
