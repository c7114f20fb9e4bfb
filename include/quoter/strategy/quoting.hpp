// compute_quotes(): one book update in, the desired quotes out. Applies the selected model, the
// symmetric option, the inventory bands, the levels, and the exchange's grid:
//  - prices are rounded with the symbol spec, bids down and asks up, so rounding never makes a
//    quote more aggressive than the model asked for; sizes round down to the step;
//  - post-only guard: a bid stays strictly below the best ask and an ask strictly above the best
//    bid (a quote the model put through the book is moved to one tick inside it); off with
//    strategy_config::clamp_to_book = false, for model experiments whose exchange ignores the
//    displayed book;
//  - deeper levels are at least one tick behind the level before them;
//  - a side whose size rounds to zero, whose price is not positive, or whose notional is below
//    the symbol's minimum is absent (price and size 0).
//
// Everything here is a pure function of its arguments: no allocation, no exceptions, no state;
// quote_input, quote_set, quote_plan and every type they contain are trivially copyable. A
// quote_plan holds a config and a symbol with the constants derived from them, so that a caller
// that quotes on every update (quoting_strategy) derives them once.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/quote_level.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/strategy/intensity_estimator.hpp"
#include "quoter/strategy/strategy_config.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace quoter::strategy {

/// What the strategy sees on a book update.
struct quote_input {
    /// Time of the update, ns.
    core::timestamp_ns time = 0;
    core::price best_bid;
    core::price best_ask;
    /// Mid price, quote asset per base unit (normally (best_bid + best_ask) / 2).
    double mid = 0.0;
    /// best_ask - best_bid, quote asset per base unit.
    double spread = 0.0;
    /// Current position, lots (negative = short).
    core::qty inventory;
    /// Account equity marked to the mid, quote asset.
    double equity = 0.0;
    /// Volatility of the mid per sqrt(second); <= 0 means no estimate yet.
    double volatility_per_sqrt_s = 0.0;
    /// Online arrival-intensity estimate; ignored unless fitted.
    intensity_estimate intensity;
    /// The model's half spread is widened by this factor (1: as the model says); the risk
    /// layer's reduce mode sets it (risk.reduce_spread_multiplier).
    double spread_multiplier = 1.0;
};

/// Fills mid and spread from the best prices; no volatility or intensity estimate. Inline: the
/// strategy builds one on every quote.
[[nodiscard]] inline quote_input make_quote_input(const core::symbol_spec& spec,
                                                  core::timestamp_ns time, core::price best_bid,
                                                  core::price best_ask, core::qty inventory,
                                                  double equity) noexcept {
    quote_input in;
    in.time = time;
    in.best_bid = best_bid;
    in.best_ask = best_ask;
    in.mid = 0.5 * (spec.to_double(best_bid) + spec.to_double(best_ask));
    in.spread = spec.tick_size() * static_cast<double>(best_ask - best_bid);
    in.inventory = inventory;
    in.equity = equity;
    return in;
}

enum class quote_mode : std::uint8_t {
    normal,      ///< Both sides.
    reduce_only, ///< Beyond the soft band: only the side that reduces the deviation, skewed harder.
    flatten,     ///< At or beyond the hard limit: one aggressive post-only order reducing it all.
};

enum class quote_status : std::uint8_t {
    ok,
    invalid_book,  ///< Missing, crossed or non-positive best prices, or an unusable mid/equity.
    invalid_model, ///< The model's parameters give no finite, non-negative spread.
};

[[nodiscard]] std::string_view to_string(quote_mode mode) noexcept;
[[nodiscard]] std::string_view to_string(quote_status status) noexcept;

/// What the model decided before rounding, for reports and tests.
struct quote_diagnostics {
    /// Centre of the quotes after the symmetric option and the band multiplier, quote asset.
    double center_price = 0.0;
    /// Half of the full spread, quote asset.
    double half_spread = 0.0;
    /// Level-0 order size before rounding, base-asset units.
    double order_size = 0.0;
    /// Inventory minus target, base-asset units.
    double inventory_deviation = 0.0;
    /// The volatility (per sqrt(second)), A (per second) and k (per tick) actually used.
    double sigma_per_sqrt_s = 0.0;
    double a_per_s = 0.0;
    double k_per_tick = 0.0;
    /// Whether sigma, A and k came from the online estimates rather than the config.
    bool sigma_estimated = false;
    bool intensity_estimated = false;
};

struct quote_set {
    /// levels[0] is the best level; the first level_count entries are the quotes. A side a
    /// level leaves out is all zero (price and size), and so is every level past level_count:
    /// a consumer may copy the levels' sides as they are.
    std::array<core::quote_level, max_quote_levels> levels{};
    std::uint32_t level_count = 0;
    quote_mode mode = quote_mode::normal;
    quote_status status = quote_status::ok;
    quote_diagnostics model;

    /// True when at least one side of one level is present.
    [[nodiscard]] bool any() const noexcept;
};

