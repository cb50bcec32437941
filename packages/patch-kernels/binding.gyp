{
  "target_defaults": {
    "cflags": ["-O3", "-fPIC", "-fno-math-errno"],
    "cflags_cc": ["-std=gnu++17"],
    "include_dirs": ["native"]
  },
  "targets": [
    {
      "target_name": "patch_kernels",
      "sources": ["native/addon.cc"],
      "cflags": ["-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
