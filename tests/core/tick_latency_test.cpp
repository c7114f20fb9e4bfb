// tick_latency: each hop is measured from the last point the tick reached, end to end only for
// ticks that produced an order.
#include "quoter/core/tick_latency.hpp"

#include <catch2/catch.hpp>

#include <memory>

using quoter::core::tick_latency;
using quoter::core::tick_point;
using quoter::core::tick_stamps;

namespace {

/// Every point from socket_read on, 100, 200, ... ns apart (no kernel stamps).
tick_stamps full_tick(std::int64_t start) {
    tick_stamps s;
    std::int64_t at = start;
    const auto first = static_cast<std::size_t>(tick_point::socket_read);
    for (std::size_t i = first; i < quoter::core::tick_point_count; ++i) {
        at += static_cast<std::int64_t>(i - first) * 100;
        s.at[i] = at;
    }
    return s;
}

} // namespace

TEST_CASE("a tick through every point fills every hop and the end to end", "[tick_latency]") {
    auto latency = std::make_unique<tick_latency>();
    latency->record(full_tick(1'000'000));
    CHECK(latency->ticks() == 1);
    CHECK(latency->hop(tick_point::socket_read).count() == 0); // no kernel stamps
    CHECK(latency->kernel_to_read().count() == 0);
    CHECK(latency->hop(tick_point::decoded).max() == 100);
    CHECK(latency->hop(tick_point::pushed).max() == 200);
    CHECK(latency->hop(tick_point::written).max() == 700);
    CHECK(latency->end_to_end().count() == 1);
    CHECK(latency->end_to_end().max() == 100 + 200 + 300 + 400 + 500 + 600 + 700);
}

