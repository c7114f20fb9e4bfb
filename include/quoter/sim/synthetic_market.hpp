// synthetic_market: a simulated instrument for market-making backtests. The mid follows geometric
// Brownian motion or a symmetric binomial random walk; the visible book is the mid -/+ half a
// fixed spread on the tick grid; market orders arrive as a Poisson process whose intensity for a
// quote at distance delta from the mid is A * exp(-k * delta) (Avellaneda and Stoikov, 2008).
//
// Invariants:
// - Deterministic: the same config, symbol and seed give the same sequence on every platform
//   (random.hpp, portable_math.hpp).
// - The mid path and the order flow use two independent random streams derived from the seed, so
//   the mid path depends only on the seed and the step sizes, never on the quotes or on how often
//   fills are sampled. Two strategies run on the same seed therefore face the same market
//   (common random numbers), which keeps comparisons between them tight. The exception is
//   informed flow (informed_share > 0): an informed hit moves the mid against the filled quote
//   (adverse selection), so then the path also depends on where and when one is filled.
// - The mid stays positive (at least one tick) and best_bid() < best_ask().
// The market knows nothing of order matching: a quote that crosses the visible book is treated
// like any other quote here (by its distance from the mid); rejecting or executing marketable
// orders is the simulated exchange's job.
// Not thread-safe: one instance per path, used from one thread.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/quote_level.hpp"
#include "quoter/core/result.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/sim/portable_math.hpp"
#include "quoter/sim/random.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

namespace quoter::sim {

/// Seconds in the 365-day year used for annualised rates (crypto trades around the clock).
inline constexpr double seconds_per_year = 365.0 * 24.0 * 3600.0;

enum class price_process : std::uint8_t {
    /// dS = mu S dt + sigma S dW, stepped exactly: S *= exp((mu - sigma^2/2) dt + sigma sqrt(dt)
    /// Z).
    geometric_brownian,
    /// S += +/- sigma sqrt(dt) with probability 1/2 each (the binomial walk of Avellaneda-Stoikov).
    random_walk,
};

enum class fill_probability_model : std::uint8_t {
    /// lambda * dt, capped at 1: the first-order probability of at least one arrival.
    linear,
    /// 1 - exp(-lambda * dt): the exact Poisson probability of at least one arrival.
    exponential,
};

enum class fill_size_model : std::uint8_t {
    full,  ///< a hit fills the whole resting size
    fixed, ///< a hit fills min(resting size, fixed_fill_lots)
};

/// Parameters of the synthetic market. Prices are in quote-asset units per base unit ("price
/// units", e.g. USDT per BTC); distances from the mid use the same unit.
struct market_config {
    price_process process = price_process::geometric_brownian;
    /// Mid at time 0, in price units.
    double initial_mid_price = 100.0;
    /// Geometric Brownian motion drift mu, as a fraction per (365-day) year.
    double gbm_mu_per_year = 0.0;
    /// Geometric Brownian motion volatility sigma, as a fraction per square-root year
    /// (0.5 = 50% annualised volatility).
    double gbm_sigma_per_sqrt_year = 0.5;
    /// Random-walk volatility: each step moves the mid by +/- this * sqrt(dt in seconds), in
    /// price units per square-root second.
    double walk_sigma_per_sqrt_s = 0.01;
    /// Width of the visible book: bid/ask = mid -/+ spread/2, rounded outwards to ticks, in ticks.
    double market_spread_ticks = 2.0;
    /// A: arrival rate of market orders that reach a quote at the mid, per second.
    double order_flow_a_per_s = 140.0;
    /// k: decay of the arrival rate with the distance from the mid, per price unit.
    double order_flow_k_per_price_unit = 1.5;
    fill_probability_model fill_probability = fill_probability_model::exponential;
    fill_size_model fill_size = fill_size_model::full;
    /// Lots filled per hit when fill_size is fixed; must be positive.
    std::int64_t fixed_fill_lots = 1;
    /// Share of the market orders that hit a quote which are informed, in [0, 1]: right after
    /// an informed order fills a quote, the mid moves against that quote (down after our bid is
    /// hit, up after our ask is lifted) by informed_impact_bps of the mid. 0: no adverse
    /// selection, and no random draw (the market is then exactly the one without the option).
    double informed_share = 0.0;
    /// Size of an informed order's mid move, bps of the mid (>= 0).
    double informed_impact_bps = 0.0;
    /// A backtest's step that reaches its end draws order flow like every other. false: that
    /// step only moves the mid to the end, where the run is marked, so that the order flow is
    /// drawn at t = 0, dt, ..., T - dt (T / dt draws: the discrete model of Avellaneda and
    /// Stoikov 2008). Read by the backtest driver (engine::synthetic_run).
    bool fills_at_end = true;
};

enum class market_config_error : std::uint8_t {
    none,
    bad_initial_mid, ///< not a positive finite number
    bad_volatility,  ///< negative or not finite
    bad_drift,       ///< not finite
    bad_spread,      ///< negative or not finite
    bad_order_flow,  ///< A or k negative or not finite
    bad_fixed_fill,  ///< fixed fill size not positive
    bad_informed,    ///< informed share outside [0, 1] or impact negative or not finite
};

[[nodiscard]] std::string_view describe(market_config_error error) noexcept;

/// Checks a config; returns market_config_error::none when it is usable.
[[nodiscard]] market_config_error validate(const market_config& config) noexcept;

/// The visible book's best prices.
struct visible_top {
    core::price bid;
    core::price ask;
};

/// A quote level's two prices in price units, as sample_fills() compares them with the mid on
/// every step. A side without size lies infinitely far from the mid (bid -inf, ask +inf), where
/// no market order reaches. From synthetic_market::prices_of(), once per change of the quotes.
struct level_prices {
    double bid = -std::numeric_limits<double>::infinity();
    double ask = std::numeric_limits<double>::infinity();
};

/// What the order flow took from one quote level in one step.
struct level_fill {
    core::qty bid_filled; ///< lots bought by us (a market sell hit our bid)
    core::qty ask_filled; ///< lots sold by us (a market buy lifted our ask)
};

class synthetic_market {
    // The two sides of a quote level side by side, the bid in lane 0 and the ask in lane 1 (one
    // SSE2 or NEON register), so that sample_fills()'s first pass tests both with one
    // instruction per operation. Lane-wise IEEE arithmetic gives each lane exactly the result
    // of the same scalar operations.
    using side_pair = double __attribute__((vector_size(2 * sizeof(double))));
    // A lane-wise comparison's result: all ones where it holds.
    using side_mask = decltype(side_pair{} < side_pair{});

public:
    synthetic_market() = default;

