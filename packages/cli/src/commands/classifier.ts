import type { Command } from "commander";

/** Registers `predict` (not implemented yet). */
export function registerClassifierCommands(program: Command, train: Command): void {
  program
    .command("predict")
    .description("(not implemented yet)")
    .action(() => {
      throw new Error("predict: not implemented yet");
    });
  void train;
}
