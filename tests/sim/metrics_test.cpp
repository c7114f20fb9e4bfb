#include "quoter/sim/metrics.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using namespace quoter;
using namespace quoter::sim;

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

// Equity 100, 110, 99, 105, 120 at one-second intervals; inventory 0, 1, -2, 2, 2 at a mid of 100.
std::vector<pnl_sample> small_series() {
    const double equity[] = {100, 110, 99, 105, 120};
    const double inventory[] = {0, 1, -2, 2, 2};
    std::vector<pnl_sample> pnl;
    for (int i = 0; i < 5; ++i) {
        pnl_sample s;
        s.time_ns = i * core::ns_per_s;
        s.mid = 100.0;
        s.equity = equity[i];
        s.inventory = inventory[i];
        pnl.push_back(s);
    }
    return pnl;
}

fill_record fill(core::side side, double price, double quantity, double mid, double fee,
                 double realized, double inventory_after) {
    fill_record f;
    f.side = side;
    f.price = price;
    f.quantity = quantity;
    f.mid = mid;
    f.fee = fee;
    f.realized_pnl = realized;
    f.inventory_after = inventory_after;
    return f;
}

// Opens long, closes with a gain, opens short, reduces with a loss, flips long with a gain.
std::vector<fill_record> small_fills() {
    using core::side;
    return {
        fill(side::buy, 99, 1, 100, 0.01, 0, 1),   fill(side::sell, 101, 1, 100, -0.02, 2, 0),
        fill(side::sell, 100, 2, 100.5, 0, 0, -2), fill(side::buy, 103, 1, 102, 0, -3, -1),
        fill(side::buy, 98, 3, 99, 0, 2, 2),
    };
}

metrics_config test_config() {
    metrics_config config;
    config.seconds_per_year = 4.0; // four one-second periods per "year": annualiser sqrt(4) = 2
    config.soft_limit_pct = 20.0;
    config.hard_limit_pct = 150.0;
    return config;
}

} // namespace

TEST_CASE("return metrics match hand-computed values", "[metrics]") {
    const auto pnl = small_series();
    const auto m = compute_metrics(pnl, {}, {}, test_config());
    // Returns: 1/10, -1/10, 6/99 = 2/33, 15/105 = 1/7; mean 47/924.
    const double mean = 47.0 / 924.0;
    const double r[] = {0.1, -0.1, 2.0 / 33.0, 1.0 / 7.0};
    double squares = 0;
    for (const double x : r) {
        squares += (x - mean) * (x - mean);
    }
    const double stddev = std::sqrt(squares / 3.0);
    CHECK(m.duration_s == 4.0);
    CHECK(m.initial_equity == 100.0);
    CHECK(m.final_equity == 120.0);
    CHECK(m.total_pnl == 20.0);
    CHECK(m.total_return_pct == Approx(20.0));
    CHECK(m.period_s == 1.0);
    CHECK(m.return_periods == 4);
    CHECK(stddev == Approx(0.10603763334561048));
    CHECK(m.sharpe == Approx(mean / stddev * 2.0));
    CHECK(m.sharpe == Approx(0.9593914775523703));
    // Downside deviation: only -0.1 falls short of 0: sqrt(0.01 / 4) = 0.05.
    CHECK(m.sortino == Approx(mean / 0.05 * 2.0));
    CHECK(m.annualized_volatility_pct == Approx(stddev * 2.0 * 100.0));
    // Peak 110, trough 99: 11 absolute, 10%.
    CHECK(m.max_drawdown == Approx(11.0));
    CHECK(m.max_drawdown_pct == Approx(10.0));
    // 20% over 4 s with a 4 s year is 20% annualised; Calmar 20 / 10.
    CHECK(m.annualized_return_pct == Approx(20.0));
    CHECK(m.calmar == Approx(2.0));
}

TEST_CASE("a return period resamples the equity curve", "[metrics]") {
    const auto pnl = small_series();
    auto config = test_config();
    config.return_period_s = 2.0; // observations at 0, 2, 4 s: 100, 99, 120
    const auto m = compute_metrics(pnl, {}, {}, config);
    const double r1 = -0.01;
    const double r2 = 120.0 / 99.0 - 1.0;
    const double mean = (r1 + r2) / 2;
    const double stddev = std::sqrt((r1 - mean) * (r1 - mean) + (r2 - mean) * (r2 - mean));
    CHECK(m.return_periods == 2);
    CHECK(m.period_s == 2.0);
    CHECK(m.sharpe == Approx(mean / stddev * std::sqrt(2.0)));
    CHECK(m.max_drawdown == Approx(11.0)); // drawdown still uses every sample
}

