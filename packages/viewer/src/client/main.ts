/**
 * The viewer page: a sortable, filterable patient list and, for one patient, three planes
 * with the lung mask (and stored encoder features) over windowed HU. Only the three slices
 * on screen are held; each scroll asks the server for one slice.
 */
import { ApiError, getJson, getSlice, type RawSlice } from "./api.js";
import { renderSlice, WINDOWS } from "./render.js";

type Plane = "axial" | "coronal" | "sagittal";
type Vec3 = [number, number, number];
const PLANES: Plane[] = ["axial", "coronal", "sagittal"];
const AXIS: Record<Plane, 0 | 1 | 2> = { axial: 0, coronal: 1, sagittal: 2 };

interface Attrs {
  id: string;
  shape: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: [Vec3, Vec3, Vec3];
}
interface Row {
  id: string;
  label?: number;
  split?: string;
  prediction?: number;
  lungVolumeMl?: number;
  warnings: string[];
  problem?: string;
}
interface View {
  hu?: RawSlice;
  mask?: RawSlice;
  feature?: RawSlice;
  error?: string;
  ctrl?: AbortController;
}

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const errorBox = $<HTMLDivElement>("#error");
let rows: Row[] = [];
let sortKey: keyof Row = "id";
let sortDir = 1;
let attrs: Attrs | undefined;
let cursor: Vec3 = [0, 0, 0];
const views: Record<Plane, View> = { axial: {}, coronal: {}, sagittal: {} };

function showError(msg: string): void {
  errorBox.hidden = false;
  if (!errorBox.textContent?.includes(msg))
    errorBox.textContent = `${errorBox.textContent ? `${errorBox.textContent}\n` : ""}${msg}`;
}
const describe = (err: unknown) =>
  err instanceof ApiError ? `${err.code}: ${err.message}` : String((err as Error)?.message ?? err);

// ---- patient list ----------------------------------------------------------------------

function cell(v: unknown): string {
  if (v === undefined) return "";
  if (Array.isArray(v)) return v.join(" ");
  if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(3);
  return String(v);
}

function renderList(): void {
  const q = $<HTMLInputElement>("#filter").value.trim().toLowerCase();
  const shown = rows
    .filter(
      (r) =>
        !q ||
        [r.id, r.split, r.label, r.warnings.join(" "), r.problem]
          .join(" ")
          .toLowerCase()
          .includes(q),
    )
    .sort((a, b) => {
      const x = a[sortKey] as unknown;
      const y = b[sortKey] as unknown;
      if (x === y) return a.id < b.id ? -1 : 1;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      const cx = Array.isArray(x) ? x.length : (x as number | string);
      const cy = Array.isArray(y) ? y.length : (y as number | string);
      return (cx < cy ? -1 : cx > cy ? 1 : 0) * sortDir;
    });
  const body = $<HTMLTableSectionElement>("#patients tbody");
  body.replaceChildren(
    ...shown.map((r) => {
      const tr = document.createElement("tr");
      tr.dataset.id = r.id;
      if (r.problem) tr.className = "problem";
      if (attrs?.id === r.id) tr.classList.add("selected");
      const cells = r.problem
        ? [r.id, "", "", "", "", r.problem]
        : [r.id, r.label, r.split, r.prediction, r.lungVolumeMl, r.warnings].map(cell);
      for (const c of cells) {
        const td = document.createElement("td");
        td.textContent = String(c);
        tr.append(td);
      }
      tr.addEventListener("click", () => {
        location.hash = `#/patient/${encodeURIComponent(r.id)}`;
      });
      return tr;
    }),
  );
  $("#count").textContent = `${shown.length} of ${rows.length} patients`;
  for (const th of document.querySelectorAll<HTMLElement>("#patients th")) {
    th.classList.toggle("asc", th.dataset.key === sortKey && sortDir > 0);
    th.classList.toggle("desc", th.dataset.key === sortKey && sortDir < 0);
  }
}

// ---- planes -------------------------------------------------------------------------------

/** Slice rows and columns in volume axes: axial (y, x), coronal (z, x), sagittal (z, y). */
function axesOf(plane: Plane): [0 | 1 | 2, 0 | 1 | 2] {
  return plane === "axial" ? [1, 2] : plane === "coronal" ? [0, 2] : [0, 1];
}
/** Rows along z are drawn superior up: flip when z runs towards the head (LPS +Z). */
const flipRows = (plane: Plane) => plane !== "axial" && (attrs?.direction[0][2] ?? 1) > 0;

function canvasOf(plane: Plane): HTMLCanvasElement {
  return $<HTMLCanvasElement>(`#${plane}`);
}

