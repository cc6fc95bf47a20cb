/*
 * Cinder's BLAS binding: a Node-API addon that runs cblas_sgemm / cblas_dgemm of the system's OpenBLAS on the
 * memory of typed arrays (napi_get_typedarray_info's data pointer: no copies, C is written in place).
 *
 * The library is opened with dlopen at run time, not linked: the addon then builds with a C compiler and Node's
 * headers alone (no -dev package, no cblas.h), the library can be chosen per process ($CINDER_BLAS_LIBRARY, any
 * library exporting the CBLAS interface), and a missing library is a JS exception the package turns into a
 * message naming the Debian package, instead of a dlopen failure of the addon itself. The few prototypes used are
 * declared below; CBLAS's enums are fixed by the reference interface (netlib cblas.h), so they are ABI-stable.
 *
 * Only the LP64 interface (32-bit int dimensions) is supported, as Debian and most distributions ship it; gemm
 * checks every dimension and every index it will touch before calling the library, so a bad argument is a JS
 * exception, never a read or write out of bounds.
 */
#define NAPI_VERSION 8
#include <dlfcn.h>
#include <limits.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { CblasRowMajor = 101 };
enum { CblasNoTrans = 111, CblasTrans = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int, const double *, int, double,
                         double *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*get_config_fn)(void);

/* The opened library: set once per process (every Node environment, workers included, shares it). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *library = NULL;
static char library_path[1024];
static sgemm_fn sgemm;
static dgemm_fn dgemm;
static set_threads_fn set_threads; /* NULL for a CBLAS that is not OpenBLAS: no thread control */
static get_threads_fn get_threads;
static get_config_fn get_config;

#define NAPI_OK(call)                                                                                            \
  do {                                                                                                           \
    if ((call) != napi_ok) return throw_error(env, "Node-API call failed: " #call);                              \
  } while (0)

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* dlopen `path`, resolve the symbols; on failure appends why to `why` and returns 0. */
static int try_open(const char *path, char *why, size_t why_size) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  size_t used = strlen(why);
  if (!h) {
    const char *e = dlerror();
    snprintf(why + used, why_size - used, "%s%s", used ? "; " : "", e ? e : path);
    return 0;
  }
  sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
  dgemm = (dgemm_fn)dlsym(h, "cblas_dgemm");
  if (!sgemm || !dgemm) {
    snprintf(why + used, why_size - used, "%s%s: no cblas_sgemm/cblas_dgemm symbols (not a CBLAS library)",
             used ? "; " : "", path);
    dlclose(h);
    return 0;
  }
  set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
  get_threads = (get_threads_fn)dlsym(h, "openblas_get_num_threads");
  get_config = (get_config_fn)dlsym(h, "openblas_get_config");
  library = h;
  snprintf(library_path, sizeof library_path, "%s", path);
  return 1;
}

/* The state object: { library, config, threads } (threads -1 without OpenBLAS's thread control). */
static napi_value state(napi_env env) {
  napi_value out, v;
  NAPI_OK(napi_create_object(env, &out));
  NAPI_OK(napi_create_string_utf8(env, library_path, NAPI_AUTO_LENGTH, &v));
  NAPI_OK(napi_set_named_property(env, out, "library", v));
  NAPI_OK(napi_create_string_utf8(env, get_config ? get_config() : "", NAPI_AUTO_LENGTH, &v));
  NAPI_OK(napi_set_named_property(env, out, "config", v));
  NAPI_OK(napi_create_int32(env, get_threads && set_threads ? get_threads() : -1, &v));
  NAPI_OK(napi_set_named_property(env, out, "threads", v));
  return out;
}

/*
 * open(paths: string[]): opens the first library of `paths` that loads and exports CBLAS's gemm, once per process
 * (later calls return the same state whatever they pass). Throws with every dlopen message when none loads.
 */
static napi_value open_library(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t n = 0;
  bool is_array = false;
  char why[4096] = "";
  int ok;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array)
    return throw_type_error(env, "open(paths): expected an array of library paths");
  NAPI_OK(napi_get_array_length(env, argv[0], &n));
  pthread_mutex_lock(&lock);
  ok = library != NULL;
  for (uint32_t i = 0; i < n && !ok; i++) {
    char path[1024];
    size_t len = 0;
    napi_value item;
    if (napi_get_element(env, argv[0], i, &item) != napi_ok ||
        napi_get_value_string_utf8(env, item, path, sizeof path, &len) != napi_ok) {
      pthread_mutex_unlock(&lock);
      return throw_type_error(env, "open(paths): every path must be a string");
    }
    ok = try_open(path, why, sizeof why);
  }
  pthread_mutex_unlock(&lock);
  if (!ok) return throw_error(env, n ? why : "open(paths): no library paths given");
  return state(env);
}

static napi_value get_state(napi_env env, napi_callback_info info) {
  if (!library) return throw_error(env, "the BLAS library is not open: call open() first");
  return state(env);
}

/* setThreads(n): OpenBLAS's thread count (a no-op for a CBLAS without thread control). */
static napi_value set_thread_count(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1)
    return throw_type_error(env, "setThreads(n): expected an integer >= 1");
  if (!library) return throw_error(env, "the BLAS library is not open: call open() first");
  if (set_threads) set_threads(n);
  return NULL;
}

#define GEMM_ARGS 18

