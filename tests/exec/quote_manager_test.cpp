// Tests of exec::quote_manager against the simulated exchange: the quote lifecycle, replaces,
// cancels retried, unknown outcomes and duplicate fills. One component, so one file.
#include "desired_quotes_support.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/exec/sim_exchange.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

using namespace quoter;
using namespace quoter::exec;
using core::price;
using core::qty;
using core::side;

namespace {

constexpr core::timestamp_ns ms = core::ns_per_ms;
constexpr core::timestamp_ns us = core::ns_per_us;

sim_exchange_config test_exchange_config() {
    sim_exchange_config config;
    config.order_entry_latency = {latency_distribution::constant, 1 * ms, 0};
    config.cancel_latency = {latency_distribution::constant, 1 * ms, 0};
    config.market_data_latency = {latency_distribution::constant, 500 * us, 0};
    return config;
}

quote_manager_config test_manager_config() {
    quote_manager_config config;
    config.levels = 1;
    config.refresh_tolerance_bps = 1.0; // 10 ticks at 100'000
    config.size_tolerance_pct = 25.0;
    config.max_order_age_ms = 0;
    config.refresh_ms = 100;
    return config;
}

using testing::quotes;

/// An exchange quoting 99'990 / 100'010 with a manager wired to it.
struct manager_fixture {
    explicit manager_fixture(quote_manager_config manager = test_manager_config(),
                             sim_exchange_config exchange_config = test_exchange_config())
        : exchange(exchange_config), manager(manager, exchange) {
        exchange.set_report_sink(&this->manager);
        exchange.on_top_of_book(0, {price{99'990}, qty{0}, price{100'010}, qty{0}}, 0);
    }

    /// Runs the exchange (and so the manager's callbacks) up to t.
    void run_to(core::timestamp_ns t) { exchange.advance_to(t); }

    sim_exchange exchange;
    quote_manager manager;
};

} // namespace

