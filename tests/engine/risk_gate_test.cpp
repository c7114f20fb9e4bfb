// risk_gate against a scripted venue: working orders of one round count toward "reduces the
// position", cancels always go out and a cancel storm pauses, venue errors feed the API error
// storm, and taker fills are judged against the touch at decision time.
#include "quoter/engine/risk_gate.hpp"

#include "risk/risk_test_support.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace quoter::engine {
namespace {

using core::ns_per_ms;
using core::ns_per_s;
using namespace risk::testing;

constexpr core::timestamp_ns t0 = 1'000 * ns_per_s;

/// A venue that records requests and answers them only as the test scripts.
struct scripted_venue final : exec::order_gateway {
    void set_report_sink(exec::exec_report_sink* s) noexcept override { sink = s; }
    exec::gateway_error submit(const exec::order_request& request,
                               core::timestamp_ns /*now*/) noexcept override {
        if (submit_error == exec::gateway_error::none) {
            submitted.push_back(request);
        }
        return submit_error;
    }
    exec::gateway_error cancel(std::uint32_t /*symbol*/, exec::client_order_id id,
                               core::timestamp_ns /*now*/) noexcept override {
        if (cancel_error == exec::gateway_error::none) {
            cancelled.push_back(id);
        }
        return cancel_error;
    }
    exec::gateway_error cancel_all(std::uint32_t /*symbol*/,
                                   core::timestamp_ns /*now*/) noexcept override {
        ++cancel_alls;
        return exec::gateway_error::none;
    }
    std::size_t poll(core::timestamp_ns now) noexcept override {
        std::vector<exec::exec_report> due;
        due.swap(queued);
        for (exec::exec_report& report : due) {
            report.local_ts = now;
            if (sink != nullptr) {
                sink->on_exec_report(report);
            }
        }
        if (failures != 0 && sink != nullptr) {
            sink->on_venue_failures(failures, now); // as the Binance gateways tell them
            failures = 0;
        }
        return due.size();
    }

    void answer(const exec::order_request& request, exec::exec_kind kind,
                exec::reject_reason reason = exec::reject_reason::none) {
        exec::exec_report report;
        report.client_id = request.id;
        report.kind = kind;
        report.reason = reason;
        report.side = request.side;
        report.price = request.price;
        report.leaves_qty = request.qty;
        queued.push_back(report);
    }
    void fill(const exec::order_request& request, std::int64_t price, exec::liquidity_role role,
              core::timestamp_ns at) {
        exec::exec_report report;
        report.client_id = request.id;
        report.kind = exec::exec_kind::fill;
        report.side = request.side;
        report.price = core::price{price};
        report.fill_qty = request.qty;
        report.cum_qty = request.qty;
        report.liquidity = role;
        report.exchange_ts = at;
        queued.push_back(report);
    }

    exec::exec_report_sink* sink = nullptr;
    exec::gateway_error submit_error = exec::gateway_error::none;
    exec::gateway_error cancel_error = exec::gateway_error::none;
    std::vector<exec::order_request> submitted;
    std::vector<exec::client_order_id> cancelled;
    std::vector<exec::exec_report> queued;
    int cancel_alls = 0;
    std::uint32_t failures = 0; ///< Told at the next poll().
};

struct report_log final : exec::exec_report_sink {
    void on_exec_report(const exec::exec_report& report) noexcept override {
        reports.push_back(report);
    }
    std::vector<exec::exec_report> reports;
};

risk::risk_config generous_config() {
    risk::risk_config c;
    c.limits.order_notional_pct = 100.0;
    c.limits.max_new_orders_per_s = 1'000;
    c.limits.max_new_orders_per_min = 100'000;
    return c;
}

/// generous_config() with a kill on the fifth API error in the window.
risk::risk_config storm_of_five() {
    risk::risk_config c = generous_config();
    c.triggers.api_error_storm_count = 5;
    return c;
}

struct fixture {
    explicit fixture(const risk::risk_config& c = generous_config())
        : engine(c, actions, alerts, rejections), gate(venue, engine, spec, 0, 0) {
        gate.set_report_sink(&log);
        gate.set_views(mid_1000(), flat_account());
    }

