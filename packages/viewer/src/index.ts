/**
 * @lungflow/viewer: a local web viewer of a patch store. `startViewer` serves, on
 * 127.0.0.1 only, a page that lists the patients (label, split, prediction, lung volume,
 * ingest warnings) and shows one patient in three planes with the lung mask and stored
 * encoder features as overlays, reading slices on demand.
 *
 * ```ts
 * import { startViewer } from "@lungflow/viewer";
 * const viewer = await startViewer({ store: "lungs.zarr", port: 8620 });
 * console.log(viewer.url); // http://127.0.0.1:8620/
 * ```
 */
export { ViewerError, type ViewerErrorCode } from "./errors.js";
export { type FeatureMagnitude, featureMagnitude, magnitudeSlice } from "./feature-magnitude.js";
export { type PatientRow, patientRows } from "./patient-rows.js";
export { PLANES, type Plane, type SliceBox, sliceBox } from "./planes.js";
export { parsePredictionsCsv } from "./predictions.js";
export { startViewer, type ViewerOptions, type ViewerServer } from "./server.js";
