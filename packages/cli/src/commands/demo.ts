import type { Command } from "commander";

/** Registers `demo` (not implemented yet). */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("(not implemented yet)")
    .action(() => {
      throw new Error("demo: not implemented yet");
    });
}
