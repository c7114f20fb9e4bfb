#include "quoter/strategy/quoting_strategy.hpp"

#include "compute_quotes.hpp"

#include <cmath>

namespace quoter::strategy {

quoting_strategy::quoting_strategy(const strategy_config& config, const core::symbol_spec& spec)
    : plan_(config, spec), realized_(config.estimators.realized), ewma_(config.estimators.ewma),
      intensity_(config.estimators.intensity) {}

void quoting_strategy::on_book(core::timestamp_ns time, core::price best_bid,
                               core::price best_ask) noexcept {
    if (best_bid.ticks() <= 0 || best_ask <= best_bid) {
        return;
    }
    best_bid_ = best_bid;
    best_ask_ = best_ask;
    if (!has_book_) {
        has_book_ = true;
        intensity_.start(time);
    }
    // The realized estimator reads the mid only when a sample is due or one leaves its window.
    const auto mid = [this] { return mid_ticks() * spec().tick_size(); };
    if (config().estimators.volatility == volatility_kind::realized) {
        if (realized_.due(time)) {
            realized_.update(time, mid());
        }
    } else {
        ewma_.update(time, mid());
    }
}

void quoting_strategy::on_trade(core::timestamp_ns time, core::price trade_price) noexcept {
    if (!has_book_) {
        return;
    }
    intensity_.record_trade(time, static_cast<double>(trade_price.ticks()) - mid_ticks());
}

double quoting_strategy::mid_ticks() const noexcept {
    return 0.5 * (static_cast<double>(best_bid_.ticks()) + static_cast<double>(best_ask_.ticks()));
}

quote_set quoting_strategy::quote(core::timestamp_ns time, core::qty inventory,
                                  double equity) const noexcept {
    quote_set out;
    quote(time, inventory, equity, out);
    return out;
}

void quoting_strategy::quote(core::timestamp_ns time, core::qty inventory, double equity,
                             quote_set& out) const noexcept {
    if (plan_.common_shape()) {
        // compute_quotes() inline: the input is built in registers, not in memory.
        detail::quote_levels<true>(make_input(time, inventory, equity), plan_, out);
    } else {
        compute_quotes(make_input(time, inventory, equity), plan_, out);
    }
}

void quoting_strategy::set_quoting_config(const strategy_config& config) noexcept {
    strategy_config quoting = config;
    quoting.estimators = plan_.config().estimators;
    plan_ = quote_plan(quoting, plan_.spec());
}

} // namespace quoter::strategy