/* argv[i] as an integer in [0, INT_MAX]; `name` for the message. */
static int get_dim(napi_env env, napi_value v, const char *name, int64_t *out) {
  char message[160];
  double d;
  /* the range first: converting NaN or an out-of-range double to an integer is undefined */
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= INT_MAX) || d != (double)(int64_t)d) {
    snprintf(message, sizeof message, "gemm: %s must be an integer in [0, %d]", name, INT_MAX);
    throw_type_error(env, message);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

/* An operand stored as `batch` matrices of rows x cols, row stride ld, batch stride s, from element off. */
typedef struct {
  void *data;
  size_t length;
  napi_typedarray_type type;
} Array;

static int get_array(napi_env env, napi_value v, const char *name, Array *out) {
  char message[160];
  bool is_typed = false;
  napi_value buffer;
  size_t byte_offset;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &buffer, &byte_offset) != napi_ok ||
      (out->type != napi_float32_array && out->type != napi_float64_array)) {
    snprintf(message, sizeof message, "gemm: %s must be a Float32Array or a Float64Array", name);
    throw_type_error(env, message);
    return 0;
  }
  return 1;
}

/* 1 when every element the product reads or writes lies in the array; else throws. */
static int in_bounds(napi_env env, const char *name, const Array *a, int64_t off, int64_t rows, int64_t cols,
                     int64_t ld, int64_t s, int64_t batch) {
  char message[200];
  int64_t last;
  if (ld < (cols > 1 ? cols : 1)) {
    snprintf(message, sizeof message, "gemm: the leading dimension of %s is %lld, less than its %lld columns", name,
             (long long)ld, (long long)cols);
    throw_error(env, message);
    return 0;
  }
  if (rows == 0 || cols == 0 || batch == 0) return 1;
  last = off + (batch - 1) * s + (rows - 1) * ld + (cols - 1);
  if (last >= (int64_t)a->length) {
    snprintf(message, sizeof message, "gemm: %s needs %lld elements, its array has %zu", name,
             (long long)(last + 1), a->length);
    throw_error(env, message);
    return 0;
  }
  return 1;
}

/*
 * gemm(transA, transB, M, N, K, A, aOff, lda, strideA, B, bOff, ldb, strideB, C, cOff, ldc, strideC, batch):
 * for t < batch, C_t[M, N] = op(A_t) @ op(B_t), all row-major, C_t overwritten (beta = 0). op(X) is X or, when
 * its flag is true, X's transpose: A_t is stored as M x K (K x M transposed) at A[aOff + t * strideA] with row
 * stride lda, B_t as K x N (N x K), C_t as M x N. A, B and C are all Float32Arrays (sgemm) or all Float64Arrays.
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = GEMM_ARGS;
  napi_value argv[GEMM_ARGS];
  bool ta, tb;
  int64_t M, N, K, aOff, lda, sA, bOff, ldb, sB, cOff, ldc, sC, batch;
  Array A, B, C;
  char message[160];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != GEMM_ARGS) {
    snprintf(message, sizeof message, "gemm: expected %d arguments, got %zu", GEMM_ARGS, argc);
    return throw_type_error(env, message);
  }
  if (napi_get_value_bool(env, argv[0], &ta) != napi_ok || napi_get_value_bool(env, argv[1], &tb) != napi_ok)
    return throw_type_error(env, "gemm: transA and transB must be booleans");
  if (!get_dim(env, argv[2], "M", &M) || !get_dim(env, argv[3], "N", &N) || !get_dim(env, argv[4], "K", &K) ||
      !get_array(env, argv[5], "A", &A) || !get_dim(env, argv[6], "aOff", &aOff) ||
      !get_dim(env, argv[7], "lda", &lda) || !get_dim(env, argv[8], "strideA", &sA) ||
      !get_array(env, argv[9], "B", &B) || !get_dim(env, argv[10], "bOff", &bOff) ||
      !get_dim(env, argv[11], "ldb", &ldb) || !get_dim(env, argv[12], "strideB", &sB) ||
      !get_array(env, argv[13], "C", &C) || !get_dim(env, argv[14], "cOff", &cOff) ||
      !get_dim(env, argv[15], "ldc", &ldc) || !get_dim(env, argv[16], "strideC", &sC) ||
      !get_dim(env, argv[17], "batch", &batch))
    return NULL;
  if (A.type != C.type || B.type != C.type)
    return throw_type_error(env, "gemm: A, B and C must be arrays of one type (all Float32Array or all Float64Array)");
  if (!in_bounds(env, "A", &A, aOff, ta ? K : M, ta ? M : K, lda, sA, batch) ||
      !in_bounds(env, "B", &B, bOff, tb ? N : K, tb ? K : N, ldb, sB, batch) ||
      !in_bounds(env, "C", &C, cOff, M, N, ldc, sC, batch))
    return NULL;
  if (!library) return throw_error(env, "the BLAS library is not open: call open() first");
  if (M == 0 || N == 0) return NULL;
  const int oa = ta ? CblasTrans : CblasNoTrans, ob = tb ? CblasTrans : CblasNoTrans;
  for (int64_t t = 0; t < batch; t++) {
    if (C.type == napi_float32_array)
      sgemm(CblasRowMajor, oa, ob, (int)M, (int)N, (int)K, 1.0f, (const float *)A.data + aOff + t * sA, (int)lda,
            (const float *)B.data + bOff + t * sB, (int)ldb, 0.0f, (float *)C.data + cOff + t * sC, (int)ldc);
    else
      dgemm(CblasRowMajor, oa, ob, (int)M, (int)N, (int)K, 1.0, (const double *)A.data + aOff + t * sA, (int)lda,
            (const double *)B.data + bOff + t * sB, (int)ldb, 0.0, (double *)C.data + cOff + t * sC, (int)ldc);
  }
  return NULL;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, open_library, NULL, NULL, NULL, napi_default, NULL},
      {"state", NULL, get_state, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_thread_count, NULL, NULL, NULL, napi_default, NULL},
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
