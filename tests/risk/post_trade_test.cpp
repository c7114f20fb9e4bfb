// Post-trade alarms, each at, just below and just above its threshold.
#include "quoter/risk/post_trade.hpp"

#include "risk/risk_test_support.hpp"

#include <catch2/catch.hpp>

using namespace quoter;
using namespace quoter::risk;
using namespace quoter::risk::testing;
using core::ns_per_ms;
using core::ns_per_s;

namespace {

constexpr core::timestamp_ns start = 1'000 * ns_per_s;

fill_report fill_at(core::side side, std::int64_t price, std::int64_t expected,
                    core::duration_ns delay = 0, core::timestamp_ns at = start) {
    fill_report f;
    f.side = side;
    f.price = core::price{price};
    f.expected_price = core::price{expected};
    f.qty = core::qty{1};
    f.exchange_time = at - delay;
    f.received_time = at;
    return f;
}

struct fixture {
    explicit fixture(const alarm_thresholds& t = {}) : monitor(t, alerts) {}
    alert_recorder alerts;
    post_trade_monitor monitor;
};

/// Fill ratio with `orders` new orders and `fills` fills, min sample 100.
std::size_t low_fill_alarms(int orders, int fills) {
    alarm_thresholds t;
    t.fill_ratio_min_orders = 100;
    fixture f(t);
    for (int i = 0; i < orders; ++i) {
        f.monitor.on_new_order(start);
    }
    for (int i = 0; i < fills; ++i) {
        f.monitor.on_fill(fill_at(core::side::buy, 100, 100));
    }
    f.monitor.poll(start);
    return f.alerts.count(alert_kind::low_fill_ratio);
}

std::size_t cancel_ratio_alarms(int cancels, int fills) {
    alarm_thresholds t;
    t.cancel_trade_min_cancels = 10;
    fixture f(t);
    f.monitor.on_cancels(start, static_cast<std::uint32_t>(cancels));
    for (int i = 0; i < fills; ++i) {
        f.monitor.on_fill(fill_at(core::side::buy, 100, 100));
    }
    f.monitor.poll(start);
    return f.alerts.count(alert_kind::high_cancel_trade_ratio);
}

} // namespace

TEST_CASE("fill ratio alarm below min_fill_ratio_pct", "[post_trade]") {
    CHECK(low_fill_alarms(100, 6) == 0);
    CHECK(low_fill_alarms(100, 5) == 0); // exactly 5 %
    CHECK(low_fill_alarms(100, 4) == 1);
    CHECK(low_fill_alarms(99, 0) == 0); // too few orders to judge
}

TEST_CASE("cancel-to-trade alarm above max_cancel_trade_ratio", "[post_trade]") {
    CHECK(cancel_ratio_alarms(99, 2) == 0);
    CHECK(cancel_ratio_alarms(100, 2) == 0); // exactly 50 : 1
    CHECK(cancel_ratio_alarms(101, 2) == 1);
    CHECK(cancel_ratio_alarms(9, 0) == 0); // too few cancels to judge
}

TEST_CASE("one-sided loss alarm after a streak of losses on one side", "[post_trade]") {
    fixture f; // streak 10
    for (int i = 0; i < 9; ++i) {
        f.monitor.on_trade_outcome(core::side::buy, -1.0, start);
    }
    f.monitor.on_trade_outcome(core::side::sell, -1.0, start); // other side: separate streak
    CHECK(f.alerts.count(alert_kind::one_sided_losses) == 0);
    CHECK(f.monitor.losing_streak(core::side::buy) == 9);
    f.monitor.on_trade_outcome(core::side::buy, -1.0, start);
    CHECK(f.alerts.count(alert_kind::one_sided_losses) == 1);
    CHECK(f.alerts.alerts.back().value == 10.0);

    fixture g;
    for (int i = 0; i < 9; ++i) {
        g.monitor.on_trade_outcome(core::side::sell, -1.0, start);
    }
    g.monitor.on_trade_outcome(core::side::sell, 0.5, start); // a win resets the streak
    for (int i = 0; i < 9; ++i) {
        g.monitor.on_trade_outcome(core::side::sell, -1.0, start);
    }
    CHECK(g.alerts.count(alert_kind::one_sided_losses) == 0);
    g.monitor.on_trade_outcome(core::side::sell, -1.0, start);
    g.monitor.on_trade_outcome(core::side::sell, -1.0, start + 61 * ns_per_s); // 11, after cooldown
    CHECK(g.alerts.count(alert_kind::one_sided_losses) == 2);
}

