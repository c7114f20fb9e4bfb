#include "quoter/exec/binance_rate_limits.hpp"

#include "exec/binance_reconnect.hpp"

#include <catch2/catch.hpp>

#include <array>

using namespace quoter;
using namespace quoter::exec;

namespace {

constexpr core::timestamp_ns t0 = 1'733'300'000'000'000'000; // 20 s past a minute
constexpr core::duration_ns ms = core::ns_per_ms;
constexpr core::duration_ns s = core::ns_per_s;

/// A 20% cancel reserve, backoffs of 1 s to 8 s, a kill a second.
rate_limiter_config small_config() {
    return {.cancel_reserve_pct = 20,
            .backoff_initial = 1 * s,
            .backoff_max = 8 * s,
            .kill_interval = 1 * s};
}

order_rate_limiter small_limiter() {
    order_rate_limiter limiter(small_config());
    REQUIRE(limiter.add_rule({rate_limit_type::request_weight, 60 * s, 100}));
    REQUIRE(limiter.add_rule({rate_limit_type::orders, 10 * s, 10}));
    return limiter;
}

/// The venue reports `usage` at t0 + 2 s, a count of 79 for the limiter's first rule (limit
/// 100, of which new orders may use 80) after one order of this process at t0 + 1 s: the count
/// is the floor, one more new order goes, the next is over the limit, a cancel still goes.
void expect_floor_of_79(order_rate_limiter& limiter, const rate_usage& usage) {
    REQUIRE(limiter.try_send(request_class::new_order, 1, t0 + 1 * s) == admit_result::ok);
    limiter.on_usage(usage, t0 + 2 * s);
    CHECK(limiter.used(0, t0 + 2 * s) == 79);
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 3 * s) == admit_result::ok); // 80
    CHECK(limiter.used(0, t0 + 3 * s) == 80);
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 3 * s) == admit_result::over_limit);
    CHECK(limiter.try_send(request_class::cancel, 1, t0 + 3 * s) == admit_result::ok);
}

} // namespace

TEST_CASE("exchangeInfo rateLimits become rules", "[binance_rate_limits]") {
    std::array<rate_limit_rule, 8> rules{};
    const int count =
        parse_rate_limit_rules(R"({"timezone":"UTC","serverTime":1565246363776,"rateLimits":[
        {"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},
        {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":100},
        {"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":200000},
        {"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":61000}],
        "exchangeFilters":[],"symbols":[]})",
                               rules);
    REQUIRE(count == 4);
    CHECK(rules[0].type == rate_limit_type::request_weight);
    CHECK(rules[0].interval_ns == 60 * s);
    CHECK(rules[0].limit == 6000);
    CHECK(rules[1].type == rate_limit_type::orders);
    CHECK(rules[1].interval_ns == 10 * s);
    CHECK(rules[2].interval_ns == 86'400 * s);
    CHECK(rules[3].type == rate_limit_type::raw_requests);
    CHECK(rules[3].interval_ns == 300 * s);
    // The WebSocket API's exchangeInfo answers under "result".
    CHECK(
        parse_rate_limit_rules(
            R"({"id":1,"status":200,"result":{"rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50}]}})",
            rules) == 1);
    CHECK(parse_rate_limit_rules("{}", rules) == -1);
    CHECK(parse_rate_limit_rules("nope", rules) == -1);
}

