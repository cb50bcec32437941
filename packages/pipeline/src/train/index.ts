export {
  type ClassifierFlowOptions,
  type ClassifierRunInfo,
  type PredictFlowOptions,
  predictFlow,
  readClassifierRun,
  trainClassifierFlow,
} from "./classifier-flow.js";
export { type GmcaeFlowData, type GmcaeFlowOptions, trainGmcaeFlow } from "./gmcae-flow.js";
export { type ReconstructFlowOptions, reconstructFlow } from "./reconstruct-flow.js";
