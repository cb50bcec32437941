#!/usr/bin/python3
"""The seed-style (kdsb17) preprocessing of DICOM series, for `pnpm bench ingest`.

Usage: /usr/bin/python3 seed_ingest.py [--order N] SERIES_DIR OUT_DIR [SERIES_DIR OUT_DIR ...]

What the kdsb17 seed does per patient, with Debian's pydicom, scipy and scikit-image, one
core, in this order (the steps `lungflow ingest` also takes, see ARCHITECTURE.md
"Preprocessing"):
  1. read every *.dcm of the series with pydicom (the seed's read_dcm_sequence);
  2. HU per slice as the seed's dcm2array: PixelPaddingValue -> -1000 HU, then
     raw * RescaleSlope + RescaleIntercept in float64, cast to int16;
  3. sort the slices by ImagePositionPatient[2]; spacing = mean z step and PixelSpacing;
  4. resample with scipy.ndimage.zoom to 1 x 1 x 1 mm with the seed's zoom factor
     f = (1 - 1/n) * spacing + 1/n per axis and mode="nearest"; the seed leaves zoom's
     default spline order 3, --order 1 gives trilinear (what lungflow computes by default);
  5. the kdsb17 lung mask: Otsu threshold (skimage) over the volume, voxels below it; per
     slice binary opening 5x5 twice, pad with 1s and drop the component touching the
     corner; dilation 5x1x5 (z,y,x) 4 times; largest 3D component (skimage label); tight
     mask = candidates inside it; dilation 1x5x1 4 times for the crop box; z tails under
     0.5% of the cumulative volume dropped;
  6. crop HU and mask to the box and save both as .npy in OUT_DIR (hu.npy, mask.npy).
Prints one JSON line per patient: {"dir", "shape", "resampled", "cropped", "seconds"}.
"""
import glob
import json
import os
import sys
import time

import numpy as np
import pydicom
from scipy import ndimage

sys.path.insert(
    0,
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../packages/lung-segmentation/test/fixtures"),
)
from reference import kdsb17  # noqa: E402  (the same mask the segmentation tests compare with)


def read_series(series_dir):
    paths = sorted(glob.glob(os.path.join(series_dir, "*.dcm")))
    return [pydicom.dcmread(p) for p in paths]


def to_hu(ds):
    slope = float(ds.RescaleSlope)
    intercept = float(ds.RescaleIntercept)
    a = ds.pixel_array
    pad = getattr(ds, "PixelPaddingValue", None)
    if pad is not None:
        a = a.copy()
        a[a == pad] = int(round(-1000 - intercept))
    a = a.astype(np.float64)
    a *= slope
    a += intercept
    return a.astype(np.int16)


def stack(slices):
    slices = [s for s in slices if getattr(s, "Modality", None) == "CT" and "PixelData" in s]
    slices.sort(key=lambda s: float(s.ImagePositionPatient[2]))
    vol = np.stack([to_hu(s) for s in slices])
    z = np.array([float(s.ImagePositionPatient[2]) for s in slices])
    dz = float(np.diff(z).mean())
    dy = float(np.mean([float(s.PixelSpacing[0]) for s in slices]))
    dx = float(np.mean([float(s.PixelSpacing[1]) for s in slices]))
    return vol, np.array([dz, dy, dx])


def resample(vol, spacing, order):
    n = np.array(vol.shape, dtype=np.float64)
    factor = (1 - 1 / n) * (spacing / 1.0) + 1 / n
    return ndimage.zoom(vol, factor, order=order, mode="nearest")


def lung_mask(hu, tail=0.005):
    """Step 5: the scipy/scikit-image kdsb17 mask the lung-segmentation tests pin ours to."""
    _, tight, _, bbox = kdsb17(hu, tail)
    return tight, bbox


def ingest(series_dir, out_dir, order):
    t0 = time.perf_counter()
    vol, spacing = stack(read_series(series_dir))
    res = resample(vol, spacing, order)
    tight, ((z0, z1), (y0, y1), (x0, x1)) = lung_mask(res)
    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, "hu.npy"), res[z0:z1, y0:y1, x0:x1])
    np.save(os.path.join(out_dir, "mask.npy"), tight[z0:z1, y0:y1, x0:x1].astype(np.uint8))
    print(
        json.dumps(
            {
                "dir": series_dir,
                "shape": list(vol.shape),
                "resampled": list(res.shape),
                "cropped": [z1 - z0, y1 - y0, x1 - x0],
                "seconds": round(time.perf_counter() - t0, 3),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    order = 3
    if args[:1] == ["--order"]:
        order = int(args[1])
        args = args[2:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    for i in range(0, len(args), 2):
        ingest(args[i], args[i + 1], order)
