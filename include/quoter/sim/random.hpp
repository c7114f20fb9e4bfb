// Random numbers for simulations: a fast generator and samplers whose output is the same on every
// platform for a given seed.
//
// Generator: xoshiro256** (Blackman and Vigna, 2018): 256 bits of state, period 2^256 - 1, passes
// BigCrush and PractRand, about one nanosecond per 64-bit output. The 64-bit seed is expanded into
// the four state words with splitmix64, as the authors recommend, so similar seeds still give
// unrelated streams and the all-zero state cannot occur.
//
// Samplers: uniform doubles from the top 53 bits; standard normals with a 256-layer ziggurat
// (Marsaglia and Tsang, 2000) whose tables are computed at compile time with portable_math;
// exponentials with the same kind of ziggurat. std::normal_distribution and friends are avoided
// on purpose: their algorithms, and therefore their output sequences, are implementation-defined.
#pragma once

#include "quoter/sim/portable_math.hpp"

#include <array>
#include <cstdint>
#include <limits>

namespace quoter::sim {

/// splitmix64's output function: a bijective 64-bit mixer (finalizer of Steele, Lea and Flood).
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// splitmix64 step: advances state by the golden-ratio increment and returns the mixed value.
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    state += 0x9e3779b97f4a7c15ULL;
    return mix64(state);
}

/// Seed of path `path_index` in a multi-path run: the (path_index + 1)-th output of a splitmix64
/// stream started at base_seed. Deterministic, cheap, and distinct paths get unrelated seeds.
[[nodiscard]] constexpr std::uint64_t derive_path_seed(std::uint64_t base_seed,
                                                       std::uint64_t path_index) noexcept {
    return mix64(base_seed + (path_index + 1) * 0x9e3779b97f4a7c15ULL);
}

namespace detail {

// Ziggurat for the unnormalised density f(x) = exp(-x^2/2), x >= 0, in 256 layers of equal area
// v. Layer i (0..255) is the rectangle [0, x[i]] x [f(x[i]), f(x[i+1])]; x[1] = r is where the
// tail starts, x[256] = 0, and the base layer's width x[0] = v / f(r) makes its rectangle plus the
// tail beyond r have area v too. r and v solve the recursion x[i+1] = f^-1(f(x[i]) + v / x[i])
// with the top layer ending exactly at x = 0 (solved to 25 digits in extended precision).
inline constexpr int ziggurat_layers = 256;
inline constexpr double ziggurat_r = 3.6541528853610088;
inline constexpr double ziggurat_v = 0.004928673233974655;

struct ziggurat_tables {
    std::array<double, ziggurat_layers + 1> x{};
    std::array<double, ziggurat_layers + 1> f{};
};

constexpr ziggurat_tables make_normal_ziggurat() noexcept {
    ziggurat_tables t;
    const double f_r = portable::exp(-0.5 * ziggurat_r * ziggurat_r);
    t.x[0] = ziggurat_v / f_r;
    t.x[1] = ziggurat_r;
    for (int i = 1; i < ziggurat_layers - 1; ++i) {
        const double fx = portable::exp(-0.5 * t.x[i] * t.x[i]);
        const double y = fx + ziggurat_v / t.x[i];
        t.x[i + 1] = y < 1.0 ? portable::sqrt(-2.0 * portable::log(y)) : 0.0;
    }
    t.x[ziggurat_layers] = 0.0;
    for (int i = 0; i <= ziggurat_layers; ++i) {
        t.f[i] = portable::exp(-0.5 * t.x[i] * t.x[i]);
    }
    t.f[0] = 0.0; // the base layer reaches down to the axis
    return t;
}

inline constexpr ziggurat_tables normal_ziggurat = make_normal_ziggurat();

// The same construction for f(x) = exp(-x), x >= 0, whose tail beyond r has area e^-r, so
// v = (r + 1) e^-r (r solved like the normal one).
inline constexpr double exponential_ziggurat_r = 7.697117470131049714;
inline constexpr double exponential_ziggurat_v = 0.003949659822581557220;

constexpr ziggurat_tables make_exponential_ziggurat() noexcept {
    ziggurat_tables t;
    const double r = exponential_ziggurat_r;
    const double v = exponential_ziggurat_v;
    t.x[0] = v / portable::exp(-r);
    t.x[1] = r;
    for (int i = 1; i < ziggurat_layers - 1; ++i) {
        const double y = portable::exp(-t.x[i]) + v / t.x[i];
        t.x[i + 1] = y < 1.0 ? -portable::log(y) : 0.0;
    }
    t.x[ziggurat_layers] = 0.0;
    for (int i = 0; i <= ziggurat_layers; ++i) {
        t.f[i] = portable::exp(-t.x[i]);
    }
    t.f[0] = 0.0;
    return t;
}

inline constexpr ziggurat_tables exponential_ziggurat = make_exponential_ziggurat();

} // namespace detail

