// portable_math: exp, log and sqrt built only from IEEE-754 basic operations (+, -, *, /,
// integer conversions and bit manipulation), so that a simulation gives bit-identical results
// with every compiler and C library. std::exp and std::log are only required to be "close" to
// the true value and differ in the last bit between libms, which would let two platforms'
// simulated mid paths drift apart.
//
// Invariants: results depend only on the argument; all functions are constexpr and give the same
// value in constant evaluation and at run time, provided floating-point contraction (FMA) is off,
// which the sim module enforces for its users (-ffp-contract=off). Accuracy is a few ulp, not
// correct rounding; the aim is reproducibility, not a better libm.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace quoter::sim::portable {

namespace detail {

// ln 2 split so that n * ln2_hi is exact for |n| <= 2^11: ln2_hi keeps only the top 32
// significant bits of ln 2 (0x3fe62e42fee00000), ln2_lo is the remainder.
inline constexpr double ln2_hi = 6.93147180369123816490e-01;
inline constexpr double ln2_lo = 1.90821492927058770002e-10;
inline constexpr double inv_ln2 = 1.44269504088896338700e+00;
inline constexpr double sqrt2 = 1.41421356237309514547e+00;

/// 2^n as a double for -1022 <= n <= 1023.
constexpr double pow2(std::int64_t n) noexcept {
    return std::bit_cast<double>(static_cast<std::uint64_t>(n + 1023) << 52);
}

} // namespace detail