TEST_CASE("new orders stop short of the cancel reserve; cancels use it", "[binance_rate_limits]") {
    auto limiter = small_limiter();
    // Queries of weight 10: the reserve is 20 of 100, so 8 pass and the 9th does not.
    for (int i = 0; i < 8; ++i) {
        REQUIRE(limiter.try_send(request_class::query, 10, t0 + i * ms) == admit_result::ok);
    }
    CHECK(limiter.try_send(request_class::query, 10, t0 + 10 * ms) == admit_result::over_limit);
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 10 * ms) == admit_result::over_limit);
    CHECK(limiter.used(0, t0 + 10 * ms) == 80);
    // Cancels still go out up to the limit itself, and a kill after them.
    for (int i = 0; i < 19; ++i) {
        REQUIRE(limiter.try_send(request_class::cancel, 1, t0 + 20 * ms) == admit_result::ok);
    }
    CHECK(limiter.try_send(request_class::kill, 1, t0 + 20 * ms) == admit_result::ok); // 100
    CHECK(limiter.try_send(request_class::kill, 1, t0 + 20 * ms) == admit_result::over_limit);
    CHECK(limiter.used(0, t0 + 20 * ms) == 100);
    // A minute and a bucket later everything is forgotten.
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 62 * s) == admit_result::ok);
    CHECK(limiter.used(0, t0 + 62 * s) == 1);
}

TEST_CASE("ORDERS rules count new orders only", "[binance_rate_limits]") {
    auto limiter = small_limiter();
    // 8 of 10 orders per 10 s (20% reserve), then cancels are not refused by the ORDERS rule.
    for (int i = 0; i < 8; ++i) {
        REQUIRE(limiter.try_send(request_class::new_order, 1, t0 + i * ms) == admit_result::ok);
    }
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 9 * ms) == admit_result::over_limit);
    CHECK(limiter.try_send(request_class::cancel, 1, t0 + 9 * ms) == admit_result::ok);
    CHECK(limiter.used(1, t0 + 9 * ms) == 8);
    // The 10 s window slides on.
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 11 * s) == admit_result::ok);
}

TEST_CASE("the venue's counts raise the floor until its interval ends", "[binance_rate_limits]") {
    auto limiter = small_limiter();
    // Another program on the same IP used 78 weight this minute: the venue says 79.
    rate_usage usage;
    usage.weight_1m = 79;
    expect_floor_of_79(limiter, usage);
    // A stale, lower count of the same interval (an answer overtaken by later sends) does not
    // lower the floor.
    usage.weight_1m = 60;
    limiter.on_usage(usage, t0 + 4 * s);
    CHECK(limiter.used(0, t0 + 4 * s) == 81);
    // The venue's minute ended at t0 + 40 s: only the local count (3) is left.
    CHECK(limiter.used(0, t0 + 60 * s) == 3);
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 60 * s) == admit_result::ok);
}

TEST_CASE("the venue's count of the minute's orders raises the floor of a one-minute orders rule",
          "[binance_rate_limits]") {
    // USD-M futures: 1,200 orders a minute, counted by the venue in X-MBX-ORDER-COUNT-1M. Orders
    // a restarted process or another program sent this minute count before this one's.
    order_rate_limiter limiter(small_config());
    REQUIRE(limiter.add_rule({rate_limit_type::orders, 60 * s, 100}));
    rate_usage usage;
    usage.orders_1m = 79;
    expect_floor_of_79(limiter, usage);
}

TEST_CASE("the venue's interval is the venue clock's: a floor ends when the venue's minute does",
          "[binance_rate_limits]") {
    // t0 + 2 s is 22 s into a minute of our clock (whose end is t0 + 40 s).
    rate_usage usage;
    usage.weight_1m = 79;
    SECTION("the venue 40 s ahead: 2 s into its minute, which ends at t0 + 60 s of ours") {
        auto limiter = small_limiter();
        limiter.on_usage(usage, t0 + 2 * s, 40 * s);
        CHECK(limiter.used(0, t0 + 59 * s) == 79);
        CHECK(limiter.used(0, t0 + 60 * s) == 0);
    }
    SECTION("the venue 10 s behind: its minute ends at t0 + 50 s of ours") {
        auto limiter = small_limiter();
        limiter.on_usage(usage, t0 + 2 * s, -10 * s);
        CHECK(limiter.used(0, t0 + 49 * s) == 79);
        CHECK(limiter.used(0, t0 + 50 * s) == 0);
    }
}

