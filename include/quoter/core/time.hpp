// Time units shared by every module: nanoseconds in int64, since the Unix epoch for wall-clock
// and exchange times, or since the start of a simulation for simulated time.
#pragma once

#include <cstdint>

namespace quoter::core {

/// A point in time in nanoseconds.
using timestamp_ns = std::int64_t;
/// A span of time in nanoseconds.
using duration_ns = std::int64_t;

inline constexpr duration_ns ns_per_us = 1'000;
inline constexpr duration_ns ns_per_ms = 1'000'000;
inline constexpr duration_ns ns_per_s = 1'000'000'000;

} // namespace quoter::core
