/**
 * A small WGSL math library with the semantics the protocol asks for. WGSL's built-in transcendental functions
 * have loose accuracy (sin may be off by 2^-11 absolute) and leave NaN/infinity behaviour undefined; on
 * SwiftShader log(0) is finite and `x != x` is false for NaN. So every float helper here tests NaN and infinity
 * by bit pattern and computes exp/log/sin/cos/tan/tanh/atan/erf with Cephes-style single-precision polynomials
 * (a few ulp). Integer helpers give 0 on division by zero, as the CPU backend does.
 *
 * Helpers are named `*_f` / `*_i`; `withMath(code)` prepends exactly the helpers `code` calls (transitively).
 */

const FN: Record<string, string> = {
  consts_f: `var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;`,
  nan_f: "fn nan_f() -> f32 { return bitcast<f32>(NAN_BITS); }",
  inf_f: "fn inf_f() -> f32 { return bitcast<f32>(INF_BITS); }",
  isnan_f: "fn isnan_f(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }",
  isinf_f: "fn isinf_f(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }",
  isfin_f: "fn isfin_f(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }",
  neg_f: "fn neg_f(x: f32) -> bool { return x < 0.0 && !isnan_f(x); }",
  signbit_f: "fn signbit_f(x: f32) -> bool { return (bitcast<u32>(x) & 0x80000000u) != 0u; }",
  // nonzero, NaN counts as nonzero (PyTorch's truth value)
  nz_f: "fn nz_f(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) != 0u; }",
  copysign_f:
    "fn copysign_f(x: f32, s: f32) -> f32 { return bitcast<f32>((bitcast<u32>(x) & 0x7fffffffu) | (bitcast<u32>(s) & 0x80000000u)); }",
  fabs_f: "fn fabs_f(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) & 0x7fffffffu); }",
  eq_f: "fn eq_f(a: f32, b: f32) -> bool { return !isnan_f(a) && !isnan_f(b) && a == b; }",
  lt_f: "fn lt_f(a: f32, b: f32) -> bool { return !isnan_f(a) && !isnan_f(b) && a < b; }",
  le_f: "fn le_f(a: f32, b: f32) -> bool { return !isnan_f(a) && !isnan_f(b) && a <= b; }",
  fmax_f: `fn fmax_f(a: f32, b: f32) -> f32 {
  if (isnan_f(a) || isnan_f(b)) { return nan_f(); }
  return select(b, a, a > b);
}`,
  fmin_f: `fn fmin_f(a: f32, b: f32) -> f32 {
  if (isnan_f(a) || isnan_f(b)) { return nan_f(); }
  return select(b, a, a < b);
}`,
  f2i_f: `fn f2i_f(x: f32) -> i32 {
  if (isnan_f(x)) { return 0i; }
  if (x >= 2147483648.0) { return 2147483647i; }
  if (x <= -2147483648.0) { return -2147483647i - 1i; }
  return i32(x);
}`,
  // float to a narrow integer (uint8, int8, int16; the caller keeps the low bits) as x86 PyTorch converts, through
  // int32: out of its range (NaN and infinities included) is INT32_MIN, whose low 16 bits are 0
  f2w_f: `fn f2w_f(x: f32) -> i32 {
  if (!isfin_f(x) || fabs_f(x) >= 2147483648.0) { return 0i; }
  return i32(x);
}`,
  // integral float ops pass NaN and infinities through
  floor_f: "fn floor_f(x: f32) -> f32 { if (!isfin_f(x)) { return x; } return floor(x); }",
  ceil_f: "fn ceil_f(x: f32) -> f32 { if (!isfin_f(x)) { return x; } return ceil(x); }",
  trunc_f: "fn trunc_f(x: f32) -> f32 { if (!isfin_f(x)) { return x; } return trunc(x); }",
  // WGSL's round() is half-to-even, as torch.round
  round_f: "fn round_f(x: f32) -> f32 { if (!isfin_f(x)) { return x; } return round(x); }",
  sqrt_f: `fn sqrt_f(x: f32) -> f32 {
  if (isnan_f(x) || x < 0.0) { return nan_f(); }
  if (isinf_f(x)) { return x; }
  return sqrt(x);
}`,
  // y * 2^n for n in [-252, 254] without relying on ldexp's range
  scale2_f: `fn scale2_f(y: f32, n: i32) -> f32 {
  let h = n / 2;
  return y * bitcast<f32>(u32(h + 127) << 23u) * bitcast<f32>(u32(n - h + 127) << 23u);
}`,
  exp_f: `fn exp_f(x: f32) -> f32 {
  if (isnan_f(x)) { return x; }
  if (x > 88.72284) { return inf_f(); }
  if (x < -103.97208) { return 0.0; }
  let n = floor(x * 1.44269504088896341 + 0.5);
  let r = (x - n * 0.693359375) + n * 2.12194440e-4;
  let z = r * r;
  let p = ((((1.9875691500e-4 * r + 1.3981999507e-3) * r + 8.3334519073e-3) * r + 4.1665795894e-2) * r
    + 1.6666665459e-1) * r + 5.0000001201e-1;
  return scale2_f(p * z + r + 1.0, i32(n));
}`,
  exp2_f: `fn exp2_f(y: f32) -> f32 {
  if (isnan_f(y)) { return y; }
  if (y >= 128.0) { return inf_f(); }
  if (y < -150.0) { return 0.0; }
  let n = round(y);
  return scale2_f(exp_f((y - n) * 0.69314718055994531), i32(n));
}`,
  expm1_f: `fn expm1_f(x: f32) -> f32 {
  if (fabs_f(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (1.6666666666666667e-1 + x * (4.1666666666666667e-2 + x * (8.3333333333333333e-3
      + x * (1.3888888888888889e-3 + x * (1.9841269841269841e-4 + x * (2.4801587301587302e-5 + x * 2.7557319223985891e-6))))))));
  }
  return exp_f(x) - 1.0;
}`,
  // finite x > 0 as (m - 1 part, polynomial part, exponent) with x = m * 2^e, m in [sqrt(1/2), sqrt(2)) (Cephes logf)
  logm_f: `fn logm_f(x0: f32) -> vec3<f32> {
  var bits = bitcast<u32>(x0);
  var e = i32((bits >> 23u) & 0xffu);
  if (e == 0) {
    bits = bitcast<u32>(x0 * 8388608.0);
    e = i32((bits >> 23u) & 0xffu) - 23;
  }
  let m = bitcast<f32>((bits & 0x007fffffu) | 0x3f000000u);
  e = e - 126;
  var x = m - 1.0;
  if (m < 0.70710678118654752) {
    e = e - 1;
    x = m + m - 1.0;
  }
  let z = x * x;
  var y = ((((((((7.0376836292e-2 * x - 1.1514610310e-1) * x + 1.1676998740e-1) * x - 1.2420140846e-1) * x
    + 1.4249322787e-1) * x - 1.6668057665e-1) * x + 2.0000714765e-1) * x - 2.4999993993e-1) * x
    + 3.3333331174e-1) * x * z;
  y = y - 0.5 * z;
  return vec3<f32>(x, y, f32(e));
}`,
  logspecial_f: `fn logspecial_f(x: f32) -> f32 {
  if (isnan_f(x) || x < 0.0) { return nan_f(); }
  if (x == 0.0) { return -inf_f(); }
  return x;
}`,
  log_f: `fn log_f(x: f32) -> f32 {
  if (!isfin_f(x) || x <= 0.0) { return logspecial_f(x); }
  let p = logm_f(x);
  return (p.x + (p.y - 2.12194440e-4 * p.z)) + 0.693359375 * p.z;
}`,
  log2_f: `fn log2_f(x: f32) -> f32 {
  if (!isfin_f(x) || x <= 0.0) { return logspecial_f(x); }
  let p = logm_f(x);
  return (p.x + p.y) * 1.44269504088896341 + p.z;
}`,
  log1p_f: `fn log1p_f(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  let l = log_f(u);
  if (!isfin_f(l)) { return l; }
  return l * (x / (u - 1.0));
}`,
  // sin and cos on [-pi/4, pi/4] (Cephes sinf/cosf)
  sinpoly_f: `fn sinpoly_f(r: f32) -> f32 {
  let z = r * r;
  return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
}`,
  cospoly_f: `fn cospoly_f(r: f32) -> f32 {
  let z = r * r;
  return ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
}`,
  // octant reduction of |x| (Cody-Waite, accurate for |x| below ~8e3): (reduced, octant)
  octant_f: `fn octant_f(ax: f32) -> vec2<f32> {
  var j = u32(ax * 1.27323954473516);
  var y = f32(j);
  if ((j & 1u) == 1u) {
    j = j + 1u;
    y = y + 1.0;
  }
  let r = ((ax - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  return vec2<f32>(r, f32(j & 7u));
}`,
  sin_f: `fn sin_f(x: f32) -> f32 {
  if (!isfin_f(x)) { return nan_f(); }
  let o = octant_f(fabs_f(x));
  var j = u32(o.y);
  var s = select(1.0, -1.0, signbit_f(x));
  if (j > 3u) {
    s = -s;
    j = j - 4u;
  }
  let v = select(sinpoly_f(o.x), cospoly_f(o.x), j == 1u || j == 2u);
  return s * v;
}`,
  cos_f: `fn cos_f(x: f32) -> f32 {
  if (!isfin_f(x)) { return nan_f(); }
  let o = octant_f(fabs_f(x));
  var j = u32(o.y);
  var s = 1.0;
  if (j > 3u) {
    s = -s;
    j = j - 4u;
  }
  if (j > 1u) { s = -s; }
  let v = select(cospoly_f(o.x), sinpoly_f(o.x), j == 1u || j == 2u);
  return s * v;
}`,
  tan_f: `fn tan_f(x: f32) -> f32 {
  if (!isfin_f(x)) { return nan_f(); }
  let ax = fabs_f(x);
  let o = octant_f(ax);
  let z = o.x;
  let zz = z * z;
  var r = z;
  if (ax > 1.0e-4) {
    r = (((((9.38540185543e-3 * zz + 3.11992232697e-3) * zz + 2.44301354525e-2) * zz + 5.34112807005e-2) * zz
      + 1.33387994085e-1) * zz + 3.33331568548e-1) * zz * z + z;
  }
  if ((u32(o.y) & 2u) != 0u) { r = -1.0 / r; }
  return copysign_f(1.0, x) * r;
}`,
  // cos(2*pi*u) with the reduction done exactly on u (Box-Muller)
  cos2pi_f: `fn cos2pi_f(u: f32) -> f32 {
  let t = u - round(u);
  let q = round(4.0 * t);
  let a = (t - 0.25 * q) * 6.28318530717958648;
  let k = (i32(q) + 4) & 3;
  if (k == 0) { return cospoly_f(a); }
  if (k == 1) { return -sinpoly_f(a); }
  if (k == 2) { return -cospoly_f(a); }
  return sinpoly_f(a);
}`,
  tanh_f: `fn tanh_f(x: f32) -> f32 {
  if (isnan_f(x)) { return x; }
  let ax = fabs_f(x);
  if (ax > 9.0) { return copysign_f(1.0, x); }
  if (ax > 0.625) { return copysign_f(1.0 - 2.0 / (exp_f(2.0 * ax) + 1.0), x); }
  if (ax < 1.0e-5) { return x; }
  let s = x * x;
  return ((((-5.70498872745e-3 * s + 2.06390887954e-2) * s - 5.37397155531e-2) * s + 1.33314422036e-1) * s
    - 3.33332819422e-1) * s * x + x;
}`,
  sigmoid_f: `fn sigmoid_f(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp_f(-x)); }
  let e = exp_f(x);
  return e / (1.0 + e);
}`,
  atan_f: `fn atan_f(x0: f32) -> f32 {
  if (isnan_f(x0)) { return x0; }
  var x = fabs_f(x0);
  var y = 0.0;
  if (x > 2.414213562373095) {
    y = 1.5707963267948966;
    x = -1.0 / x;
  } else if (x > 0.4142135623730950) {
    y = 0.7853981633974483;
    x = (x - 1.0) / (x + 1.0);
  }
  let z = x * x;
  y = y + ((((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * x + x);
  return copysign_f(y, x0);
}`,
  atan2_f: `fn atan2_f(y: f32, x: f32) -> f32 {
  let pi = 3.14159265358979324;
  if (isnan_f(x) || isnan_f(y)) { return nan_f(); }
  if (!nz_f(y)) { return select(y, copysign_f(pi, y), signbit_f(x)); }
  if (!nz_f(x)) { return copysign_f(0.5 * pi, y); }
  if (isinf_f(x)) {
    if (isinf_f(y)) { return copysign_f(select(0.25 * pi, 0.75 * pi, x < 0.0), y); }
    return copysign_f(select(0.0, pi, x < 0.0), y);
  }
  if (isinf_f(y)) { return copysign_f(0.5 * pi, y); }
  let a = atan_f(y / x);
  if (x > 0.0) { return a; }
  return a + copysign_f(pi, y);
}`,
  // inverse trigonometric and hyperbolic functions from atan2/exp/expm1/log1p, with their special values
  asin_f: `fn asin_f(x: f32) -> f32 {
  if (isnan_f(x) || fabs_f(x) > 1.0) { return nan_f(); }
  return atan2_f(x, sqrt((1.0 - x) * (1.0 + x)));
}`,
  acos_f: `fn acos_f(x: f32) -> f32 {
  if (isnan_f(x) || fabs_f(x) > 1.0) { return nan_f(); }
  return atan2_f(sqrt((1.0 - x) * (1.0 + x)), x);
}`,
  sinh_f: `fn sinh_f(x: f32) -> f32 {
  if (isnan_f(x)) { return x; }
  let ax = fabs_f(x);
  if (ax > 88.0) { return copysign_f(exp_f(ax - 0.69314718055994531), x); }
  let e = expm1_f(ax);
  return copysign_f(0.5 * (e + e / (e + 1.0)), x);
}`,
  cosh_f: `fn cosh_f(x: f32) -> f32 {
  if (isnan_f(x)) { return x; }
  let ax = fabs_f(x);
  if (ax > 88.0) { return exp_f(ax - 0.69314718055994531); }
  let e = exp_f(ax);
  return 0.5 * e + 0.5 / e;
}`,
  asinh_f: `fn asinh_f(x: f32) -> f32 {
  if (isnan_f(x) || isinf_f(x)) { return x; }
  let ax = fabs_f(x);
  if (ax > 1.0e18) { return copysign_f(log_f(ax) + 0.69314718055994531, x); }
  let z = ax * ax;
  return copysign_f(log1p_f(ax + z / (1.0 + sqrt(1.0 + z))), x);
}`,
  acosh_f: `fn acosh_f(x: f32) -> f32 {
  if (isnan_f(x) || x < 1.0) { return nan_f(); }
  if (isinf_f(x)) { return x; }
  if (x > 1.0e18) { return log_f(x) + 0.69314718055994531; }
  let t = x - 1.0;
  return log1p_f(t + sqrt(t * (x + 1.0)));
}`,
  atanh_f: `fn atanh_f(x: f32) -> f32 {
  if (isnan_f(x)) { return x; }
  let ax = fabs_f(x);
  if (ax > 1.0) { return nan_f(); }
  if (ax == 1.0) { return copysign_f(inf_f(), x); }
  return copysign_f(0.5 * log1p_f(2.0 * ax / (1.0 - ax)), x);
}`,
  log10_f: `fn log10_f(x: f32) -> f32 {
  if (!isfin_f(x) || x <= 0.0) { return logspecial_f(x); }
  let p = logm_f(x);
  return ((p.x + p.y) * 1.44269504088896341 + p.z) * 0.30102999566398120;
}`,
  // Giles' single-precision approximation ("Approximating the erfinv function", 2010): ±inf at ±1, NaN beyond
  erfinv_f: `fn erfinv_f(x: f32) -> f32 {
  if (isnan_f(x)) { return x; }
  let ax = fabs_f(x);
  if (ax > 1.0) { return nan_f(); }
  if (ax == 1.0) { return copysign_f(inf_f(), x); }
  if (ax == 0.0) { return x; }
  var w = -log_f((1.0 - ax) * (1.0 + ax));
  var p: f32;
  if (w < 5.0) {
    w = w - 2.5;
    p = 2.81022636e-8;
    p = 3.43273939e-7 + p * w;
    p = -3.5233877e-6 + p * w;
    p = -4.39150654e-6 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  return p * x;
}`,
  // C's hypot: inf if either side is ±inf (even against NaN), scaled so that no square overflows
  hypot_f: `fn hypot_f(a: f32, b: f32) -> f32 {
  if (isinf_f(a) || isinf_f(b)) { return inf_f(); }
  if (isnan_f(a) || isnan_f(b)) { return nan_f(); }
  let x = fabs_f(a);
  let y = fabs_f(b);
  let m = max(x, y);
  if (m == 0.0) { return 0.0; }
  let r = min(x, y) / m;
  return m * sqrt(1.0 + r * r);
}`,
  // series below 1, Abramowitz-Stegun 7.1.26 (abs. error 1.5e-7) above
  erf_f: `fn erf_f(x: f32) -> f32 {
  if (isnan_f(x)) { return x; }
  let ax = fabs_f(x);
  if (ax < 1.0) {
    let z = x * x;
    var p = -1.0 / (39916800.0 * 23.0);
    p = p * z + 1.0 / (3628800.0 * 21.0);
    p = p * z - 1.0 / (362880.0 * 19.0);
    p = p * z + 1.0 / (40320.0 * 17.0);
    p = p * z - 1.0 / (5040.0 * 15.0);
    p = p * z + 1.0 / (720.0 * 13.0);
    p = p * z - 1.0 / (120.0 * 11.0);
    p = p * z + 1.0 / (24.0 * 9.0);
    p = p * z - 1.0 / (6.0 * 7.0);
    p = p * z + 1.0 / (2.0 * 5.0);
    p = p * z - 1.0 / 3.0;
    p = p * z + 1.0;
    return x * p * 1.1283791670955126;
  }
  if (ax >= 4.0) { return copysign_f(1.0, x); }
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let q = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return copysign_f(1.0 - q * exp_f(-ax * ax), x);
}`,
  // C pow (pow(1, y) = 1, pow(-1, +-inf) = 1, pow(x, 0) = 1), exact by squaring for small integer exponents
  pow_f: `fn pow_f(a: f32, b: f32) -> f32 {
  if (a == 1.0 || !nz_f(b)) { return 1.0; }
  if (isnan_f(a) || isnan_f(b)) { return nan_f(); }
  let aa = fabs_f(a);
  if (isinf_f(b)) {
    if (aa == 1.0) { return 1.0; }
    return select(0.0, inf_f(), (aa > 1.0) == (b > 0.0));
  }
  let isint = floor(b) == b;
  let odd = isint && fabs_f(b) < 16777216.0 && (i32(b) & 1i) == 1i;
  if (!nz_f(a)) {
    if (b > 0.0) { return select(0.0, a, odd); }
    return select(inf_f(), copysign_f(inf_f(), a), odd);
  }
  if (isinf_f(a)) {
    let m = select(0.0, inf_f(), b > 0.0);
    return select(m, -m, a < 0.0 && odd);
  }
  if (a < 0.0 && !isint) { return nan_f(); }
  var r: f32;
  if (isint && fabs_f(b) <= 64.0) {
    var e = u32(fabs_f(b));
    var base = aa;
    r = 1.0;
    loop {
      if ((e & 1u) != 0u) { r = r * base; }
      e = e >> 1u;
      if (e == 0u) { break; }
      base = base * base;
    }
    if (b < 0.0) { r = 1.0 / r; }
  } else {
    r = exp2_f(b * log2_f(aa));
  }
  return select(r, -r, a < 0.0 && odd);
}`,
  // exact fmod by binary long division (sign of the dividend)
  fmod_f: `fn fmod_f(a: f32, b: f32) -> f32 {
  if (!isfin_f(a) || isnan_f(b) || !nz_f(b)) { return nan_f(); }
  if (isinf_f(b)) { return a; }
  let d = fabs_f(b);
  var r = fabs_f(a);
  if (r < d) { return a; }
  let ea = i32((bitcast<u32>(r) >> 23u) & 0xffu);
  let eb = i32((bitcast<u32>(d) >> 23u) & 0xffu);
  var t = scale2_f(d, ea - eb);
  if (t > r) { t = t * 0.5; }
  loop {
    if (r >= t) { r = r - t; }
    if (t <= d) { break; }
    t = t * 0.5;
  }
  return copysign_f(r, a);
}`,
  // Python remainder (sign of the divisor)
  rem_f: `fn rem_f(a: f32, b: f32) -> f32 {
  let m = fmod_f(a, b);
  if (nz_f(m) && (b < 0.0) != (m < 0.0)) { return m + b; }
  return m;
}`,
  // PyTorch's div_floor_floating
  fdiv_f: `fn fdiv_f(a: f32, b: f32) -> f32 {
  if (!nz_f(b)) { return a / b; }
  let m = fmod_f(a, b);
  var q = (a - m) / b;
  if (nz_f(m) && (b < 0.0) != (m < 0.0)) { q = q - 1.0; }
  if (!nz_f(q)) { return copysign_f(0.0, a / b); }
  var fl = floor_f(q);
  if (q - fl > 0.5) { fl = fl + 1.0; }
  return fl;
}`,
  div_i: "fn div_i(a: i32, b: i32) -> i32 { if (b == 0i) { return 0i; } return a / b; }",
  fmod_i: "fn fmod_i(a: i32, b: i32) -> i32 { if (b == 0i) { return 0i; } return a % b; }",
  rem_i: `fn rem_i(a: i32, b: i32) -> i32 {
  if (b == 0i) { return 0i; }
  let m = a % b;
  if (m != 0i && ((m < 0i) != (b < 0i))) { return m + b; }
  return m;
}`,
  fdiv_i: `fn fdiv_i(a: i32, b: i32) -> i32 {
  if (b == 0i) { return 0i; }
  let q = a / b;
  if ((a % b) != 0i && ((a < 0i) != (b < 0i))) { return q - 1i; }
  return q;
}`,
  pow_i: `fn pow_i(a: i32, b: i32) -> i32 {
  if (b < 0i) {
    if (a == 1i) { return 1i; }
    if (a == -1i) { return select(1i, -1i, (b & 1i) != 0i); }
    return 0i;
  }
  var r = 1i;
  var base = a;
  var e = u32(b);
  loop {
    if (e == 0u) { break; }
    if ((e & 1u) != 0u) { r = r * base; }
    base = base * base;
    e = e >> 1u;
  }
  return r;
}`,
  // the core's counter-based RNG (random.ts): lowbias32, randomBits, 24-bit uniform, Box-Muller normal
  hash32_i: `fn hash32_i(x0: u32) -> u32 {
  var x = x0;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}`,
  uniform_i: `fn uniform_i(key: u32, index: u32) -> f32 {
  let bits = hash32_i((hash32_i(index ^ key) + 0x9e3779b9u) ^ (key >> 1u));
  return f32(bits >> 8u) * 5.9604644775390625e-8;
}`,
  normal_i: `fn normal_i(key: u32, index: u32) -> f32 {
  let u1 = 1.0 - uniform_i(key, index);
  let u2 = uniform_i(key ^ 0x5bd1e995u, index);
  return sqrt_f(-2.0 * log_f(u1)) * cos2pi_f(u2);
}`,
};

const NAME = /\b([a-z0-9]+_[fi])\(/g;

function deps(code: string): string[] {
  const out = new Set<string>();
  for (const m of code.matchAll(NAME)) if (m[1] in FN) out.add(m[1]);
  return [...out];
}

const depCache = new Map<string, string[]>();

/** `code` preceded by the math helpers it uses, each once, dependencies first. */
export function withMath(code: string): string {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    let ds = depCache.get(name);
    if (!ds) {
      ds = deps(FN[name]).filter((d) => d !== name);
      depCache.set(name, ds);
    }
    for (const d of ds) visit(d);
    order.push(name);
  };
  for (const d of deps(code)) visit(d);
  if (order.length === 0) return code;
  return [FN.consts_f, ...order.map((n) => FN[n]), code].join("\n");
}
