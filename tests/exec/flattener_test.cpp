#include "quoter/exec/flattener.hpp"
#include "quoter/exec/sim_exchange.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <vector>

using namespace quoter;
using namespace quoter::exec;
using core::price;
using core::qty;
using core::side;

namespace {

constexpr core::timestamp_ns ms = core::ns_per_ms;

core::symbol_spec btc_spec() {
    const auto spec = core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.01", .step_size = "0.00001", .min_notional = "5"});
    REQUIRE(spec.has_value());
    return *spec;
}

exec_report terminal(const order_request& request, exec_kind kind, qty filled = qty{0}) {
    exec_report report;
    report.client_id = request.id;
    report.kind = kind;
    report.side = request.side;
    report.price = request.price;
    report.fill_qty = filled;
    return report;
}

struct recording_sink final : exec_report_sink {
    std::vector<exec_report> reports;
    void on_exec_report(const exec_report& report) noexcept override { reports.push_back(report); }
};

} // namespace

TEST_CASE("a long position sells IOC into the bids, reduce-only, through the touch by the "
          "slippage",
          "[flattener]") {
    const core::symbol_spec spec = btc_spec();
    flattener f({.slippage_ticks = 3, .max_attempts = 5}, spec, 7);
    REQUIRE(f.state() == flatten_state::idle);
    REQUIRE_FALSE(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt));

    f.start();
    const auto order = f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt);
    REQUIRE(order);
    CHECK(order->side == side::sell);
    CHECK(order->price == price{5'999'997});
    CHECK(order->qty == qty{500});
    CHECK(order->tif == time_in_force::ioc);
    CHECK(order->reduce_only);
    CHECK_FALSE(order->post_only);
    CHECK(order->symbol == 7);
    CHECK(f.owns(order->id));
    CHECK((order->id.value & 0xffU) == 0xffU); // never a quote slot
    CHECK(order->id.valid());
}

TEST_CASE("a short position buys from the asks; the size is capped by the largest order",
          "[flattener]") {
    const core::symbol_spec spec = btc_spec();
    flattener f({.slippage_ticks = 0}, spec, 0);
    f.start();
    const auto order = f.next_order(qty{-900}, price{6'000'000}, price{6'000'010}, qty{400});
    REQUIRE(order);
    CHECK(order->side == side::buy);
    CHECK(order->price == price{6'000'010});
    CHECK(order->qty == qty{400});
}

TEST_CASE("one order in flight at a time; the terminal report frees the slot", "[flattener]") {
    const core::symbol_spec spec = btc_spec();
    flattener f({}, spec, 0);
    f.start();
    const auto first = f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt);
    REQUIRE(first);
    // Not yet reported as sent: still nothing new.
    REQUIRE_FALSE(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt));
    f.on_sent(true);
    CHECK(f.in_flight());
    REQUIRE_FALSE(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt));

    // A partial fill is not terminal; the expiry of the remainder is.
    CHECK(f.on_exec_report(terminal(*first, exec_kind::partial_fill, qty{200})));
    CHECK(f.in_flight());
    CHECK(f.on_exec_report(terminal(*first, exec_kind::cancelled)));
    CHECK_FALSE(f.in_flight());
    CHECK(f.filled_qty() == qty{200});

    const auto second = f.next_order(qty{300}, price{6'000'000}, price{6'000'001}, std::nullopt);
    REQUIRE(second);
    CHECK(second->qty == qty{300});
    CHECK(second->id != first->id);

    // A report of someone else's order is not taken.
    exec_report other = terminal(*second, exec_kind::fill);
    other.client_id = client_order_id{(std::uint64_t{1} << 56) | 0x100};
    CHECK_FALSE(f.on_exec_report(other));
}

TEST_CASE("an order refused before leaving counts an attempt; the next waits refusal_retry_ms",
          "[flattener]") {
    const core::symbol_spec spec = btc_spec();
    flattener f({.max_attempts = 2, .refusal_retry_ms = 500}, spec, 0);
    f.start();
    REQUIRE(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, 1 * ms));
    f.on_sent(false, 1 * ms);
    CHECK_FALSE(f.in_flight());
    CHECK_FALSE(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, 2 * ms));
    REQUIRE(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, 501 * ms));
    f.on_sent(false, 501 * ms);
    // Budget spent (2 attempts): gives up.
    REQUIRE_FALSE(
        f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, 1'001 * ms));
    CHECK(f.state() == flatten_state::gave_up);
    CHECK(f.attempts() == 2);
    CHECK(f.orders_sent() == 0);

    // A new kill restarts with a fresh budget, at once.
    f.start();
    CHECK(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, 1'002 * ms));
}

TEST_CASE("a flatten order the risk checks or a request limit refused is retried after "
          "refusal_retry_ms, not at once",
          "[flattener]") {
    const core::symbol_spec spec = btc_spec();
    flattener f({.max_attempts = 20, .refusal_retry_ms = 500}, spec, 0);
    f.start();
    // A tight loop through one millisecond, every order refused (the second's order limit):
    // one attempt, not twenty.
    for (core::timestamp_ns t = 0; t < 1 * ms; t += 1'000) {
        if (const auto order =
                f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, t)) {
            f.on_sent(true, t);
            exec_report refused = terminal(*order, exec_kind::reject);
            refused.reason = reject_reason::risk_refused;
            refused.local_ts = t;
            CHECK(f.on_exec_report(refused));
        }
    }
    CHECK(f.attempts() == 1);
    CHECK(f.state() == flatten_state::working);
    // Once the window has moved on, the next goes.
    CHECK(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, 500 * ms));
    // A remainder the venue answered (an IOC it executed in part) does not wait.
    f.on_sent(true, 500 * ms);
}

