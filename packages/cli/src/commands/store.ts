import type { Command } from "commander";

/** Registers `store` (not implemented yet). */
export function registerStore(program: Command): void {
  program
    .command("store")
    .description("(not implemented yet)")
    .action(() => {
      throw new Error("store: not implemented yet");
    });
}