TEST_CASE("a risk-free rate is subtracted per period", "[metrics]") {
    const auto pnl = small_series();
    auto config = test_config();
    config.risk_free_rate_per_year = 0.04; // 0.01 per one-second period
    const auto m = compute_metrics(pnl, {}, {}, config);
    const double excess = 47.0 / 924.0 - 0.01;
    CHECK(m.sharpe == Approx(excess / 0.10603763334561048 * 2.0));
    // Shortfalls below 0.01: -0.11 only.
    CHECK(m.sortino == Approx(excess / std::sqrt(0.11 * 0.11 / 4) * 2.0));
}

TEST_CASE("trade metrics match hand-computed values", "[metrics]") {
    const auto pnl = small_series();
    const auto fills = small_fills();
    activity_counts activity;
    activity.orders_submitted = 4;
    activity.orders_filled = 2;
    activity.cancels = 1;
    activity.rejects = 1;
    const auto m = compute_metrics(pnl, fills, activity, test_config());
    CHECK(m.fills == 5);
    CHECK(m.buy_fills == 3);
    CHECK(m.sell_fills == 2);
    CHECK(m.closing_fills == 3); // the second, fourth and fifth (a flip) fills
    CHECK(m.winning_fills == 2);
    CHECK(m.win_rate_pct == Approx(200.0 / 3.0));
    CHECK(m.gross_profit == Approx(4.0));
    CHECK(m.gross_loss == Approx(3.0));
    CHECK(m.profit_factor == Approx(4.0 / 3.0));
    CHECK(m.fill_ratio == Approx(0.5));
    CHECK(m.cancel_to_trade == Approx(0.2));
    CHECK(m.rejects == 1);
    // Edges against the mid: +1, +1, -1, -1, +3.
    CHECK(m.spread_capture_pnl == Approx(3.0));
    CHECK(m.fees_paid == Approx(0.01));
    CHECK(m.rebates_received == Approx(0.02));
    CHECK(m.net_fees == Approx(-0.01));
    CHECK(m.inventory_pnl == Approx(20.0 - 3.0 - 0.01));
    CHECK(m.spread_capture_pnl + m.inventory_pnl - m.net_fees == Approx(m.total_pnl));
    CHECK(m.volume_base == Approx(8.0));
    CHECK(m.turnover == Approx(99 + 101 + 200 + 103 + 294));
    CHECK(m.turnover_ratio == Approx(7.97));
}

TEST_CASE("inventory statistics are time-weighted", "[metrics]") {
    auto pnl = small_series();
    const auto m = compute_metrics(pnl, {}, {}, test_config());
    // Inventory 0, 1, -2, 2 held one second each (the last sample ends the run).
    CHECK(m.mean_abs_inventory == Approx(1.25));
    CHECK(m.max_abs_inventory == 2.0);
    CHECK(m.final_inventory == 2.0);
    // Notional 0, 100, 200, 200 against a capital of 100: >= 20 for 3 s, >= 150 for 2 s.
    CHECK(m.time_at_soft_limit_pct == Approx(75.0));
    CHECK(m.time_at_hard_limit_pct == Approx(50.0));

    pnl[1].time_ns = 3 * core::ns_per_s; // inventory 0 now holds for 3 s of 4
    pnl[2].time_ns = 3 * core::ns_per_s;
    pnl[3].time_ns = 3 * core::ns_per_s;
    const auto skewed = compute_metrics(pnl, {}, {}, test_config());
    CHECK(skewed.mean_abs_inventory == Approx(0.5));
}

TEST_CASE("the mean quoted spread averages the samples that show both quotes", "[metrics]") {
    auto pnl = small_series();
    CHECK(std::isnan(compute_metrics(pnl, {}, {}, test_config()).mean_quoted_spread));
    pnl[0].bid_quote = 99.0;
    pnl[0].ask_quote = 101.0; // 2
    pnl[1].bid_quote = 99.5;  // one side only: not counted
    pnl[2].ask_quote = 100.5;
    pnl[3].bid_quote = 99.0;
    pnl[3].ask_quote = 102.0; // 3
    CHECK(compute_metrics(pnl, {}, {}, test_config()).mean_quoted_spread == Approx(2.5));
}

