/*
 * Cinder's Open MPI binding: a Node-API addon with MPI's collectives over typed arrays.
 *
 * Zero copies: every collective passes the typed array's own memory (napi_get_typedarray_info's data pointer,
 * byte offset included) to MPI. Every collective is started non-blocking (MPI_I*) and returns a request id;
 * the request holds references to its typed arrays until it completes, so the garbage collector cannot free
 * memory MPI still reads or writes. `test(id)` polls one request (MPI_Test), `wait(id, timeoutMs)` polls it until
 * it completes (true) or the timeout passes (false; the request stays pending). Errors from MPI come back as
 * JS exceptions with MPI's error string (MPI_ERRORS_RETURN on MPI_COMM_WORLD).
 *
 * Calls must come from one thread at a time (MPI_THREAD_SERIALIZED).
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

#define MAX_ARGS 6

/* ---- state ---- */

static int mpi_ready = 0; /* MPI_Init_thread succeeded and MPI_Finalize has not run */
static napi_env owner = NULL; /* the one JS thread (Node environment) that may use MPI */
static const char *ONE_THREAD =
    "MPI is used by one thread per process (the one that initialized it): run one rank per process under mpirun, "
    "not in worker threads";

/* 1 when MPI is up, 0 after throwing. */
static int ready(napi_env env) {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) throw_error(env, "MPI has been finalized: no communication is possible after finalize()");
  else if (!mpi_ready) throw_error(env, "MPI is not initialized: call init() first");
  else if (env != owner) throw_error(env, ONE_THREAD);
  return !finalized && mpi_ready && env == owner;
}

/* A pending request: MPI's handle and references to the typed arrays it uses. */
typedef struct {
  double id;
  MPI_Request request;
  napi_ref refs[2];
  const char *what;
} Pending;

static Pending *pending = NULL;
static size_t pending_count = 0, pending_cap = 0;
static double next_id = 1;

static Pending *find_pending(double id) {
  for (size_t i = 0; i < pending_count; i++)
    if (pending[i].id == id) return &pending[i];
  return NULL;
}

/* The request completed: drop the references (the arrays may be collected now) and forget it. */
static void release_pending(napi_env env, Pending *p) {
  for (int i = 0; i < 2; i++)
    if (p->refs[i]) napi_delete_reference(env, p->refs[i]);
  *p = pending[--pending_count];
}

/* Record a started request with its arrays and return its id to JS. */
static napi_value started(napi_env env, const char *what, int rc, MPI_Request request, napi_value a,
                          napi_value b) {
  napi_value id;
  Pending *p;
  if (rc != MPI_SUCCESS) return throw_mpi(env, what, rc);
  if (pending_count == pending_cap) {
    size_t cap = pending_cap ? 2 * pending_cap : 16;
    Pending *grown = realloc(pending, cap * sizeof *grown);
    if (!grown) return throw_error(env, "out of memory for MPI requests");
    pending = grown, pending_cap = cap;
  }
  p = &pending[pending_count++];
  memset(p, 0, sizeof *p);
  p->id = next_id++;
  p->request = request;
  p->what = what;
  if (a) napi_create_reference(env, a, 1, &p->refs[0]);
  if (b) napi_create_reference(env, b, 1, &p->refs[1]);
  NAPI_OK(napi_create_double(env, p->id, &id));
  return id;
}

static int get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv, const char *usage) {
  size_t argc = MAX_ARGS;
  char message[256];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == expected) return 1;
  snprintf(message, sizeof message, "%s takes %zu arguments, got %zu", usage, expected, argc);
  throw_type_error(env, message);
  return 0;
}

#define ARGS(n, usage)                                                                                           \
  napi_value argv[MAX_ARGS];                                                                                     \
  MPI_Request request = MPI_REQUEST_NULL;                                                                        \
  if (!get_args(env, info, n, argv, usage) || !ready(env)) return NULL

/* ---- lifecycle ---- */

static napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