/// xoshiro256** with samplers. Trivially copyable (32 bytes); one instance per thread or path.
/// Satisfies UniformRandomBitGenerator, so it also works with std::shuffle and similar.
class random_engine {
public:
    using result_type = std::uint64_t;

    constexpr random_engine() noexcept : random_engine(0) {}
    constexpr explicit random_engine(std::uint64_t seed) noexcept { reseed(seed); }

    /// Restarts the stream: the same seed always gives the same sequence.
    constexpr void reseed(std::uint64_t seed) noexcept {
        std::uint64_t sm = seed;
        for (auto& word : s_) {
            word = splitmix64(sm);
        }
    }

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

    /// Next 64 uniformly distributed bits.
    constexpr result_type operator()() noexcept { return next(); }

    constexpr std::uint64_t next() noexcept { return advance(s_); }

    /// Uniform on [0, 1) with 53 random bits (every multiple of 2^-53 equally likely).
    constexpr double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    /// Uniform on (0, 1]: safe to take the logarithm of.
    constexpr double uniform_open_zero() noexcept {
        return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53;
    }

    /// A fair coin flip from the top bit (the best-mixed bit of xoshiro256**).
    constexpr bool coin() noexcept { return (next() >> 63) != 0; }

    /// Standard normal N(0, 1). One 64-bit draw and one multiply in about 99% of calls.
    constexpr double normal() noexcept {
        const auto& z = detail::normal_ziggurat;
        const std::uint64_t bits = next();
        const auto layer = static_cast<unsigned>(bits & 0xff);
        const double x = normal_candidate(bits) * z.x[layer];
        if (abs(x) < z.x[layer + 1]) {
            return x; // inside the rectangle that lies entirely under the curve
        }
        return normal_beyond_rectangle(bits);
    }

    /// Exponential with rate 1 (mean 1). One 64-bit draw and one multiply in about 99% of calls.
    constexpr double exponential() noexcept {
        const std::uint64_t bits = next();
        const double x = exponential_candidate(bits);
        return inside_exponential_rectangle(bits, x) ? x : exponential_beyond_rectangle(bits);
    }

    /// exponential() twice, the same two numbers: the state stays in registers in between and
    /// is written back once, unless the first draw needs its rare path.
    constexpr std::array<double, 2> exponential_pair() noexcept {
        state s = s_;
        const std::uint64_t first_bits = advance(s);
        double first = exponential_candidate(first_bits);
        if (!inside_exponential_rectangle(first_bits, first)) [[unlikely]] {
            s_ = s;
            first = exponential_beyond_rectangle(first_bits);
            s = s_;
        }
        const std::uint64_t second_bits = advance(s);
        s_ = s;
        const double second = exponential_candidate(second_bits);
        return {first, inside_exponential_rectangle(second_bits, second)
                           ? second
                           : exponential_beyond_rectangle(second_bits)};
    }

private:
    using state = std::array<std::uint64_t, 4>;