TEST_CASE("429 backs off, escalating, and lets a rare kill through", "[binance_rate_limits]") {
    auto limiter = small_limiter();
    limiter.on_outcome(answer_outcome::retry_after, 0, t0);
    CHECK(limiter.resume_at() == t0 + 1 * s);
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 500 * ms) ==
          admit_result::backing_off);
    CHECK(limiter.try_send(request_class::cancel, 1, t0 + 500 * ms) == admit_result::backing_off);
    CHECK(limiter.try_send(request_class::kill, 1, t0 + 500 * ms) == admit_result::ok);
    CHECK(limiter.try_send(request_class::kill, 1, t0 + 600 * ms) == admit_result::backing_off);
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 1 * s) == admit_result::ok);
    // A second 429 without an answer in between doubles the pause.
    limiter.on_outcome(answer_outcome::retry_after, 0, t0 + 2 * s);
    CHECK(limiter.resume_at() == t0 + 4 * s);
    // The venue's retryAfter wins when it gives one.
    limiter.on_outcome(answer_outcome::retry_after, (t0 + 30 * s) / ms, t0 + 3 * s);
    CHECK(limiter.resume_at() == t0 + 30 * s);
    // A normal answer resets the escalation, not the pause already ordered.
    limiter.on_outcome(answer_outcome::ok, 0, t0 + 5 * s);
    CHECK(limiter.try_send(request_class::query, 1, t0 + 6 * s) == admit_result::backing_off);
    limiter.on_outcome(answer_outcome::retry_after, 0, t0 + 31 * s);
    CHECK(limiter.resume_at() == t0 + 32 * s);
}