    /// The config must pass validate() (checked by an assertion only); prefer create().
    synthetic_market(const market_config& config, const core::symbol_spec& spec,
                     std::uint64_t seed) noexcept;

    /// Validates the config, then builds the market at time 0 with the initial mid.
    [[nodiscard]] static core::result<synthetic_market, market_config_error>
    create(const market_config& config, const core::symbol_spec& spec, std::uint64_t seed);

    /// Advances simulated time by dt (> 0) and moves the mid. Hot path: no allocation; changing
    /// dt between steps is allowed and costs a few transcendental evaluations once.
    void step(core::duration_ns dt) noexcept {
        if (dt != dt_ns_) [[unlikely]] {
            set_step(dt);
        }
        now_ns_ += dt;
        if (config_.process == price_process::geometric_brownian) {
            mid_ *= portable::exp(gbm_drift_ + gbm_vol_ * price_rng_.normal());
        } else {
            mid_ += price_rng_.coin() ? walk_step_ : -walk_step_;
            if (mid_ < tick_size_) [[unlikely]] {
                mid_ = tick_size_;
            }
        }
    }

    /// Sets the step size before the first step without moving time, so that the order flow
    /// can already be sampled at time 0 (the first quotes face it like every later quote).
    void set_step_size(core::duration_ns dt) noexcept {
        if (dt > 0 && dt != dt_ns_) {
            set_step(dt);
        }
    }

    /// Arrival rate of market orders reaching a quote delta price units from the mid, per second.
    [[nodiscard]] double intensity_per_s(double delta) const noexcept {
        return config_.order_flow_a_per_s *
               portable::exp(-config_.order_flow_k_per_price_unit * delta);
    }

