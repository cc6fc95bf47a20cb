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
 * Every collective and point-to-point call takes a communicator id last: 0 is MPI_COMM_WORLD, `commCreate(ranks,
 * parent)` makes more (subgroups). Receives report the sender and the element count through a small Int32Array.
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
#define MAX_COMMS 64

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

/* The communicators JS names by index: 0 is MPI_COMM_WORLD (set by init), then the subgroups of commCreate. */
static MPI_Comm comms[MAX_COMMS];
static int comm_count = 0;

/* A communicator id argument; 0 after throwing. */
static int get_comm(napi_env env, napi_value value, MPI_Comm *out) {
  int id;
  if (!get_int(env, value, "comm", &id)) return 0;
  if (id < 0 || id >= comm_count) {
    throw_error(env, "comm must be an id that commCreate returned (0: MPI_COMM_WORLD)");
    return 0;
  }
  *out = comms[id];
  return 1;
}

/* A pending request: MPI's handle, references to the typed arrays it uses, and where a receive reports. */
typedef struct {
  double id;
  MPI_Request request;
  napi_ref refs[3];
  const char *what;
  int32_t *status; /* receives: [source, element count] once complete */
  MPI_Datatype type;
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
  for (int i = 0; i < 3; i++)
    if (p->refs[i]) napi_delete_reference(env, p->refs[i]);
  *p = pending[--pending_count];
}

/* Record a started request with its arrays and return its id to JS. */
static Pending *last_started = NULL;

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
  last_started = p;
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

/* n arguments and the communicator id after them. */
#define ARGS(n, usage)                                                                                           \
  napi_value argv[MAX_ARGS];                                                                                     \
  MPI_Request request = MPI_REQUEST_NULL;                                                                        \
  MPI_Comm comm;                                                                                                 \
  if (!get_args(env, info, (n) + 1, argv, usage) || !ready(env) || !get_comm(env, argv[n], &comm)) return NULL

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
  }
  if (comm_count == 0) {
    comms[0] = MPI_COMM_WORLD;
    comm_count = 1;
  }
  if (initialized) MPI_Query_thread(&provided);
  if ((rc = create_ops()) != MPI_SUCCESS) return throw_mpi(env, "MPI_Op_create", rc);
  mpi_ready = 1;
  owner = env;
  NAPI_OK(napi_create_object(env, &out));
  napi_set_named_property(env, out, "rank", number(env, comm_rank(MPI_COMM_WORLD)));
  napi_set_named_property(env, out, "size", number(env, comm_size(MPI_COMM_WORLD)));
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
  ARGS(3, "allreduce(send, recv, op, comm)");
  if (!get_optional_buffer(env, argv[0], "send", &send, &has_send) || !get_buffer(env, argv[1], "recv", &recv) ||
      !get_op(env, argv[2], recv.type, comm, &op))
    return NULL;
  self = !has_send;
  if (has_send) {
    if (!same_dtype(env, &send, &recv) || !check_length(env, &recv, "recv", send.length, "as many as send"))
      return NULL;
    if ((self = in_place(env, &send, &recv)) < 0) return NULL;
  }
  int rc = MPI_Iallreduce(self ? MPI_IN_PLACE : send.data, recv.data, (int)recv.length, recv.type, op,
                          comm, &request);
  return started(env, "MPI_Iallreduce", rc, request, self ? NULL : send.value, recv.value);
}

/* bcast(buf, root). */
static napi_value bcast(napi_env env, napi_callback_info info) {
  Buffer buf;
  int root;
  ARGS(2, "bcast(buf, root, comm)");
  if (!get_buffer(env, argv[0], "buf", &buf) || !get_rank(env, argv[1], "root", comm, &root)) return NULL;
  int rc = MPI_Ibcast(buf.data, (int)buf.length, buf.type, root, comm, &request);
  return started(env, "MPI_Ibcast", rc, request, buf.value, NULL);
}

/* allgather(send | null, recv): recv holds size blocks of send's length; null: this rank's block is in place. */
static napi_value allgather(napi_env env, napi_callback_info info) {
  Buffer send, recv;
  int has_send, size;
  ARGS(2, "allgather(send, recv, comm)");
  size = comm_size(comm);
  if (!get_optional_buffer(env, argv[0], "send", &send, &has_send) || !get_buffer(env, argv[1], "recv", &recv))
    return NULL;
  if (has_send && (!same_dtype(env, &send, &recv) ||
                   !check_length(env, &recv, "recv", send.length * size, "worldSize times send's")))
    return NULL;
  if (!has_send && recv.length % size) return throw_error(env, "recv's length must be a multiple of the world size");
  if (has_send && !disjoint(env, &send, &recv)) return NULL;
  int count = (int)(recv.length / size);
  int rc = MPI_Iallgather(has_send ? send.data : MPI_IN_PLACE, count, recv.type, recv.data, count, recv.type,
                          comm, &request);
  return started(env, "MPI_Iallgather", rc, request, has_send ? send.value : NULL, recv.value);
}

