/** @lungflow/lung-segmentation (work in progress) */
export {};