    /// Probability that a quote delta price units from the mid is hit during one step of the
    /// current step size (the last dt passed to step() or set_step_size(); 0 before either).
    [[nodiscard]] double fill_probability(double delta) const noexcept {
        // lambda * dt = exp(log(A dt) - k delta); log(A dt) is cached per step size.
        const double log_lambda_dt = log_a_dt_ - config_.order_flow_k_per_price_unit * delta;
        if (config_.fill_probability == fill_probability_model::linear) {
            return log_lambda_dt >= 0 ? 1.0 : portable::exp(log_lambda_dt);
        }
        const double lambda_dt = portable::exp(log_lambda_dt);
        if (lambda_dt < 1e-5) {
            // 1 - exp(-x) loses digits to cancellation for small x; its series does not.
            return lambda_dt * (1.0 - lambda_dt * (0.5 - lambda_dt * (1.0 / 6.0)));
        }
        return 1.0 - portable::exp(-lambda_dt);
    }

    /// Samples which quotes the order flow hits during the coming step (of the current step
    /// size), given quotes resting at the current mid; writes fills[i] for quotes[i] and returns
    /// the number of sides filled. One market order per side and step: it reaches a random depth
    /// and fills every level of its side within that depth, so a deeper level never fills
    /// without the levels in front of it, and each level's marginal probability is
    /// fill_probability(its distance from the mid). fills must be at least as long as quotes.
    /// Hot path: no allocation.
    std::size_t sample_fills(std::span<const core::quote_level> quotes,
                             std::span<level_fill> fills) noexcept {
        return sample_levels(
            quotes, [&](std::size_t level) { return prices_of(quotes[level]); }, fills);
    }

    /// sample_fills() for quotes whose prices_of() the caller keeps while they rest (prices[i]
    /// of quotes[i]): the same draws and fills, without converting prices on every step.
    std::size_t sample_fills(std::span<const core::quote_level> quotes,
                             std::span<const level_prices> prices,
                             std::span<level_fill> fills) noexcept {
        assert(prices.size() >= quotes.size());
        return sample_levels(
            quotes, [&](std::size_t level) { return prices[level]; }, fills);
    }

    /// A quote level's prices as sample_fills() reads them.
    [[nodiscard]] level_prices prices_of(const core::quote_level& q) const noexcept {
        level_prices out;
        if (q.has_bid()) {
            out.bid = to_price_units(q.bid_price);
        }
        if (q.has_ask()) {
            out.ask = to_price_units(q.ask_price);
        }
        return out;
    }

    /// After a hit of our quote on `filled` (buy: our bid was hit): with probability
    /// informed_share the order was informed and the mid moves against the quote at once, so
    /// the next book shows it. Returns whether it moved. Hot path: no allocation.
    bool after_hit(core::side filled) noexcept {
        if (config_.informed_share <= 0.0 || flow_rng_.uniform() >= config_.informed_share) {
            return false;
        }
        const double move = mid_ * config_.informed_impact_bps * 1e-4;
        mid_ = filled == core::side::buy ? std::max(mid_ - move, tick_size_) : mid_ + move;
        return true;
    }

    /// Current mid in price units (continuous: not on the tick grid).
    [[nodiscard]] double mid() const noexcept { return mid_; }
    /// Best bid of the visible book: mid - spread/2 rounded down to a tick.
    [[nodiscard]] core::price best_bid() const noexcept {
        return spec_.round_bid(mid_ - half_spread_);
    }
    /// Best ask of the visible book: mid + spread/2 rounded up, always above best_bid().
    [[nodiscard]] core::price best_ask() const noexcept { return top().ask; }
    /// best_bid() and best_ask() together.
    [[nodiscard]] visible_top top() const noexcept {
        // Both roundings from one product: mid / tick -/+ the half spread in ticks is within
        // (|mid / tick| + half spread) * 2^-49 of (mid -/+ spread/2) / tick as the symbol's
        // rounding sees it (every operand and operation correctly rounded, 2^-53 each). Where
        // it lies farther than a far wider margin from every integer, so does the exact
        // quotient, and the symbol's rounding, fast path or exact search, gives its floor (bid)
        // or floor + 1 (ask); nearer a grid point (and for NaN) the symbol's rounding decides.
        const double ticks = mid_ * tick_inverse_;
        const double margin = (std::abs(ticks) + half_spread_ticks_) * 0x1p-40 + 0x1p-60;
        const double bid_ticks = ticks - half_spread_ticks_;
        const double ask_ticks = ticks + half_spread_ticks_;
        const double bid_floor = std::floor(bid_ticks);
        const double ask_floor = std::floor(ask_ticks);
        const double bid_fraction = bid_ticks - bid_floor;
        const double ask_fraction = ask_ticks - ask_floor;
        const core::price bid = bid_fraction > margin && 1.0 - bid_fraction > margin
                                    ? core::price{static_cast<std::int64_t>(bid_floor)}
                                    : best_bid();
        const core::price ask = ask_fraction > margin && 1.0 - ask_fraction > margin
                                    ? core::price{static_cast<std::int64_t>(ask_floor + 1.0)}
                                    : spec_.round_ask(mid_ + half_spread_);
        return {bid, ask > bid ? ask : bid + 1};
    }
    /// Simulated time since the start, in nanoseconds.
    [[nodiscard]] core::timestamp_ns now_ns() const noexcept { return now_ns_; }
    /// Step size of the last step or set_step_size(), in nanoseconds (0 before either).
    [[nodiscard]] core::duration_ns step_ns() const noexcept { return dt_ns_; }
    [[nodiscard]] const market_config& config() const noexcept { return config_; }
    [[nodiscard]] const core::symbol_spec& spec() const noexcept { return spec_; }

private:
    // Recomputes the per-step constants for a new step size (rare: usually once per run).
    void set_step(core::duration_ns dt) noexcept;

