import type { Command } from "commander";

/** Registers `reconstruct` (not implemented yet). */
export function registerGmcaeCommands(program: Command, train: Command): void {
  program
    .command("reconstruct")
    .description("(not implemented yet)")
    .action(() => {
      throw new Error("reconstruct: not implemented yet");
    });
  void train;
}
