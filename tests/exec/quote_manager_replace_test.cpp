// Tests of exec::quote_manager with a gateway that replaces an order in one request (Binance
// spot's order.cancelReplace): every outcome of the request ends with the slot holding what the
// venue holds, the replacement never sent twice and never two orders of one slot resting.
#include "desired_quotes_support.hpp"
#include "quoter/exec/quote_manager.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using namespace quoter;
using namespace quoter::exec;
using core::price;
using core::qty;
using core::side;

namespace {

constexpr core::timestamp_ns ms = core::ns_per_ms;

/// Records requests; sends no report by itself (the test plays the venue).
class replacing_gateway final : public order_gateway {
public:
    struct replace_request {
        client_order_id old_id;
        order_request request;
    };

    void set_report_sink(exec_report_sink* /*sink*/) noexcept override {}
    gateway_error submit(const order_request& request,
                         core::timestamp_ns /*now*/) noexcept override {
        submitted.push_back(request);
        return gateway_error::none;
    }
    gateway_error cancel(std::uint32_t /*symbol*/, client_order_id id,
                         core::timestamp_ns /*now*/) noexcept override {
        cancelled.push_back(id);
        return gateway_error::none;
    }
    gateway_error cancel_all(std::uint32_t /*symbol*/,
                             core::timestamp_ns /*now*/) noexcept override {
        ++cancel_alls;
        return gateway_error::none;
    }
    std::size_t poll(core::timestamp_ns /*now*/) noexcept override { return 0; }
    bool replaces_in_one_request() const noexcept override { return one_request; }
    gateway_error replace(std::uint32_t /*symbol*/, client_order_id old_id,
                          const order_request& request,
                          core::timestamp_ns /*now*/) noexcept override {
        if (replace_error == gateway_error::none) {
            replaced.push_back({old_id, request});
        }
        return replace_error;
    }

    bool one_request = true;
    gateway_error replace_error = gateway_error::none;
    std::vector<order_request> submitted;
    std::vector<client_order_id> cancelled;
    std::vector<replace_request> replaced;
    int cancel_alls = 0;
};

quote_manager_config config() {
    quote_manager_config c;
    c.levels = 1;
    c.refresh_tolerance_bps = 1.0; // 10 ticks at 100'000
    c.max_order_age_ms = 0;
    c.refresh_ms = 100;
    c.cancel_retry_ms = 50;
    return c;
}

using testing::quotes;

exec_report report(client_order_id id, exec_kind kind, core::timestamp_ns at,
                   reject_reason reason = reject_reason::none) {
    exec_report r;
    r.client_id = id;
    r.kind = kind;
    r.reason = reason;
    r.local_ts = at;
    return r;
}

exec_report fill(client_order_id id, std::int64_t lots, core::timestamp_ns at,
                 std::int64_t trade_id) {
    exec_report r = report(id, exec_kind::fill, at);
    r.fill_qty = qty{lots};
    r.cum_qty = qty{lots};
    r.trade_id = trade_id;
    return r;
}

/// Both quotes resting; then the bid moves by 30 ticks at 200 ms: one replace request.
struct replaced_bid {
    replaced_bid() {
        manager.update(quotes(99'980, 100'020), 0);
        old_bid = manager.order(side::buy, 0).id;
        manager.on_exec_report(report(old_bid, exec_kind::ack, 1 * ms));
        manager.on_exec_report(report(manager.order(side::sell, 0).id, exec_kind::ack, 1 * ms));
        manager.update(quotes(99'950, 100'020), 200 * ms);
        REQUIRE(gateway.replaced.size() == 1);
        new_bid = gateway.replaced[0].request.id;
    }

    replacing_gateway gateway;
    quote_manager manager{config(), gateway};
    client_order_id old_bid;
    client_order_id new_bid;
};

} // namespace

