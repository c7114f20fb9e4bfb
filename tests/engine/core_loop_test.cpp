// core_loop on hand-made md_events against the simulated exchange: quoting through the risk
// gate, refusals, fills by the queue model and the PnL identity, feed-state pause and
// auto-resume, the control channel's kill, and the journal's record of it; cancels retried until
// the venue confirms them, requotes after fills, event-sequence holes and lot conversion; venue
// reports handed to the loop directly (take_venue_report) against the gateway's delivery.
#include "engine_test_support.hpp"

#include "quoter/engine/core_loop.hpp"
#include "quoter/engine/run_recorder.hpp"
#include "quoter/exec/sim_exchange.hpp"
#include "quoter/md/feed_handler.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/journal.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace quoter::engine {
namespace {

using testing::book;
using testing::btcusdt;
using testing::depth_of;
using testing::replacing_venue;
using testing::state;
using testing::trade;
using testing::with_level;

constexpr core::timestamp_ns ms = core::ns_per_ms;
constexpr std::int64_t bid0 = 6'000'000; // 60000.00
constexpr std::int64_t ask0 = 6'000'010; // 60000.10

struct fixture {
    explicit fixture(core_loop_config cfg = {}, ops::journal* journal = nullptr)
        : instrument(btcusdt()), specs{instrument.trading_spec}, config(cfg),
          exchange(config.exchange, specs),
          loop(config, instrument, exchange, &exchange, journal, &control) {}

    /// Book events every 10 ms from t for n steps.
    core::timestamp_ns run_books(core::timestamp_ns t, int n) {
        for (int i = 0; i < n; ++i) {
            loop.on_event(book(bid0, ask0), t);
            t += 10 * ms;
        }
        return t;
    }