namespace detail {

// e^x by a degree-13 Taylor series after reduction to |r| <= ln2/2: slow but accurate to about
// one ulp; it only builds the table below at compile time.
constexpr double exp_taylor(double x) noexcept {
    const double scaled = x * inv_ln2;
    const auto n = static_cast<std::int64_t>(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
    const double nd = static_cast<double>(n);
    const double r = (x - nd * ln2_hi) - nd * ln2_lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p * pow2(n);
}

inline constexpr int exp_table_size = 128;

constexpr std::array<double, exp_table_size> make_exp2_fractions() noexcept {
    std::array<double, exp_table_size> table{};
    for (int j = 0; j < exp_table_size; ++j) {
        const double fraction = static_cast<double>(j) / exp_table_size;
        table[j] = exp_taylor(fraction * ln2_hi + fraction * ln2_lo);
    }
    return table;
}

/// 2^(j/128) for j = 0..127.
inline constexpr std::array<double, exp_table_size> exp2_fractions = make_exp2_fractions();

// Adding and subtracting 1.5 * 2^52 rounds a double of magnitude below 2^51 to an integer
// (round half to even), without a branch or a conversion.
inline constexpr double round_shifter = 0x1.8p52;

/// e^r - 1 = r (1 + r/2 + r^2/6 + r^3/24 + r^4/120) for exp()'s reduced argument, grouped in
/// pairs (Estrin's scheme) rather than nested (Horner's): half the dependent multiply-add steps,
/// so less latency on the simulation's critical path, for the same truncation error.
constexpr double expm1_reduced(double r) noexcept {
    const double r2 = r * r;
    return r * ((1.0 + 0.5 * r) + r2 * ((1.0 / 6.0 + (1.0 / 24.0) * r) + r2 * (1.0 / 120.0)));
}

/// e^x by the table (exp() without its shortcut near 0). Table-driven: x = (128 m + j) ln2/128
/// + r with |r| <= ln2/256, e^x = 2^m 2^(j/128) e^r, and a degree-5 polynomial for e^r
/// (truncation error below 6e-19).
constexpr double exp_by_table(double x) noexcept {
    if (x != x) {
        return x;
    }
    if (x > 709.782712893384) {
        return std::numeric_limits<double>::infinity();
    }
    if (x < -745.1332191019412) {
        return 0.0;
    }
    constexpr double scale = exp_table_size * inv_ln2;
    // ln 2 / 128 split like ln 2: dividing by a power of two is exact, and n * hi stays exact
    // for |n| < 2^21, far beyond the 2^18 the range checks allow.
    constexpr double step_hi = ln2_hi / exp_table_size;
    constexpr double step_lo = ln2_lo / exp_table_size;
    const double nd = (x * scale + round_shifter) - round_shifter;
    const auto n = static_cast<std::int64_t>(nd);
    const double r = (x - nd * step_hi) - nd * step_lo;
    const double q = expm1_reduced(r);
    const double t = exp2_fractions[static_cast<std::size_t>(n & (exp_table_size - 1))];
    const double mantissa = t + t * q;
    const std::int64_t m = n >> 7; // floor(n / 128), also for negative n
    if (m >= -1022) {
        return mantissa * pow2(m);
    }
    // Subnormal results: scale in two steps so that neither factor leaves the normal range.
    return mantissa * pow2(m + 600) * pow2(-600);
}

/// Below this magnitude exp_by_table() reduces nothing: x * 128/ln2 stays below 1/2 (0.37 with
/// rounding), so n = 0, r = x exactly (x - 0 * hi - 0 * lo), t = 2^0 = 1 and the scale is
/// 2^0, and its result is 1 + expm1_reduced(x), bit for bit.
inline constexpr double exp_unreduced_limit = 0x1p-9;

static_assert(exp2_fractions[0] == 1.0);
static_assert(exp_unreduced_limit * exp_table_size * inv_ln2 < 0.375);

} // namespace detail

/// e^x, within a few ulp. Overflows to +inf above ~709.78, underflows to 0 below ~-745.13; NaN
/// stays NaN.
[[nodiscard]] constexpr double exp(double x) noexcept {
    // The log-return of a simulation step is this small: the same value as the table's without
    // the range checks, the reduction and the table.
    if (x > -detail::exp_unreduced_limit && x < detail::exp_unreduced_limit) {
        return 1.0 + detail::expm1_reduced(x);
    }
    return detail::exp_by_table(x);
}

/// Natural logarithm. log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf.
[[nodiscard]] constexpr double log(double x) noexcept {
    if (x != x || x < 0) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    if (x == 0) {
        return -std::numeric_limits<double>::infinity();
    }
    if (x == std::numeric_limits<double>::infinity()) {
        return x;
    }
    std::int64_t exponent = 0;
    if (x < std::numeric_limits<double>::min()) {
        x *= 18014398509481984.0; // 2^54 lifts a subnormal into the normal range
        exponent = -54;
    }
    const auto bits = std::bit_cast<std::uint64_t>(x);
    exponent += static_cast<std::int64_t>((bits >> 52) & 0x7ff) - 1023;
    // Mantissa in [1, 2), then folded into (sqrt(2)/2, sqrt(2)] so that |f| below stays small.
    double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
    if (m > detail::sqrt2) {
        m *= 0.5;
        ++exponent;
    }
    // log(m) = 2 atanh(f) with f = (m - 1) / (m + 1), |f| <= 0.1716; m - 1 is exact.
    const double f = (m - 1.0) / (m + 1.0);
    const double s = f * f;
    double p = 1.0 / 21.0;
    p = p * s + 1.0 / 19.0;
    p = p * s + 1.0 / 17.0;
    p = p * s + 1.0 / 15.0;
    p = p * s + 1.0 / 13.0;
    p = p * s + 1.0 / 11.0;
    p = p * s + 1.0 / 9.0;
    p = p * s + 1.0 / 7.0;
    p = p * s + 1.0 / 5.0;
    p = p * s + 1.0 / 3.0;
    const double log_m = 2.0 * f + 2.0 * f * s * p;
    const double e = static_cast<double>(exponent);
    return e * detail::ln2_hi + (log_m + e * detail::ln2_lo);
}

/// Square root for constant evaluation (Newton's iteration; within one ulp). At run time
/// std::sqrt is already bit-exact everywhere, since IEEE 754 requires it to be correctly rounded.
[[nodiscard]] constexpr double sqrt(double x) noexcept {
    if (x != x || x < 0) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    if (x == 0 || x == std::numeric_limits<double>::infinity()) {
        return x;
    }
    // Start from the exponent halved, then Newton steps double the correct digits each time.
    const auto bits = std::bit_cast<std::uint64_t>(x);
    double y = std::bit_cast<double>((bits >> 1) + (0x3ffULL << 51));
    for (int i = 0; i < 8; ++i) {
        y = 0.5 * (y + x / y);
    }
    return y;
}

} // namespace quoter::sim::portable