TEST_CASE("slippage alarm above slippage_alarm_ticks", "[post_trade]") {
    fixture f; // 3 ticks
    f.monitor.on_fill(fill_at(core::side::buy, 102, 100));
    f.monitor.on_fill(fill_at(core::side::buy, 103, 100));
    f.monitor.on_fill(fill_at(core::side::buy, 90, 100)); // better than expected
    CHECK(f.alerts.count(alert_kind::slippage) == 0);
    f.monitor.on_fill(fill_at(core::side::buy, 104, 100));
    CHECK(f.alerts.count(alert_kind::slippage) == 1);
    CHECK(f.alerts.alerts.back().value == 4.0);

    fixture s;
    s.monitor.on_fill(fill_at(core::side::sell, 97, 100));
    CHECK(s.alerts.count(alert_kind::slippage) == 0);
    s.monitor.on_fill(fill_at(core::side::sell, 96, 100));
    CHECK(s.alerts.count(alert_kind::slippage) == 1);
}

TEST_CASE("delayed fill alarm above fill_delay_alarm_ms", "[post_trade]") {
    fixture f; // 500 ms
    f.monitor.on_fill(fill_at(core::side::buy, 100, 100, 499 * ns_per_ms));
    f.monitor.on_fill(fill_at(core::side::buy, 100, 100, 500 * ns_per_ms));
    CHECK(f.alerts.count(alert_kind::delayed_fill) == 0);
    f.monitor.on_fill(fill_at(core::side::buy, 100, 100, 500 * ns_per_ms + 1));
    CHECK(f.alerts.count(alert_kind::delayed_fill) == 1);
}

TEST_CASE("an alarm repeats at most once per cooldown", "[post_trade]") {
    fixture f; // 60 s cooldown
    f.monitor.on_fill(fill_at(core::side::buy, 110, 100, 0, start));
    f.monitor.on_fill(fill_at(core::side::buy, 110, 100, 0, start + 59 * ns_per_s));
    CHECK(f.alerts.count(alert_kind::slippage) == 1);
    f.monitor.on_fill(fill_at(core::side::buy, 110, 100, 0, start + 60 * ns_per_s));
    CHECK(f.alerts.count(alert_kind::slippage) == 2);
    CHECK(f.monitor.alarms_raised() == 2);
}

TEST_CASE("a ratio alarm held back by its cooldown fires on a later poll alone", "[post_trade]") {
    alarm_thresholds t;
    t.cancel_trade_min_cancels = 10;
    fixture f(t); // 60 s cooldown, 1 h window
    f.monitor.on_cancels(start, 100);
    f.monitor.poll(start);
    CHECK(f.alerts.count(alert_kind::high_cancel_trade_ratio) == 1);
    // No event since: the polls in between repeat the verdict, the first one after the cooldown
    // raises it again.
    for (core::timestamp_ns at = start + ns_per_s; at < start + 60 * ns_per_s; at += ns_per_s) {
        f.monitor.poll(at);
    }
    CHECK(f.alerts.count(alert_kind::high_cancel_trade_ratio) == 1);
    f.monitor.poll(start + 60 * ns_per_s);
    CHECK(f.alerts.count(alert_kind::high_cancel_trade_ratio) == 2);
}

TEST_CASE("a ratio alarm fires when old fills leave the window, without a new event",
          "[post_trade]") {
    alarm_thresholds t;
    t.cancel_trade_min_cancels = 10;
    t.alarm_window_ms = 60'000;
    fixture f(t);
    // Fills first, cancels 30 s later: 100 cancels per 10 fills is below the ratio of 50.
    for (int i = 0; i < 10; ++i) {
        f.monitor.on_fill(fill_at(core::side::buy, 100, 100, 0, start));
    }
    f.monitor.on_cancels(start + 30 * ns_per_s, 100);
    f.monitor.poll(start + 30 * ns_per_s);
    CHECK(f.alerts.count(alert_kind::high_cancel_trade_ratio) == 0);
    // Polled every second: once the fills have left the window (60 s, plus at most one bucket)
    // and the cancels have not, the ratio is 100 per fill.
    bool fired = false;
    core::timestamp_ns at = start + 31 * ns_per_s;
    for (; at <= start + 95 * ns_per_s && !fired; at += ns_per_s) {
        f.monitor.poll(at);
        fired = f.alerts.count(alert_kind::high_cancel_trade_ratio) == 1;
    }
    CHECK(fired);
    CHECK(at > start + 60 * ns_per_s);
}