    md::instrument instrument;
    std::array<core::symbol_spec, 1> specs;
    core_loop_config config;
    exec::sim_exchange exchange;
    ops::control_channel control;
    core_loop loop;
};

/// The first books: both quotes rest, the bid acknowledged (returned with the time after them).
struct quoting_start {
    core::timestamp_ns t;
    exec::working_order bid;
};
quoting_start quote_both_sides(fixture& f) {
    const core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    REQUIRE(f.exchange.open_order_count() == 2);
    const exec::working_order bid = f.loop.quotes().order(core::side::buy, 0);
    REQUIRE(bid.status == exec::order_status::acked);
    return {t, bid};
}

TEST_CASE("a valid book leads to quotes on both sides, acknowledged by the exchange", "[engine]") {
    fixture f;
    f.run_books(1'000 * ms, 10);
    CHECK(f.loop.stats().quote_updates > 0);
    CHECK(f.exchange.stats().acks == 2);
    CHECK(f.exchange.open_order_count() == 2);
    CHECK(f.loop.gate().risk_rejects() == 0);
    const auto& bid = f.loop.quotes().order(core::side::buy, 0);
    const auto& ask = f.loop.quotes().order(core::side::sell, 0);
    CHECK(bid.status == exec::order_status::acked);
    CHECK(bid.price.ticks() < bid0 + 1);
    CHECK(ask.price.ticks() > ask0 - 1);
}

TEST_CASE("an inventory beyond the hard band is reduced in orders the per-order limit allows",
          "[engine]") {
    // 0.1 BTC (6,000 USDT) and 11,143 USDT: 35% of the equity in inventory, past the strategy's
    // 30% hard band (it flattens) and short of the 50% kill. One sell of the whole 0.1 BTC is
    // 7 times the 5% order notional limit and would be refused on every requote.
    core_loop_config cfg;
    cfg.risk.limits.order_notional_pct = 5.0;
    fixture f(cfg);
    const core::symbol_spec& spec = f.instrument.trading_spec;
    const core::qty held = spec.round_qty_down(0.1);
    const std::int64_t cost = spec.notional_units(core::price{bid0}, held);
    f.loop.restore(held, cost, cost * 13 / 7, 0);
    f.run_books(1'000 * ms, 30);
    CHECK(f.loop.gate().risk_rejects() == 0);
    REQUIRE(f.exchange.stats().orders_received > 0);
    const auto& ask = f.loop.quotes().order(core::side::sell, 0);
    CHECK(ask.status == exec::order_status::acked);
    CHECK(ask.qty.lots() > 0);
    CHECK(spec.to_double(ask.price) * spec.to_double(ask.qty) <= 0.05 * f.loop.account().equity());
    CHECK(f.loop.quotes().order(core::side::buy, 0).status != exec::order_status::acked);
}

TEST_CASE("the risk gate refuses orders with a reason and they never reach the exchange",
          "[engine]") {
    core_loop_config cfg;
    cfg.risk.limits.order_notional_pct = 0.1; // 10 USDT of 10,000: the 1% quotes are too big
    fixture f(cfg);
    f.run_books(1'000 * ms, 30);
    CHECK(f.exchange.stats().orders_received == 0);
    CHECK(f.loop.gate().risk_rejects() >= 2);
    CHECK(f.loop.gate().risk_rejects(risk::reject_reason::max_order_notional) ==
          f.loop.gate().risk_rejects());
    CHECK(f.loop.gate().last_reason() == risk::reject_reason::max_order_notional);
    CHECK(f.loop.quotes().counters().rejects == f.loop.gate().risk_rejects());
    CHECK(f.loop.quotes().open_orders() == 0);
    // Refusals reach the quote manager with their own exec reason, not as venue rejects.
    CHECK(f.loop.stats().exchange_rejects == 0);
}

TEST_CASE("risk-refused orders are counted as refused, never as sent", "[engine][counting]") {
    core_loop_config cfg;
    cfg.risk.limits.max_new_orders_per_s = 1; // most quote refreshes are refused
    cfg.quotes.max_order_age_ms = 20;         // and there are many of them
    fixture f(cfg);
    f.run_books(1'000 * ms, 200);
    const std::uint64_t sent = f.loop.gate().orders_sent(risk::order_intent::quote);
    REQUIRE(f.loop.gate().risk_rejects(risk::reject_reason::new_orders_per_s) > 0);
    CHECK(sent > 0);
    CHECK(sent == f.exchange.stats().orders_received);
    CHECK(f.loop.gate().orders_passed() == sent);
    // The quote manager saw every refusal as an order answered by a reject: its orders_sent is
    // not what reached the venue, which is why summaries report the gate's count.
    CHECK(f.loop.quotes().counters().orders_sent == sent + f.loop.gate().risk_rejects());
}

TEST_CASE("a quote refused by the day's order limit is asked for once, then held while aged "
          "orders still go",
          "[engine][counting]") {
    core_loop_config cfg;
    cfg.risk.limits.max_orders_per_day = 6;
    cfg.quotes.max_order_age_ms = 20; // every order is replaced soon: the limit binds at once
    fixture f(cfg);
    const core::timestamp_ns end = f.run_books(1'000 * ms, 200);
    CHECK(f.loop.gate().orders_passed() == 6);
    // One refusal a side when the limit was reached, not one every refresh for two seconds.
    CHECK(f.loop.gate().risk_rejects(risk::reject_reason::orders_per_day) <= 2);
    CHECK(f.loop.quotes().counters().rate_holds == 1);
    CHECK(f.loop.gate().new_orders_held_until() > end);
    // Holding new orders never keeps an old one: the aged orders were cancelled all the same.
    f.exchange.advance_to(end + 100 * ms);
    CHECK(f.exchange.open_order_count() == 0);
}

TEST_CASE("a trade print through the queue fills the bid and the PnL identity holds", "[engine]") {
    fixture f;
    core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    const auto bid = f.loop.quotes().order(core::side::buy, 0);
    REQUIRE(bid.status == exec::order_status::acked);
    // A sell print below our bid: the aggressor went through the level, we fill completely.
    f.loop.on_event(trade(bid.price.ticks() - 5, 500'000'000, core::side::sell), t);
    t += 5 * ms;
    f.loop.on_event(book(bid0 - 10, ask0 - 10), t);
    t = f.run_books(t + 10 * ms, 3);
    CHECK(f.loop.stats().fills >= 1);
    const portfolio::account& a = f.loop.account();
    CHECK(a.position().lots() > 0);
    CHECK(a.position() == f.exchange.position(0));
    CHECK(a.equity_units() == a.cash_units() + a.inventory_value_units());
    CHECK(a.equity_units() - a.initial_cash_units() ==
          a.realized_units() + a.unrealized_units() - a.fees_units());
}

TEST_CASE("the views the risk checks see follow the account through marks, fills, polls and "
          "added capital",
          "[engine][risk]") {
    fixture f;
    double peak = f.loop.account().equity();
    double day_start = peak;
    const auto check_views = [&] {
        const portfolio::account& a = f.loop.account();
        const risk::account_view v = f.loop.gate().account();
        peak = std::max(peak, a.equity());
        REQUIRE(v.position == a.position());
        REQUIRE(v.equity == a.equity());
        REQUIRE(v.unrealized_pnl == a.unrealized_pnl());
        REQUIRE(v.realized_pnl_today == a.realized_pnl() - a.fees());
        REQUIRE(v.day_start_equity == day_start);
        // Also every equity it was refreshed with between the checks.
        REQUIRE(v.peak_equity >= peak);
        peak = v.peak_equity;
    };
    std::mt19937_64 rng(5);
    std::int64_t bid = bid0;
    core::timestamp_ns t = 1'000 * ms;
    for (int i = 0; i < 2'000; ++i) {
        t += 10 * ms;
        bid += static_cast<std::int64_t>(rng() % 41) - 20;
        f.loop.on_event(book(bid, bid + 10), t);
        check_views();
        // A print through one of the quotes now and then: fills on both sides.
        const core::side taken = rng() % 2 == 0 ? core::side::buy : core::side::sell;
        const exec::working_order& quote = f.loop.quotes().order(taken, 0);
        if (rng() % 3 == 0 && quote.status == exec::order_status::acked) {
            const std::int64_t through = taken == core::side::buy ? -5 : 5;
            f.loop.on_event(trade(quote.price.ticks() + through, 1'000'000,
                                  taken == core::side::buy ? core::side::sell : core::side::buy),
                            t + 1 * ms);
            check_views();
        }
        (void)f.loop.poll(t + 5 * ms);
        check_views();
        if (i == 1'000) {
            const std::int64_t deposit = 1'000'000'000; // 100 USDT in notional units of 1e-7
            f.loop.add_capital(deposit);
            day_start += f.loop.account().units_to_quote(deposit);
            peak += f.loop.account().units_to_quote(deposit);
            check_views();
        }
    }
    CHECK(f.loop.stats().fills > 100);
    CHECK(f.loop.state() == risk::trading_state::running);
}

TEST_CASE("an order left unacknowledged beyond max_ack_delay_ms kills at the first event or "
          "poll after it",
          "[engine][risk]") {
    for (const bool with_events : {true, false}) {
        CAPTURE(with_events);
        core_loop_config cfg;
        cfg.risk.triggers.max_ack_delay_ms = 200;
        // Acknowledgements take 500 ms; no stale-data pause while only polls come.
        cfg.exchange.order_entry_latency = {exec::latency_distribution::constant, 500 * ms, 0};
        cfg.risk.triggers.stale_market_data_ms = 0;
        fixture f(cfg);
        const core::timestamp_ns sent = 1'000 * ms;
        f.loop.on_event(book(bid0, ask0), sent);
        REQUIRE(f.loop.quotes().order(core::side::buy, 0).status ==
                exec::order_status::pending_new);
        core::timestamp_ns killed_at = 0;
        for (core::timestamp_ns t = sent + 10 * ms; t <= sent + 400 * ms && killed_at == 0;
             t += 10 * ms) {
            if (with_events) {
                f.loop.on_event(book(bid0, ask0), t);
            } else {
                (void)f.loop.poll(t);
            }
            if (f.loop.state() == risk::trading_state::killed) {
                killed_at = t;
            }
        }
        CHECK(killed_at == sent + 210 * ms); // the first time more than 200 ms have passed
        CHECK(f.loop.risk().switch_state().kill_reason() == risk::halt_reason::ack_delay);
    }
}

TEST_CASE("an order whose placement's outcome is unknown stays on the ack clock",
          "[engine][risk]") {
    // A 5xx or a lost answer leaves the placement unknown: no acknowledgement came for it, and
    // max_ack_delay_ms runs on as for one still in flight.
    core_loop_config cfg;
    cfg.risk.triggers.max_ack_delay_ms = 200;
    cfg.risk.triggers.api_error_storm_count = 0; // the ack clock alone
    cfg.exchange.order_entry_latency = {exec::latency_distribution::constant, 500 * ms, 0};
    cfg.risk.triggers.stale_market_data_ms = 0;
    fixture f(cfg);
    const core::timestamp_ns sent = 1'000 * ms;
    f.loop.on_event(book(bid0, ask0), sent);
    for (const core::side side : {core::side::buy, core::side::sell}) {
        const exec::working_order& order = f.loop.quotes().order(side, 0);
        REQUIRE(order.status == exec::order_status::pending_new);
        exec::exec_report unknown;
        unknown.kind = exec::exec_kind::unknown;
        unknown.client_id = order.id;
        unknown.side = side;
        unknown.price = order.price;
        unknown.leaves_qty = order.qty;
        unknown.local_ts = sent + 20 * ms;
        f.loop.take_venue_report(unknown);
        REQUIRE(f.loop.quotes().order(side, 0).status == exec::order_status::unknown);
    }
    core::timestamp_ns killed_at = 0;
    for (core::timestamp_ns t = sent + 30 * ms; t <= sent + 400 * ms && killed_at == 0;
         t += 10 * ms) {
        (void)f.loop.poll(t);
        if (f.loop.state() == risk::trading_state::killed) {
            killed_at = t;
        }
    }
    CHECK(killed_at == sent + 210 * ms);
    CHECK(f.loop.risk().switch_state().kill_reason() == risk::halt_reason::ack_delay);
}

/// A loop on a venue that replaces in one request: a first book at `start`, its two quotes
/// acknowledged by start + 10 ms. No stale-data trigger: the tests go on with polls alone.
struct acked_quotes {
    explicit acked_quotes(core_loop_config cfg)
        : config(without_stale_trigger(cfg)), loop(config, instrument, venue, nullptr) {
        loop.on_event(book(bid0, ask0), start);
        REQUIRE(venue.submitted.size() == 2);
        for (const exec::order_request& placed : venue.submitted) {
            venue.answer(placed.id, placed.side, exec::exec_kind::ack);
        }
        (void)loop.poll(start + 10 * ms);
    }
    static core_loop_config without_stale_trigger(core_loop_config cfg) {
        cfg.risk.triggers.stale_market_data_ms = 0;
        return cfg;
    }

    static constexpr core::timestamp_ns start = 1'000 * ms;
    core_loop_config config;
    md::instrument instrument = btcusdt();
    replacing_venue venue;
    core_loop loop;
};

TEST_CASE("a replacement sent in one request stays on the ack clock until acknowledged",
          "[engine][risk]") {
    // The order it replaces was acknowledged long ago; the new one has no acknowledgement yet,
    // and max_ack_delay_ms runs for it as for any placement in flight.
    core_loop_config cfg;
    cfg.risk.triggers.max_ack_delay_ms = 200;
    acked_quotes f(cfg);
    core_loop& loop = f.loop;
    replacing_venue& venue = f.venue;
    REQUIRE(loop.quotes().order(core::side::buy, 0).status == exec::order_status::acked);
    REQUIRE(loop.quotes().order(core::side::sell, 0).status == exec::order_status::acked);

    // The market moves 1% up: both quotes are replaced, each in one request, never answered.
    const core::timestamp_ns sent = f.start + 500 * ms;
    loop.on_event(book(bid0 + 60'000, ask0 + 60'000), sent);
    REQUIRE(venue.replaced.size() == 2);
    core::timestamp_ns killed_at = 0;
    for (core::timestamp_ns t = sent + 10 * ms; t <= sent + 400 * ms && killed_at == 0;
         t += 10 * ms) {
        (void)loop.poll(t);
        if (loop.state() == risk::trading_state::killed) {
            killed_at = t;
        }
    }
    CHECK(killed_at == sent + 210 * ms);
    CHECK(loop.risk().switch_state().kill_reason() == risk::halt_reason::ack_delay);
}

TEST_CASE("a fill told between books is judged by the kill limits at once, not at the next book",
          "[engine][risk]") {
    // A venue's user stream tells fills whenever they happen; the book may then be quiet for a
    // while. An inventory past its kill limit must stop the quoting at the fill.
    core_loop_config cfg;
    cfg.risk.limits.inventory_kill_pct = 0.5; // the 1% bid's fill alone is past it
    acked_quotes f(cfg);
    core_loop& loop = f.loop;
    replacing_venue& venue = f.venue;
    REQUIRE(loop.state() == risk::trading_state::running);

    const auto bid = std::find_if(venue.submitted.begin(), venue.submitted.end(),
                                  [](const auto& r) { return r.side == core::side::buy; });
    REQUIRE(bid != venue.submitted.end());
    exec::exec_report filled;
    filled.client_id = bid->id;
    filled.kind = exec::exec_kind::fill;
    filled.side = core::side::buy;
    filled.price = bid->price;
    filled.fill_qty = bid->qty;
    filled.cum_qty = bid->qty;
    filled.trade_id = 1;
    venue.queued.push_back(filled);
    (void)loop.poll(f.start + 20 * ms);
    REQUIRE(loop.account().position() == bid->qty);
    CHECK(loop.state() == risk::trading_state::killed);
    CHECK(loop.risk().switch_state().kill_reason() == risk::halt_reason::inventory_kill);
}

TEST_CASE("resyncing pulls every quote, synced resumes quoting by itself", "[engine]") {
    fixture f;
    core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    REQUIRE(f.exchange.open_order_count() == 2);
    f.loop.on_event(state(md::feed_state::resyncing), t);
    CHECK(f.loop.state() == risk::trading_state::paused);
    CHECK(f.loop.feed_paused());
    const std::uint64_t received = f.exchange.stats().orders_received;
    t += 20 * ms;
    (void)f.loop.poll(t);
    CHECK(f.exchange.open_order_count() == 0);
    // Still resyncing: invalid books do not quote.
    md::md_event invalid = book(bid0, ask0);
    invalid.flags = 0;
    invalid.state = md::feed_state::resyncing;
    f.loop.on_event(invalid, t);
    (void)f.loop.poll(t + 20 * ms);
    CHECK(f.exchange.stats().orders_received == received);
    // Synced again.
    t = f.run_books(t + 200 * ms, 10);
    CHECK(f.loop.state() == risk::trading_state::running);
    CHECK(f.exchange.stats().orders_received > received);
    CHECK(f.exchange.open_order_count() == 2);
    CHECK(f.loop.stats().pauses == 1);
    CHECK(f.loop.stats().resumes == 1);
}

TEST_CASE("SIGUSR2 during an automatic pause is the operator's pause: it holds after the feed is "
          "back, and the next one resumes",
          "[engine]") {
    fixture f;
    core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    f.loop.on_event(state(md::feed_state::resyncing), t);
    REQUIRE(f.loop.state() == risk::trading_state::paused);
    f.control.request_pause_toggle(ops::command_source::signal);
    (void)f.loop.poll(t + ms);
    CHECK(f.loop.risk().switch_state().condition_active(risk::halt_reason::manual_pause));
    // The feed is back: the automatic pause ends, the operator's holds.
    t = f.run_books(t + 200 * ms, 10);
    CHECK(f.loop.state() == risk::trading_state::paused);
    CHECK(f.exchange.open_order_count() == 0);
    f.control.request_pause_toggle(ops::command_source::signal);
    t = f.run_books(t, 10);
    CHECK(f.loop.state() == risk::trading_state::running);
    CHECK(f.exchange.open_order_count() == 2);
}

TEST_CASE("the book a resync recovers with is the market at once: a requote after a fill in the "
          "gap is priced against it, not against the book before the gap",
          "[engine]") {
    fixture f;
    const auto [t, bid] = quote_both_sides(f);
    // A trade fills the bid, then a gap: the fill is booked while the feed resyncs.
    f.loop.on_event(trade(bid.price.ticks() - 5, 500'000'000, core::side::sell), t);
    f.loop.on_event(state(md::feed_state::resyncing), t + ms);
    (void)f.loop.poll(t + 5 * ms);
    REQUIRE(f.loop.account().position() == bid.qty);
    REQUIRE(f.loop.feed_paused());
    // The new snapshot's book, 50 USDT lower, comes as the state event that ends the resync.
    const std::int64_t new_bid = bid0 - 5'000;
    const std::int64_t new_ask = ask0 - 5'000;
    md::md_event recovered = book(new_bid, new_ask);
    recovered.kind = md::md_event_kind::state;
    REQUIRE(recovered.book_valid());
    f.loop.on_event(recovered, t + 10 * ms);
    (void)f.loop.poll(t + 12 * ms);
    CHECK_FALSE(f.loop.feed_paused());
    // Before, the fill's requote used the book before the gap: a bid at about 59,970, above
    // the new ask of 59,950.10.
    const exec::working_order requoted = f.loop.quotes().order(core::side::buy, 0);
    REQUIRE(requoted.status != exec::order_status::none);
    CHECK(requoted.price.ticks() < new_ask);
    CHECK(f.loop.quotes().order(core::side::sell, 0).price.ticks() > new_bid);
}

TEST_CASE("a synced book that cannot be traded on (crossed) pulls the quotes until a valid one",
          "[engine]") {
    // The touch the pre-trade checks and the quotes were judged against is gone: nothing may
    // be placed against it, not even after a fill.
    fixture f;
    core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    REQUIRE(f.exchange.open_order_count() == 2);
    const exec::working_order bid = f.loop.quotes().order(core::side::buy, 0);
    REQUIRE(bid.status == exec::order_status::acked);
    md::md_event crossed = book(ask0 + 50, ask0 + 40);
    crossed.flags = 0; // synced, not valid: crossed
    REQUIRE(crossed.state == md::feed_state::synced);
    t += 10 * ms;
    f.loop.on_event(crossed, t);
    CHECK(f.loop.feed_paused());
    CHECK(f.loop.state() == risk::trading_state::paused);
    const std::uint64_t received = f.exchange.stats().orders_received;
    // A trade through our bid while the book is crossed: filled, and nothing placed after it.
    f.loop.on_event(trade(bid.price.ticks() - 5, 1'000'000, core::side::sell), t + 1 * ms);
    for (int i = 0; i < 10; ++i) {
        t += 20 * ms;
        (void)f.loop.poll(t);
    }
    CHECK(f.exchange.stats().orders_received == received);
    CHECK(f.exchange.open_order_count() == 0);
    // A valid book again: quoting resumes by itself.
    t = f.run_books(t + 20 * ms, 10);
    CHECK(f.loop.state() == risk::trading_state::running);
    CHECK(f.exchange.stats().orders_received > received);
}

TEST_CASE("a kill request engages the kill switch on poll, without market data", "[engine]") {
    fixture f;
    core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    REQUIRE(f.exchange.open_order_count() == 2);
    f.control.request_kill(ops::command_source::signal);
    (void)f.loop.poll(t);
    CHECK(f.loop.state() == risk::trading_state::killed);
    CHECK(f.loop.stats().kills == 1);
    (void)f.loop.poll(t + 5 * ms);
    CHECK(f.exchange.open_order_count() == 0);
    const std::uint64_t received = f.exchange.stats().orders_received;
    t = f.run_books(t + 10 * ms, 50);
    CHECK(f.exchange.stats().orders_received == received);
    CHECK(f.loop.state() == risk::trading_state::killed);

    SECTION("resume from the ring quotes again") {
        ops::control_message resume;
        resume.command = ops::control_command::resume;
        REQUIRE(f.control.post(resume));
        (void)f.loop.poll(t);
        CHECK(f.loop.state() == risk::trading_state::running);
        f.run_books(t + 10 * ms, 10);
        CHECK(f.exchange.stats().orders_received > received);
    }
    SECTION("quit is reported") {
        ops::control_message quit;
        quit.command = ops::control_command::quit;
        REQUIRE(f.control.post(quit));
        CHECK_FALSE(f.loop.poll(t));
        CHECK(f.loop.stop_requested());
    }
}

TEST_CASE("after shutdown nothing quotes again: not an operator's resume, not a pause that "
          "clears, not a fill",
          "[engine]") {
    fixture f;
    auto [t, bid] = quote_both_sides(f);
    ops::control_message pause;
    pause.command = ops::control_command::pause;
    REQUIRE(f.control.post(pause));
    (void)f.loop.poll(t);
    REQUIRE(f.loop.state() == risk::trading_state::paused);
    // The pause pulls the quotes; a print through the bid fills it if it still rests.
    f.loop.on_event(trade(bid.price.ticks() - 5, 500'000'000, core::side::sell), t + ms / 4);
    f.loop.shutdown(t + ms / 2);
    const std::uint64_t received = f.exchange.stats().orders_received;
    ops::control_message resume;
    resume.command = ops::control_command::resume;
    REQUIRE(f.control.post(resume));
    for (int i = 0; i < 20; ++i) {
        t += ms;
        (void)f.loop.poll(t);
    }
    t = f.run_books(t, 20);
    CHECK(f.exchange.stats().orders_received == received);
    CHECK(f.exchange.open_order_count() == 0);
}

TEST_CASE("from the moment a stop is asked nothing new goes out, before shutdown() cancels",
          "[engine]") {
    fixture f;
    auto [t, bid] = quote_both_sides(f);
    SECTION("a quit command") {
        ops::control_message quit;
        quit.command = ops::control_command::quit;
        REQUIRE(f.control.post(quit));
    }
    SECTION("the stop flag (SIGTERM, `q`)") {
        f.control.request_stop(ops::command_source::signal);
        REQUIRE(f.control.stop_requested());
    }
    // The bid fills with the event that carries the stop: without it, the next books would
    // quote the bid again. Before, they did.
    const std::uint64_t received = f.exchange.stats().orders_received;
    f.loop.on_event(trade(bid.price.ticks() - 5, 500'000'000, core::side::sell), t);
    t = f.run_books(t + 5 * ms, 20);
    CHECK(f.loop.stop_requested());
    REQUIRE(f.loop.account().position() == bid.qty);
    CHECK(f.exchange.stats().orders_received == received);
    CHECK(f.exchange.open_order_count() == 1); // the ask, until shutdown() cancels it
    f.loop.shutdown(t);
    t = f.run_books(t + ms, 5);
    CHECK(f.exchange.open_order_count() == 0);
    CHECK(f.exchange.stats().orders_received == received);
}

/// Fills the level-0 bid with a sell print through it: the loop ends up long.
template <class Fixture> core::timestamp_ns go_long(Fixture& f, core::timestamp_ns t) {
    const auto bid = f.loop.quotes().order(core::side::buy, 0);
    REQUIRE(bid.status == exec::order_status::acked);
    f.loop.on_event(trade(bid.price.ticks() - 5, 500'000'000, core::side::sell), t);
    t += 5 * ms;
    f.loop.on_event(book(bid0, ask0), t);
    (void)f.loop.poll(t + 5 * ms);
    REQUIRE(f.loop.account().position().lots() > 0);
    return t + 10 * ms;
}

TEST_CASE("reduce mode (the soft drawdown) widens the quotes by reduce_spread_multiplier",
          "[engine]") {
    struct outcome {
        bool reducing = false;
        double multiplier_reducing = 0.0;
        std::int64_t ask_distance = 0; ///< The working ask above the bid, ticks, in reduce mode.
    };
    const auto run = [](double multiplier) {
        core_loop_config cfg;
        cfg.risk.limits.drawdown_soft_pct = 0.005; // 0.50 USDT of the 10,000
        cfg.risk.limits.reduce_spread_multiplier = multiplier;
        fixture f(cfg);
        core::timestamp_ns t = go_long(f, f.run_books(1'000 * ms, 10));
        // 2,000 USDT lower, the long position (0.00165 BTC) has lost 3.30 USDT.
        const std::int64_t fallen = bid0 - 200'000;
        for (int i = 0; i < 20; ++i, t += 10 * ms) {
            f.loop.on_event(book(fallen, fallen + (ask0 - bid0)), t);
        }
        outcome out;
        out.reducing = f.loop.risk().reducing();
        out.multiplier_reducing = f.loop.strategy().spread_multiplier();
        out.ask_distance = f.loop.quotes().order(core::side::sell, 0).price.ticks() - fallen;
        return out;
    };
    const outcome plain = run(1.0);
    const outcome widened = run(3.0);
    REQUIRE(widened.reducing);
    CHECK(widened.multiplier_reducing == 3.0);
    CHECK(plain.multiplier_reducing == 1.0);
    // Before, the multiplier was read and never used: both asks sat at the same distance.
    CHECK(widened.ask_distance > plain.ask_distance);
}

TEST_CASE("flatten_on_kill closes the position with IOC orders through the risk gate", "[engine]") {
    core_loop_config cfg;
    cfg.risk.triggers.flatten_on_kill = true;
    cfg.risk.triggers.flatten_slippage_ticks = 2;
    fixture f(cfg);
    core::timestamp_ns t = go_long(f, f.run_books(1'000 * ms, 10));
    const core::qty long_position = f.loop.account().position();

    f.control.request_kill(ops::command_source::signal);
    (void)f.loop.poll(t);
    CHECK(f.loop.state() == risk::trading_state::killed);
    CHECK(f.loop.flattener().state() == exec::flatten_state::working);
    // The ask quote is still working until its cancel is confirmed: selling the position now
    // could leave it short if both filled, so the flattener waits.
    CHECK(f.loop.stats().flatten_orders == 0);
    // The cancels confirm, the flatten order goes out, takes the bid and its fill comes back.
    t = f.run_books(t + 10 * ms, 5);
    CHECK(f.loop.stats().flatten_orders == 1);
    CHECK(f.loop.gate().orders_sent(risk::order_intent::flatten) == 1);
    CHECK(f.exchange.position(0).lots() == 0);
    CHECK(f.loop.account().position().lots() == 0);
    CHECK(f.loop.flattener().filled_qty() == long_position);
    CHECK(f.loop.flattener().state() == exec::flatten_state::done);
    CHECK(f.exchange.stats().taker_fills >= 1);
    // Nothing else left the engine: no quotes after the kill.
    CHECK(f.exchange.open_order_count() == 0);
    CHECK(f.loop.state() == risk::trading_state::killed);
    const std::uint64_t received = f.exchange.stats().orders_received;
    f.run_books(t, 20);
    CHECK(f.exchange.stats().orders_received == received);
}

TEST_CASE("a stop ends a kill's flattening: no flatten order after shutdown(), and a kill while "
          "the stop waits starts none",
          "[engine]") {
    core_loop_config cfg;
    cfg.risk.triggers.flatten_on_kill = true;
    fixture f(cfg);
    core::timestamp_ns t = go_long(f, f.run_books(1'000 * ms, 10));
    const core::qty long_position = f.loop.account().position();
    SECTION("the kill, then the stop") {
        f.control.request_kill(ops::command_source::signal);
        (void)f.loop.poll(t);
        // Waiting for the ask's cancel before it sells (see above).
        REQUIRE(f.loop.flattener().state() == exec::flatten_state::working);
        REQUIRE(f.loop.stats().flatten_orders == 0);
        f.loop.shutdown(t + ms);
    }
    SECTION("the stop, then a kill") {
        f.loop.shutdown(t);
        f.control.request_kill(ops::command_source::signal);
        (void)f.loop.poll(t + ms);
        REQUIRE(f.loop.state() == risk::trading_state::killed);
    }
    t = f.run_books(t + 10 * ms, 20);
    CHECK(f.loop.stats().flatten_orders == 0);
    CHECK_FALSE(f.loop.flatten_in_flight());
    CHECK(f.loop.flattener().state() != exec::flatten_state::working);
    CHECK(f.loop.account().position() == long_position);
    CHECK(f.exchange.open_order_count() == 0);
}

TEST_CASE("flatten_on_kill: a fill that raced the kill's cancel-all is closed too", "[engine]") {
    core_loop_config cfg;
    cfg.risk.triggers.flatten_on_kill = true;
    // The kill's cancels take 50 ms to reach the exchange.
    cfg.exchange.cancel_latency = {exec::latency_distribution::constant, 50 * ms, 0};
    fixture f(cfg);
    core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    REQUIRE(f.loop.account().position().lots() == 0);
    const exec::working_order bid = f.loop.quotes().order(core::side::buy, 0);
    REQUIRE(bid.status == exec::order_status::acked);

    f.control.request_kill(ops::command_source::signal);
    (void)f.loop.poll(t);
    REQUIRE(f.loop.state() == risk::trading_state::killed);
    CHECK(f.loop.flattener().state() == exec::flatten_state::done); // flat: nothing to close
    // A sell print through the bid before its cancel arrives: the bid fills.
    f.loop.on_event(trade(bid.price.ticks() - 5, 500'000'000, core::side::sell), t + ms);
    (void)f.loop.poll(t + 5 * ms);
    REQUIRE(f.loop.account().position() == bid.qty);

    t = f.run_books(t + 10 * ms, 20);
    CHECK(f.loop.stats().flatten_orders >= 1);
    CHECK(f.loop.account().position().lots() == 0);
    CHECK(f.loop.state() == risk::trading_state::killed);
}

TEST_CASE("without flatten_on_kill a kill only cancels and the position stays", "[engine]") {
    fixture f;
    core::timestamp_ns t = go_long(f, f.run_books(1'000 * ms, 10));
    const core::qty long_position = f.loop.account().position();
    f.control.request_kill(ops::command_source::signal);
    (void)f.loop.poll(t);
    t = f.run_books(t + 10 * ms, 5);
    CHECK(f.loop.stats().flatten_orders == 0);
    CHECK(f.loop.account().position() == long_position);
    CHECK(f.loop.flattener().state() == exec::flatten_state::idle);
}

TEST_CASE("flatten orders still pass the pre-trade checks: refused ones end in gave_up",
          "[engine]") {
    core_loop_config cfg;
    cfg.risk.triggers.flatten_on_kill = true;
    cfg.risk.triggers.flatten_max_attempts = 3;
    // A limit 60000 ticks (600 USDT, 100 bps) through the bid is beyond a 50 bps price band.
    cfg.risk.triggers.flatten_slippage_ticks = 60'000;
    cfg.risk.limits.price_band_bps = 50.0;
    fixture f(cfg);
    core::timestamp_ns t = go_long(f, f.run_books(1'000 * ms, 10));
    const core::qty long_position = f.loop.account().position();
    f.control.request_kill(ops::command_source::signal);
    (void)f.loop.poll(t);
    // Each refused order is retried refusal_retry_ms (500 ms) later: 3, then the give-up, in 2 s.
    t = f.run_books(t + 10 * ms, 200);
    CHECK(f.loop.stats().flatten_orders == 3);
    CHECK(f.loop.gate().risk_rejects(risk::reject_reason::price_through_market) == 3);
    CHECK(f.loop.flattener().state() == exec::flatten_state::idle); // gave up, alert raised
    CHECK(f.loop.account().position() == long_position);
}

/// flatten_on_kill with a budget of three flatten orders.
core_loop_config flatten_three_times() {
    core_loop_config cfg;
    cfg.risk.triggers.flatten_on_kill = true;
    cfg.risk.triggers.flatten_max_attempts = 3;
    return cfg;
}

TEST_CASE("flatten orders held by a full order-rate window spend no attempts: the position is "
          "closed when the window has room",
          "[engine]") {
    core_loop_config cfg = flatten_three_times();
    // The first two quotes fill the minute's window: nothing else passes for a minute, and the
    // flattening's refusals, 500 ms apart, would spend its three attempts in 1.5 s.
    cfg.risk.limits.max_new_orders_per_s = 0;
    cfg.risk.limits.max_new_orders_per_min = 2;
    fixture f(cfg);
    core::timestamp_ns t = go_long(f, f.run_books(1'000 * ms, 10));
    REQUIRE(f.loop.gate().orders_sent(risk::order_intent::quote) == 2);
    const core::timestamp_ns killed_at = t;
    f.control.request_kill(ops::command_source::signal);
    (void)f.loop.poll(t);
    REQUIRE(f.loop.state() == risk::trading_state::killed);
    t = f.run_books(t + 10 * ms, 1'000); // 10 s
    CHECK(f.loop.flattener().state() == exec::flatten_state::working);
    CHECK(f.loop.gate().orders_sent(risk::order_intent::flatten) == 0);
    CHECK(f.loop.flattener().attempts() == 0);
    // Refused once as the window stood, then held until it had room: not every 500 ms.
    CHECK(f.loop.gate().risk_rejects(risk::reject_reason::new_orders_per_min) <= 3);
    // Within a minute and a bucket of the quotes, the window has room and the order goes.
    t = f.run_books(t, 6'500);
    CHECK(t - killed_at < 80'000 * ms);
    CHECK(f.loop.gate().orders_sent(risk::order_intent::flatten) == 1);
    CHECK(f.loop.account().position().lots() == 0);
    CHECK(f.loop.flattener().state() == exec::flatten_state::done);
    CHECK(f.loop.state() == risk::trading_state::killed);
}

/// The simulated exchange behind a gateway that refuses cancels on demand and lets the test see
/// every order as it leaves.
class flaky_venue final : public exec::order_gateway {
public:
    explicit flaky_venue(exec::sim_exchange& exchange) : exchange_(exchange) {}

    void set_report_sink(exec::exec_report_sink* sink) noexcept override {
        exchange_.set_report_sink(sink);
    }
    exec::gateway_error submit(const exec::order_request& request,
                               core::timestamp_ns now) noexcept override {
        if (refuse_submits > 0) {
            --refuse_submits;
            ++refused;
            return exec::gateway_error::disconnected;
        }
        if (on_submit) {
            on_submit(request, now);
        }
        return exchange_.submit(request, now);
    }
    exec::gateway_error cancel(std::uint32_t symbol, exec::client_order_id id,
                               core::timestamp_ns now) noexcept override {
        if (refuse_cancels > 0) {
            --refuse_cancels;
            ++refused;
            return exec::gateway_error::disconnected;
        }
        return exchange_.cancel(symbol, id, now);
    }
    exec::gateway_error cancel_all(std::uint32_t symbol, core::timestamp_ns now) noexcept override {
        if (refuse_cancels > 0) {
            --refuse_cancels;
            ++refused;
            return exec::gateway_error::disconnected;
        }
        if (full_queue > 0) {
            --full_queue;
            return exec::gateway_error::queue_full;
        }
        return exchange_.cancel_all(symbol, now);
    }
    std::size_t poll(core::timestamp_ns now) noexcept override { return exchange_.poll(now); }
    bool kill_unconfirmed(std::uint32_t /*symbol*/) const noexcept override {
        return unconfirmed_kill;
    }

    /// Requests refused before the venue answers again (cancels and cancel-alls).
    int refuse_cancels = 0;
    /// New orders refused as if the connection were down.
    int refuse_submits = 0;
    /// What the venue's confirmation of the last cancel-all says.
    bool unconfirmed_kill = false;
    /// Cancel-alls refused as if the request queue were full.
    int full_queue = 0;
    int refused = 0;
    std::function<void(const exec::order_request&, core::timestamp_ns)> on_submit;

private:
    exec::sim_exchange& exchange_;
};

struct flaky_fixture {
    explicit flaky_fixture(core_loop_config cfg = {})
        : instrument(btcusdt()), specs{instrument.trading_spec}, config(cfg),
          exchange(config.exchange, specs), venue(exchange),
          loop(config, instrument, venue, &exchange, nullptr, &control) {}

    core::timestamp_ns run_books(core::timestamp_ns t, int n) {
        for (int i = 0; i < n; ++i) {
            loop.on_event(book(bid0, ask0), t);
            t += 10 * ms;
        }
        return t;
    }

    md::instrument instrument;
    std::array<core::symbol_spec, 1> specs;
    core_loop_config config;
    exec::sim_exchange exchange;
    flaky_venue venue;
    ops::control_channel control;
    core_loop loop;
};

core_loop_config cancel_retry_config() {
    core_loop_config cfg;
    cfg.quotes.cancel_retry_ms = 50;
    cfg.quotes.max_cancel_attempts = 5;
    return cfg;
}

TEST_CASE("flatten orders the gateway cannot send spend no attempts: the position is closed "
          "once it can",
          "[engine]") {
    flaky_fixture f(flatten_three_times());
    core::timestamp_ns t = go_long(f, f.run_books(1'000 * ms, 10));
    // The connection is down for the first ten flatten orders, tried 500 ms apart.
    f.venue.refuse_submits = 10;
    f.control.request_kill(ops::command_source::signal);
    (void)f.loop.poll(t);
    REQUIRE(f.loop.state() == risk::trading_state::killed);
    t = f.run_books(t + 10 * ms, 400); // 4 s
    CHECK(f.loop.flattener().state() == exec::flatten_state::working);
    CHECK(f.loop.flattener().attempts() == 0);
    CHECK(f.venue.refused >= 7);
    t = f.run_books(t, 200);
    CHECK(f.venue.refused == 10);
    CHECK(f.loop.gate().orders_sent(risk::order_intent::flatten) == 1);
    CHECK(f.loop.account().position().lots() == 0);
    CHECK(f.loop.flattener().state() == exec::flatten_state::done);
}

TEST_CASE("a kill keeps cancelling on poll, without market data, until the venue confirms",
          "[engine]") {
    flaky_fixture f(cancel_retry_config());
    core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    REQUIRE(f.exchange.open_order_count() == 2);
    // The cancel-all and the next three cancels are refused by the gateway.
    f.venue.refuse_cancels = 4;
    f.control.request_kill(ops::command_source::signal);
    (void)f.loop.poll(t);
    REQUIRE(f.loop.state() == risk::trading_state::killed);
    for (int i = 0; i < 100; ++i) { // 1 s of polls, no md_event
        t += 10 * ms;
        (void)f.loop.poll(t);
    }
    CHECK(f.venue.refused == 4);
    CHECK(f.exchange.open_order_count() == 0);
    CHECK(f.loop.quotes().open_orders() == 0);
    CHECK(f.loop.stats().cancel_give_ups == 0);
    CHECK(f.loop.quotes().counters().cancel_retries >= 2);
    // Paced: a handful of attempts in that second, not one per poll.
    CHECK(f.loop.quotes().counters().cancels_sent <= 4);
}

TEST_CASE("a resume is refused while the venue has not confirmed the kill; once it has, trading "
          "resumes",
          "[engine]") {
    flaky_fixture f(cancel_retry_config());
    core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    REQUIRE(f.exchange.open_order_count() == 2);
    f.control.request_kill(ops::command_source::http);
    (void)f.loop.poll(t);
    REQUIRE(f.loop.state() == risk::trading_state::killed);
    f.venue.unconfirmed_kill = true;
    const std::uint64_t sent = f.exchange.stats().orders_received;
    const auto resume = [&] {
        REQUIRE(f.control.post({.command = ops::control_command::resume}));
        t = f.run_books(t, 5);
    };
    resume();
    CHECK(f.loop.state() == risk::trading_state::killed);
    CHECK(f.loop.risk().switch_state().kill_reason() == risk::halt_reason::manual_kill);
    CHECK(f.exchange.stats().orders_received == sent);
    // Confirmed: the next resume is taken.
    f.venue.unconfirmed_kill = false;
    resume();
    CHECK(f.loop.state() == risk::trading_state::running);
    CHECK(f.exchange.stats().orders_received > sent);
    // A kill whose cancel-all never left the process (the gateway's queue full) is not
    // confirmed either: refused until the cancel-all is sent.
    f.control.request_kill(ops::command_source::http);
    f.venue.unconfirmed_kill = false;
    f.venue.full_queue = 1;
    (void)f.loop.poll(t);
    REQUIRE(f.loop.state() == risk::trading_state::killed);
    REQUIRE(f.loop.quotes().cancel_all_unsent());
    REQUIRE(f.control.post({.command = ops::control_command::resume}));
    (void)f.loop.poll(t);
    CHECK(f.loop.state() == risk::trading_state::killed);
    t = f.run_books(t, 20); // the cancel-all goes out at its retry
    REQUIRE_FALSE(f.loop.quotes().cancel_all_unsent());
    resume();
    CHECK(f.loop.state() == risk::trading_state::running);
    // A pause's cancel-all unconfirmed holds nothing: only a kill waits for the venue.
    REQUIRE(f.control.post({.command = ops::control_command::pause}));
    t = f.run_books(t, 2);
    REQUIRE(f.loop.state() == risk::trading_state::paused);
    f.venue.unconfirmed_kill = true;
    resume();
    CHECK(f.loop.state() == risk::trading_state::running);
}

TEST_CASE("a kill whose cancels do not get through says so once, with a critical alert, and "
          "keeps cancelling until they do",
          "[engine]") {
    testing::scratch_journal scratch("engine-giveup");
    const std::filesystem::path& path = scratch.path;
    const std::unique_ptr<ops::journal>& journal = scratch.journal;
    {
        const core_loop_config cfg = cancel_retry_config();
        md::instrument instrument = btcusdt();
        std::array<core::symbol_spec, 1> specs{instrument.trading_spec};
        exec::sim_exchange exchange(cfg.exchange, specs);
        flaky_venue venue(exchange);
        ops::control_channel control;
        core_loop loop(cfg, instrument, venue, &exchange, journal.get(), &control);
        core::timestamp_ns t = 1'000 * ms;
        for (int i = 0; i < 10; ++i, t += 10 * ms) {
            loop.on_event(book(bid0, ask0), t);
        }
        REQUIRE(exchange.open_order_count() == 2);
        venue.refuse_cancels = 1'000'000;
        control.request_kill(ops::command_source::signal);
        for (int i = 0; i < 500; ++i) { // 5 s of polls
            (void)loop.poll(t);
            t += 10 * ms;
        }
        CHECK(loop.stats().cancel_give_ups == 2);
        // The cancel-all, 5 attempts per order (50 ms apart), then one every 400 ms for the
        // rest of the 5 s.
        CHECK(venue.refused >= 1 + 2 * (5 + 10));
        CHECK(venue.refused <= 1 + 2 * (5 + 13));
        CHECK(exchange.open_order_count() == 2);
        // The cancels get through again: the venue confirms, nothing rests.
        venue.refuse_cancels = 0;
        for (int i = 0; i < 100; ++i) {
            (void)loop.poll(t);
            t += 10 * ms;
        }
        CHECK(exchange.open_order_count() == 0);
        (void)journal->drain();
    }
    journal->stop();
    std::ifstream in(path);
    std::string line;
    int alerts = 0;
    while (std::getline(in, line)) {
        if (line.find("\"kind\":\"cancel_gave_up\"") != std::string::npos &&
            line.find("\"severity\":\"critical\"") != std::string::npos) {
            ++alerts;
        }
    }
    CHECK(alerts == 1);
    std::filesystem::remove(path);
}

TEST_CASE("after a fill the replacement is quoted for the post-fill position and checked "
          "against it",
          "[engine]") {
    core_loop_config cfg;
    // An inventory skew large enough to move the quotes once the loop is long.
    cfg.strategy.linear.price_impact = 5'000.0;
    flaky_fixture f(cfg);
    struct sent_order {
        exec::order_request request;
        core::qty position;        ///< The loop's position when the order left.
        strategy::quote_set fresh; ///< The strategy's quotes for that position at that time.
    };
    std::vector<sent_order> sent;
    f.venue.on_submit = [&](const exec::order_request& request, core::timestamp_ns now) {
        const core::qty position = f.loop.account().position();
        sent.push_back(
            {request, position, f.loop.strategy().quote(now, position, f.loop.account().equity())});
    };
    core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    const exec::working_order before = f.loop.quotes().order(core::side::buy, 0);
    REQUIRE(before.status == exec::order_status::acked);
    sent.clear();

    // A sell print through the bid fills it; no market data follows, only polls.
    f.loop.on_event(trade(before.price.ticks() - 5, 500'000'000, core::side::sell), t);
    for (int i = 1; i <= 10; ++i) {
        (void)f.loop.poll(t + i * ms);
    }
    const core::qty position = f.loop.account().position();
    REQUIRE(position == before.qty);
    std::size_t bids = 0;
    for (const sent_order& order : sent) {
        if (order.request.side != core::side::buy) {
            continue;
        }
        ++bids;
        // Sent with the fill booked: sized and priced for the new inventory.
        CHECK(order.position == position);
        REQUIRE(order.fresh.level_count >= 1);
        CHECK(order.request.price == order.fresh.levels[0].bid_price);
        CHECK(order.request.qty == order.fresh.levels[0].bid_size);
    }
    CHECK(bids == 1);
    const exec::working_order after = f.loop.quotes().order(core::side::buy, 0);
    CHECK(after.status != exec::order_status::none);
    CHECK(after.price < before.price); // long: the bid backs off
}

TEST_CASE("a replacement placed when its cancel is confirmed is checked against the book of "
          "the event that delivered the confirmation",
          "[engine]") {
    fixture f;
    core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    REQUIRE(f.exchange.open_order_count() == 2);
    // The market moves up 10 USDT: both quotes are cancelled for replacement, and the manager
    // will place the new bid (priced for this book) once its cancel is confirmed.
    f.loop.on_event(book(bid0 + 1'000, ask0 + 1'000), t);
    const exec::working_order old_bid = f.loop.quotes().order(core::side::buy, 0);
    REQUIRE(old_bid.cancel_pending);
    // The confirmation is due (cancel latency 1 ms, report 0.5 ms) at the very time of the next
    // event, whose ask has fallen 50 USDT, below the bid the manager holds for the previous book
    // (about 30 USDT under that book's bid). The replacement leaves at that time, so the book
    // it meets is this event's.
    t += 1'500'000;
    f.loop.on_event(book(bid0 - 5'000, ask0 - 5'000), t);
    REQUIRE(f.loop.quotes().counters().cancelled >= 1);
    for (int i = 1; i <= 5; ++i) {
        (void)f.loop.poll(t + i * ms);
    }
    // The gate saw the current book and refused the crossing post-only bid; it never reached
    // the venue to be rejected there.
    CHECK(f.loop.gate().risk_rejects(risk::reject_reason::post_only_would_cross) >= 1);
    CHECK(f.exchange.stats().post_only_rejects == 0);
    CHECK(f.loop.stats().exchange_rejects == 0);
}

/// A book event carrying the publisher's per-symbol sequence number.
md::md_event numbered(md::md_event event, std::uint64_t sequence) {
    event.symbol_sequence = sequence;
    return event;
}

TEST_CASE("a hole in the event sequence pauses quoting until the next valid book", "[engine]") {
    fixture f;
    std::uint64_t seq = 0;
    core::timestamp_ns t = 1'000 * ms;
    for (int i = 0; i < 10; ++i, t += 10 * ms) {
        f.loop.on_event(numbered(book(bid0, ask0), ++seq), t);
    }
    REQUIRE(f.exchange.open_order_count() == 2);
    REQUIRE(f.loop.stats().sequence_gaps == 0);

    // The md thread published "resyncing" and the ring dropped it; a trade print comes next.
    ++seq;
    f.loop.on_event(numbered(trade(bid0 - 100, 100'000, core::side::sell), ++seq), t);
    CHECK(f.loop.stats().sequence_gaps == 1);
    CHECK(f.loop.stats().events_lost == 1);
    CHECK(f.loop.feed_paused());
    CHECK(f.loop.state() == risk::trading_state::paused);
    t += 20 * ms;
    (void)f.loop.poll(t);
    CHECK(f.exchange.open_order_count() == 0);
    // A synced state event without a book does not end it: the view is still unknown.
    md::md_event synced = state(md::feed_state::synced);
    f.loop.on_event(numbered(synced, ++seq), t);
    CHECK(f.loop.feed_paused());
    const std::uint64_t received = f.exchange.stats().orders_received;
    (void)f.loop.poll(t + 50 * ms);
    CHECK(f.exchange.stats().orders_received == received);

    // The next synced, valid book resumes quoting.
    t += 200 * ms;
    for (int i = 0; i < 10; ++i, t += 10 * ms) {
        f.loop.on_event(numbered(book(bid0, ask0), ++seq), t);
    }
    CHECK_FALSE(f.loop.feed_paused());
    CHECK(f.loop.state() == risk::trading_state::running);
    CHECK(f.exchange.open_order_count() == 2);
    CHECK(f.loop.stats().pauses == 1);
    CHECK(f.loop.stats().resumes == 1);
    CHECK(f.loop.stats().sequence_gaps == 1);
}

/// Between the md thread's publisher and the loop: keeps the events in order and loses the ones
/// the test names, as a full ring would.
struct lossy_link final : md::md_event_sink {
    void on_event(const md::md_event& event) noexcept override {
        if (drop_next_stale && event.state == md::feed_state::stale) {
            drop_next_stale = false;
            ++dropped;
            return;
        }
        events.push_back(event);
    }
    std::vector<md::md_event> events;
    bool drop_next_stale = false;
    int dropped = 0;
};

std::string btc_depth(std::uint64_t first, std::uint64_t last, std::string_view bid_qty) {
    return R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,)"
           R"("s":"BTCUSDT","U":)" +
           std::to_string(first) + R"(,"u":)" + std::to_string(last) + R"(,"b":[["60000.00",")" +
           std::string(bid_qty) + R"("]],"a":[]}})";
}

TEST_CASE("a stale event lost between publisher and loop pauses quoting until the next book",
          "[engine]") {
    core_loop_config cfg;
    cfg.risk.triggers.stale_market_data_ms = 0; // only the feed's own states pause
    fixture f(cfg);
    md::symbol_registry registry;
    REQUIRE(registry.add(btcusdt()) == 0);
    lossy_link link;
    md::feed_handler feed(registry, link);
    const auto deliver = [&] {
        for (const md::md_event& event : link.events) {
            f.loop.on_event(event, event.local_ns);
            (void)f.loop.poll(event.local_ns + 1 * ms);
        }
        link.events.clear();
    };

    core::timestamp_ns t = 1'000 * ms;
    feed.on_connected(t);
    (void)feed.on_message_copy(btc_depth(100, 110, "1.5"), t);
    REQUIRE(feed.take_due_snapshot(t) == 0);
    (void)feed.on_snapshot_copy(0,
                                R"({"lastUpdateId":107,"bids":[["60000.00","1"],["59999.00","2"]],)"
                                R"("asks":[["60000.10","3"],["60001.00","4"]]})",
                                t + 1 * ms);
    REQUIRE(feed.sync(0).state() == md::feed_state::synced);
    std::uint64_t id = 110;
    for (int i = 0; i < 10; ++i) {
        t += 10 * ms;
        (void)feed.on_message_copy(btc_depth(id + 1, id + 1, i % 2 == 0 ? "2" : "1.5"), t);
        ++id;
    }
    deliver();
    REQUIRE(f.exchange.open_order_count() == 2);
    REQUIRE(f.loop.stats().sequence_gaps == 0);
    const core_loop_stats before = f.loop.stats(); // the start-up syncing paused once

    // The book turns stale on the md thread; that event is lost on the way.
    link.drop_next_stale = true;
    t += 6'000 * ms;
    feed.check_stale(t);
    REQUIRE(link.dropped == 1);
    // Traffic resumes: the first event back (synced again) reveals the hole.
    t += 10 * ms;
    (void)feed.on_message_copy(btc_depth(id + 1, id + 1, "1"), t);
    ++id;
    deliver();
    CHECK(f.loop.stats().sequence_gaps == 1);
    CHECK(f.loop.feed_paused());
    CHECK(f.loop.state() == risk::trading_state::paused);
    CHECK(f.exchange.open_order_count() == 0);

    // The next synced, valid book resumes quoting.
    for (int i = 0; i < 5; ++i) {
        t += 10 * ms;
        (void)feed.on_message_copy(btc_depth(id + 1, id + 1, i % 2 == 0 ? "2" : "1.5"), t);
        ++id;
    }
    deliver();
    CHECK_FALSE(f.loop.feed_paused());
    CHECK(f.loop.state() == risk::trading_state::running);
    CHECK(f.exchange.open_order_count() == 2);
    CHECK(f.loop.stats().pauses == before.pauses + 1);
    CHECK(f.loop.stats().resumes == before.resumes + 1);
}

TEST_CASE("book and trade sizes convert to trading lots rounding down", "[engine]") {
    // Trading lot 0.00001 BTC = 1000 book lots of 1e-8.
    fixture f;
    core::timestamp_ns t = f.run_books(1'000 * ms, 10);
    const exec::working_order bid = f.loop.quotes().order(core::side::buy, 0);
    REQUIRE(bid.status == exec::order_status::acked);
    // The bid's level shows 1 BTC behind the touch: 100'000 trading lots ahead of us.
    md::md_event two_levels = book(bid0, ask0);
    md::md_depth two_levels_depth = depth_of(two_levels);
    with_level(two_levels, two_levels_depth, core::side::buy, {bid.price, core::qty{100'000'000}});
    f.loop.on_event(two_levels, &two_levels_depth, t);
    // A print of 1 BTC and 1.5 trading lots at our price: one lot reaches us, not two.
    f.loop.on_event(trade(bid.price.ticks(), 100'000'000 + 1'500, core::side::sell), t + 1 * ms);
    (void)f.loop.poll(t + 5 * ms);
    CHECK(f.loop.account().position() == core::qty{1});
    // A print smaller than one trading lot fills nothing.
    f.loop.on_event(trade(bid.price.ticks(), 999, core::side::sell), t + 6 * ms);
    (void)f.loop.poll(t + 10 * ms);
    CHECK(f.loop.account().position() == core::qty{1});
    CHECK(f.loop.stats().fills == 1);

    SECTION("a best level below one trading lot keeps its price with size 0") {
        // The ask shows 500 book lots (half a trading lot) at ask0, 1 BTC behind it.
        md::md_event dust = book(bid0, ask0);
        dust.top.ask.qty = core::qty{500};
        md::md_depth dust_depth = depth_of(dust);
        with_level(dust, dust_depth, core::side::sell,
                   {core::price{ask0 + 10}, core::qty{100'000'000}});
        f.loop.on_event(dust, &dust_depth, t + 20 * ms);
        // The touch is still ask0: a post-only bid there would take liquidity and is refused.
        exec::order_request cross;
        cross.id = exec::client_order_id{42};
        cross.side = core::side::buy;
        cross.post_only = true;
        cross.price = core::price{ask0};
        cross.qty = core::qty{1};
        REQUIRE(f.exchange.submit(cross, t + 21 * ms) == exec::gateway_error::none);
        const std::uint64_t rejects = f.exchange.stats().rejects;
        (void)f.exchange.poll(t + 30 * ms);
        CHECK(f.exchange.stats().rejects == rejects + 1);
        // An IOC buy through both levels takes nothing from the empty one.
        exec::order_request take = cross;
        take.id = exec::client_order_id{43};
        take.post_only = false;
        take.tif = exec::time_in_force::ioc;
        take.price = core::price{ask0 + 10};
        take.qty = core::qty{3};
        const std::uint64_t taker_fills = f.exchange.stats().taker_fills;
        REQUIRE(f.exchange.submit(take, t + 31 * ms) == exec::gateway_error::none);
        (void)f.exchange.poll(t + 40 * ms);
        CHECK(f.exchange.stats().taker_fills == taker_fills + 1);
        CHECK(f.exchange.position(0) == core::qty{1 + 3});
    }
}

TEST_CASE("with book lots equal to trading lots the sizes reach the exchange as they are, a "
          "negative one as 0",
          "[engine]") {
    md::instrument same_lots = btcusdt();
    const auto book_spec = md::make_book_spec("BTCUSDT", "0.01", 5);
    REQUIRE(book_spec.has_value());
    same_lots.book_spec = *book_spec;
    REQUIRE(same_lots.book_spec.qty_decimals() == same_lots.trading_spec.qty_decimals());
    const std::array<core::symbol_spec, 1> specs{same_lots.trading_spec};
    core_loop_config cfg;
    exec::sim_exchange exchange(cfg.exchange, specs);
    core_loop loop(cfg, same_lots, exchange, &exchange);

    // An IOC buy of 10'000 lots at the ask: what it takes is what the exchange was shown there.
    std::uint64_t next_id = std::uint64_t{1} << 60; // clear of the quote manager's ids
    const auto taken_at_ask = [&](core::timestamp_ns t) {
        exec::order_request take;
        take.id = exec::client_order_id{next_id++};
        take.side = core::side::buy;
        take.tif = exec::time_in_force::ioc;
        take.post_only = false;
        take.price = core::price{ask0};
        take.qty = core::qty{10'000};
        const core::qty before = exchange.position(0);
        REQUIRE(exchange.submit(take, t) == exec::gateway_error::none);
        (void)exchange.poll(t + 10 * ms);
        return (exchange.position(0) - before).lots();
    };
    core::timestamp_ns t = 1'000 * ms;
    const auto shown = [&](std::int64_t ask_lots, bool with_depth) {
        md::md_event e = book(bid0, ask0);
        e.top.ask.qty = core::qty{ask_lots};
        t += 100 * ms;
        if (with_depth) {
            md::md_depth d = depth_of(e);
            loop.on_event(e, &d, t);
        } else {
            loop.on_event(e, t);
        }
        return taken_at_ask(t + 1 * ms);
    };
    for (const bool with_depth : {false, true}) {
        CAPTURE(with_depth);
        CHECK(shown(3'000, with_depth) == 3'000);
        CHECK(shown(-4'000, with_depth) == 0);
        CHECK(shown(0, with_depth) == 0);
        CHECK(shown(7'000, with_depth) == 7'000);
    }
}

/// Keeps every alert the loop forwards.
TEST_CASE("several symbols: the portfolio net limit counts the other symbols' working orders, "
          "as a percentage of the portfolio's equity",
          "[engine][risk]") {
    core_loop_config cfg;
    cfg.strategy.order_size_pct = 1.0; // 100 USDT an order
    cfg.strategy.levels.count = 3;
    cfg.quotes.levels = 3;
    cfg.risk.limits.symbol_net_notional_pct = 100.0;
    cfg.risk.limits.symbol_gross_notional_pct = 1'000.0;
    // Two symbols of 10,000 each: 1.6% of the portfolio's 20,000 is 320 USDT.
    cfg.risk.limits.portfolio_net_notional_pct = 1.6;
    const auto portfolio_refusals = [](const fixture& f) {
        return f.loop.gate().risk_rejects(risk::reject_reason::portfolio_net_notional);
    };
    fixture a(cfg);
    fixture b(cfg);
    portfolio_exposure exposure;
    a.loop.set_portfolio(&exposure, 0);
    b.loop.set_portfolio(&exposure, 1);
    REQUIRE(exposure.equity() == Approx(20'000.0));

    // The first symbol alone holds no position: three bids of 100 (300 once they fill) and
    // three asks pass.
    const core::timestamp_ns t = a.run_books(1'000 * ms, 3);
    CHECK(portfolio_refusals(a) == 0);
    CHECK(a.exchange.open_order_count() == 6);
    CHECK(exposure.others_worst_net(1) == Approx(300.0).epsilon(0.02));

    // Neither symbol holds a position, yet any order of the second would take the portfolio
    // to 400 once the first symbol's working orders of one side fill: every one is refused.
    (void)b.run_books(t, 3);
    CHECK(portfolio_refusals(b) > 0);
    CHECK(b.exchange.open_order_count() == 0);
    CHECK(b.loop.account().position().lots() == 0);
}

TEST_CASE("several symbols: a position restored before its symbol's first book counts in the "
          "others' checks at its entry price",
          "[engine][risk]") {
    core_loop_config cfg;
    cfg.strategy.order_size_pct = 1.0;
    cfg.risk.limits.symbol_net_notional_pct = 100.0;
    cfg.risk.limits.symbol_gross_notional_pct = 1'000.0;
    cfg.risk.limits.portfolio_net_notional_pct = 10.0;
    fixture a(cfg);
    fixture b(cfg);
    // The first symbol comes back from a restart holding 0.04 BTC bought at 60000 (2,400 USDT),
    // and no book of it has come yet.
    const core::qty held{4'000};
    const std::int64_t cost = a.instrument.trading_spec.notional_units(core::price{bid0}, held);
    a.loop.restore(held, cost, a.loop.account().cash_units() - cost, 0);
    portfolio_exposure exposure;
    a.loop.set_portfolio(&exposure, 0);
    b.loop.set_portfolio(&exposure, 1);
    CHECK(exposure.others_worst_net(1) == Approx(2'400.0));
    // 10% of the portfolio's equity (7,600 in cash and the unmarked BTC, plus 10,000) is
    // below it already: nothing of the second symbol adds to it.
    (void)b.run_books(1'000 * ms, 3);
    CHECK(b.loop.gate().risk_rejects(risk::reject_reason::portfolio_net_notional) > 0);
    CHECK(b.exchange.open_order_count() == 0);
}

struct recorded_alerts final : risk::alert_sink {
    std::vector<risk::alert> alerts;
    void raise(const risk::alert& a) noexcept override { alerts.push_back(a); }
};

TEST_CASE("every alert a loop forwards names the loop's symbol (several loops share one sink)",
          "[engine]") {
    core_loop_config cfg;
    cfg.symbol = 3;
    fixture f(cfg);
    recorded_alerts sink;
    f.loop.set_alert_sink(&sink);
    core::timestamp_ns t = 1'000 * ms;
    for (int i = 0; i < 10; ++i, t += 10 * ms) {
        md::md_event e = book(bid0, ask0);
        e.symbol = 3;
        f.loop.on_event(e, t);
    }
    REQUIRE(f.exchange.open_order_count() == 2);
    f.control.request_kill(ops::command_source::signal);
    (void)f.loop.poll(t);
    REQUIRE(f.loop.state() == risk::trading_state::killed);
    REQUIRE_FALSE(sink.alerts.empty());
    for (const risk::alert& a : sink.alerts) {
        CHECK(a.symbol_id == 3);
    }
}

TEST_CASE("the journal shows the kill followed by the cancel of every open order", "[engine]") {
    testing::scratch_journal scratch("engine-journal");
    const std::filesystem::path& path = scratch.path;
    const std::unique_ptr<ops::journal>& journal = scratch.journal;
    std::set<std::string> open_ids;
    {
        core_loop_config cfg;
        cfg.quotes.levels = 2;
        cfg.strategy.levels.count = 2;
        fixture f(cfg, journal.get());
        core::timestamp_ns t = f.run_books(1'000 * ms, 10);
        REQUIRE(f.exchange.open_order_count() == 4);
        for (std::size_t level = 0; level < 2; ++level) {
            for (const core::side side : {core::side::buy, core::side::sell}) {
                open_ids.insert(std::to_string(f.loop.quotes().order(side, level).id.value));
            }
        }
        f.control.request_kill(ops::command_source::terminal);
        (void)f.loop.poll(t);
        (void)f.loop.poll(t + 10 * ms);
        CHECK(f.exchange.open_order_count() == 0);
        (void)journal->drain();
    }
    journal->stop();

    std::ifstream in(path);
    std::string line;
    bool saw_kill = false;
    bool saw_intent = false;
    std::set<std::string> confirmed;
    while (std::getline(in, line)) {
        if (line.find("\"type\":\"order_intent\"") != std::string::npos) {
            saw_intent = true;
        }
        if (line.find("\"type\":\"state\"") != std::string::npos &&
            line.find("\"event\":\"kill\"") != std::string::npos) {
            saw_kill = true;
        }
        if (saw_kill && line.find("\"type\":\"cancel\"") != std::string::npos &&
            line.find("\"stage\":\"confirmed\"") != std::string::npos &&
            line.find("\"cause\":\"kill\"") != std::string::npos) {
            const auto at = line.find("\"client_order_id\":");
            REQUIRE(at != std::string::npos);
            const auto begin = at + 18;
            const auto end = line.find_first_not_of("0123456789", begin);
            confirmed.insert(line.substr(begin, end - begin));
        }
    }
    CHECK(saw_intent);
    CHECK(saw_kill);
    CHECK(confirmed == open_ids);
    std::filesystem::remove(path);
}

} // namespace
namespace {

/// A loop trading through a run_recorder in front of the simulated exchange, as the synthetic
/// run wires it; with `direct`, the recorder knows the exchange by its type and the exchange's
/// reports are routed to the recorder and the loop as the synthetic run's router does
/// (run_recorder::deliver, core_loop::take_venue_report), else the recorder sees a gateway and
/// the reports take the gateway's way (the recorder's report sink, the gate, the loop).
struct recorded_stack final : private exec::exec_report_sink {
    recorded_stack(const core_loop_config& config, bool direct, ops::journal* journal)
        : instrument(btcusdt()), specs{instrument.trading_spec}, exchange(config.exchange, specs),
          recorder(direct ? run_recorder(exchange, instrument.trading_spec)
                          : run_recorder(static_cast<exec::order_gateway&>(exchange),
                                         instrument.trading_spec)),
          loop(config, instrument, recorder, &exchange, journal) {
        recorder.attach(&loop.account());
        if (direct) {
            exchange.set_report_sink(this);
        }
    }

    /// A report as if the venue sent it (through the exchange's sink, whichever it is).
    void tell(const exec::exec_report& report) noexcept {
        if (routed_) {
            on_exec_report(report);
        } else {
            recorder.report_input().on_exec_report(report);
        }
    }

    md::instrument instrument;
    std::array<core::symbol_spec, 1> specs;
    exec::sim_exchange exchange;
    run_recorder recorder;
    core_loop loop;

private:
    void on_exec_report(const exec::exec_report& report) noexcept override {
        routed_ = true;
        recorder.deliver(
            report, [this](const exec::exec_report& tracked) { loop.take_venue_report(tracked); });
    }
    bool routed_ = false;
};

TEST_CASE("venue reports handed to the loop directly do what the gateway's delivery does",
          "[core_loop]") {
    core_loop_config config;
    config.quotes.levels = 2;
    config.strategy.levels.count = 2;
    config.quotes.max_order_age_ms = 30;          // refreshes: cancels and replacements
    config.risk.limits.max_new_orders_per_s = 40; // and some refused by the gate
    const auto journal_path = [](bool direct) {
        return std::filesystem::temp_directory_path() /
               ("quoter-report-path-" + std::to_string(::getpid()) + (direct ? "-d" : "-v") +
                ".jsonl");
    };
    const auto open_journal = [&](bool direct) {
        std::filesystem::remove(journal_path(direct));
        ops::journal_config jc;
        jc.path = journal_path(direct).string();
        jc.fdatasync_interval_ms = -1;
        auto opened = ops::journal::open(jc);
        REQUIRE(opened.has_value());
        return std::move(*opened);
    };
    std::unique_ptr<ops::journal> journal_v = open_journal(false);
    std::unique_ptr<ops::journal> journal_d = open_journal(true);
    recorded_stack via_gateway(config, false, journal_v.get());
    recorded_stack direct(config, true, journal_d.get());

    // A walk of the book with sell and buy prints through our quotes now and then.
    std::mt19937_64 rng(11);
    std::int64_t mid = bid0;
    core::timestamp_ns t = 1'000 * ms;
    exec::exec_report repeated{};
    for (int i = 0; i < 3'000; ++i, t += 10 * ms) {
        mid += static_cast<std::int64_t>(rng() % 5) - 2;
        md::md_event event = book(mid, mid + 10);
        const std::uint64_t draw = rng() % 16;
        if (draw == 0 || draw == 1) {
            // Through our best quote on that side, when there is one.
            const core::side aggressor = draw == 0 ? core::side::sell : core::side::buy;
            const core::side ours = draw == 0 ? core::side::buy : core::side::sell;
            const core::price quoted = via_gateway.loop.quotes().order(ours, 0).price;
            const std::int64_t through = aggressor == core::side::sell ? -5 : 5;
            const std::int64_t px = (quoted.ticks() > 0 ? quoted.ticks() : mid) + through;
            event =
                trade(px, 20'000'000 + static_cast<std::int64_t>(rng() % 50'000'000), aggressor);
        }
        for (recorded_stack* stack : {&via_gateway, &direct}) {
            stack->loop.on_event(event, t);
            (void)stack->loop.poll(t + 5 * ms);
        }
        if (i == 2'000) {
            // A fill told again by the venue (the same trade id): dropped by the gate on both.
            repeated = exec::exec_report{};
            repeated.kind = exec::exec_kind::partial_fill;
            repeated.client_id = via_gateway.loop.quotes().order(core::side::buy, 0).id;
            repeated.side = core::side::buy;
            repeated.price = core::price{mid};
            repeated.fill_qty = core::qty{1};
            repeated.trade_id = 77;
            repeated.local_ts = t + 5 * ms;
            for (recorded_stack* stack : {&via_gateway, &direct}) {
                stack->tell(repeated);
                stack->tell(repeated);
            }
        }
    }
    (void)journal_v->drain();
    (void)journal_d->drain();

    const core_loop& a = via_gateway.loop;
    const core_loop& b = direct.loop;
    // What the comparison covers happened: fills, cancels, refusals and a repeated fill.
    REQUIRE(a.stats().fills > 10);
    REQUIRE(a.stats().cancels_confirmed > 10);
    REQUIRE(a.gate().risk_rejects() > 0);
    REQUIRE(a.gate().duplicate_fills() == 1);
    CHECK(b.gate().duplicate_fills() == 1);

    CHECK(b.stats().fill_digest == a.stats().fill_digest);
    CHECK(b.stats().fills == a.stats().fills);
    CHECK(b.stats().acks == a.stats().acks);
    CHECK(b.stats().cancels_confirmed == a.stats().cancels_confirmed);
    CHECK(b.stats().exchange_rejects == a.stats().exchange_rejects);
    CHECK(b.stats().quote_updates == a.stats().quote_updates);
    const exec::quote_counters& qa = a.quotes().counters();
    const exec::quote_counters& qb = b.quotes().counters();
    CHECK(qb.orders_sent == qa.orders_sent);
    CHECK(qb.acks == qa.acks);
    CHECK(qb.rejects == qa.rejects);
    CHECK(qb.cancels_sent == qa.cancels_sent);
    CHECK(qb.cancelled == qa.cancelled);
    CHECK(qb.fills == qa.fills);
    CHECK(qb.filled_lots == qa.filled_lots);
    CHECK(b.gate().risk_rejects() == a.gate().risk_rejects());
    CHECK(b.gate().orders_passed() == a.gate().orders_passed());
    CHECK(b.gate().working_orders() == a.gate().working_orders());
    CHECK(b.gate().working_qty(core::side::buy) == a.gate().working_qty(core::side::buy));
    CHECK(b.gate().working_qty(core::side::sell) == a.gate().working_qty(core::side::sell));
    CHECK(b.account().position() == a.account().position());
    CHECK(b.account().cash_units() == a.account().cash_units());
    CHECK(b.account().equity_units() == a.account().equity_units());

    const run_recorder& ra = via_gateway.recorder;
    const run_recorder& rb = direct.recorder;
    CHECK(rb.activity().orders_filled == ra.activity().orders_filled);
    CHECK(rb.activity().cancels == ra.activity().cancels);
    CHECK(rb.activity().rejects == ra.activity().rejects);
    REQUIRE(rb.fills().size() == ra.fills().size());
    for (std::size_t i = 0; i < ra.fills().size(); ++i) {
        const sim::fill_record& x = ra.fills()[i];
        const sim::fill_record& y = rb.fills()[i];
        CHECK((y.time_ns == x.time_ns && y.order_id == x.order_id && y.price == x.price &&
               y.quantity == x.quantity && y.fee == x.fee && y.mid == x.mid &&
               y.realized_pnl == x.realized_pnl && y.inventory_after == x.inventory_after));
    }
    REQUIRE(rb.orders().size() == ra.orders().size());
    for (std::size_t i = 0; i < ra.orders().size(); ++i) {
        const sim::order_record& x = ra.orders()[i];
        const sim::order_record& y = rb.orders()[i];
        CHECK((y.time_ns == x.time_ns && y.order_id == x.order_id && y.event == x.event &&
               y.filled_quantity == x.filled_quantity));
    }

    // The journals say the same, line for line (but the wall time of their opening line).
    journal_v->stop();
    journal_d->stop();
    const auto lines = [&](bool is_direct) {
        std::vector<std::string> out;
        std::ifstream in(journal_path(is_direct));
        for (std::string line; std::getline(in, line);) {
            if (line.find("journal_open") == std::string::npos) {
                out.push_back(line);
            }
        }
        std::filesystem::remove(journal_path(is_direct));
        return out;
    };
    const std::vector<std::string> journaled = lines(false);
    CHECK(journaled.size() > 100);
    CHECK(lines(true) == journaled);
}

/// The simulated exchange, whose fill reports carry a trade id and are each told twice, as a
/// venue's report may come from two sources of which one was not de-duplicated upstream.
class repeating_venue final : public exec::order_gateway, private exec::exec_report_sink {
public:
    explicit repeating_venue(exec::sim_exchange& exchange) : exchange_(exchange) {}
    void set_report_sink(exec::exec_report_sink* sink) noexcept override {
        sink_ = sink;
        exchange_.set_report_sink(this);
    }
    exec::gateway_error submit(const exec::order_request& request,
                               core::timestamp_ns now) noexcept override {
        return exchange_.submit(request, now);
    }
    exec::gateway_error cancel(std::uint32_t symbol, exec::client_order_id id,
                               core::timestamp_ns now) noexcept override {
        return exchange_.cancel(symbol, id, now);
    }
    exec::gateway_error cancel_all(std::uint32_t symbol, core::timestamp_ns now) noexcept override {
        return exchange_.cancel_all(symbol, now);
    }
    std::size_t poll(core::timestamp_ns now) noexcept override { return exchange_.poll(now); }

private:
    void on_exec_report(const exec::exec_report& report) noexcept override {
        exec::exec_report r = report;
        const bool fill =
            r.kind == exec::exec_kind::fill || r.kind == exec::exec_kind::partial_fill;
        if (fill) {
            r.trade_id = next_trade_++;
        }
        sink_->on_exec_report(r);
        if (fill) {
            sink_->on_exec_report(r);
        }
    }
    exec::sim_exchange& exchange_;
    exec::exec_report_sink* sink_ = nullptr;
    std::int64_t next_trade_ = 1'000;
};

} // namespace

TEST_CASE("a trade told twice counts once in the account and the position the limits judge",
          "[core_loop]") {
    const md::instrument instrument = btcusdt();
    core_loop_config config;
    // The symbol's market-data id need not be its index on the venue (a session's lanes number
    // both their own way): the trade ids are the venue symbol's all the same.
    config.symbol = GENERATE(md::symbol_id{0}, md::symbol_id{3});
    CAPTURE(config.symbol);
    const std::array<core::symbol_spec, 1> specs{instrument.trading_spec};
    exec::sim_exchange exchange(config.exchange, specs);
    repeating_venue venue(exchange);
    ops::control_channel control;
    core_loop loop(config, instrument, venue, &exchange, nullptr, &control);
    const auto of_symbol = [&](md::md_event e) {
        e.symbol = config.symbol;
        return e;
    };
    core::timestamp_ns t = 1'000 * ms;
    for (int i = 0; i < 10; ++i, t += 10 * ms) {
        loop.on_event(of_symbol(book(bid0, ask0)), t);
    }
    const exec::working_order bid = loop.quotes().order(core::side::buy, 0);
    REQUIRE(bid.status == exec::order_status::acked);
    loop.on_event(of_symbol(trade(bid.price.ticks() - 5, 500'000'000, core::side::sell)), t);
    for (int i = 1; i <= 5; ++i) {
        (void)loop.poll(t + i * ms);
    }
    REQUIRE(exchange.position(0).lots() > 0);
    CHECK(loop.gate().duplicate_fills() >= 1);
    CHECK(loop.account().position() == exchange.position(0));
    CHECK(loop.gate().account().position == exchange.position(0));
    CHECK(loop.stats().fills == loop.gate().duplicate_fills());
}

} // namespace quoter::engine
