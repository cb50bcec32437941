import * as fs from "node:fs/promises";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { getMultipartBoundary, parseMultipartStream } from "@mjackson/multipart-parser/node";
import { Agent, type Dispatcher, request } from "undici";
import { DicomWebError } from "./errors.js";

/** A DICOM JSON dataset as QIDO-RS returns it (tag -> { vr, Value }). */
export type DicomJson = Record<string, { vr?: string; Value?: unknown[] }>;

/** Options of {@link DicomWebClient}. */
export interface DicomWebClientOptions {
  /** Parallel connections to the server (default 4). */
  connections?: number;
  /** Attempts per request on 5xx, timeouts, dropped connections and cut bodies (default 4). */
  attempts?: number;
  /** First backoff, ms; doubles per attempt (default 250). */
  backoffMs?: number;
  /** No byte for this long ends the attempt, ms (default 30 000). */
  timeoutMs?: number;
}

/** First value of a tag (`"0020000D"`) as a string, or undefined. */
export function tagString(ds: DicomJson, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "object" && "Alphabetic" in (v as object))
    return String((v as { Alphabetic: unknown }).Alphabetic);
  return String(v);
}

const RETRY_STATUS = new Set([500, 502, 503, 504, 429]);

/**
 * A small DICOMweb client on undici: QIDO-RS searches (JSON) and WADO-RS series retrieval
 * (multipart/related, streamed part by part to files). Connections are pooled and bounded;
 * 5xx answers, timeouts, dropped connections and truncated bodies are retried with
 * exponential backoff, then end in a typed {@link DicomWebError}.
 */
export class DicomWebClient {
  readonly base: string;
  readonly #agent: Dispatcher;
  readonly #attempts: number;
  readonly #backoffMs: number;

  constructor(base: string, opts: DicomWebClientOptions = {}) {
    this.base = base.replace(/\/+$/, "");
    const timeout = opts.timeoutMs ?? 30_000;
    this.#agent = new Agent({
      connections: opts.connections ?? 4,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connectTimeout: Math.min(timeout, 10_000),
    });
    this.#attempts = opts.attempts ?? 4;
    this.#backoffMs = opts.backoffMs ?? 250;
  }

  /** QIDO-RS: `GET {base}/{path}?{query}` -> datasets (an empty answer is `[]`). */
  async qido(p: string, query: Record<string, string | undefined> = {}): Promise<DicomJson[]> {
    const url = new URL(`${this.base}/${p}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    return this.#retry(url.toString(), async () => {
      const res = await this.#get(url.toString(), "application/dicom+json");
      const text = await res.body.text();
      if (res.statusCode === 204 || text.trim() === "") return [];
      try {
        return JSON.parse(text) as DicomJson[];
      } catch (err) {
        throw new DicomWebError(
          "BAD_RESPONSE",
          `QIDO-RS ${url} did not answer JSON`,
          { url: url.toString() },
          { cause: err },
        );
      }
    });
  }

  /**
   * WADO-RS: retrieves every instance of a series into `dir` as `<n>.dcm`, writing each
   * part as it arrives. Returns the files and bytes written. A cut body is retried.
   */
  async retrieveSeries(
    study: string,
    series: string,
    dir: string,
    signal?: AbortSignal,
  ): Promise<{ files: number; bytes: number }> {
    const url = `${this.base}/studies/${study}/series/${series}`;
    return this.#retry(
      url,
      async () => {
        await fs.rm(dir, { recursive: true, force: true });
        await fs.mkdir(dir, { recursive: true });
        const res = await this.#get(url, 'multipart/related; type="application/dicom"', signal);
        const ct = String(res.headers["content-type"] ?? "");
        const boundary = getMultipartBoundary(ct);
        if (!boundary) {
          await res.body.dump();
          throw new DicomWebError(
            "BAD_RESPONSE",
            `WADO-RS ${url}: no multipart boundary in "${ct}"`,
            { url, contentType: ct },
          );
        }
        let files = 0;
        let bytes = 0;
        try {
          // undici asserts if a server that closes the connection at the end (Orthanc) does so
          // while the body is paused by backpressure: take the body in flowing mode into a
          // roomy buffer the parser drains part by part.
          const body = new PassThrough({ highWaterMark: 64 << 20 });
          res.body.on("data", (c: Buffer) => body.write(c));
          res.body.on("end", () => body.end());
          res.body.on("error", (e) => body.destroy(e));
          for await (const part of parseMultipartStream(body, {
            boundary,
            maxFileSize: 2 ** 31,
          })) {
            const data = part.bytes;
            await fs.writeFile(path.join(dir, `${String(files).padStart(6, "0")}.dcm`), data);
            files++;
            bytes += data.length;
          }
        } catch (err) {
          if (err instanceof DicomWebError) throw err;
          throw new DicomWebError(
            "BAD_RESPONSE",
            `WADO-RS ${url}: multipart body cut or malformed after ${files} instance(s): ${(err as Error).message}`,
            { url, instances: files, retryable: true },
            { cause: err },
          );
        }
        if (files === 0)
          throw new DicomWebError("BAD_RESPONSE", `WADO-RS ${url}: no instance in the answer`, {
            url,
            retryable: true,
          });
        return { files, bytes };
      },
      signal,
    );
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #get(url: string, accept: string, signal?: AbortSignal) {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { dispatcher: this.#agent, headers: { accept }, signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new DicomWebError(
        "UNREACHABLE",
        `cannot reach ${url}: ${(err as Error).message}`,
        { url, retryable: true },
        { cause: err },
      );
    }
    if (res.statusCode >= 400) {
      const body = (await res.body.text().catch(() => "")).slice(0, 200);
      if (res.statusCode === 404)
        throw new DicomWebError("NOT_FOUND", `${url}: not found on the server (404)`, {
          url,
          status: 404,
        });
      throw new DicomWebError("HTTP_ERROR", `${url}: HTTP ${res.statusCode} ${body}`, {
        url,
        status: res.statusCode,
        retryable: RETRY_STATUS.has(res.statusCode),
      });
    }
    return res;
  }

  async #retry<T>(url: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const retryable =
          err instanceof DicomWebError &&
          (err.context as { retryable?: boolean }).retryable === true;
        if (!retryable || attempt >= this.#attempts || signal?.aborted) {
          if (err instanceof DicomWebError)
            Object.assign(err.context as Record<string, unknown>, {
              attempts: attempt,
              request: url,
            });
          throw err;
        }
        await new Promise((r) => setTimeout(r, this.#backoffMs * 2 ** (attempt - 1)));
      }
    }
  }
}