/* init(): MPI_Init_thread (SERIALIZED) unless already done; returns { rank, size, threadLevel }. */
static napi_value init(napi_env env, napi_callback_info info) {
  int initialized = 0, finalized = 0, provided = 0, rc;
  napi_value out;
  (void)info;
  if (owner != NULL && owner != env) return throw_error(env, ONE_THREAD);
  MPI_Finalized(&finalized);
  if (finalized) return throw_error(env, "MPI cannot be initialized again after finalize()");
  MPI_Initialized(&initialized);
  if (!initialized) {
    rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) return throw_mpi(env, "MPI_Init_thread", rc);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  } else {
    MPI_Query_thread(&provided);
  }
  if ((rc = create_ops()) != MPI_SUCCESS) return throw_mpi(env, "MPI_Op_create", rc);
  mpi_ready = 1;
  owner = env;
  NAPI_OK(napi_create_object(env, &out));
  napi_set_named_property(env, out, "rank", number(env, world_rank()));
  napi_set_named_property(env, out, "size", number(env, world_size()));
  napi_set_named_property(env, out, "threadLevel", number(env, provided));
  return out;
}

/* finalize(): MPI_Finalize; refuses while requests are pending (MPI would read freed arrays). */
static napi_value finalize(napi_env env, napi_callback_info info) {
  char message[160];
  int rc;
  (void)info;
  if (!mpi_ready) return NULL;
  if (env != owner) return throw_error(env, ONE_THREAD);
  if (pending_count) {
    snprintf(message, sizeof message,
             "finalize() with %zu MPI requests still pending: wait for them first (or abort())", pending_count);
    return throw_error(env, message);
  }
  rc = MPI_Finalize();
  mpi_ready = 0;
  if (rc != MPI_SUCCESS) return throw_mpi(env, "MPI_Finalize", rc);
  return NULL;
}

/* abort(code): MPI_Abort on MPI_COMM_WORLD: every rank of the job ends. */
static napi_value abort_job(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int code;
  if (!get_args(env, info, 1, argv, "abort(code)") || !get_int(env, argv[0], "code", &code)) return NULL;
  MPI_Abort(MPI_COMM_WORLD, code);
  return NULL;
}

/* state(): { initialized, finalized, pending, version, library }. */
static napi_value state(napi_env env, napi_callback_info info) {
  int initialized = 0, finalized = 0, len = 0, major = 0, minor = 0;
  char library[MPI_MAX_LIBRARY_VERSION_STRING];
  napi_value out, v;
  (void)info;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  MPI_Get_version(&major, &minor);
  MPI_Get_library_version(library, &len);
  NAPI_OK(napi_create_object(env, &out));
  napi_get_boolean(env, initialized && !finalized && mpi_ready, &v);
  napi_set_named_property(env, out, "initialized", v);
  napi_get_boolean(env, finalized, &v);
  napi_set_named_property(env, out, "finalized", v);
  napi_set_named_property(env, out, "pending", number(env, (double)pending_count));
  napi_set_named_property(env, out, "version", number(env, major + minor / 10.0));
  napi_create_string_utf8(env, library, strcspn(library, "\n,"), &v);
  napi_set_named_property(env, out, "library", v);
  return out;
}

/* ---- collectives: each starts a non-blocking operation and returns its request id ---- */

/* allreduce(send | null, recv, op): null or the same array as recv for in place. */
static napi_value allreduce(napi_env env, napi_callback_info info) {
  Buffer send, recv;
  MPI_Op op;
  int has_send, self;
  ARGS(3, "allreduce(send, recv, op)");
  if (!get_optional_buffer(env, argv[0], "send", &send, &has_send) || !get_buffer(env, argv[1], "recv", &recv) ||
      !get_op(env, argv[2], recv.type, &op))
    return NULL;
  self = !has_send;
  if (has_send) {
    if (!same_dtype(env, &send, &recv) || !check_length(env, &recv, "recv", send.length, "as many as send"))
      return NULL;
    if ((self = in_place(env, &send, &recv)) < 0) return NULL;
  }
  int rc = MPI_Iallreduce(self ? MPI_IN_PLACE : send.data, recv.data, (int)recv.length, recv.type, op,
                          MPI_COMM_WORLD, &request);
  return started(env, "MPI_Iallreduce", rc, request, self ? NULL : send.value, recv.value);
}

