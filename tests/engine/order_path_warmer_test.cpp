// The order path warm-up changes nothing: a loop with the warmer on and one with it off, given the
// same events and polls, send the same orders, get the same fills and end with the same counters,
// risk state, rate-limit budgets and client order ids; and each dry-run piece (the quote manager's
// decision, the risk gate's checks, the simulated exchange's arrival checks) leaves its owner as
// it was.
#include "engine_test_support.hpp"

#include "quoter/engine/core_loop.hpp"
#include "quoter/engine/order_path_warmer.hpp"
#include "quoter/engine/run_recorder.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/exec/sim_exchange.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

namespace quoter::engine {
namespace {

using testing::book;
using testing::btcusdt;
using testing::trade;

constexpr core::timestamp_ns us = core::ns_per_us;
constexpr core::timestamp_ns ms = core::ns_per_ms;

/// Passes everything to the gateway behind it and writes down every request that left, in order,
/// and how many dry runs reached it.
class request_tap final : public exec::order_gateway {
public:
    explicit request_tap(exec::order_gateway& inner) : inner_(inner) {}

    /// kind (0 order, 1 cancel, 2 cancel-all), time, id, side, price, qty.
    using entry =
        std::tuple<int, core::timestamp_ns, std::uint64_t, int, std::int64_t, std::int64_t>;

    void set_report_sink(exec::exec_report_sink* sink) noexcept override {
        inner_.set_report_sink(sink);
    }
    exec::gateway_error submit(const exec::order_request& request,
                               core::timestamp_ns now) noexcept override {
        log.emplace_back(0, now, request.id.value, static_cast<int>(request.side),
                         request.price.ticks(), request.qty.lots());
        return inner_.submit(request, now);
    }
    exec::gateway_error cancel(std::uint32_t symbol, exec::client_order_id id,
                               core::timestamp_ns now) noexcept override {
        log.emplace_back(1, now, id.value, 0, symbol, 0);
        return inner_.cancel(symbol, id, now);
    }
    exec::gateway_error cancel_all(std::uint32_t symbol, core::timestamp_ns now) noexcept override {
        log.emplace_back(2, now, 0, 0, symbol, 0);
        return inner_.cancel_all(symbol, now);
    }
    std::size_t poll(core::timestamp_ns now) noexcept override { return inner_.poll(now); }
    bool rehearse_submit(const exec::order_request& request,
                         core::timestamp_ns now) noexcept override {
        ++rehearsals;
        return inner_.rehearse_submit(request, now);
    }

