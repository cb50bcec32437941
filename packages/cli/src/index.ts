/** @lungflow/cli: the `lungflow` command. */
export { buildProgram, main, LUNGFLOW_VERSION } from "./program.js";
