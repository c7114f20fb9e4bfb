// CPU placement and spin-wait helpers for the pinned threads (market data, core, benchmarks).
//
// Pinning never aborts: a container or a small machine may not offer the requested CPU, and the
// caller decides whether running unpinned is acceptable. cpu_relax is the body of every
// busy-wait loop, so that a spinning thread yields pipeline resources and power to its sibling.
#pragma once

#include "quoter/core/result.hpp"

#include <cstdint>
#include <string_view>

namespace quoter::core {

enum class pin_error : std::uint8_t {
    none,
    invalid_cpu,     ///< Negative or beyond the number of CPUs the kernel knows about.
    cpu_not_allowed, ///< Exists, but is offline or excluded by a cpuset cgroup.
    system_error,    ///< The kernel refused the request for another reason.
    unsupported,     ///< The platform has no thread affinity API.
};

/// A short English description of the error, for start-up messages.
[[nodiscard]] std::string_view describe(pin_error error) noexcept;

/// Restricts the calling thread to one CPU. Returns that CPU, or why it could not be done; the
/// thread's affinity is unchanged on failure. Not for the hot path (one system call).
[[nodiscard]] result<int, pin_error> pin_current_thread(int cpu) noexcept;

/// Number of CPUs the calling thread may run on (at least 1).
[[nodiscard]] int allowed_cpu_count() noexcept;

/// The CPU the calling thread runs on right now, or -1 when the platform cannot tell.
[[nodiscard]] int current_cpu() noexcept;

/// Spin-wait hint: tells the CPU that this is a busy-wait loop. On x86 it is `pause`, which
/// takes tens to over a hundred cycles depending on the microarchitecture, so call it only after
/// an attempt failed, not before every attempt.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    asm volatile("yield" ::: "memory");
#else
    asm volatile("" ::: "memory");
#endif
}

} // namespace quoter::core
