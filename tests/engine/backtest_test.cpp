// run_replay_backtest over the real Binance capture (../shared/data/binance): sync without
// gaps, orders and queue-model fills, the PnL identity, determinism across runs, and the
// replay throughput (printed, never asserted).
#include "engine_test_support.hpp"
#include "support/capture_data.hpp"
#include "support/temp_dir.hpp"

#include "quoter/engine/backtest.hpp"
#include "quoter/md/instrument.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace quoter::engine {
namespace {

TEST_CASE("replay of a BTCUSDT capture trades deterministically", "[engine][data]") {
    const std::string dir = test::require_captures({"spot-btcusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    const std::string file = dir + "/spot-btcusdt-20240808.gz";
    md::symbol_registry registry;
    REQUIRE(registry.add(testing::btcusdt()) == 0);

    core_loop_config config;
    config.symbol = 0;
    // A tight spread on a liquid book, so that the queue model produces fills in one capture.
    config.strategy.linear.spread_bps = 0.5;
    config.quotes.refresh_tolerance_bps = 0.5;

    const backtest_summary first = run_replay_backtest(registry, {file}, config);
    REQUIRE(first.ok);
    CHECK(first.gaps == 0);
    CHECK(first.bad_lines == 0);
    CHECK(first.loop.book_events > 0);
    CHECK(first.loop.trade_events > 0);
    CHECK(first.quotes.orders_sent > 0);
    CHECK(first.exchange.acks > 0);
    CHECK(first.loop.fills > 0);
    CHECK(first.equity_units == first.cash_units + first.inventory_value_units);
    // Inventory at the last mark, in half ticks (mark) times lots: floor(Q * mark / 2).
    CHECK(first.mark_half_ticks > 0);

    // The recorder between the gate and the exchange kept what a synthetic run keeps.
    CHECK(first.fills.size() == first.loop.fills);
    CHECK(first.metrics.fills == first.loop.fills);
    CHECK(first.activity.orders_submitted ==
          first.gate.quote_orders_sent + first.gate.flatten_orders_sent);
    CHECK(first.orders.size() > first.gate.quote_orders_sent);
    REQUIRE(first.pnl.size() > 100); // one sample per second of a minutes-long capture
    CHECK(first.pnl.back().equity == Approx(first.equity).margin(1e-6));
    CHECK(first.metrics.duration_s > 60.0);
    CHECK_FALSE(first.book_never_synced);

    const backtest_summary second = run_replay_backtest(registry, {file}, config);
    REQUIRE(second.ok);
    CHECK(second.loop.fills == first.loop.fills);
    CHECK(second.loop.fill_digest == first.loop.fill_digest);
    CHECK(second.equity_units == first.equity_units);
    CHECK(second.quotes.orders_sent == first.quotes.orders_sent);

    std::string reasons;
    for (std::size_t i = 0; i < first.gate.refusals_by_reason.size(); ++i) {
        if (first.gate.refusals_by_reason[i] != 0) {
            reasons += std::string(risk::to_string(static_cast<risk::reject_reason>(i))) + "=" +
                       std::to_string(first.gate.refusals_by_reason[i]) + " ";
        }
    }
    CHECK(first.final_state == second.final_state);
    WARN("replay: " << first.lines << " lines, " << first.loop.events << " events, "
                    << first.quotes.orders_sent << " orders, " << first.loop.fills << " fills, "
                    << first.gate.risk_refusals << " risk rejects (" << reasons << "), "
                    << first.loop.pauses << " feed pauses, final state "
                    << risk::to_string(first.final_state) << ", pnl " << first.total_pnl
                    << " USDT, position " << first.position.lots() << " lots; "
                    << static_cast<std::uint64_t>(first.messages_per_s)
                    << " msg/s (decode + book + strategy + sim exchange, this build)");
}

TEST_CASE("a replay whose book never syncs says so and records no orders", "[engine]") {
    // Depth diffs without a snapshot: the book cannot sync, so nothing is quoted.
    test::temp_dir dir("replay-unsynced");
    const std::filesystem::path file = dir.path() / "diffs.txt";
    {
        std::ofstream out(file);
        for (int i = 0; i < 20; ++i) {
            out << 1723161254000000000LL + i * 100'000'000LL
                << R"( {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,)"
                << R"("s":"BTCUSDT","U":)" << 100 + i * 10 << R"(,"u":)" << 109 + i * 10
                << R"(,"b":[["61000.00","1.0"]],"a":[["61000.10","1.0"]]}})" << '\n';
        }
    }
    md::symbol_registry registry;
    REQUIRE(registry.add(testing::btcusdt()) == 0);
    core_loop_config config;
    config.symbol = 0;
    const backtest_summary s = run_replay_backtest(registry, {file.string()}, config);
    INFO(s.error);
    REQUIRE(s.ok);
    CHECK(s.replay.market_data == 20);
    CHECK(s.book_never_synced);
    CHECK(s.gate.quote_orders_sent == 0);
    CHECK(s.orders.empty());
    CHECK(s.pnl.empty());
}

TEST_CASE("a replay summary counts only orders that reached the exchange as sent",
          "[engine][data][counting]") {
    const std::string dir = test::require_captures({"spot-btcusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    const std::string file = dir + "/spot-btcusdt-20240808.gz";
    md::symbol_registry registry;
    REQUIRE(registry.add(testing::btcusdt()) == 0);
    core_loop_config config;
    config.symbol = 0;
    config.strategy.linear.spread_bps = 0.5;
    config.quotes.refresh_tolerance_bps = 0.5;
    config.risk.limits.max_new_orders_per_s = 1; // refuses most refreshes

    const backtest_summary s = run_replay_backtest(registry, {file}, config);
    REQUIRE(s.ok);
    REQUIRE(s.gate.risk_refusals > 0);
    CHECK(s.gate.quote_orders_sent > 0);
    CHECK(s.gate.quote_orders_sent + s.gate.flatten_orders_sent == s.exchange.orders_received);
    // What the summaries printed before: the quote manager's count, refusals included.
    CHECK(s.quotes.orders_sent > s.exchange.orders_received);
}

} // namespace
TEST_CASE("a replay of two symbols is one kill domain: one symbol's own limit kill stops both",
          "[engine][data][symbols]") {
    const std::string dir =
        test::require_captures({"spot-btcusdt-20240808.gz", "spot-ethusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    md::symbol_registry registry;
    REQUIRE(registry.add(testing::btcusdt()) == 0);
    REQUIRE(registry.add(testing::ethusdt()) == 1);
    std::vector<core_loop_config> configs(2);
    for (std::uint16_t i = 0; i < 2; ++i) {
        configs[i].symbol = i;
        configs[i].account.initial_cash = 50'000.0;
        configs[i].strategy.linear.spread_bps = 0.5; // fills within the captures
        configs[i].quotes.refresh_tolerance_bps = 0.5;
    }
    // ETHUSDT's inventory kill at a sliver of its equity: its first fill kills it.
    configs[1].risk.limits.inventory_flatten_pct = 0.001;
    configs[1].risk.limits.inventory_kill_pct = 0.002;
    const std::vector<std::string> files = {dir + "/spot-btcusdt-20240808.gz",
                                            dir + "/spot-ethusdt-20240808.gz"};
    const std::vector<backtest_summary> both = run_replay_backtest(registry, files, configs);
    REQUIRE(both.size() == 2);
    REQUIRE(both[0].ok);
    REQUIRE(both[1].loop.fills > 0);
    CHECK(both[1].final_state == risk::trading_state::killed);
    // BTCUSDT has no limit of its own in breach, yet it stopped with ETHUSDT.
    CHECK(both[0].final_state == risk::trading_state::killed);
    // Alone, with the same set-up, it trades to the end.
    const backtest_summary alone = run_replay_backtest(registry, {files[0]}, configs[0]);
    REQUIRE(alone.ok);
    CHECK(alone.final_state == risk::trading_state::running);
    CHECK(alone.gate.quote_orders_sent > both[0].gate.quote_orders_sent);
}

} // namespace quoter::engine
