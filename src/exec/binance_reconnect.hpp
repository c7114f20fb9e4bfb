// binance_reconnect: when a Binance gateway connects again after its connection (spot) or its
// user-data stream (futures) closed.
#pragma once

#include "quoter/core/time.hpp"
#include "quoter/exec/binance_rate_limits.hpp"
#include "quoter/net/backoff.hpp"

#include <algorithm>
#include <cstdint>

namespace quoter::exec::detail {

/// The longest wait between two connection attempts.
inline constexpr std::int64_t max_reconnect_delay_ms = 30'000;

/// reconnect_delay_ms after a connection that opened, doubled with each attempt since that did
/// not, up to max_reconnect_delay_ms: a venue refusing connections is not asked several times a
/// second (Binance allows 300 attempts per 5 minutes per address). No jitter, so the first wait
/// is the configured one.
[[nodiscard]] inline net::backoff_config
reconnect_pacing(std::int64_t reconnect_delay_ms) noexcept {
    const std::int64_t first = std::max<std::int64_t>(reconnect_delay_ms, 1);
    return {.initial_ms = first,
            .max_ms = std::max(first, max_reconnect_delay_ms),
            .multiplier = 2.0,
            .jitter_pct = 0.0};
}

/// When to connect again after a close at now_ms, counting the attempt; never while a 418 ban
/// lasts, since every request then extends it, on the address the market data shares too.
[[nodiscard]] inline std::int64_t next_connect_ms(net::backoff& attempts,
                                                  const order_rate_limiter& limiter,
                                                  std::int64_t now_ms) noexcept {
    std::int64_t at = now_ms + attempts.next_delay_ms();
    if (limiter.banned()) {
        at = std::max(at, limiter.resume_at() / core::ns_per_ms);
    }
    return at;
}

} // namespace quoter::exec::detail