function sizeCanvas(plane: Plane): void {
  if (!attrs) return;
  const [ra, ca] = axesOf(plane);
  const unit = Math.min(...attrs.spacing);
  const c = canvasOf(plane);
  c.width = Math.round((attrs.shape[ca] * attrs.spacing[ca]) / unit);
  c.height = Math.round((attrs.shape[ra] * attrs.spacing[ra]) / unit);
}

function draw(plane: Plane): void {
  const c = canvasOf(plane);
  const ctx = c.getContext("2d");
  const v = views[plane];
  if (!ctx || !attrs) return;
  $(`#${plane} + figcaption .idx`).textContent =
    `${cursor[AXIS[plane]] + 1} / ${attrs.shape[AXIS[plane]]}`;
  if (v.error) {
    ctx.fillStyle = "#400";
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.fillStyle = "#fff";
    ctx.font = "12px sans-serif";
    const words = `cannot show this ${plane} slice: ${v.error}`.split(" ");
    let line = "";
    let y = 16;
    for (const w of words) {
      if (ctx.measureText(`${line} ${w}`).width > c.width - 8 && line) {
        ctx.fillText(line, 4, y);
        line = w;
        y += 14;
      } else line = line ? `${line} ${w}` : w;
    }
    ctx.fillText(line, 4, y);
    return;
  }
  if (!v.hu) return;
  const rgba = renderSlice({
    rows: v.hu.rows,
    cols: v.hu.cols,
    hu: v.hu.data as Int16Array,
    mask: v.mask?.data as Uint8Array | undefined,
    maskOpacity: Number($<HTMLInputElement>("#mask-opacity").value),
    feature: v.feature ? { ...v.feature, data: v.feature.data as Float32Array } : undefined,
    featureOpacity: Number($<HTMLInputElement>("#feature-opacity").value),
    window: WINDOWS[$<HTMLSelectElement>("#preset").value] ?? WINDOWS.lung,
    flipRows: flipRows(plane),
  });
  c.dataset.layers = ["hu", v.mask ? "mask" : "", v.feature ? "features" : ""]
    .filter(Boolean)
    .join(" ");
  const off = new OffscreenCanvas(v.hu.cols, v.hu.rows);
  off.getContext("2d")?.putImageData(new ImageData(rgba, v.hu.cols, v.hu.rows), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, c.width, c.height);
  // Crosshair through the cursor voxel's centre.
  const [ra, ca] = axesOf(plane);
  const row = flipRows(plane) ? v.hu.rows - 1 - cursor[ra] : cursor[ra];
  const px = ((cursor[ca] + 0.5) * c.width) / v.hu.cols;
  const py = ((row + 0.5) * c.height) / v.hu.rows;
  ctx.strokeStyle = "rgba(0, 220, 255, 0.8)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(Math.floor(px) + 0.5, 0);
  ctx.lineTo(Math.floor(px) + 0.5, c.height);
  ctx.moveTo(0, Math.floor(py) + 0.5);
  ctx.lineTo(c.width, Math.floor(py) + 0.5);
  ctx.stroke();
}

function updateProbe(): void {
  if (!attrs) return;
  const [z, y, x] = cursor;
  const [sz, sy, sx] = attrs.spacing;
  const [dz, dy, dx] = attrs.direction;
  const world = [0, 1, 2].map(
    (k) => attrs!.origin[k] + z * sz * dz[k] + y * sy * dy[k] + x * sx * dx[k],
  );
  $("#voxel").textContent = `[${z}, ${y}, ${x}]`;
  $("#world").textContent = world.map((w) => w.toFixed(1)).join(", ");
  const a = views.axial;
  const huEl = $("#hu");
  const maskEl = $("#maskv");
  if (a.hu && Number(canvasOf("axial").dataset.index) === z) {
    const hu = a.hu.data[y * a.hu.cols + x];
    huEl.textContent = String(hu);
    huEl.dataset.value = String(hu);
    maskEl.textContent = a.mask ? String(a.mask.data[y * a.mask.cols + x]) : "";
  } else {
    huEl.textContent = "…";
    delete huEl.dataset.value;
  }
}

async function loadPlane(plane: Plane): Promise<void> {
  if (!attrs) return;
  const v = views[plane];
  v.ctrl?.abort();
  const ctrl = new AbortController();
  v.ctrl = ctrl;
  const c = canvasOf(plane);
  const index = cursor[AXIS[plane]];
  c.dataset.state = "loading";
  const base = `/api/patients/${encodeURIComponent(attrs.id)}/slice?plane=${plane}&index=${index}`;
  const encoder = $<HTMLSelectElement>("#encoder").value;
  try {
    const [hu, mask, feature] = await Promise.all([
      getSlice(`${base}&array=hu`, ctrl.signal),
      getSlice(`${base}&array=mask`, ctrl.signal),
      encoder
        ? getSlice(`${base}&array=features&encoder=${encodeURIComponent(encoder)}`, ctrl.signal)
        : undefined,
    ]);
    Object.assign(v, { hu, mask, feature, error: undefined });
    c.dataset.index = String(index);
    c.dataset.state = "ready";
  } catch (err) {
    if (ctrl.signal.aborted) return;
    Object.assign(v, { hu: undefined, mask: undefined, feature: undefined, error: describe(err) });
    c.dataset.state = "error";
    showError(`${attrs.id} ${plane} slice ${index}: ${describe(err)}`);
  }
  draw(plane);
  updateProbe();
}

