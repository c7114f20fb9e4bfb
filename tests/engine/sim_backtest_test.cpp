// Synthetic backtests through the core loop end to end: determinism, the PnL identity on every
// sample, inventory control over many paths (skewed against symmetric quoting), the
// one-order-per-slot invariant, risk refusals and the kill switch.
#include "quoter/engine/sim_backtest.hpp"

#include "engine_test_support.hpp"

#include "quoter/ops/control.hpp"
#include "quoter/ops/journal.hpp"
#include "quoter/sim/report.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

using namespace quoter;

namespace {

core::symbol_spec btc_spec() {
    return *core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.01", .step_size = "0.00001", .min_notional = "5"});
}

/// The shipped config/sim.toml set-up, shortened.
engine::backtest_config btc_config(double duration_s) {
    engine::backtest_config c;
    c.risk = engine::permissive_risk();
    c.strategy.order_size_pct = 1.0;
    c.strategy.linear = {.spread_bps = 10.0,
                         .inventory_skew_strength = 1.0,
                         .price_impact = 200.0,
                         .vol_spread_factor = 0.5,
                         .normal_vol_per_sqrt_s = 1e-4};
    c.market.initial_mid_price = 60000.0;
    c.market.gbm_sigma_per_sqrt_year = 0.5;
    c.market.order_flow_a_per_s = 5.0;
    c.market.order_flow_k_per_price_unit = 0.1;
    c.exchange.order_entry_latency = {exec::latency_distribution::uniform, 2 * core::ns_per_ms,
                                      core::ns_per_ms};
    c.exchange.cancel_latency = c.exchange.order_entry_latency;
    c.exchange.market_data_latency = {exec::latency_distribution::uniform, core::ns_per_ms,
                                      core::ns_per_ms / 2};
    c.exchange.maker_fee_bps = 1.0;
    c.exchange.taker_fee_bps = 4.0;
    c.step_ns = 100 * core::ns_per_ms;
    c.duration_ns = static_cast<core::duration_ns>(duration_s * 1e9);
    c.initial_cash = 100'000.0;
    c.record_interval_ns = core::ns_per_s;
    return c;
}

core::symbol_spec unit_spec() {
    return *core::symbol_spec::from_text(
        {.name = "TEST", .tick_size = "0.01", .step_size = "1", .min_notional = "0"});
}

/// The setting of Avellaneda and Stoikov's simulations (mid 100, +/- 2 sqrt(dt) random walk,
/// dt = 5 ms, A = 140/s, k = 1.5) with the linear model: one unit per order, the skew the
/// paper's inventory strategy has at t = 0 (gamma sigma^2 T = 0.4 per unit), and a spread near
/// its optimum. Bands far away, no re-quote throttle: only the skew controls inventory.
engine::backtest_config as_paper_config(bool symmetric) {
    engine::backtest_config c;
    c.risk = engine::permissive_risk();
    c.strategy.model = strategy::model_kind::linear;
    c.strategy.symmetric = symmetric;
    // 1% of 15000 at 100 is 1.5 units: one lot, with room for the price and equity to move
    // (at exactly 1.0, a rising price would round the size to zero and stop quoting).
    c.strategy.order_size_pct = 1.0;
    c.strategy.linear = {.spread_bps = 150.0,
                         .inventory_skew_strength = 1.0,
                         .price_impact = 0.4,
                         .vol_spread_factor = 0.0,
                         .normal_vol_per_sqrt_s = 1e-4};
    c.strategy.bands.soft_limit_pct = 500.0;
    c.strategy.bands.hard_limit_pct = 1000.0;
    c.market.process = sim::price_process::random_walk;
    c.market.initial_mid_price = 100.0;
    c.market.walk_sigma_per_sqrt_s = 2.0;
    c.market.market_spread_ticks = 2.0;
    c.market.order_flow_a_per_s = 140.0;
    c.market.order_flow_k_per_price_unit = 1.5;
    c.exchange.maker_fee_bps = 0.0;
    c.exchange.taker_fee_bps = 0.0;
    c.quotes.refresh_ms = 0;
    c.quotes.refresh_tolerance_bps = 5.0;
    c.step_ns = 5 * core::ns_per_ms;
    c.duration_ns = 2 * core::ns_per_s;
    c.initial_cash = 15'000.0;
    c.record_interval_ns = 100 * core::ns_per_ms;
    return c;
}

struct inventory_stats {
    double mean = 0;
    double stddev = 0;
};

inventory_stats final_inventory(const engine::multi_path_result& result) {
    std::vector<double> values;
    for (const auto& path : result.paths) {
        values.push_back(path.final_inventory);
    }
    const double n = static_cast<double>(values.size());
    const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
    double squares = 0;
    for (const double v : values) {
        squares += (v - mean) * (v - mean);
    }
    return {mean, std::sqrt(squares / (n - 1))};
}

} // namespace