    // sample_fills() with the prices of level i from prices_of_level(i).
    template <class PricesOfLevel>
    std::size_t sample_levels(std::span<const core::quote_level> quotes,
                              PricesOfLevel prices_of_level, std::span<level_fill> fills) noexcept {
        assert(fills.size() >= quotes.size());
        // One Exp(1) draw per side decides every level of that side (see hit()).
        const auto [bid_draw, ask_draw] = flow_rng_.exponential_pair();
        // Most steps hit nothing: a first pass rules that out with bounds alone. It calls
        // nothing, so the step keeps its values in registers around it; the exact pass, with
        // its calls of exp(), runs only when a quote may be hit.
        const side_pair draws = {bid_draw, ask_draw};
        side_mask any{};
        for (std::size_t i = 0; i < quotes.size(); ++i) {
            const level_prices prices = prices_of_level(i);
            any |= may_hit(draws, side_pair{prices.bid, prices.ask});
            fills[i] = level_fill{}; // the exact pass overwrites it
        }
        if ((any[0] | any[1]) == 0) [[likely]] {
            return 0;
        }
        return sample_hits(quotes, fills, bid_draw, ask_draw);
    }

    // sample_fills() for the draws of a step in which a quote may be hit.
    [[gnu::noinline]] std::size_t sample_hits(std::span<const core::quote_level> quotes,
                                              std::span<level_fill> fills, double bid_draw,
                                              double ask_draw) const noexcept {
        std::size_t filled = 0;
        for (std::size_t i = 0; i < quotes.size(); ++i) {
            // Hits are coin flips at realistic quote distances, so they are computed without
            // branches (a mispredicted branch costs more than the work it would skip).
            const core::quote_level& q = quotes[i];
            const bool bid_hit =
                (q.bid_size.lots() > 0) & hit(bid_draw, mid_ - to_price_units(q.bid_price));
            const bool ask_hit =
                (q.ask_size.lots() > 0) & hit(ask_draw, to_price_units(q.ask_price) - mid_);
            fills[i] = level_fill{core::qty{bid_hit ? fill_lots(q.bid_size) : 0},
                                  core::qty{ask_hit ? fill_lots(q.ask_size) : 0}};
            filled += static_cast<std::size_t>(bid_hit) + static_cast<std::size_t>(ask_hit);
        }
        return filled;
    }

