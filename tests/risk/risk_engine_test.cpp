// The risk engine's automatic triggers, each at, just below and just above its threshold, and a
// property test over random event sequences: after a kill, no order passes until a resume.
#include "quoter/risk/risk_engine.hpp"

#include "risk/risk_test_support.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace quoter;
using namespace quoter::risk;
using namespace quoter::risk::testing;
using core::ns_per_ms;
using core::ns_per_s;

namespace {

constexpr core::timestamp_ns start = 1'000 * ns_per_s;

struct fixture {
    explicit fixture(const risk_config& c = {}) : engine(c, actions, alerts, rejections) {}
    action_recorder actions;
    alert_recorder alerts;
    rejection_recorder rejections;
    risk_engine engine;
    core::symbol_spec spec = integer_spec();

    void account(const account_view& a, std::uint16_t symbol_id = 0, core::timestamp_ns t = start) {
        engine.on_account(spec, symbol_id, mid_1000(), a, t);
    }
};

account_view losing(double loss) {
    account_view a = flat_account();
    a.realized_pnl_today = -loss;
    return a;
}

fill_report fill(core::side side, std::int64_t price, std::int64_t expected,
                 core::duration_ns delay = 0) {
    fill_report f;
    f.side = side;
    f.price = core::price{price};
    f.expected_price = core::price{expected};
    f.qty = core::qty{1};
    f.received_time = start;
    f.exchange_time = start - delay;
    return f;
}

} // namespace

