/**
 * A tiny DICOM Part 10 writer for tests: CT slices in implicit / explicit VR little endian or
 * explicit big endian, with any tag we need to break things (localizer, tilt, sagittal, ...).
 * Only what the tests need; the phantom package is the real writer.
 */
import { writeFileSync } from "node:fs";
import { deflateRawSync } from "node:zlib";

type Value = string | number | number[] | string[] | Uint8Array;
export interface El {
  tag: number;
  vr: string;
  value: Value;
}

const STRING_VRS = new Set([
  "AE",
  "AS",
  "CS",
  "DA",
  "DS",
  "DT",
  "IS",
  "LO",
  "LT",
  "PN",
  "SH",
  "ST",
  "TM",
  "UI",
  "UT",
]);
const LONG_VRS = new Set(["OB", "OW", "OF", "SQ", "UT", "UN"]);

function encodeValue(vr: string, value: Value, little: boolean): Uint8Array {
  if (value instanceof Uint8Array) {
    return value.length % 2 ? Buffer.concat([value, Buffer.alloc(1)]) : value;
  }
  if (STRING_VRS.has(vr)) {
    let s = Array.isArray(value) ? value.join("\\") : String(value);
    if (s.length % 2) s += vr === "UI" ? "\0" : " ";
    return Buffer.from(s, "latin1");
  }
  const vals = (Array.isArray(value) ? value : [value]) as number[];
  const size = vr === "UL" || vr === "SL" || vr === "FL" ? 4 : vr === "FD" ? 8 : 2;
  const b = Buffer.alloc(vals.length * size);
  vals.forEach((v, i) => {
    const o = i * size;
    if (vr === "US") little ? b.writeUInt16LE(v & 0xffff, o) : b.writeUInt16BE(v & 0xffff, o);
    else if (vr === "SS")
      little ? b.writeInt16LE((v << 16) >> 16, o) : b.writeInt16BE((v << 16) >> 16, o);
    else if (vr === "UL") little ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o);
    else throw new Error(`VR ${vr} not supported by the test writer`);
  });
  return b;
}

function encodeElement(el: El, explicit: boolean, little: boolean): Buffer {
  const v = encodeValue(el.vr, el.value, little);
  const group = el.tag >>> 16;
  const elem = el.tag & 0xffff;
  const w16 = (b: Buffer, x: number, o: number) =>
    little ? b.writeUInt16LE(x, o) : b.writeUInt16BE(x, o);
  const w32 = (b: Buffer, x: number, o: number) =>
    little ? b.writeUInt32LE(x, o) : b.writeUInt32BE(x, o);
  let head: Buffer;
  if (!explicit) {
    head = Buffer.alloc(8);
    w16(head, group, 0);
    w16(head, elem, 2);
    w32(head, v.length, 4);
  } else if (LONG_VRS.has(el.vr)) {
    head = Buffer.alloc(12);
    w16(head, group, 0);
    w16(head, elem, 2);
    head.write(el.vr, 4, "latin1");
    w32(head, v.length, 8);
  } else {
    head = Buffer.alloc(8);
    w16(head, group, 0);
    w16(head, elem, 2);
    head.write(el.vr, 4, "latin1");
    w16(head, v.length, 6);
  }
  return Buffer.concat([head, v]);
}

export type TestSyntax = "implicit" | "explicit" | "big";
const TS_UID: Record<TestSyntax, string> = {
  implicit: "1.2.840.10008.1.2",
  explicit: "1.2.840.10008.1.2.1",
  big: "1.2.840.10008.1.2.2",
};

