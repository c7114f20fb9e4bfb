// Markouts: the adverse selection cost of a hand-built fill sequence at 1 s, 10 s and 60 s.
#include "quoter/sim/markouts.hpp"

#include <catch2/catch.hpp>

using namespace quoter;
using sim::markout_tracker;

namespace {
constexpr core::timestamp_ns s = core::ns_per_s;
}

TEST_CASE("markouts: the mid's move against each fill, times its quantity", "[sim][markouts]") {
    markout_tracker t;
    t.on_mid(0, 100.0);
    // Bought 2 at t = 0 (mid 100); sold 1 at t = 0.5 s (mid 100.5).
    t.on_fill(0, core::side::buy, 2.0, 100.0);
    t.on_mid(s / 2, 100.5);
    t.on_fill(s / 2, core::side::sell, 1.0, 100.5);
    // The mid falls to 99 at 1 s: the buy's 1 s markout is 2 * (100 - 99) = 2 against us.
    t.on_mid(s, 99.0);
    // At 1.5 s it is 101: the sale's 1 s markout is 1 * (101 - 100.5) = 0.5 against us.
    t.on_mid(s + s / 2, 101.0);
    // Unchanged until 10 s, then 98 from 10.2 s on (the first mid at or after 10 s and 10.5 s).
    t.on_mid(10 * s + s / 5, 98.0);
    t.on_mid(10 * s + 6 * s / 10, 98.0);
    // 60 s: 103 at 60.1 s, 97 at 60.6 s.
    t.on_mid(60 * s + s / 10, 103.0);
    t.on_mid(60 * s + 6 * s / 10, 97.0);

    const auto totals = t.totals();
    CHECK(totals.fills == 2);
    // 1 s: buy 2 * (100 - 99) = 2, sell -1 * (101 - 100.5) ... a rise after a sale costs 0.5.
    CHECK(totals.cost[0] == Approx(2.0 + 0.5));
    // 10 s: both at 98: buy costs 2 * 2 = 4, the sale gained 1 * 2.5 = -2.5.
    CHECK(totals.cost[1] == Approx(4.0 - 2.5));
    // 60 s: buy at 103 gains 6 (cost -6); sale at 97 gains 3.5 (cost -3.5).
    CHECK(totals.cost[2] == Approx(-6.0 - 3.5));
    CHECK(totals.truncated == std::array<std::uint64_t, 3>{0, 0, 0});
}

TEST_CASE("markouts past the last mid are marked to it and counted as truncated",
          "[sim][markouts]") {
    markout_tracker t;
    t.on_fill(0, core::side::sell, 3.0, 50.0);
    t.on_mid(s, 50.1); // 1 s: a rise after a sale costs 3 * 0.1
    t.on_mid(5 * s, 49.0);
    const auto totals = t.totals();
    CHECK(totals.cost[0] == Approx(0.3));
    CHECK(totals.cost[1] == Approx(-3.0)); // marked to 49: the sale gained 3
    CHECK(totals.cost[2] == Approx(-3.0));
    CHECK(totals.truncated == std::array<std::uint64_t, 3>{0, 1, 1});
}

TEST_CASE("no fills, no cost", "[sim][markouts]") {
    markout_tracker t;
    t.on_mid(0, 1.0);
    t.on_mid(100 * s, 2.0);
    const auto totals = t.totals();
    CHECK(totals.fills == 0);
    CHECK(totals.cost == std::array<double, 3>{0.0, 0.0, 0.0});
}
