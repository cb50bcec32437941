/** @lungflow/gmcae (work in progress) */
export {};