/** Writes a Part 10 file: preamble, explicit-LE meta group, then the data set sorted by tag. */
export function writePart10(
  file: string,
  elements: El[],
  syntax: TestSyntax,
  sopClass: string,
  sopInstance: string,
  transferSyntaxUid: string = TS_UID[syntax],
  opts: { deflate?: boolean; frame?: Uint8Array } = {},
): void {
  const meta = [
    { tag: 0x00020001, vr: "OB", value: new Uint8Array([0, 1]) },
    { tag: 0x00020002, vr: "UI", value: sopClass },
    { tag: 0x00020003, vr: "UI", value: sopInstance },
    { tag: 0x00020010, vr: "UI", value: transferSyntaxUid },
    { tag: 0x00020012, vr: "UI", value: "1.2.826.0.1.3680043.9.7777.1" },
  ].map((e) => encodeElement(e, true, true));
  const metaLen = meta.reduce((a, b) => a + b.length, 0);
  const groupLen = encodeElement({ tag: 0x00020000, vr: "UL", value: metaLen }, true, true);
  const body = [...elements]
    .sort((a, b) => a.tag - b.tag)
    .map((e) => encodeElement(e, syntax !== "implicit", syntax !== "big"));
  // Encapsulated Pixel Data (undefined length): an empty offset table item, one fragment, the
  // sequence delimiter. It is the last element (7FE0,0010), so it follows the sorted body.
  if (opts.frame) body.push(encapsulated(opts.frame));
  const pre = Buffer.alloc(132);
  pre.write("DICM", 128, "latin1");
  const data = Buffer.concat(body);
  writeFileSync(
    file,
    Buffer.concat([pre, groupLen, ...meta, opts.deflate ? deflateRawSync(data) : data]),
  );
}

function encapsulated(frame: Uint8Array): Buffer {
  const f = frame.length % 2 ? Buffer.concat([frame, Buffer.alloc(1)]) : Buffer.from(frame);
  const head = Buffer.alloc(12 + 8 + 8);
  head.writeUInt32LE(0x00107fe0, 0); // (7FE0,0010), group then element, little endian
  head.write("OB", 4, "latin1");
  head.writeUInt32LE(0xffffffff, 8);
  head.writeUInt32LE(0xe000fffe, 12); // item: basic offset table, empty
  head.writeUInt32LE(0, 16);
  head.writeUInt32LE(0xe000fffe, 20); // item: the frame
  head.writeUInt32LE(f.length, 24);
  const end = Buffer.alloc(8);
  end.writeUInt32LE(0xe0ddfffe, 0); // sequence delimiter
  return Buffer.concat([head, f, end]);
}

export interface CtSliceOptions {
  syntax?: TestSyntax;
  rows: number;
  columns: number;
  /** Stored values (their 16-bit patterns are written). */
  stored: ArrayLike<number>;
  signed: boolean;
  bitsStored?: number;
  slope?: number;
  intercept?: number;
  padding?: number;
  paddingLimit?: number;
  ipp: number[];
  iop?: number[];
  pixelSpacing?: number[];
  patientId?: string;
  studyUid?: string;
  seriesUid?: string;
  sopUid: string;
  instanceNumber?: number;
  acquisitionNumber?: number;
  modality?: string;
  imageType?: string;
  sopClass?: string;
  gantryTilt?: number;
  photometric?: string;
  bitsAllocated?: number;
  /** Claim another transfer syntax in the meta header (the data set stays `syntax`). */
  transferSyntaxUid?: string;
  /** Leave out RescaleSlope and RescaleIntercept. */
  noRescale?: boolean;
  /** More elements. */
  extra?: El[];
  /**
   * An encoded frame of `stored` (with `transferSyntaxUid`): written as encapsulated Pixel
   * Data in an explicit little-endian data set.
   */
  frame?: Uint8Array;
  /** Deflate the data set (with `transferSyntaxUid` 1.2.840.10008.1.2.1.99). */
  deflate?: boolean;
}

