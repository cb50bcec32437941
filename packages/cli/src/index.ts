/** @lungflow/cli: the `lungflow` command. */
export { buildProgram, LUNGFLOW_VERSION, main } from "./program.js";
