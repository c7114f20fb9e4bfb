// rate_limiter: a token bucket that admits at most `burst` events at once and `burst` per
// `interval_ns` on average. Used to report malformed messages without flooding the log when a
// peer sends garbage at line rate. Deterministic: time is passed in, never read.
#pragma once

#include "quoter/core/time.hpp"

#include <algorithm>
#include <cstdint>

namespace quoter::md {

class rate_limiter {
public:
    /// burst: tokens available at once (>= 1); interval_ns: time to refill all of them.
    constexpr rate_limiter(std::uint32_t burst, core::duration_ns interval_ns) noexcept
        : burst_(std::max<std::uint32_t>(burst, 1)),
          ns_per_token_(std::max<core::duration_ns>(interval_ns / std::max<std::uint32_t>(burst, 1), 1)),
          tokens_(burst_) {}

    /// Takes a token if one is available at time now; returns whether the event may proceed.
    /// Events refused since the last admitted one are counted in suppressed().
    [[nodiscard]] constexpr bool allow(core::timestamp_ns now) noexcept {
        if (!started_) {
            started_ = true;
            last_refill_ = now;
        }
        if (now > last_refill_) {
            const core::duration_ns elapsed = now - last_refill_;
            const auto earned = static_cast<std::uint64_t>(elapsed / ns_per_token_);
            if (earned > 0) {
                tokens_ = static_cast<std::uint32_t>(
                    std::min<std::uint64_t>(burst_, tokens_ + earned));
                last_refill_ += static_cast<core::duration_ns>(earned) * ns_per_token_;
                if (tokens_ == burst_) {
                    last_refill_ = now;
                }
            }
        }
        if (tokens_ == 0) {
            ++suppressed_;
            return false;
        }
        --tokens_;
        return true;
    }

    /// Events refused since the last call to take_suppressed().
    [[nodiscard]] constexpr std::uint64_t suppressed() const noexcept { return suppressed_; }
    constexpr std::uint64_t take_suppressed() noexcept {
        const std::uint64_t count = suppressed_;
        suppressed_ = 0;
        return count;
    }

private:
    std::uint32_t burst_;
    core::duration_ns ns_per_token_;
    std::uint32_t tokens_;
    core::timestamp_ns last_refill_ = 0;
    std::uint64_t suppressed_ = 0;
    bool started_ = false;
};

} // namespace quoter::md
