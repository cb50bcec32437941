/** @lungflow/dicom-ingest (work in progress) */
export {};