TEST_CASE("same seed, same fills.csv byte for byte; another seed, other fills", "[backtest]") {
    const auto spec = btc_spec();
    const auto config = btc_config(300);
    const auto format = sim::report_format_for(spec);
    const auto first = engine::run_backtest(config, spec, 42);
    const auto again = engine::run_backtest(config, spec, 42);
    const auto other = engine::run_backtest(config, spec, 43);
    REQUIRE(first.fills.size() > 10);
    const std::string fills = sim::format_fills_csv(first.fills, format);
    CHECK(fills == sim::format_fills_csv(again.fills, format));
    CHECK(sim::format_orders_csv(first.orders, format) ==
          sim::format_orders_csv(again.orders, format));
    CHECK(sim::format_pnl_csv(first.pnl, format) == sim::format_pnl_csv(again.pnl, format));
    CHECK(fills != sim::format_fills_csv(other.fills, format));
}

TEST_CASE("every sample satisfies equity = cash + inventory * mid, fees included", "[backtest]") {
    const auto spec = btc_spec();
    auto config = btc_config(600);
    config.exchange.cross_fill = exec::cross_fill_rule::on_touch;
    const auto result = engine::run_backtest(config, spec, 5);
    REQUIRE(result.pnl.size() == 601);
    REQUIRE(result.fills.size() > 10);
    double fees = 0;
    for (const auto& fill : result.fills) {
        fees += fill.fee;
    }
    CHECK(fees > 0);
    for (const auto& s : result.pnl) {
        INFO("t = " << s.time_ns);
        // Exact in notional units (1e-7 USDT); the doubles round the product.
        const double tolerance = 1e-6 + 1e-12 * std::fabs(s.equity);
        CHECK(std::fabs(s.equity - (s.cash + s.inventory * s.mid)) <= tolerance);
        CHECK(std::fabs((s.equity - config.initial_cash) -
                        (s.realized_pnl + s.unrealized_pnl - s.fees)) <= tolerance);
    }
    CHECK(std::fabs(result.pnl.back().fees - fees) <= 1e-6);
    // The fills add up to the final inventory, and each one records the position it left.
    double position = 0;
    for (const auto& fill : result.fills) {
        position += fill.side == core::side::buy ? fill.quantity : -fill.quantity;
        CHECK(std::fabs(position - fill.inventory_after) < 1e-9);
    }
    CHECK(std::fabs(position - result.pnl.back().inventory) < 1e-9);
    CHECK(std::fabs(position - result.metrics.final_inventory) < 1e-9);
}

TEST_CASE("records are in time order and the run is on the record grid", "[backtest]") {
    const auto spec = btc_spec();
    const auto result = engine::run_backtest(btc_config(120), spec, 9);
    const auto ordered = [](const auto& records) {
        return std::is_sorted(records.begin(), records.end(),
                              [](const auto& a, const auto& b) { return a.time_ns < b.time_ns; });
    };
    CHECK(ordered(result.pnl));
    CHECK(ordered(result.fills));
    CHECK(ordered(result.orders));
    REQUIRE(result.pnl.size() == 121);
    for (std::size_t i = 0; i < result.pnl.size(); ++i) {
        CHECK(result.pnl[i].time_ns == static_cast<core::timestamp_ns>(i) * core::ns_per_s);
    }
    CHECK(result.counters.steps == 1200);
    CHECK(result.metrics.orders_submitted == result.exchange.orders_received);
    CHECK(result.metrics.fills == result.fills.size());
}

TEST_CASE("over many paths inventory stays near zero; without skew it spreads wider",
          "[backtest][paths]") {
    const auto spec = unit_spec();
    sim::path_runner runner(
        sim::path_runner_options{.threads = 2, .progress = sim::progress_display::never});
    const auto skewed = engine::run_backtest_paths(as_paper_config(false), spec, 1, 200, runner);
    const auto symmetric = engine::run_backtest_paths(as_paper_config(true), spec, 1, 200, runner);
    const auto skew = final_inventory(skewed);
    const auto sym = final_inventory(symmetric);
    INFO("skewed: mean " << skew.mean << " std " << skew.stddev);
    INFO("symmetric: mean " << sym.mean << " std " << sym.stddev);
    REQUIRE(skewed.metrics.fills.mean > 50); // enough trading for inventory to wander
    // Mean within four standard errors of zero.
    CHECK(std::fabs(skew.mean) < 4 * skew.stddev / std::sqrt(200.0));
    CHECK(std::fabs(sym.mean) < 4 * sym.stddev / std::sqrt(200.0));
    CHECK(sym.stddev > 1.5 * skew.stddev);
    CHECK(skewed.metrics.final_inventory.stddev == Approx(skew.stddev));
    CHECK(skewed.example.orders.size() > 0); // path 0 keeps everything
}