TEST_CASE("a point not reached is skipped: the next hop runs from the last point reached",
          "[tick_latency]") {
    auto latency = std::make_unique<tick_latency>();
    tick_stamps s = full_tick(5'000);
    s[tick_point::pushed] = 0;
    s[tick_point::written] = 0;
    latency->record(s);
    CHECK(latency->hop(tick_point::pushed).count() == 0);
    CHECK(latency->hop(tick_point::popped).max() == 200 + 300);
    CHECK(latency->hop(tick_point::written).count() == 0);
    // Without a written stamp the order leaves at encoded.
    CHECK(latency->end_to_end().max() == s[tick_point::encoded] - s[tick_point::socket_read]);
}

TEST_CASE("a tick without an order has hops but no end to end", "[tick_latency]") {
    auto latency = std::make_unique<tick_latency>();
    tick_stamps s = full_tick(7'000);
    s[tick_point::risk_passed] = 0;
    s[tick_point::encoded] = 0;
    s[tick_point::written] = 0;
    latency->record(s);
    CHECK(latency->hop(tick_point::decided).count() == 1);
    CHECK(latency->end_to_end().count() == 0);

    const quoter::core::tick_latency_summary summary = latency->summary();
    CHECK(summary.ticks == 1);
    CHECK(summary.hops[static_cast<std::size_t>(tick_point::decided)].p50 == 400);
    CHECK(summary.end_to_end.count == 0);

    latency->reset();
    CHECK(latency->ticks() == 0);
    CHECK(latency->hop(tick_point::decided).count() == 0);
}

TEST_CASE("the ticks that sent an order keep their own hops; the kernel hops stay out of the end "
          "to end",
          "[tick_latency]") {
    auto latency = std::make_unique<tick_latency>();
    tick_stamps order = full_tick(10'000);
    order[tick_point::kernel_rx] = order[tick_point::socket_read] - 5'000;
    order[tick_point::received] = order[tick_point::socket_read] - 1'000;
    tick_stamps quiet = full_tick(50'000); // decided, no order
    quiet[tick_point::decided] += 9'000;   // a slow decision on a tick without an order
    quiet[tick_point::risk_passed] = 0;
    quiet[tick_point::encoded] = 0;
    quiet[tick_point::written] = 0;
    latency->record(order);
    latency->record(quiet);

    CHECK(latency->hop(tick_point::decided).count() == 2);
    CHECK(latency->hop(tick_point::decided).max() == 400 + 9'000);
    CHECK(latency->order_hop(tick_point::decided).count() == 1);
    CHECK(latency->order_hop(tick_point::decided).max() == 400);
    CHECK(latency->order_hop(tick_point::encoded).max() == 600);
    // kernel -> recv and recv -> frame read, per tick; the end to end starts at the read.
    CHECK(latency->hop(tick_point::received).max() == 4'000);
    CHECK(latency->hop(tick_point::socket_read).max() == 1'000);
    CHECK(latency->order_hop(tick_point::socket_read).count() == 1);
    CHECK(latency->kernel_to_read().count() == 1);
    CHECK(latency->kernel_to_read().max() == 5'000);
    CHECK(latency->end_to_end().max() == 100 + 200 + 300 + 400 + 500 + 600 + 700);

    const quoter::core::tick_latency_summary summary = latency->summary();
    CHECK(summary.kernel_to_read.count == 1);
    CHECK(summary.order_hops[static_cast<std::size_t>(tick_point::decided)].count == 1);
    CHECK(summary.hops[static_cast<std::size_t>(tick_point::decided)].count == 2);
    CHECK(hop_label(tick_point::received) == "kernel -> recv");
    CHECK(hop_label(tick_point::decoded) == "decoded");

    latency->reset();
    CHECK(latency->order_hop(tick_point::decided).count() == 0);
    CHECK(latency->kernel_to_read().count() == 0);
}

TEST_CASE("a stamp before the previous one counts as zero", "[tick_latency]") {
    auto latency = std::make_unique<tick_latency>();
    tick_stamps s = full_tick(9'000);
    s[tick_point::popped] = s[tick_point::pushed] - 50;
    latency->record(s);
    CHECK(latency->hop(tick_point::popped).max() == 0);
    CHECK(to_string(tick_point::risk_passed) == "risk_passed");
}

TEST_CASE("a tick waiting for its written stamp is recorded with it, or without it when it "
          "expires or its slot is needed",
          "[tick_latency]") {
    using quoter::core::pending_written;
    auto latency = std::make_unique<tick_latency>();
    pending_written waiting;
    tick_stamps stamps;
    stamps[tick_point::socket_read] = 1'000;
    stamps[tick_point::encoded] = 3'000;

    waiting.add(7, stamps, *latency);
    CHECK(latency->ticks() == 0);
    CHECK_FALSE(waiting.on_written(9, 3'500, *latency)); // another request: nobody waits for it
    CHECK(waiting.on_written(7, 3'400, *latency));
    CHECK(latency->ticks() == 1);
    CHECK(latency->hop(tick_point::written).max() == 400);
    CHECK(latency->end_to_end().max() == 2'400); // read -> written
    CHECK(waiting.size() == 0);
    CHECK_FALSE(waiting.on_written(7, 3'600, *latency)); // recorded once

    // Never written (refused unsent): expire records it up to encoded.
    waiting.add(11, stamps, *latency);
    waiting.expire(3'000, *latency); // encoded at 3000 is not before 3000: still waits
    CHECK(waiting.size() == 1);
    waiting.expire(3'001, *latency);
    CHECK(waiting.size() == 0);
    CHECK(latency->ticks() == 2);
    CHECK(latency->hop(tick_point::written).count() == 1);
    CHECK(latency->end_to_end().count() == 2);

    // More ticks waiting than slots: the oldest is recorded without its stamp.
    for (std::uint64_t id = 1; id <= pending_written::capacity + 1; ++id) {
        waiting.add(100 + id, stamps, *latency);
    }
    CHECK(waiting.size() == pending_written::capacity);
    CHECK(latency->ticks() == 3);
    CHECK_FALSE(waiting.on_written(101, 5'000, *latency));
    CHECK(waiting.on_written(102, 5'000, *latency));
}