TEST_CASE("a flatten order the venue rejects is retried later each time, not at once",
          "[flattener]") {
    const core::symbol_spec spec = btc_spec();
    flattener f({.max_attempts = 20, .refusal_retry_ms = 500, .max_reject_backoff_ms = 2'000}, spec,
                0);
    f.start();
    const auto next = [&](core::timestamp_ns t) {
        return f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, t);
    };
    // Sends the order, and its terminal report arrives at `t`.
    const auto send_and_end = [&](const order_request& order, exec_kind kind, reject_reason reason,
                                  core::timestamp_ns t) {
        f.on_sent(true, t);
        exec_report end = terminal(order, kind);
        end.reason = reason;
        end.local_ts = t;
        CHECK(f.on_exec_report(end));
    };
    // The venue rejects every order (a price limit the book moved past, a filter): a tight loop
    // through ten seconds sends one at 0, 0.5, 1.5, 3.5, 5.5, 7.5 and 9.5 s, not twenty in as
    // many round trips.
    std::vector<core::timestamp_ns> sent;
    for (core::timestamp_ns t = 0; t < 10'000 * ms; t += ms) {
        if (const auto order = next(t)) {
            sent.push_back(t);
            send_and_end(*order, exec_kind::reject, reject_reason::venue_refused, t);
        }
    }
    CHECK(sent == std::vector<core::timestamp_ns>{0, 500 * ms, 1'500 * ms, 3'500 * ms, 5'500 * ms,
                                                  7'500 * ms, 9'500 * ms});
    CHECK(f.state() == flatten_state::working);

    // An order the venue took (an IOC that expired unfilled) ends the run of rejects: the
    // next goes at once, and a reject after it waits refusal_retry_ms again.
    auto order = next(11'500 * ms);
    REQUIRE(order);
    send_and_end(*order, exec_kind::cancelled, reject_reason::expired, 11'501 * ms);
    order = next(11'501 * ms);
    REQUIRE(order);
    send_and_end(*order, exec_kind::reject, reject_reason::venue_refused, 11'502 * ms);
    CHECK_FALSE(next(12'001 * ms));
    CHECK(next(12'002 * ms));
}

TEST_CASE("a flatten order held back by a limit that time clears spends no attempt and waits "
          "until it clears",
          "[flattener]") {
    const core::symbol_spec spec = btc_spec();
    flattener f({.max_attempts = 2, .refusal_retry_ms = 500}, spec, 0);
    f.start();
    // Five orders held back by a full order-rate window, each retried when it said it had room:
    // none counts, where a refusal of any other kind would have ended it after two.
    core::timestamp_ns t = 0;
    for (int i = 0; i < 5; ++i) {
        const auto order =
            f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, t);
        REQUIRE(order);
        f.on_held(t, t + 2'000 * ms);
        CHECK(f.attempts() == 0);
        CHECK_FALSE(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt,
                                 t + 1'999 * ms));
        t += 2'000 * ms;
    }
    CHECK(f.state() == flatten_state::working);
    // A time already past waits refusal_retry_ms, so that a held order is not retried at once.
    REQUIRE(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, t));
    f.on_held(t, t - ms);
    CHECK_FALSE(
        f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, t + 499 * ms));
    const auto sent =
        f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt, t + 500 * ms);
    REQUIRE(sent);
    f.on_sent(true, t + 500 * ms);
    CHECK(f.attempts() == 1);
}

TEST_CASE("flattening ends at zero, on dust below the minimum notional, and with no book",
          "[flattener]") {
    const core::symbol_spec spec = btc_spec();
    flattener f({}, spec, 0);

    f.start();
    REQUIRE_FALSE(f.next_order(qty{0}, price{6'000'000}, price{6'000'001}, std::nullopt));
    CHECK(f.state() == flatten_state::done);

    // 0.00008 BTC at 60000 = 4.8 USDT < 5 USDT minimum: nothing can be sent.
    f.start();
    REQUIRE_FALSE(f.next_order(qty{8}, price{6'000'000}, price{6'000'001}, std::nullopt));
    CHECK(f.state() == flatten_state::done);
    // 0.00009 BTC = 5.4 USDT: sent.
    f.start();
    CHECK(f.next_order(qty{9}, price{6'000'000}, price{6'000'001}, std::nullopt));
    // Where the venue waives the minimum for reduce-only orders (USD-M futures), the 4.8 USDT
    // are closed too.
    core::symbol_spec futures = spec;
    futures.set_reduce_only_waives_min_notional(true);
    flattener h({}, futures, 0);
    h.start();
    const auto dust = h.next_order(qty{8}, price{6'000'000}, price{6'000'001}, std::nullopt);
    REQUIRE(dust);
    CHECK(dust->reduce_only);
    CHECK(dust->qty == qty{8});
    CHECK(h.state() == flatten_state::working);

    // An empty bid side: wait, still working.
    flattener g({}, spec, 0);
    g.start();
    REQUIRE_FALSE(g.next_order(qty{500}, price{0}, price{6'000'001}, std::nullopt));
    CHECK(g.state() == flatten_state::working);
    CHECK(g.attempts() == 0);

    // A size cap below one lot: no order could pass.
    REQUIRE_FALSE(g.next_order(qty{500}, price{6'000'000}, price{6'000'001}, qty{0}));
    CHECK(g.state() == flatten_state::gave_up);
}

TEST_CASE("started with attempts already spent (a restored kill), only the rest go out",
          "[flattener]") {
    const core::symbol_spec spec = btc_spec();
    flattener f({.max_attempts = 4}, spec, 0);
    f.start(3);
    CHECK(f.attempts() == 3);
    const auto last = f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt);
    REQUIRE(last);
    f.on_sent(true);
    CHECK(f.on_exec_report(terminal(*last, exec_kind::cancelled)));
    CHECK(f.attempts() == 4);
    CHECK_FALSE(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt));
    CHECK(f.state() == flatten_state::gave_up);

    // A new kill starts a new budget.
    f.start();
    CHECK(f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt));
}

TEST_CASE("stop (a resume) ends flattening; a report in flight is still taken", "[flattener]") {
    const core::symbol_spec spec = btc_spec();
    flattener f({}, spec, 0);
    f.start();
    const auto order = f.next_order(qty{-500}, price{6'000'000}, price{6'000'001}, std::nullopt);
    REQUIRE(order);
    f.on_sent(true);
    f.stop();
    CHECK(f.state() == flatten_state::idle);
    CHECK(f.on_exec_report(terminal(*order, exec_kind::fill, qty{500})));
    REQUIRE_FALSE(f.next_order(qty{-500}, price{6'000'000}, price{6'000'001}, std::nullopt));
}

TEST_CASE("against the simulated exchange a flatten order takes the book and closes the position",
          "[flattener]") {
    const core::symbol_spec spec = btc_spec();
    const std::array specs{spec};
    sim_exchange_config config;
    config.order_entry_latency = {latency_distribution::constant, core::ns_per_ms, 0};
    config.market_data_latency = {latency_distribution::constant, core::ns_per_ms, 0};
    recording_sink sink;
    sim_exchange exchange(config, specs);
    exchange.set_report_sink(&sink);
    exchange.on_top_of_book(
        0, {.bid = price{6'000'000}, .bid_qty = {}, .ask = price{6'000'001}, .ask_qty = {}}, 0);
    // Build a long position of 0.005 BTC with a taker buy.
    order_request buy;
    buy.id = client_order_id{(std::uint64_t{1} << 56) | 0x100};
    buy.side = side::buy;
    buy.post_only = false;
    buy.tif = time_in_force::ioc;
    buy.price = price{6'000'001};
    buy.qty = qty{500};
    REQUIRE(exchange.submit(buy, 0) == gateway_error::none);
    exchange.advance_to(10 * core::ns_per_ms);

    flattener f({.slippage_ticks = 1}, spec, 0);
    f.start();
    const auto order = f.next_order(qty{500}, price{6'000'000}, price{6'000'001}, std::nullopt);
    REQUIRE(order);
    REQUIRE(exchange.submit(*order, 10 * core::ns_per_ms) == gateway_error::none);
    f.on_sent(true);
    exchange.advance_to(20 * core::ns_per_ms);
    qty filled{0};
    for (const exec_report& report : sink.reports) {
        if (f.on_exec_report(report) &&
            (report.kind == exec_kind::fill || report.kind == exec_kind::partial_fill)) {
            filled += report.fill_qty;
            CHECK(report.liquidity == liquidity_role::taker);
        }
    }
    CHECK(filled == qty{500});
    CHECK_FALSE(f.in_flight());
    REQUIRE_FALSE(f.next_order(qty{0}, price{6'000'000}, price{6'000'001}, std::nullopt));
    CHECK(f.state() == flatten_state::done);
}

TEST_CASE("the flatten id tags of symbols on one exchange are their own", "[flattener]") {
    // Quote tags run 1..64 over the symbols sharing an exchange; each symbol's flatten tag is
    // distinct from every quote tag and from the other symbols' flatten tags.
    CHECK(flatten_id_tag(1) == flatten_config{}.id_tag);
    for (unsigned quote = 1; quote <= 64; ++quote) {
        const auto flatten = flatten_id_tag(static_cast<std::uint8_t>(quote));
        CHECK(flatten > 64);
        CHECK(flatten == flatten_id_tag(1) + (quote - 1));
    }
}
