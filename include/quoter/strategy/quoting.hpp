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
//    the symbol's minimum is absent (size 0).
//
// Everything here is a pure function of its arguments: no allocation, no exceptions, no state;
// quote_input, quote_set and every type they contain are trivially copyable.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/quote_level.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/strategy/intensity_estimator.hpp"
#include "quoter/strategy/strategy_config.hpp"

#include <array>
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
    /// levels[0] is the best level; only the first level_count entries are meaningful.
    std::array<core::quote_level, max_quote_levels> levels{};
    std::uint32_t level_count = 0;
    quote_mode mode = quote_mode::normal;
    quote_status status = quote_status::ok;
    quote_diagnostics model;

    /// True when at least one side of one level is present.
    [[nodiscard]] bool any() const noexcept;
};

/// The band the inventory deviation (base-asset units) falls in, valued at `mid` against
/// `equity` (quote asset). A zero deviation is always normal; with no positive equity any
/// deviation is flatten.
[[nodiscard]] quote_mode classify_inventory(const inventory_bands& bands, double deviation,
                                            double mid, double equity) noexcept;

/// Desired quotes for one update. Core thread; pure, so callable from any thread.
[[nodiscard]] quote_set compute_quotes(const quote_input& input, const strategy_config& config,
                                       const core::symbol_spec& spec) noexcept;

/// The same quotes written into out, which must hold a quote_set whose levels past its
/// level_count are empty (a default one, or the last output of this function): only the levels
/// in use are cleared and rewritten, so a caller that keeps one quote_set does not pay for
/// zeroing all max_quote_levels levels on every update. out equals compute_quotes()'s result
/// afterwards.
void compute_quotes(const quote_input& input, const strategy_config& config,
                    const core::symbol_spec& spec, quote_set& out) noexcept;

} // namespace quoter::strategy