/* bcast(buf, root). */
static napi_value bcast(napi_env env, napi_callback_info info) {
  Buffer buf;
  int root;
  ARGS(2, "bcast(buf, root)");
  if (!get_buffer(env, argv[0], "buf", &buf) || !get_rank(env, argv[1], "root", &root)) return NULL;
  int rc = MPI_Ibcast(buf.data, (int)buf.length, buf.type, root, MPI_COMM_WORLD, &request);
  return started(env, "MPI_Ibcast", rc, request, buf.value, NULL);
}

/* allgather(send | null, recv): recv holds size blocks of send's length; null: this rank's block is in place. */
static napi_value allgather(napi_env env, napi_callback_info info) {
  Buffer send, recv;
  int has_send, size = world_size();
  ARGS(2, "allgather(send, recv)");
  if (!get_optional_buffer(env, argv[0], "send", &send, &has_send) || !get_buffer(env, argv[1], "recv", &recv))
    return NULL;
  if (has_send && (!same_dtype(env, &send, &recv) ||
                   !check_length(env, &recv, "recv", send.length * size, "worldSize times send's")))
    return NULL;
  if (!has_send && recv.length % size) return throw_error(env, "recv's length must be a multiple of the world size");
  if (has_send && !disjoint(env, &send, &recv)) return NULL;
  int count = (int)(recv.length / size);
  int rc = MPI_Iallgather(has_send ? send.data : MPI_IN_PLACE, count, recv.type, recv.data, count, recv.type,
                          MPI_COMM_WORLD, &request);
  return started(env, "MPI_Iallgather", rc, request, has_send ? send.value : NULL, recv.value);
}

/* reduceScatterBlock(send, recv, op): send holds size blocks of recv's length; recv gets this rank's reduced block. */
static napi_value reduce_scatter_block(napi_env env, napi_callback_info info) {
  Buffer send, recv;
  MPI_Op op;
  ARGS(3, "reduceScatterBlock(send, recv, op)");
  if (!get_buffer(env, argv[0], "send", &send) || !get_buffer(env, argv[1], "recv", &recv) ||
      !get_op(env, argv[2], recv.type, &op) || !same_dtype(env, &send, &recv) ||
      !check_length(env, &send, "send", recv.length * world_size(), "worldSize times recv's") ||
      !disjoint(env, &send, &recv))
    return NULL;
  int rc = MPI_Ireduce_scatter_block(send.data, recv.data, (int)recv.length, recv.type, op, MPI_COMM_WORLD,
                                     &request);
  return started(env, "MPI_Ireduce_scatter_block", rc, request, send.value, recv.value);
}

/* gather(send, recv | null, root): recv (size blocks of send's length) on the root only. */
static napi_value gather(napi_env env, napi_callback_info info) {
  Buffer send, recv;
  int has_recv, root, is_root;
  ARGS(3, "gather(send, recv, root)");
  if (!get_buffer(env, argv[0], "send", &send) || !get_optional_buffer(env, argv[1], "recv", &recv, &has_recv) ||
      !get_rank(env, argv[2], "root", &root))
    return NULL;
  is_root = root == world_rank();
  if (is_root && !has_recv) return throw_error(env, "gather: the root rank must pass a recv array");
  if (is_root && (!same_dtype(env, &send, &recv) ||
                  !check_length(env, &recv, "recv", send.length * world_size(), "worldSize times send's") ||
                  !disjoint(env, &send, &recv)))
    return NULL;
  int rc = MPI_Igather(send.data, (int)send.length, send.type, is_root ? recv.data : NULL, (int)send.length,
                       send.type, root, MPI_COMM_WORLD, &request);
  return started(env, "MPI_Igather", rc, request, send.value, is_root ? recv.value : NULL);
}

/* scatter(send | null, recv, root): send (size blocks of recv's length) on the root only. */
static napi_value scatter(napi_env env, napi_callback_info info) {
  Buffer send, recv;
  int has_send, root, is_root;
  ARGS(3, "scatter(send, recv, root)");
  if (!get_optional_buffer(env, argv[0], "send", &send, &has_send) || !get_buffer(env, argv[1], "recv", &recv) ||
      !get_rank(env, argv[2], "root", &root))
    return NULL;
  is_root = root == world_rank();
  if (is_root && !has_send) return throw_error(env, "scatter: the root rank must pass a send array");
  if (is_root && (!same_dtype(env, &send, &recv) ||
                  !check_length(env, &send, "send", recv.length * world_size(), "worldSize times recv's") ||
                  !disjoint(env, &send, &recv)))
    return NULL;
  int rc = MPI_Iscatter(is_root ? send.data : NULL, (int)recv.length, recv.type, recv.data, (int)recv.length,
                        recv.type, root, MPI_COMM_WORLD, &request);
  return started(env, "MPI_Iscatter", rc, request, is_root ? send.value : NULL, recv.value);
}

