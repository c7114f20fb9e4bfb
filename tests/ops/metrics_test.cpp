#include "quoter/ops/metrics.hpp"

#include "quoter/ops/engine_metrics.hpp"

#include "ops/ops_test_support.hpp"
#include "support/ci.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

using namespace quoter;
using quoter::ops::testing::scratch_dir;

TEST_CASE("metrics: counters, gauges and labels in the text format", "[metrics]") {
    ops::metrics_registry registry;
    auto& sent = registry.counter("demo_orders_total", "Orders sent");
    auto& band =
        registry.counter("demo_refusals_total", "Refusals\nby reason", {{"reason", "price_band"}});
    auto& odd = registry.counter("demo_refusals_total", "Refusals\nby reason",
                                 {{"reason", "quote\"back\\slash\nnewline"}});
    auto& inventory = registry.gauge("demo_inventory", "Position");
    sent.add();
    sent.add(4);
    band.add(2);
    odd.add();
    inventory.set(-0.5);

    const std::string text = registry.exposition();
    CHECK(text == "# HELP demo_orders_total Orders sent\n"
                  "# TYPE demo_orders_total counter\n"
                  "demo_orders_total 5\n"
                  "# HELP demo_refusals_total Refusals\\nby reason\n"
                  "# TYPE demo_refusals_total counter\n"
                  "demo_refusals_total{reason=\"price_band\"} 2\n"
                  "demo_refusals_total{reason=\"quote\\\"back\\\\slash\\nnewline\"} 1\n"
                  "# HELP demo_inventory Position\n"
                  "# TYPE demo_inventory gauge\n"
                  "demo_inventory -0.5\n");

    inventory.set(std::numeric_limits<double>::infinity());
    CHECK(registry.exposition().find("demo_inventory +Inf\n") != std::string::npos);
    inventory.set(std::numeric_limits<double>::quiet_NaN());
    CHECK(registry.exposition().find("demo_inventory NaN\n") != std::string::npos);

    // A published total never moves a counter backwards.
    sent.set_total(3);
    CHECK(sent.value() == 5);
    sent.set_total(9);
    CHECK(sent.value() == 9);
}

