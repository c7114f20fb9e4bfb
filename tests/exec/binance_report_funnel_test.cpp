// binance_report_funnel: fills an answer tells (a status query, a cancel answer) are reported
// from the order's trades, with their ids and venue times, not from the answer; the order's end
// waits for them; without trades the answer's fill is reported as before.
#include "quoter/exec/binance_report_funnel.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <vector>

namespace {

using namespace quoter;
using namespace quoter::exec;

struct recording_output final : report_funnel_output {
    void deliver(exec_report report) override { reports.push_back(report); }
    void want_trades(const order_request& order, std::uint64_t exchange_id) override {
        wanted.push_back({order.id.value, exchange_id});
    }
    [[nodiscard]] std::vector<exec_report> of_kind(exec_kind kind) const {
        std::vector<exec_report> out;
        for (const exec_report& r : reports) {
            if (r.kind == kind) {
                out.push_back(r);
            }
        }
        return out;
    }
    std::vector<exec_report> reports;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> wanted;
};

order_request buy(std::uint64_t id, std::int64_t lots) {
    order_request order;
    order.id = client_order_id{id};
    order.side = core::side::buy;
    order.price = core::price{100'000};
    order.qty = core::qty{lots};
    return order;
}

/// A cancel answer: the order cancelled with `executed` lots filled, answered at answer_ms.
answered_order cancelled(std::int64_t executed, std::int64_t answer_ms) {
    answered_order o;
    o.order_id = 77;
    o.side = core::side::buy;
    o.status = venue_order_status::canceled;
    o.price = core::price{100'000};
    o.orig_qty = core::qty{1'000};
    o.executed_qty = core::qty{executed};
    o.transact_time_ms = answer_ms;
    return o;
}

venue_trade trade(std::int64_t id, std::int64_t lots, std::int64_t time_ms, bool maker = true) {
    venue_trade t;
    t.trade_id = id;
    t.order_id = 77;
    t.price = core::price{99'990};
    t.qty = core::qty{lots};
    t.time_ms = time_ms;
    t.maker = maker;
    return t;
}

/// A funnel and what it delivered.
struct funnel_fixture {
    recording_output output;
    std::atomic<std::uint64_t> fills{0};
    order_report_funnel funnel{output, fills};
};

} // namespace

TEST_CASE_METHOD(
    funnel_fixture,
    "fills a cancel answer tells are reported from the order's trades, with their ids and "
    "times; the cancel follows them",
    "[binance_report_funnel]") {
    const order_request order = buy(5, 1'000);
    funnel.open(order);
    funnel.ack(order, 77);
    // The stream told the first trade (30 lots at 1000) before it went quiet.
    funnel.fills_to(order, core::qty{30}, core::price{99'990}, 11, 77, liquidity_role::maker,
                    1'000);
    // The cancel's answer (at 5000) says 100 lots were filled: 70 more than reported.
    funnel.finished(order, cancelled(100, 5'000), exec_kind::cancelled);
    REQUIRE(output.wanted.size() == 1);
    CHECK(output.wanted[0] == std::pair<std::uint64_t, std::uint64_t>{5, 77});
    CHECK(output.of_kind(exec_kind::partial_fill).size() == 1); // only the stream's so far
    CHECK(output.of_kind(exec_kind::cancelled).empty());        // waits for the trades

    // The trade list: the stream's trade again, then two more.
    const std::vector<venue_trade> trades{trade(11, 30, 1'000), trade(12, 50, 1'200),
                                          trade(13, 20, 1'300, false)};
    CHECK(funnel.trades_answered(order, trades, 1) == status_resolution::resolved);
    const auto partials = output.of_kind(exec_kind::partial_fill);
    REQUIRE(partials.size() == 3); // trade 11 counts once
    CHECK(partials[1].trade_id == 12);
    CHECK(partials[1].fill_qty == core::qty{50});
    CHECK(partials[1].venue_time_ms == 1'200); // the trade's time, not the answer's 5000
    CHECK(partials[1].price == core::price{99'990});
    CHECK(partials[1].liquidity == liquidity_role::maker);
    CHECK(partials[2].trade_id == 13);
    CHECK(partials[2].cum_qty == core::qty{100});
    CHECK(partials[2].venue_time_ms == 1'300);
    CHECK(partials[2].liquidity == liquidity_role::taker);
    REQUIRE(output.of_kind(exec_kind::cancelled).size() == 1);
    CHECK(output.reports.back().kind == exec_kind::cancelled);
    CHECK(fills.load() == 3);

    // A late stream event of trade 13 moves nothing.
    funnel.fills_to(order, core::qty{100}, core::price{99'990}, 13, 77, liquidity_role::taker,
                    1'300);
    CHECK(output.of_kind(exec_kind::partial_fill).size() == 3);
}

TEST_CASE_METHOD(
    funnel_fixture,
    "an end whose cumulative quantity is above what was reported waits for the order's "
    "trades: fills lost with the stream are not dropped",
    "[binance_report_funnel]") {
    const order_request order = buy(5, 1'000);
    funnel.open(order);
    funnel.ack(order, 77);
    // 300 lots traded while the stream was away; its CANCELED event (z = 300) comes first.
    funnel.terminal(order, exec_kind::cancelled, reject_reason::user_cancel, core::qty{300}, 77);
    REQUIRE(output.wanted.size() == 1);
    CHECK(output.wanted[0] == std::pair<std::uint64_t, std::uint64_t>{5, 77});
    CHECK(output.of_kind(exec_kind::cancelled).empty()); // waits for the trades
    // Then the reconciliation's answer: the same cancel, 300 executed. Nothing more is asked.
    funnel.finished(order, cancelled(300, 5'000), exec_kind::cancelled);
    CHECK(output.wanted.size() == 1);
    const std::vector<venue_trade> trades{trade(21, 100, 1'000), trade(22, 200, 1'100)};
    CHECK(funnel.trades_answered(order, trades, 1) == status_resolution::resolved);
    const auto partials = output.of_kind(exec_kind::partial_fill);
    REQUIRE(partials.size() == 2);
    CHECK(partials[1].cum_qty == core::qty{300});
    CHECK(partials[1].trade_id == 22);
    REQUIRE(output.of_kind(exec_kind::cancelled).size() == 1);
    CHECK(output.reports.back().kind == exec_kind::cancelled);
    CHECK(output.reports.back().cum_qty == core::qty{300});
    CHECK(fills.load() == 2);
}

TEST_CASE_METHOD(
    funnel_fixture,
    "a status answer's fill whose trades do not come is asked again, then reported as the "
    "answer told it",
    "[binance_report_funnel]") {
    const order_request order = buy(6, 100);
    funnel.open(order);
    api_answer answer;
    answer.outcome = answer_outcome::ok;
    answer.has_order = true;
    answer.order = cancelled(100, 7'000);
    answer.order.status = venue_order_status::filled;
    answer.order.orig_qty = core::qty{100};
    REQUIRE(funnel.resolve_status(order, false, answer) == status_resolution::resolved);
    REQUIRE(output.wanted.size() == 1);
    // Known to exist (acknowledged), its fill waits for the trades.
    CHECK(funnel.outcome_known(order.id));
    CHECK(output.of_kind(exec_kind::ack).size() == 1);
    CHECK(output.of_kind(exec_kind::fill).empty());

    for (std::uint32_t attempt = 1; attempt < order_report_funnel::max_trade_attempts; ++attempt) {
        CHECK(funnel.trades_answered(order, {}, attempt) == status_resolution::ask_again);
    }
    CHECK(output.of_kind(exec_kind::fill).empty());
    CHECK(funnel.trades_answered(order, {}, order_report_funnel::max_trade_attempts) ==
          status_resolution::resolved);
    const auto filled = output.of_kind(exec_kind::fill);
    REQUIRE(filled.size() == 1);
    CHECK(filled[0].trade_id == -1);
    CHECK(filled[0].venue_time_ms == 7'000);
    CHECK(filled[0].fill_qty == core::qty{100});
    // Settled: a late answer changes nothing.
    CHECK(funnel.trades_answered(order, std::vector<venue_trade>{trade(20, 100, 6'000)}, 1) ==
          status_resolution::resolved);
    CHECK(output.of_kind(exec_kind::fill).size() == 1);
}

TEST_CASE_METHOD(funnel_fixture,
                 "an order the funnel does not remember is reported from the answer at once",
                 "[binance_report_funnel]") {
    const order_request order = buy(9, 1'000); // never opened: an earlier run's
    funnel.finished(order, cancelled(40, 3'000), exec_kind::cancelled);
    CHECK(output.wanted.empty());
    REQUIRE(output.of_kind(exec_kind::partial_fill).size() == 1);
    CHECK(output.of_kind(exec_kind::partial_fill)[0].venue_time_ms == 3'000);
    CHECK(output.of_kind(exec_kind::cancelled).size() == 1);
}

namespace {

/// An order query answered -2013 "Order does not exist".
api_answer no_such_order() {
    api_answer answer;
    answer.outcome = answer_outcome::unknown_order;
    answer.status = 400;
    answer.code = -2013;
    return answer;
}

} // namespace

TEST_CASE_METHOD(
    funnel_fixture,
    "a fill of a placement a status query found no order for is reported: the venue took "
    "it after all",
    "[binance_report_funnel]") {
    const order_request order = buy(11, 100);
    funnel.open(order);
    // Its placement's outcome is unknown; the query raced the matching engine: -2013.
    REQUIRE(funnel.resolve_status(order, false, no_such_order()) == status_resolution::resolved);
    const auto rejects = output.of_kind(exec_kind::reject);
    REQUIRE(rejects.size() == 1);
    CHECK(rejects[0].reason == reject_reason::unknown_order);

    // Then the matching engine executes it: its trade arrives on the user stream.
    funnel.fills_to(order, core::qty{40}, core::price{100'000}, 31, 88, liquidity_role::maker,
                    9'000);
    REQUIRE(output.of_kind(exec_kind::ack).size() == 1); // back from the dead, acknowledged
    const auto partials = output.of_kind(exec_kind::partial_fill);
    REQUIRE(partials.size() == 1);
    CHECK(partials[0].fill_qty == core::qty{40});
    CHECK(partials[0].trade_id == 31);
    CHECK(fills.load() == 1);
    CHECK(funnel.outcome_known(order.id));
    // The rest of it, once; a replay moves nothing.
    funnel.fills_to(order, core::qty{100}, core::price{100'000}, 32, 88, liquidity_role::maker,
                    9'100);
    funnel.fills_to(order, core::qty{100}, core::price{100'000}, 32, 88, liquidity_role::maker,
                    9'100);
    REQUIRE(output.of_kind(exec_kind::fill).size() == 1);
    CHECK(output.of_kind(exec_kind::fill)[0].fill_qty == core::qty{60});
    CHECK(output.of_kind(exec_kind::ack).size() == 1);
    CHECK(fills.load() == 2);
}

TEST_CASE_METHOD(funnel_fixture,
                 "a NEW of a placement a status query found no order for reopens it once",
                 "[binance_report_funnel]") {
    const order_request order = buy(12, 100);
    funnel.open(order);
    (void)funnel.resolve_status(order, false, no_such_order());
    funnel.ack(order, 90);
    funnel.ack(order, 90); // the stream's NEW, then the query's: one ack
    const auto acks = output.of_kind(exec_kind::ack);
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].exchange_id == 90);
    // Open again: a reconciliation queries it, its cancel ends it.
    std::size_t unfinished = 0;
    funnel.for_each_unfinished([&](const order_request&) { ++unfinished; });
    CHECK(unfinished == 1);
    funnel.terminal(order, exec_kind::cancelled, reject_reason::user_cancel);
    CHECK(output.of_kind(exec_kind::cancelled).size() == 1);
}

TEST_CASE_METHOD(funnel_fixture,
                 "an order that ended otherwise is not reopened by a later -2013 and replay",
                 "[binance_report_funnel]") {
    const order_request order = buy(13, 100);
    funnel.open(order);
    funnel.ack(order, 91);
    funnel.fills_to(order, core::qty{100}, core::price{100'000}, 41, 91, liquidity_role::maker,
                    1'000);
    (void)funnel.resolve_status(order, false, no_such_order()); // archived long since
    funnel.ack(order, 91);
    funnel.fills_to(order, core::qty{100}, core::price{100'000}, 41, 91, liquidity_role::maker,
                    1'000);
    CHECK(output.of_kind(exec_kind::ack).size() == 1);
    CHECK(output.of_kind(exec_kind::fill).size() == 1);
    CHECK(output.of_kind(exec_kind::reject).empty());
}

TEST_CASE_METHOD(funnel_fixture,
                 "-2013 while the placement's recvWindow is open is not yet an answer; after it, a "
                 "reject",
                 "[binance_report_funnel]") {
    const order_request order = buy(14, 100);
    funnel.open(order);
    // Signed at venue time 10'000 with a 5'000 ms recvWindow: the venue may take it until
    // 15'000, and the local estimate of its clock may be off by clock_margin_ms.
    const std::int64_t limit = 15'000 + order_report_funnel::clock_margin_ms;
    CHECK(order_report_funnel::window_of(10'000, 5'000, 10'200) == placement_window::open);
    CHECK(order_report_funnel::window_of(10'000, 5'000, limit) == placement_window::open);
    CHECK(order_report_funnel::window_of(10'000, 5'000, limit + 1) == placement_window::closed);
    CHECK(order_report_funnel::window_of(0, 5'000, 1) == placement_window::closed);

    CHECK(funnel.resolve_status(order, false, no_such_order(), placement_window::open) ==
          status_resolution::not_yet);
    CHECK(output.reports.empty());
    CHECK_FALSE(funnel.outcome_known(order.id));
    // A cancel's -2013 is final whatever the window.
    CHECK(funnel.resolve_status(order, true, no_such_order(), placement_window::open) ==
          status_resolution::resolved);
    REQUIRE(output.of_kind(exec_kind::cancel_reject).size() == 1);
    CHECK(output.of_kind(exec_kind::cancel_reject)[0].reason == reject_reason::unknown_order);
    // Once the window closed.
    CHECK(funnel.resolve_status(order, false, no_such_order(), placement_window::closed) ==
          status_resolution::resolved);
    REQUIRE(output.of_kind(exec_kind::reject).size() == 1);
    CHECK(output.of_kind(exec_kind::reject)[0].reason == reject_reason::unknown_order);
}

namespace {

/// Filled lots reported for order `id`.
std::int64_t filled_lots(const recording_output& output, std::uint64_t id) {
    std::int64_t lots = 0;
    for (const exec_report& r : output.reports) {
        if (r.client_id.value == id &&
            (r.kind == exec_kind::fill || r.kind == exec_kind::partial_fill)) {
            lots += r.fill_qty.lots();
        }
    }
    return lots;
}

/// The quote manager's client id layout: tag << 56 | sequence << 8 | slot.
std::uint64_t quote_id(std::uint64_t sequence, std::uint64_t slot) {
    return (std::uint64_t{1} << 56U) | (sequence << 8U) | slot;
}

} // namespace

TEST_CASE("an open order keeps its record when a later order lands on the same track: its fill "
          "counts once",
          "[binance_report_funnel]") {
    // A cancelReplace opens the new order while the old one still rests; the answer's cancel half
    // then finishes the old one, 300 lots executed, which the stream told already.
    const auto replace_over = [](std::size_t tracks, std::uint64_t old_id, std::uint64_t new_id) {
        recording_output output;
        std::atomic<std::uint64_t> fills{0};
        order_report_funnel funnel(output, fills, tracks);
        const order_request old_order = buy(old_id, 1'000);
        funnel.open(old_order);
        funnel.ack(old_order, 77);
        funnel.fills_to(old_order, core::qty{300}, core::price{100'000}, 11, 77,
                        liquidity_role::maker, 1'000);
        funnel.open(buy(new_id, 1'000));
        funnel.finished(old_order, cancelled(300, 1'050), exec_kind::cancelled);
        CHECK(filled_lots(output, old_id) == 300);
        CHECK(output.of_kind(exec_kind::cancelled).size() == 1);
        return funnel.outcome_known(client_order_id{new_id});
    };
    // Two tracks: whatever the two ids' home tracks, the second order must not take the first's.
    CHECK_FALSE(replace_over(2, quote_id(100, 0), quote_id(116, 0)));
    CHECK_FALSE(replace_over(2, quote_id(100, 0), quote_id(101, 0)));
    // The gateways' table, one slot's orders 16 sequence numbers apart (the other side re-quoted
    // fifteen times in between).
    CHECK_FALSE(
        replace_over(order_report_funnel::default_slots, quote_id(100, 0), quote_id(116, 0)));
}

TEST_CASE("a finished order's track is taken by later orders; every open order stays found",
          "[binance_report_funnel]") {
    recording_output output;
    std::atomic<std::uint64_t> fills{0};
    order_report_funnel funnel(output, fills, 4);
    // Three orders open, then one finishes: a fourth and fifth order fit beside the open ones.
    for (std::uint64_t seq = 1; seq <= 3; ++seq) {
        funnel.open(buy(quote_id(seq, 0), 1'000));
        funnel.ack(buy(quote_id(seq, 0), 1'000), seq);
    }
    funnel.terminal(buy(quote_id(2, 0), 1'000), exec_kind::cancelled, reject_reason::user_cancel);
    funnel.open(buy(quote_id(4, 0), 1'000));
    funnel.open(buy(quote_id(5, 0), 1'000));
    funnel.ack(buy(quote_id(4, 0), 1'000), 4);
    funnel.ack(buy(quote_id(5, 0), 1'000), 5);
    for (const std::uint64_t seq : {1, 3, 4, 5}) {
        INFO("sequence " << seq);
        CHECK(funnel.acked_and_open(client_order_id{quote_id(seq, 0)}));
    }
    CHECK_FALSE(funnel.acked_and_open(client_order_id{quote_id(2, 0)}));
}

TEST_CASE("a finished order whose track a later order took: a late answer telling its fills adds "
          "nothing, and no second end",
          "[binance_report_funnel]") {
    recording_output output;
    std::atomic<std::uint64_t> fills{0};
    order_report_funnel funnel(output, fills, 2);
    const order_request first = buy(quote_id(1, 0), 1'000);
    funnel.open(first);
    funnel.ack(first, 77);
    funnel.fills_to(first, core::qty{300}, core::price{100'000}, 11, 77, liquidity_role::maker,
                    1'000);
    funnel.terminal(first, exec_kind::cancelled, reject_reason::user_cancel, core::qty{300}, 77);
    // Two later orders on a two-track funnel: one of them takes the finished order's track.
    funnel.open(buy(quote_id(2, 0), 1'000));
    funnel.open(buy(quote_id(3, 0), 1'000));
    REQUIRE_FALSE(funnel.outcome_known(first.id));
    const std::size_t reports = output.reports.size();
    // A late cancel answer of the first order (its 300 lots executed).
    funnel.finished(first, cancelled(300, 1'100), exec_kind::cancelled);
    CHECK(output.reports.size() == reports);
    CHECK(filled_lots(output, quote_id(1, 0)) == 300);
    // A fill the answer tells beyond what was reported still counts, once.
    funnel.finished(first, cancelled(400, 1'200), exec_kind::cancelled);
    CHECK(filled_lots(output, quote_id(1, 0)) == 400);
}

TEST_CASE_METHOD(
    funnel_fixture,
    "a stream trade after a gap in the stream: the unseen trades come from the order's "
    "trade list with their own times, never as part of the later trade",
    "[binance_report_funnel]") {
    const order_request order = buy(5, 1'000);
    funnel.open(order);
    funnel.ack(order, 77);
    funnel.stream_trade(order, core::qty{100}, core::qty{100}, core::price{99'990}, 11, 77,
                        liquidity_role::maker, 1'000, 0, {});
    REQUIRE(output.of_kind(exec_kind::partial_fill).size() == 1);
    CHECK(output.wanted.empty());

    // Trade 12 (100 lots at 2000) was lost with the stream; trade 13 (100 lots at 8500) comes
    // through the new one, telling 300 executed.
    funnel.stream_trade(order, core::qty{300}, core::qty{100}, core::price{99'990}, 13, 77,
                        liquidity_role::maker, 8'500, 0, {});
    CHECK(output.of_kind(exec_kind::partial_fill).size() == 1); // not 200 lots stamped 8500
    REQUIRE(output.wanted.size() == 1);
    const std::vector<venue_trade> trades{trade(11, 100, 1'000), trade(12, 100, 2'000),
                                          trade(13, 100, 8'500)};
    CHECK(funnel.trades_answered(order, trades, 1) == status_resolution::resolved);
    const auto partials = output.of_kind(exec_kind::partial_fill);
    REQUIRE(partials.size() == 3);
    CHECK(partials[1].trade_id == 12);
    CHECK(partials[1].fill_qty == core::qty{100});
    CHECK(partials[1].venue_time_ms == 2'000);
    CHECK(partials[2].trade_id == 13);
    CHECK(partials[2].fill_qty == core::qty{100});
    CHECK(partials[2].venue_time_ms == 8'500);

    // No gap: the next stream trade is reported at once.
    funnel.stream_trade(order, core::qty{400}, core::qty{100}, core::price{99'990}, 14, 77,
                        liquidity_role::maker, 9'000, 0, {});
    REQUIRE(output.of_kind(exec_kind::partial_fill).size() == 4);
    CHECK(output.of_kind(exec_kind::partial_fill)[3].trade_id == 14);
    CHECK(output.wanted.size() == 1);
}

TEST_CASE_METHOD(funnel_fixture,
                 "a query answer that is neither the order nor \"no such order\" ends neither an "
                 "acknowledged order nor a placement the venue may still take",
                 "[binance_report_funnel]") {
    api_answer refused;
    refused.outcome = answer_outcome::reject;
    refused.status = 403; // a firewall's refusal: says nothing about the order
    const order_request acked = buy(15, 1'000);
    funnel.open(acked);
    funnel.ack(acked, 77);
    // Before, both were rejected: the quote manager freed the slot and placed another order
    // beside one that rests, outside the limits' count.
    CHECK(funnel.resolve_status(acked, false, refused) == status_resolution::ask_again);
    const order_request placed = buy(16, 1'000);
    funnel.open(placed);
    CHECK(funnel.resolve_status(placed, false, refused, placement_window::open) ==
          status_resolution::not_yet);
    CHECK(output.of_kind(exec_kind::reject).empty());
    CHECK(funnel.acked_and_open(acked.id));
    // Past its window a placement never acknowledged ends as never taken (a listing would
    // reopen it, see below).
    CHECK(funnel.resolve_status(placed, false, refused, placement_window::closed) ==
          status_resolution::resolved);
    CHECK(output.of_kind(exec_kind::reject).size() == 1);
}

TEST_CASE_METHOD(
    funnel_fixture,
    "a reconciliation that lists an order of this run ended as never taken reopens it, with "
    "its fills asked from its trades; an order that ended otherwise stays ended",
    "[binance_report_funnel]") {
    const order_request order = buy(14, 1'000);
    funnel.open(order);
    // The status query failed (a refused request): the placement is ended as never taken.
    api_answer refused;
    refused.outcome = answer_outcome::reject;
    refused.status = 403;
    (void)funnel.resolve_status(order, false, refused);
    REQUIRE(output.of_kind(exec_kind::reject).size() == 1);

    // The venue lists it open, 100 lots filled.
    answered_order listed = cancelled(100, 6'000);
    listed.status = venue_order_status::partially_filled;
    funnel.listed_open(order.id, listed);
    const auto acks = output.of_kind(exec_kind::ack);
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].client_id == order.id);
    CHECK(acks[0].exchange_id == 77);
    REQUIRE(output.wanted.size() == 1);
    CHECK(funnel.trades_answered(order, std::vector<venue_trade>{trade(21, 100, 5'500)}, 1) ==
          status_resolution::resolved);
    REQUIRE(output.of_kind(exec_kind::partial_fill).size() == 1);
    CHECK(output.of_kind(exec_kind::partial_fill)[0].venue_time_ms == 5'500);
    // Listed again: nothing new.
    funnel.listed_open(order.id, listed);
    CHECK(output.of_kind(exec_kind::ack).size() == 1);
    CHECK(output.of_kind(exec_kind::partial_fill).size() == 1);

    // One whose cancel was reported is not reopened by an older listing.
    const order_request other = buy(15, 1'000);
    funnel.open(other);
    funnel.ack(other, 78);
    funnel.terminal(other, exec_kind::cancelled, reject_reason::user_cancel);
    answered_order stale = cancelled(0, 6'000);
    stale.order_id = 78;
    stale.status = venue_order_status::new_order;
    funnel.listed_open(other.id, stale);
    CHECK(output.of_kind(exec_kind::ack).size() == 2); // the one of `other` itself
}