TEST_CASE("replace in one request: the new order waits beside the old until its cancel is "
          "confirmed, then takes the slot",
          "[quote_manager][replace]") {
    replaced_bid f;
    const auto& sent = f.gateway.replaced[0];
    CHECK(sent.old_id == f.old_bid);
    CHECK(sent.request.price == price{99'950});
    CHECK(sent.request.side == side::buy);
    CHECK(f.gateway.cancelled.empty()); // no separate cancel, no separate order
    CHECK(f.gateway.submitted.size() == 2);
    // Until the cancel is confirmed both are held: the old one with its cancel pending.
    CHECK(f.manager.order(side::buy, 0).id == f.old_bid);
    CHECK(f.manager.order(side::buy, 0).cancel_pending);
    CHECK(f.manager.incoming(side::buy, 0).id == f.new_bid);
    CHECK(f.manager.incoming(side::buy, 0).status == order_status::pending_new);
    CHECK(f.manager.open_orders() == 3);
    // Another move meanwhile sends nothing for the slot.
    f.manager.update(quotes(99'900, 100'020), 400 * ms);
    CHECK(f.gateway.replaced.size() == 1);
    CHECK(f.gateway.submitted.size() == 2);

    f.manager.on_exec_report(report(f.old_bid, exec_kind::cancelled, 401 * ms));
    CHECK(f.manager.order(side::buy, 0).id == f.new_bid);
    CHECK(f.manager.order(side::buy, 0).status == order_status::pending_new);
    CHECK(f.manager.incoming(side::buy, 0).status == order_status::none);
    CHECK(f.gateway.submitted.size() == 2); // the cancelled report places nothing more
    f.manager.on_exec_report(report(f.new_bid, exec_kind::ack, 402 * ms));
    CHECK(f.manager.order(side::buy, 0).status == order_status::acked);
    CHECK(f.manager.open_orders() == 2);
    const quote_counters& c = f.manager.counters();
    CHECK(c.replaces_sent == 1);
    CHECK(c.replacements == 1);
    CHECK(c.orders_sent == 3);
    CHECK(c.cancelled == 1);
}

TEST_CASE("replace in one request: the new order's ack may come before the old order's "
          "cancelled",
          "[quote_manager][replace]") {
    replaced_bid f;
    f.manager.on_exec_report(report(f.new_bid, exec_kind::ack, 201 * ms));
    CHECK(f.manager.incoming(side::buy, 0).status == order_status::acked);
    CHECK(f.manager.order(side::buy, 0).id == f.old_bid);
    f.manager.on_exec_report(report(f.old_bid, exec_kind::cancelled, 202 * ms));
    CHECK(f.manager.order(side::buy, 0).id == f.new_bid);
    CHECK(f.manager.order(side::buy, 0).status == order_status::acked);
    CHECK_FALSE(f.manager.order(side::buy, 0).cancel_pending);
    CHECK(f.manager.open_orders() == 2);
}

TEST_CASE("replace in one request: a failed cancel leaves the old order in its slot and the new "
          "one unsent; the old order's fill found later is booked",
          "[quote_manager][replace]") {
    replaced_bid f;
    // -2022: cancelResult FAILURE, newOrderResult NOT_ATTEMPTED.
    f.manager.on_exec_report(
        report(f.old_bid, exec_kind::cancel_reject, 201 * ms, reject_reason::unknown_order));
    f.manager.on_exec_report(
        report(f.new_bid, exec_kind::reject, 201 * ms, reject_reason::unknown_order));
    CHECK(f.manager.order(side::buy, 0).id == f.old_bid);
    CHECK(f.manager.order(side::buy, 0).status == order_status::acked);
    CHECK_FALSE(f.manager.order(side::buy, 0).cancel_pending);
    CHECK(f.manager.incoming(side::buy, 0).status == order_status::none);
    CHECK(f.manager.open_orders() == 2);
    // The query (or the stream) says the old order had filled.
    f.manager.on_exec_report(fill(f.old_bid, 5, 205 * ms, 77));
    CHECK(f.manager.order(side::buy, 0).status == order_status::none);
    CHECK(f.manager.awaiting_update());
    CHECK(f.manager.counters().orders_filled == 1);
    // The requote places a fresh order by itself (the slot is empty: no replace).
    f.manager.update(quotes(99'950, 100'020), 400 * ms);
    CHECK(f.gateway.replaced.size() == 1);
    REQUIRE(f.gateway.submitted.size() == 3);
    CHECK(f.gateway.submitted.back().price == price{99'950});
}

TEST_CASE("replace in one request: the old order cancelled, the new one refused post-only: the "
          "slot empties and the next update requotes",
          "[quote_manager][replace]") {
    replaced_bid f;
    f.manager.on_exec_report(report(f.old_bid, exec_kind::cancelled, 201 * ms));
    f.manager.on_exec_report(
        report(f.new_bid, exec_kind::reject, 201 * ms, reject_reason::post_only_would_cross));
    CHECK(f.manager.order(side::buy, 0).status == order_status::none);
    CHECK(f.manager.open_orders() == 1);
    CHECK(f.manager.counters().post_only_rejects == 1);
    f.manager.update(quotes(99'940, 100'020), 350 * ms);
    CHECK(f.gateway.submitted.size() == 3);
    CHECK(f.gateway.replaced.size() == 1);
}

TEST_CASE("replace in one request: an unknown outcome is resolved by the gateway's queries, "
          "never sent again",
          "[quote_manager][replace]") {
    replaced_bid f;
    f.manager.on_exec_report(report(f.new_bid, exec_kind::unknown, 500 * ms));
    CHECK(f.manager.incoming(side::buy, 0).status == order_status::unknown);
    CHECK(f.manager.counters().unknowns == 1);
    // Updates and cancel retries meanwhile: the old order's cancel may be retried, nothing new
    // is placed for the slot.
    for (core::timestamp_ns t = 500 * ms; t < 800 * ms; t += 50 * ms) {
        f.manager.update(quotes(99'900, 100'020), t);
        (void)f.manager.retry_cancels(t);
    }
    CHECK(f.gateway.replaced.size() == 1);
    CHECK(f.gateway.submitted.size() == 2);
    // The queries: the old order was cancelled, the new one rests.
    f.manager.on_exec_report(report(f.old_bid, exec_kind::cancelled, 810 * ms));
    CHECK(f.manager.order(side::buy, 0).id == f.new_bid);
    CHECK(f.manager.order(side::buy, 0).status == order_status::unknown);
    f.manager.on_exec_report(report(f.new_bid, exec_kind::ack, 811 * ms));
    CHECK(f.manager.order(side::buy, 0).status == order_status::acked);
    CHECK(f.manager.open_orders() == 2);
}

TEST_CASE("replace in one request: a kill while it flies cancels the new order once it holds "
          "the slot",
          "[quote_manager][replace]") {
    replaced_bid f;
    f.manager.cancel_all(210 * ms);
    CHECK(f.gateway.cancel_alls == 1);
    // The cancel-all reached the venue before the replacement did: the new order rests.
    f.manager.on_exec_report(report(f.new_bid, exec_kind::ack, 211 * ms));
    f.manager.on_exec_report(report(f.old_bid, exec_kind::cancelled, 211 * ms));
    REQUIRE(f.gateway.cancelled.size() == 1);
    CHECK(f.gateway.cancelled[0] == f.new_bid);
    CHECK(f.manager.order(side::buy, 0).cancel_pending);
    f.manager.on_exec_report(report(f.new_bid, exec_kind::cancelled, 212 * ms));
    f.manager.on_exec_report(
        report(f.manager.order(side::sell, 0).id, exec_kind::cancelled, 212 * ms));
    CHECK(f.manager.open_orders() == 0);
}

TEST_CASE("a gateway that cannot replace in one request keeps cancel, then place",
          "[quote_manager][replace]") {
    replacing_gateway gateway;
    gateway.one_request = false;
    quote_manager manager(config(), gateway);
    manager.update(quotes(99'980, 100'020), 0);
    const client_order_id old_bid = manager.order(side::buy, 0).id;
    manager.on_exec_report(report(old_bid, exec_kind::ack, 1 * ms));
    manager.update(quotes(99'950, 100'020), 200 * ms);
    CHECK(gateway.replaced.empty());
    REQUIRE(gateway.cancelled.size() == 1);
    CHECK(gateway.submitted.size() == 2);
    manager.on_exec_report(report(old_bid, exec_kind::cancelled, 201 * ms));
    CHECK(gateway.submitted.size() == 3);
    CHECK(manager.counters().replaces_sent == 0);
}

TEST_CASE("a replace the gateway refuses leaves the old order working, retried by a later update",
          "[quote_manager][replace]") {
    replacing_gateway gateway;
    quote_manager manager(config(), gateway);
    manager.update(quotes(99'980, 100'020), 0);
    const client_order_id old_bid = manager.order(side::buy, 0).id;
    manager.on_exec_report(report(old_bid, exec_kind::ack, 1 * ms));
    gateway.replace_error = gateway_error::rate_limited;
    manager.update(quotes(99'950, 100'020), 200 * ms);
    CHECK(manager.counters().gateway_errors == 1);
    CHECK_FALSE(manager.order(side::buy, 0).cancel_pending);
    CHECK(manager.incoming(side::buy, 0).status == order_status::none);
    gateway.replace_error = gateway_error::none;
    manager.update(quotes(99'950, 100'020), 400 * ms);
    REQUIRE(gateway.replaced.size() == 1);
    CHECK(gateway.replaced[0].old_id == old_bid);
}

TEST_CASE("replace in one request: a quote pulled while its replacement waits is cancelled by "
          "retry_cancels, also after a call that found nothing to cancel",
          "[quote_manager][replace]") {
    replaced_bid f; // the replace went out at 200 ms: no other cancel attempt before 250 ms
    // The venue refuses the cancel half; the replacement's own answer is still on the way.
    f.manager.on_exec_report(
        report(f.old_bid, exec_kind::cancel_reject, 205 * ms, reject_reason::unknown_order));
    CHECK(f.manager.incoming(side::buy, 0).id == f.new_bid);
    // The old order is still wanted (it quotes the bid): nothing to cancel.
    CHECK(f.manager.retry_cancels(210 * ms) == 0);
    CHECK(f.gateway.cancelled.empty());
    // The bid is pulled. update() leaves a slot with a waiting replacement alone; the old order
    // must go all the same, and retry_cancels() sends its cancel once the pacing allows.
    desired_quotes ask_only = quotes(99'950, 100'020);
    ask_only.bids[0] = {};
    f.manager.update(ask_only, 220 * ms);
    CHECK(f.gateway.cancelled.empty());
    CHECK(f.manager.retry_cancels(240 * ms) == 0);
    CHECK(f.gateway.cancelled.empty());
    CHECK(f.manager.retry_cancels(260 * ms) == 0);
    REQUIRE(f.gateway.cancelled.size() == 1);
    CHECK(f.gateway.cancelled[0] == f.old_bid);
}

TEST_CASE("replace in one request: a replacement ended \"no such order\" that the venue takes "
          "after all is cancelled as an orphan",
          "[quote_manager][replace][unknown]") {
    replaced_bid f;
    // The request's answer was lost; the new order's queries found nothing until its window
    // closed (rejected beside the old order, still waiting for its cancel); the old order was
    // cancelled.
    f.manager.on_exec_report(report(f.new_bid, exec_kind::unknown, 201 * ms));
    f.manager.on_exec_report(
        report(f.new_bid, exec_kind::reject, 3'000 * ms, reject_reason::unknown_order));
    REQUIRE(f.manager.order(side::buy, 0).id == f.old_bid);
    f.manager.on_exec_report(report(f.old_bid, exec_kind::cancelled, 3'001 * ms));
    REQUIRE(f.manager.order(side::buy, 0).id != f.new_bid);
    REQUIRE(f.manager.incoming(side::buy, 0).status == order_status::none);
    // It reached the matching engine late: its ack is an orphan's, and the order must go.
    const std::size_t cancels = f.gateway.cancelled.size();
    exec_report late = report(f.new_bid, exec_kind::ack, 3'100 * ms);
    late.side = side::buy;
    late.leaves_qty = qty{5};
    f.manager.on_exec_report(late);
    REQUIRE(f.gateway.cancelled.size() == cancels + 1);
    CHECK(f.gateway.cancelled.back() == f.new_bid);
    CHECK(f.manager.counters().orphans_cancelled == 1);
}
