#include "binance_reconnect.hpp"

#include "quoter/core/time.hpp"

#include <algorithm>

namespace quoter::exec::detail {

net::backoff_config reconnect_pacing(std::int64_t reconnect_delay_ms) noexcept {
    const std::int64_t first = std::max<std::int64_t>(reconnect_delay_ms, 1);
    return {.initial_ms = first,
            .max_ms = std::max(first, max_reconnect_delay_ms),
            .multiplier = 2.0,
            .jitter_pct = 0.0};
}

std::int64_t next_connect_ms(net::backoff& attempts, const order_rate_limiter& limiter,
                             std::int64_t now_ms) noexcept {
    std::int64_t at = now_ms + attempts.next_delay_ms();
    if (limiter.banned()) {
        at = std::max(at, limiter.resume_at() / core::ns_per_ms);
    }
    return at;
}

} // namespace quoter::exec::detail
