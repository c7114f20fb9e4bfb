// compute_quotes() against a plain reference: the straightforward form of the algorithm, kept
// here as its specification. The library's version derives its per-config constants once (a
// quote_plan) and has an instantiation for the common case, which quoting_strategy inlines; on
// random books, configs and symbols, including unusable ones, each must give the same quote_set
// as the reference, bit for bit.
#include "quoter/core/notional.hpp"
#include "quoter/strategy/quote_models.hpp"
#include "quoter/strategy/quoting.hpp"
#include "quoter/strategy/quoting_strategy.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <random>

using namespace quoter;
using namespace quoter::strategy;

namespace {

constexpr std::int64_t max_sane_ticks = std::int64_t{1} << 60;

bool sane(core::price p) noexcept {
    return p.ticks() > 0 && p.ticks() < max_sane_ticks;
}

bool meets_min_notional(const core::symbol_spec& spec, core::price p, core::qty q) noexcept {
    return core::exact_notional_units(spec, p, q) >= spec.min_notional_units();
}

void reference_quotes(const quote_input& in, const strategy_config& config,
                      const core::symbol_spec& spec, quote_set& out) noexcept {
    // Back to a default quote_set: the levels past level_count are empty already.
    for (std::uint32_t i = 0; i < out.level_count && i < out.levels.size(); ++i) {
        out.levels[i] = core::quote_level{};
    }
    out.level_count = 0;
    out.mode = quote_mode::normal;
    out.status = quote_status::ok;
    // out.model is written whole below; the early returns clear it.
    if (!sane(in.best_bid) || !sane(in.best_ask) || in.best_ask <= in.best_bid || !(in.mid > 0.0) ||
        !std::isfinite(in.mid) || !std::isfinite(in.equity)) {
        out.model = quote_diagnostics{};
        out.status = quote_status::invalid_book;
        return;
    }

    const double deviation = spec.to_double(in.inventory) - config.bands.target_inventory;
    out.mode = classify_inventory(config.bands, deviation, in.mid, in.equity);
    // A size in units is rounded once here, so that q below counts whole orders.
    const double order_size =
        config.order_size_base > 0.0
            ? spec.to_double(spec.round_qty_down(config.order_size_base))
            : (in.equity > 0.0 ? in.equity * config.order_size_pct / 100.0 / in.mid : 0.0);

    const bool sigma_estimated = config.volatility.use_estimate && in.volatility_per_sqrt_s > 0.0 &&
                                 std::isfinite(in.volatility_per_sqrt_s);
    const bool intensity_estimated = config.intensity.use_estimate && in.intensity.fitted;

    model_inputs model_in;
    model_in.time = in.time;
    model_in.mid = in.mid;
    model_in.tick_size = spec.tick_size();
    model_in.inventory = deviation;
    model_in.q_orders = order_size > 0.0 ? deviation / order_size : 0.0;
    // The estimators measure relative volatility; an absolute config scales them by the mid.
    model_in.sigma_per_sqrt_s =
        sigma_estimated ? in.volatility_per_sqrt_s * (config.volatility.absolute ? in.mid : 1.0)
                        : config.volatility.sigma_per_sqrt_s;
    model_in.sigma_absolute = config.volatility.absolute;
    model_in.a_per_s = intensity_estimated ? in.intensity.a_per_s : config.intensity.a_per_s;
    model_in.k_per_tick =
        intensity_estimated ? in.intensity.k_per_tick : config.intensity.k_per_tick;

    const model_quote model = evaluate_model(config, model_in);
    if (!std::isfinite(model.center_offset) || !std::isfinite(model.half_spread) ||
        model.half_spread < 0.0) {
        out.model = quote_diagnostics{};
        out.status = quote_status::invalid_model;
        return;
    }

    double offset = config.symmetric ? 0.0 : model.center_offset;
    if (out.mode != quote_mode::normal) {
        offset *= config.bands.reduce_skew_multiplier;
    }
    const double center = in.mid + offset;
    const double half = model.half_spread;

    out.model = {.center_price = center,
                 .half_spread = half,
                 .order_size = order_size,
                 .inventory_deviation = deviation,
                 .sigma_per_sqrt_s = model_in.sigma_per_sqrt_s,
                 .a_per_s = model_in.a_per_s,
                 .k_per_tick = model_in.k_per_tick,
                 .sigma_estimated = sigma_estimated,
                 .intensity_estimated = intensity_estimated};

    if (out.mode == quote_mode::flatten) {
        // One order for the whole deviation at the most aggressive price post-only allows.
        out.level_count = 1;
        const core::qty size = spec.round_qty_down(std::fabs(deviation));
        core::quote_level& level = out.levels[0];
        if (deviation > 0.0) {
            const core::price ask = in.best_bid + 1;
            if (size.lots() > 0 && meets_min_notional(spec, ask, size)) {
                level.ask_price = ask;
                level.ask_size = size;
            }
        } else {
            const core::price bid = in.best_ask - 1;
            if (size.lots() > 0 && sane(bid) && meets_min_notional(spec, bid, size)) {
                level.bid_price = bid;
                level.bid_size = size;
            }
        }
        return;
    }

    bool quote_bid = out.mode == quote_mode::normal || deviation < 0.0;
    bool quote_ask = out.mode == quote_mode::normal || deviation > 0.0;
    const std::uint32_t count = std::clamp<std::uint32_t>(
        config.levels.count, 1, static_cast<std::uint32_t>(max_quote_levels));
    const double spacing = std::max(config.levels.spacing_unit == spacing_kind::ticks
                                        ? config.levels.spacing * spec.tick_size()
                                        : in.mid * config.levels.spacing / 1e4,
                                    0.0);
    out.level_count = count;

    core::price previous_bid;
    core::price previous_ask;
    double size = order_size;
    for (std::uint32_t i = 0; i < count; ++i, size *= config.levels.size_multiplier) {
        const core::qty lots = spec.round_qty_down(size);
        const double depth = spacing * static_cast<double>(i);
        core::quote_level& level = out.levels[i];
        core::price bid;
        if (quote_bid) {
            bid = spec.round_bid(center - half - depth);
            if (config.clamp_to_book) {
                bid = std::min(bid, in.best_ask - 1);
            }
            if (i > 0) {
                bid = std::min(bid, previous_bid - 1);
            }
            if (!sane(bid)) {
                quote_bid = false; // every deeper level would be lower still
            } else {
                previous_bid = bid;
                if (lots.lots() > 0 && meets_min_notional(spec, bid, lots)) {
                    level.bid_price = bid;
                    level.bid_size = lots;
                }
            }
        }
        if (quote_ask) {
            core::price ask = spec.round_ask(center + half + depth);
            if (config.clamp_to_book) {
                ask = std::max(ask, in.best_bid + 1);
            }
            if (i > 0) {
                ask = std::max(ask, previous_ask + 1);
            } else if (quote_bid) {
                // A zero half-spread on a grid point would otherwise put both sides on one price.
                ask = std::max(ask, bid + 1);
            }
            if (!sane(ask)) {
                quote_ask = false;
            } else {
                previous_ask = ask;
                if (lots.lots() > 0 && meets_min_notional(spec, ask, lots)) {
                    level.ask_price = ask;
                    level.ask_size = lots;
                }
            }
        }
    }
}

// Doubles compared by their bits: -0.0 differs from 0.0, and NaN equals the same NaN.
bool same_bits(double a, double b) {
    return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

void require_same(const quote_set& expected, const quote_set& actual) {
    for (std::size_t i = 0; i < expected.levels.size(); ++i) {
        CAPTURE(i);
        REQUIRE(actual.levels[i].bid_price == expected.levels[i].bid_price);
        REQUIRE(actual.levels[i].bid_size == expected.levels[i].bid_size);
        REQUIRE(actual.levels[i].ask_price == expected.levels[i].ask_price);
        REQUIRE(actual.levels[i].ask_size == expected.levels[i].ask_size);
    }
    REQUIRE(actual.level_count == expected.level_count);
    REQUIRE(actual.mode == expected.mode);
    REQUIRE(actual.status == expected.status);
    const quote_diagnostics& e = expected.model;
    const quote_diagnostics& a = actual.model;
    REQUIRE(same_bits(a.center_price, e.center_price));
    REQUIRE(same_bits(a.half_spread, e.half_spread));
    REQUIRE(same_bits(a.order_size, e.order_size));
    REQUIRE(same_bits(a.inventory_deviation, e.inventory_deviation));
    REQUIRE(same_bits(a.sigma_per_sqrt_s, e.sigma_per_sqrt_s));
    REQUIRE(same_bits(a.a_per_s, e.a_per_s));
    REQUIRE(same_bits(a.k_per_tick, e.k_per_tick));
    REQUIRE(a.sigma_estimated == e.sigma_estimated);
    REQUIRE(a.intensity_estimated == e.intensity_estimated);
}

/// What quote_set promises its consumers: a side left out, and every level past level_count,
/// is all zero.
void require_absent_sides_zero(const quote_set& set) {
    for (std::size_t i = 0; i < set.levels.size(); ++i) {
        CAPTURE(i);
        const core::quote_level& level = set.levels[i];
        const bool in_use = i < set.level_count;
        if (!in_use || !level.has_bid()) {
            REQUIRE(level.bid_price.ticks() == 0);
            REQUIRE(level.bid_size.lots() == 0);
        }
        if (!in_use || !level.has_ask()) {
            REQUIRE(level.ask_price.ticks() == 0);
            REQUIRE(level.ask_size.lots() == 0);
        }
    }
}

core::symbol_spec spec_of(const char* tick, const char* step, const char* min_notional) {
    const auto spec = core::symbol_spec::from_text(
        {.name = "TEST", .tick_size = tick, .step_size = step, .min_notional = min_notional});
    REQUIRE(spec.has_value());
    return *spec;
}

class random_case {
public:
    explicit random_case(std::uint64_t seed) : rng_(seed) {}

    double unit() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }
    bool chance(double p) { return unit() < p; }
    double log_uniform(double lo, double hi) { return lo * std::pow(hi / lo, unit()); }

    /// Mostly ordinary values, sometimes one that no config should hold.
    double odd_or(double value) {
        if (!chance(0.03)) {
            return value;
        }
        constexpr std::array<double, 6> odd{0.0,
                                            -0.0,
                                            -1.0,
                                            1e300,
                                            std::numeric_limits<double>::infinity(),
                                            std::numeric_limits<double>::quiet_NaN()};
        return odd[static_cast<std::size_t>(unit() * odd.size()) % odd.size()];
    }

    strategy_config config() {
        strategy_config c;
        c.model = static_cast<model_kind>(static_cast<int>(unit() * 3) % 3);
        c.symmetric = chance(0.2);
        c.order_size_pct = odd_or(log_uniform(0.01, 20.0));
        c.order_size_base = chance(0.2) ? odd_or(log_uniform(1e-4, 10.0)) : 0.0;
        c.clamp_to_book = !chance(0.2);
        c.volatility.use_estimate = chance(0.7);
        c.volatility.sigma_per_sqrt_s = odd_or(log_uniform(1e-6, 1e-2));
        c.volatility.absolute = chance(0.15);
        c.intensity.use_estimate = chance(0.3);
        c.intensity.a_per_s = odd_or(log_uniform(0.1, 10.0));
        c.intensity.k_per_tick = odd_or(log_uniform(1e-4, 2.0));
        c.linear.spread_bps = odd_or(unit() * 50.0);
        c.linear.inventory_skew_strength = odd_or(unit() * 2.0);
        c.linear.price_impact = odd_or(unit() * 500.0);
        c.linear.vol_spread_factor = odd_or(unit());
        c.linear.normal_vol_per_sqrt_s = chance(0.1) ? 0.0 : odd_or(log_uniform(1e-5, 1e-3));
        c.avellaneda_stoikov.gamma_per_tick = odd_or(log_uniform(1e-6, 1.0));
        c.avellaneda_stoikov.horizon = chance(0.5) ? horizon_kind::rolling : horizon_kind::finite;
        c.avellaneda_stoikov.horizon_s = odd_or(unit() * 120.0);
        c.avellaneda_stoikov.terminal_time_ns = static_cast<core::timestamp_ns>(unit() * 2e12);
        c.glft.gamma_per_tick = odd_or(log_uniform(1e-6, 1.0));
        c.glft.xi_equals_gamma = chance(0.7);
        c.glft.xi_per_tick = odd_or(unit() * 0.1);
        c.glft.delta_orders = odd_or(0.5 + unit());
        c.bands.target_inventory = chance(0.7) ? 0.0 : (unit() - 0.5) * 2.0;
        c.bands.soft_limit_pct = odd_or(unit() * 40.0);
        c.bands.hard_limit_pct = odd_or(c.bands.soft_limit_pct + unit() * 40.0);
        c.bands.reduce_skew_multiplier = odd_or(1.0 + unit() * 3.0);
        c.levels.count = chance(0.5) ? 1 : static_cast<std::uint32_t>(unit() * 11); // 0..10
        c.levels.spacing_unit = chance(0.5) ? spacing_kind::ticks : spacing_kind::bps;
        c.levels.spacing = odd_or(unit() * 10.0);
        c.levels.size_multiplier = odd_or(0.5 + unit());
        if (chance(0.3)) {
            // The most common shape (quote_plan::common_shape), with random values.
            c.model = model_kind::linear;
            c.levels.count = 1;
            c.order_size_base = 0.0;
            c.volatility.absolute = false;
            c.intensity.use_estimate = false;
            c.symmetric = false;
            c.clamp_to_book = true;
        }
        return c;
    }

    quote_input input(const core::symbol_spec& spec) {
        const double price = log_uniform(1e-3, 1e6);
        std::int64_t bid = std::max<std::int64_t>(
            0, static_cast<std::int64_t>(std::floor(price / spec.tick_size())));
        std::int64_t ask = bid + 1 + static_cast<std::int64_t>(unit() * 20);
        if (chance(0.03)) {
            std::swap(bid, ask); // crossed
        }
        if (chance(0.02)) {
            bid = chance(0.5) ? 0 : -bid;
        }
        if (chance(0.02)) {
            ask = (std::int64_t{1} << 60) + static_cast<std::int64_t>(unit() * 100) - 50;
            bid = ask - 1 - static_cast<std::int64_t>(unit() * 5);
        }
        const double equity = odd_or(log_uniform(10.0, 1e7));
        const double inventory_value = chance(0.2) ? 0.0 : (unit() - 0.5) * equity * 0.8;
        const double inventory = price > 0.0 ? inventory_value / price : 0.0;
        quote_input in = make_quote_input(
            spec, static_cast<core::timestamp_ns>(unit() * 1e12), core::price{bid},
            core::price{ask}, spec.round_qty_down(std::isfinite(inventory) ? inventory : 0.0),
            equity);
        in.mid = odd_or(in.mid);
        in.volatility_per_sqrt_s = chance(0.2) ? 0.0 : odd_or(log_uniform(1e-6, 1e-3));
        in.intensity = {.a_per_s = odd_or(log_uniform(0.1, 10.0)),
                        .k_per_tick = odd_or(log_uniform(1e-4, 2.0)),
                        .trades = 100.0,
                        .fitted = chance(0.5)};
        return in;
    }

private:
    std::mt19937_64 rng_;
};

std::array<core::symbol_spec, 6> test_specs() {
    return {spec_of("0.01", "0.00001", "5"),     spec_of("0.05", "0.001", "10"),
            spec_of("0.0001", "1", "0"),         spec_of("1", "0.1", "0"),
            spec_of("0.00000001", "1", "0.001"), spec_of("0.1", "0.00000001", "100")};
}

} // namespace

