/**
 * Patch samplers: generators of patch locations over one patient, kept apart from the
 * queue that consumes them (pipeline's patch stream), one per file.
 */
export { type BalancedSamplerOptions, balancedSampler } from "./balanced.js";
export { SamplerError, type SamplerErrorCode } from "./errors.js";
export { type GridSamplerOptions, gridSampler } from "./grid.js";
export { type LungSamplerOptions, lungSampler } from "./lung.js";
export { makeSampler } from "./make-sampler.js";
export type {
  BaseSamplerOptions,
  PatchLocation,
  PatchSampler,
  SamplerPatient,
  SamplerSpec,
} from "./types.js";
export { type UniformSamplerOptions, uniformSampler } from "./uniform.js";
export { nthVoxel, type VoxelIndex, voxelIndex } from "./voxel-index.js";
