/*
 * The addon's arguments and checks: typed arrays (their memory, never a copy), ranks, reduction ops, and the errors
 * that name what was expected and what was given. Also the reductions themselves, as user-defined MPI ops.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

/* ---- errors ---- */


napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* `what` failed: MPI's own error string. */
napi_value throw_mpi(napi_env env, const char *what, int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  char message[MPI_MAX_ERROR_STRING + 128];
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "error code %d", rc);
  snprintf(message, sizeof message, "%s failed: %s", what, text);
  return throw_error(env, message);
}

/* ---- arguments ---- */


static const char *TYPED_ARRAY_NAMES[] = {"Int8Array",    "Uint8Array",    "Uint8ClampedArray", "Int16Array",
                                          "Uint16Array",  "Int32Array",    "Uint32Array",       "Float32Array",
                                          "Float64Array", "BigInt64Array", "BigUint64Array"};

/* A Float32Array, Float64Array, Int32Array or Uint8Array (its memory, not a copy); 0 after throwing. */
int get_buffer(napi_env env, napi_value value, const char *name, Buffer *out) {
  char message[256];
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void *data = NULL;
  napi_value arraybuffer;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) {
    snprintf(message, sizeof message,
             "%s must be a Float32Array, Float64Array, Int32Array or Uint8Array (a typed array)", name);
    throw_type_error(env, message);
    return 0;
  }
  if (napi_get_typedarray_info(env, value, &type, &length, &data, &arraybuffer, &offset) != napi_ok) {
    throw_error(env, "napi_get_typedarray_info failed");
    return 0;
  }
  switch (type) {
  case napi_float32_array: out->type = MPI_FLOAT, out->dtype = "float32", out->bytes = 4 * length; break;
  case napi_float64_array: out->type = MPI_DOUBLE, out->dtype = "float64", out->bytes = 8 * length; break;
  case napi_int32_array: out->type = MPI_INT32_T, out->dtype = "int32", out->bytes = 4 * length; break;
  case napi_uint8_array:
  case napi_uint8_clamped_array: out->type = MPI_UINT8_T, out->dtype = "uint8", out->bytes = length; break;
  default:
    snprintf(message, sizeof message,
             "%s must be a Float32Array, Float64Array, Int32Array or Uint8Array, got a %s", name,
             (unsigned)type < sizeof TYPED_ARRAY_NAMES / sizeof *TYPED_ARRAY_NAMES ? TYPED_ARRAY_NAMES[type]
                                                                                   : "typed array");
    throw_type_error(env, message);
    return 0;
  }
  if (length > INT_MAX) {
    snprintf(message, sizeof message, "%s has %zu elements; MPI counts are limited to %d", name, length, INT_MAX);
    throw_error(env, message);
    return 0;
  }
  if (data == NULL && length > 0) {
    snprintf(message, sizeof message, "%s is backed by a detached ArrayBuffer", name);
    throw_type_error(env, message);
    return 0;
  }
  out->data = data;
  out->length = length;
  out->value = value;
  return 1;
}

/* A buffer argument that may be null (MPI_IN_PLACE, or unused on non-root ranks): has->0 when null. */
int get_optional_buffer(napi_env env, napi_value value, const char *name, Buffer *out, int *has) {
  napi_valuetype t;
  napi_typeof(env, value, &t);
  *has = !(t == napi_null || t == napi_undefined);
  return *has ? get_buffer(env, value, name, out) : 1;
}

int get_int(napi_env env, napi_value value, const char *name, int *out) {
  napi_valuetype t;
  double d;
  char message[128];
  napi_typeof(env, value, &t);
  if (t != napi_number || napi_get_value_double(env, value, &d) != napi_ok || d != (double)(int)d) {
    snprintf(message, sizeof message, "%s must be an integer", name);
    throw_type_error(env, message);
    return 0;
  }
  *out = (int)d;
  return 1;
}

int get_rank(napi_env env, napi_value value, const char *name, MPI_Comm comm, int *out) {
  int size = comm_size(comm);
  char message[128];
  if (!get_int(env, value, name, out)) return 0;
  if (*out < 0 || *out >= size) {
    snprintf(message, sizeof message, "%s must be a rank in [0, %d), got %d", name, size, *out);
    throw_error(env, message);
    return 0;
  }
  return 1;
}

/*
 * The reductions, as user-defined MPI ops so that every rank gets the same bits as the reference (ranks combined in
 * rank order, rank 0 first; `min`/`max` propagating NaN as torch.minimum/maximum). MPI calls f(in, inout) with `in`
 * the lower ranks' partial result: inout[i] = in[i] op inout[i]. Integer sums and products wrap (unsigned
 * arithmetic). An op is declared commutative where that cannot change a bit: integer ops always (exact), float
 * sums and products on two ranks (a + b == b + a); otherwise MPI applies it in rank order.
 */
