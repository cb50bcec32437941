/** A failed request, with the server's error code and message (shown in the page). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function failure(res: Response, what: string): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  try {
    const e = (JSON.parse(text) as { error: { code: string; message: string } }).error;
    return new ApiError(e.code, e.message, res.status);
  } catch {
    return new ApiError(
      `HTTP_${res.status}`,
      `${what}: HTTP ${res.status} ${text.slice(0, 200)}`,
      res.status,
    );
  }
}

export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(url, { signal });
  if (!res.ok) throw await failure(res, url);
  return (await res.json()) as T;
}

/** One slice from `/api/patients/<id>/slice`: typed by its `x-dtype`, shaped by `x-rows/x-cols`. */
export interface RawSlice {
  rows: number;
  cols: number;
  data: Int16Array | Uint8Array | Float32Array;
  max: number;
}

export async function getSlice(url: string, signal?: AbortSignal): Promise<RawSlice> {
  const res = await fetch(url, { signal });
  if (!res.ok) throw await failure(res, url);
  const buf = await res.arrayBuffer();
  const dtype = res.headers.get("x-dtype");
  const data =
    dtype === "int16"
      ? new Int16Array(buf)
      : dtype === "uint8"
        ? new Uint8Array(buf)
        : new Float32Array(buf);
  return {
    rows: Number(res.headers.get("x-rows")),
    cols: Number(res.headers.get("x-cols")),
    data,
    max: Number(res.headers.get("x-max") ?? 0),
  };
}