/* reduceScatterBlock(send, recv, op): send holds size blocks of recv's length; recv gets this rank's reduced block. */
static napi_value reduce_scatter_block(napi_env env, napi_callback_info info) {
  Buffer send, recv;
  MPI_Op op;
  ARGS(3, "reduceScatterBlock(send, recv, op, comm)");
  if (!get_buffer(env, argv[0], "send", &send) || !get_buffer(env, argv[1], "recv", &recv) ||
      !get_op(env, argv[2], recv.type, comm, &op) || !same_dtype(env, &send, &recv) ||
      !check_length(env, &send, "send", recv.length * comm_size(comm), "worldSize times recv's") ||
      !disjoint(env, &send, &recv))
    return NULL;
  int rc = MPI_Ireduce_scatter_block(send.data, recv.data, (int)recv.length, recv.type, op, comm,
                                     &request);
  return started(env, "MPI_Ireduce_scatter_block", rc, request, send.value, recv.value);
}

/* gather(send, recv | null, root): recv (size blocks of send's length) on the root only. */
static napi_value gather(napi_env env, napi_callback_info info) {
  Buffer send, recv;
  int has_recv, root, is_root;
  ARGS(3, "gather(send, recv, root, comm)");
  if (!get_buffer(env, argv[0], "send", &send) || !get_optional_buffer(env, argv[1], "recv", &recv, &has_recv) ||
      !get_rank(env, argv[2], "root", comm, &root))
    return NULL;
  is_root = root == comm_rank(comm);
  if (is_root && !has_recv) return throw_error(env, "gather: the root rank must pass a recv array");
  if (is_root && (!same_dtype(env, &send, &recv) ||
                  !check_length(env, &recv, "recv", send.length * comm_size(comm), "worldSize times send's") ||
                  !disjoint(env, &send, &recv)))
    return NULL;
  int rc = MPI_Igather(send.data, (int)send.length, send.type, is_root ? recv.data : NULL, (int)send.length,
                       send.type, root, comm, &request);
  return started(env, "MPI_Igather", rc, request, send.value, is_root ? recv.value : NULL);
}

/* scatter(send | null, recv, root): send (size blocks of recv's length) on the root only. */
static napi_value scatter(napi_env env, napi_callback_info info) {
  Buffer send, recv;
  int has_send, root, is_root;
  ARGS(3, "scatter(send, recv, root, comm)");
  if (!get_optional_buffer(env, argv[0], "send", &send, &has_send) || !get_buffer(env, argv[1], "recv", &recv) ||
      !get_rank(env, argv[2], "root", comm, &root))
    return NULL;
  is_root = root == comm_rank(comm);
  if (is_root && !has_send) return throw_error(env, "scatter: the root rank must pass a send array");
  if (is_root && (!same_dtype(env, &send, &recv) ||
                  !check_length(env, &send, "send", recv.length * comm_size(comm), "worldSize times recv's") ||
                  !disjoint(env, &send, &recv)))
    return NULL;
  int rc = MPI_Iscatter(is_root ? send.data : NULL, (int)recv.length, recv.type, recv.data, (int)recv.length,
                        recv.type, root, comm, &request);
  return started(env, "MPI_Iscatter", rc, request, is_root ? send.value : NULL, recv.value);
}

/* barrier(). */
static napi_value barrier(napi_env env, napi_callback_info info) {
  ARGS(0, "barrier(comm)");
  int rc = MPI_Ibarrier(comm, &request);
  return started(env, "MPI_Ibarrier", rc, request, NULL, NULL);
}

/* ---- point to point and subgroups ---- */

/* isend(buf, dst, tag, comm). */
static napi_value isend(napi_env env, napi_callback_info info) {
  Buffer buf;
  int dst, tag;
  ARGS(3, "isend(buf, dst, tag, comm)");
  if (!get_buffer(env, argv[0], "buf", &buf) || !get_rank(env, argv[1], "dst", comm, &dst) ||
      !get_int(env, argv[2], "tag", &tag))
    return NULL;
  int rc = MPI_Isend(buf.data, (int)buf.length, buf.type, dst, tag, comm, &request);
  return started(env, "MPI_Isend", rc, request, buf.value, NULL);
}