TEST_CASE("metrics: histograms are cumulative, in seconds, ending at +Inf", "[metrics]") {
    ops::metrics_registry registry;
    constexpr std::array<core::duration_ns, 3> bounds{1'000, 10'000, 100'000};
    auto& h = registry.histogram("demo_latency_seconds", "Latency", bounds);
    for (const core::duration_ns v : {500, 1'000, 1'001, 50'000, 2'000'000, -7}) {
        h.observe(v);
    }
    const std::string text = registry.exposition();
    CHECK(text == "# HELP demo_latency_seconds Latency\n"
                  "# TYPE demo_latency_seconds histogram\n"
                  "demo_latency_seconds_bucket{le=\"1e-06\"} 3\n"
                  "demo_latency_seconds_bucket{le=\"1e-05\"} 4\n"
                  "demo_latency_seconds_bucket{le=\"0.0001\"} 5\n"
                  "demo_latency_seconds_bucket{le=\"+Inf\"} 6\n"
                  "demo_latency_seconds_sum 0.002052501\n"
                  "demo_latency_seconds_count 6\n");
    CHECK(h.count() == 6);
}

TEST_CASE("metrics: a counter of time counts ns and is written in seconds", "[metrics]") {
    ops::metrics_registry registry;
    auto& held =
        registry.seconds_counter("demo_held_seconds_total", "Time held", {{"side", "bid"}});
    CHECK(registry.exposition() == "# HELP demo_held_seconds_total Time held\n"
                                   "# TYPE demo_held_seconds_total counter\n"
                                   "demo_held_seconds_total{side=\"bid\"} 0\n");
    held.set_total(1'500'000'000);
    held.add(250'000);
    CHECK(registry.exposition().find("demo_held_seconds_total{side=\"bid\"} 1.50025\n") !=
          std::string::npos);
    // One family counts in one unit.
    CHECK_THROWS_AS(registry.counter("demo_held_seconds_total", "Time held", {{"side", "ask"}}),
                    std::invalid_argument);
}

TEST_CASE("metrics: invalid or conflicting registrations are refused", "[metrics]") {
    ops::metrics_registry registry;
    CHECK_THROWS_AS(registry.counter("1bad", "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.counter("bad-name", "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.counter("ok_total", "x", {{"__reserved", "v"}}),
                    std::invalid_argument);
    CHECK_THROWS_AS(registry.counter("ok_total", "x", {{"a", "1"}, {"a", "2"}}),
                    std::invalid_argument);
    registry.counter("dup_total", "x", {{"a", "1"}});
    CHECK_THROWS_AS(registry.counter("dup_total", "x", {{"a", "1"}}), std::invalid_argument);
    CHECK_THROWS_AS(registry.gauge("dup_total", "x"), std::invalid_argument);
    constexpr std::array<core::duration_ns, 2> unordered{10, 5};
    CHECK_THROWS_AS(registry.histogram("h_seconds", "x", unordered), std::invalid_argument);
    CHECK(ops::valid_metric_name("a:b_c9"));
    CHECK_FALSE(ops::valid_metric_name(""));
}

TEST_CASE("metrics: the symbol set has the quote manager's order-rate holds", "[metrics]") {
    ops::metrics_registry registry;
    ops::symbol_metrics m(registry, "BTCUSDT");
    m.quote_rate_holds.set_total(3);
    m.quote_rate_held.set_total(90 * core::ns_per_s + 250 * core::ns_per_ms);
    const std::string text = registry.exposition();
    CHECK(text.find("# HELP quoter_quote_rate_holds_total ") != std::string::npos);
    CHECK(text.find("# TYPE quoter_quote_rate_holds_total counter\n"
                    "quoter_quote_rate_holds_total{symbol=\"BTCUSDT\"} 3\n") != std::string::npos);
    CHECK(text.find("# HELP quoter_quote_rate_held_seconds_total ") != std::string::npos);
    CHECK(text.find("# TYPE quoter_quote_rate_held_seconds_total counter\n"
                    "quoter_quote_rate_held_seconds_total{symbol=\"BTCUSDT\"} 90.25\n") !=
          std::string::npos);
}

TEST_CASE("metrics: each symbol of a session has its own series of every family it counts",
          "[metrics]") {
    ops::metrics_registry registry;
    const ops::engine_metrics session(registry);
    ops::symbol_metrics btc(registry, "BTCUSDT");
    ops::symbol_metrics eth(registry, "ETHUSDT");
    btc.fills.add(3);
    eth.fills.add(5);
    eth.kill_engaged.set(1.0);
    eth.pnl_total.set(-2.5);
    const std::string text = registry.exposition();
    // One HELP and TYPE per family, a series per symbol under it.
    CHECK(text.find("# TYPE quoter_fills_total counter\nquoter_fills_total{symbol=\"BTCUSDT\"} "
                    "3\nquoter_fills_total{symbol=\"ETHUSDT\"} 5\n") != std::string::npos);
    CHECK(text.find("quoter_kill_engaged{symbol=\"BTCUSDT\"} 0\n") != std::string::npos);
    CHECK(text.find("quoter_kill_engaged{symbol=\"ETHUSDT\"} 1\n") != std::string::npos);
    CHECK(text.find("quoter_pnl_quote{symbol=\"ETHUSDT\"} -2.5\n") != std::string::npos);
    // The session's own series carry no symbol.
    CHECK(text.find("\nquoter_gateway_connected 0\n") != std::string::npos);
    CHECK(text.find("\nquoter_md_messages_total 0\n") != std::string::npos);
}

TEST_CASE("metrics: the engine set has one series per reject and refusal reason", "[metrics]") {
    ops::metrics_registry registry;
    ops::engine_metrics m(registry);
    ops::symbol_metrics symbol(registry, "BTCUSDT");
    symbol.count_refusal(risk::reject_reason::daily_loss);
    m.count_reject(exec::reject_reason::post_only_would_cross);
    m.count_reject(exec::reject_reason::rate_limited);
    const std::string text = registry.exposition();
    CHECK(text.find("quoter_risk_refusals_total{symbol=\"BTCUSDT\",reason=\"daily_loss\"} 1\n") !=
          std::string::npos);
    CHECK(text.find(
              "quoter_risk_refusals_total{symbol=\"BTCUSDT\",reason=\"cancel_trade_ratio\"} 0\n") !=
          std::string::npos);
    CHECK(text.find("quoter_order_rejects_total{reason=\"post_only_would_cross\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("quoter_order_rejects_total{reason=\"risk_refused\"} 0\n") !=
          std::string::npos);
    CHECK(text.find("quoter_order_rejects_total{reason=\"rate_limited\"} 1\n") !=
          std::string::npos);
    for (std::size_t i = 0; i < ops::exec_reject_reason_count; ++i) {
        CHECK(ops::label_of(static_cast<exec::reject_reason>(i)) != "unknown");
    }
}

namespace {

/// promtool from the Debian package `prometheus`, or empty.
std::string find_promtool() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const std::string candidate = dir + "/promtool";
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return {};
}

} // namespace

TEST_CASE("metrics: promtool accepts the engine's exposition", "[metrics][promtool]") {
    const std::string promtool = find_promtool();
    if (promtool.empty()) {
        quoter::test::skip_unless_ci("promtool not found; install the Debian package prometheus "
                                     "(tools/setup does) to check the exposition format");
        return;
    }
    ops::metrics_registry registry;
    ops::engine_metrics m(registry);
    ops::symbol_metrics btc(registry, "BTCUSDT");
    ops::symbol_metrics eth(registry, "ETHUSDT");
    btc.fills.add(7);
    eth.fills.add(2);
    btc.pnl_total.set(-12.25);
    m.tick_to_order.observe(14'300);
    m.order_round_trip.observe(2'500'000);
    btc.count_refusal(risk::reject_reason::price_band);
    eth.quote_rate_holds.add(2);
    eth.quote_rate_held.set_total(1'234'567'891);

    scratch_dir dir;
    const std::string file = dir.file("metrics.txt");
    {
        std::ofstream out(file);
        out << registry.exposition();
    }
    const std::string command =
        promtool + " check metrics < " + file + " > " + dir.file("out.txt") + " 2>&1";
    const int status = std::system(command.c_str());
    INFO(quoter::ops::testing::read_all(dir.file("out.txt")));
    CHECK(status == 0);

    // And it does catch a broken exposition, so the check above means something.
    {
        std::ofstream out(file);
        out << "# TYPE broken counter\nbroken{le=\"x\" 1\n";
    }
    CHECK(std::system(command.c_str()) != 0);
}
