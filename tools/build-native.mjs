#!/usr/bin/env node
// Compiles a package's N-API addon with node-gyp, from the package directory:
//   node ../../tools/build-native.mjs <target> [--if-missing]
// <target> is the binding.gyp target of the addon (build/Release/<target>.node).
// Never fails the surrounding build: on error it prints a notice, writes the log's tail to
// build/native-build-error.txt (the package's addon loader reports it) and exits 0, so tsc
// still runs and the package's JS/WASM code stays in use.
//   --if-missing   do nothing when the addon already exists (the packages' install script)
// node-gyp: $NODE_GYP, else npm's bundled copy next to this node, else `node-gyp` on PATH.
// Headers: the ones installed with node (<prefix>/include/node) when present (no download).
// LUNGFLOW_SKIP_NATIVE_BUILD=1 skips the compile.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = process.cwd();
const target = process.argv.slice(2).find((a) => !a.startsWith("--"));
if (!target || !/^[A-Za-z0-9_]+$/.test(target) || !fs.existsSync(path.join(root, "binding.gyp"))) {
  console.error(
    "usage (from a package with a binding.gyp): node build-native.mjs <target> [--if-missing]",
  );
  process.exit(2);
}
const label = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).name.replace(
  /^@lungflow\//,
  "",
);
const buildDir = path.join(root, "build");
const addon = path.join(buildDir, "Release", `${target}.node`);
const errFile = path.join(buildDir, "native-build-error.txt");

if (process.env.LUNGFLOW_SKIP_NATIVE_BUILD === "1") {
  console.error(`${label}: LUNGFLOW_SKIP_NATIVE_BUILD=1, native addon not built`);
  process.exit(0);
}
if (process.argv.includes("--if-missing") && fs.existsSync(addon)) process.exit(0);

// One build at a time: several turbo runs (and pnpm install) may build one package
// concurrently, and node-gyp runs sharing build/ break each other.
const lockDir = path.join(buildDir, ".lock");
function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
function acquireLock() {
  fs.mkdirSync(buildDir, { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  while (Date.now() < deadline) {
    try {
      fs.mkdirSync(lockDir);
      return true;
    } catch (err) {
      if (err.code !== "EEXIST") return false;
      try {
        if (Date.now() - fs.statSync(lockDir).mtimeMs > 15 * 60_000)
          fs.rmSync(lockDir, { recursive: true, force: true });
      } catch {}
      sleep(500);
    }
  }
  return false;
}
const locked = acquireLock();
process.on("exit", () => {
  if (locked) fs.rmSync(lockDir, { recursive: true, force: true });
});
if (process.argv.includes("--if-missing") && fs.existsSync(addon)) process.exit(0);

function findNodeGyp() {
  if (process.env.NODE_GYP) return [process.execPath, process.env.NODE_GYP];
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  for (const p of [
    path.join(
      prefix,
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    ),
    path.join(prefix, "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ]) {
    if (fs.existsSync(p)) return [process.execPath, p];
  }
  return ["node-gyp"];
}

const [cmd, ...pre] = findNodeGyp();
const prefix = path.resolve(path.dirname(process.execPath), "..");
const nodedir = fs.existsSync(path.join(prefix, "include", "node", "node_api.h"))
  ? [`--nodedir=${prefix}`]
  : [];
const jobs = process.env.LUNGFLOW_NATIVE_BUILD_JOBS ?? "2";
let log = "";
function run(args) {
  const r = spawnSync(cmd, [...pre, ...args, ...nodedir], {
    cwd: root,
    encoding: "utf8",
    env: process.env,
  });
  log += `$ node-gyp ${args.join(" ")}\n${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}\n`;
  return r.status === 0;
}

fs.rmSync(errFile, { force: true });
const t0 = Date.now();
const ok =
  (fs.existsSync(path.join(buildDir, "Makefile")) || run(["configure"])) &&
  run(["build", "--jobs", jobs]) &&
  fs.existsSync(addon);
if (ok) {
  console.error(
    `${label}: built ${path.relative(root, addon)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
} else {
  const tail = log
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("gyp info"))
    .slice(-30)
    .join("\n");
  // A binary left from an earlier build would not match these sources: remove it.
  fs.rmSync(addon, { force: true });
  fs.mkdirSync(buildDir, { recursive: true });
  fs.writeFileSync(errFile, tail + "\n");
  console.error(
    `${label}: the native addon did not build; its JS fallback will be used.\n${tail
      .split("\n")
      .slice(-8)
      .join("\n")}`,
  );
}
