#!/usr/bin/env node
import { main } from "./program.js";

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`lungflow: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