    exec::order_request order(core::side side, std::int64_t price, std::int64_t lots,
                              bool post_only = true,
                              exec::time_in_force tif = exec::time_in_force::gtc) {
        exec::order_request r;
        r.id = exec::client_order_id{++next_id};
        r.side = side;
        r.price = core::price{price};
        r.qty = core::qty{lots};
        r.post_only = post_only;
        r.tif = tif;
        return r;
    }

    core::symbol_spec spec = integer_spec();
    scripted_venue venue;
    report_log log;
    action_recorder actions;
    alert_recorder alerts;
    rejection_recorder rejections;
    risk::risk_engine engine;
    risk_gate gate;
    std::uint64_t next_id = 0;
};

} // namespace

TEST_CASE("revalued views take the market and the figures valued at it, and keep the rest",
          "[risk_gate]") {
    fixture f;
    risk::account_view pushed = with_position(3);
    pushed.open_buy_qty = core::qty{5};
    pushed.open_sell_qty = core::qty{2};
    pushed.realized_pnl_today = -20.0;
    pushed.day_start_equity = 99'000.0;
    f.gate.set_views(mid_1000(), pushed);
    // A fill since the push moves the position the checks see, until the next push.
    const exec::order_request bid = f.order(core::side::buy, 999, 4, false);
    REQUIRE(f.gate.submit(bid, t0) == exec::gateway_error::none);
    f.venue.fill(bid, 999, exec::liquidity_role::taker, t0);
    (void)f.gate.poll(t0 + 1 * ns_per_ms);
    REQUIRE(f.gate.account().position == core::qty{7});

    risk::account_view revalued = flat_account(); // everything but the valuation differs
    revalued.equity = 100'500.0;
    revalued.unrealized_pnl = 480.0;
    revalued.peak_equity = 100'600.0;
    revalued.position_price = 1'002.0;
    f.gate.set_revalued_views(book(1'001, 1'003), revalued);
    const risk::account_view seen = f.gate.account();
    CHECK(seen.equity == 100'500.0);
    CHECK(seen.unrealized_pnl == 480.0);
    CHECK(seen.peak_equity == 100'600.0);
    CHECK(seen.position_price == 1'002.0);
    // The rest as pushed last; like set_views, it takes the fills since as counted in by now.
    CHECK(seen.position == core::qty{3});
    CHECK(seen.open_buy_qty == core::qty{5});
    CHECK(seen.open_sell_qty == core::qty{2});
    CHECK(seen.realized_pnl_today == -20.0);
    CHECK(seen.day_start_equity == 99'000.0);
    // The market of the checks moved too: a bid at the new best bid is not through the band.
    const exec::order_request join = f.order(core::side::buy, 1'001, 1);
    REQUIRE(f.gate.submit(join, t0 + 2 * ns_per_ms) == exec::gateway_error::none);
    CHECK(f.gate.risk_rejects() == 0);
}

TEST_CASE("asks sent in one round count as working: a long lot cannot become a short of seven",
          "[risk_gate][reducing]") {
    risk::risk_config c = generous_config();
    c.limits.symbol_net_notional_pct = 1.0; // one lot at mid 1000 of 100000
    fixture f(c);
    f.gate.set_views(mid_1000(), with_position(1));
    for (int i = 0; i < 8; ++i) {
        CHECK(f.gate.submit(f.order(core::side::sell, 1001, 1), t0) == exec::gateway_error::none);
    }
    // The first ask closes the long lot, the second leaves a short lot (at the limit); the
    // rest would go beyond it.
    CHECK(f.venue.submitted.size() == 2);
    CHECK(f.gate.risk_rejects(risk::reject_reason::symbol_net_notional) == 6);
}

TEST_CASE("an order the venue took after it was reported never taken counts as working again",
          "[risk_gate][unknown]") {
    risk::risk_config c = generous_config();
    c.limits.symbol_net_notional_pct = 1.0; // one lot at mid 1000 of 100000
    fixture f(c);
    const auto first = f.order(core::side::buy, 1000, 1);
    REQUIRE(f.gate.submit(first, t0) == exec::gateway_error::none);
    REQUIRE(f.venue.submitted.size() == 1);
    f.venue.answer(first, exec::exec_kind::reject, exec::reject_reason::unknown_order);
    (void)f.gate.poll(t0 + ns_per_ms);
    REQUIRE(f.gate.working_orders() == 0);
    // The venue took it after all: its ack puts it back among the working orders.
    f.venue.answer(first, exec::exec_kind::ack);
    (void)f.gate.poll(t0 + 2 * ns_per_ms);
    CHECK(f.gate.working_orders() == 1);
    CHECK(f.gate.working_qty(core::side::buy) == core::qty{1});
    // So a second bid, with the first, would go past the net limit.
    CHECK(f.gate.submit(f.order(core::side::buy, 1000, 1), t0 + 3 * ns_per_ms) ==
          exec::gateway_error::none);
    CHECK(f.gate.risk_rejects(risk::reject_reason::symbol_net_notional) == 1);
    // Its end forgets it again.
    f.venue.answer(first, exec::exec_kind::cancelled);
    (void)f.gate.poll(t0 + 4 * ns_per_ms);
    CHECK(f.gate.working_qty(core::side::buy) == core::qty{0});
}

TEST_CASE("a buy flatten order is sized at its own price through the touch, so the notional "
          "limit lets it pass",
          "[risk_gate][flatten]") {
    risk::risk_config c = generous_config();
    c.limits.order_notional_pct = 3.0; // 3000 of the 100000 equity
    c.limits.price_band_bps = 10'000.0;
    c.limits.inventory_flatten_pct = 0.0;
    c.limits.inventory_kill_pct = 0.0;
    c.limits.symbol_net_notional_pct = 0.0;
    c.limits.symbol_gross_notional_pct = 0.0;
    c.limits.portfolio_net_notional_pct = 0.0;
    fixture f(c);
    const risk::account_view short_ten = with_position(-10);
    f.gate.set_views(mid_1000(), short_ten);
    // Bought at 1001 + 500: two lots at the touch (2002) would be 3002 at the limit price.
    exec::flattener flattener({.slippage_ticks = 500}, f.spec, 0);
    flattener.start();
    const auto request = next_flatten_order(flattener, f.spec, c.limits, f.gate.account(),
                                            mid_1000(), 0, f.alerts, t0);
    REQUIRE(request.has_value());
    CHECK(request->price == core::price{1501});
    CHECK(request->qty == core::qty{1});
    REQUIRE(f.gate.submit_flatten(*request, t0) == exec::gateway_error::none);
    CHECK(f.gate.risk_rejects() == 0);
    CHECK(f.venue.submitted.size() == 1);
}

TEST_CASE("a flatten order the working orders would cut below the minimum notional waits for "
          "them to end instead of spending an attempt",
          "[risk_gate][flatten]") {
    fixture f;
    // Long 3 lots (2,997 at the bid), 2 of them offered by a working ask: 1 lot (999) is left,
    // below the minimum notional of 1,000.
    risk::account_view long_three = with_position(3);
    long_three.open_sell_qty = core::qty{2};
    f.gate.set_views(mid_1000(), long_three);
    exec::flattener flattener({.slippage_ticks = 0}, f.spec, 0);
    flattener.start();
    // Before, a 1-lot order came, which the notional check refuses: an attempt spent.
    CHECK_FALSE(next_flatten_order(flattener, f.spec, generous_config().limits, f.gate.account(),
                                   mid_1000(), 0, f.alerts, t0)
                    .has_value());
    CHECK(flattener.state() == exec::flatten_state::working);
    CHECK(flattener.attempts() == 0);
    // The ask is gone: the whole position goes.
    long_three.open_sell_qty = core::qty{0};
    f.gate.set_views(mid_1000(), long_three);
    const auto request = next_flatten_order(flattener, f.spec, generous_config().limits,
                                            f.gate.account(), mid_1000(), 0, f.alerts, t0);
    REQUIRE(request.has_value());
    CHECK(request->qty == core::qty{3});
    CHECK(flattener.attempts() == 1);
}

TEST_CASE("cancels always go out; a cancel rate above max_cancels_per_s pauses trading",
          "[risk_gate][cancel_rate]") {
    risk::risk_config c = generous_config();
    c.limits.max_cancels_per_s = 5;
    fixture f(c);
    for (int i = 0; i < 5; ++i) {
        REQUIRE(f.gate.cancel(0, exec::client_order_id{100U + i}, t0) == exec::gateway_error::none);
    }
    CHECK(f.engine.state() == risk::trading_state::running);
    CHECK(f.gate.cancel(0, exec::client_order_id{200}, t0) == exec::gateway_error::none);
    CHECK(f.venue.cancelled.size() == 6);
    CHECK(f.engine.state() == risk::trading_state::paused);
    // While paused (and after a kill) every cancel still reaches the venue.
    (void)f.engine.trigger_kill_switch(risk::halt_reason::manual_kill, t0);
    for (int i = 0; i < 30; ++i) {
        CHECK(f.gate.cancel(0, exec::client_order_id{300U + i}, t0) == exec::gateway_error::none);
    }
    CHECK(f.venue.cancelled.size() == 36);
}

TEST_CASE("the cancel-rate pause clears by itself once the rate is back under the limit",
          "[risk_gate][cancel_rate]") {
    risk::risk_config c = generous_config();
    c.limits.max_cancels_per_s = 5;
    fixture f(c);
    for (int i = 0; i < 6; ++i) {
        (void)f.gate.cancel(0, exec::client_order_id{100U + i}, t0);
    }
    REQUIRE(f.engine.state() == risk::trading_state::paused);
    f.engine.poll(t0 + 500 * ns_per_ms);
    CHECK(f.engine.state() == risk::trading_state::paused);
    f.engine.poll(t0 + 2 * ns_per_s);
    CHECK(f.engine.state() == risk::trading_state::running);
}

TEST_CASE("venue rejects, cancel rejects and gateway errors feed the API error storm",
          "[risk_gate][api_storm]") {
    const risk::risk_config c = storm_of_five();
    fixture f(c);
    core::timestamp_ns t = t0;
    // Risk refusals never leave the process: they are not API errors.
    f.gate.set_views(risk::market_view{}, flat_account()); // no market: every order refused
    for (int i = 0; i < 10; ++i) {
        REQUIRE(f.gate.submit(f.order(core::side::buy, 1000, 1), t) == exec::gateway_error::none);
    }
    (void)f.gate.poll(t);
    REQUIRE(f.gate.risk_rejects() == 10);
    CHECK(f.engine.state() == risk::trading_state::running);

    f.gate.set_views(mid_1000(), flat_account());
    for (int i = 0; i < 2; ++i) {
        const auto o = f.order(core::side::buy, 1000, 1);
        REQUIRE(f.gate.submit(o, t) == exec::gateway_error::none);
        // The venue's open-order limit, then its request-rate limit: both count.
        f.venue.answer(o, exec::exec_kind::reject,
                       i == 0 ? exec::reject_reason::too_many_open_orders
                              : exec::reject_reason::rate_limited);
    }
    // The routine answers of a moving market are fed but not counted.
    const auto resting = f.order(core::side::buy, 998, 2);
    REQUIRE(f.gate.submit(resting, t) == exec::gateway_error::none);
    f.venue.answer(resting, exec::exec_kind::cancel_reject, exec::reject_reason::unknown_order);
    const auto crossing = f.order(core::side::buy, 1000, 1);
    REQUIRE(f.gate.submit(crossing, t) == exec::gateway_error::none);
    f.venue.answer(crossing, exec::exec_kind::reject, exec::reject_reason::post_only_would_cross);
    // A venue reject of an order our checks passed counts.
    const auto duplicate = f.order(core::side::buy, 1000, 1);
    REQUIRE(f.gate.submit(duplicate, t) == exec::gateway_error::none);
    f.venue.answer(duplicate, exec::exec_kind::reject, exec::reject_reason::duplicate_client_id);
    t += ns_per_ms;
    (void)f.gate.poll(t);
    CHECK(f.engine.state() == risk::trading_state::running); // 3 errors
    f.venue.cancel_error = exec::gateway_error::disconnected;
    CHECK(f.gate.cancel(0, resting.id, t) == exec::gateway_error::disconnected);
    CHECK(f.engine.state() == risk::trading_state::running); // 4
    f.venue.submit_error = exec::gateway_error::queue_full;
    CHECK(f.gate.submit(f.order(core::side::buy, 1000, 1), t) == exec::gateway_error::queue_full);
    CHECK(f.engine.switch_state().kill_reason() == risk::halt_reason::api_error_storm); // 5
}

TEST_CASE("requests the venue failed (5xx, timeouts, unknown outcomes) and its refusals of "
          "its own feed the API error storm",
          "[risk_gate][api_storm]") {
    const risk::risk_config c = storm_of_five();
    fixture f(c);
    core::timestamp_ns t = t0;
    // Placements answered 5xx: unknown outcome. The report alone is not the error (it comes
    // with the venue failure that the gateway tells beside it).
    for (int i = 0; i < 2; ++i) {
        const auto o = f.order(core::side::buy, 1000, 1);
        REQUIRE(f.gate.submit(o, t) == exec::gateway_error::none);
        f.venue.answer(o, exec::exec_kind::unknown);
    }
    (void)f.gate.poll(t);
    CHECK(f.engine.state() == risk::trading_state::running);
    f.venue.failures = 2; // those two, then a cancel and a status query that timed out
    (void)f.gate.poll(t);
    CHECK(f.engine.state() == risk::trading_state::running); // 2 errors
    f.venue.failures = 2;
    t += ns_per_ms;
    (void)f.gate.poll(t);
    CHECK(f.engine.state() == risk::trading_state::running); // 4
    // An order the venue refused for a reason of its own (a filter, the balance).
    const auto refused = f.order(core::side::buy, 1000, 1);
    REQUIRE(f.gate.submit(refused, t) == exec::gateway_error::none);
    f.venue.answer(refused, exec::exec_kind::reject, exec::reject_reason::venue_refused);
    (void)f.gate.poll(t);
    CHECK(f.engine.switch_state().kill_reason() == risk::halt_reason::api_error_storm); // 5

    // Many failures told at once count up to the storm, and slide out of the window together.
    fixture g(c);
    g.venue.failures = 1'000'000;
    (void)g.gate.poll(t);
    CHECK(g.engine.switch_state().kill_reason() == risk::halt_reason::api_error_storm);
}

TEST_CASE("requests the gateway's own limiter held back are throttling: they never feed the API "
          "error storm",
          "[risk_gate][api_storm]") {
    const risk::risk_config c = storm_of_five();
    fixture f(c);
    core::timestamp_ns t = t0;
    // A strategy wanting far more than the venue's limits allow: every order and every cancel
    // held back, answered (as the live gateways do) or refused at once.
    for (int i = 0; i < 20; ++i) {
        const auto o = f.order(core::side::buy, 1000, 1);
        REQUIRE(f.gate.submit(o, t) == exec::gateway_error::none);
        f.venue.answer(o, exec::exec_kind::reject, exec::reject_reason::held_back);
        const auto resting = f.order(core::side::sell, 1002, 1);
        REQUIRE(f.gate.submit(resting, t) == exec::gateway_error::none);
        f.venue.answer(resting, exec::exec_kind::ack);
        REQUIRE(f.gate.cancel(0, resting.id, t) == exec::gateway_error::none);
        f.venue.answer(resting, exec::exec_kind::cancel_reject, exec::reject_reason::held_back);
        t += ns_per_ms;
        (void)f.gate.poll(t);
    }
    f.venue.submit_error = exec::gateway_error::rate_limited;
    f.venue.cancel_error = exec::gateway_error::rate_limited;
    for (int i = 0; i < 20; ++i) {
        CHECK(f.gate.submit(f.order(core::side::buy, 1000, 1), t) ==
              exec::gateway_error::rate_limited);
        CHECK(f.gate.cancel(0, exec::client_order_id{1}, t) == exec::gateway_error::rate_limited);
    }
    CHECK(f.engine.state() == risk::trading_state::running);
    CHECK(f.engine.switch_state().kill_reason() == risk::halt_reason::none);
    // New orders held while the gateway reconciles (after a reconnect, a foreign order's fill)
    // do not count either; a gateway without a session does.
    f.venue.submit_error = exec::gateway_error::reconciling;
    for (int i = 0; i < 20; ++i) {
        CHECK(f.gate.submit(f.order(core::side::buy, 1000, 1), t) ==
              exec::gateway_error::reconciling);
    }
    CHECK(f.engine.switch_state().kill_reason() == risk::halt_reason::none);
    f.venue.submit_error = exec::gateway_error::disconnected;
    for (int i = 0; i < 5; ++i) {
        CHECK(f.gate.submit(f.order(core::side::buy, 1000, 1), t) ==
              exec::gateway_error::disconnected);
    }
    CHECK(f.engine.switch_state().kill_reason() == risk::halt_reason::api_error_storm);
}

TEST_CASE("the venue's own refusals feed the API error storm", "[risk_gate][api_storm]") {
    const risk::risk_config c = storm_of_five();
    fixture f(c);
    core::timestamp_ns t = t0;
    // What the venue itself refuses still counts: five of its 429s kill.
    f.venue.submit_error = exec::gateway_error::none;
    for (int i = 0; i < 5; ++i) {
        const auto o = f.order(core::side::buy, 1000, 1);
        REQUIRE(f.gate.submit(o, t) == exec::gateway_error::none);
        f.venue.answer(o, exec::exec_kind::reject, exec::reject_reason::rate_limited);
    }
    (void)f.gate.poll(t + ns_per_ms);
    CHECK(f.engine.switch_state().kill_reason() == risk::halt_reason::api_error_storm);
}

TEST_CASE("a taker fill is judged against the touch at decision time, a maker fill against "
          "its price",
          "[risk_gate][slippage]") {
    risk::risk_config c = generous_config(); // max_slippage_ticks 3
    c.limits.price_band_bps = 500.0;
    fixture f(c);
    f.gate.set_views(risk::testing::book(999, 1001), flat_account());
    // A resting bid filled at its own price: no slippage.
    const auto bid = f.order(core::side::buy, 995, 2);
    REQUIRE(f.gate.submit(bid, t0) == exec::gateway_error::none);
    f.venue.fill(bid, 995, exec::liquidity_role::maker, t0);
    (void)f.gate.poll(t0 + ns_per_ms);
    CHECK(f.engine.state() == risk::trading_state::running);
    // An IOC buy limited at 1010 while the ask was 1001: filled at 1004 is 3 ticks (allowed).
    const auto ioc = f.order(core::side::buy, 1010, 1, false, exec::time_in_force::ioc);
    REQUIRE(f.gate.submit(ioc, t0) == exec::gateway_error::none);
    f.venue.fill(ioc, 1004, exec::liquidity_role::taker, t0);
    (void)f.gate.poll(t0 + 2 * ns_per_ms);
    CHECK(f.engine.state() == risk::trading_state::running);
    // The book moves after the next decision; filled at 1005 is 4 ticks worse than 1001.
    const auto late = f.order(core::side::buy, 1010, 1, false, exec::time_in_force::ioc);
    REQUIRE(f.gate.submit(late, t0) == exec::gateway_error::none);
    f.gate.set_views(risk::testing::book(1004, 1006), flat_account());
    f.venue.fill(late, 1005, exec::liquidity_role::taker, t0);
    (void)f.gate.poll(t0 + 3 * ns_per_ms);
    CHECK(f.engine.switch_state().kill_reason() == risk::halt_reason::slippage);
}

} // namespace quoter::engine