    // Whether a quote delta from the mid is hit, given the side's draw E ~ Exp(1), so that
    // P(hit) = fill_probability(delta) without evaluating it:
    // - linear: P(E > k delta - log(A dt)) = min(1, A dt e^(-k delta)), no transcendental at all;
    // - exponential: E is the first arrival time in units of 1/lambda, so
    //   P(E < lambda dt) = 1 - e^(-lambda dt).
    // Both tests get harder as delta grows, which is what makes one draw sweep the levels.
    [[nodiscard]] bool hit(double draw, double delta) const noexcept {
        return may_hit(draw, delta) &&
               (config_.fill_probability == fill_probability_model::linear ||
                draw < exp_out_of_line(log_lambda_dt(delta)));
    }
    // hit() without exp(): false only when the quote is missed; exact for the linear model.
    [[nodiscard]] bool may_hit(double draw, double delta) const noexcept {
        const double x = log_lambda_dt(delta);
        if (config_.fill_probability == fill_probability_model::linear) {
            return draw > -x;
        }
        // Most draws miss by far: for x < 0, e^-x >= 1 - x + x^2/2 - x^3/6 (every term of its
        // series is positive), so e^x <= 1 / that polynomial. A draw at least 1 + 1e-9 times
        // the bound (far more than exp's and this product's rounding) misses without exp().
        return !(x < 0.0 && draw * exp_bound_divisor(x) >= 1.0 + 1e-9);
    }
    // may_hit() of both sides of a level at once, from their prices: all ones where a quote may
    // be hit. Each lane's x is log_lambda_dt() of its side's distance bit for bit: the ask's
    // lane multiplies mid - ask by -k, and sign changes are exact, so -k (mid - ask) equals
    // k (ask - mid). A side without size (price -inf or +inf) gives x = -inf, or NaN if k = 0.
    // The exponential test needs no x < 0 guard: the bound below holds for every real x. Where
    // the polynomial is not positive the product is not above 1, so the lane stays possible;
    // where it is positive and x >= 0 (then x < 1.6 and e^-x > 0.2), its rounding error, below
    // 1e-15, lies far inside the 1e-9 margin, as for x < 0. The comparisons are false for NaN:
    // a lane whose x or product is NaN (x = -inf and a draw of 0, an unquoted side with k = 0)
    // is reported missed, as the exact test, draw < exp(x), and sample_hits()'s size check
    // find it.
    [[nodiscard]] side_mask may_hit(side_pair draw, side_pair prices) const noexcept {
        const side_pair x = log_a_dt_ - signed_k_ * (mid_ - prices);
        if (config_.fill_probability == fill_probability_model::linear) {
            return draw > -x;
        }
        return draw * exp_bound_divisor(x) < 1.0 + 1e-9;
    }
    // 1 - x + x^2/2 - x^3/6, which is at most e^-x for every real x: the Taylor remainder,
    // e^-xi x^4/24, is not negative (for a double or lane-wise).
    template <class Value> [[nodiscard]] static Value exp_bound_divisor(Value x) noexcept {
        return 1.0 - x * (1.0 - x * (0.5 - x * (1.0 / 6.0)));
    }
    // log(lambda dt) of a quote delta from the mid.
    [[nodiscard]] double log_lambda_dt(double delta) const noexcept {
        return log_a_dt_ - config_.order_flow_k_per_price_unit * delta;
    }
    // portable::exp for the few draws the bound above cannot decide: out of line, so that the
    // sampling loop does not load exp's constants on every step.
    [[gnu::noinline]] static double exp_out_of_line(double x) noexcept { return portable::exp(x); }

    [[nodiscard]] double to_price_units(core::price p) const noexcept {
        return static_cast<double>(p.ticks()) * tick_size_;
    }
    [[nodiscard]] std::int64_t fill_lots(core::qty resting) const noexcept {
        return config_.fill_size == fill_size_model::full
                   ? resting.lots()
                   : std::min(resting.lots(), config_.fixed_fill_lots);
    }

    market_config config_{};
    core::symbol_spec spec_{};
    random_engine price_rng_{};
    random_engine flow_rng_{};
    double mid_ = 0.0;
    double tick_size_ = 1.0;
    double tick_inverse_ = 1.0; // 1 / tick_size_
    double half_spread_ = 0.0;
    double half_spread_ticks_ = 0.0; // half_spread_ * tick_inverse_
    core::timestamp_ns now_ns_ = 0;
    core::duration_ns dt_ns_ = 0;
    double gbm_drift_ = 0.0;                                     // (mu - sigma^2/2) dt, dt in years
    double gbm_vol_ = 0.0;                                       // sigma sqrt(dt), dt in years
    double walk_step_ = 0.0;                                     // sigma sqrt(dt), dt in seconds
    double log_a_dt_ = -std::numeric_limits<double>::infinity(); // log(A dt), dt in seconds
    side_pair signed_k_ = {0.0, -0.0}; // {k, -k}: see may_hit() of both sides
};

} // namespace quoter::sim
