/** @lungflow/pipeline (work in progress) */
export {};
