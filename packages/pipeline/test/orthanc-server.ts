import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { tmpDir } from "./ingest-helpers.ts";
import { freePort } from "./redis-server.ts";

const PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";

/** Why DICOMweb tests cannot run here, or undefined when Orthanc and its DICOMweb plugin are installed. */
export function orthancMissing(): string | undefined {
  const r = spawnSync("Orthanc", ["--version"], { encoding: "utf8" });
  if (r.status !== 0 && r.error)
    return "Orthanc is not installed (apt-get install orthanc orthanc-dicomweb; .ci/run installs them)";
  if (!fs.existsSync(PLUGIN))
    return `the Orthanc DICOMweb plugin is missing (${PLUGIN}; apt-get install orthanc-dicomweb)`;
  return undefined;
}

export interface TestOrthanc {
  /** `http://127.0.0.1:<port>` */
  http: string;
  /** The DICOMweb root, `http://127.0.0.1:<port>/dicom-web`. */
  dicomweb: string;
  /** Uploads every file under `dir` with the REST API (POST /instances). */
  upload(dir: string): Promise<number>;
  stop(): Promise<void>;
}

/** A throwaway Orthanc: HTTP on a free loopback port, DICOMweb plugin on, storage in a temp dir, no DICOM port. */
export async function startOrthanc(): Promise<TestOrthanc> {
  const dir = tmpDir("orthanc-");
  const port = await freePort();
  const config = {
    Name: "lungflow-test",
    StorageDirectory: path.join(dir, "db"),
    IndexDirectory: path.join(dir, "db"),
    HttpPort: port,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomServerEnabled: false,
    Plugins: [PLUGIN],
    DicomWeb: { Enable: true, Root: "/dicom-web/" },
  };
  fs.writeFileSync(path.join(dir, "orthanc.json"), JSON.stringify(config));
  const proc: ChildProcess = spawn("Orthanc", [path.join(dir, "orthanc.json")], {
    stdio: "ignore",
  });
  const http = `http://127.0.0.1:${port}`;
  const end = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`${http}/system`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > end || proc.exitCode !== null) throw new Error("Orthanc did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    http,
    dicomweb: `${http}/dicom-web`,
    async upload(d) {
      let n = 0;
      for (const f of fs.readdirSync(d, { recursive: true, withFileTypes: true })) {
        if (!f.isFile() || !f.name.endsWith(".dcm")) continue;
        const body = fs.readFileSync(path.join(f.parentPath, f.name));
        const r = await fetch(`${http}/instances`, { method: "POST", body });
        if (!r.ok) throw new Error(`upload of ${f.name}: HTTP ${r.status}`);
        n++;
      }
      return n;
    },
    async stop() {
      if (proc.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      });
    },
  };
}
