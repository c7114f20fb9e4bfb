// The kill confirmation's state machine: held from the cancel-all until a query finds nothing of
// this instance resting or trading resumes, paced, never given up, a new budget per kill.
#include "quoter/exec/binance_kill_confirmation.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

using namespace quoter::exec;

namespace {

/// The symbols check_due() asked to query at now_ms; each query goes out (or is held back).
std::vector<std::uint32_t> due(kill_confirmation& kills, std::int64_t now_ms,
                               bool goes_out = true) {
    std::vector<std::uint32_t> out;
    kills.check_due(now_ms, [&](std::uint32_t symbol, std::uint32_t) {
        out.push_back(symbol);
        return goes_out;
    });
    return out;
}

} // namespace

TEST_CASE("a kill is checked a delay after its cancel-all's answer and sent again while orders "
          "rest; confirmed when none does",
          "[kill_confirmation]") {
    kill_confirmation kills(2, {.check_delay_ms = 200, .confirm_attempts = 2});
    const std::uint32_t epoch = kills.sent(1);
    CHECK(due(kills, 0).empty()); // its answer is awaited
    kills.check_again(1, epoch, 1'000, 200);
    CHECK(due(kills, 1'199).empty());
    CHECK(due(kills, 1'200) == std::vector<std::uint32_t>{1});
    CHECK(due(kills, 5'000).empty()); // the query is in flight

    auto v = kills.answered(1, epoch, true, true, 1'210);
    CHECK(v.what == kill_confirmation::outcome::send_again);
    CHECK_FALSE(v.gave_up_now);
    kills.resent(1, true);
    kills.check_again(1, epoch, 1'220, 200); // the resent cancel-all's answer
    CHECK(due(kills, 1'420) == std::vector<std::uint32_t>{1});
    v = kills.answered(1, epoch, true, false, 1'430);
    CHECK(v.what == kill_confirmation::outcome::confirmed);
    CHECK_FALSE(kills.active(1));
    CHECK(due(kills, 100'000).empty());
}

TEST_CASE("past its attempts a kill says so once and is checked eight delays apart until the "
          "venue confirms; a new kill starts a new budget",
          "[kill_confirmation]") {
    kill_confirmation kills(1, {.check_delay_ms = 100, .confirm_attempts = 2});
    const std::uint32_t epoch = kills.sent(0);
    std::int64_t now = 0;
    int alarms = 0;
    for (int round = 0; round < 6; ++round) {
        kills.check_again(0, epoch, now, 100);
        const std::int64_t delay = round < 3 ? 100 : 800;
        CHECK(due(kills, now + delay - 1).empty());
        REQUIRE(due(kills, now + delay) == std::vector<std::uint32_t>{0});
        now += delay;
        const auto v = kills.answered(0, epoch, true, true, now);
        CHECK(v.what == kill_confirmation::outcome::send_again);
        alarms += v.gave_up_now ? 1 : 0;
        CHECK(alarms == (round >= 2 ? 1 : 0));
        kills.resent(0, true);
    }
    CHECK(kills.active(0));
    // A new kill: the full budget again, at the normal pace.
    const std::uint32_t again = kills.sent(0);
    kills.check_again(0, again, now, 100);
    CHECK(due(kills, now + 100) == std::vector<std::uint32_t>{0});
    CHECK_FALSE(kills.answered(0, again, true, true, now + 100).gave_up_now);
}

TEST_CASE("a failed query counts as an attempt and is asked again; a held-back one waits a delay",
          "[kill_confirmation]") {
    kill_confirmation kills(1, {.check_delay_ms = 100, .confirm_attempts = 5});
    kills.held(0, 50); // the cancel-all could not go out: queried at once
    CHECK(due(kills, 50, false) == std::vector<std::uint32_t>{0});
    CHECK(due(kills, 149).empty());
    CHECK(due(kills, 150) == std::vector<std::uint32_t>{0});
    const auto v = kills.answered(0, kills.epoch(0), false, false, 160);
    CHECK(v.what == kill_confirmation::outcome::ask_again);
    CHECK(due(kills, 259).empty());
    CHECK(due(kills, 260) == std::vector<std::uint32_t>{0});
}

TEST_CASE("with the venue out of reach every missed check spends an attempt: the alarm is raised "
          "once, and the checks go on when it is back",
          "[kill_confirmation]") {
    struct {
        std::atomic<std::uint64_t> kill_gave_up{0};
    } counters;
    kill_confirmation kills(2, {.check_delay_ms = 100, .confirm_attempts = 3});
    kills.held(1, 0); // the cancel-all could not go out: the connection is down
    for (std::int64_t now = 0; now <= 2'000; now += 10) {
        kills.missed_checks(now, counters);
    }
    CHECK(counters.kill_gave_up.load() == 1); // after 3 missed checks, once
    CHECK(kills.active(1));
    CHECK_FALSE(kills.active(0));
    // Back: the next check goes out, eight delays after the last missed one, and confirms.
    CHECK(due(kills, 2'000).empty());
    const std::vector<std::uint32_t> back = due(kills, 3'000);
    REQUIRE(back == std::vector<std::uint32_t>{1});
    CHECK(kills.answered(1, kills.epoch(1), true, false, 3'010).what ==
          kill_confirmation::outcome::confirmed);
    CHECK(counters.kill_gave_up.load() == 1);
}

TEST_CASE("trading resumed: an unconfirmed kill ends and the answers to its requests change "
          "nothing",
          "[kill_confirmation]") {
    kill_confirmation kills(1, {.check_delay_ms = 100, .confirm_attempts = 5});
    const std::uint32_t epoch = kills.sent(0);
    kills.end(0);
    CHECK_FALSE(kills.active(0));
    kills.check_again(0, epoch, 0, 100); // the old cancel-all's answer
    CHECK_FALSE(kills.active(0));
    CHECK(kills.answered(0, epoch, true, true, 10).what == kill_confirmation::outcome::stale);
    CHECK(due(kills, 10'000).empty());
    // Out of range: nothing.
    CHECK(kills.answered(7, 0, true, true, 10).what == kill_confirmation::outcome::stale);
    kills.held(7, 0);
    CHECK(due(kills, 10'000).empty());
}

TEST_CASE("a kill must remove this instance's orders, and others' only when told to",
          "[kill_confirmation]") {
    const client_id_factory ids("gwt", 1'700'000'000'000'000);
    const client_id_factory earlier("gwt", 1'600'000'000'000'000);
    const client_id_factory manual("man", 1'700'000'000'000'000);
    const auto order_of = [](const client_id_factory& factory, std::uint64_t id) {
        answered_order o;
        o.client_id.assign(factory.format(client_order_id{id}).view());
        return o;
    };
    const std::vector<answered_order> none;
    const std::vector<answered_order> foreign{order_of(manual, 1)};
    const std::vector<answered_order> mine{order_of(manual, 1), order_of(ids, 2)};
    const std::vector<answered_order> earlier_run{order_of(earlier, 3)};
    CHECK_FALSE(kill_must_remove(none, ids, false));
    CHECK_FALSE(kill_must_remove(foreign, ids, false)); // placed by hand: left alone
    CHECK(kill_must_remove(foreign, ids, true));
    CHECK(kill_must_remove(mine, ids, false));
    CHECK(kill_must_remove(earlier_run, ids, false)); // this instance's, from before a restart
}

TEST_CASE("a listing with nothing resting does not confirm while a placement may still be taken; "
          "it is asked again without spending an attempt",
          "[kill_confirmation]") {
    kill_confirmation kills(1, {.check_delay_ms = 200, .confirm_attempts = 1});
    const std::uint32_t epoch = kills.sent(0);
    kills.check_again(0, epoch, 0, 200);
    std::int64_t now = 200;
    for (int round = 0; round < 5; ++round) {
        REQUIRE(due(kills, now) == std::vector<std::uint32_t>{0});
        const auto v = kills.answered(0, epoch, true, false, now + 5, true);
        CHECK(v.what == kill_confirmation::outcome::ask_again);
        CHECK_FALSE(v.gave_up_now); // waiting for a placement is not a failed attempt
        CHECK(kills.active(0));
        CHECK(due(kills, now + 204).empty());
        now += 205;
    }
    // The placement was taken late: it rests, and the cancel-all goes again.
    REQUIRE(due(kills, now) == std::vector<std::uint32_t>{0});
    CHECK(kills.answered(0, epoch, true, true, now + 5, false).what ==
          kill_confirmation::outcome::send_again);
    kills.resent(0, true);
    kills.check_again(0, epoch, now + 10, 200);
    REQUIRE(due(kills, now + 210) == std::vector<std::uint32_t>{0});
    CHECK(kills.answered(0, epoch, true, false, now + 215, false).what ==
          kill_confirmation::outcome::confirmed);
}

TEST_CASE("the owner sees a kill unconfirmed from the cancel-all it handed over until the venue "
          "confirms it or trading resumed",
          "[kill_confirmation]") {
    kill_confirmation kills(2, {.check_delay_ms = 100, .confirm_attempts = 1});
    std::uint64_t requested = 0; // the owner's count of cancel-alls handed to the I/O thread
    CHECK_FALSE(kills.unconfirmed(0, requested));
    ++requested; // in the queue, not taken yet
    CHECK(kills.unconfirmed(0, requested));
    CHECK_FALSE(kills.unconfirmed(1, 0)); // another symbol's kill is its own
    const std::uint32_t epoch = kills.sent(0);
    CHECK(kills.unconfirmed(0, requested));
    // Past the attempts, given up: still unconfirmed.
    kills.check_again(0, epoch, 0, 100);
    REQUIRE(due(kills, 100) == std::vector<std::uint32_t>{0});
    CHECK(kills.answered(0, epoch, true, true, 100).what == kill_confirmation::outcome::send_again);
    kills.resent(0, false);
    REQUIRE(due(kills, 200) == std::vector<std::uint32_t>{0});
    CHECK(kills.answered(0, epoch, true, true, 200).gave_up_now);
    CHECK(kills.unconfirmed(0, requested));
    // A listing with nothing of ours resting confirms it.
    REQUIRE(due(kills, 1'000) == std::vector<std::uint32_t>{0});
    CHECK(kills.answered(0, epoch, true, false, 1'000).what ==
          kill_confirmation::outcome::confirmed);
    CHECK_FALSE(kills.unconfirmed(0, requested));

    // A kill held back (no connection) is unconfirmed too; a resumed session's quote ends it.
    ++requested;
    kills.held(0, 2'000);
    CHECK(kills.unconfirmed(0, requested));
    kills.end(0);
    CHECK_FALSE(kills.unconfirmed(0, requested));
    CHECK_FALSE(kills.unconfirmed(7, requested)); // out of range
}