TEST_CASE("by default a 429 holds kills too until its retryAfter, so nothing risks a 418",
          "[binance_rate_limits]") {
    order_rate_limiter limiter; // the defaults the gateway uses
    REQUIRE(limiter.add_rule({rate_limit_type::request_weight, 60 * s, 6'000}));
    limiter.on_outcome(answer_outcome::retry_after, (t0 + 2 * s) / ms, t0);
    CHECK(limiter.try_send(request_class::kill, 1, t0 + 1 * ms) == admit_result::backing_off);
    CHECK(limiter.try_send(request_class::kill, 1, t0 + 1'999 * ms) == admit_result::backing_off);
    CHECK(limiter.try_send(request_class::cancel, 1, t0 + 1'999 * ms) == admit_result::backing_off);
    CHECK(limiter.try_send(request_class::kill, 1, t0 + 2 * s) == admit_result::ok);
}

TEST_CASE("an unfilled-order-count 429 stops new orders only: cancels, kills and queries go on",
          "[binance_rate_limits]") {
    order_rate_limiter limiter; // the defaults the gateway uses
    REQUIRE(limiter.add_rule({rate_limit_type::request_weight, 60 * s, 6'000}));
    REQUIRE(limiter.add_rule({rate_limit_type::orders, 10 * s, 50}));
    limiter.on_outcome(answer_outcome::retry_after, (t0 + 5 * s) / ms, t0,
                       order_rate_limiter::order_count_code);
    CHECK(limiter.resume_at() == 0);
    CHECK(limiter.orders_resume_at() == t0 + 5 * s);
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 1 * ms) == admit_result::backing_off);
    CHECK(limiter.try_send(request_class::cancel, 1, t0 + 1 * ms) == admit_result::ok);
    CHECK(limiter.try_send(request_class::kill, 1, t0 + 2 * ms) == admit_result::ok);
    CHECK(limiter.try_send(request_class::query, 20, t0 + 3 * ms) == admit_result::ok);
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 4'999 * ms) ==
          admit_result::backing_off);
    CHECK(limiter.try_send(request_class::new_order, 1, t0 + 5 * s) == admit_result::ok);

    SECTION("without retryAfter (a cancelReplace's new half) the escalation decides how long") {
        limiter.on_outcome(answer_outcome::ok, 0, t0 + 5 * s); // the escalation starts again
        limiter.on_order_count_refusal(t0 + 6 * s);
        CHECK(limiter.orders_resume_at() == t0 + 7 * s);
        CHECK(limiter.try_send(request_class::new_order, 1, t0 + 6'500 * ms) ==
              admit_result::backing_off);
        CHECK(limiter.try_send(request_class::cancel, 1, t0 + 6'500 * ms) == admit_result::ok);
        limiter.on_order_count_refusal(t0 + 7 * s);
        CHECK(limiter.orders_resume_at() == t0 + 9 * s);
    }
    SECTION("a request-weight 429 still stops everything") {
        limiter.on_outcome(answer_outcome::retry_after, (t0 + 8 * s) / ms, t0 + 6 * s, -1003);
        CHECK(limiter.try_send(request_class::cancel, 1, t0 + 7 * s) == admit_result::backing_off);
    }
}

TEST_CASE("418 stops everything, kills included, until Retry-After", "[binance_rate_limits]") {
    auto limiter = small_limiter();
    limiter.on_outcome(answer_outcome::banned, (t0 + 120 * s) / ms, t0);
    CHECK(limiter.banned());
    CHECK(limiter.try_send(request_class::kill, 1, t0 + 1 * s) == admit_result::banned);
    CHECK(limiter.try_send(request_class::cancel, 1, t0 + 119 * s) == admit_result::banned);
    CHECK(limiter.try_send(request_class::cancel, 1, t0 + 120 * s) == admit_result::ok);
    CHECK_FALSE(limiter.banned());
    // Without a Retry-After the longest backoff applies.
    limiter.on_outcome(answer_outcome::banned, 0, t0 + 200 * s);
    CHECK(limiter.resume_at() == t0 + 208 * s);
    CHECK(limiter.try_send(request_class::query, 1, t0 + 207 * s) == admit_result::banned);
}

TEST_CASE("rules that cannot work are refused", "[binance_rate_limits]") {
    order_rate_limiter limiter;
    CHECK_FALSE(limiter.add_rule({rate_limit_type::orders, 10 * s, 0}));
    CHECK_FALSE(limiter.add_rule({rate_limit_type::orders, 0, 10}));
    for (std::size_t i = 0; i < order_rate_limiter::max_rules; ++i) {
        CHECK(limiter.add_rule({rate_limit_type::raw_requests, 60 * s, 1000}));
    }
    CHECK_FALSE(limiter.add_rule({rate_limit_type::raw_requests, 60 * s, 1000}));
    // With no rules everything passes (the venue has not told its limits yet).
    order_rate_limiter open;
    CHECK(open.try_send(request_class::new_order, 50, t0) == admit_result::ok);
}

TEST_CASE("reconnects wait twice as long after each failed attempt, and out a ban",
          "[binance_rate_limits]") {
    order_rate_limiter limiter;
    net::backoff attempts(detail::reconnect_pacing(200), 1);
    const std::int64_t now_ms = t0 / ms;
    CHECK(detail::next_connect_ms(attempts, limiter, now_ms) == now_ms + 200);
    CHECK(detail::next_connect_ms(attempts, limiter, now_ms) == now_ms + 400);
    CHECK(detail::next_connect_ms(attempts, limiter, now_ms) == now_ms + 800);
    for (int i = 0; i < 10; ++i) {
        (void)detail::next_connect_ms(attempts, limiter, now_ms);
    }
    CHECK(detail::next_connect_ms(attempts, limiter, now_ms) ==
          now_ms + detail::max_reconnect_delay_ms);
    attempts.reset(); // a connection that opened
    CHECK(detail::next_connect_ms(attempts, limiter, now_ms) == now_ms + 200);
    // Banned for two minutes: not before the ban ends.
    limiter.on_outcome(answer_outcome::banned, (t0 + 120 * s) / ms, t0);
    REQUIRE(limiter.banned());
    CHECK(detail::next_connect_ms(attempts, limiter, now_ms) >= now_ms + 120'000);
}