TEST_CASE("undefined ratios are NaN and unbounded ones infinite", "[metrics]") {
    std::vector<pnl_sample> flat(3);
    for (int i = 0; i < 3; ++i) {
        flat[i].time_ns = i * core::ns_per_s;
        flat[i].equity = 100.0;
        flat[i].mid = 1.0;
    }
    const auto m = compute_metrics(flat, {}, {}, test_config());
    CHECK(std::isnan(m.sharpe));
    CHECK(std::isnan(m.sortino));
    CHECK(std::isnan(m.calmar));
    CHECK(std::isnan(m.win_rate_pct));
    CHECK(std::isnan(m.profit_factor));
    CHECK(std::isnan(m.fill_ratio));
    CHECK(m.max_drawdown == 0.0);

    flat[1].equity = 101.0;
    flat[2].equity = 102.0;
    const std::vector<fill_record> winners{fill(core::side::buy, 1, 1, 1, 0, 0, 1),
                                           fill(core::side::sell, 2, 1, 1, 0, 1, 0)};
    const auto up = compute_metrics(flat, winners, {}, test_config());
    CHECK(std::isinf(up.sortino));
    CHECK(std::isinf(up.calmar));
    CHECK(std::isinf(up.profit_factor));
    CHECK(up.win_rate_pct == 100.0);

    const auto empty = compute_metrics({}, {}, {}, test_config());
    CHECK(std::isnan(empty.sharpe));
    CHECK(empty.total_pnl == 0.0);
    CHECK(empty.fills == 0);
}

TEST_CASE("order events give the activity counts", "[metrics]") {
    std::vector<order_record> orders;
    const auto event = [&](std::uint64_t id, order_event e) {
        order_record r;
        r.order_id = id;
        r.event = e;
        orders.push_back(r);
    };
    for (std::uint64_t id = 1; id <= 4; ++id) {
        event(id, order_event::submitted);
    }
    event(1, order_event::acknowledged);
    event(1, order_event::filled);
    event(2, order_event::partially_filled);
    event(2, order_event::partially_filled);
    event(2, order_event::filled);
    event(3, order_event::cancel_requested);
    event(3, order_event::cancelled);
    event(4, order_event::rejected);
    const auto counts = count_activity(orders);
    CHECK(counts.orders_submitted == 4);
    CHECK(counts.orders_filled == 2);
    CHECK(counts.cancels == 1);
    CHECK(counts.rejects == 1);
}

TEST_CASE("distributions over paths give mean, stddev and type-7 quantiles", "[metrics]") {
    const std::vector<double> values{4, 2, not_a_number, 1, 3};
    const auto d = describe_distribution(values);
    CHECK(d.count == 4);
    CHECK(d.mean == Approx(2.5));
    CHECK(d.stddev == Approx(std::sqrt(5.0 / 3.0)));
    CHECK(d.min == 1.0);
    CHECK(d.max == 4.0);
    CHECK(d.median == Approx(2.5));
    CHECK(d.p05 == Approx(1.15));
    CHECK(d.p95 == Approx(3.85));

    const auto single = describe_distribution(std::vector<double>{7.0});
    CHECK(single.mean == 7.0);
    CHECK(std::isnan(single.stddev));
    CHECK(single.median == 7.0);
    CHECK(std::isnan(describe_distribution({}).mean));
}

TEST_CASE("paths aggregate into per-quantity distributions", "[metrics]") {
    std::vector<path_summary> paths;
    for (std::size_t i = 0; i < 4; ++i) {
        run_metrics m;
        m.total_pnl = static_cast<double>(i) * 10.0;
        m.final_inventory = i % 2 == 0 ? 1.0 : -1.0;
        m.sharpe = i == 3 ? not_a_number : 1.0;
        m.fills = 5;
        paths.push_back(summarize_path(i, 100 + i, m));
    }
    CHECK(paths[2].final_pnl == 20.0);
    CHECK(paths[2].seed == 102);
    const auto agg = aggregate_paths(paths);
    CHECK(agg.paths == 4);
    CHECK(agg.final_pnl.mean == Approx(15.0));
    CHECK(agg.final_pnl.stddev == Approx(std::sqrt(500.0 / 3.0)));
    CHECK(agg.final_inventory.mean == Approx(0.0));
    CHECK(agg.final_inventory.stddev == Approx(std::sqrt(4.0 / 3.0)));
    CHECK(agg.sharpe.count == 3);
    CHECK(agg.sharpe.mean == 1.0);
    CHECK(agg.fills.mean == 5.0);
}

TEST_CASE("order-rate holds are a share of the run's quoting time", "[metrics]") {
    run_metrics m = compute_metrics(small_series(), {}, {});
    REQUIRE(m.duration_s == 4.0);
    CHECK(m.rate_holds == 0); // compute_metrics() leaves them to the run
    set_rate_holds(m, 2, 1.0);
    CHECK(m.rate_holds == 2);
    CHECK(m.rate_held_s == 1.0);
    CHECK(m.rate_held_pct == Approx(25.0));
    set_rate_holds(m, 3, 2.0, 2); // a portfolio of two symbols: 8 symbol-seconds of quoting
    CHECK(m.rate_held_pct == Approx(25.0));
    run_metrics empty = compute_metrics({}, {}, {});
    set_rate_holds(empty, 0, 0.0);
    CHECK(std::isnan(empty.rate_held_pct));
}
