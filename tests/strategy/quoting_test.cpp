// compute_quotes(): models end to end on the exchange grid, symmetric vs skewed, inventory bands,
// levels, rounding and the post-only guard.
#include "quoter/strategy/quoting.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace quoter;
using namespace quoter::strategy;

namespace {

// tick 0.01, step 0.001, min notional 5.
core::symbol_spec test_spec() {
    const auto spec = core::symbol_spec::from_text(
        {.name = "TESTUSDT", .tick_size = "0.01", .step_size = "0.001", .min_notional = "5"});
    REQUIRE(spec.has_value());
    return *spec;
}

// Book 99.99 / 100.01 (mid 100.00), equity 10'000: 1% order size = 100 quote = 1.000 base.
quote_input book_input(const core::symbol_spec& spec, double inventory_base) {
    return make_quote_input(spec, 1'000 * core::ns_per_s, core::price{9999}, core::price{10001},
                            spec.round_qty_down(inventory_base + 1e-9), 10'000.0);
}

strategy_config linear_config() {
    strategy_config config;
    config.model = model_kind::linear;
    config.order_size_pct = 1.0;
    config.linear.spread_bps = 20.0;
    config.linear.inventory_skew_strength = 0.5;
    config.linear.price_impact = 0.1234;
    config.linear.vol_spread_factor = 0.5;
    config.linear.normal_vol_per_sqrt_s = 1e-4;
    config.volatility.sigma_per_sqrt_s = 1e-4;
    return config;
}

strategy_config tick_model_config(model_kind model) {
    strategy_config config;
    config.model = model;
    config.volatility.use_estimate = false;
    config.volatility.sigma_per_sqrt_s = 1e-4; // 1 tick/sqrt(s) at mid 100, tick 0.01
    config.intensity.a_per_s = 1.0;
    config.intensity.k_per_tick = 0.5;
    config.avellaneda_stoikov.gamma_per_tick = 0.1;
    config.avellaneda_stoikov.horizon = horizon_kind::rolling;
    config.avellaneda_stoikov.horizon_s = 60.0;
    config.glft.gamma_per_tick = 0.1;
    config.glft.xi_equals_gamma = true;
    config.glft.delta_orders = 1.0;
    return config;
}

void check_both_sides(const quote_set& quotes, std::int64_t bid, std::int64_t ask,
                      std::int64_t lots) {
    REQUIRE(quotes.status == quote_status::ok);
    REQUIRE(quotes.level_count == 1);
    CHECK(quotes.levels[0].bid_price.ticks() == bid);
    CHECK(quotes.levels[0].ask_price.ticks() == ask);
    CHECK(quotes.levels[0].bid_size.lots() == lots);
    CHECK(quotes.levels[0].ask_size.lots() == lots);
}

} // namespace

TEST_CASE("linear quotes on the grid", "[strategy][quoting]") {
    const auto spec = test_spec();
    auto config = linear_config();
    auto in = book_input(spec, 2.0);
    in.volatility_per_sqrt_s = 2e-4;

    // skewed_mid = 100 - 0.5 * 2 * 0.1234 = 99.8766
    // adjusted   = 0.2 * (1 + 0.5 * 2)    = 0.4, half 0.2
    // bid = 99.8766 - 0.2 = 99.6766 -> down to 99.67; ask = 99.8766 + 0.2 = 100.0766 -> up to
    // 100.08; size = 10'000 * 1% / 100 = 1.000 base = 1000 lots
    auto quotes = compute_quotes(in, config, spec);
    check_both_sides(quotes, 9967, 10008, 1000);
    CHECK(quotes.mode == quote_mode::normal);
    CHECK(quotes.model.center_price == Approx(99.8766));
    CHECK(quotes.model.half_spread == Approx(0.2));
    CHECK(quotes.model.order_size == Approx(1.0));
    CHECK(quotes.model.sigma_estimated);

    // Without an estimate the configured sigma (1e-4) stands in: ratio 1, spread 0.3, half 0.15
    // bid = 99.8766 - 0.15 = 99.7266 -> 99.72; ask = 100.0266 -> 100.03
    in.volatility_per_sqrt_s = 0.0;
    quotes = compute_quotes(in, config, spec);
    check_both_sides(quotes, 9972, 10003, 1000);
    CHECK_FALSE(quotes.model.sigma_estimated);

    // Symmetric: centred on 100 with the same half spread 0.15: 99.85 / 100.15.
    config.symmetric = true;
    quotes = compute_quotes(in, config, spec);
    check_both_sides(quotes, 9985, 10015, 1000);
    CHECK(quotes.model.center_price == Approx(100.0));
}

TEST_CASE("Avellaneda-Stoikov quotes on the grid", "[strategy][quoting]") {
    const auto spec = test_spec();
    auto config = tick_model_config(model_kind::avellaneda_stoikov);
    // inventory 0.5 base = 0.5 order sizes.
    // r = 100 - 0.5 * (0.1 * 1 * 60) ticks = 100 - 3 ticks = 99.97
    // half = (6 + 20 ln 1.2) / 2 = 4.823215567939546 ticks = 0.04823215567939546
    // bid = 99.92176784 -> 99.92; ask = 100.01823216 -> 100.02
    auto quotes = compute_quotes(book_input(spec, 0.5), config, spec);
    check_both_sides(quotes, 9992, 10002, 1000);
    CHECK(quotes.model.center_price == Approx(99.97));

    // Symmetric: 100 -/+ 0.04823 -> 99.95 / 100.05.
    config.symmetric = true;
    quotes = compute_quotes(book_input(spec, 0.5), config, spec);
    check_both_sides(quotes, 9995, 10005, 1000);
}

TEST_CASE("GLFT quotes on the grid", "[strategy][quoting]") {
    const auto spec = test_spec();
    auto config = tick_model_config(model_kind::glft);
    // q = 0.5: bid depth = c1 + c2 = 2.3696571476 ticks -> 99.976303 -> 99.97
    //          ask depth = c1      = 1.8232155679 ticks -> 100.018232 -> 100.02
    auto quotes = compute_quotes(book_input(spec, 0.5), config, spec);
    check_both_sides(quotes, 9997, 10002, 1000);

    // Symmetric: half = c1 + c2/2 = 2.0964363578 ticks -> 99.979036 / 100.020964 -> 99.97 / 100.03
    config.symmetric = true;
    quotes = compute_quotes(book_input(spec, 0.5), config, spec);
    check_both_sides(quotes, 9997, 10003, 1000);
}

TEST_CASE("sizes round down to the step; tiny orders are dropped", "[strategy][quoting]") {
    const auto spec = test_spec();
    auto config = linear_config();
    auto in = book_input(spec, 0.0);
    // 12'345.6789 * 1% / 100 = 1.234567889 base -> 1.234 = 1234 lots
    in.equity = 12'345.6789;
    auto quotes = compute_quotes(in, config, spec);
    CHECK(quotes.levels[0].bid_size.lots() == 1234);
    CHECK(quotes.levels[0].ask_size.lots() == 1234);

    // 100 * 1% = 1 quote of notional, below the minimum of 5: both sides absent.
    in.equity = 100.0;
    quotes = compute_quotes(in, config, spec);
    CHECK(quotes.status == quote_status::ok);
    CHECK_FALSE(quotes.any());
}

TEST_CASE("a quote pushed through the book is held one tick inside it", "[strategy][quoting]") {
    const auto spec = test_spec();
    auto config = linear_config();
    config.linear.price_impact = 1.0;
    // inventory 1.5: skewed_mid = 100 - 0.5 * 1.5 * 1 = 99.25, half 0.15:
    // ask 99.40 would cross the best bid 99.99 -> 100.00; bid 99.10 unchanged.
    auto quotes = compute_quotes(book_input(spec, 1.5), config, spec);
    CHECK(quotes.levels[0].ask_price.ticks() == 10000);
    CHECK(quotes.levels[0].bid_price.ticks() == 9910);
    // Short: bid 100.60 would cross the best ask 100.01 -> 100.00.
    quotes = compute_quotes(book_input(spec, -1.5), config, spec);
    CHECK(quotes.levels[0].bid_price.ticks() == 10000);
    CHECK(quotes.levels[0].ask_price.ticks() == 10090);

    // A zero spread on a grid point still leaves the ask above the bid.
    config.linear.spread_bps = 0.0;
    config.linear.price_impact = 0.0;
    auto in =
        make_quote_input(spec, 0, core::price{9990}, core::price{10010}, core::qty{0}, 10'000.0);
    quotes = compute_quotes(in, config, spec);
    CHECK(quotes.levels[0].bid_price.ticks() == 10000);
    CHECK(quotes.levels[0].ask_price.ticks() == 10001);
}

TEST_CASE("no quote ever crosses, on random books and parameters", "[strategy][quoting]") {
    const auto spec = test_spec();
    std::mt19937_64 rng(20240611);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::uniform_int_distribution<int> model_pick(0, 2);
    for (int trial = 0; trial < 20'000; ++trial) {
        strategy_config config = tick_model_config(static_cast<model_kind>(model_pick(rng)));
        config.symmetric = unit(rng) < 0.3;
        config.linear.spread_bps = unit(rng) * 50.0;
        config.linear.price_impact = unit(rng) * 5.0;
        config.avellaneda_stoikov.gamma_per_tick = unit(rng);
        config.glft.gamma_per_tick = unit(rng);
        config.intensity.k_per_tick = 0.05 + unit(rng);
        config.levels.count = 1 + static_cast<std::uint32_t>(unit(rng) * 5);
        config.levels.spacing = unit(rng) * 3.0;
        config.levels.spacing_unit = unit(rng) < 0.5 ? spacing_kind::ticks : spacing_kind::bps;
        config.levels.size_multiplier = 0.5 + unit(rng);
        const std::int64_t bid = 9000 + static_cast<std::int64_t>(unit(rng) * 2000);
        const std::int64_t ask = bid + 1 + static_cast<std::int64_t>(unit(rng) * 20);
        const double inventory = (unit(rng) - 0.5) * 80.0;
        auto in = make_quote_input(spec, 0, core::price{bid}, core::price{ask},
                                   spec.round_qty_down(inventory), 10'000.0);
        in.volatility_per_sqrt_s = unit(rng) * 5e-4;
        const auto quotes = compute_quotes(in, config, spec);
        REQUIRE(quotes.status == quote_status::ok);
        for (std::uint32_t i = 0; i < quotes.level_count; ++i) {
            const auto& level = quotes.levels[i];
            if (level.has_bid()) {
                REQUIRE(level.bid_price.ticks() < ask);
                REQUIRE(level.bid_price.ticks() > 0);
            }
            if (level.has_ask()) {
                REQUIRE(level.ask_price.ticks() > bid);
            }
            if (level.has_bid() && level.has_ask()) {
                REQUIRE(level.bid_price < level.ask_price);
            }
            if (i > 0 && level.has_bid() && quotes.levels[i - 1].has_bid()) {
                REQUIRE(level.bid_price < quotes.levels[i - 1].bid_price);
            }
            if (i > 0 && level.has_ask() && quotes.levels[i - 1].has_ask()) {
                REQUIRE(level.ask_price > quotes.levels[i - 1].ask_price);
            }
        }
        // Rounding never improves on the model: level-0 bid <= centre - half unless clamped.
        const auto& top = quotes.levels[0];
        if (quotes.mode == quote_mode::normal && top.has_bid() && top.bid_price.ticks() < ask - 1) {
            REQUIRE(spec.to_double(top.bid_price) <=
                    quotes.model.center_price - quotes.model.half_spread + 1e-9);
        }
        if (quotes.mode == quote_mode::normal && top.has_ask() && top.ask_price.ticks() > bid + 1) {
            REQUIRE(spec.to_double(top.ask_price) >=
                    quotes.model.center_price + quotes.model.half_spread - 1e-9);
        }
    }
}

TEST_CASE("inventory bands: normal -> reduce_only -> flatten and back", "[strategy][bands]") {
    const auto spec = test_spec();
    auto config = linear_config();
    config.linear.price_impact = 0.001;
    config.bands.reduce_skew_multiplier = 3.0;
    // equity 10'000 at mid 100: soft band 20% = 2'000 quote = 20 base, hard 30% = 30 base.
    struct step {
        double inventory;
        quote_mode mode;
        bool bid;
        bool ask;
    };
    const step path[] = {
        {0.0, quote_mode::normal, true, true},
        {19.999, quote_mode::normal, true, true},
        {20.0, quote_mode::reduce_only, false, true},
        {29.999, quote_mode::reduce_only, false, true},
        {30.0, quote_mode::flatten, false, true},
        {45.0, quote_mode::flatten, false, true},
        {25.0, quote_mode::reduce_only, false, true},
        {5.0, quote_mode::normal, true, true},
        {-20.0, quote_mode::reduce_only, true, false},
        {-30.0, quote_mode::flatten, true, false},
        {-10.0, quote_mode::normal, true, true},
    };
    for (const auto& s : path) {
        CAPTURE(s.inventory);
        const auto quotes = compute_quotes(book_input(spec, s.inventory), config, spec);
        CHECK(quotes.mode == s.mode);
        CHECK(quotes.levels[0].has_bid() == s.bid);
        CHECK(quotes.levels[0].has_ask() == s.ask);
    }

    // Beyond the soft band the skew is 3x: inventory 25 -> offset 3 * 0.5 * 25 * 0.001.
    auto quotes = compute_quotes(book_input(spec, 25.0), config, spec);
    CHECK(quotes.model.center_price == Approx(100.0 - 3.0 * 0.5 * 25.0 * 0.001));
    quotes = compute_quotes(book_input(spec, 15.0), config, spec);
    CHECK(quotes.model.center_price == Approx(100.0 - 0.5 * 15.0 * 0.001));

    // Flatten: one order for the whole position, one tick above the best bid (post-only).
    quotes = compute_quotes(book_input(spec, 45.0), config, spec);
    CHECK(quotes.level_count == 1);
    CHECK(quotes.levels[0].ask_price.ticks() == 10000);
    CHECK(quotes.levels[0].ask_size.lots() == 45'000);
    quotes = compute_quotes(book_input(spec, -30.0), config, spec);
    CHECK(quotes.levels[0].bid_price.ticks() == 10000);
    CHECK(quotes.levels[0].bid_size.lots() == 30'000);
}

TEST_CASE("bands are measured from the target inventory", "[strategy][bands]") {
    const auto spec = test_spec();
    auto config = linear_config();
    config.bands.target_inventory = 10.0;
    // deviation 0: normal; +25: reduce by selling; -25: reduce by buying; +40: flatten 40 base.
    CHECK(compute_quotes(book_input(spec, 10.0), config, spec).mode == quote_mode::normal);
    auto quotes = compute_quotes(book_input(spec, 35.0), config, spec);
    CHECK(quotes.mode == quote_mode::reduce_only);
    CHECK(quotes.levels[0].has_ask());
    CHECK_FALSE(quotes.levels[0].has_bid());
    quotes = compute_quotes(book_input(spec, -15.0), config, spec);
    CHECK(quotes.mode == quote_mode::reduce_only);
    CHECK(quotes.levels[0].has_bid());
    CHECK_FALSE(quotes.levels[0].has_ask());
    quotes = compute_quotes(book_input(spec, 50.0), config, spec);
    CHECK(quotes.mode == quote_mode::flatten);
    CHECK(quotes.levels[0].ask_size.lots() == 40'000);

    // The skew pulls toward the target: at the target there is none.
    quotes = compute_quotes(book_input(spec, 10.0), config, spec);
    CHECK(quotes.model.center_price == Approx(100.0));

    // Without equity any deviation flattens; a flat book at the target stays normal.
    CHECK(classify_inventory(config.bands, 1.0, 100.0, 0.0) == quote_mode::flatten);
    CHECK(classify_inventory(config.bands, 0.0, 100.0, 0.0) == quote_mode::normal);
    CHECK(classify_inventory(config.bands, -1.0, 100.0, -5.0) == quote_mode::flatten);
}

TEST_CASE("bands apply to every model", "[strategy][bands]") {
    const auto spec = test_spec();
    for (const auto model :
         {model_kind::linear, model_kind::avellaneda_stoikov, model_kind::glft}) {
        auto config = tick_model_config(model);
        CAPTURE(to_string(model));
        auto quotes = compute_quotes(book_input(spec, 22.0), config, spec);
        CHECK(quotes.mode == quote_mode::reduce_only);
        CHECK_FALSE(quotes.levels[0].has_bid());
        CHECK(quotes.levels[0].has_ask());
        quotes = compute_quotes(book_input(spec, -31.0), config, spec);
        CHECK(quotes.mode == quote_mode::flatten);
        CHECK(quotes.levels[0].bid_price.ticks() == 10000);
        CHECK(quotes.levels[0].bid_size.lots() == 31'000);
        CHECK_FALSE(quotes.levels[0].has_ask());
    }
}

TEST_CASE("multiple levels: spacing and size multiplier", "[strategy][levels]") {
    const auto spec = test_spec();
    auto config = linear_config();
    config.symmetric = true;
    config.linear.vol_spread_factor = 0.0; // half spread 0.1: 99.90 / 100.10
    config.levels.count = 3;
    config.levels.spacing_unit = spacing_kind::ticks;
    config.levels.spacing = 5.0;
    config.levels.size_multiplier = 2.0;
    auto quotes = compute_quotes(book_input(spec, 0.0), config, spec);
    REQUIRE(quotes.level_count == 3);
    const std::int64_t bids[] = {9990, 9985, 9980};
    const std::int64_t asks[] = {10010, 10015, 10020};
    const std::int64_t sizes[] = {1000, 2000, 4000};
    for (int i = 0; i < 3; ++i) {
        CHECK(quotes.levels[i].bid_price.ticks() == bids[i]);
        CHECK(quotes.levels[i].ask_price.ticks() == asks[i]);
        CHECK(quotes.levels[i].bid_size.lots() == sizes[i]);
        CHECK(quotes.levels[i].ask_size.lots() == sizes[i]);
    }

    // 3 bps of mid 100 = 0.03 per level.
    config.levels.spacing_unit = spacing_kind::bps;
    config.levels.spacing = 3.0;
    config.levels.size_multiplier = 0.5;
    quotes = compute_quotes(book_input(spec, 0.0), config, spec);
    CHECK(quotes.levels[1].bid_price.ticks() == 9987);
    CHECK(quotes.levels[2].bid_price.ticks() == 9984);
    CHECK(quotes.levels[2].ask_price.ticks() == 10016);
    CHECK(quotes.levels[2].ask_size.lots() == 250);

    // Spacing under a tick still leaves one tick between levels.
    config.levels.spacing_unit = spacing_kind::ticks;
    config.levels.spacing = 0.1;
    quotes = compute_quotes(book_input(spec, 0.0), config, spec);
    CHECK(quotes.levels[1].bid_price.ticks() == 9989);
    CHECK(quotes.levels[2].bid_price.ticks() == 9988);
    CHECK(quotes.levels[2].ask_price.ticks() == 10012);

    // Count is capped at max_quote_levels; levels on the reducing side only in reduce_only.
    config.levels.count = 100;
    quotes = compute_quotes(book_input(spec, 25.0), config, spec);
    CHECK(quotes.level_count == max_quote_levels);
    for (std::uint32_t i = 0; i < quotes.level_count; ++i) {
        CHECK_FALSE(quotes.levels[i].has_bid());
    }
    CHECK(quotes.levels[1].has_ask());
}

TEST_CASE("unusable books and parameters are reported, not quoted", "[strategy][quoting]") {
    const auto spec = test_spec();
    const auto config = linear_config();
    auto in = make_quote_input(spec, 0, core::price{10001}, core::price{10001}, core::qty{0}, 1e4);
    CHECK(compute_quotes(in, config, spec).status == quote_status::invalid_book);
    in = make_quote_input(spec, 0, core::price{0}, core::price{10001}, core::qty{0}, 1e4);
    CHECK(compute_quotes(in, config, spec).status == quote_status::invalid_book);
    in = book_input(spec, 0.0);
    in.equity = std::nan("");
    CHECK(compute_quotes(in, config, spec).status == quote_status::invalid_book);

    auto broken = tick_model_config(model_kind::glft);
    broken.intensity.k_per_tick = 0.0;
    const auto quotes = compute_quotes(book_input(spec, 0.0), broken, spec);
    CHECK(quotes.status == quote_status::invalid_model);
    CHECK_FALSE(quotes.any());
    CHECK(to_string(quote_status::invalid_model) == "invalid_model");
    CHECK(to_string(quote_mode::reduce_only) == "reduce_only");
}

TEST_CASE("online intensity replaces configured A and k only when fitted", "[strategy][quoting]") {
    const auto spec = test_spec();
    auto config = tick_model_config(model_kind::glft);
    config.intensity.use_estimate = true;
    auto in = book_input(spec, 0.0);
    in.intensity = {.a_per_s = 3.0, .k_per_tick = 0.25, .trades = 10.0, .fitted = false};
    auto quotes = compute_quotes(in, config, spec);
    CHECK_FALSE(quotes.model.intensity_estimated);
    CHECK(quotes.model.a_per_s == 1.0);
    CHECK(quotes.model.k_per_tick == 0.5);

    in.intensity.fitted = true;
    quotes = compute_quotes(in, config, spec);
    CHECK(quotes.model.intensity_estimated);
    CHECK(quotes.model.a_per_s == 3.0);
    CHECK(quotes.model.k_per_tick == 0.25);

    config.intensity.use_estimate = false;
    CHECK_FALSE(compute_quotes(in, config, spec).model.intensity_estimated);
}

TEST_CASE("compute_quotes into a kept quote_set equals a fresh one as the level count changes",
          "[strategy][quoting]") {
    const auto spec = test_spec();
    quote_set kept;
    const auto same = [](const quote_set& a, const quote_set& b) {
        for (std::size_t i = 0; i < a.levels.size(); ++i) {
            CHECK(a.levels[i].bid_price == b.levels[i].bid_price);
            CHECK(a.levels[i].bid_size == b.levels[i].bid_size);
            CHECK(a.levels[i].ask_price == b.levels[i].ask_price);
            CHECK(a.levels[i].ask_size == b.levels[i].ask_size);
        }
        CHECK(a.level_count == b.level_count);
        CHECK(a.mode == b.mode);
        CHECK(a.status == b.status);
        CHECK(a.model.center_price == b.model.center_price);
        CHECK(a.model.half_spread == b.model.half_spread);
    };
    auto config = linear_config();
    // 4 levels, then 1, then a flatten (1 level), an invalid book (0), and 3 again.
    for (const std::uint32_t levels : {4U, 1U, 3U}) {
        config.levels.count = levels;
        config.levels.spacing = 2.0;
        auto in = book_input(spec, 0.0);
        compute_quotes(in, config, spec, kept);
        same(kept, compute_quotes(in, config, spec));
        in = book_input(spec, 60.0); // far beyond the hard band: one flatten order
        compute_quotes(in, config, spec, kept);
        same(kept, compute_quotes(in, config, spec));
        in.best_ask = in.best_bid; // crossed: invalid, no level
        compute_quotes(in, config, spec, kept);
        same(kept, compute_quotes(in, config, spec));
    }
}

// ---------------------------------------------------------------------------------------------
// The Avellaneda-Stoikov (2008) experiment's options: one unit per order, absolute volatility,
// quotes through the touch.

namespace {

// The paper's units: tick 0.0001 (near-continuous prices), one unit per lot.
core::symbol_spec unit_spec() {
    const auto spec = core::symbol_spec::from_text(
        {.name = "AS2008", .tick_size = "0.0001", .step_size = "1", .min_notional = "0"});
    REQUIRE(spec.has_value());
    return *spec;
}

// gamma = 0.1 and k = 1.5 per price unit, sigma = 2 price units per sqrt(s), T = 1 s.
strategy_config as2008_config() {
    strategy_config config;
    config.model = model_kind::avellaneda_stoikov;
    config.order_size_base = 1.0;
    config.volatility.use_estimate = false;
    config.volatility.absolute = true;
    config.volatility.sigma_per_sqrt_s = 2.0;
    config.intensity.k_per_tick = 1.5e-4;
    config.avellaneda_stoikov.gamma_per_tick = 0.1e-4;
    config.avellaneda_stoikov.horizon = horizon_kind::finite;
    config.avellaneda_stoikov.terminal_time_ns = core::ns_per_s;
    config.bands.soft_limit_pct = 1e9;
    config.bands.hard_limit_pct = 1e9;
    config.clamp_to_book = false;
    return config;
}

// Book 99.9999 / 100.0001 (mid 100) at t = 0 with `inventory` units and `equity`.
quote_input as2008_input(double inventory, double equity) {
    return make_quote_input(unit_spec(), 0, core::price{999'999}, core::price{1'000'001},
                            core::qty{static_cast<std::int64_t>(inventory)}, equity);
}

} // namespace

TEST_CASE("order_size_base: one unit per order whatever the equity, q counts units",
          "[strategy][quoting][as2008]") {
    const auto spec = unit_spec();
    const auto config = as2008_config();
    for (const double equity : {1'000.0, 12'345.0, 1e6}) {
        const auto set = compute_quotes(as2008_input(2, equity), config, spec);
        REQUIRE(set.status == quote_status::ok);
        CHECK(set.levels[0].bid_size.lots() == 1);
        CHECK(set.levels[0].ask_size.lots() == 1);
        CHECK(set.model.order_size == 1.0);
        // r = s - q gamma sigma^2 (T - t) = 100 - 2 * 0.1 * 4 * 1 = 99.2.
        CHECK(set.model.center_price == Approx(99.2).margin(1e-9));
    }
    // 1.5 units round to one lot: q is the inventory in orders actually sent (2), not 2 / 1.5.
    auto odd = config;
    odd.order_size_base = 1.5;
    const auto set = compute_quotes(as2008_input(2, 1e6), odd, spec);
    CHECK(set.levels[0].bid_size.lots() == 1);
    CHECK(set.model.center_price == Approx(99.2).margin(1e-9));
}

TEST_CASE("volatility.absolute: sigma in price units per sqrt(s), not scaled by the mid",
          "[strategy][quoting][as2008]") {
    const auto spec = unit_spec();
    auto config = as2008_config();
    const auto set = compute_quotes(as2008_input(0, 1e6), config, spec);
    REQUIRE(set.status == quote_status::ok);
    // spread = gamma sigma^2 (T - t) + (2 / gamma) ln(1 + gamma / k) = 0.4 + 20 ln(1 + 1/15).
    const double spread = 0.4 + 20.0 * std::log(1.0 + 0.1 / 1.5);
    CHECK(2.0 * set.model.half_spread == Approx(spread).epsilon(1e-12));
    // The relative reading of the same number would be 2 * 100 = 200 per sqrt(s).
    config.volatility.absolute = false;
    const auto relative = compute_quotes(as2008_input(0, 1e6), config, spec);
    CHECK(2.0 * relative.model.half_spread > 1000.0);
}

TEST_CASE("clamp_to_book = false: a quote the model puts through the mid is sent there",
          "[strategy][quoting][as2008]") {
    const auto spec = unit_spec();
    auto config = as2008_config();
    // Long 3 units: r = 100 - 1.2, half spread 0.845: the ask is at 98.955, below the mid.
    const auto through = compute_quotes(as2008_input(3, 1e6), config, spec);
    REQUIRE(through.status == quote_status::ok);
    CHECK(through.levels[0].ask_price.ticks() < 999'999);
    CHECK(spec.to_double(through.levels[0].ask_price) ==
          Approx(98.8 + through.model.half_spread).margin(1e-4));
    config.clamp_to_book = true;
    const auto clamped = compute_quotes(as2008_input(3, 1e6), config, spec);
    CHECK(clamped.levels[0].ask_price.ticks() == 1'000'000); // one tick above the best bid
}