    std::vector<entry> log;
    std::uint64_t rehearsals = 0;

private:
    exec::order_gateway& inner_;
};

/// Counts the alerts a loop raises, by kind.
struct alert_counter final : risk::alert_sink {
    void raise(const risk::alert& a) noexcept override {
        kinds.push_back(static_cast<int>(a.kind));
    }
    std::vector<int> kinds;
};

struct no_rejections final : risk::rejection_sink {
    void on_rejection(const risk::rejection_record& /*record*/) noexcept override {}
};

/// Everything a run leaves behind that the warmer must not change.
struct outcome {
    std::vector<request_tap::entry> requests;
    core_loop_stats loop;
    exec::quote_counters quotes;
    std::uint64_t last_sequence = 0;
    exec::sim_exchange_stats exchange;
    std::size_t open_orders = 0;
    std::uint64_t gate_passed = 0;
    std::uint64_t gate_rejects = 0;
    std::array<std::uint64_t, risk::reject_reason_count> gate_by_reason{};
    std::uint64_t checker_passed = 0;
    std::array<std::uint64_t, risk::reject_reason_count> checker_by_reason{};
    /// Orders a copy of the checker still passes at the end before a rate limit refuses one,
    /// and the reason it gives then.
    int budget_left = 0;
    risk::reject_reason budget_reason = risk::reject_reason::none;
    double cancel_trade_ratio = 0.0;
    risk::trading_state state = risk::trading_state::running;
    std::uint64_t kills = 0;
    std::uint64_t alarms = 0;
    std::vector<int> alerts;
    std::int64_t position = 0;
    std::int64_t cash = 0;
    std::vector<sim::order_record> recorded_orders;
    std::size_t recorded_fills = 0;
    order_path_warmer_stats warmer;
    std::uint64_t rehearsals = 0;
};

/// How many valid orders a copy of checker passes at now before one is refused (at most 10,000).
std::pair<int, risk::reject_reason> remaining_budget(const risk::pre_trade_checker& checker,
                                                     const core::symbol_spec& spec,
                                                     risk::market_view market,
                                                     core::timestamp_ns now) {
    risk::pre_trade_checker copy = checker;
    risk::order_request order;
    order.side = core::side::buy;
    order.price = core::price{market.best_bid.ticks() - 10};
    order.qty = core::qty{20}; // 0.0002 BTC: above the minimum notional, far below every limit
    order.post_only = true;
    risk::account_view account;
    account.equity = 1e9;
    account.day_start_equity = 1e9;
    account.peak_equity = 1e9;
    for (int n = 0; n < 10'000; ++n) {
        const risk::reject_reason reason = copy.check(spec, order, market, account, now);
        if (reason != risk::reject_reason::none) {
            return {n, reason};
        }
    }
    return {10'000, risk::reject_reason::none};
}

/// A random walk of the touch with trade prints through it, every 1 to 4 ms, and polls between
/// the events at 50 us and then every 120 us: the same calls whether the warmer is on or off.
outcome run(std::int64_t warm_us, std::uint64_t seed) {
    const md::instrument instrument = btcusdt();
    const std::array<core::symbol_spec, 1> specs{instrument.trading_spec};
    core_loop_config config;
    config.warm_order_path_us = warm_us;
    // Replace on every move of the desired price, so that the replace path runs often.
    config.quotes.refresh_tolerance_bps = 0.0;
    config.quotes.refresh_ms = 0;
    config.quotes.max_order_age_ms = 3; // and on age: idle dry runs then decide to replace
    config.quotes.levels = 2;
    config.strategy.levels.count = 2;
    // Rate limits that bind now and then, so a budget a dry run took would show.
    config.risk.limits.max_new_orders_per_s = 40;
    config.risk.limits.max_cancels_per_s = 10'000;
    exec::sim_exchange exchange(config.exchange, specs);
    request_tap tap(exchange);
    run_recorder recorder(tap, instrument.trading_spec);
    core_loop loop(config, instrument, recorder, &exchange);
    recorder.attach(&loop.account());
    alert_counter alerts;
    loop.set_alert_sink(&alerts);

    std::mt19937_64 rng(seed);
    std::int64_t mid = 6'000'000; // 60000.00, in ticks
    core::timestamp_ns t = 1'000 * ms;
    for (int i = 0; i < 3'000; ++i) {
        const std::int64_t step = static_cast<std::int64_t>(rng() % 7) - 3;
        mid += step;
        const std::int64_t spread = 1 + static_cast<std::int64_t>(rng() % 4);
        loop.on_event(book(mid - spread, mid + spread), t);
        if (rng() % 3 == 0) {
            // A print one tick through our quote on one side (when it rests): fills it.
            const bool sell = rng() % 2 == 0;
            const exec::working_order& quote =
                loop.quotes().order(sell ? core::side::buy : core::side::sell, 0);
            if (quote.status == exec::order_status::acked) {
                loop.on_event(trade(quote.price.ticks() + (sell ? -1 : 1), 200'000'000,
                                    sell ? core::side::sell : core::side::buy),
                              t + 10 * us);
            }
        }
        const core::timestamp_ns next = t + (1 + static_cast<core::timestamp_ns>(rng() % 4)) * ms;
        for (core::timestamp_ns p = t + 50 * us; p < next; p += 120 * us) {
            (void)loop.poll(p);
        }
        t = next;
    }
    loop.shutdown(t);
    for (int i = 0; i < 20; ++i) {
        t += 10 * ms;
        (void)loop.poll(t);
    }

    outcome out;
    out.requests = tap.log;
    out.loop = loop.stats();
    out.quotes = loop.quotes().counters();
    out.last_sequence = loop.quotes().last_sequence();
    out.exchange = exchange.stats();
    out.open_orders = exchange.open_order_count();
    out.gate_passed = loop.gate().orders_passed();
    out.gate_rejects = loop.gate().risk_rejects();
    const risk::pre_trade_checker& checker = loop.risk().checker();
    for (std::size_t r = 0; r < risk::reject_reason_count; ++r) {
        out.gate_by_reason[r] = loop.gate().risk_rejects(static_cast<risk::reject_reason>(r));
        out.checker_by_reason[r] = checker.rejections(static_cast<risk::reject_reason>(r));
    }
    out.checker_passed = checker.passed();
    // The budgets as they stand just after the last order (inside its second and minute).
    const core::timestamp_ns probe = t - 150 * ms;
    std::tie(out.budget_left, out.budget_reason) =
        remaining_budget(checker, instrument.trading_spec, loop.market(), probe);
    risk::pre_trade_checker ratio = checker;
    out.cancel_trade_ratio = ratio.cancel_trade_ratio(probe);
    out.state = loop.risk().state();
    out.kills = loop.risk().switch_state().kill_count();
    out.alarms = loop.risk().alarms().alarms_raised();
    out.alerts = alerts.kinds;
    out.position = loop.account().position().lots();
    out.cash = loop.account().cash_units();
    out.recorded_orders.assign(recorder.orders().begin(), recorder.orders().end());
    out.recorded_fills = recorder.fills().size();
    out.warmer = loop.warmer().stats();
    out.rehearsals = tap.rehearsals;
    return out;
}

void check_loop_stats(const core_loop_stats& a, const core_loop_stats& b) {
    CHECK(a.events == b.events);
    CHECK(a.book_events == b.book_events);
    CHECK(a.trade_events == b.trade_events);
    CHECK(a.quote_updates == b.quote_updates);
    CHECK(a.pauses == b.pauses);
    CHECK(a.resumes == b.resumes);
    CHECK(a.kills == b.kills);
    CHECK(a.flatten_orders == b.flatten_orders);
    CHECK(a.fills == b.fills);
    CHECK(a.acks == b.acks);
    CHECK(a.exchange_rejects == b.exchange_rejects);
    CHECK(a.cancels_confirmed == b.cancels_confirmed);
    CHECK(a.cancel_give_ups == b.cancel_give_ups);
    CHECK(a.fill_digest == b.fill_digest);
}

void check_quote_counters(const exec::quote_counters& a, const exec::quote_counters& b) {
    CHECK(a.orders_sent == b.orders_sent);
    CHECK(a.acks == b.acks);
    CHECK(a.rejects == b.rejects);
    CHECK(a.post_only_rejects == b.post_only_rejects);
    CHECK(a.cancels_sent == b.cancels_sent);
    CHECK(a.replacements == b.replacements);
    CHECK(a.cancel_alls_sent == b.cancel_alls_sent);
    CHECK(a.cancelled == b.cancelled);
    CHECK(a.cancel_rejects == b.cancel_rejects);
    CHECK(a.fills == b.fills);
    CHECK(a.orders_filled == b.orders_filled);
    CHECK(a.stale_reports == b.stale_reports);
    CHECK(a.gateway_errors == b.gateway_errors);
    CHECK(a.cancel_retries == b.cancel_retries);
    CHECK(a.filled_lots == b.filled_lots);
}

void check_exchange_stats(const exec::sim_exchange_stats& a, const exec::sim_exchange_stats& b) {
    CHECK(a.orders_received == b.orders_received);
    CHECK(a.acks == b.acks);
    CHECK(a.rejects == b.rejects);
    CHECK(a.post_only_rejects == b.post_only_rejects);
    CHECK(a.maker_fills == b.maker_fills);
    CHECK(a.taker_fills == b.taker_fills);
    CHECK(a.cancels_received == b.cancels_received);
    CHECK(a.cancelled == b.cancelled);
    CHECK(a.cancel_rejects == b.cancel_rejects);
    CHECK(a.reports_delivered == b.reports_delivered);
}

} // namespace

TEST_CASE("a loop with the order path warmer sends, fills and counts exactly what one without it "
          "does",
          "[engine][warmer]") {
    for (const std::uint64_t seed : {7U, 1234U}) {
        INFO("seed " << seed);
        const outcome off = run(0, seed);
        const outcome on = run(100, seed);

        // The warmer ran, over the replace path, through the checks and the encoder; off, never.
        CHECK(off.warmer.runs == 0);
        CHECK(off.rehearsals == 0);
        CHECK(on.warmer.runs > 100);
        CHECK(on.warmer.orders > 100);
        CHECK(on.warmer.passed > 0);
        CHECK(on.warmer.encoded > 0);
        CHECK(on.warmer.replaces > 0);
        CHECK(on.rehearsals == on.warmer.orders);

        // The run itself saw real trading, rate-limit refusals included.
        CHECK(off.requests.size() > 300);
        CHECK(off.loop.fills > 10);
        CHECK(off.gate_by_reason[static_cast<std::size_t>(risk::reject_reason::new_orders_per_s)] >
              0);

        CHECK(on.requests == off.requests); // every order, cancel and cancel-all, at its time
        check_loop_stats(on.loop, off.loop);
        check_quote_counters(on.quotes, off.quotes);
        CHECK(on.last_sequence == off.last_sequence); // client order ids: no sequence taken
        check_exchange_stats(on.exchange, off.exchange);
        CHECK(on.open_orders == off.open_orders);
        CHECK(on.gate_passed == off.gate_passed);
        CHECK(on.gate_rejects == off.gate_rejects);
        CHECK(on.gate_by_reason == off.gate_by_reason);
        CHECK(on.checker_passed == off.checker_passed);
        CHECK(on.checker_by_reason == off.checker_by_reason);
        CHECK(on.budget_left == off.budget_left);
        CHECK(on.budget_reason == off.budget_reason);
        CHECK(on.cancel_trade_ratio == off.cancel_trade_ratio);
        CHECK(on.state == off.state);
        CHECK(on.kills == off.kills);
        CHECK(on.alarms == off.alarms);
        CHECK(on.alerts == off.alerts);
        CHECK(on.position == off.position);
        CHECK(on.cash == off.cash);
        REQUIRE(on.recorded_orders.size() == off.recorded_orders.size());
        for (std::size_t i = 0; i < on.recorded_orders.size(); ++i) {
            const sim::order_record& a = on.recorded_orders[i];
            const sim::order_record& b = off.recorded_orders[i];
            CHECK(std::tie(a.time_ns, a.order_id, a.event, a.side, a.level, a.price, a.quantity,
                           a.filled_quantity) == std::tie(b.time_ns, b.order_id, b.event, b.side,
                                                          b.level, b.price, b.quantity,
                                                          b.filled_quantity));
        }
        CHECK(on.recorded_fills == off.recorded_fills);
    }
}

TEST_CASE("the quote manager's dry run decides as update() would and changes no slot",
          "[engine][warmer]") {
    exec::sim_exchange exchange(exec::sim_exchange_config{});
    exec::quote_manager_config config;
    config.refresh_tolerance_bps = 1.0;
    config.refresh_ms = 100;
    exec::quote_manager quotes(config, exchange);
    std::array<exec::rehearsed_order, 4> out{};

    exec::desired_quotes desired;
    desired.bids[0] = {core::price{1'000'000}, core::qty{10}};
    desired.asks[0] = {core::price{1'000'100}, core::qty{10}};
    // Empty slots: both would be placed, with the ids update() gives them next.
    REQUIRE(quotes.rehearse(desired, 1'000 * ms, out) == 2);
    CHECK(out[0].action == exec::slot_action::place);
    CHECK(out[1].action == exec::slot_action::place);
    CHECK(quotes.last_sequence() == 0);
    CHECK(quotes.open_orders() == 0);
    CHECK(quotes.counters().orders_sent == 0);
    CHECK(exchange.stats().orders_received == 0);
    quotes.update(desired, 1'000 * ms);
    REQUIRE(quotes.open_orders() == 2);
    CHECK(quotes.order(core::side::buy, 0).id == out[0].request.id);
    CHECK(quotes.order(core::side::buy, 0).price == out[0].request.price);
    CHECK(quotes.order(core::side::sell, 0).id == out[1].request.id);
    (void)exchange.poll(1'010 * ms); // acks

    // Within tolerance: kept. Moved, but within refresh_ms: kept. Moved after it: replaced.
    REQUIRE(quotes.rehearse(desired, 1'050 * ms, out) == 2);
    CHECK(out[0].action == exec::slot_action::keep);
    exec::desired_quotes moved = desired;
    moved.bids[0].price = core::price{999'000};
    REQUIRE(quotes.rehearse(moved, 1'050 * ms, out) == 2);
    CHECK(out[0].action == exec::slot_action::keep);
    REQUIRE(quotes.rehearse(moved, 1'200 * ms, out) == 2);
    CHECK(out[0].action == exec::slot_action::replace);
    CHECK(out[0].request.price == core::price{999'000});
    CHECK(out[0].replaces == quotes.order(core::side::buy, 0).id);
    CHECK_FALSE(out[1].replaces.valid());
    CHECK(out[1].action == exec::slot_action::keep);
    const exec::quote_counters before = quotes.counters();
    CHECK(before.replacements == 0);
    CHECK(before.cancels_sent == 0);
    CHECK(quotes.last_sequence() == 2);
    CHECK_FALSE(quotes.order(core::side::buy, 0).cancel_pending);
    // update() then does what the dry run said: cancels the bid to replace it.
    quotes.update(moved, 1'200 * ms);
    CHECK(quotes.counters().replacements == 1);
    CHECK(quotes.order(core::side::buy, 0).cancel_pending);
    REQUIRE(quotes.rehearse(moved, 1'201 * ms, out) == 2);
    CHECK(out[0].action == exec::slot_action::wait); // its cancel is pending
}

TEST_CASE("the risk gate's dry run records nothing, even for an order the checks refuse with a "
          "kill",
          "[engine][warmer]") {
    const md::instrument instrument = btcusdt();
    core_loop_config config;
    config.risk.limits.max_new_orders_per_s = 3; // the loop's two quotes leave one
    exec::sim_exchange exchange(config.exchange,
                                std::array<core::symbol_spec, 1>{instrument.trading_spec});
    core_loop loop(config, instrument, exchange, &exchange);
    alert_counter alerts;
    loop.set_alert_sink(&alerts);
    loop.on_event(book(6'000'000, 6'000'010), 1'000 * ms);
    const risk_gate& gate = loop.gate();
    const std::uint64_t passed = gate.orders_passed();
    const std::uint64_t checked = loop.risk().checker().passed();
    const std::uint64_t received = exchange.stats().orders_received;
    const std::size_t pending = exchange.pending_events();

    exec::order_request order;
    order.id = exec::client_order_id{(std::uint64_t{1} << 56U) | (999U << 8U)};
    order.side = core::side::buy;
    order.post_only = true;
    order.price = core::price{5'999'990};
    order.qty = core::qty{20};
    no_rejections nowhere;
    risk::pre_trade_checker scratch(config.risk.limits, nowhere);
    REQUIRE(checked == 2);
    // More dry runs than the per-second budget left: each passes, none takes budget.
    for (int i = 0; i < 10; ++i) {
        const risk_gate::rehearsal r = gate.rehearse(order, 1'000 * ms + i, scratch);
        CHECK(r.reason == risk::reject_reason::none);
        CHECK(r.encoded);
    }
    // A would-be order crossing the book: refused, with no rejection counted anywhere.
    exec::order_request crossing = order;
    crossing.price = core::price{6'000'020};
    CHECK(gate.rehearse(crossing, 1'001 * ms, scratch).reason ==
          risk::reject_reason::post_only_would_cross);
    CHECK(gate.orders_passed() == passed);
    CHECK(gate.risk_rejects() == 0);
    CHECK(loop.risk().checker().passed() == checked);
    CHECK(loop.risk().checker().total_rejections() == 0);
    CHECK(exchange.stats().orders_received == received);
    CHECK(exchange.pending_events() == pending);

    // The budget is whole: a real order still gets the one left this second.
    risk::pre_trade_checker copy = loop.risk().checker();
    risk::account_view account;
    account.equity = 1e9;
    risk::order_request risk_order = to_risk_order(order, 0, risk::order_intent::quote);
    const risk::market_view market{core::price{6'000'000}, core::price{6'000'010}};
    CHECK(copy.check(instrument.trading_spec, risk_order, market, account, 1'002 * ms) ==
          risk::reject_reason::none);
    CHECK(copy.check(instrument.trading_spec, risk_order, market, account, 1'002 * ms) ==
          risk::reject_reason::new_orders_per_s);

    // A daily loss beyond the limit: the real check would engage the kill switch; the dry run
    // names the reason and leaves the switch, the alerts and the counters alone.
    risk::account_view losing;
    losing.equity = 1'000.0;
    losing.day_start_equity = 10'000.0;
    losing.realized_pnl_today = -9'000.0;
    CHECK(loop.risk().rehearse_order(instrument.trading_spec, risk_order, market, losing,
                                     1'003 * ms, scratch) == risk::reject_reason::daily_loss);
    CHECK(loop.risk().state() == risk::trading_state::running);
    CHECK(loop.risk().switch_state().kill_count() == 0);
    CHECK_FALSE(loop.risk().switch_state().condition_active(risk::halt_reason::daily_loss));
    CHECK(loop.risk().checker().total_rejections() == 0);
    CHECK(alerts.kinds.empty());
}

TEST_CASE("the warmer runs only when the loop has been idle for its period, and only while it "
          "quotes",
          "[engine][warmer]") {
    const md::instrument instrument = btcusdt();
    core_loop_config config;
    config.warm_order_path_us = 100;
    exec::sim_exchange exchange(config.exchange,
                                std::array<core::symbol_spec, 1>{instrument.trading_spec});
    core_loop loop(config, instrument, exchange, &exchange);
    // No book yet: due, but skipped.
    (void)loop.poll(1'000 * ms);
    CHECK(loop.warmer().stats().runs == 0);
    CHECK(loop.warmer().stats().skipped == 1);
    loop.on_event(book(6'000'000, 6'000'010), 1'001 * ms);
    (void)loop.poll(1'001 * ms + 50 * us); // busy: an event 50 us ago
    CHECK(loop.warmer().stats().runs == 0);
    (void)loop.poll(1'001 * ms + 100 * us);
    CHECK(loop.warmer().stats().runs == 1);
    (void)loop.poll(1'001 * ms + 150 * us); // the last dry run was 50 us ago
    CHECK(loop.warmer().stats().runs == 1);
    (void)loop.poll(1'001 * ms + 200 * us);
    CHECK(loop.warmer().stats().runs == 2);
    CHECK(loop.warmer().stats().orders == 4); // bid and ask, twice
    // Killed: no dry run.
    (void)loop.risk().trigger_kill_switch(risk::halt_reason::manual_kill, 1'002 * ms);
    (void)loop.poll(1'003 * ms);
    CHECK(loop.warmer().stats().runs == 2);
}

} // namespace quoter::engine
