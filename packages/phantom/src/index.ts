/** @lungflow/phantom (work in progress) */
export {};
