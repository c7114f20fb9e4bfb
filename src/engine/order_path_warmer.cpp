// order_path_warmer's implementation (the contract is in order_path_warmer.hpp), and the core
// loop's hook that runs it (core_loop::warm_order_path), kept here so that the loop's own file
// carries only the call.
#include "quoter/engine/order_path_warmer.hpp"

#include "quoter/engine/core_loop.hpp"

#include <algorithm>

namespace quoter::engine {

order_path_warmer::order_path_warmer(std::int64_t period_us,
                                     const risk::risk_limits& limits) noexcept
    : period_ns_(std::max<std::int64_t>(period_us, 0) * core::ns_per_us),
      checker_(limits, no_rejections_) {}

void order_path_warmer::run(const inputs& in, core::timestamp_ns now) noexcept {
    last_run_ = now;
    ++stats_.runs;
    // 1. The quotes, as core_loop::requote computes them.
    in.strategy.quote(now, in.position, in.equity, set_);
    if (set_.status != strategy::quote_status::ok) {
        return;
    }
    core_loop::desired_from(set_, in.quotes.config().levels, desired_);
    // 2. The keep-or-replace decision and the would-be orders.
    const std::size_t orders = in.quotes.rehearse(desired_, now, orders_);
    // 3 and 4. The checks and the encoding of each.
    for (std::size_t i = 0; i < orders; ++i) {
        const exec::rehearsed_order& order = orders_[i];
        stats_.replaces += order.action == exec::slot_action::replace ? 1 : 0;
        const risk_gate::rehearsal outcome =
            in.gate.rehearse(order.request, now, checker_, order.replaces);
        ++stats_.orders;
        stats_.passed += outcome.reason == risk::reject_reason::none ? 1 : 0;
        stats_.encoded += outcome.encoded ? 1 : 0;
    }
}

// The core loop's hook (called from poll() when warmer_.due()): only while the loop would quote,
// over the views its next requote would start from.
void core_loop::warm_order_path(core::timestamp_ns now) noexcept {
    if (!orders_enabled_ || feed_paused_ || quotes_.halted() ||
        risk_.state() != risk::trading_state::running || market_.best_bid.ticks() <= 0 ||
        market_.best_ask.ticks() <= 0) {
        warmer_.skip(now);
        return;
    }
    warmer_.run({.strategy = strategy_,
                 .quotes = quotes_,
                 .gate = gate_,
                 .position = account_.position(),
                 .equity = account_view_.equity},
                now);
}

} // namespace quoter::engine
