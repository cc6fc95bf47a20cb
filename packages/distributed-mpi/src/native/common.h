/* Shared by the addon's C files: the typed-array arguments, the checks and errors, the reduction ops. */
#ifndef CINDER_MPI_COMMON_H
#define CINDER_MPI_COMMON_H
#define NAPI_VERSION 8
#include <mpi.h>
#include <node_api.h>
#include <stddef.h>

#define NAPI_OK(call)                                                                                            \
  do {                                                                                                           \
    if ((call) != napi_ok) return throw_error(env, "Node-API call failed: " #call);                              \
  } while (0)

/* A typed array argument: its own memory (no copy), element count, bytes and MPI type. */
typedef struct {
  void *data;
  size_t length; /* elements */
  size_t bytes;
  MPI_Datatype type;
  const char *dtype;
  napi_value value;
} Buffer;

napi_value throw_error(napi_env env, const char *message);
napi_value throw_type_error(napi_env env, const char *message);
/* `what` failed: throws with MPI's own error string. */
napi_value throw_mpi(napi_env env, const char *what, int rc);

/* The functions below return 1 on success and 0 after throwing a JS exception. */
int get_buffer(napi_env env, napi_value value, const char *name, Buffer *out);
int get_optional_buffer(napi_env env, napi_value value, const char *name, Buffer *out, int *has);
int get_int(napi_env env, napi_value value, const char *name, int *out);
int get_rank(napi_env env, napi_value value, const char *name, MPI_Comm comm, int *out);
int get_op(napi_env env, napi_value value, MPI_Datatype type, MPI_Comm comm, MPI_Op *out);
int same_dtype(napi_env env, const Buffer *a, const Buffer *b);
int check_length(napi_env env, const Buffer *b, const char *name, size_t expected, const char *why);
int disjoint(napi_env env, const Buffer *send, const Buffer *recv);
/* 1: the same memory (MPI_IN_PLACE), 0: disjoint, -1 after throwing (a partial overlap). */
int in_place(napi_env env, const Buffer *send, const Buffer *recv);
/* Creates the reduction ops (once; MPI must be initialized); an MPI error code. */
int create_ops(void);
int comm_size(MPI_Comm comm);
int comm_rank(MPI_Comm comm);

#endif
