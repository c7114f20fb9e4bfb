// order_path_warmer: keeps the order path warm between the rare ticks that send an order.
//
// A tick that sends an order runs code the other ticks never touch: the strategy's quotes that
// move, the quote manager's replace decision, the pre-trade checks and the gateway's encoder. At
// about one order tick in a hundred they run on a cold instruction cache, cold branch predictors
// and cold data every time (docs/latency.md, "Where the time goes"). While the core loop is idle
// (no event of its symbol for period_us and no dry run for as long), the warmer runs that path
// dry over the current book:
//   1. the strategy's quotes from the current book and account, into scratch storage
//      (quoting_strategy::quote is const);
//   2. the quote manager's keep-or-replace decision for every slot, and the order each active
//      desired quote would send (quote_manager::rehearse: no slot, counter or id sequence moves);
//   3. each would-be order through the risk gate's pre-trade checks on a scratch copy of the
//      checker (risk_gate::rehearse: no rate-limit window, counter, rejection record, kill-switch
//      condition or alarm moves);
//   4. the gateway's encoding of it into a scratch buffer (order_gateway::rehearse_submit: the
//      Binance spot and futures request encoders and signers; the simulated exchange's arrival
//      checks), never sent.
// Nothing the loop, the venue or the journal sees changes: a run with the warmer is the same run
// as one without it, order for order and counter for counter (tests/engine/
// order_path_warmer_test.cpp). Only the warmer's own counters (stats()) move.
//
// Off (period 0) in backtests and replays, whose results and speed must not change; on by default
// in paper and live sessions ([engine] warm_order_path_us).
//
// Threading: the core thread of the loop that owns it. No allocation, no locks, no syscalls.
#pragma once

#include "quoter/core/time.hpp"
#include "quoter/engine/risk_gate.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/risk/pre_trade.hpp"
#include "quoter/strategy/quoting.hpp"
#include "quoter/strategy/quoting_strategy.hpp"

#include <array>
#include <cstdint>

namespace quoter::engine {

/// What the warmer did, for tests and reports.
struct order_path_warmer_stats {
    std::uint64_t runs = 0;     ///< Dry runs that computed quotes.
    std::uint64_t skipped = 0;  ///< Due, but the loop was not quoting (paused, killed, no book).
    std::uint64_t orders = 0;   ///< Would-be orders taken through the checks and the encoder.
    std::uint64_t passed = 0;   ///< Of those, passed by the pre-trade checks.
    std::uint64_t encoded = 0;  ///< Of those, encoded by the gateway.
    std::uint64_t replaces = 0; ///< Slots the decision would replace (slot_action::replace).
};

class order_path_warmer {
public:
    /// period_us: idle time before a dry run, and between two of them (µs); 0: off. limits: the
    /// loop's pre-trade limits (the scratch checker is built from them once, here).
    order_path_warmer(std::int64_t period_us, const risk::risk_limits& limits) noexcept;
    order_path_warmer(const order_path_warmer&) = delete;
    order_path_warmer& operator=(const order_path_warmer&) = delete;

    [[nodiscard]] bool enabled() const noexcept { return period_ns_ > 0; }
    /// The loop handled an event at now: the path is warm, and a dry run now would only delay
    /// the next event.
    void note_activity(core::timestamp_ns now) noexcept { last_activity_ = now; }
    /// True when a dry run is due at now: on, idle for a period, and none for a period.
    [[nodiscard]] bool due(core::timestamp_ns now) const noexcept {
        return period_ns_ > 0 && now - last_activity_ >= period_ns_ &&
               now - last_run_ >= period_ns_;
    }
    /// Due but not run (the loop is not quoting): counted, and not due again for a period.
    void skip(core::timestamp_ns now) noexcept {
        last_run_ = now;
        ++stats_.skipped;
    }

    /// What a dry run reads: the loop's strategy, quote manager and risk gate, and the position
    /// and equity its next requote would use. Read-only but for the gateway's scratch buffer.
    struct inputs {
        const strategy::quoting_strategy& strategy;
        const exec::quote_manager& quotes;
        const risk_gate& gate;
        core::qty position;
        double equity = 0.0;
    };
    /// One dry run at now (decide -> risk -> encode), sending nothing.
    void run(const inputs& in, core::timestamp_ns now) noexcept;

    [[nodiscard]] const order_path_warmer_stats& stats() const noexcept { return stats_; }

private:
    core::duration_ns period_ns_ = 0;
    core::timestamp_ns last_activity_ = 0;
    core::timestamp_ns last_run_ = 0;
    order_path_warmer_stats stats_;
    strategy::quote_set set_{};
    exec::desired_quotes desired_{};
    std::array<exec::rehearsed_order, 2 * exec::max_quote_levels> orders_{};
    /// The scratch checker's sink until its first rehearsal (which points it elsewhere).
    struct no_rejections final : risk::rejection_sink {
        void on_rejection(const risk::rejection_record& /*record*/) noexcept override {}
    };
    no_rejections no_rejections_;
    /// Overwritten by a copy of the loop's checker on every would-be order.
    risk::pre_trade_checker checker_;
};

} // namespace quoter::engine