    /// xoshiro256**: the output of state s, which then moves to the next state.
    static constexpr std::uint64_t advance(state& s) noexcept {
        const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
        const std::uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }

    /// The exponential ziggurat's candidate from a draw: its layer's width times a uniform.
    static constexpr double exponential_candidate(std::uint64_t bits) noexcept {
        const auto layer = static_cast<unsigned>(bits & 0xff);
        return static_cast<double>(bits >> 11) * 0x1.0p-53 * detail::exponential_ziggurat.x[layer];
    }
    /// Whether the candidate lies in its layer's rectangle under the curve (accepted as is).
    static constexpr bool inside_exponential_rectangle(std::uint64_t bits, double x) noexcept {
        return x < detail::exponential_ziggurat.x[(bits & 0xff) + 1];
    }

    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
        return (x << k) | (x >> (64 - k));
    }
    // |x| by clearing the sign bit (one instruction; a comparison and select is four), and
    // usable in constant evaluation, which std::abs is not before C++23.
    static constexpr double abs(double x) noexcept { return __builtin_fabs(x); }

    /// The top 53 bits as a signed value give u in [-1, 1); bits 0..7 choose the layer and
    /// bits 8..10 are unused, so the two are independent.
    static constexpr double normal_candidate(std::uint64_t bits) noexcept {
        return static_cast<double>(static_cast<std::int64_t>(bits) >> 11) * 0x1.0p-52;
    }

    // The ziggurat's rare paths (about 1% of draws), out of line so that the hot callers do not
    // carry their constants and registers. Each goes on from the draw `bits` that fell outside
    // its layer's rectangle, exactly as a loop around the whole draw would.

    [[gnu::noinline]] constexpr double normal_beyond_rectangle(std::uint64_t bits) noexcept {
        const auto& z = detail::normal_ziggurat;
        for (;;) {
            const auto layer = static_cast<unsigned>(bits & 0xff);
            const double u = normal_candidate(bits);
            const double x = u * z.x[layer];
            if (abs(x) < z.x[layer + 1]) {
                return x;
            }
            if (layer == 0) {
                const double tail = sample_normal_tail();
                return u < 0 ? -tail : tail;
            }
            // Wedge between the inner rectangle and the curve: accept under the density.
            const double y = z.f[layer] + uniform() * (z.f[layer + 1] - z.f[layer]);
            if (y < portable::exp(-0.5 * x * x)) {
                return x;
            }
            bits = next();
        }
    }

    [[gnu::noinline]] constexpr double exponential_beyond_rectangle(std::uint64_t bits) noexcept {
        const auto& z = detail::exponential_ziggurat;
        double offset = 0.0;
        for (;;) {
            const auto layer = static_cast<unsigned>(bits & 0xff);
            const double x = static_cast<double>(bits >> 11) * 0x1.0p-53 * z.x[layer];
            if (x < z.x[layer + 1]) {
                return offset + x;
            }
            if (layer == 0) {
                // Memorylessness: beyond r the density is again exponential, shifted by r.
                offset += detail::exponential_ziggurat_r;
            } else {
                const double y = z.f[layer] + uniform() * (z.f[layer + 1] - z.f[layer]);
                if (y < portable::exp(-x)) {
                    return offset + x;
                }
            }
            bits = next();
        }
    }

    // Marsaglia's tail method: for x = r + a with a ~ Exp(r), accept with probability
    // exp(-a^2/2), which leaves exactly the normal tail beyond r.
    constexpr double sample_normal_tail() noexcept {
        for (;;) {
            const double a = -portable::log(uniform_open_zero()) / detail::ziggurat_r;
            const double b = -portable::log(uniform_open_zero());
            if (b + b > a * a) {
                return detail::ziggurat_r + a;
            }
        }
    }

    state s_{};
};

} // namespace quoter::sim
