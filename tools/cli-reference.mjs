#!/usr/bin/env node
// Regenerates the command reference in packages/cli/README.md from the real `--help` output
// of every lungflow command and subcommand (commander's outputHelp, 80 columns, no colour).
// Everything after the marker line is replaced; the text above it is kept as written.
// Needs the built CLI: pnpm turbo run build --filter=@lungflow/cli...
// Usage: node tools/cli-reference.mjs          rewrite the README
//        node tools/cli-reference.mjs --check  exit 1 if the README is out of date
import fs from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const README = fileURLToPath(new URL("../packages/cli/README.md", import.meta.url));
const PROGRAM = fileURLToPath(new URL("../packages/cli/dist/program.js", import.meta.url));
const MARKER =
  "<!-- Generated below by tools/cli-reference.mjs from the real --help output; do not edit by hand. -->";

if (!fs.existsSync(PROGRAM)) {
  console.error(
    `${PROGRAM} is missing: build the CLI first (pnpm turbo run build --filter=@lungflow/cli...)`,
  );
  process.exit(1);
}
const { buildProgram } = await import(pathToFileURL(PROGRAM).href);

/** The help text exactly as `lungflow <path> --help` prints it on an 80-column terminal. */
function helpOf(cmd) {
  let text = "";
  cmd.configureOutput({
    writeOut: (s) => {
      text += s;
    },
    writeErr: (s) => {
      text += s;
    },
    getOutHelpWidth: () => 80,
    getErrHelpWidth: () => 80,
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
  cmd.outputHelp();
  return text.trimEnd();
}

/** Every command, depth first in the order `lungflow --help` lists them. */
function walk(cmd, names, out) {
  out.push({ names, cmd });
  for (const sub of cmd.commands) walk(sub, [...names, sub.name()], out);
  return out;
}

const all = walk(buildProgram(), [], []);
const anchor = (names) => ["lungflow", ...names].join("-");
const lines = [MARKER, "", "## Commands", ""];
lines.push("| command | what it does |", "| --- | --- |");
for (const { names, cmd } of all.slice(1))
  lines.push(
    `| [\`lungflow ${names.join(" ")}\`](#${anchor(names)}) | ${cmd.description().replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;")} |`,
  );
lines.push("");
for (const { names, cmd } of all) {
  const depth = Math.min(names.length, 2);
  lines.push(`${"#".repeat(2 + depth)} ${["lungflow", ...names].join(" ")}`, "");
  lines.push("```text", helpOf(cmd), "```", "");
}
const generated = `${lines.join("\n").trimEnd()}\n`;

const current = fs.existsSync(README) ? fs.readFileSync(README, "utf8") : "";
const at = current.indexOf(MARKER);
const head = at >= 0 ? current.slice(0, at) : `${current.trimEnd()}\n\n`;
const next = head + generated;
if (process.argv.includes("--check")) {
  if (next !== current) {
    console.error(`${README} is out of date: run node tools/cli-reference.mjs`);
    process.exit(1);
  }
  console.log(`${README} is up to date (${all.length} commands)`);
} else {
  fs.writeFileSync(README, next);
  console.log(`wrote ${README}: ${all.length} commands`);
}