/// A strategy_config bound to one symbol, with what compute_quotes() derives from the two alone
/// worked out once: the per-update path reads these constants instead of re-deriving them.
/// Built when a config is set (quoting_strategy keeps one); trivially copyable.
class quote_plan {
public:
    quote_plan() noexcept : quote_plan(strategy_config{}, core::symbol_spec{}) {}
    quote_plan(const strategy_config& config, const core::symbol_spec& spec) noexcept;

    [[nodiscard]] const strategy_config& config() const noexcept { return config_; }
    [[nodiscard]] const core::symbol_spec& spec() const noexcept { return spec_; }

    /// config().levels.count clamped to 1..max_quote_levels.
    [[nodiscard]] std::uint32_t level_count() const noexcept { return level_count_; }
    /// Distance between consecutive levels at `mid`, quote asset: >= 0, or NaN or infinite
    /// from a spacing that is not finite.
    [[nodiscard]] double level_spacing(double mid) const noexcept {
        return config_.levels.spacing_unit == spacing_kind::ticks
                   ? tick_spacing_
                   : std::max(mid * config_.levels.spacing / 1e4, 0.0);
    }
    /// The depth of level 0, level_spacing(mid) * 0 (up to the sign of a zero, which rounds to
    /// the same price): zero, unless the spacing is not finite.
    [[nodiscard]] double top_level_depth(double mid) const noexcept {
        return mid < finite_spacing_below_mid_ ? 0.0 : level_spacing(mid) * 0.0;
    }
    /// True when config().order_size_base sets the order size (> 0).
    [[nodiscard]] bool has_base_order_size() const noexcept { return has_base_order_size_; }
    /// config().order_size_base rounded down to the step, base units.
    [[nodiscard]] double base_order_size() const noexcept { return base_order_size_; }

    /// spec().meets_min_notional(p, q) for a positive price and quantity. Exact: the notional
    /// p * q * tick_units * step_units reaches the minimum exactly when p * q reaches the
    /// minimum divided by tick_units * step_units, rounded up (min_ticks_lots_).
    [[nodiscard]] bool meets_min_notional(core::price p, core::qty q) const noexcept {
        return static_cast<wide_product>(p.ticks()) * q.lots() >= min_ticks_lots_;
    }

    /// True for the most common config, which compute_quotes() runs with these choices made at
    /// compile time: one level of the linear model, skewed, clamped to the book, the order size
    /// from equity, the volatility relative, no intensity estimate, a level spacing finite at
    /// every mid (so level 0 is at depth zero).
    [[nodiscard]] bool common_shape() const noexcept { return common_shape_; }

private:
    __extension__ using wide_product = __int128;

    strategy_config config_;
    core::symbol_spec spec_;
    /// Smallest price * quantity (ticks * lots) that meets the minimum notional.
    wide_product min_ticks_lots_ = 0;
    std::uint32_t level_count_ = 1;
    /// level_spacing() when the spacing is in ticks.
    double tick_spacing_ = 0.0;
    /// Below this mid level_spacing() is finite.
    double finite_spacing_below_mid_ = 0.0;
    double base_order_size_ = 0.0;
    bool has_base_order_size_ = false;
    bool common_shape_ = false;
};

/// The band the inventory deviation (base-asset units) falls in, valued at `mid` against
/// `equity` (quote asset). A zero deviation is always normal; with no positive equity any
/// deviation is flatten. Inline: compute_quotes() classifies on every update.
[[nodiscard]] inline quote_mode classify_inventory(const inventory_bands& bands, double deviation,
                                                   double mid, double equity) noexcept {
    if (deviation == 0.0) {
        return quote_mode::normal;
    }
    const double exposure = std::fabs(deviation) * mid;
    const double capital = std::max(equity, 0.0);
    if (exposure >= capital * bands.hard_limit_pct / 100.0) {
        return quote_mode::flatten;
    }
    if (exposure >= capital * bands.soft_limit_pct / 100.0) {
        return quote_mode::reduce_only;
    }
    return quote_mode::normal;
}

/// Desired quotes for one update. Core thread; pure, so callable from any thread.
[[nodiscard]] quote_set compute_quotes(const quote_input& input, const strategy_config& config,
                                       const core::symbol_spec& spec) noexcept;

/// The same quotes written into out, which must hold a quote_set whose levels past its
/// level_count are empty (a default one, or the last output of this function): only the levels
/// in use are rewritten, so a caller that keeps one quote_set does not pay for zeroing all
/// max_quote_levels levels on every update. out equals compute_quotes()'s result afterwards.
void compute_quotes(const quote_input& input, const strategy_config& config,
                    const core::symbol_spec& spec, quote_set& out) noexcept;
/// The same with the config and spec of a plan built beforehand: the form for every update.
void compute_quotes(const quote_input& input, const quote_plan& plan, quote_set& out) noexcept;

} // namespace quoter::strategy
