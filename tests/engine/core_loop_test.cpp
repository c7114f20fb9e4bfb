// core_loop on hand-made md_events against the simulated exchange: quoting through the risk
// gate, refusals, fills by the queue model and the PnL identity, feed-state pause and
// auto-resume, the control channel's kill, and the journal's record of it.
#include "engine_test_support.hpp"

#include "quoter/engine/core_loop.hpp"
#include "quoter/exec/sim_exchange.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/journal.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <unistd.h>

namespace quoter::engine {
namespace {

using testing::book;
using testing::btcusdt;
using testing::state;
using testing::trade;

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

/// Fills the level-0 bid with a sell print through it: the loop ends up long.
core::timestamp_ns go_long(fixture& f, core::timestamp_ns t) {
    const auto bid = f.loop.quotes().order(core::side::buy, 0);
    REQUIRE(bid.status == exec::order_status::acked);
    f.loop.on_event(trade(bid.price.ticks() - 5, 500'000'000, core::side::sell), t);
    t += 5 * ms;
    f.loop.on_event(book(bid0, ask0), t);
    (void)f.loop.poll(t + 5 * ms);
    REQUIRE(f.loop.account().position().lots() > 0);
    return t + 10 * ms;
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
    t = f.run_books(t + 10 * ms, 10);
    CHECK(f.loop.stats().flatten_orders == 3);
    CHECK(f.loop.gate().risk_rejects(risk::reject_reason::price_through_market) == 3);
    CHECK(f.loop.flattener().state() == exec::flatten_state::idle); // gave up, alert raised
    CHECK(f.loop.account().position() == long_position);
}

TEST_CASE("the journal shows the kill followed by the cancel of every open order", "[engine]") {
    const auto path = std::filesystem::temp_directory_path() /
                      ("quoter-engine-journal-" + std::to_string(::getpid()) + ".jsonl");
    std::filesystem::remove(path);
    ops::journal_config jc;
    jc.path = path.string();
    jc.fdatasync_interval_ms = -1;
    auto opened = ops::journal::open(jc);
    REQUIRE(opened.has_value());
    std::unique_ptr<ops::journal> journal = std::move(*opened);
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
} // namespace quoter::engine
