// Reconnect pacing: exponential backoff with jitter per connection, and a sliding-window cap on
// connection attempts per feed so that a reconnect storm stays within Binance's limit of 300
// connection attempts per 5 minutes per IP address (spot; repeated violations get the IP
// banned). Both are plain value types with no I/O so they can be tested exactly.
#pragma once

#include "quoter/core/time.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>

namespace quoter::net {

struct backoff_config {
    std::int64_t initial_ms = 250; ///< Upper bound of the first delay.
    std::int64_t max_ms = 30'000;  ///< Cap on the un-jittered delay.
    double multiplier = 2.0;       ///< Growth of the un-jittered delay per failed attempt.
    double jitter_pct = 50.0;      ///< Up to this share of the delay is removed at random.
    /// A connection that stayed open this long and delivered data resets the attempt count.
    std::int64_t reset_after_ms = 10'000;
};

/// Delay before the next attempt: d = min(max_ms, initial_ms * multiplier^attempts), then a
/// uniformly random share of up to jitter_pct of d is removed, so the result lies in
/// [d * (1 - jitter_pct/100), d]. Spreads simultaneous reconnects of many connections apart.
class backoff {
public:
    /// seed 0 picks a random seed.
    explicit backoff(backoff_config config = {}, std::uint64_t seed = 0) noexcept;

    /// The delay before the next attempt, in ms; counts the attempt.
    [[nodiscard]] std::int64_t next_delay_ms() noexcept;
    /// Back to the first delay (after a connection proved healthy).
    void reset() noexcept { attempts_ = 0; }
    [[nodiscard]] unsigned attempts() const noexcept { return attempts_; }
    [[nodiscard]] const backoff_config& config() const noexcept { return config_; }

private:
    backoff_config config_;
    std::uint64_t state_;
    unsigned attempts_ = 0;
};

struct connect_limit_config {
    /// Attempts allowed per window. Binance allows 300 per 5 minutes per IP for all processes
    /// on that IP together, so the default leaves headroom for a second feed. 0 = no limit.
    std::size_t max_attempts = 150;
    std::int64_t window_ms = 300'000; ///< Sliding window length.
};

/// Sliding-window limiter of connection attempts.
class attempt_limiter {
public:
    explicit attempt_limiter(connect_limit_config config = {}) : config_(config) {}

    /// 0 when an attempt may start at now_ns, else the wait in ms until one may.
    [[nodiscard]] std::int64_t wait_ms(core::timestamp_ns now_ns);
    /// Records an attempt started at now_ns.
    void record(core::timestamp_ns now_ns);

private:
    void expire(core::timestamp_ns now_ns);

    connect_limit_config config_;
    std::deque<core::timestamp_ns> attempts_ns_;
};

} // namespace quoter::net
