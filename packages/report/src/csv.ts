import fs from "node:fs/promises";

/** A numeric CSV table (header + rows); non-numeric cells become NaN. Missing file: undefined. */
export interface Table {
  columns: string[];
  rows: number[][];
}

export async function readNumericCsv(file: string): Promise<Table | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) return { columns: [], rows: [] };
  const columns = lines[0].split(",").map((s) => s.trim());
  const rows = lines
    .slice(1)
    .map((l) => l.split(",").map((s) => (s.trim() === "" ? Number.NaN : Number(s))));
  return { columns, rows };
}

/** A file's text; `undefined` when it does not exist (any other read error is thrown). */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
