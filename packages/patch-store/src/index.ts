/** @lungflow/patch-store (work in progress) */
export {};

// Patch samplers (patch-streaming issue).
export * from "./samplers/index.js";
