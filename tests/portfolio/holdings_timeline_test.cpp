#include "quoter/portfolio/holdings_timeline.hpp"

#include <catch2/catch.hpp>

using namespace quoter;
using quoter::portfolio::holdings_change;
using quoter::portfolio::holdings_timeline;

TEST_CASE("the fills stamped after a reading are summed; ties and untimed fills count as in it",
          "[holdings_timeline]") {
    holdings_timeline timeline;
    timeline.record(100, {.position = core::qty{5}, .cash_units = -50, .cost_units = 50});
    timeline.record(101, {.position = core::qty{-2}, .cash_units = 21, .cost_units = -20});
    timeline.record(0, {.position = core::qty{7}, .cash_units = -70, .cost_units = 70});
    const holdings_timeline::sum after_100 = timeline.after(100);
    CHECK(after_100.complete);
    CHECK(after_100.change.position == core::qty{-2});
    CHECK(after_100.change.cash_units == 21);
    CHECK(after_100.change.cost_units == -20);
    CHECK(timeline.after(99).change.position == core::qty{3});
    CHECK(timeline.after(101).change.position == core::qty{0});
}

TEST_CASE("once a reading is adopted, fills stamped no later are held; the time never moves back",
          "[holdings_timeline]") {
    holdings_timeline timeline;
    CHECK_FALSE(timeline.holds(1));
    timeline.hold_through(500);
    CHECK(timeline.holds(499));
    CHECK(timeline.holds(500));
    CHECK_FALSE(timeline.holds(501));
    CHECK_FALSE(timeline.holds(0)); // not told: never held
    timeline.hold_through(400);
    CHECK(timeline.held_through_ms() == 500);
}

TEST_CASE("a sum that would need a fill dropped from the ring says it is not complete",
          "[holdings_timeline]") {
    holdings_timeline timeline;
    for (std::size_t i = 0; i < holdings_timeline::capacity + 10; ++i) {
        timeline.record(1'000 + static_cast<std::int64_t>(i), {.position = core::qty{1}});
    }
    // Fills 1000..1009 were dropped: a reading as of 1009 or later needs none of them.
    CHECK(timeline.after(1'009).complete);
    CHECK(timeline.after(1'009).change.position ==
          core::qty{static_cast<std::int64_t>(holdings_timeline::capacity)});
    CHECK_FALSE(timeline.after(1'005).complete);
}