/* barrier(). */
static napi_value barrier(napi_env env, napi_callback_info info) {
  ARGS(0, "barrier()");
  int rc = MPI_Ibarrier(MPI_COMM_WORLD, &request);
  return started(env, "MPI_Ibarrier", rc, request, NULL, NULL);
}

/* ---- completion ---- */

static Pending *get_pending(napi_env env, napi_value value) {
  double id;
  Pending *p;
  char message[128];
  if (napi_get_value_double(env, value, &id) != napi_ok) return throw_type_error(env, "request id must be a number"), NULL;
  p = find_pending(id);
  if (!p) {
    snprintf(message, sizeof message, "no pending MPI request %.0f (it completed already, or never existed)", id);
    throw_error(env, message);
  }
  return p;
}

/* One MPI_Test: 1 done (released), 0 pending, -1 after throwing. */
static int test_once(napi_env env, Pending *p) {
  int flag = 0, rc = MPI_Test(&p->request, &flag, MPI_STATUS_IGNORE);
  if (rc != MPI_SUCCESS) {
    const char *what = p->what;
    release_pending(env, p);
    throw_mpi(env, what, rc);
    return -1;
  }
  if (flag) release_pending(env, p);
  return flag;
}

/* test(id): true when the request has completed (its arrays hold the result). */
static napi_value test(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS], out;
  Pending *p;
  int done;
  if (!get_args(env, info, 1, argv, "test(id)") || !ready(env) || !(p = get_pending(env, argv[0])))
    return NULL;
  if ((done = test_once(env, p)) < 0) return NULL;
  napi_get_boolean(env, done, &out);
  return out;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * wait(id, timeoutMs): polls MPI_Test until the request completes (true) or the timeout passes (false: the request
 * stays pending; wait again, or abort()). Spins for the first millisecond, then yields the core between polls, as
 * Open MPI's own MPI_Wait does when ranks outnumber cores. (Sleeping between polls would starve the transfer:
 * the non-blocking algorithms advance one step per MPI_Test.)
 */
static napi_value wait_request(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS], out;
  Pending *p;
  double timeout, start, id;
  if (!get_args(env, info, 2, argv, "wait(id, timeoutMs)") || !ready(env) || !(p = get_pending(env, argv[0])))
    return NULL;
  if (napi_get_value_double(env, argv[1], &timeout) != napi_ok || !(timeout >= 0))
    return throw_type_error(env, "timeoutMs must be a number >= 0 (Infinity waits forever)");
  id = p->id, start = now_ms();
  for (;;) {
    int done = test_once(env, p);
    double elapsed = now_ms() - start;
    if (done < 0) return NULL;
    if (done || elapsed > timeout) {
      napi_get_boolean(env, done, &out);
      return out;
    }
    if (elapsed > 1) sched_yield();
    p = find_pending(id);
  }
}

/* ---- module ---- */

static napi_value init_module(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"init", NULL, init, NULL, NULL, NULL, napi_enumerable, NULL},
      {"finalize", NULL, finalize, NULL, NULL, NULL, napi_enumerable, NULL},
      {"abort", NULL, abort_job, NULL, NULL, NULL, napi_enumerable, NULL},
      {"state", NULL, state, NULL, NULL, NULL, napi_enumerable, NULL},
      {"allreduce", NULL, allreduce, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bcast", NULL, bcast, NULL, NULL, NULL, napi_enumerable, NULL},
      {"allgather", NULL, allgather, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reduceScatterBlock", NULL, reduce_scatter_block, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gather", NULL, gather, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scatter", NULL, scatter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"barrier", NULL, barrier, NULL, NULL, NULL, napi_enumerable, NULL},
      {"test", NULL, test, NULL, NULL, NULL, napi_enumerable, NULL},
      {"wait", NULL, wait_request, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