/** Writes one CT slice. */
export function writeCtSlice(file: string, o: CtSliceOptions): void {
  const syntax = o.syntax ?? "explicit";
  const little = syntax !== "big";
  const n = o.rows * o.columns;
  const px = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++)
    little
      ? px.writeUInt16LE(o.stored[i] & 0xffff, i * 2)
      : px.writeUInt16BE(o.stored[i] & 0xffff, i * 2);
  const bs = o.bitsStored ?? 16;
  const sopClass = o.sopClass ?? "1.2.840.10008.5.1.4.1.1.2";
  const els: El[] = [
    { tag: 0x00080008, vr: "CS", value: o.imageType ?? "ORIGINAL\\PRIMARY\\AXIAL" },
    { tag: 0x00080016, vr: "UI", value: sopClass },
    { tag: 0x00080018, vr: "UI", value: o.sopUid },
    { tag: 0x00080060, vr: "CS", value: o.modality ?? "CT" },
    { tag: 0x00100020, vr: "LO", value: o.patientId ?? "PAT1" },
    { tag: 0x00180050, vr: "DS", value: "1.25" },
    { tag: 0x0020000d, vr: "UI", value: o.studyUid ?? "1.2.3.4.1" },
    { tag: 0x0020000e, vr: "UI", value: o.seriesUid ?? "1.2.3.4.1.1" },
    { tag: 0x00200013, vr: "IS", value: String(o.instanceNumber ?? 1) },
    { tag: 0x00200032, vr: "DS", value: o.ipp.map(String) },
    { tag: 0x00200037, vr: "DS", value: (o.iop ?? [1, 0, 0, 0, 1, 0]).map(String) },
    { tag: 0x00280002, vr: "US", value: 1 },
    { tag: 0x00280004, vr: "CS", value: o.photometric ?? "MONOCHROME2" },
    { tag: 0x00280010, vr: "US", value: o.rows },
    { tag: 0x00280011, vr: "US", value: o.columns },
    { tag: 0x00280030, vr: "DS", value: (o.pixelSpacing ?? [0.7, 0.7]).map(String) },
    { tag: 0x00280100, vr: "US", value: o.bitsAllocated ?? 16 },
    { tag: 0x00280101, vr: "US", value: bs },
    { tag: 0x00280102, vr: "US", value: bs - 1 },
    { tag: 0x00280103, vr: "US", value: o.signed ? 1 : 0 },
    { tag: 0x00281052, vr: "DS", value: String(o.intercept ?? 0) },
    { tag: 0x00281053, vr: "DS", value: String(o.slope ?? 1) },
    { tag: 0x7fe00010, vr: "OW", value: px },
  ];
  if (o.noRescale)
    els.splice(
      els.findIndex((e) => e.tag === 0x00281052),
      2,
    );
  if (o.extra) els.push(...o.extra);
  if (o.acquisitionNumber !== undefined)
    els.push({ tag: 0x00200012, vr: "IS", value: String(o.acquisitionNumber) });
  if (o.gantryTilt !== undefined)
    els.push({ tag: 0x00181120, vr: "DS", value: String(o.gantryTilt) });
  const pvr = o.signed ? "SS" : "US";
  if (o.padding !== undefined) els.push({ tag: 0x00280120, vr: pvr, value: o.padding });
  if (o.paddingLimit !== undefined) els.push({ tag: 0x00280121, vr: pvr, value: o.paddingLimit });
  if (o.frame)
    els.splice(
      els.findIndex((e) => e.tag === 0x7fe00010),
      1,
    );
  writePart10(file, els, syntax, sopClass, o.sopUid, o.transferSyntaxUid, {
    deflate: o.deflate,
    frame: o.frame,
  });
}

export type Encoding = "int16" | "uint16" | "slope2";

/** Stored values and rescale for an HU slice in one of the usual encodings. */
export function encodeHu(
  hu: ArrayLike<number>,
  enc: Encoding,
): { stored: number[]; signed: boolean; slope: number; intercept: number } {
  const a = Array.from(hu);
  if (enc === "int16") return { stored: a, signed: true, slope: 1, intercept: 0 };
  if (enc === "uint16")
    return { stored: a.map((v) => v + 1024), signed: false, slope: 1, intercept: -1024 };
  return { stored: a.map((v) => (v + 1024) / 2), signed: false, slope: 2, intercept: -1024 };
}