TEST_CASE("daily loss kills above daily_loss_pct and blocks resume while it lasts",
          "[risk_engine][trigger]") {
    fixture f; // 1 % of 100000
    f.account(losing(999.0));
    f.account(losing(1'000.0));
    CHECK(f.engine.state() == trading_state::running);
    f.account(losing(1'001.0));
    CHECK(f.engine.state() == trading_state::killed);
    CHECK(f.engine.switch_state().kill_reason() == halt_reason::daily_loss);
    CHECK(f.engine.resume(start + 1).outcome == resume_outcome::refused);
    f.account(losing(500.0), 0, start + 2);
    CHECK(f.engine.state() == trading_state::killed);
    CHECK(f.engine.resume(start + 3).outcome == resume_outcome::resumed);
    CHECK(f.engine.state() == trading_state::running);
}

TEST_CASE("a pre-trade daily-loss rejection engages the kill switch", "[risk_engine][trigger]") {
    fixture f;
    CHECK(f.engine.check_order(f.spec, buy(1000, 1), mid_1000(), losing(1'001.0), start) ==
          reject_reason::daily_loss);
    CHECK(f.engine.state() == trading_state::killed);
    CHECK(f.engine.check_order(f.spec, buy(1000, 1), mid_1000(), flat_account(), start) ==
          reject_reason::killed);
}

TEST_CASE("pre-trade drawdown and inventory-kill rejections engage the kill switch",
          "[risk_engine][trigger]") {
    account_view drawn_down = flat_account(84'999.0);
    drawn_down.peak_equity = 100'000.0;
    drawn_down.day_start_equity = 0.0; // keep the daily-loss limit out of the way
    fixture drawdown;
    CHECK(drawdown.engine.check_order(drawdown.spec, buy(1000, 1), mid_1000(), drawn_down, start) ==
          reject_reason::drawdown_hard);
    CHECK(drawdown.engine.state() == trading_state::killed);
    CHECK(drawdown.engine.switch_state().kill_reason() == halt_reason::drawdown_hard);

    risk_config c;
    c.limits.order_notional_pct = 100.0;
    fixture inventory(c); // 50 % = 50 lots at mid 1000
    order_request order = buy(1000, 1);
    order.symbol_id = 3;
    CHECK(inventory.engine.check_order(inventory.spec, order, mid_1000(), with_position(51),
                                       start) == reject_reason::inventory_kill);
    CHECK(inventory.engine.state() == trading_state::killed);
    CHECK(inventory.engine.switch_state().kill_reason() == halt_reason::inventory_kill);
    // The breach is the order's symbol's: another symbol's view below the limit leaves it.
    inventory.account(with_position(10), 0);
    CHECK(inventory.engine.resume(start).blocking == halt_reason::inventory_kill);
    inventory.account(with_position(10), 3);
    CHECK(inventory.engine.resume(start).outcome == resume_outcome::resumed);

    // Other refusals leave the kill switch alone.
    fixture refused;
    CHECK(refused.engine.check_order(refused.spec, buy(1000, 100), mid_1000(), flat_account(),
                                     start) == reject_reason::max_order_notional);
    CHECK(refused.engine.state() == trading_state::running);
}

TEST_CASE("cancels above max_cancels_per_s pause trading", "[risk_engine][trigger]") {
    fixture f; // 20 per second
    for (int i = 0; i < 20; ++i) {
        REQUIRE_FALSE(f.engine.on_cancel(start + i));
    }
    CHECK(f.engine.state() == trading_state::running);
    CHECK(f.engine.on_cancel(start + 20));
    CHECK(f.engine.switch_state().condition_active(halt_reason::cancel_rate));
    CHECK(f.engine.state() != trading_state::running);
    CHECK(f.engine.on_cancel(start + 21)); // still above, the condition stays as it is
    CHECK(f.engine.switch_state().condition_active(halt_reason::cancel_rate));
}

TEST_CASE("the session's cancel rate pauses every symbol sharing the windows",
          "[risk_engine][trigger]") {
    risk_config c;
    c.limits.max_cancels_per_s = 4;
    c.limits.order_notional_pct = 100.0;
    fixture a(c);
    fixture b(c);
    order_rate_windows shared;
    a.engine.share_order_rates(&shared);
    b.engine.share_order_rates(&shared);
    for (int i = 0; i < 5; ++i) {
        (void)a.engine.on_cancel(start + i);
    }
    CHECK(a.engine.state() == trading_state::paused);
    // The other symbol sent none of them, yet the session is above the limit: its next order
    // is refused, and its poll pauses it too.
    CHECK(b.engine.check_order(b.spec, buy(999, 10), mid_1000(), flat_account(), start + 10) ==
          reject_reason::paused);
    CHECK(b.engine.switch_state().condition_active(halt_reason::cancel_rate));
    fixture polled(c);
    polled.engine.share_order_rates(&shared);
    polled.engine.poll(start + 10);
    CHECK(polled.engine.state() == trading_state::paused);
    // It resumes once the cancels have left the window.
    b.engine.poll(start + 2 * ns_per_s);
    CHECK(b.engine.state() == trading_state::running);
    CHECK(b.engine.check_order(b.spec, buy(999, 10), mid_1000(), flat_account(),
                               start + 2 * ns_per_s) == reject_reason::none);

    // Without sharing, another engine's cancels are none of this one's business.
    fixture alone(c);
    alone.engine.poll(start + 10);
    CHECK(alone.engine.state() == trading_state::running);
}

TEST_CASE("hard drawdown kills above drawdown_hard_pct", "[risk_engine][trigger]") {
    const auto at_equity = [](double equity) {
        account_view a = flat_account(equity);
        a.peak_equity = 100'000.0;
        a.day_start_equity = 0.0; // keep the daily-loss limit out of the way
        return a;
    };
    fixture f; // 15 %
    f.account(at_equity(85'001.0));
    f.account(at_equity(85'000.0));
    CHECK(f.engine.state() == trading_state::running);
    f.account(at_equity(84'999.0));
    CHECK(f.engine.state() == trading_state::killed);
    CHECK(f.engine.switch_state().kill_reason() == halt_reason::drawdown_hard);
}

TEST_CASE("inventory kill per symbol, cleared only when no symbol is above",
          "[risk_engine][trigger]") {
    risk_config c;
    c.limits.order_notional_pct = 100.0;
    fixture f(c); // 50 % = 50 lots at mid 1000
    f.account(with_position(49), 1);
    f.account(with_position(50), 1);
    CHECK(f.engine.state() == trading_state::running);
    f.account(with_position(51), 1);
    CHECK(f.engine.state() == trading_state::killed);
    CHECK(f.engine.switch_state().kill_reason() == halt_reason::inventory_kill);
    f.account(with_position(60), 2);
    f.account(with_position(10), 1);
    CHECK(f.engine.resume(start).blocking == halt_reason::inventory_kill); // symbol 2 still above
    f.account(with_position(-10), 2);
    CHECK(f.engine.resume(start).outcome == resume_outcome::resumed);
}

TEST_CASE("a book that cannot value the position keeps the inventory verdict as it was",
          "[risk_engine][trigger]") {
    risk_config c;
    c.limits.order_notional_pct = 100.0;
    fixture f(c); // 50 % = 50 lots at mid 1000
    f.engine.on_account(f.spec, 1, book(0, 0), with_position(51), start);
    CHECK(f.engine.state() == trading_state::running); // not valued: no verdict
    f.account(with_position(51), 1);
    CHECK(f.engine.state() == trading_state::killed);
    // Empty and one-sided-at-zero books: the breach holds, even with the position back inside.
    f.engine.on_account(f.spec, 1, book(0, 0), with_position(10), start + 1);
    f.engine.on_account(f.spec, 1, book(-1, 0), with_position(10), start + 2);
    CHECK(f.engine.switch_state().condition_active(halt_reason::inventory_kill));
    CHECK(f.engine.resume(start + 3).blocking == halt_reason::inventory_kill);
    f.engine.on_account(f.spec, 1, book(0, 1'001), with_position(10), start + 4);
    CHECK_FALSE(f.engine.switch_state().condition_active(halt_reason::inventory_kill));
    CHECK(f.engine.resume(start + 5).outcome == resume_outcome::resumed);
    CHECK(f.engine.state() == trading_state::running);
}

TEST_CASE("loss, drawdown and inventory limits of 0 or below never kill", "[risk_engine][trigger]") {
    for (const double off : {0.0, -1.0}) {
        risk_config c;
        c.limits.daily_loss_pct = off;
        c.limits.drawdown_hard_pct = off;
        c.limits.inventory_kill_pct = off;
        fixture f(c);
        account_view a = with_position(1'000); // 10 times the equity at mid 1000
        a.realized_pnl_today = -90'000.0;
        a.equity = 10'000.0;
        a.peak_equity = 100'000.0;
        f.account(a);
        CHECK(f.engine.state() == trading_state::running);
    }
}

TEST_CASE("an API error storm kills once api_error_storm_count errors fall in the window",
          "[risk_engine][trigger]") {
    fixture f; // 5 within 10 s
    for (int i = 0; i < 4; ++i) {
        f.engine.on_api_response(classify_http_status(i % 2 == 0 ? 429 : 503), start + i);
    }
    f.engine.on_api_response(api_outcome::ok, start + 5);
    f.engine.on_api_response(classify_http_status(400), start + 6); // a client error: not counted
    CHECK(f.engine.state() == trading_state::running);
    f.engine.on_api_response(classify_http_status(0), start + 7); // timeout: the 5th
    CHECK(f.engine.state() == trading_state::killed);
    CHECK(f.engine.switch_state().kill_reason() == halt_reason::api_error_storm);
    f.engine.on_api_response(classify_http_status(418), start + 8); // 6th: nothing new
    CHECK(f.engine.switch_state().kill_count() == 1);

    f.engine.poll(start + 5 * ns_per_s);
    CHECK(f.engine.resume(start + 5 * ns_per_s).blocking == halt_reason::api_error_storm);
    f.engine.poll(start + 11 * ns_per_s);
    CHECK(f.engine.resume(start + 11 * ns_per_s).outcome == resume_outcome::resumed);
}

TEST_CASE("errors spread wider than the window are no storm", "[risk_engine][trigger]") {
    fixture f;
    for (int i = 0; i < 4; ++i) {
        f.engine.on_api_response(api_outcome::server_error, start + i);
    }
    f.engine.on_api_response(api_outcome::server_error, start + 11 * ns_per_s);
    CHECK(f.engine.state() == trading_state::running);
}

TEST_CASE("HTTP statuses are classified for the storm", "[risk_engine]") {
    CHECK(classify_http_status(200) == api_outcome::ok);
    CHECK(classify_http_status(400) == api_outcome::client_error);
    CHECK(classify_http_status(429) == api_outcome::rate_limited);
    CHECK(classify_http_status(418) == api_outcome::banned);
    CHECK(classify_http_status(500) == api_outcome::server_error);
    CHECK(classify_http_status(503) == api_outcome::server_error);
    CHECK(classify_http_status(-1) == api_outcome::timeout);
    CHECK_FALSE(counts_toward_storm(api_outcome::client_error));
}

TEST_CASE("stale market data pauses after stale_market_data_ms and resumes on the next update",
          "[risk_engine][trigger]") {
    fixture f;                            // 2000 ms
    f.engine.poll(start + 10 * ns_per_s); // no data yet: nothing to be stale
    CHECK(f.engine.state() == trading_state::running);
    f.engine.on_market_data(start);
    f.engine.poll(start + 1'999 * ns_per_ms);
    f.engine.poll(start + 2'000 * ns_per_ms);
    CHECK(f.engine.state() == trading_state::running);
    f.engine.poll(start + 2'000 * ns_per_ms + 1);
    CHECK(f.engine.state() == trading_state::paused);
    CHECK(f.engine.switch_state().pause_reason() == halt_reason::stale_market_data);
    CHECK(f.actions.count(action_recorder::kind::cancel_all) == 1);
    CHECK(f.engine.check_order(f.spec, buy(1000, 1), mid_1000(), flat_account(),
                               start + 2'001 * ns_per_ms) == reject_reason::paused);
    f.engine.on_market_data(start + 3 * ns_per_s);
    CHECK(f.engine.state() == trading_state::running);
    CHECK(f.actions.changes.back().event == state_event::auto_resume);
}

TEST_CASE("a resync pauses until it completes", "[risk_engine][trigger]") {
    fixture f;
    f.engine.on_resync(true, start);
    CHECK(f.engine.state() == trading_state::paused);
    CHECK(f.engine.switch_state().pause_reason() == halt_reason::resync);
    f.engine.on_resync(false, start + 1);
    CHECK(f.engine.state() == trading_state::running);
}

TEST_CASE("slippage kills above max_slippage_ticks", "[risk_engine][trigger]") {
    fixture f; // 3 ticks
    f.engine.on_fill(fill(core::side::buy, 1002, 1000));
    f.engine.on_fill(fill(core::side::sell, 997, 1000));
    CHECK(f.engine.state() == trading_state::running);
    f.engine.on_fill(fill(core::side::sell, 996, 1000));
    CHECK(f.engine.state() == trading_state::killed);
    CHECK(f.engine.switch_state().kill_reason() == halt_reason::slippage);
    // An event, not a lasting condition: resume is allowed at once.
    CHECK(f.engine.resume(start + 1).outcome == resume_outcome::resumed);
}

TEST_CASE("an acknowledgement later than max_ack_delay_ms kills", "[risk_engine][trigger]") {
    fixture f; // 2000 ms
    f.engine.on_ack(start, start + 1'999 * ns_per_ms);
    f.engine.on_ack(start, start + 2'000 * ns_per_ms);
    CHECK(f.engine.state() == trading_state::running);
    f.engine.on_ack(start, start + 2'000 * ns_per_ms + 1);
    CHECK(f.engine.state() == trading_state::killed);
    CHECK(f.engine.switch_state().kill_reason() == halt_reason::ack_delay);
}

TEST_CASE("an order waiting for its acknowledgement too long kills and blocks resume",
          "[risk_engine][trigger]") {
    fixture f;
    f.engine.poll(start + 1'999 * ns_per_ms, start);
    f.engine.poll(start + 2'000 * ns_per_ms, start);
    CHECK(f.engine.state() == trading_state::running);
    f.engine.poll(start + 2'000 * ns_per_ms + 1, start);
    CHECK(f.engine.state() == trading_state::killed);
    CHECK(f.engine.resume(start + 3 * ns_per_s).blocking == halt_reason::ack_delay);
    f.engine.poll(start + 3 * ns_per_s, no_pending_ack);
    CHECK(f.engine.resume(start + 3 * ns_per_s).outcome == resume_outcome::resumed);
}

TEST_CASE("a kill the venue has not confirmed refuses resume; outside a kill it is no trigger",
          "[risk_engine][trigger]") {
    fixture f;
    // Running or paused, an unconfirmed cancel-all (a pause's) neither kills nor blocks.
    f.engine.set_kill_unconfirmed(true, start);
    CHECK(f.engine.state() == trading_state::running);
    f.engine.pause(start);
    f.engine.set_kill_unconfirmed(true, start);
    CHECK(f.engine.state() == trading_state::paused);
    CHECK(f.engine.resume(start + 1).outcome == resume_outcome::resumed);

    REQUIRE(f.engine.trigger_kill_switch(halt_reason::manual_kill, start + 2));
    f.engine.set_kill_unconfirmed(true, start + 3);
    const resume_result refused = f.engine.resume(start + 3);
    CHECK(refused.outcome == resume_outcome::refused);
    CHECK(refused.blocking == halt_reason::kill_unconfirmed);
    CHECK(f.engine.state() == trading_state::killed);
    CHECK(f.engine.switch_state().kill_reason() == halt_reason::manual_kill);
    CHECK(f.actions.changes.back().event == state_event::resume_refused);
    CHECK(f.actions.changes.back().reason == halt_reason::kill_unconfirmed);
    CHECK(to_string(halt_reason::kill_unconfirmed) == "kill_unconfirmed");
    f.engine.set_kill_unconfirmed(false, start + 4);
    CHECK(f.engine.resume(start + 4).outcome == resume_outcome::resumed);
    CHECK(f.engine.state() == trading_state::running);
}

TEST_CASE("a fill later than max_fill_delay_ms kills", "[risk_engine][trigger]") {
    fixture f; // 2000 ms
    f.engine.on_fill(fill(core::side::buy, 1000, 1000, 1'999 * ns_per_ms));
    f.engine.on_fill(fill(core::side::buy, 1000, 1000, 2'000 * ns_per_ms));
    CHECK(f.engine.state() == trading_state::running);
    f.engine.on_fill(fill(core::side::buy, 1000, 1000, 2'000 * ns_per_ms + 1));
    CHECK(f.engine.state() == trading_state::killed);
    CHECK(f.engine.switch_state().kill_reason() == halt_reason::fill_delay);
}

TEST_CASE("a disabled trigger never fires", "[risk_engine][trigger]") {
    risk_config c;
    c.triggers.max_slippage_ticks = 0;
    c.triggers.max_fill_delay_ms = 0;
    c.triggers.api_error_storm_count = 0;
    fixture f(c);
    f.engine.on_fill(fill(core::side::buy, 2000, 1000, 60 * ns_per_s));
    for (int i = 0; i < 100; ++i) {
        f.engine.on_api_response(api_outcome::server_error, start + i);
    }
    CHECK(f.engine.state() == trading_state::running);
}

TEST_CASE("passed orders, cancels and fills feed the post-trade alarms", "[risk_engine]") {
    risk_config c;
    c.alarms.cancel_trade_min_cancels = 10;
    c.alarms.max_cancel_trade_ratio = 5.0;
    fixture f(c);
    REQUIRE(f.engine.check_order(f.spec, buy(1000, 1), mid_1000(), flat_account(), start) ==
            reject_reason::none);
    f.engine.on_fill(fill(core::side::buy, 1000, 1000));
    for (int i = 0; i < 6; ++i) {
        REQUIRE_FALSE(f.engine.on_cancel(start));
    }
    f.engine.on_cancels_sent(start, 6);
    f.engine.poll(start);
    CHECK(f.alerts.count(alert_kind::high_cancel_trade_ratio) == 1);
}

namespace {

/// A random mix of everything the core can tell the risk engine.
struct random_driver {
    explicit random_driver(std::uint64_t seed, bool flatten_on_kill) : rng(seed) {
        config.limits.order_notional_pct = 20.0;
        config.triggers.flatten_on_kill = flatten_on_kill;
    }

    template <class T> T uniform(T lo, T hi) {
        return std::uniform_int_distribution<T>(lo, hi)(rng);
    }

    order_request random_order() {
        order_request o;
        o.client_order_id = ++next_id;
        o.side = uniform(0, 1) == 0 ? core::side::buy : core::side::sell;
        o.price = core::price{uniform<std::int64_t>(990, 1010)};
        o.qty = core::qty{uniform<std::int64_t>(1, 8)};
        o.post_only = uniform(0, 1) == 0;
        o.intent = uniform(0, 5) == 0 ? order_intent::flatten : order_intent::quote;
        return o;
    }

    account_view random_account() {
        account_view a = flat_account();
        a.position = core::qty{uniform<std::int64_t>(-60, 60)};
        a.realized_pnl_today = -static_cast<double>(uniform(0, 1'200));
        return a;
    }

    std::mt19937_64 rng;
    risk_config config;
    std::uint64_t next_id = 0;
};

void run_property(std::uint64_t seed, bool flatten_on_kill) {
    random_driver d(seed, flatten_on_kill);
    fixture f(d.config);
    core::timestamp_ns now = start;
    bool blocked = false; // a kill happened and no resume succeeded since
    std::size_t kills = 0;
    std::size_t passed_while_blocked = 0;
    account_view account = flat_account();

    for (int step = 0; step < 20'000; ++step) {
        now += d.uniform<core::duration_ns>(0, 40 * ns_per_ms);
        const int event = d.uniform(0, 99);
        if (event < 45) {
            const order_request o = d.random_order();
            const reject_reason r = f.engine.check_order(f.spec, o, mid_1000(), account, now);
            if (blocked && r == reject_reason::none) {
                // Only a reducing flatten order may leave after a kill, and only when configured.
                REQUIRE(flatten_on_kill);
                REQUIRE(o.intent == order_intent::flatten);
                REQUIRE(reduces_position(o.side, o.qty, account));
                ++passed_while_blocked;
            }
            if (r == reject_reason::none && o.intent == order_intent::quote) {
                REQUIRE(f.engine.state() == trading_state::running);
            }
        } else if (event < 55) {
            account = d.random_account();
            f.engine.on_account(f.spec, 0, mid_1000(), account, now);
        } else if (event < 60) {
            f.engine.trigger_kill_switch(halt_reason::manual_kill, now);
        } else if (event < 63) {
            f.engine.pause(now);
        } else if (event < 75) {
            if (f.engine.resume(now).outcome == resume_outcome::resumed) {
                blocked = false;
            }
        } else if (event < 82) {
            f.engine.on_market_data(now);
        } else if (event < 86) {
            f.engine.on_resync(d.uniform(0, 1) == 0, now);
        } else if (event < 90) {
            f.engine.on_api_response(
                d.uniform(0, 9) == 0 ? api_outcome::server_error : api_outcome::ok, now);
        } else if (event < 94) {
            fill_report fr;
            fr.side = core::side::buy;
            fr.price = core::price{1000 + d.uniform<std::int64_t>(-2, 5)};
            fr.expected_price = core::price{1000};
            fr.received_time = now;
            fr.exchange_time = now - d.uniform<core::duration_ns>(0, 2'100 * ns_per_ms);
            f.engine.on_fill(fr);
        } else {
            f.engine.poll(now, d.uniform(0, 9) != 0 ? no_pending_ack : now - 2'500 * ns_per_ms);
        }
        if (f.engine.state() == trading_state::killed) {
            if (!blocked) {
                ++kills;
            }
            blocked = true;
        }
        if (blocked) {
            REQUIRE_FALSE(f.actions.new_orders_enabled);
        }
    }
    CHECK(kills > 10); // the sequence exercised the property
    if (flatten_on_kill) {
        CHECK(passed_while_blocked > 0);
    }
}

} // namespace

TEST_CASE("property: after a kill no order passes until resume", "[risk_engine][property]") {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
        run_property(seed, false);
    }
}

TEST_CASE("property: after a kill with flatten_on_kill only reducing flatten orders pass",
          "[risk_engine][property]") {
    for (std::uint64_t seed = 11; seed <= 14; ++seed) {
        run_property(seed, true);
    }
}

TEST_CASE("the daily loss starts again at 00:00 UTC, not at process start",
          "[risk_engine][trigger][daily]") {
    // 2024-08-08 00:00:00 UTC in ns since the Unix epoch.
    constexpr core::timestamp_ns midnight = 1'723'075'200LL * ns_per_s;
    fixture f; // 1 % of 100000
    // The process started at 22:00 on the 7th; by 23:59 it lost 1001 (realized since start).
    f.account(losing(500.0), 0, midnight - 2 * 3'600 * ns_per_s);
    f.account(losing(1'001.0), 0, midnight - 60 * ns_per_s);
    REQUIRE(f.engine.switch_state().kill_reason() == halt_reason::daily_loss);
    CHECK(f.engine.resume(midnight - 30 * ns_per_s).outcome == resume_outcome::refused);

    // A new day: the same account figures are yesterday's loss, not today's.
    f.account(losing(1'001.0), 0, midnight + ns_per_s);
    CHECK(f.engine.resume(midnight + 2 * ns_per_s).outcome == resume_outcome::resumed);
    REQUIRE(f.engine.state() == trading_state::running);
    CHECK(f.engine.check_order(f.spec, buy(1000, 1), mid_1000(), losing(1'001.0),
                               midnight + 3 * ns_per_s) == reject_reason::none);
    // Today's own loss counts from the new start: 1000 more is at the limit, 1001 above it.
    f.account(losing(2'001.0), 0, midnight + 3'600 * ns_per_s);
    CHECK(f.engine.state() == trading_state::running);
    f.account(losing(2'002.0), 0, midnight + 3'601 * ns_per_s);
    CHECK(f.engine.switch_state().kill_reason() == halt_reason::daily_loss);
}

TEST_CASE("the trading day starts at the configured time of day", "[risk_engine][daily]") {
    constexpr core::timestamp_ns midnight = 1'723'075'200LL * ns_per_s; // 2024-08-08 00:00 UTC
    risk_config c;
    c.limits.daily_reset_utc_minute = 7 * 60 + 30; // 07:30 UTC
    fixture f(c);
    f.account(losing(0.0), 0, midnight - 3'600 * ns_per_s); // started 23:00 on the 7th
    const std::optional<std::int64_t> first = f.engine.trading_day();
    REQUIRE(first.has_value());
    // Midnight is no reset: the loss still counts from the start.
    f.account(losing(800.0), 0, midnight + ns_per_s);
    CHECK(f.engine.trading_day() == first);
    f.account(losing(1'001.0), 0, midnight + 7 * 3'600 * ns_per_s);
    CHECK(f.engine.switch_state().kill_reason() == halt_reason::daily_loss);
    // 07:30 is: the new day's start equity is the equity then, and its loss starts at zero.
    account_view later = losing(1'001.0);
    later.equity = 50'000.0;
    later.peak_equity = 50'000.0;
    f.account(later, 0, midnight + (7 * 3'600 + 30 * 60) * ns_per_s);
    CHECK(f.engine.trading_day() == *first + 1);
    CHECK(f.engine.today(later).realized_pnl_today == 0.0);
    CHECK(f.engine.today(later).day_start_equity == 50'000.0);
    CHECK(f.engine.resume(midnight + 8 * 3'600 * ns_per_s).outcome == resume_outcome::resumed);
    // 1 % of the new start equity (50000) is 500.
    later.realized_pnl_today = -1'501.0;
    f.account(later, 0, midnight + 9 * 3'600 * ns_per_s);
    CHECK(f.engine.state() == trading_state::running);
    later.realized_pnl_today = -1'502.0;
    f.account(later, 0, midnight + 9 * 3'600 * ns_per_s);
    CHECK(f.engine.switch_state().kill_reason() == halt_reason::daily_loss);
}

TEST_CASE("a restored trading day keeps its anchor; a later day starts afresh",
          "[risk_engine][daily]") {
    constexpr core::timestamp_ns midnight = 1'723'075'200LL * ns_per_s; // 2024-08-08 00:00 UTC
    const std::int64_t day = midnight / (86'400 * ns_per_s);
    SECTION("same day: the saved anchor holds and the earlier loss counts") {
        fixture f; // 1 % of 100000
        // Saved before a restart: the day started with PnL 0 at equity 100000; the restored
        // account has lost 1001 since.
        f.engine.restore_day(day, 0.0, 100'000.0);
        f.account(losing(1'001.0), 0, midnight + 3'600 * ns_per_s);
        CHECK(f.engine.trading_day() == day);
        CHECK(f.engine.switch_state().kill_reason() == halt_reason::daily_loss);
    }
    SECTION("same day, the account counted afresh (a live restart): the equity tells the loss") {
        fixture f; // 1 % of 100000
        // The venue's holdings are adopted: PnL 0 again, at an equity of 98999.
        f.engine.restore_day(day, 0.0, 100'000.0);
        f.engine.rebase_day(0.0, 98'999.0);
        account_view restarted = flat_account();
        restarted.equity = 98'999.0;
        f.account(restarted, 0, midnight + 3'600 * ns_per_s);
        CHECK(f.engine.switch_state().kill_reason() == halt_reason::daily_loss);
        CHECK(f.engine.today(restarted).realized_pnl_today == Approx(-1'001.0));
    }
    SECTION("no restored day: a rebase changes nothing") {
        fixture f;
        f.engine.rebase_day(0.0, 50'000.0);
        f.account(flat_account(), 0, midnight + 3'600 * ns_per_s);
        CHECK(f.engine.state() == trading_state::running);
        CHECK(f.engine.today(flat_account()).realized_pnl_today == 0.0);
    }
    SECTION("saved under another reset time: the day the save falls in keeps its anchor") {
        // The saving run's day began at 12:00 yesterday; this run's at 00:00. Saved at 09:59
        // and restarted at 10:00, the loss since the saved anchor still counts today.
        fixture f; // 1 % of 100000, reset at 00:00
        f.engine.restore_day_saved_at(midnight + (9 * 60 + 59) * 60 * ns_per_s, 0.0, 100'000.0);
        f.account(losing(1'001.0), 0, midnight + 10 * 3'600 * ns_per_s);
        CHECK(f.engine.trading_day() == day);
        CHECK(f.engine.switch_state().kill_reason() == halt_reason::daily_loss);
    }
    SECTION("a later day: the loss was yesterday's") {
        fixture f;
        f.engine.restore_day(day - 1, 0.0, 100'000.0);
        f.account(losing(1'001.0), 0, midnight + 3'600 * ns_per_s);
        CHECK(f.engine.trading_day() == day);
        CHECK(f.engine.state() == trading_state::running);
        CHECK(f.engine.today(losing(1'001.0)).realized_pnl_today == 0.0);
    }
}
