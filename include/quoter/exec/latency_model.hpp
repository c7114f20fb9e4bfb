// Latency models for simulated order entry, cancels and market data, and the small seeded
// random generator that drives them. Everything is deterministic for a given seed: the same
// seed and the same sequence of calls give the same latencies on every platform (no
// <random> distributions, whose output is implementation-defined).
#pragma once

#include "quoter/core/time.hpp"

#include <cstdint>

namespace quoter::exec {

/// SplitMix64: a 64-bit state advanced by a Weyl sequence and mixed by two multiply-xorshift
/// rounds. Fast, passes BigCrush, and any seed (including 0) is a good seed.
class sim_rng {
public:
    constexpr explicit sim_rng(std::uint64_t seed = 0) noexcept : state_(seed) {}

    constexpr std::uint64_t next() noexcept {
        state_ += 0x9e3779b97f4a7c15ULL;
        std::uint64_t z = state_;
        z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31U);
    }

    /// Uniform in [0, 1) with 53 random bits.
    constexpr double uniform() noexcept {
        return static_cast<double>(next() >> 11U) * 0x1.0p-53;
    }

private:
    std::uint64_t state_;
};

enum class latency_distribution : std::uint8_t {
    constant,    ///< Always fixed_ns.
    uniform,     ///< fixed_ns + U[0, jitter_ns].
    exponential, ///< fixed_ns + an exponential delay of mean jitter_ns (heavy right tail).
};

/// One direction's latency: a fixed floor (wire and processing time) plus optional jitter.
struct latency_config {
    latency_distribution distribution = latency_distribution::constant;
    /// Floor of the latency in ns; the whole latency when constant.
    core::duration_ns fixed_ns = 0;
    /// Uniform: width of the jitter range in ns. Exponential: mean of the jitter in ns.
    core::duration_ns jitter_ns = 0;
};

/// The exponential jitter of a latency (ns) for a uniform draw u in [0, 1): out of line, since
/// it takes a logarithm.
[[nodiscard]] double exponential_jitter(double u, double mean_ns) noexcept;

/// A latency_config prepared for drawing: the floor clamped at 0, a config without jitter taken
/// as constant and the jitter converted to double once, so that a draw is only the random
/// number and its scaling. Draws what sample_latency() draws for the config, from the same
/// random numbers. Inline: the simulated exchange draws one per request and per report.
class latency_sampler {
public:
    constexpr latency_sampler() noexcept = default;
    constexpr explicit latency_sampler(const latency_config& config) noexcept
        : floor_ns_(config.fixed_ns > 0 ? config.fixed_ns : 0),
          jitter_ns_(static_cast<double>(config.jitter_ns)),
          distribution_(config.jitter_ns > 0 ? config.distribution
                                             : latency_distribution::constant) {}

    /// One latency in ns (never negative); consumes one random number unless constant.
    [[nodiscard]] core::duration_ns draw(sim_rng& rng) const noexcept {
        if (distribution_ == latency_distribution::constant) {
            return floor_ns_;
        }
        const double u = rng.uniform();
        const double extra = distribution_ == latency_distribution::uniform
                                 ? u * jitter_ns_
                                 : exponential_jitter(u, jitter_ns_);
        return floor_ns_ + static_cast<core::duration_ns>(extra);
    }

private:
    core::duration_ns floor_ns_ = 0;
    double jitter_ns_ = 0.0;
    latency_distribution distribution_ = latency_distribution::constant;
};

/// Draws one latency in ns (never negative). Consumes one random number unless constant or
/// jitter_ns <= 0.
[[nodiscard]] inline core::duration_ns sample_latency(const latency_config& config,
                                                      sim_rng& rng) noexcept {
    return latency_sampler(config).draw(rng);
}

} // namespace quoter::exec
