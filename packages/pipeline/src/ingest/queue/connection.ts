import type { RedisOptions } from "bullmq";
import { IngestError } from "../errors.js";

/** Where the ingest queue lives: a Redis server and a queue name. */
export interface QueueAddress {
  /** The URL as given, without a password (for messages and reports). */
  url: string;
  /** ioredis options of every connection BullMQ opens for us. */
  connection: RedisOptions;
  /** BullMQ queue name (default `lungflow-ingest`). */
  name: string;
}

/**
 * Parses `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). Connections
 * retry forever with a capped backoff and never fail a command for want of a connection
 * (`maxRetriesPerRequest: null`, as BullMQ's workers need): a Redis restart is waited out.
 *
 * @throws IngestError `BAD_OPTIONS` for anything else.
 */
export function parseQueueUrl(url: string, name = "lungflow-ingest"): QueueAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new IngestError(
      "BAD_OPTIONS",
      `queue ${url} is not a URL (redis://host:port[/db])`,
      {
        queue: url,
      },
      { cause: err },
    );
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    throw new IngestError("BAD_OPTIONS", `queue ${url}: only redis:// and rediss:// are known`, {
      queue: url,
    });
  const db = u.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db))
    throw new IngestError("BAD_OPTIONS", `queue ${url}: the path must be a database number`, {
      queue: url,
    });
  if (!/^[A-Za-z0-9._-]+$/.test(name))
    throw new IngestError("BAD_OPTIONS", `queue name "${name}": letters, digits, ._- only`, {
      name,
    });
  const connection: RedisOptions = {
    host: u.hostname || "127.0.0.1",
    port: u.port ? Number(u.port) : 6379,
    db: db === "" ? 0 : Number(db),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(2000, 50 * 2 ** Math.min(times, 6)),
  };
  const shown = new URL(url);
  shown.password = "";
  return { url: shown.toString(), connection, name };
}
