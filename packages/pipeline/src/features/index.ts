export {
  type ComputeFeaturesOptions,
  computeFeatures,
  type FeaturesEvent,
  type FeaturesReport,
} from "./compute-features.js";
export { allSymmetries, featureDataset } from "./feature-dataset.js";
export {
  type FeatureItem,
  FeatureStream,
  type FeatureStreamOptions,
} from "./feature-stream.js";
