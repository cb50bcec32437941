/** @lungflow/tf-runtime (work in progress) */
export {};