TEST_CASE("a multi-path run does not depend on the thread count", "[backtest][paths]") {
    const auto spec = unit_spec();
    auto config = as_paper_config(false);
    config.duration_ns = core::ns_per_s / 2;
    sim::path_runner one(
        sim::path_runner_options{.threads = 1, .progress = sim::progress_display::never});
    sim::path_runner two(
        sim::path_runner_options{.threads = 2, .progress = sim::progress_display::never});
    const auto a = engine::run_backtest_paths(config, spec, 77, 12, one);
    const auto b = engine::run_backtest_paths(config, spec, 77, 12, two);
    REQUIRE(a.paths.size() == 12);
    for (std::size_t i = 0; i < a.paths.size(); ++i) {
        CHECK(a.paths[i].seed == b.paths[i].seed);
        CHECK(a.paths[i].final_pnl == b.paths[i].final_pnl);
        CHECK(a.paths[i].final_inventory == b.paths[i].final_inventory);
        CHECK(a.paths[i].fills == b.paths[i].fills);
    }
    CHECK(a.total_steps == 12 * 100);
    // Path 0 of a multi-path run is the single-path run on the same derived seed.
    const auto single = engine::run_backtest(config, spec, sim::derive_path_seed(77, 0));
    CHECK(single.metrics.total_pnl == a.paths[0].final_pnl);
    CHECK(single.fills.size() == a.example.fills.size());
}

TEST_CASE("never two orders for one side and level, on the exchange or in the order log",
          "[backtest]") {
    const auto spec = btc_spec();
    auto config = btc_config(300);
    config.strategy.levels = {.count = 3,
                              .spacing_unit = strategy::spacing_kind::bps,
                              .spacing = 2.0,
                              .size_multiplier = 1.5};
    config.quotes.levels = 3;
    config.quotes.refresh_tolerance_bps = 0.2; // churn: replace often
    config.quotes.refresh_ms = 0;
    config.exchange.cancel_latency = {exec::latency_distribution::exponential, core::ns_per_ms,
                                      30 * core::ns_per_ms};
    engine::synthetic_run run(config, spec, 3);
    std::uint64_t checked = 0;
    while (run.now() < config.duration_ns) {
        run.step();
        for (const core::side side : {core::side::buy, core::side::sell}) {
            std::array<int, exec::max_quote_levels> per_level{};
            run.exchange().for_each_open_order(
                0, side, [&](const exec::sim_order& order) { ++per_level[order.request.level]; });
            for (const int count : per_level) {
                CHECK(count <= 1);
            }
            ++checked;
        }
    }
    CHECK(checked == 2 * 3000);
    // The order log: a slot's next order is sent only after its previous one was done.
    std::map<std::pair<int, int>, int> live;
    std::size_t submitted = 0;
    for (const auto& record : run.recorder().orders()) {
        const auto slot = std::pair{static_cast<int>(record.side), static_cast<int>(record.level)};
        switch (record.event) {
        case sim::order_event::submitted:
            CHECK(live[slot] == 0);
            ++live[slot];
            ++submitted;
            break;
        case sim::order_event::filled:
        case sim::order_event::cancelled:
        case sim::order_event::rejected:
            --live[slot];
            CHECK(live[slot] == 0);
            break;
        default:
            break;
        }
    }
    CHECK(submitted > 500);
    CHECK(run.loop().quotes().counters().replacements > 100);
    CHECK(run.recorder().fills().size() > 0);
}

TEST_CASE("risk: refused orders never reach the exchange and are counted by reason",
          "[backtest][risk]") {
    const auto spec = btc_spec();
    auto config = btc_config(60);
    config.risk.limits.max_new_orders_per_min = 4;
    config.risk.limits.max_new_orders_per_s = 4;
    engine::synthetic_run run(config, spec, 1);
    run.run();
    const auto counters = run.counters();
    CHECK(run.recorder().activity().orders_submitted <= 4);
    CHECK(run.recorder().activity().orders_submitted > 0);
    CHECK(counters.risk_refusals > 0);
    CHECK(counters.refusals_by_reason[static_cast<std::size_t>(
              risk::reject_reason::new_orders_per_min)] +
              counters.refusals_by_reason[static_cast<std::size_t>(
                  risk::reject_reason::new_orders_per_s)] ==
          counters.risk_refusals);
    CHECK(run.exchange().stats().orders_received == run.recorder().activity().orders_submitted);
}

TEST_CASE("a manual kill cancels every order and stops quoting", "[backtest][risk]") {
    const auto spec = btc_spec();
    const auto config = btc_config(60);
    ops::control_channel control;
    engine::synthetic_run run(config, spec, 1, {}, nullptr, &control);
    const core::timestamp_ns kill_at = 20 * core::ns_per_s;
    run.run_until(kill_at);
    CHECK(run.exchange().open_order_count() > 0);
    control.request_kill(ops::command_source::terminal);
    (void)run.poll();
    run.run();
    CHECK(run.counters().killed);
    CHECK(run.exchange().open_order_count() == 0);
    const auto orders = run.recorder().orders();
    const auto submitted_after_kill =
        std::count_if(orders.begin(), orders.end(), [&](const auto& r) {
            return r.event == sim::order_event::submitted && r.time_ns > kill_at;
        });
    CHECK(submitted_after_kill == 0);
}

