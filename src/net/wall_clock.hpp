// Wall-clock reads for receive timestamps: CLOCK_REALTIME through the vDSO (no syscall), in ns
// since the Unix epoch, so that they compare with Binance event times and with other processes
// on the same host.
#pragma once

#include "quoter/core/time.hpp"

#include <ctime>

namespace quoter::net::detail {

[[nodiscard]] inline core::timestamp_ns wall_now_ns() noexcept {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<core::timestamp_ns>(now.tv_sec) * core::ns_per_s + now.tv_nsec;
}

} // namespace quoter::net::detail
