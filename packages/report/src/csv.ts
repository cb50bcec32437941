import fs from "node:fs/promises";

/** A numeric CSV table (header + rows); non-numeric cells become NaN. Missing file: undefined. */
export interface Table {
  columns: string[];
  rows: number[][];
}

export async function readNumericCsv(file: string): Promise<Table | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) return { columns: [], rows: [] };
  const columns = lines[0].split(",").map((s) => s.trim());
  const rows = lines
    .slice(1)
    .map((l) => l.split(",").map((s) => (s.trim() === "" ? Number.NaN : Number(s))));
  return { columns, rows };
}

/** `id,<value>` CSV (submissions, labels) as a map; undefined when the file is absent. */
export async function readIdValueCsv(file: string): Promise<Map<string, number> | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const out = new Map<string, number>();
  for (const line of text.split(/\r?\n/).slice(1)) {
    const [id, v] = line.split(",").map((s) => s.trim());
    if (id && v !== undefined && v !== "" && Number.isFinite(Number(v))) out.set(id, Number(v));
  }
  return out;
}