TEST_CASE("stop() cancels every order and records a last sample", "[backtest]") {
    const auto spec = btc_spec();
    engine::synthetic_run run(btc_config(3600), spec, 8);
    run.run_until(30 * core::ns_per_s);
    REQUIRE(run.exchange().open_order_count() > 0);
    run.stop();
    CHECK(run.exchange().open_order_count() == 0);
    CHECK(run.loop().quotes().open_orders() == 0);
    CHECK(run.recorder().pnl().back().time_ns >= 30 * core::ns_per_s);
    CHECK(std::isnan(run.recorder().pnl().back().bid_quote));
}

TEST_CASE("the run report carries the charts", "[backtest][report]") {
    const auto spec = btc_spec();
    const auto result = engine::run_backtest(btc_config(60), spec, 2);
    const auto report =
        engine::make_run_report(result, spec, "test", {{"strategy.model", "\"linear\""}});
    const std::string html = sim::format_report_html(report);
    CHECK(html.find("<svg") != std::string::npos);
    CHECK(html.find("strategy.model") != std::string::npos);
    CHECK(report.format.price_decimals == 2);
    CHECK(report.format.mid_decimals == 3);
    CHECK(report.format.quantity_decimals == 5);
}

namespace {

std::vector<engine::backtest_symbol> btc_and_eth(const engine::backtest_config& config) {
    engine::backtest_symbol eth{
        *core::symbol_spec::from_text(
            {.name = "ETHUSDT", .tick_size = "0.01", .step_size = "0.0001", .min_notional = "5"}),
        config.market};
    eth.market.initial_mid_price = 3000.0;
    eth.market.gbm_sigma_per_sqrt_year = 0.6;
    eth.market.order_flow_k_per_price_unit = 2.0; // the same flow at a twentieth of the price
    return {{btc_spec(), config.market}, eth};
}

} // namespace

TEST_CASE("many symbols in one loop: each trades its own market, deterministically",
          "[backtest][symbols]") {
    const auto config = btc_config(300);
    const auto symbols = btc_and_eth(config);
    engine::synthetic_run run(config, symbols, 11);
    run.run();
    engine::synthetic_run again(config, symbols, 11);
    again.run();
    REQUIRE(run.symbol_count() == 2);
    const auto format = sim::report_format_for(btc_spec());
    for (std::size_t i = 0; i < 2; ++i) {
        INFO("symbol " << i);
        CHECK(run.recorder(i).fills().size() > 5);
        // Fills reach the loop of their own symbol only: the exchange's position per symbol is
        // the account's.
        CHECK(run.exchange().position(static_cast<std::uint32_t>(i)) == run.account(i).position());
        CHECK(run.recorder(i).pnl().front().equity == Approx(config.initial_cash / 2));
        CHECK(sim::format_fills_csv(run.recorder(i).fills(), format) ==
              sim::format_fills_csv(again.recorder(i).fills(), format));
        for (const auto& fill : run.recorder(i).fills()) {
            // BTC near 60000, ETH near 3000: a fill on the wrong symbol would show.
            CHECK((i == 0 ? fill.price > 30000.0 : fill.price < 30000.0));
        }
    }
    CHECK(run.loop(0).stats().events > 1000);
    CHECK(run.loop(1).stats().events > 1000);
}

TEST_CASE("many symbols in one loop: each symbol's orders have client ids of their own",
          "[backtest][symbols][risk]") {
    // The symbols' loops send to one exchange: an id two of them used alike would be refused
    // as a duplicate, and the refusals would feed the API error storm.
    auto config = btc_config(60);
    config.risk.triggers.api_error_storm_count = 5;
    config.strategy.levels.count = 3;
    const auto symbols = btc_and_eth(config);
    engine::synthetic_run run(config, symbols, 4);
    run.run();
    CHECK(run.exchange().stats().rejects == 0);
    for (std::size_t i = 0; i < 2; ++i) {
        INFO("symbol " << i);
        CHECK(run.loop(i).state() == risk::trading_state::running);
        CHECK(run.recorder(i).activity().orders_submitted > 10);
    }
}

