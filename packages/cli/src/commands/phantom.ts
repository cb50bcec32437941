import type { Command } from "commander";

/** Registers `phantom` (not implemented yet). */
export function registerPhantom(program: Command): void {
  program
    .command("phantom")
    .description("(not implemented yet)")
    .action(() => {
      throw new Error("phantom: not implemented yet");
    });
}
