// Opens a lungflow HTML report in headless Chromium (Debian's /usr/bin/chromium) and reads
// back what the browser saw: every image's natural size and every table's cells. A copy of
// index.html with a <base> pointing at the report folder and a small script that writes the
// results into the DOM after `load` is printed with --dump-dom (no DevTools protocol, no
// extra dependencies). A screenshot of the real report can be taken in a second run.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const CHROMIUM = process.env.LUNGFLOW_CHROMIUM ?? "/usr/bin/chromium";

/** Screenshots and logs kept by the tests (gitignored): test/.artifacts/. */
export const ARTIFACTS = fileURLToPath(new URL("../.artifacts/", import.meta.url));

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  try {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
    return undefined;
  } catch {
    return `chromium not found at ${CHROMIUM} (apt-get install chromium, or set LUNGFLOW_CHROMIUM); skipping the browser check`;
  }
}

export interface SeenImage {
  src: string;
  alt: string;
  complete: boolean;
  width: number;
  height: number;
}

export interface SeenTable {
  /** id of the enclosing <section>. */
  section: string;
  className: string;
  headers: string[];
  /** Text of every body row's <td> cells (rows holding only <th> cells excluded). */
  rows: string[][];
  /** For key/value tables: the <th> of each row with its <td> cells. */
  keyed: [string, string[]][];
}

export interface BrowserView {
  title: string;
  sections: string[];
  images: SeenImage[];
  tables: SeenTable[];
}

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const CHECK_SCRIPT = `<script>
window.addEventListener("load", () => {
  const text = (el) => (el.textContent || "").trim();
  const view = {
    title: document.title,
    sections: [...document.querySelectorAll("section")].map((s) => s.id),
    images: [...document.images].map((i) => ({
      src: i.getAttribute("src"), alt: i.alt, complete: i.complete,
      width: i.naturalWidth, height: i.naturalHeight,
    })),
    tables: [...document.querySelectorAll("table")].map((t) => {
      const trs = [...t.querySelectorAll("tr")];
      return {
        section: t.closest("section") ? t.closest("section").id : "",
        className: t.className,
        headers: [...t.querySelectorAll("thead th")].map(text),
        rows: trs.filter((r) => r.querySelector("td")).map((r) => [...r.querySelectorAll("td")].map(text)),
        keyed: trs.filter((r) => r.querySelector("th") && r.querySelector("td"))
          .map((r) => [text(r.querySelector("th")), [...r.querySelectorAll("td")].map(text)]),
      };
    }),
  };
  const pre = document.createElement("pre");
  pre.id = "lungflow-browser-check";
  pre.textContent = JSON.stringify(view);
  document.body.appendChild(pre);
});
</script>`;

/** Runs chromium with the test flags and a fresh profile; kills its process group on timeout. */
async function chromium(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number | null; out: string; err: string }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-chromium-profile-"));
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        detached: true, // own process group, so a hung browser is killed with its children
      });
      let out = "";
      let err = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
      });
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        err += d;
      });
      const timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {}
        reject(new Error(`chromium timed out after ${timeoutMs} ms\n${err.slice(-2000)}`));
      }, timeoutMs);
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
    });
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * Loads `<reportDir>/index.html` in headless Chromium and returns what it rendered. The page
 * loaded is a copy (in a temp folder) of index.html with a <base> tag pointing at the report
 * folder, so relative image paths resolve exactly as in the report itself.
 */
export async function viewReport(reportDir: string): Promise<BrowserView> {
  const html = fs.readFileSync(path.join(reportDir, "index.html"), "utf8");
  const base = pathToFileURL(path.resolve(reportDir) + path.sep).href;
  if (!/<head>/i.test(html)) throw new Error(`${reportDir}/index.html has no <head>`);
  const page = html.replace(/<head>/i, `<head><base href="${base}">${CHECK_SCRIPT}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-report-view-"));
  try {
    const file = path.join(tmp, "check.html");
    fs.writeFileSync(file, page);
    const r = await chromium(["--dump-dom", pathToFileURL(file).href]);
    const m = /<pre id="lungflow-browser-check">([\s\S]*?)<\/pre>/.exec(r.out);
    if (!m)
      throw new Error(
        `chromium (exit ${r.code}) printed no check results\nstdout: ${r.out.slice(0, 500)}\nstderr: ${r.err.slice(-2000)}`,
      );
    const json = m[1]
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&nbsp;/g, "\u00a0")
      .replace(/&amp;/g, "&");
    return JSON.parse(json) as BrowserView;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Screenshot of the report (1200x3000) into `file`; returns the PNG's [width, height]. */
export async function screenshotReport(reportDir: string, file: string): Promise<[number, number]> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.rmSync(file, { force: true });
  const r = await chromium([
    `--screenshot=${path.resolve(file)}`,
    "--window-size=1200,3000",
    "--hide-scrollbars",
    pathToFileURL(path.join(path.resolve(reportDir), "index.html")).href,
  ]);
  if (!fs.existsSync(file))
    throw new Error(`chromium (exit ${r.code}) wrote no screenshot\n${r.err.slice(-2000)}`);
  const png = fs.readFileSync(file);
  if (png.subarray(1, 4).toString("latin1") !== "PNG") throw new Error(`${file} is not a PNG`);
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

/** Images the browser could not decode (natural size 0 or not complete). */
export function brokenImages(v: BrowserView): SeenImage[] {
  return v.images.filter((i) => !i.complete || i.width === 0 || i.height === 0);
}
