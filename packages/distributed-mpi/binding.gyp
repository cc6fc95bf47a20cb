{
  "targets": [
    {
      "target_name": "cinder_mpi",
      "sources": ["src/native/mpi_addon.c", "src/native/args.c"],
      "cflags": ["<!@(mpicc --showme:compile)", "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["<!@(mpicc --showme:link)"],
      "ldflags": ["-Wl,-rpath,<!(mpicc --showme:libdirs)"]
    }
  ]
}
