#include "quoter/strategy/quoting_strategy.hpp"

#include <cmath>

namespace quoter::strategy {

quoting_strategy::quoting_strategy(const strategy_config& config, const core::symbol_spec& spec)
    : config_(config), spec_(spec), realized_(config.estimators.realized),
      ewma_(config.estimators.ewma), intensity_(config.estimators.intensity) {}

void quoting_strategy::on_book(core::timestamp_ns time, core::price best_bid,
                               core::price best_ask) noexcept {
    if (best_bid.ticks() <= 0 || best_ask <= best_bid) {
        return;
    }
    best_bid_ = best_bid;
    best_ask_ = best_ask;
    mid_ticks_ =
        0.5 * (static_cast<double>(best_bid.ticks()) + static_cast<double>(best_ask.ticks()));
    if (!has_book_) {
        has_book_ = true;
        intensity_.start(time);
    }
    const double mid = mid_ticks_ * spec_.tick_size();
    if (config_.estimators.volatility == volatility_kind::realized) {
        realized_.update(time, mid);
    } else {
        ewma_.update(time, mid);
    }
}

void quoting_strategy::on_trade(core::timestamp_ns time, core::price trade_price) noexcept {
    if (!has_book_) {
        return;
    }
    intensity_.record_trade(time, static_cast<double>(trade_price.ticks()) - mid_ticks_);
}

double quoting_strategy::volatility_per_sqrt_s() const noexcept {
    if (config_.estimators.volatility == volatility_kind::realized) {
        return realized_.ready() ? realized_.volatility_per_sqrt_s() : 0.0;
    }
    return ewma_.ready() ? ewma_.volatility_per_sqrt_s() : 0.0;
}

bool quoting_strategy::volatility_ready() const noexcept {
    return config_.estimators.volatility == volatility_kind::realized ? realized_.ready()
                                                                      : ewma_.ready();
}

quote_input quoting_strategy::make_input(core::timestamp_ns time, core::qty inventory,
                                         double equity) const noexcept {
    // One object built in place and returned by name on every path: copying it (8-byte stores
    // read back as 16-byte loads) stalls store forwarding on every quote.
    quote_input in = has_book_ ? make_quote_input(spec_, time, best_bid_, best_ask_, inventory,
                                                  equity)
                               : quote_input{};
    if (!has_book_) {
        in.time = time;
        in.inventory = inventory;
        in.equity = equity;
        return in;
    }
    in.volatility_per_sqrt_s = volatility_per_sqrt_s();
    // The fit costs O(buckets) after new trades; skip it when nothing will read it.
    if (config_.intensity.use_estimate && config_.model != model_kind::linear) {
        in.intensity = intensity_.estimate(time);
    }
    return in;
}

quote_set quoting_strategy::quote(core::timestamp_ns time, core::qty inventory,
                                  double equity) const noexcept {
    return compute_quotes(make_input(time, inventory, equity), config_, spec_);
}

void quoting_strategy::quote(core::timestamp_ns time, core::qty inventory, double equity,
                             quote_set& out) const noexcept {
    compute_quotes(make_input(time, inventory, equity), config_, spec_, out);
}

void quoting_strategy::set_quoting_config(const strategy_config& config) noexcept {
    const estimator_params estimators = config_.estimators;
    config_ = config;
    config_.estimators = estimators;
}

} // namespace quoter::strategy
