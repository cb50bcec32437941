{
  "target_defaults": {
    "cflags": ["-O3", "-fPIC", "-fno-math-errno"],
    "cflags_cc": ["-std=gnu++17"],
    "include_dirs": ["native"]
  },
  "targets": [
    {
      "target_name": "conv3d_isa_generic",
      "type": "static_library",
      "sources": ["native/isa_generic.cc"]
    },
    {
      "target_name": "conv3d_isa_avx2",
      "type": "static_library",
      "sources": ["native/isa_avx2.cc"],
      "cflags": ["-mavx2", "-mfma"]
    },
    {
      "target_name": "conv3d_isa_avx512",
      "type": "static_library",
      "sources": ["native/isa_avx512.cc"],
      "cflags": ["-mavx512f", "-mavx2", "-mfma"]
    },
    {
      "target_name": "conv3d_native",
      "sources": ["native/addon.cc"],
      "dependencies": ["conv3d_isa_generic", "conv3d_isa_avx2", "conv3d_isa_avx512"],
      "cflags": ["-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