TEST_CASE("many symbols in one loop: the portfolio net limit counts the other symbols",
          "[backtest][symbols][risk]") {
    // Each symbol may hold 2% of its half of the capital (1,000), the two together 1% of the
    // whole (1,000): the portfolio limit binds only through the other symbol's position. Without
    // an inventory skew the positions wander to their limits.
    auto config = btc_config(600);
    config.strategy.linear.inventory_skew_strength = 0.0;
    config.risk.limits.symbol_net_notional_pct = 2.0;
    const auto symbols = btc_and_eth(config);
    // The largest net notional of the two positions together, at the recorded samples.
    const auto largest_net = [](const engine::synthetic_run& run) {
        double largest = 0.0;
        const auto btc = run.recorder(0).pnl();
        const auto eth = run.recorder(1).pnl();
        for (std::size_t i = 0; i < std::min(btc.size(), eth.size()); ++i) {
            const double net = btc[i].inventory * btc[i].mid + eth[i].inventory * eth[i].mid;
            largest = std::max(largest, std::abs(net));
        }
        return largest;
    };
    const auto portfolio = static_cast<std::size_t>(risk::reject_reason::portfolio_net_notional);

    config.risk.limits.portfolio_net_notional_pct = 1.0;
    engine::synthetic_run limited(config, symbols, 5);
    limited.run();
    config.risk.limits.portfolio_net_notional_pct = 100.0;
    engine::synthetic_run free(config, symbols, 5);
    free.run();
    CHECK(limited.exposure().count == 2);
    CHECK(limited.counters().refusals_by_reason[portfolio] > 0);
    CHECK(free.counters().refusals_by_reason[portfolio] == 0);
    // Held within the limit, give or take the marks moving after the fills; the symbols' own
    // limits alone let the two together reach twice as far.
    INFO("largest net notional: limited " << largest_net(limited) << ", free "
                                          << largest_net(free));
    CHECK(largest_net(limited) <= 1'100.0);
    CHECK(largest_net(free) > 1'200.0);
}

TEST_CASE("many symbols in one loop: the order-rate limits count every symbol's orders",
          "[backtest][symbols][risk]") {
    auto config = btc_config(120);
    config.risk.limits.max_new_orders_per_s = 0;
    config.risk.limits.max_new_orders_per_min = 0;
    config.risk.limits.max_orders_per_day = 9;
    const auto symbols = btc_and_eth(config);
    engine::synthetic_run both(config, symbols, 3);
    both.run();
    const std::uint64_t first = both.recorder(0).activity().orders_submitted;
    const std::uint64_t second = both.recorder(1).activity().orders_submitted;
    INFO("orders sent: " << first << " + " << second);
    // The session's nine, shared: each symbol alone would send nine of its own.
    CHECK(first + second == 9);
    CHECK(first > 0);
    CHECK(second > 0);
    CHECK(both.exchange().stats().orders_received == 9);
    CHECK(both.counters()
              .refusals_by_reason[static_cast<std::size_t>(risk::reject_reason::orders_per_day)] >
          0);
    engine::synthetic_run alone(config, std::span(symbols).first(1), 3);
    alone.run();
    CHECK(alone.recorder().activity().orders_submitted == 9);
}

TEST_CASE("many symbols over many paths: each path runs every symbol; the portfolio sums them",
          "[backtest][symbols][paths]") {
    const auto config = btc_config(120);
    const auto symbols = btc_and_eth(config);
    sim::path_runner one(
        sim::path_runner_options{.threads = 1, .progress = sim::progress_display::never});
    sim::path_runner two(
        sim::path_runner_options{.threads = 2, .progress = sim::progress_display::never});
    const auto a = engine::run_backtest_paths(config, symbols, 21, 4, one);
    const auto b = engine::run_backtest_paths(config, symbols, 21, 4, two);
    REQUIRE(a.symbols.size() == 2);
    REQUIRE(a.portfolio.paths.size() == 4);
    for (std::size_t path = 0; path < 4; ++path) {
        INFO("path " << path);
        // Path i is the one-path run of both symbols on derive_path_seed(base, i).
        const auto single = engine::run_backtest(config, symbols, sim::derive_path_seed(21, path));
        double pnl = 0.0;
        std::uint64_t fills = 0;
        for (std::size_t s = 0; s < 2; ++s) {
            REQUIRE(a.symbols[s].paths.size() == 4);
            CHECK(a.symbols[s].paths[path].final_pnl == single[s].metrics.total_pnl);
            CHECK(a.symbols[s].paths[path].fills == single[s].metrics.fills);
            CHECK(b.symbols[s].paths[path].final_pnl == a.symbols[s].paths[path].final_pnl);
            pnl += a.symbols[s].paths[path].final_pnl;
            fills += a.symbols[s].paths[path].fills;
        }
        CHECK(a.portfolio.paths[path].final_pnl == Approx(pnl).margin(1e-6));
        CHECK(a.portfolio.paths[path].fills == fills);
        CHECK(b.portfolio.paths[path].final_pnl == a.portfolio.paths[path].final_pnl);
    }
    // Path 0 in full: each symbol's records, and the portfolio's over both at once.
    CHECK(a.symbols[0].example.fills.size() + a.symbols[1].example.fills.size() ==
          a.portfolio.example.fills.size());
    CHECK_FALSE(a.symbols[1].example.orders.empty());
    REQUIRE_FALSE(a.portfolio.example.pnl.empty());
    CHECK(a.portfolio.example.pnl.front().equity == Approx(config.initial_cash));
    CHECK(a.portfolio.example.pnl.size() == a.symbols[0].example.pnl.size());
    CHECK(a.portfolio.total_steps == a.symbols[0].total_steps);
}

TEST_CASE("many symbols in one loop: a symbol's own strategy and limits apply to it alone",
          "[backtest][symbols]") {
    const auto config = btc_config(300);
    const auto shared = btc_and_eth(config);
    auto own = shared;
    strategy::strategy_config wide = config.strategy;
    wide.linear.spread_bps = config.strategy.linear.spread_bps * 8.0;
    own[1].strategy = wide;
    risk::risk_limits tight = config.risk.limits;
    tight.order_notional_pct = 1e-6; // every ETHUSDT order is too large
    auto limited = shared;
    limited[1].limits = tight;
    const auto base = engine::run_backtest(config, shared, 9);
    const auto wider = engine::run_backtest(config, own, 9);
    const auto refused = engine::run_backtest(config, limited, 9);
    // ETHUSDT quotes wider with its own strategy (fewer fills); BTCUSDT's spread is the shared
    // one. (The symbols share the exchange's latency stream, so BTCUSDT's fills may move.)
    REQUIRE(base[1].metrics.fills > 0);
    CHECK(wider[1].metrics.fills < base[1].metrics.fills);
    CHECK(wider[1].metrics.mean_quoted_spread > 4.0 * base[1].metrics.mean_quoted_spread);
    CHECK(wider[0].metrics.mean_quoted_spread ==
          Approx(base[0].metrics.mean_quoted_spread).epsilon(0.2));
    // With its own order limit every ETHUSDT order is refused; BTCUSDT's pass and fill.
    CHECK(refused[1].metrics.fills == 0);
    CHECK(refused[0].metrics.fills > 0);
    CHECK(refused[1].loop.fills == 0);
    CHECK(refused[0].counters.refusals_by_reason[static_cast<std::size_t>(
              risk::reject_reason::max_order_notional)] > 0);
}

TEST_CASE("alerts of a backtest are counted by kind with the first few kept, and reported",
          "[backtest][alerts]") {
    engine::backtest_config config = btc_config(600.0);
    // A fill ratio nobody reaches, judged after a few orders, repeating every simulated second.
    config.risk.alarms.min_fill_ratio_pct = 100.0;
    config.risk.alarms.fill_ratio_min_orders = 5;
    config.risk.alarms.alarm_cooldown_ms = 1000;
    const engine::backtest_result result = engine::run_backtest(config, btc_spec(), 7);
    const std::uint64_t low = result.alerts.count(risk::alert_kind::low_fill_ratio);
    INFO("low_fill_ratio alerts: " << low);
    CHECK(low > 10);
    CHECK(result.alerts.total() >= low);
    const auto examples = result.alerts.examples(risk::alert_kind::low_fill_ratio);
    REQUIRE(examples.size() == engine::alert_tally::examples_per_kind);
    CHECK(examples[0].time <= examples[1].time); // the first ones, oldest first
    CHECK(examples[0].threshold == 100.0);

    const sim::run_report report = engine::make_run_report(result, btc_spec(), "alerts", {});
    REQUIRE_FALSE(report.alerts.empty());
    const auto entry = std::find_if(report.alerts.begin(), report.alerts.end(),
                                    [](const auto& a) { return a.kind == "low_fill_ratio"; });
    REQUIRE(entry != report.alerts.end());
    CHECK(entry->count == low);
    CHECK(entry->examples.size() == 3);
    CHECK_THAT(entry->examples[0], Catch::StartsWith("at 00:"));
    const std::string json = sim::format_report_json(report);
    CHECK_THAT(json, Catch::Contains("\"alerts\": [\n    {\"kind\": \"low_fill_ratio\", "
                                     "\"count\": " +
                                     std::to_string(low)));
    CHECK_THAT(sim::format_report_markdown(report), Catch::Contains("## Alerts"));

    // Tallies of several paths add up; examples stay the first ones.
    engine::alert_tally sum;
    sum.merge(result.alerts);
    sum.merge(result.alerts);
    CHECK(sum.count(risk::alert_kind::low_fill_ratio) == 2 * low);
    CHECK(sum.examples(risk::alert_kind::low_fill_ratio).size() == 3);
    CHECK(sum.examples(risk::alert_kind::low_fill_ratio)[0].time == examples[0].time);
}

TEST_CASE("many symbols in one loop: a kill by a later symbol's own limit stops them all; the "
          "operator's resume lifts the others",
          "[backtest][symbols][risk]") {
    const auto config = btc_config(120);
    auto symbols = btc_and_eth(config);
    // ETHUSDT's inventory kill at a sliver of its equity: its first fill kills it.
    risk::risk_limits eth_limits = config.risk.limits;
    eth_limits.inventory_flatten_pct = 0.001;
    eth_limits.inventory_kill_pct = 0.002;
    symbols[1].limits = eth_limits;
    ops::control_channel control;
    engine::synthetic_run run(config, symbols, 3, {}, nullptr, &control);
    using risk::trading_state;
    while (run.now() < 60 * core::ns_per_s && run.loop(1).state() != trading_state::killed) {
        run.step();
    }
    REQUIRE(run.loop(1).state() == trading_state::killed);
    REQUIRE(run.loop(1).risk().switch_state().kill_reason() == risk::halt_reason::inventory_kill);
    // The kill reached the first symbol in the same step: it cancels and quotes no more.
    CHECK(run.loop(0).state() == trading_state::killed);
    run.run_until(run.now() + 5 * core::ns_per_s);
    CHECK(run.loop(0).state() == trading_state::killed);
    CHECK(run.exchange().open_order_count() == 0);

    // The operator's resume: ETHUSDT's position still breaches its own limit, so it stays
    // killed; BTCUSDT quotes again and is not killed again by the kill already carried.
    REQUIRE(control.post({.command = ops::control_command::resume}));
    (void)run.poll();
    run.run_until(run.now() + 5 * core::ns_per_s);
    CHECK(run.loop(0).state() == trading_state::running);
    CHECK(run.loop(1).state() == trading_state::killed);
    CHECK(run.exchange().open_order_count() > 0);
    const auto refusals = [&] {
        return run.recorder(1).alerts().count(risk::alert_kind::resume_refused);
    };
    CHECK(refusals() == 1);
    // The operator resumes again, the first symbol running already: ETHUSDT is asked again (and
    // refuses again, its limit still holding), not left out because the first symbol was not
    // killed any more.
    REQUIRE(control.post({.command = ops::control_command::resume}));
    (void)run.poll();
    CHECK(refusals() == 2);
    CHECK(run.loop(0).state() == trading_state::running);
    CHECK(run.loop(1).state() == trading_state::killed);
}

TEST_CASE("many symbols in one loop: after one symbol's kill no other symbol sends an order, not "
          "even within the same step",
          "[backtest][symbols][risk]") {
    // BTCUSDT's first fill kills it (inventory kill at a sliver of its equity). Both symbols
    // replace their quotes on every move of the mid, so ETHUSDT has an order to send in the
    // step the kill comes in, after the kill: the journal shows the order of what happened.
    auto config = btc_config(120);
    config.quotes.refresh_tolerance_bps = 0.0;
    auto symbols = btc_and_eth(config);
    risk::risk_limits btc_limits = config.risk.limits;
    btc_limits.inventory_flatten_pct = 0.001;
    btc_limits.inventory_kill_pct = 0.002;
    symbols[0].limits = btc_limits;
    engine::testing::scratch_journal scratch("kill-domain");
    const std::unique_ptr<ops::journal>& journal = scratch.journal;
    {
        engine::synthetic_run run(config, symbols, 3, {}, journal.get());
        while (run.now() < 60 * core::ns_per_s &&
               run.loop(0).state() != risk::trading_state::killed) {
            run.step();
            (void)journal->drain();
        }
        REQUIRE(run.loop(0).state() == risk::trading_state::killed);
        run.run_until(run.now() + core::ns_per_s);
        (void)journal->drain();
        CHECK(run.loop(1).state() == risk::trading_state::killed);
    }
    journal->stop();
    std::ifstream in(scratch.path);
    std::string line;
    std::size_t intents_before = 0;
    std::vector<std::string> intents_after;
    bool killed = false;
    while (std::getline(in, line)) {
        killed = killed || (line.find("\"type\":\"state\"") != std::string::npos &&
                            line.find("\"event\":\"kill\"") != std::string::npos);
        if (line.find("\"type\":\"order_intent\"") != std::string::npos) {
            if (killed) {
                intents_after.push_back(line);
            } else {
                ++intents_before;
            }
        }
    }
    REQUIRE(killed);
    CHECK(intents_before > 10);
    INFO(intents_after.size() << " orders after the kill, the first: "
                              << (intents_after.empty() ? "" : intents_after.front()));
    CHECK(intents_after.empty());
}

TEST_CASE("many symbols in one loop: every kill of the first symbol stops them all, and its "
          "resume lifts them",
          "[backtest][symbols][risk]") {
    const auto config = btc_config(120);
    const auto symbols = btc_and_eth(config);
    ops::control_channel control;
    engine::synthetic_run run(config, symbols, 3, {}, nullptr, &control);
    const auto states = [&] { return std::pair{run.loop(0).state(), run.loop(1).state()}; };
    const auto command = [&](ops::control_command c) {
        REQUIRE(control.post({.command = c}));
        (void)run.poll();
    };
    using risk::trading_state;
    run.run_until(10 * core::ns_per_s);
    REQUIRE(states() == std::pair{trading_state::running, trading_state::running});
    for (int round = 0; round < 2; ++round) {
        INFO("round " << round);
        command(ops::control_command::kill);
        CHECK(states() == std::pair{trading_state::killed, trading_state::killed});
        run.run_until(run.now() + 5 * core::ns_per_s);
        CHECK(run.exchange().open_order_count() == 0);
        command(ops::control_command::resume);
        CHECK(states() == std::pair{trading_state::running, trading_state::running});
        run.run_until(run.now() + 5 * core::ns_per_s);
        CHECK(run.exchange().open_order_count() > 0);
    }
}

TEST_CASE("many symbols in one loop: an operator's flatten gives every symbol a fresh budget",
          "[backtest][symbols][risk]") {
    auto config = btc_config(120);
    config.strategy.linear.inventory_skew_strength = 0.0; // positions that wander
    config.risk.triggers.flatten_on_kill = true;
    config.risk.triggers.flatten_max_attempts = 2;
    // Every flatten order reaches 1% through the touch, beyond a 50 bps band: refused, so each
    // flattening spends its budget and gives up.
    config.risk.triggers.flatten_slippage_ticks = 60'000;
    config.risk.limits.price_band_bps = 50.0;
    const auto symbols = btc_and_eth(config);
    ops::control_channel control;
    engine::synthetic_run run(config, symbols, 3, {}, nullptr, &control);
    const auto command = [&](ops::control_command c) {
        REQUIRE(control.post({.command = c}));
        (void)run.poll();
    };
    run.run_until(60 * core::ns_per_s);
    REQUIRE(run.account(0).position().lots() != 0);
    REQUIRE(run.account(1).position().lots() != 0);
    command(ops::control_command::kill);
    run.run_until(run.now() + 5 * core::ns_per_s);
    REQUIRE(run.loop(1).stats().flatten_orders == 2);
    REQUIRE(run.loop(1).flattener().state() != exec::flatten_state::working);

    // The kill holds; the operator's flatten starts both flattenings again.
    command(ops::control_command::flatten);
    run.run_until(run.now() + 5 * core::ns_per_s);
    CHECK(run.loop(0).stats().flatten_orders == 4);
    CHECK(run.loop(1).stats().flatten_orders == 4);
}

TEST_CASE("a run at its daily order limit reports how long new orders were held",
          "[backtest][risk]") {
    const auto spec = btc_spec();
    auto config = btc_config(60);
    config.risk.limits.max_orders_per_day = 6;
    config.quotes.max_order_age_ms = 1'000; // orders age out: the limit binds within seconds
    const engine::backtest_result result = engine::run_backtest(config, spec, 1);
    REQUIRE(result.metrics.orders_submitted == 6);
    // The day's window has room again a day later: the one hold starts at the first refusal, a
    // slot's order life (max_order_age_ms, plus a step and the latencies) at most after the
    // last order, and lasts to the run's end.
    core::timestamp_ns last_sent = 0;
    for (const sim::order_record& order : result.orders) {
        if (order.event == sim::order_event::submitted) {
            last_sent = std::max(last_sent, order.time_ns);
        }
    }
    const double end_s = static_cast<double>(result.pnl.back().time_ns) * 1e-9;
    const double after_last_s = end_s - static_cast<double>(last_sent) * 1e-9;
    CHECK(result.quotes.rate_holds == 1);
    CHECK(result.metrics.rate_holds == 1);
    CHECK(result.metrics.rate_held_s < after_last_s);
    CHECK(result.metrics.rate_held_s > after_last_s - 1.2);
    CHECK(result.metrics.rate_held_s > 50.0);
    CHECK(result.metrics.rate_held_pct ==
          Approx(100.0 * result.metrics.rate_held_s / result.metrics.duration_s));
    CHECK(result.counters.rate_holds == 1);
    CHECK(static_cast<double>(result.counters.rate_held_ns) * 1e-9 ==
          Approx(result.metrics.rate_held_s));
    // Every document of the report shows them.
    const sim::run_report report = engine::make_run_report(result, spec, "held", {});
    const std::string json = sim::format_report_json(report);
    CHECK(json.find("\"rate_holds\": 1,") != std::string::npos);
    const std::string held_key = "\"rate_held_s\": ";
    const std::size_t held_at = json.find(held_key);
    REQUIRE(held_at != std::string::npos);
    CHECK(std::stod(json.substr(held_at + held_key.size())) == result.metrics.rate_held_s);
    CHECK(json.find("\"rate_held_pct\": ") != std::string::npos);
    CHECK(sim::format_report_markdown(report).find("| Order-rate holds | 1 |") !=
          std::string::npos);
    CHECK(sim::format_report_html(report).find("New orders held by order-rate limits") !=
          std::string::npos);

    // Many paths add them up like the refusals, and spread the share held across paths.
    sim::path_runner runner(
        sim::path_runner_options{.threads = 1, .progress = sim::progress_display::never});
    const engine::multi_path_result paths = engine::run_backtest_paths(config, spec, 1, 3, runner);
    CHECK(paths.rate_holds == 3);
    CHECK(paths.rate_held_ns > 3 * 50 * core::ns_per_s);
    CHECK(paths.example.metrics.rate_holds == 1);
    CHECK(paths.metrics.rate_held_pct.count == 3);
    CHECK(paths.metrics.rate_held_pct.min > 80.0);
}

TEST_CASE("a run within its order limits reports no hold", "[backtest][risk]") {
    const engine::backtest_result result = engine::run_backtest(btc_config(60), btc_spec(), 1);
    REQUIRE(result.metrics.orders_submitted > 6);
    CHECK(result.metrics.rate_holds == 0);
    CHECK(result.metrics.rate_held_s == 0.0);
    CHECK(result.metrics.rate_held_pct == 0.0);
}
