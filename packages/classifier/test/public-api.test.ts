import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

test("public API of the classifier (exact: a change here is a change of the surface)", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "ClassifierError",
    "DEFAULT_CLASSIFIER_TRAIN",
    "DEFAULT_HEAD",
    "ENCODER_PREFIX",
    "PROBABILITY_EPS",
    "SeededDropout",
    "SpatialPyramidPooling3D",
    "TiledEncoder",
    "accuracy",
    "binaryReport",
    "buildClassifier",
    "buildFeatureHead",
    "chainLayers",
    "classifierEncoder",
    "classifierFromGmcae",
    "clipByGlobalNorm",
    "clipProbability",
    "confusionMatrix",
    "encoderId",
    "evaluatePredictions",
    "featureSymmetries",
    "loadClassifier",
    "logLoss",
    "parseClassifierRunConfig",
    "parseSubmissionCsv",
    "predictSource",
    "readEpochs",
    "resolveCheckpoint",
    "resolveClassWeight",
    "rocAuc",
    "rocCurve",
    "spatialPyramidPool3d",
    "sppBin",
    "sppOutputSize",
    "trainClassifier",
    "writeSubmission",
  ]);
});
