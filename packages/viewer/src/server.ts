import * as fs from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as zlib from "node:zlib";
import { openStore, type PatchStore } from "@lungflow/patch-store";
import { isLungflowError } from "@lungflow/volume";
import { ViewerError } from "./errors.js";
import { type FeatureMagnitude, featureMagnitude, magnitudeSlice } from "./feature-magnitude.js";
import { PAGE_CSS, PAGE_HTML } from "./page.js";
import { patientRows } from "./patient-rows.js";
import { PLANE_AXIS, parsePlane, sliceBox } from "./planes.js";

/** Options of {@link startViewer}. */
export interface ViewerOptions {
  /** The patch store folder. */
  store: string;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Kaggle-format predictions per patient id (shown in the list). */
  predictions?: ReadonlyMap<string, number>;
  /** Byte budget of the store's decoded-chunk cache (default 256 MiB): bounds server memory. */
  cacheBytes?: number;
}

/** A running viewer. */
export interface ViewerServer {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  port: number;
  /** Requests answered and body bytes sent (after compression) since the start. */
  stats: { requests: number; bytesSent: number };
  close(): Promise<void>;
}

const CLIENT_DIR = new URL("../dist/client/", import.meta.url);

type Handler = (url: URL) => Promise<Reply>;
interface Reply {
  status?: number;
  type: string;
  body: Buffer | string;
  headers?: Record<string, string>;
}

const json = (v: unknown, status = 200): Reply => ({
  status,
  type: "application/json",
  body: JSON.stringify(v),
});

/** HTTP status of an error: missing things 404, bad requests 400, the rest (damage) 500. */
function statusOf(err: unknown): number {
  if (!isLungflowError(err)) return 500;
  if (err.code === "PATIENT_NOT_FOUND" || err.code === "FEATURES_UNAVAILABLE") return 404;
  if (err.code === "BAD_REQUEST" || err.code === "INVALID_ARGUMENT") return 400;
  return 500;
}

function errorReply(err: unknown): Reply {
  const e = isLungflowError(err)
    ? { tag: err._tag, code: err.code, message: err.message, context: err.context }
    : { tag: "Error", code: "INTERNAL", message: String((err as Error)?.message ?? err) };
  return json({ error: e }, statusOf(err));
}

function routes(store: PatchStore, predictions: ReadonlyMap<string, number>): Handler {
  // Feature magnitudes are small (the encoder's grid); keep the last two.
  const magnitudes = new Map<string, Promise<FeatureMagnitude>>();
  const magnitude = (id: string, enc: string, ingestedAt: string) => {
    const key = `${id}/${enc}/${ingestedAt}`;
    let m = magnitudes.get(key);
    if (!m) {
      m = featureMagnitude(store, id, enc);
      m.catch(() => magnitudes.delete(key));
      magnitudes.set(key, m);
      while (magnitudes.size > 2) magnitudes.delete(magnitudes.keys().next().value as string);
    }
    return m;
  };
  return async (url) => {
    const p = url.pathname;
    if (p === "/") return { type: "text/html; charset=utf-8", body: PAGE_HTML };
    if (p === "/style.css") return { type: "text/css", body: PAGE_CSS };
    const asset = /^\/app\/([a-z-]+\.js)$/.exec(p);
    if (asset) {
      const body = await fs.readFile(new URL(asset[1], CLIENT_DIR)).catch(() => undefined);
      if (!body)
        return json({ error: { code: "NOT_BUILT", message: `${asset[1]}: run pnpm build` } }, 404);
      return { type: "text/javascript", body };
    }
    if (p === "/api/store") {
      return json({ root: store.root, params: store.params, split: store.rootAttrs.split ?? null });
    }
    if (p === "/api/patients") return json(await patientRows(store, predictions));
    const m = /^\/api\/patients\/([^/]+)(\/slice)?$/.exec(p);
    if (m) {
      const id = decodeURIComponent(m[1]);
      const attrs = await store.getPatient(id);
      if (!attrs) {
        return json(
          {
            error: {
              code: "PATIENT_NOT_FOUND",
              message: `patient ${id} is not in the store ${store.root}`,
            },
          },
          404,
        );
      }
      if (!m[2]) return json({ attrs, features: await store.listFeatures(id) });
      const plane = parsePlane(url.searchParams.get("plane"));
      const index = Number(url.searchParams.get("index"));
      const array = url.searchParams.get("array") ?? "hu";
      const box = sliceBox(plane, index, attrs.shape);
      if (array === "hu" || array === "mask") {
        const data = await store.readPatch(id, box.origin, box.size, { array });
        return {
          type: "application/octet-stream",
          body: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
          headers: {
            "x-rows": String(box.rows),
            "x-cols": String(box.cols),
            "x-dtype": array === "hu" ? "int16" : "uint8",
          },
        };
      }
      if (array === "features") {
        const enc = url.searchParams.get("encoder") ?? "";
        const fm = await magnitude(id, enc, attrs.ingestedAt);
        const s = magnitudeSlice(fm, PLANE_AXIS[plane], index, attrs.shape);
        return {
          type: "application/octet-stream",
          body: Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength),
          headers: {
            "x-rows": String(s.rows),
            "x-cols": String(s.cols),
            "x-dtype": "float32",
            "x-max": String(fm.max),
          },
        };
      }
      throw new ViewerError("BAD_REQUEST", `unknown array ${JSON.stringify(array)}`, { array });
    }
    return json({ error: { code: "NOT_FOUND", message: `no such page ${p}` } }, 404);
  };
}

/**
 * Serves the viewer for a patch store on 127.0.0.1 (never another interface: the store holds
 * patient images). Slices are read on demand through the store's chunk cache and sent raw
 * (gzip when the browser accepts it); the page keeps only the slices it shows.
 */
export async function startViewer(opts: ViewerOptions): Promise<ViewerServer> {
  const store = await openStore(opts.store, { cacheBytes: opts.cacheBytes ?? 256 * 1024 * 1024 });
  const handle = routes(store, opts.predictions ?? new Map());
  const stats = { requests: 0, bytesSent: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const done = (r: Reply) => {
      let body = typeof r.body === "string" ? Buffer.from(r.body) : r.body;
      const headers: Record<string, string> = {
        "content-type": r.type,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        ...r.headers,
      };
      if (body.length > 1024 && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
        body = zlib.gzipSync(body, { level: 1 });
        headers["content-encoding"] = "gzip";
      }
      headers["content-length"] = String(body.length);
      stats.requests++;
      stats.bytesSent += body.length;
      res.writeHead(r.status ?? 200, headers).end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      done(json({ error: { code: "METHOD", message: `${req.method} not allowed` } }, 405));
      return;
    }
    handle(url).then(done, (err) => done(errorReply(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(
        new ViewerError(
          "LISTEN_FAILED",
          `cannot listen on 127.0.0.1:${opts.port ?? 0}: ${err.message}`,
          { port: opts.port ?? 0 },
          { cause: err },
        ),
      ),
    );
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
