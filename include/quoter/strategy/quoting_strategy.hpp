// quoting_strategy: the stateful wrapper the engine drives. It owns the online estimators
// (volatility of the mid, order-arrival intensity), remembers the last book, and turns each
// update into desired quotes with compute_quotes().
//
// Estimates feed the models only once they are trustworthy: the volatility estimator must be
// ready() and the intensity fit must be fitted; until then the configured values are used (the
// quote_set's diagnostics say which were used).
//
// Invariants: allocates only in the constructor (the realized-volatility ring); every other
// call is allocation-free, lock-free and noexcept. Core thread only.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/strategy/intensity_estimator.hpp"
#include "quoter/strategy/quoting.hpp"
#include "quoter/strategy/strategy_config.hpp"
#include "quoter/strategy/volatility.hpp"

namespace quoter::strategy {

class quoting_strategy {
public:
    quoting_strategy(const strategy_config& config, const core::symbol_spec& spec);

    /// A new top of book. Updates the volatility estimator with the mid. Ignores books that are
    /// crossed or have non-positive prices.
    void on_book(core::timestamp_ns time, core::price best_bid, core::price best_ask) noexcept;

    /// A trade print (or one of our fills) at `trade_price`; its distance from the last mid
    /// feeds the intensity estimator. Ignored before the first book.
    void on_trade(core::timestamp_ns time, core::price trade_price) noexcept;

    /// Desired quotes against the last book for the given position (lots) and equity (quote
    /// asset, marked to mid). Status invalid_book before the first book.
    [[nodiscard]] quote_set quote(core::timestamp_ns time, core::qty inventory,
                                  double equity) const noexcept;
    /// The same into out (see compute_quotes(..., quote_set&): keep one quote_set across
    /// calls).
    void quote(core::timestamp_ns time, core::qty inventory, double equity,
               quote_set& out) const noexcept;

    /// on_book() followed by quote().
    [[nodiscard]] quote_set on_book_update(core::timestamp_ns time, core::price best_bid,
                                           core::price best_ask, core::qty inventory,
                                           double equity) noexcept {
        on_book(time, best_bid, best_ask);
        return quote(time, inventory, equity);
    }

    /// The quote input quote() would pass to compute_quotes().
    [[nodiscard]] quote_input make_input(core::timestamp_ns time, core::qty inventory,
                                         double equity) const noexcept;

    /// Current estimate of the configured kind, per sqrt(second); 0 until ready.
    [[nodiscard]] double volatility_per_sqrt_s() const noexcept;
    [[nodiscard]] bool volatility_ready() const noexcept;
    [[nodiscard]] intensity_estimate intensity(core::timestamp_ns now) const noexcept {
        return intensity_.estimate(now);
    }

    [[nodiscard]] const strategy_config& config() const noexcept { return plan_.config(); }
    [[nodiscard]] const core::symbol_spec& spec() const noexcept { return plan_.spec(); }
    /// Replaces the model, band and level parameters; the estimators keep their state and
    /// their own configuration.
    void set_quoting_config(const strategy_config& config) noexcept;
    /// Widens the model's half spread by `multiplier` from the next quote on (1: as the model
    /// says), e.g. while the risk layer's reduce mode lasts.
    void set_spread_multiplier(double multiplier) noexcept { spread_multiplier_ = multiplier; }
    [[nodiscard]] double spread_multiplier() const noexcept { return spread_multiplier_; }

private:
    /// Mid of the last book, in ticks.
    [[nodiscard]] double mid_ticks() const noexcept;

    /// The config and the symbol, with their derived constants.
    quote_plan plan_;
    realized_volatility realized_;
    ewma_volatility ewma_;
    intensity_estimator intensity_;
    core::price best_bid_;
    core::price best_ask_;
    double spread_multiplier_ = 1.0;
    bool has_book_ = false;
};

// Inline: quote() builds its input on every update.

inline double quoting_strategy::volatility_per_sqrt_s() const noexcept {
    if (config().estimators.volatility == volatility_kind::realized) {
        return realized_.ready() ? realized_.volatility_per_sqrt_s() : 0.0;
    }
    return ewma_.ready() ? ewma_.volatility_per_sqrt_s() : 0.0;
}

inline bool quoting_strategy::volatility_ready() const noexcept {
    return config().estimators.volatility == volatility_kind::realized ? realized_.ready()
                                                                       : ewma_.ready();
}

inline quote_input quoting_strategy::make_input(core::timestamp_ns time, core::qty inventory,
                                                double equity) const noexcept {
    // One object built in place and returned by name on every path: copying it (8-byte stores
    // read back as 16-byte loads) stalls store forwarding on every quote.
    quote_input in = has_book_
                         ? make_quote_input(spec(), time, best_bid_, best_ask_, inventory, equity)
                         : quote_input{};
    if (!has_book_) {
        in.time = time;
        in.inventory = inventory;
        in.equity = equity;
        return in;
    }
    in.volatility_per_sqrt_s = volatility_per_sqrt_s();
    in.spread_multiplier = spread_multiplier_;
    // The fit costs O(buckets) after new trades; skip it when nothing will read it.
    if (config().intensity.use_estimate && config().model != model_kind::linear) {
        in.intensity = intensity_.estimate(time);
    }
    return in;
}

} // namespace quoter::strategy
