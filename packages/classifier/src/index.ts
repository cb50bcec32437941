/** @lungflow/classifier (work in progress) */
export {};