/* irecv(buf, src, tag, status, comm): src -1 is any source; status (an Int32Array of 2) gets [source, count]. */
static napi_value irecv(napi_env env, napi_callback_info info) {
  Buffer buf, status;
  int src, tag;
  napi_value id;
  ARGS(4, "irecv(buf, src, tag, status, comm)");
  if (!get_buffer(env, argv[0], "buf", &buf) || !get_int(env, argv[1], "src", &src) ||
      !get_int(env, argv[2], "tag", &tag) || !get_buffer(env, argv[3], "status", &status))
    return NULL;
  if (src != -1 && !get_rank(env, argv[1], "src", comm, &src)) return NULL;
  if (status.type != MPI_INT32_T || status.length != 2)
    return throw_type_error(env, "status must be an Int32Array of 2 elements");
  int rc = MPI_Irecv(buf.data, (int)buf.length, buf.type, src == -1 ? MPI_ANY_SOURCE : src, tag, comm, &request);
  if (!(id = started(env, "MPI_Irecv", rc, request, buf.value, status.value))) return NULL;
  last_started->status = status.data;
  last_started->type = buf.type;
  return id;
}

/* commCreate(ranks, parent): the communicator of the parent's ranks `ranks` (collective over the parent); its id,
   or -1 on a rank outside it. */
static napi_value comm_create(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS], item;
  MPI_Comm parent, made = MPI_COMM_NULL;
  MPI_Group all, some;
  uint32_t n = 0;
  int ranks[1024], rc;
  if (!get_args(env, info, 2, argv, "commCreate(ranks, parent)") || !ready(env) || !get_comm(env, argv[1], &parent))
    return NULL;
  if (napi_get_array_length(env, argv[0], &n) != napi_ok || n < 1 || n > 1024)
    return throw_type_error(env, "ranks must be an array of 1 to 1024 ranks");
  for (uint32_t i = 0; i < n; i++)
    if (napi_get_element(env, argv[0], i, &item) != napi_ok || !get_rank(env, item, "ranks[i]", parent, &ranks[i]))
      return NULL;
  if (comm_count == MAX_COMMS) return throw_error(env, "too many communicators (at most 63 subgroups)");
  MPI_Comm_group(parent, &all);
  MPI_Group_incl(all, (int)n, ranks, &some);
  rc = MPI_Comm_create(parent, some, &made);
  MPI_Group_free(&some);
  MPI_Group_free(&all);
  if (rc != MPI_SUCCESS) return throw_mpi(env, "MPI_Comm_create", rc);
  if (made == MPI_COMM_NULL) return number(env, -1);
  MPI_Comm_set_errhandler(made, MPI_ERRORS_RETURN);
  comms[comm_count] = made;
  return number(env, comm_count++);
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
  MPI_Status st;
  int flag = 0, rc = MPI_Test(&p->request, &flag, &st);
  if (rc != MPI_SUCCESS) {
    const char *what = p->what;
    release_pending(env, p);
    throw_mpi(env, what, rc);
    return -1;
  }
  if (flag && p->status) {
    p->status[0] = st.MPI_SOURCE;
    MPI_Get_count(&st, p->type, &p->status[1]);
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

/* cancel(id): MPI_Cancel of a pending receive, then its completion (a receive that timed out: MPI_Finalize can
   then run). True when it was cancelled, false when the message had arrived meanwhile. */
static napi_value cancel(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS], out;
  MPI_Status st;
  Pending *p;
  int cancelled = 0, rc;
  if (!get_args(env, info, 1, argv, "cancel(id)") || !ready(env) || !(p = get_pending(env, argv[0]))) return NULL;
  if (!p->status) return throw_error(env, "cancel: only receives can be cancelled");
  rc = MPI_Cancel(&p->request);
  if (rc == MPI_SUCCESS) rc = MPI_Wait(&p->request, &st);
  if (rc == MPI_SUCCESS) MPI_Test_cancelled(&st, &cancelled);
  release_pending(env, p);
  if (rc != MPI_SUCCESS) return throw_mpi(env, "MPI_Cancel", rc);
  napi_get_boolean(env, cancelled, &out);
  return out;
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
      {"isend", NULL, isend, NULL, NULL, NULL, napi_enumerable, NULL},
      {"irecv", NULL, irecv, NULL, NULL, NULL, napi_enumerable, NULL},
      {"commCreate", NULL, comm_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"cancel", NULL, cancel, NULL, NULL, NULL, napi_enumerable, NULL},
      {"test", NULL, test, NULL, NULL, NULL, napi_enumerable, NULL},
      {"wait", NULL, wait_request, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
