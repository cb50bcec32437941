import * as path from "node:path";
import { isLungflowError } from "@lungflow/volume";
import { readJsonFile } from "../fs-util.js";
import type { PatientAttrs } from "../schema.js";
import { canonicalJson } from "../schema.js";
import type { VerifyProblem } from "../verify.js";
import { readEncoderGroup } from "./encoder-group.js";
import { openFeatureChunks } from "./feature-chunks.js";
import { encoderDir, featureArrayDir, featuresDir } from "./feature-paths.js";
import { encoderIdsOf, symmetriesOf } from "./list-features.js";
import { readFeatureMeta } from "./read-features.js";

/** What `verify` counted of the features (`VerifyReport.features`). */
export interface FeatureVerifyCounts {
  /** Encoder groups (patient × encoder). */
  sets: number;
  /** Feature arrays (patient × encoder × symmetry). */
  arrays: number;
  chunks: number;
  /** Decoded bytes checked. */
  bytes: number;
}

/**
 * Checks every feature array of one (readable) patient: group and array metadata, that the
 * features were written for the patient's current source (`FEATURES_STALE` otherwise), that
 * every chunk exists and decodes, and that every value is finite. Problems name the array.
 */
export async function verifyPatientFeatures(
  root: string,
  patient: PatientAttrs,
  problems: VerifyProblem[],
  counts: FeatureVerifyCounts,
  signal?: AbortSignal,
): Promise<void> {
  const id = patient.id;
  const encoders = await encoderIdsOf(root, id);
  if (!encoders.length) return;
  const fGroup = path.join(featuresDir(root, id), "zarr.json");
  const fMeta = (await readJsonFile(fGroup).catch(() => "unparsable")) as { node_type?: string };
  if (fMeta?.node_type !== "group") {
    problems.push({
      patientId: id,
      code: "FEATURES_INVALID",
      message: `features: ${fGroup} is missing or not a Zarr v3 group`,
      path: fGroup,
    });
  }
  for (const encoderId of encoders) {
    counts.sets++;
    const problem = (code: string, array: string, message: string, p: string) =>
      problems.push({ patientId: id, code, array, message: `${array}: ${message}`, path: p });
    let groupMeta: Record<string, unknown> | undefined;
    try {
      const g = await readEncoderGroup(root, id, encoderId);
      if (!g)
        throw new Error(`${path.join(encoderDir(root, id, encoderId), "zarr.json")} is missing`);
      groupMeta = g.meta;
    } catch (err) {
      const dir = encoderDir(root, id, encoderId);
      problem("FEATURES_INVALID", `features/${encoderId}`, (err as Error).message, dir);
    }
    for (const k of await symmetriesOf(root, id, encoderId)) {
      signal?.throwIfAborted();
      counts.arrays++;
      const array = `features/${encoderId}/s${k}`;
      const dir = featureArrayDir(root, id, encoderId, k);
      let checked: Awaited<ReturnType<typeof readFeatureMeta>>;
      try {
        checked = await readFeatureMeta(root, id, encoderId, k);
      } catch (err) {
        problem("FEATURES_INVALID", array, (err as Error).message, dir);
        continue;
      }
      if (!checked) continue;
      const { attrs, chunk } = checked;
      if (
        attrs.patientSourceHash !== patient.sourceHash ||
        attrs.patientIngestedAt !== patient.ingestedAt
      ) {
        problem(
          "FEATURES_STALE",
          array,
          `written for source hash ${attrs.patientSourceHash} (ingested ${attrs.patientIngestedAt}), the patient is ${patient.sourceHash} (ingested ${patient.ingestedAt})`,
          dir,
        );
      }
      for (const [key, v] of Object.entries(groupMeta ?? {})) {
        if (canonicalJson(v) !== canonicalJson(attrs.meta[key])) {
          problem(
            "FEATURES_INVALID",
            array,
            `meta.${key} ${JSON.stringify(attrs.meta[key])} differs from the encoder group's ${JSON.stringify(v)}`,
            dir,
          );
        }
      }
      const chunks = await openFeatureChunks(root, id, encoderId, k, attrs.shape, chunk);
      let nonFinite = 0;
      for (const c of chunks.coords) {
        counts.chunks++;
        try {
          const data = await chunks.load(c, signal);
          counts.bytes += data.byteLength;
          for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0) nonFinite++;
        } catch (err) {
          const code = isLungflowError(err, "ChunkDecodeError")
            ? "CHUNK_DECODE"
            : isLungflowError(err) && err.code === "CHUNK_MISSING"
              ? "MISSING_CHUNK"
              : "CHUNK_UNREADABLE";
          problem(code, array, (err as Error).message, chunks.chunkPath(c));
        }
      }
      if (nonFinite) {
        problem("FEATURES_NOT_FINITE", array, `${nonFinite} value(s) are NaN or infinite`, dir);
      }
    }
  }
}
