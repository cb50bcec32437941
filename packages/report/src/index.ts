/** @lungflow/report (work in progress) */
export {};
