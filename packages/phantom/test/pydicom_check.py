"""Independent check of written series with Debian's pydicom (run by dicom.test.ts).

For each series folder given on the command line: read every *.dcm with pydicom.dcmread,
convert to HU (raw * RescaleSlope + RescaleIntercept; PixelPaddingValue -> -1000),
sort by ImagePositionPatient z, stack, and compare with ground_truth/hu.raw.
Prints one JSON line per folder: {"dir", "files", "shape", "max_abs_diff", "z_spacing"}.
"""
import json
import os
import sys

import numpy as np
import pydicom

for d in sys.argv[1:]:
    slices = []
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if not name.endswith(".dcm") or not os.path.isfile(p):
            continue
        ds = pydicom.dcmread(p)
        raw = ds.pixel_array.astype(np.int64)
        hu = raw * int(ds.RescaleSlope) + int(ds.RescaleIntercept)
        if "PixelPaddingValue" in ds:
            hu[raw == int(ds.PixelPaddingValue)] = -1000
        slices.append((float(ds.ImagePositionPatient[2]), hu))
    slices.sort(key=lambda s: s[0])
    vol = np.stack([s[1] for s in slices])
    truth = json.load(open(os.path.join(d, "ground_truth", "truth.json")))
    gt = np.fromfile(os.path.join(d, "ground_truth", "hu.raw"), dtype="<i2").reshape(truth["shape"])
    zs = np.diff([s[0] for s in slices])
    print(json.dumps({
        "dir": d,
        "files": len(slices),
        "shape": list(vol.shape),
        "max_abs_diff": int(np.abs(vol - gt).max()) if vol.shape == gt.shape else None,
        "z_spacing": [float(zs.min()), float(zs.max())],
    }))