function moveTo(next: Vec3): void {
  if (!attrs) return;
  const shape = attrs.shape;
  const clamped = next.map((n, a) => Math.max(0, Math.min(shape[a] - 1, n))) as Vec3;
  const changed = PLANES.filter((p) => clamped[AXIS[p]] !== cursor[AXIS[p]]);
  cursor = clamped;
  for (const p of PLANES) if (!changed.includes(p)) draw(p);
  updateProbe();
  for (const p of changed) void loadPlane(p);
}

async function openPatient(id: string): Promise<void> {
  errorBox.hidden = true;
  errorBox.textContent = "";
  $("#viewer").hidden = false;
  $("#patient-id").textContent = id;
  for (const p of PLANES) {
    views[p].ctrl?.abort();
    views[p] = {};
    canvasOf(p).dataset.state = "loading";
  }
  try {
    const info = await getJson<{
      attrs: Attrs;
      features: { encoderId: string; symmetries: number[] }[];
    }>(`/api/patients/${encodeURIComponent(id)}`);
    attrs = info.attrs;
    const enc = $<HTMLSelectElement>("#encoder");
    enc.replaceChildren(new Option("none", ""));
    for (const f of info.features)
      if (f.symmetries.includes(0)) enc.append(new Option(f.encoderId, f.encoderId));
  } catch (err) {
    attrs = undefined;
    for (const p of PLANES) canvasOf(p).dataset.state = "error";
    showError(`patient ${id}: ${describe(err)}`);
    return;
  }
  renderList();
  cursor = attrs.shape.map((n) => Math.floor(n / 2)) as Vec3;
  for (const p of PLANES) sizeCanvas(p);
  await Promise.all(PLANES.map((p) => loadPlane(p)));
}

function route(): void {
  const m = /^#\/patient\/(.+)$/.exec(location.hash);
  if (m) void openPatient(decodeURIComponent(m[1]));
}

// ---- wiring -------------------------------------------------------------------------------

for (const plane of PLANES) {
  const c = canvasOf(plane);
  const step = (d: number) => {
    const next = [...cursor] as Vec3;
    next[AXIS[plane]] += d;
    moveTo(next);
  };
  c.addEventListener(
    "wheel",
    (e) => {
      e.preventDefault();
      if (e.deltaY !== 0) step(Math.sign(e.deltaY));
    },
    { passive: false },
  );
  c.addEventListener("keydown", (e) => {
    const d = { ArrowUp: 1, ArrowDown: -1, PageUp: 10, PageDown: -10 }[e.key];
    if (d) {
      e.preventDefault();
      step(d);
    }
  });
  c.addEventListener("click", (e) => {
    const v = views[plane].hu;
    if (!attrs || !v) return;
    const r = c.getBoundingClientRect();
    const col = Math.floor(((e.clientX - r.left) / r.width) * v.cols);
    let row = Math.floor(((e.clientY - r.top) / r.height) * v.rows);
    if (flipRows(plane)) row = v.rows - 1 - row;
    const [ra, ca] = axesOf(plane);
    const next = [...cursor] as Vec3;
    next[ra] = row;
    next[ca] = col;
    moveTo(next);
  });
}
for (const sel of ["#preset", "#mask-opacity", "#feature-opacity"]) {
  $(sel).addEventListener("input", () => PLANES.forEach(draw));
}
$("#encoder").addEventListener("change", () => PLANES.forEach((p) => void loadPlane(p)));
$("#filter").addEventListener("input", renderList);
for (const th of document.querySelectorAll<HTMLElement>("#patients th")) {
  th.addEventListener("click", () => {
    const key = th.dataset.key as keyof Row;
    sortDir = key === sortKey ? -sortDir : 1;
    sortKey = key;
    renderList();
  });
}
window.addEventListener("hashchange", route);

(async () => {
  try {
    const store = await getJson<{ root: string }>("/api/store");
    $("#store").textContent = store.root;
    rows = await getJson<Row[]>("/api/patients");
    renderList();
    for (const r of rows) if (r.problem) showError(`patient ${r.id}: ${r.problem}`);
    document.body.dataset.list = "ready";
  } catch (err) {
    showError(`cannot list the store: ${describe(err)}`);
    document.body.dataset.list = "error";
  }
  route();
})();