TEST_CASE("compute_quotes equals its reference bit for bit", "[strategy][quoting]") {
    const auto specs = test_specs();
    random_case random(20251206);
    for (int trial = 0; trial < 3'000; ++trial) {
        CAPTURE(trial);
        const core::symbol_spec& spec = specs[static_cast<std::size_t>(trial) % specs.size()];
        const strategy_config config = random.config();
        const quote_plan plan(config, spec);
        // One kept set of each kind through a run of updates, as a strategy uses them.
        quote_set expected_kept;
        quote_set actual_kept;
        for (int update = 0; update < 20; ++update) {
            CAPTURE(update);
            const quote_input in = random.input(spec);
            reference_quotes(in, config, spec, expected_kept);
            compute_quotes(in, plan, actual_kept);
            require_same(expected_kept, actual_kept);
            require_absent_sides_zero(actual_kept);
            require_same(expected_kept, compute_quotes(in, config, spec));
        }
    }
}

TEST_CASE("quoting_strategy quotes what the reference computes from its input",
          "[strategy][quoting_strategy]") {
    const auto specs = test_specs();
    random_case random(7);
    for (int trial = 0; trial < 1'000; ++trial) {
        CAPTURE(trial);
        const core::symbol_spec& spec = specs[static_cast<std::size_t>(trial) % specs.size()];
        const strategy_config config = random.config();
        quoting_strategy strategy(config, spec);
        quote_set expected_kept;
        quote_set actual_kept;
        for (int update = 0; update < 20; ++update) {
            CAPTURE(update);
            const quote_input book = random.input(spec);
            const auto time = static_cast<core::timestamp_ns>(update) * core::ns_per_s;
            strategy.on_book(time, book.best_bid, book.best_ask);
            reference_quotes(strategy.make_input(time, book.inventory, book.equity), config, spec,
                             expected_kept);
            strategy.quote(time, book.inventory, book.equity, actual_kept);
            require_same(expected_kept, actual_kept);
            require_absent_sides_zero(actual_kept);
        }
    }
}
