// binance_reconnect: when a Binance gateway connects again after its connection (spot) or its
// user-data stream (futures) closed.
#pragma once

#include "quoter/exec/binance_rate_limits.hpp"
#include "quoter/net/backoff.hpp"

#include <cstdint>

namespace quoter::exec::detail {

/// The longest wait between two connection attempts.
inline constexpr std::int64_t max_reconnect_delay_ms = 30'000;

/// reconnect_delay_ms after a connection that opened, doubled with each attempt since that did
/// not, up to max_reconnect_delay_ms: a venue refusing connections is not asked several times a
/// second (Binance allows 300 attempts per 5 minutes per address). No jitter, so the first wait
/// is the configured one.
[[nodiscard]] net::backoff_config reconnect_pacing(std::int64_t reconnect_delay_ms) noexcept;

/// When to connect again after a close at now_ms, counting the attempt; never while a 418 ban
/// lasts, since every request then extends it, on the address the market data shares too.
[[nodiscard]] std::int64_t next_connect_ms(net::backoff& attempts,
                                           const order_rate_limiter& limiter,
                                           std::int64_t now_ms) noexcept;

} // namespace quoter::exec::detail
