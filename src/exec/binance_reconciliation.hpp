// binance_reconciliation: what the spot and futures gateways keep about their reconciliations
// beyond the requests themselves: when a foreign order's fill makes one due, and whether the
// one under way is going as it should.
#pragma once

#include <atomic>
#include <cstdint>

namespace quoter::exec::detail {

/// Reconciliations a fill of a foreign order makes due: such a fill moved the holdings without
/// a report the owner books, and limits judged on the old ones would be wrong until the next
/// reconnect. One is due after every such fill; it starts once the gateway is ready (one in
/// progress has ended), at most once every interval, and fills in between are read by the
/// next. I/O thread.
class foreign_fill_reconciles {
public:
    void note_fill() noexcept { pending_ = true; }

    /// Whether one starts now; if so, the next waits interval_ms.
    [[nodiscard]] bool start_now(std::int64_t now_ms, std::int64_t interval_ms,
                                 bool ready) noexcept {
        if (!pending_ || now_ms < next_ms_ || !ready) {
            return false;
        }
        pending_ = false;
        next_ms_ = now_ms + interval_ms;
        return true;
    }

private:
    bool pending_ = false;
    std::int64_t next_ms_ = 0;
};

/// When the current reconciliation started (local wall ms) and the reconciliation failures
/// counted then. Written by the I/O thread, read by any.
class reconciliation_clock {
public:
    void start(std::int64_t now_ms, std::uint64_t failures) noexcept {
        failures_at_start_.store(failures, std::memory_order_relaxed);
        started_ms_.store(now_ms, std::memory_order_relaxed);
    }

    /// Going as it should: started less than timeout_ms ago, with no failure since. A new order
    /// refused now is held for a round trip or two (gateway_error::reconciling), not a sign of a
    /// failing venue; one refused by a reconciliation that failed or lasts is
    /// (gateway_error::disconnected), so that a session that never reconciles still counts.
    [[nodiscard]] bool on_track(std::int64_t now_ms, std::uint64_t failures,
                                std::int64_t timeout_ms) const noexcept {
        return now_ms - started_ms_.load(std::memory_order_relaxed) < timeout_ms &&
               failures == failures_at_start_.load(std::memory_order_relaxed);
    }

private:
    std::atomic<std::int64_t> started_ms_{0};
    std::atomic<std::uint64_t> failures_at_start_{0};
};

} // namespace quoter::exec::detail