TEST_CASE("the manager places quotes and follows them to acknowledged", "[quote_manager]") {
    manager_fixture f;
    f.manager.update(quotes(99'980, 100'020), 0);
    const working_order& bid = f.manager.order(side::buy, 0);
    CHECK(bid.status == order_status::pending_new);
    CHECK(bid.price == price{99'980});
    CHECK(bid.qty == qty{5});
    CHECK(f.manager.open_orders() == 2);
    CHECK(f.manager.counters().orders_sent == 2);

    f.run_to(1 * ms + 499 * us);
    CHECK(bid.status == order_status::pending_new); // ack still on the wire
    f.run_to(1 * ms + 500 * us);
    CHECK(bid.status == order_status::acked);
    CHECK(f.manager.order(side::sell, 0).status == order_status::acked);
    CHECK(f.manager.counters().acks == 2);
    CHECK(f.exchange.open_order_count() == 2);

    // The same quotes again change nothing.
    f.manager.update(quotes(99'980, 100'020), 500 * ms);
    CHECK(f.manager.counters().orders_sent == 2);
    CHECK(f.manager.counters().cancels_sent == 0);
}

TEST_CASE("orders are kept within the tolerance and replaced beyond it, cancel first",
          "[quote_manager]") {
    manager_fixture f;
    f.manager.update(quotes(99'980, 100'020), 0);
    f.run_to(10 * ms);

    // 9 ticks at ~100'000 is 0.9 bps: kept.
    f.manager.update(quotes(99'971, 100'029), 200 * ms);
    CHECK(f.manager.counters().cancels_sent == 0);
    CHECK(f.manager.order(side::buy, 0).price == price{99'980});

    // 20 ticks is 2 bps: the bid is cancelled, the ask (unchanged) kept.
    f.manager.update(quotes(99'960, 100'020), 300 * ms);
    CHECK(f.manager.counters().cancels_sent == 1);
    CHECK(f.manager.counters().replacements == 1);
    const working_order& bid = f.manager.order(side::buy, 0);
    CHECK(bid.cancel_pending);
    CHECK(bid.price == price{99'980});
    CHECK(f.manager.counters().orders_sent == 2); // no replacement before the cancel confirms

    // Cancel reaches the exchange at 301 ms, its confirmation the manager at 301.5 ms; the
    // replacement leaves at once.
    f.run_to(301 * ms + 499 * us);
    CHECK(f.manager.counters().orders_sent == 2);
    f.run_to(301 * ms + 500 * us);
    CHECK(f.manager.counters().cancelled == 1);
    CHECK(f.manager.counters().orders_sent == 3);
    CHECK(bid.status == order_status::pending_new);
    CHECK(bid.price == price{99'960});
    CHECK(bid.sent_ts == 301 * ms + 500 * us);
    f.run_to(310 * ms);
    CHECK(bid.status == order_status::acked);
    CHECK(f.exchange.open_order_count() == 2);
}

TEST_CASE("replacements wait for refresh_ms after the previous order", "[quote_manager]") {
    manager_fixture f;
    f.manager.update(quotes(99'980, 100'020), 0);
    f.run_to(10 * ms);
    f.manager.update(quotes(99'900, 100'100), 50 * ms);
    CHECK(f.manager.counters().cancels_sent == 0);
    f.manager.update(quotes(99'900, 100'100), 99 * ms);
    CHECK(f.manager.counters().cancels_sent == 0);
    f.manager.update(quotes(99'900, 100'100), 100 * ms);
    CHECK(f.manager.counters().cancels_sent == 2);
    f.run_to(110 * ms);
    CHECK(f.manager.order(side::buy, 0).price == price{99'900});
    CHECK(f.manager.order(side::sell, 0).price == price{100'100});

    // An empty slot is also refilled no sooner than refresh_ms after its last order.
    f.manager.update(desired_quotes{}, 120 * ms); // pull both quotes
    f.run_to(130 * ms);
    CHECK(f.manager.open_orders() == 0);
    f.manager.update(quotes(99'900, 100'100), 150 * ms); // last order sent at 101.5 ms
    CHECK(f.manager.open_orders() == 0);
    f.manager.update(quotes(99'900, 100'100), 202 * ms);
    CHECK(f.manager.open_orders() == 2);
}

TEST_CASE("orders older than max_order_age_ms are refreshed", "[quote_manager]") {
    auto config = test_manager_config();
    config.max_order_age_ms = 1000;
    manager_fixture f(config);
    f.manager.update(quotes(99'980, 100'020), 0);
    f.run_to(10 * ms);
    f.manager.update(quotes(99'980, 100'020), 999 * ms);
    CHECK(f.manager.counters().cancels_sent == 0);
    f.manager.update(quotes(99'980, 100'020), 1000 * ms);
    CHECK(f.manager.counters().cancels_sent == 2);
    f.run_to(1010 * ms);
    const auto& counters = f.manager.counters();
    CHECK(counters.cancelled == 2);
    CHECK(counters.orders_sent == 4);
    CHECK(f.manager.order(side::buy, 0).sent_ts == 1001 * ms + 500 * us);
    CHECK(f.manager.order(side::buy, 0).status == order_status::acked);
}

TEST_CASE("a size change beyond size_tolerance_pct replaces the order", "[quote_manager]") {
    manager_fixture f;
    f.manager.update(quotes(99'980, 100'020, 20), 0);
    f.run_to(10 * ms);
    f.manager.update(quotes(99'980, 100'020, 25), 200 * ms); // 25 %: kept
    CHECK(f.manager.counters().cancels_sent == 0);
    f.manager.update(quotes(99'980, 100'020, 26), 300 * ms); // 30 %: replaced
    CHECK(f.manager.counters().cancels_sent == 2);
    f.run_to(310 * ms);
    CHECK(f.manager.order(side::buy, 0).qty == qty{26});
}

TEST_CASE("the tolerances follow each order's own price and size", "[quote_manager]") {
    manager_fixture f;
    f.manager.update(quotes(99'980, 100'020, 20), 0);
    f.run_to(10 * ms);
    f.manager.update(quotes(99'960, 100'020, 40), 200 * ms); // both beyond: the bid replaced
    f.run_to(210 * ms);
    const working_order& bid = f.manager.order(side::buy, 0);
    REQUIRE(bid.price == price{99'960});
    REQUIRE(bid.qty == qty{40});
    CHECK(f.manager.counters().cancels_sent == 2); // and the ask, for its size

    // Kept: 9 ticks and 10 lots (25 %) from the new bid, though beyond the old one's.
    f.manager.update(quotes(99'951, 100'020, 50), 400 * ms);
    CHECK(f.manager.counters().cancels_sent == 2);
    f.manager.update(quotes(99'949, 100'020, 50), 500 * ms); // 11 ticks: replaced
    CHECK(f.manager.counters().cancels_sent == 3);
    f.run_to(510 * ms);
    REQUIRE(bid.price == price{99'949});

    // An order of the first size again: its own 25 % (5 lots) once more.
    f.manager.update(quotes(99'949, 100'020, 20), 700 * ms);
    f.run_to(710 * ms);
    REQUIRE(bid.qty == qty{20});
    const auto cancels = f.manager.counters().cancels_sent;
    f.manager.update(quotes(99'949, 100'020, 25), 900 * ms);
    CHECK(f.manager.counters().cancels_sent == cancels);
    f.manager.update(quotes(99'949, 100'020, 26), 1000 * ms);
    CHECK(f.manager.counters().cancels_sent == cancels + 2);
}

TEST_CASE("pulling a quote cancels at once, without the refresh throttle", "[quote_manager]") {
    manager_fixture f;
    f.manager.update(quotes(99'980, 100'020), 0);
    f.run_to(2 * ms);
    desired_quotes bid_only = quotes(99'980, 100'020);
    bid_only.asks[0].qty = qty{0};
    f.manager.update(bid_only, 3 * ms);
    CHECK(f.manager.counters().cancels_sent == 1);
    CHECK(f.manager.counters().replacements == 0);
    f.run_to(10 * ms);
    CHECK(f.manager.order(side::sell, 0).status == order_status::none);
    CHECK(f.manager.order(side::buy, 0).status == order_status::acked);
    CHECK(f.exchange.open_order_count() == 1);

    // Pulled while still in flight: cancelled once the ack shows it resting (or by the cancel
    // following it on the same connection).
    f.manager.update(quotes(99'980, 100'020), 200 * ms);
    f.manager.update(bid_only, 200 * ms + 100 * us);
    f.run_to(210 * ms);
    CHECK(f.manager.order(side::sell, 0).status == order_status::none);
    CHECK(f.exchange.open_order_count() == 1);
}

TEST_CASE("a post-only reject empties the slot; the re-quote waits for refresh_ms",
          "[quote_manager]") {
    manager_fixture f;
    // The bid at the best ask would take liquidity.
    f.manager.update(quotes(100'010, 100'030), 0);
    f.run_to(2 * ms);
    const auto& counters = f.manager.counters();
    CHECK(counters.rejects == 1);
    CHECK(counters.post_only_rejects == 1);
    CHECK(f.manager.order(side::buy, 0).status == order_status::none);
    CHECK(f.manager.order(side::sell, 0).status == order_status::acked);
    f.manager.update(quotes(99'990, 100'030), 50 * ms);
    CHECK(counters.orders_sent == 2);
    f.manager.update(quotes(99'990, 100'030), 100 * ms);
    CHECK(counters.orders_sent == 3);
    f.run_to(110 * ms);
    CHECK(f.manager.order(side::buy, 0).status == order_status::acked);
}

TEST_CASE("fills, partial fills and a fill racing a cancel are tracked", "[quote_manager]") {
    manager_fixture f;
    f.manager.update(quotes(99'980, 100'020, 10), 0);
    f.run_to(2 * ms);

    f.exchange.hit_order(0, side::buy, 0, qty{4}, 10 * ms);
    f.run_to(11 * ms);
    const working_order& bid = f.manager.order(side::buy, 0);
    CHECK(bid.status == order_status::partially_filled);
    CHECK(bid.cum_qty == qty{4});

    // Replace the bid; the rest of it trades before the cancel arrives.
    f.manager.update(quotes(99'950, 100'020, 10), 200 * ms);
    CHECK(bid.cancel_pending);
    f.exchange.hit_order(0, side::buy, 0, fill_all, 200 * ms + 500 * us);
    f.run_to(210 * ms);
    const auto& counters = f.manager.counters();
    CHECK(counters.fills == 2);
    CHECK(counters.orders_filled == 1);
    CHECK(counters.filled_lots == 10);
    CHECK(counters.fills_racing_cancel == 1);
    CHECK(counters.cancels_sent == 1);
    CHECK(counters.cancel_rejects == 1); // the cancel arrived too late
    CHECK(counters.cancelled == 0);
    CHECK(counters.stale_reports == 0);
    // The fill freed the slot; the next quote waits for an update made after the fill.
    CHECK(counters.orders_sent == 2);
    CHECK(f.manager.awaiting_update());
    f.manager.update(quotes(99'950, 100'020, 10), 220 * ms);
    f.run_to(230 * ms);
    CHECK(counters.orders_sent == 3);
    CHECK(bid.price == price{99'950});
    CHECK(bid.status == order_status::acked);
    CHECK(counters.cancel_to_trade_ratio() == Approx(0.5));
}

TEST_CASE("the kill switch cancels everything and halts until resumed", "[quote_manager]") {
    auto config = test_manager_config();
    config.levels = 2;
    manager_fixture f(config);
    desired_quotes two_levels = quotes(99'980, 100'020);
    two_levels.bids[1] = {price{99'970}, qty{5}};
    two_levels.asks[1] = {price{100'030}, qty{5}};
    f.manager.update(two_levels, 0);
    f.run_to(2 * ms);
    CHECK(f.exchange.open_order_count() == 4);

    f.manager.cancel_all(3 * ms);
    CHECK(f.manager.halted());
    f.manager.update(two_levels, 500 * ms);
    f.run_to(500 * ms);
    CHECK(f.exchange.open_order_count() == 0);
    CHECK(f.manager.open_orders() == 0);
    CHECK(f.manager.counters().cancelled == 4);
    CHECK(f.manager.counters().cancel_alls_sent == 1);
    CHECK(f.manager.counters().orders_sent == 4);

    f.manager.resume();
    f.manager.update(two_levels, 600 * ms);
    CHECK(f.manager.open_orders() == 4);
}

TEST_CASE("the kill switch also catches an order the cancel-all overtook", "[quote_manager]") {
    auto exchange_config = test_exchange_config();
    exchange_config.fifo_requests = false;
    exchange_config.cancel_latency = {latency_distribution::constant, 100 * us, 0};
    manager_fixture f(test_manager_config(), exchange_config);
    f.manager.update(quotes(99'980, 100'020), 0);
    f.manager.cancel_all(10 * us); // reaches the exchange at 110 us, before the orders (1 ms)
    f.run_to(50 * ms);
    CHECK(f.exchange.open_order_count() == 0);
    CHECK(f.manager.open_orders() == 0);
    CHECK(f.manager.counters().cancelled == 2);
}

namespace {

/// A gateway driven by the test: it records requests, refuses them on demand and sends no
/// report by itself (the test delivers them).
class scripted_gateway final : public order_gateway {
public:
    void set_report_sink(exec_report_sink* /*sink*/) noexcept override {}
    gateway_error submit(const order_request& request,
                         core::timestamp_ns /*now*/) noexcept override {
        submitted.push_back(request);
        return submit_error;
    }
    gateway_error cancel(std::uint32_t /*symbol*/, client_order_id id,
                         core::timestamp_ns now) noexcept override {
        cancel_times.push_back(now);
        cancelled_ids.push_back(id.value);
        return cancel_error;
    }
    gateway_error cancel_all(std::uint32_t /*symbol*/,
                             core::timestamp_ns /*now*/) noexcept override {
        ++cancel_alls;
        return cancel_all_error;
    }
    std::size_t poll(core::timestamp_ns /*now*/) noexcept override { return 0; }

    gateway_error submit_error = gateway_error::none;
    gateway_error cancel_error = gateway_error::none;
    gateway_error cancel_all_error = gateway_error::none;
    std::vector<order_request> submitted;
    std::vector<core::timestamp_ns> cancel_times;
    std::vector<std::uint64_t> cancelled_ids;
    int cancel_alls = 0;
};

exec_report report_for(const working_order& order, exec_kind kind, core::timestamp_ns at) {
    exec_report report;
    report.kind = kind;
    report.client_id = order.id;
    report.price = order.price;
    report.local_ts = at;
    return report;
}

/// The venue's ack of bid `id` (5 lots at 99,980) of an order the manager rejected earlier.
exec_report late_bid_ack(client_order_id id, core::timestamp_ns at) {
    exec_report report;
    report.kind = exec_kind::ack;
    report.client_id = id;
    report.side = side::buy;
    report.price = price{99'980};
    report.leaves_qty = qty{5};
    report.local_ts = at;
    return report;
}

/// Places the bid slot `count` times in turn, each placement ending "no such order" (its answer
/// lost, its window closed), a second apart from `t` on; returns their ids and moves t on.
std::vector<client_order_id> rejected_bids(quote_manager& manager, int count,
                                           core::timestamp_ns& t) {
    const working_order& bid = manager.order(side::buy, 0);
    std::vector<client_order_id> ids;
    for (int i = 0; i < count; ++i) {
        manager.update(quotes(99'980, 100'020), t);
        REQUIRE(bid.status == order_status::pending_new);
        ids.push_back(bid.id);
        exec_report rejected = report_for(bid, exec_kind::reject, t + 2 * ms);
        rejected.reason = reject_reason::unknown_order;
        manager.on_exec_report(rejected);
        REQUIRE(bid.status == order_status::none);
        t += 1'000 * ms;
    }
    return ids;
}

quote_manager_config retry_config() {
    quote_manager_config config = test_manager_config();
    config.cancel_retry_ms = 50;
    config.max_cancel_attempts = 4;
    return config;
}

/// Quotes both sides (99,980 / 100,020) and acknowledges both at 1 ms.
void quote_and_ack(quote_manager& manager) {
    manager.update(quotes(99'980, 100'020), 0);
    manager.on_exec_report(report_for(manager.order(side::buy, 0), exec_kind::ack, 1 * ms));
    manager.on_exec_report(report_for(manager.order(side::sell, 0), exec_kind::ack, 1 * ms));
}

} // namespace

TEST_CASE("while halted, refused cancels and cancel rejects are retried, paced, until every order "
          "is confirmed gone",
          "[quote_manager]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    manager.update(quotes(99'980, 100'020), 0);
    REQUIRE(gateway.submitted.size() == 2);
    manager.on_exec_report(report_for(manager.order(side::buy, 0), exec_kind::ack, 1 * ms));
    manager.on_exec_report(report_for(manager.order(side::sell, 0), exec_kind::ack, 1 * ms));

    // The gateway refuses the cancel-all and the cancels it falls back to.
    gateway.cancel_error = gateway_error::disconnected;
    gateway.cancel_all_error = gateway_error::disconnected;
    manager.cancel_all(10 * ms);
    CHECK(gateway.cancel_times.size() == 2);
    CHECK_FALSE(manager.order(side::buy, 0).cancel_pending);
    // Paced: nothing before cancel_retry_ms, whatever the call rate.
    for (core::timestamp_ns t = 11 * ms; t < 60 * ms; t += 1 * ms) {
        CHECK(manager.retry_cancels(t) == 0);
    }
    CHECK(gateway.cancel_times.size() == 2);
    // Updates while halted send nothing either.
    manager.update(quotes(99'980, 100'020), 55 * ms);
    CHECK(gateway.cancel_times.size() == 2);

    // The gateway is back: both orders are cancelled again.
    gateway.cancel_error = gateway_error::none;
    CHECK(manager.retry_cancels(60 * ms) == 0);
    REQUIRE(gateway.cancel_times.size() == 4);
    CHECK(manager.order(side::buy, 0).cancel_pending);
    CHECK(manager.counters().cancel_retries == 2);

    // The venue refuses the bid's cancel and confirms the ask's.
    manager.on_exec_report(
        report_for(manager.order(side::buy, 0), exec_kind::cancel_reject, 62 * ms));
    manager.on_exec_report(report_for(manager.order(side::sell, 0), exec_kind::cancelled, 62 * ms));
    CHECK(manager.open_orders() == 1);
    CHECK(manager.retry_cancels(100 * ms) == 0); // 40 ms after the last attempt: paced
    CHECK(gateway.cancel_times.size() == 4);
    CHECK(manager.retry_cancels(110 * ms) == 0);
    REQUIRE(gateway.cancel_times.size() == 5);
    CHECK(gateway.cancelled_ids.back() == manager.order(side::buy, 0).id.value);
    manager.on_exec_report(report_for(manager.order(side::buy, 0), exec_kind::cancelled, 112 * ms));
    CHECK(manager.open_orders() == 0);
    // Nothing left to cancel, nothing sent.
    CHECK(manager.retry_cancels(500 * ms) == 0);
    CHECK(gateway.cancel_times.size() == 5);
    CHECK(manager.counters().cancel_give_ups == 0);
}

TEST_CASE("a kill's cancel-all the gateway could not take is sent again until it is taken",
          "[quote_manager]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway); // cancel_retry_ms 50
    quote_and_ack(manager);

    // The gateway's queue is full: neither the cancel-all nor the cancels leave the process.
    gateway.cancel_all_error = gateway_error::queue_full;
    gateway.cancel_error = gateway_error::queue_full;
    manager.cancel_all(10 * ms);
    CHECK(gateway.cancel_alls == 1);
    CHECK(manager.retry_cancels(59 * ms) == 0); // paced
    CHECK(gateway.cancel_alls == 1);
    CHECK(manager.retry_cancels(60 * ms) == 0);
    CHECK(gateway.cancel_alls == 2);
    CHECK(manager.counters().cancel_alls_sent == 0);

    // Room again: the next attempt is taken, and no more follow.
    gateway.cancel_all_error = gateway_error::none;
    gateway.cancel_error = gateway_error::none;
    CHECK(manager.retry_cancels(110 * ms) == 0);
    CHECK(gateway.cancel_alls == 3);
    CHECK(manager.counters().cancel_alls_sent == 1);
    for (core::timestamp_ns t = 111 * ms; t < 2'000 * ms; t += 10 * ms) {
        (void)manager.retry_cancels(t);
    }
    CHECK(gateway.cancel_alls == 3);
}

TEST_CASE("a cancel-all the gateway took while disconnected, or one a resume made unwanted, is not "
          "sent again",
          "[quote_manager]") {
    const auto kill = [](scripted_gateway& gateway, quote_manager& manager, gateway_error answer) {
        quote_and_ack(manager);
        gateway.cancel_all_error = answer;
        manager.cancel_all(10 * ms);
    };
    {
        // Held by the gateway until the connection is back: it confirms the kill itself.
        scripted_gateway gateway;
        quote_manager manager(retry_config(), gateway);
        kill(gateway, manager, gateway_error::disconnected);
        for (core::timestamp_ns t = 11 * ms; t < 2'000 * ms; t += 10 * ms) {
            (void)manager.retry_cancels(t);
        }
        CHECK(gateway.cancel_alls == 1);
    }
    {
        scripted_gateway gateway;
        quote_manager manager(retry_config(), gateway);
        kill(gateway, manager, gateway_error::queue_full);
        manager.resume();
        for (core::timestamp_ns t = 11 * ms; t < 2'000 * ms; t += 10 * ms) {
            (void)manager.retry_cancels(t);
        }
        CHECK(gateway.cancel_alls == 1);
    }
}

TEST_CASE("a cancel without answer is sent again after cancel_retry_ms", "[quote_manager]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    quote_and_ack(manager);
    manager.cancel_all(10 * ms);
    CHECK(gateway.cancel_alls == 1);
    CHECK(gateway.cancel_times.empty());
    CHECK(manager.retry_cancels(59 * ms) == 0);
    CHECK(gateway.cancel_times.empty());
    // The cancel-all's confirmations never came: each order is cancelled by id.
    CHECK(manager.retry_cancels(60 * ms) == 0);
    CHECK(gateway.cancel_times.size() == 2);
}

TEST_CASE("cancel retries of a pulled quote are bounded: the manager gives up once and says so",
          "[quote_manager]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway); // 4 attempts, 50 ms apart
    quote_and_ack(manager);
    gateway.cancel_error = gateway_error::disconnected;
    // The bid is pulled: its order must go, and every cancel of it fails.
    desired_quotes ask_only = quotes(99'980, 100'020);
    ask_only.bids[0] = {};
    const std::size_t before = gateway.cancel_times.size();
    manager.update(ask_only, 10 * ms);
    std::size_t gave_up = 0;
    for (core::timestamp_ns t = 10 * ms; t <= 2'000 * ms; t += 5 * ms) {
        gave_up += manager.retry_cancels(t);
    }
    CHECK(gave_up == 1);
    CHECK(manager.counters().cancel_give_ups == 1);
    CHECK(gateway.cancel_times.size() == before + 4); // 4 attempts, no more
    CHECK(manager.abandoned_orders() == 1);
    CHECK(manager.open_orders() == 2); // still possibly on the venue: still tracked
    // A kill gets a new budget.
    manager.cancel_all(3'000 * ms);
    CHECK(manager.abandoned_orders() == 0);
}

TEST_CASE("a kill never stops cancelling: past the budget it says so once and goes on, less "
          "often, until the venue takes the cancels",
          "[quote_manager]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway); // 4 attempts, 50 ms apart
    quote_and_ack(manager);
    // The connection is down: the cancel-all and every cancel fail.
    gateway.cancel_error = gateway_error::disconnected;
    gateway.cancel_all_error = gateway_error::disconnected;
    manager.cancel_all(10 * ms);
    std::size_t gave_up = 0;
    for (core::timestamp_ns t = 10 * ms; t <= 2'000 * ms; t += 5 * ms) {
        gave_up += manager.retry_cancels(t);
    }
    // Said once per order when the budget ran out (the owner raises the alarm)...
    CHECK(gave_up == 2);
    CHECK(manager.counters().cancel_give_ups == 2);
    CHECK(manager.abandoned_orders() == 2);
    // ...and still cancelling: 4 attempts each, then one every 8 x 50 ms.
    const std::size_t sent = gateway.cancel_times.size();
    CHECK(sent > 8);
    CHECK(sent < 30);
    // The connection is back: the next cancels go out and the venue confirms them.
    gateway.cancel_error = gateway_error::none;
    for (core::timestamp_ns t = 2'000 * ms; t <= 2'500 * ms; t += 5 * ms) {
        gave_up += manager.retry_cancels(t);
    }
    REQUIRE(manager.order(side::buy, 0).cancel_pending);
    REQUIRE(manager.order(side::sell, 0).cancel_pending);
    manager.on_exec_report(
        report_for(manager.order(side::buy, 0), exec_kind::cancelled, 2'501 * ms));
    manager.on_exec_report(
        report_for(manager.order(side::sell, 0), exec_kind::cancelled, 2'501 * ms));
    CHECK(manager.open_orders() == 0);
    CHECK(gave_up == 2);
}

TEST_CASE("a cancel the gateway's limiter held back is retried without spending the budget",
          "[quote_manager]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway); // 4 attempts, 50 ms apart
    quote_and_ack(manager);
    manager.cancel_all(10 * ms);
    const auto answer_every_cancel = [&](exec_kind kind, reject_reason reason,
                                         core::timestamp_ns at) {
        for (const side s : {side::buy, side::sell}) {
            const working_order& order = manager.order(s, 0);
            if (order.cancel_pending) {
                exec_report report = report_for(order, kind, at);
                report.reason = reason;
                manager.on_exec_report(report);
            }
        }
    };
    // Ten rounds held back by the limiter: never sent, so no attempt is used up.
    std::size_t gave_up = 0;
    core::timestamp_ns t = 10 * ms;
    for (int round = 0; round < 10; ++round, t += 50 * ms) {
        answer_every_cancel(exec_kind::cancel_reject, reject_reason::held_back, t + 1 * ms);
        gave_up += manager.retry_cancels(t + 50 * ms);
    }
    CHECK(gave_up == 0);
    CHECK(manager.abandoned_orders() == 0);
    // The venue itself refusing them: the budget of four runs out.
    for (int round = 0; round < 10; ++round, t += 50 * ms) {
        answer_every_cancel(exec_kind::cancel_reject, reject_reason::none, t + 1 * ms);
        gave_up += manager.retry_cancels(t + 50 * ms);
    }
    CHECK(gave_up == 2);
    CHECK(manager.abandoned_orders() == 2);
}

TEST_CASE("a pulled quote whose cancel is rejected is cancelled again without an update",
          "[quote_manager]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    manager.update(quotes(99'980, 100'020), 0);
    manager.on_exec_report(report_for(manager.order(side::buy, 0), exec_kind::ack, 1 * ms));
    desired_quotes ask_only = quotes(99'980, 100'020);
    ask_only.bids[0] = {};
    manager.update(ask_only, 10 * ms);
    REQUIRE(gateway.cancel_times.size() == 1);
    manager.on_exec_report(
        report_for(manager.order(side::buy, 0), exec_kind::cancel_reject, 11 * ms));
    CHECK(manager.retry_cancels(30 * ms) == 0);
    CHECK(gateway.cancel_times.size() == 1);
    CHECK(manager.retry_cancels(60 * ms) == 0);
    CHECK(gateway.cancel_times.size() == 2);
}

TEST_CASE("after a fill nothing is placed from the pre-fill quotes; the next update is",
          "[quote_manager]") {
    auto config = test_manager_config();
    config.levels = 2;
    scripted_gateway gateway;
    quote_manager manager(config, gateway);
    desired_quotes two_levels = quotes(99'980, 100'020, 10);
    two_levels.bids[1] = {price{99'970}, qty{10}};
    two_levels.asks[1] = {price{100'030}, qty{10}};
    manager.update(two_levels, 0);
    REQUIRE(gateway.submitted.size() == 4);
    for (const side s : {side::buy, side::sell}) {
        for (std::size_t level = 0; level < 2; ++level) {
            manager.on_exec_report(report_for(manager.order(s, level), exec_kind::ack, 1 * ms));
        }
    }
    // The level-1 bid is being moved: its cancel is in flight.
    desired_quotes moved = two_levels;
    moved.bids[1] = {price{99'900}, qty{10}};
    manager.update(moved, 200 * ms);
    REQUIRE(manager.order(side::buy, 1).cancel_pending);

    // The level-0 bid fills completely (+10 lots), then the level-1 cancel confirms.
    exec_report fill = report_for(manager.order(side::buy, 0), exec_kind::fill, 201 * ms);
    fill.fill_qty = qty{10};
    fill.cum_qty = qty{10};
    manager.on_exec_report(fill);
    manager.on_exec_report(report_for(manager.order(side::buy, 1), exec_kind::cancelled, 202 * ms));
    // Neither slot is refilled from quotes computed for the flat position.
    CHECK(gateway.submitted.size() == 4);
    CHECK(manager.awaiting_update());
    CHECK(manager.order(side::buy, 0).status == order_status::none);
    CHECK(manager.order(side::buy, 1).status == order_status::none);

    // The owner requotes for +10 lots: smaller, lower bids.
    desired_quotes long_ten = two_levels;
    long_ten.bids[0] = {price{99'960}, qty{4}};
    long_ten.bids[1] = {price{99'950}, qty{4}};
    manager.update(long_ten, 310 * ms);
    CHECK_FALSE(manager.awaiting_update());
    REQUIRE(gateway.submitted.size() == 6);
    CHECK(manager.order(side::buy, 0).price == price{99'960});
    CHECK(manager.order(side::buy, 0).qty == qty{4});
    CHECK(manager.order(side::buy, 1).price == price{99'950});
    CHECK(manager.order(side::buy, 1).qty == qty{4});
}

TEST_CASE("a slot its order left is quoted again by the next update, even for the same quote",
          "[quote_manager]") {
    // The acked order's kept gaps would keep this very quote: an empty slot must not.
    for (const exec_kind end : {exec_kind::fill, exec_kind::cancelled, exec_kind::reject}) {
        CAPTURE(end);
        scripted_gateway gateway;
        quote_manager manager(test_manager_config(), gateway);
        const desired_quotes wanted = quotes(99'980, 100'020, 10);
        manager.update(wanted, 0);
        REQUIRE(gateway.submitted.size() == 2);
        manager.on_exec_report(report_for(manager.order(side::buy, 0), exec_kind::ack, 1 * ms));
        manager.update(wanted, 50 * ms);
        REQUIRE(gateway.submitted.size() == 2); // kept

        exec_report report = report_for(manager.order(side::buy, 0), end, 60 * ms);
        report.fill_qty = qty{10};
        report.cum_qty = qty{10};
        manager.on_exec_report(report);
        REQUIRE(manager.order(side::buy, 0).status == order_status::none);
        manager.update(wanted, 200 * ms);
        REQUIRE(gateway.submitted.size() == 3);
        CHECK(gateway.submitted.back().side == side::buy);
        CHECK(manager.order(side::buy, 0).price == price{99'980});
        CHECK(manager.order(side::buy, 0).status == order_status::pending_new);
    }
}

TEST_CASE("reports of other symbols or other managers are ignored", "[quote_manager]") {
    manager_fixture f;
    f.manager.update(quotes(99'980, 100'020), 0);
    exec_report foreign;
    foreign.kind = exec_kind::fill;
    foreign.client_id = f.manager.order(side::buy, 0).id;
    foreign.symbol = 3;
    f.manager.on_exec_report(foreign);
    foreign.symbol = 0;
    foreign.client_id = client_order_id{f.manager.order(side::buy, 0).id.value ^ (1ULL << 60U)};
    f.manager.on_exec_report(foreign);
    CHECK(f.manager.counters().fills == 0);
    CHECK(f.manager.counters().stale_reports == 0);
    CHECK(f.manager.order(side::buy, 0).status == order_status::pending_new);
}

namespace {

/// Sits between the manager and the exchange and checks, at every order sent, that no other
/// order of the same side and level is still live from the client's point of view (sent and
/// not yet reported done, in flight included).
class invariant_gateway final : public order_gateway, public exec_report_sink {
public:
    explicit invariant_gateway(sim_exchange& exchange) : exchange_(exchange) {
        exchange_.set_report_sink(this);
    }
    void set_report_sink(exec_report_sink* sink) noexcept override { sink_ = sink; }

    gateway_error submit(const order_request& request, core::timestamp_ns now) noexcept override {
        for (const auto& [id, slot] : live_) {
            if (slot == std::pair{request.side, request.level}) {
                ++violations;
            }
        }
        const gateway_error error = exchange_.submit(request, now);
        if (error == gateway_error::none) {
            live_[request.id.value] = {request.side, request.level};
            ++submitted;
        }
        return error;
    }
    gateway_error cancel(std::uint32_t symbol, client_order_id id,
                         core::timestamp_ns now) noexcept override {
        return exchange_.cancel(symbol, id, now);
    }
    gateway_error cancel_all(std::uint32_t symbol, core::timestamp_ns now) noexcept override {
        return exchange_.cancel_all(symbol, now);
    }
    std::size_t poll(core::timestamp_ns now) noexcept override { return exchange_.poll(now); }

    void on_exec_report(const exec_report& report) noexcept override {
        ++kinds[report.kind];
        filled_lots += report.fill_qty.lots();
        if (report.is_terminal()) {
            live_.erase(report.client_id.value);
        }
        if (sink_ != nullptr) {
            sink_->on_exec_report(report);
        }
    }

    [[nodiscard]] std::size_t live() const { return live_.size(); }

    std::size_t violations = 0;
    std::size_t submitted = 0;
    std::int64_t filled_lots = 0;
    std::map<exec_kind, std::uint64_t> kinds;

private:
    sim_exchange& exchange_;
    exec_report_sink* sink_ = nullptr;
    std::unordered_map<std::uint64_t, std::pair<side, std::uint8_t>> live_;
};

} // namespace

TEST_CASE("property: never two live orders for one side and level, under random quotes and "
          "random exchange behaviour",
          "[quote_manager][property]") {
    constexpr int sessions = 150;
    constexpr int steps = 2000;
    std::uint64_t total_fills = 0;
    std::uint64_t total_races = 0;
    std::uint64_t total_cancel_rejects = 0;
    for (int session = 0; session < sessions; ++session) {
        std::mt19937_64 rng(1000 + static_cast<std::uint64_t>(session));
        const auto pick = [&](std::int64_t n) { return static_cast<std::int64_t>(rng() % n); };

        sim_exchange_config exchange_config;
        exchange_config.seed = rng();
        exchange_config.order_entry_latency = {latency_distribution::exponential, pick(500) * us,
                                               pick(3000) * us};
        exchange_config.cancel_latency = {latency_distribution::uniform, pick(500) * us,
                                          pick(3000) * us};
        exchange_config.market_data_latency = {latency_distribution::exponential, pick(300) * us,
                                               pick(2000) * us};
        exchange_config.fifo_requests = pick(2) == 0;
        exchange_config.cross_fill = static_cast<cross_fill_rule>(pick(3));
        sim_exchange exchange(exchange_config);
        invariant_gateway gateway(exchange);

        quote_manager_config config;
        config.levels = static_cast<std::uint8_t>(1 + pick(3));
        config.refresh_ms = std::array<std::int64_t, 4>{0, 1, 5, 50}[pick(4)];
        config.max_order_age_ms = std::array<std::int64_t, 3>{0, 20, 200}[pick(3)];
        config.refresh_tolerance_bps = std::array<double, 3>{0.0, 1.0, 5.0}[pick(3)];
        config.size_tolerance_pct = std::array<double, 2>{0.0, 50.0}[pick(2)];
        quote_manager manager(config, gateway);
        gateway.set_report_sink(&manager);

        core::timestamp_ns t = 0;
        std::int64_t mid = 100'000;
        bool killed = false;
        for (int step = 0; step < steps; ++step) {
            t += pick(4000) * us;
            mid += pick(41) - 20;
            const std::int64_t half_spread = 1 + pick(10);
            exchange.on_top_of_book(
                0, {price{mid - half_spread}, qty{0}, price{mid + half_spread}, qty{0}}, t);

            desired_quotes desired;
            const std::int64_t quote_half = pick(20) - 2; // sometimes crossing: post-only rejects
            for (std::size_t level = 0; level < config.levels; ++level) {
                const auto offset = static_cast<std::int64_t>(level) * 5;
                if (pick(10) != 0) {
                    desired.bids[level] = {price{mid - quote_half - offset}, qty{1 + pick(5)}};
                }
                if (pick(10) != 0) {
                    desired.asks[level] = {price{mid + quote_half + offset}, qty{1 + pick(5)}};
                }
            }
            manager.update(desired, t);

            switch (pick(6)) {
            case 0:
                exchange.on_market_order(0, side::sell, qty{1 + pick(6)}, t);
                break;
            case 1:
                exchange.on_market_order(0, side::buy, fill_all, t);
                break;
            case 2:
                exchange.hit_order(0, pick(2) == 0 ? side::buy : side::sell,
                                   static_cast<std::uint8_t>(pick(config.levels)), qty{1 + pick(3)},
                                   t);
                break;
            default:
                break;
            }
            if (!killed && pick(300) == 0) {
                manager.cancel_all(t);
                killed = true;
            } else if (killed && pick(50) == 0) {
                manager.resume();
                killed = false;
            }

            // The exchange never rests two orders of one slot, and every resting order is the
            // one the manager tracks for its slot.
            int untracked = 0;
            for (const side s : {side::buy, side::sell}) {
                std::array<int, max_quote_levels> per_level{};
                exchange.for_each_open_order(0, s, [&](const sim_order& order) {
                    ++per_level[order.request.level];
                    untracked += manager.order(s, order.request.level).id != order.request.id;
                });
                for (const int count : per_level) {
                    REQUIRE(count <= 1);
                }
            }
            REQUIRE(untracked == 0);
            REQUIRE(gateway.violations == 0);
        }

        // Drain: pull everything and let all reports arrive.
        manager.resume();
        manager.update(desired_quotes{}, t + 1000 * ms);
        exchange.advance_to(t + 10'000 * ms);
        manager.update(desired_quotes{}, t + 11'000 * ms);
        exchange.advance_to(t + 20'000 * ms);
        REQUIRE(gateway.violations == 0);
        CHECK(exchange.open_order_count() == 0);
        CHECK(manager.open_orders() == 0);
        CHECK(gateway.live() == 0);

        // Counters agree with what the exchange reported.
        const quote_counters& c = manager.counters();
        auto& kinds = gateway.kinds;
        CHECK(c.orders_sent == gateway.submitted);
        CHECK(c.acks == kinds[exec_kind::ack]);
        CHECK(c.rejects == kinds[exec_kind::reject]);
        CHECK(c.fills == kinds[exec_kind::partial_fill] + kinds[exec_kind::fill]);
        CHECK(c.orders_filled == kinds[exec_kind::fill]);
        CHECK(c.cancelled == kinds[exec_kind::cancelled]);
        CHECK(c.cancel_rejects == kinds[exec_kind::cancel_reject]);
        CHECK(c.orders_sent == c.acks + c.rejects);
        CHECK(c.orders_sent == c.orders_filled + c.cancelled + c.rejects);
        CHECK(c.stale_reports == 0);
        CHECK(c.filled_lots == gateway.filled_lots);
        total_fills += c.fills;
        total_races += c.fills_racing_cancel;
        total_cancel_rejects += c.cancel_rejects;
    }
    // The sessions exercised the interesting paths.
    CHECK(total_fills > 1000);
    CHECK(total_races > 10);
    CHECK(total_cancel_rejects > 10);
}

namespace {

exec_report fill_for(const working_order& order, exec_kind kind, std::int64_t lots,
                     std::int64_t cum, std::int64_t trade_id, core::timestamp_ns at) {
    exec_report report = report_for(order, kind, at);
    report.fill_qty = qty{lots};
    report.cum_qty = qty{cum};
    report.leaves_qty = order.qty - qty{cum};
    report.trade_id = trade_id;
    return report;
}

} // namespace

TEST_CASE("an unknown order keeps its slot, is never sent again and may be cancelled",
          "[quote_manager][unknown]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    manager.update(quotes(99'980, 100'020), 0);
    REQUIRE(gateway.submitted.size() == 2);
    const working_order& bid = manager.order(side::buy, 0);
    const client_order_id first = bid.id;
    manager.on_exec_report(report_for(bid, exec_kind::unknown, 5 * ms));
    CHECK(bid.status == order_status::unknown);
    CHECK(bid.id == first);
    CHECK(manager.counters().unknowns == 1);
    CHECK(manager.open_orders() == 2); // counts as working: it may rest

    // Same quotes long after refresh_ms: nothing is sent again for the unknown order.
    manager.update(quotes(99'980, 100'020), 500 * ms);
    CHECK(gateway.submitted.size() == 2);
    CHECK(manager.retry_cancels(600 * ms) == 0);
    CHECK(gateway.cancel_times.empty());

    // A move cancels it (cancel of an unknown order is allowed), and places nothing meanwhile.
    manager.update(quotes(99'900, 100'020), 700 * ms);
    REQUIRE(gateway.cancelled_ids.size() == 1);
    CHECK(gateway.cancelled_ids[0] == first.value);
    CHECK(gateway.submitted.size() == 2);
    CHECK(bid.status == order_status::unknown);

    // The venue never had it: the query resolves it as a reject; the slot is free again and
    // the replacement goes out under a new id.
    exec_report never_rested = report_for(bid, exec_kind::reject, 710 * ms);
    never_rested.reason = reject_reason::unknown_order;
    manager.on_exec_report(never_rested);
    CHECK(bid.status == order_status::none);
    manager.update(quotes(99'900, 100'020), 900 * ms);
    REQUIRE(gateway.submitted.size() == 3);
    CHECK(gateway.submitted[2].id != first);
    CHECK(gateway.submitted[2].price == price{99'900});
}

TEST_CASE("an unknown order is resolved by a later ack or fill", "[quote_manager][unknown]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    manager.update(quotes(99'980, 100'020), 0);
    const working_order& bid = manager.order(side::buy, 0);
    const working_order& ask = manager.order(side::sell, 0);
    manager.on_exec_report(report_for(bid, exec_kind::unknown, 5 * ms));
    manager.on_exec_report(report_for(ask, exec_kind::unknown, 5 * ms));
    manager.on_exec_report(report_for(bid, exec_kind::ack, 8 * ms));
    CHECK(bid.status == order_status::acked);
    manager.on_exec_report(fill_for(ask, exec_kind::partial_fill, 2, 2, 7, 9 * ms));
    CHECK(ask.status == order_status::partially_filled);
    CHECK(ask.cum_qty == qty{2});
    // An unknown about an order known to rest changes nothing.
    manager.on_exec_report(report_for(bid, exec_kind::unknown, 10 * ms));
    CHECK(bid.status == order_status::acked);
    CHECK(manager.counters().unknowns == 2);
}

TEST_CASE("a fill may arrive before the ack", "[quote_manager][unknown]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    manager.update(quotes(99'980, 100'020), 0);
    const working_order& bid = manager.order(side::buy, 0);
    const client_order_id id = bid.id;
    manager.on_exec_report(fill_for(bid, exec_kind::partial_fill, 2, 2, 1, 3 * ms));
    CHECK(bid.status == order_status::partially_filled);
    manager.on_exec_report(report_for(bid, exec_kind::ack, 4 * ms));
    CHECK(bid.status == order_status::partially_filled); // the late ack does not go back
    manager.on_exec_report(fill_for(bid, exec_kind::fill, 3, 5, 2, 5 * ms));
    CHECK(bid.status == order_status::none);
    CHECK(manager.counters().orders_filled == 1);
    CHECK(manager.counters().filled_lots == 5);
    // An ack after the last fill (no gateway reports one: it acks before an order's end) is
    // not a new order of the slot; the order is cancelled as one nothing manages, a no-op on a
    // filled order.
    exec_report late = report_for(bid, exec_kind::ack, 6 * ms);
    late.client_id = id;
    const std::size_t cancels = gateway.cancel_times.size();
    manager.on_exec_report(late);
    CHECK(bid.status == order_status::none);
    CHECK(manager.counters().orphans_cancelled == 1);
    CHECK(gateway.cancel_times.size() == cancels + 1);
}

TEST_CASE("an order the venue took after it was rejected is cancelled when its ack comes",
          "[quote_manager][unknown]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    manager.update(quotes(99'980, 100'020), 0);
    const working_order& bid = manager.order(side::buy, 0);
    const client_order_id id = bid.id;
    // Unknown outcome, then "no such order" once its window closed: rejected.
    exec_report rejected = report_for(bid, exec_kind::reject, 2 * ms);
    rejected.reason = reject_reason::unknown_order;
    manager.on_exec_report(rejected);
    REQUIRE(bid.status == order_status::none);
    const std::size_t cancels = gateway.cancel_times.size();
    // The venue took it after all: its ack is an orphan's, and the order must go.
    exec_report late = report_for(bid, exec_kind::ack, 3 * ms);
    late.client_id = id;
    manager.on_exec_report(late);
    REQUIRE(gateway.cancel_times.size() == cancels + 1);
    CHECK(gateway.cancelled_ids.back() == id.value);
    CHECK(manager.counters().orphans_cancelled == 1);
    CHECK(manager.counters().stale_reports == 0);
    // Its cancel held back: sent again after cancel_retry_ms (50), not before.
    exec_report held = late;
    held.kind = exec_kind::cancel_reject;
    held.reason = reject_reason::held_back;
    manager.on_exec_report(held);
    CHECK(manager.retry_cancels(40 * ms) == 0);
    CHECK(gateway.cancel_times.size() == cancels + 1);
    CHECK(manager.retry_cancels(60 * ms) == 0);
    REQUIRE(gateway.cancel_times.size() == cancels + 2);
    CHECK(gateway.cancelled_ids.back() == id.value);
    // Confirmed cancelled: nothing more is sent for it.
    exec_report cancelled = late;
    cancelled.kind = exec_kind::cancelled;
    manager.on_exec_report(cancelled);
    CHECK(manager.retry_cancels(500 * ms) == 0);
    CHECK(gateway.cancel_times.size() == cancels + 2);
    CHECK(manager.counters().stale_reports == 0);
}

TEST_CASE("an order the venue took late is cancelled even after later orders of its slot were "
          "rejected too",
          "[quote_manager][unknown]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    const working_order& bid = manager.order(side::buy, 0);
    // Two placements of the bid slot in turn end "no such order" (both answers lost, both
    // windows closed); a post-only refusal in between is final and must not push them out.
    std::vector<client_order_id> rejected_ids;
    core::timestamp_ns t = 0;
    for (const auto reason : {reject_reason::unknown_order, reject_reason::post_only_would_cross,
                              reject_reason::unknown_order}) {
        manager.update(quotes(99'980, 100'020), t);
        REQUIRE(bid.status == order_status::pending_new);
        rejected_ids.push_back(bid.id);
        exec_report rejected = report_for(bid, exec_kind::reject, t + 2 * ms);
        rejected.reason = reason;
        manager.on_exec_report(rejected);
        REQUIRE(bid.status == order_status::none);
        t += 1'000 * ms;
    }
    REQUIRE(rejected_ids[0] != rejected_ids[2]);
    // The venue took the first after all: an orphan, though the slot moved on since.
    const std::size_t cancels = gateway.cancel_times.size();
    manager.on_exec_report(late_bid_ack(rejected_ids[0], t));
    REQUIRE(gateway.cancel_times.size() == cancels + 1);
    CHECK(gateway.cancelled_ids.back() == rejected_ids[0].value);
    CHECK(manager.counters().orphans_cancelled == 1);
    CHECK(manager.counters().stale_reports == 0);
}

TEST_CASE("an order the venue took late is cancelled however many rejects came after it",
          "[quote_manager][unknown]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    core::timestamp_ns t = 0;
    // 40 placements of the bid slot end "no such order" in turn; a reconciliation finds the
    // first on the venue long after.
    const client_order_id first = rejected_bids(manager, 40, t).front();
    const std::size_t cancels = gateway.cancel_times.size();
    manager.on_exec_report(late_bid_ack(first, t));
    REQUIRE(gateway.cancel_times.size() == cancels + 1);
    CHECK(gateway.cancelled_ids.back() == first.value);
    CHECK(manager.counters().orphans_cancelled == 1);
}

TEST_CASE("every order the venue took late is cancelled until it is gone, however many",
          "[quote_manager][unknown]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    core::timestamp_ns t = 0;
    // 40 placements end "no such order"; a reconciliation then finds all 40 resting.
    const std::vector<client_order_id> taken = rejected_bids(manager, 40, t);
    for (const client_order_id id : taken) {
        manager.on_exec_report(late_bid_ack(id, t));
    }
    CHECK(manager.counters().orphans_cancelled == taken.size());
    const auto cancels_of = [&](client_order_id id) {
        return std::count(gateway.cancelled_ids.begin(), gateway.cancelled_ids.end(), id.value);
    };
    // Every first cancel is lost: each goes again after cancel_retry_ms (50).
    (void)manager.retry_cancels(t + 60 * ms);
    for (const client_order_id id : taken) {
        CHECK(cancels_of(id) == 2);
    }
    // The venue confirms all but the last; only that one is cancelled again.
    for (std::size_t i = 0; i + 1 < taken.size(); ++i) {
        exec_report cancelled = late_bid_ack(taken[i], t + 70 * ms);
        cancelled.kind = exec_kind::cancelled;
        manager.on_exec_report(cancelled);
    }
    const std::size_t cancels = gateway.cancel_times.size();
    (void)manager.retry_cancels(t + 200 * ms);
    REQUIRE(gateway.cancel_times.size() == cancels + 1);
    CHECK(gateway.cancelled_ids.back() == taken.back().value);
}

TEST_CASE("a fill reported twice with the same trade id counts once", "[quote_manager][unknown]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    manager.update(quotes(99'980, 100'020), 0);
    const working_order& bid = manager.order(side::buy, 0);
    const client_order_id id = bid.id;
    manager.on_exec_report(report_for(bid, exec_kind::ack, 1 * ms));
    const exec_report part = fill_for(bid, exec_kind::partial_fill, 2, 2, 41, 2 * ms);
    manager.on_exec_report(part);
    manager.on_exec_report(part); // the answer and the user stream both report it
    CHECK(manager.counters().fills == 1);
    CHECK(manager.counters().filled_lots == 2);
    CHECK(manager.counters().duplicate_fills == 1);
    CHECK(bid.cum_qty == qty{2});

    exec_report last = fill_for(bid, exec_kind::fill, 3, 5, 42, 3 * ms);
    manager.on_exec_report(last);
    CHECK(bid.status == order_status::none);
    last.client_id = id;
    manager.on_exec_report(last); // repeated after the slot emptied: still a duplicate
    CHECK(manager.counters().fills == 2);
    CHECK(manager.counters().filled_lots == 5);
    CHECK(manager.counters().duplicate_fills == 2);
    CHECK(manager.counters().stale_reports == 0);

    // Fills without a trade id are never taken for duplicates.
    manager.update(quotes(99'980, 100'020), 500 * ms);
    const working_order& next = manager.order(side::buy, 0);
    REQUIRE(next.status == order_status::pending_new);
    manager.on_exec_report(fill_for(next, exec_kind::partial_fill, 1, 1, -1, 501 * ms));
    manager.on_exec_report(fill_for(next, exec_kind::partial_fill, 1, 2, -1, 502 * ms));
    CHECK(manager.counters().fills == 4);
    CHECK(manager.counters().duplicate_fills == 2);
}

TEST_CASE("a trade between the account's own bid and ask fills both: the same trade id on two "
          "sides is not a duplicate",
          "[quote_manager][unknown]") {
    scripted_gateway gateway;
    quote_manager manager(retry_config(), gateway);
    quote_and_ack(manager);
    const working_order& bid = manager.order(side::buy, 0);
    const working_order& ask = manager.order(side::sell, 0);
    exec_report bought = fill_for(bid, exec_kind::partial_fill, 2, 2, 41, 2 * ms);
    bought.side = side::buy;
    exec_report sold = fill_for(ask, exec_kind::partial_fill, 2, 2, 41, 2 * ms);
    sold.side = side::sell;
    manager.on_exec_report(bought);
    manager.on_exec_report(sold);
    manager.on_exec_report(sold); // this one is told twice
    CHECK(manager.counters().fills == 2);
    CHECK(manager.counters().duplicate_fills == 1);
    CHECK(bid.cum_qty == qty{2});
    CHECK(ask.cum_qty == qty{2});
}

TEST_CASE("recent_trade_ids remembers the last capacity ids", "[quote_manager][unknown]") {
    recent_trade_ids ids;
    constexpr side buy = side::buy;
    CHECK_FALSE(ids.seen_before(0, buy));
    CHECK(ids.seen_before(0, buy));
    CHECK_FALSE(ids.seen_before(-1, buy));
    CHECK_FALSE(ids.seen_before(-1, buy));
    for (std::int64_t id = 1; id < static_cast<std::int64_t>(recent_trade_ids::capacity); ++id) {
        CHECK_FALSE(ids.seen_before(id, buy));
    }
    CHECK(ids.seen_before(0, buy));           // exactly capacity ids so far: 0 is still there
    CHECK_FALSE(ids.seen_before(1'000, buy)); // pushes 0 out
    CHECK_FALSE(ids.seen_before(0, buy));
    CHECK(ids.seen_before(1'000, buy));

    // A self-trade tells the account's buy and its sell the same trade id: two fills.
    recent_trade_ids self;
    CHECK_FALSE(self.seen_before(7, side::buy));
    CHECK_FALSE(self.seen_before(7, side::sell));
    CHECK(self.seen_before(7, side::sell));
    CHECK(self.seen_before(7, side::buy));
}

TEST_CASE("int_range::contains answers as the two comparisons it replaces", "[quote_manager]") {
    // keeps() once compared low <= value && value <= high; the range must agree for every
    // value, bounds near the ends of int64 and empty ranges included.
    constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
    constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
    const auto within = [](std::int64_t low, std::int64_t high, std::int64_t value) {
        return low <= value && value <= high;
    };
    const std::array<std::int64_t, 11> edges{min, min + 1, -2, -1, 0, 1, 2, 99'980,
                                             max - 1, max, 1'000'000'007};
    std::mt19937_64 rng(2026);
    const auto any = [&] {
        switch (rng() % 3) {
        case 0:
            return edges[rng() % edges.size()];
        case 1:
            return static_cast<std::int64_t>(rng() % 200'000) - 100'000;
        default:
            return static_cast<std::int64_t>(rng());
        }
    };
    std::size_t mismatches = 0;
    std::size_t inside = 0;
    for (int i = 0; i < 200'000; ++i) {
        std::int64_t low = any();
        const std::int64_t high = any();
        if (low == min && high == max) {
            low = min + 1; // the one range int_range cannot hold
        }
        const int_range range = int_range::between(low, high);
        for (const std::int64_t value : {any(), low, high, low - (low > min ? 1 : 0),
                                         high + (high < max ? 1 : 0)}) {
            const bool expected = within(low, high, value);
            mismatches += range.contains(value) != expected ? 1 : 0;
            inside += expected ? 1 : 0;
        }
    }
    CHECK(mismatches == 0);
    CHECK(inside > 100'000); // both answers are well exercised
    CHECK_FALSE(int_range{}.contains(0));
    CHECK(int_range::between(1, max).contains(max));
    CHECK_FALSE(int_range::between(1, max).contains(min));
}

namespace {

/// A gateway whose own order-rate limits have no room before `room_at`: it refuses every new
/// order before then (risk_refused, delivered on the next poll) and acknowledges the others.
/// With `tells_when` false it refuses the same way but does not say until when.
struct rate_limited_gateway final : order_gateway {
    void set_report_sink(exec_report_sink* s) noexcept override { sink = s; }
    gateway_error submit(const order_request& request, core::timestamp_ns now) noexcept override {
        submit_times.push_back(now);
        exec_report& report = queued.emplace_back();
        report.client_id = request.id;
        report.symbol = request.symbol;
        report.side = request.side;
        report.level = request.level;
        report.price = request.price;
        if (now < room_at) {
            report.kind = exec_kind::reject;
            report.reason = reject_reason::risk_refused;
        } else {
            report.kind = exec_kind::ack;
            report.leaves_qty = request.qty;
        }
        return gateway_error::none;
    }
    gateway_error cancel(std::uint32_t, client_order_id, core::timestamp_ns) noexcept override {
        return gateway_error::none;
    }
    gateway_error cancel_all(std::uint32_t, core::timestamp_ns) noexcept override {
        return gateway_error::none;
    }
    std::size_t poll(core::timestamp_ns now) noexcept override {
        std::vector<exec_report> due;
        due.swap(queued);
        for (exec_report& report : due) {
            report.exchange_ts = now;
            report.local_ts = now;
            sink->on_exec_report(report);
        }
        return due.size();
    }
    core::timestamp_ns new_orders_held_until() const noexcept override {
        return tells_when ? room_at : std::numeric_limits<core::timestamp_ns>::min();
    }

    core::timestamp_ns room_at = 0;
    bool tells_when = true;
    exec_report_sink* sink = nullptr;
    std::vector<exec_report> queued;
    std::vector<core::timestamp_ns> submit_times;
};

/// Updates every millisecond from 0 to 80 ms, the gateway polled after each.
void quote_every_ms(quote_manager& manager, rate_limited_gateway& gateway) {
    for (core::timestamp_ns t = 0; t <= 80 * ms; t += ms) {
        manager.update(quotes(99'980, 100'020), t);
        (void)gateway.poll(t);
    }
}

} // namespace

TEST_CASE("new orders the gateway's rate limits refused wait until they have room, then go at "
          "once",
          "[quote_manager][rate_limits]") {
    quote_manager_config config = test_manager_config();
    config.refresh_ms = 0; // only the hold keeps the manager from asking on every update
    rate_limited_gateway gateway;
    gateway.room_at = 50 * ms + 500 * us;
    quote_manager manager(config, gateway);
    gateway.set_report_sink(&manager);
    quote_every_ms(manager, gateway);
    // Both sides refused at 0; nothing asked until the room came; both placed at the first
    // update from then on.
    CHECK(gateway.submit_times == std::vector<core::timestamp_ns>{0, 0, 51 * ms, 51 * ms});
    CHECK(manager.counters().rate_holds == 1);
    CHECK(manager.counters().rejects == 2);
    CHECK(manager.order(side::buy, 0).status == order_status::acked);
    CHECK(manager.order(side::sell, 0).status == order_status::acked);
}

TEST_CASE("a refusal that names no time is asked again on the next update",
          "[quote_manager][rate_limits]") {
    quote_manager_config config = test_manager_config();
    config.refresh_ms = 0;
    rate_limited_gateway gateway;
    gateway.room_at = 50 * ms + 500 * us;
    gateway.tells_when = false;
    quote_manager manager(config, gateway);
    gateway.set_report_sink(&manager);
    quote_every_ms(manager, gateway);
    // Two refused orders an update from 0 to 50 ms, then the two placed at 51 ms.
    CHECK(gateway.submit_times.size() == 2 * 51 + 2);
    CHECK(manager.counters().rate_holds == 0);
    CHECK(manager.counters().rejects == 2 * 51);
    CHECK(manager.order(side::buy, 0).status == order_status::acked);
}

TEST_CASE("the time new orders were held adds up each hold from its refusal to its end",
          "[quote_manager][rate_limits]") {
    quote_manager_config config = test_manager_config();
    config.refresh_ms = 0;
    rate_limited_gateway gateway;
    quote_manager manager(config, gateway);
    gateway.set_report_sink(&manager);
    const auto quote_at = [&](core::timestamp_ns t) {
        manager.update(quotes(99'980, 100'020), t);
        (void)gateway.poll(t);
    };
    const auto empty_both_slots = [&](core::timestamp_ns t) {
        manager.on_exec_report(report_for(manager.order(side::buy, 0), exec_kind::cancelled, t));
        manager.on_exec_report(report_for(manager.order(side::sell, 0), exec_kind::cancelled, t));
    };
    CHECK(manager.held_ns(1'000 * ms) == 0); // never held

    // First hold: refused at 10 ms, room from 50.5 ms on; placed at 51 ms.
    gateway.room_at = 50 * ms + 500 * us;
    quote_at(10 * ms);
    CHECK(manager.held_ns(10 * ms) == 0);
    CHECK(manager.held_ns(30 * ms) == 20 * ms); // still running: counted up to now
    for (core::timestamp_ns t = 11 * ms; t <= 60 * ms; t += ms) {
        quote_at(t);
    }
    REQUIRE(manager.order(side::buy, 0).status == order_status::acked);
    CHECK(manager.held_ns(60 * ms) == 40 * ms + 500 * us);
    CHECK(manager.held_ns(1'000 * ms) == 40 * ms + 500 * us); // over: time passing adds nothing

    // Second hold, 100 ms to 130 ms, after the orders are gone.
    gateway.room_at = 130 * ms;
    empty_both_slots(100 * ms);
    for (core::timestamp_ns t = 100 * ms; t <= 140 * ms; t += ms) {
        quote_at(t);
    }
    REQUIRE(manager.order(side::buy, 0).status == order_status::acked);
    CHECK(manager.held_ns(140 * ms) == 70 * ms + 500 * us);

    // A third that outlasts the run: the run's end (here 400 ms) closes it for the report.
    gateway.room_at = 10'000 * ms;
    empty_both_slots(200 * ms);
    for (core::timestamp_ns t = 200 * ms; t <= 300 * ms; t += ms) {
        quote_at(t);
    }
    CHECK(manager.order(side::buy, 0).status == order_status::none);
    CHECK(manager.held_ns(400 * ms) == 270 * ms + 500 * us);
    CHECK(manager.counters().rate_holds == 3);
    // A kill and a resume leave the hold as it is.
    manager.cancel_all(400 * ms);
    manager.resume();
    CHECK(manager.held_ns(500 * ms) == 370 * ms + 500 * us);
}