#define REDUCE_LOOP(T, EXPR)                                                                                     \
  do {                                                                                                           \
    const T *a_ = in;                                                                                            \
    T *b_ = inout;                                                                                               \
    for (int i = 0; i < n; i++) {                                                                                \
      T a = a_[i], b = b_[i];                                                                                    \
      b_[i] = (EXPR);                                                                                            \
    }                                                                                                            \
  } while (0)

#define DEFINE_OP(NAME, FLOAT_EXPR, INT_EXPR, U8_EXPR)                                                           \
  static void NAME(void *in, void *inout, int *len, MPI_Datatype *dt) {                                          \
    int n = *len;                                                                                                \
    if (*dt == MPI_FLOAT) REDUCE_LOOP(float, FLOAT_EXPR);                                                        \
    else if (*dt == MPI_DOUBLE) REDUCE_LOOP(double, FLOAT_EXPR);                                                 \
    else if (*dt == MPI_INT32_T) REDUCE_LOOP(int32_t, INT_EXPR);                                                 \
    else REDUCE_LOOP(uint8_t, U8_EXPR);                                                                          \
  }

DEFINE_OP(op_sum, a + b, (int32_t)((uint32_t)a + (uint32_t)b), (uint8_t)(a + b))
DEFINE_OP(op_product, a *b, (int32_t)((uint32_t)a * (uint32_t)b), (uint8_t)(a * b))
DEFINE_OP(op_min, (b < a || b != b) ? b : a, b < a ? b : a, b < a ? b : a)
DEFINE_OP(op_max, (b > a || b != b) ? b : a, b > a ? b : a, b > a ? b : a)

static const char *OP_NAMES[] = {"sum", "product", "min", "max"};
static MPI_User_function *OP_FUNCTIONS[] = {op_sum, op_product, op_min, op_max};
static MPI_Op ops[4][2]; /* [op][commutative] */
static int ops_created = 0;

int create_ops(void) {
  if (ops_created) return MPI_SUCCESS;
  for (int i = 0; i < 4; i++)
    for (int c = 0; c < 2; c++) {
      int rc = MPI_Op_create(OP_FUNCTIONS[i], c, &ops[i][c]);
      if (rc != MPI_SUCCESS) return rc;
    }
  ops_created = 1;
  return MPI_SUCCESS;
}

/* The MPI op for a name and a buffer type; 0 after throwing. */
int get_op(napi_env env, napi_value value, MPI_Datatype type, MPI_Comm comm, MPI_Op *out) {
  char name[16];
  size_t len = 0;
  napi_valuetype t;
  napi_typeof(env, value, &t);
  if (t == napi_string && napi_get_value_string_utf8(env, value, name, sizeof name, &len) == napi_ok) {
    for (int i = 0; i < 4; i++) {
      if (strcmp(name, OP_NAMES[i])) continue;
      int is_float = type == MPI_FLOAT || type == MPI_DOUBLE;
      int commutative = !is_float || (i <= 1 && comm_size(comm) <= 2);
      *out = ops[i][commutative];
      return 1;
    }
  }
  throw_type_error(env, "op must be one of \"sum\", \"product\", \"min\", \"max\"");
  return 0;
}

int same_dtype(napi_env env, const Buffer *a, const Buffer *b) {
  char message[160];
  if (a->type == b->type) return 1;
  snprintf(message, sizeof message, "the send and receive arrays must have one dtype, got %s and %s", a->dtype,
           b->dtype);
  throw_type_error(env, message);
  return 0;
}

/* Exactly `expected` elements, or throw naming both counts. */
int check_length(napi_env env, const Buffer *b, const char *name, size_t expected, const char *why) {
  char message[256];
  if (b->length == expected) return 1;
  snprintf(message, sizeof message, "%s must have %zu elements (%s), got %zu", name, expected, why, b->length);
  throw_error(env, message);
  return 0;
}

/* The two arrays are the same memory (MPI_IN_PLACE), or do not overlap at all. -1 after throwing. */
int in_place(napi_env env, const Buffer *send, const Buffer *recv) {
  const char *s = send->data, *r = recv->data;
  if (s == r && send->bytes == recv->bytes) return 1;
  if (send->bytes == 0 || recv->bytes == 0 || s + send->bytes <= r || r + recv->bytes <= s) return 0;
  throw_error(env, "the send and receive arrays overlap without being the same memory");
  return -1;
}

int comm_size(MPI_Comm comm) {
  int size;
  MPI_Comm_size(comm, &size);
  return size;
}

int comm_rank(MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

/* The two arrays share no memory; 0 after throwing. */
int disjoint(napi_env env, const Buffer *send, const Buffer *recv) {
  const char *s = send->data, *r = recv->data;
  if (send->bytes == 0 || recv->bytes == 0 || s + send->bytes <= r || r + recv->bytes <= s) return 1;
  throw_error(env, "the send and receive arrays must not share memory here");
  return 0;
}
