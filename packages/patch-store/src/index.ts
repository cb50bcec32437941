/** @lungflow/patch-store (work in progress) */
export {};
