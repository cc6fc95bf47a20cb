{
  "targets": [
    {
      "target_name": "cinder_blas",
      "sources": ["src/native/blas_addon.c"],
      "cflags": ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}
