// The venue's spot WebSocket API order endpoints, driven without a socket: requests written and
// signed by the engine's own encoder, answers read by the engine's own decoder.
#include "ed25519_test_keys.hpp"
#include "order_api.hpp"

#include "quoter/exec/binance_answer.hpp"
#include "quoter/exec/binance_spot_requests.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>

using namespace quoter;

namespace {

constexpr std::string_view api_key =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr std::string_view secret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
constexpr std::int64_t now_ms = 1'733'300'000'000;

struct venue_fixture {
    venue::market_state market;
    std::size_t symbol = market.add_symbol("BTCUSDT");
    venue::order_api api{market, venue::order_api_options{}};
    exec::hmac_signer signer{secret};
    exec::spot_request_encoder encoder{api_key, signer, 5000};
    std::array<core::symbol_spec, 1> specs{
        core::symbol_spec::from_text({.name = "BTCUSDT",
                                      .tick_size = "0.01000000",
                                      .step_size = "0.00001000",
                                      .min_notional = "5.00000000"})
            .value()};
    exec::answer_decoder decoder{specs};
    std::array<char, exec::max_request_bytes> out{};

    venue_fixture() { set_book("60000.00", "60001.00"); }

    void set_book(const std::string& bid, const std::string& ask) {
        venue::symbol_state& state = market.at(symbol);
        state.book.bids.clear();
        state.book.asks.clear();
        state.book.apply({{bid, "1.00000"}}, {{ask, "1.00000"}});
    }

    exec::order_request order(core::side side, std::int64_t ticks) const {
        exec::order_request request;
        request.side = side;
        request.post_only = true;
        request.price = core::price{ticks};
        request.qty = core::qty{100}; // 0.001
        return request;
    }

    const exec::api_answer& send(std::string_view frame, std::int64_t at_ms = now_ms) {
        REQUIRE_FALSE(frame.empty());
        return decoder.decode_ws(api.handle(frame, at_ms));
    }
};

} // namespace

TEST_CASE("a signed order.place is accepted and rests", "[venue_order_api]") {
    venue_fixture venue;
    const auto& answer = venue.send(
        venue.encoder.place(venue.out, 1, venue.specs[0], venue.order(core::side::buy, 5'999'900),
                            "qA1", exec::order_response_type::result, now_ms));
    CHECK(answer.outcome == exec::answer_outcome::ok);
    CHECK(answer.request_id == 1);
    REQUIRE(answer.has_order);
    CHECK(answer.order.client_id.view() == "qA1");
    CHECK(answer.order.status == exec::venue_order_status::new_order);
    CHECK(answer.order.price == core::price{5'999'900});
    CHECK(venue.api.stats().orders_placed == 1);
}

TEST_CASE("a bad signature, key or timestamp is refused", "[venue_order_api]") {
    venue_fixture venue;
    std::string frame(venue.encoder.place(venue.out, 2, venue.specs[0],
                                          venue.order(core::side::buy, 5'999'900), "qA1",
                                          exec::order_response_type::ack, now_ms));
    // One hex digit of the signature changed.
    std::string tampered = frame;
    const std::size_t at = tampered.find("\"signature\":\"") + 13;
    tampered[at] = tampered[at] == '0' ? '1' : '0';
    const auto& bad = venue.send(tampered);
    CHECK(bad.outcome == exec::answer_outcome::reject);
    CHECK(bad.status == 400);
    CHECK(bad.code == -1022);
    CHECK(venue.api.stats().signature_failures == 1);

    // A parameter changed after signing (price) breaks the signature too.
    std::string edited = frame;
    edited.replace(edited.find("59999.00"), 8, "59998.00");
    CHECK(venue.send(edited).code == -1022);

    // Signed with another secret.
    const exec::hmac_signer other("another-secret");
    exec::spot_request_encoder stranger(api_key, other, 5000);
    CHECK(venue.send(stranger.cancel_all(venue.out, 3, "BTCUSDT", now_ms)).code == -1022);

    // An unknown key.
    exec::spot_request_encoder unknown("someoneElsesKey", venue.signer, 5000);
    const auto& key = venue.send(unknown.cancel_all(venue.out, 4, "BTCUSDT", now_ms));
    CHECK(key.status == 401);
    CHECK(key.code == -2015);

    // Outside the recvWindow: clock skew.
    CHECK(venue.send(frame, now_ms + 6000).outcome == exec::answer_outcome::clock_skew);
    CHECK(venue.send(frame, now_ms - 2000).outcome == exec::answer_outcome::clock_skew);

    // None of them placed anything; the original is still accepted.
    CHECK(venue.api.stats().orders_placed == 0);
    CHECK(venue.send(frame).outcome == exec::answer_outcome::ok);
}

TEST_CASE("a LIMIT_MAKER that would cross is a post-only reject", "[venue_order_api]") {
    venue_fixture venue;
    const auto& answer = venue.send(
        venue.encoder.place(venue.out, 5, venue.specs[0], venue.order(core::side::buy, 6'000'100),
                            "qA1", exec::order_response_type::ack, now_ms));
    CHECK(answer.outcome == exec::answer_outcome::post_only_reject);
    CHECK(answer.code == -2010);
    CHECK(venue.api.stats().orders_rejected == 1);
}

TEST_CASE("cancel, cancel of an unknown order, and cancel-all", "[venue_order_api]") {
    venue_fixture venue;
    REQUIRE(venue.send(venue.encoder.user_data_subscribe(venue.out, 7, now_ms)).outcome ==
            exec::answer_outcome::ok);
    REQUIRE(venue.api.take_subscription().has_value());
    REQUIRE(venue.send(venue.encoder.open_orders_status(venue.out, 8, "BTCUSDT", now_ms)).outcome ==
            exec::answer_outcome::ok);
    REQUIRE(venue.send(venue.encoder.account_status(venue.out, 9, now_ms)).outcome ==
            exec::answer_outcome::ok);
    REQUIRE(venue
                .send(venue.encoder.place(venue.out, 1, venue.specs[0],
                                          venue.order(core::side::buy, 5'999'000), "qA1",
                                          exec::order_response_type::ack, now_ms))
                .outcome == exec::answer_outcome::ok);
    const auto& cancelled =
        venue.send(venue.encoder.cancel(venue.out, 2, "BTCUSDT", "qA1", "qC1", now_ms + 1));
    CHECK(cancelled.outcome == exec::answer_outcome::ok);
    REQUIRE(cancelled.has_order);
    CHECK(cancelled.order.status == exec::venue_order_status::canceled);
    CHECK(cancelled.order.orig_client_id.view() == "qA1");
    CHECK(cancelled.order.client_id.view() == "qC1");
    CHECK(
        venue.send(venue.encoder.cancel(venue.out, 3, "BTCUSDT", "qA1", "", now_ms + 2)).outcome ==
        exec::answer_outcome::unknown_order);

    // A duplicate of an open order's id is refused; once cancelled the id is free again.
    for (int i = 0; i < 2; ++i) {
        REQUIRE(venue
                    .send(venue.encoder.place(
                        venue.out, 4, venue.specs[0], venue.order(core::side::sell, 6'001'000 + i),
                        i == 0 ? "qA2" : "qA3", exec::order_response_type::ack, now_ms + 3))
                    .outcome == exec::answer_outcome::ok);
    }
    CHECK(venue
              .send(venue.encoder.place(venue.out, 5, venue.specs[0],
                                        venue.order(core::side::sell, 6'002'000), "qA2",
                                        exec::order_response_type::ack, now_ms + 3))
              .outcome == exec::answer_outcome::reject);
    const std::string all =
        venue.api.handle(venue.encoder.cancel_all(venue.out, 6, "BTCUSDT", now_ms + 4), now_ms + 4);
    CHECK(venue.decoder.decode_ws(all).outcome == exec::answer_outcome::ok);
    CHECK(all.find("\"origClientOrderId\":\"qA2\"") != std::string::npos);
    CHECK(all.find("\"origClientOrderId\":\"qA3\"") != std::string::npos);
    CHECK(venue.api.stats().orders_cancelled == 3);
    CHECK(venue.send(venue.encoder.cancel_all(venue.out, 7, "BTCUSDT", now_ms + 5)).outcome ==
          exec::answer_outcome::unknown_order);
}

TEST_CASE("a resting order fills when the book moves through it", "[venue_order_api]") {
    venue_fixture venue;
    REQUIRE(venue.send(venue.encoder.user_data_subscribe(venue.out, 7, now_ms)).outcome ==
            exec::answer_outcome::ok);
    REQUIRE(venue.api.take_subscription().has_value());
    REQUIRE(venue.send(venue.encoder.open_orders_status(venue.out, 8, "BTCUSDT", now_ms)).outcome ==
            exec::answer_outcome::ok);
    REQUIRE(venue.send(venue.encoder.account_status(venue.out, 9, now_ms)).outcome ==
            exec::answer_outcome::ok);
    REQUIRE(venue
                .send(venue.encoder.place(venue.out, 1, venue.specs[0],
                                          venue.order(core::side::buy, 5'999'900), "qA1",
                                          exec::order_response_type::ack, now_ms))
                .outcome == exec::answer_outcome::ok);
    venue.set_book("59990.00", "59999.00"); // the ask came down to the order's price
    // The order filled as maker before the cancel arrived: the cancel finds nothing.
    CHECK(
        venue.send(venue.encoder.cancel(venue.out, 2, "BTCUSDT", "qA1", "", now_ms + 10)).outcome ==
        exec::answer_outcome::unknown_order);
}

TEST_CASE("malformed requests and unsupported methods", "[venue_order_api]") {
    venue_fixture venue;
    CHECK(venue.decoder.decode_ws(venue.api.handle("{", now_ms)).code == -1000);
    std::array<char, 512> frame{};
    const std::string_view request = venue.encoder.account_status(frame, 9, now_ms);
    std::string renamed(request);
    renamed.replace(renamed.find("account.status"), 14, "account.nothing");
    const auto& unsupported = venue.decoder.decode_ws(venue.api.handle(renamed, now_ms));
    CHECK(unsupported.outcome == exec::answer_outcome::reject);
    CHECK(unsupported.code == -1000);
}

TEST_CASE("order.status of an order the venue does not have is -2013", "[venue_order_api]") {
    venue_fixture venue;
    const auto& status =
        venue.send(venue.encoder.order_status(venue.out, 9, "BTCUSDT", "qA1", now_ms));
    CHECK(status.outcome == exec::answer_outcome::unknown_order);
    CHECK(status.code == -2013);
}

TEST_CASE("openOrders.status lists the resting orders and account.status the balances",
          "[venue_order_api]") {
    venue_fixture venue;
    REQUIRE(venue.send(venue.encoder.user_data_subscribe(venue.out, 7, now_ms)).outcome ==
            exec::answer_outcome::ok);
    REQUIRE(venue.api.take_subscription().has_value());
    REQUIRE(venue.send(venue.encoder.open_orders_status(venue.out, 8, "BTCUSDT", now_ms)).outcome ==
            exec::answer_outcome::ok);
    REQUIRE(venue.send(venue.encoder.account_status(venue.out, 9, now_ms)).outcome ==
            exec::answer_outcome::ok);
    REQUIRE(venue
                .send(venue.encoder.place(venue.out, 1, venue.specs[0],
                                          venue.order(core::side::buy, 5'999'900), "qA1",
                                          exec::order_response_type::ack, now_ms))
                .outcome == exec::answer_outcome::ok);
    const auto& listing =
        venue.send(venue.encoder.open_orders_status(venue.out, 2, "BTCUSDT", now_ms));
    REQUIRE(listing.outcome == exec::answer_outcome::ok);
    REQUIRE(venue.decoder.listed_orders().size() == 1);
    CHECK(venue.decoder.listed_orders()[0].client_id.view() == "qA1");
    const auto& account = venue.send(venue.encoder.account_status(venue.out, 3, now_ms));
    REQUIRE(account.outcome == exec::answer_outcome::ok);
    REQUIRE(venue.decoder.listed_balances().size() == 2);
    CHECK(venue.api.open_order_count() == 1);
}

TEST_CASE("session.logon verifies the Ed25519 key; only a logged-on connection may send unsigned "
          "requests",
          "[venue_order_api][ed25519]") {
    const testing::ed25519_test_keys keys;
    const testing::ed25519_test_keys stranger_keys;
    venue::market_state market;
    (void)market.add_symbol("BTCUSDT");
    venue::order_api_options options;
    options.api_ed25519_public_pem = keys.public_pem();
    venue::order_api api(market, options);
    const std::array specs{core::symbol_spec::from_text({.name = "BTCUSDT",
                                                         .tick_size = "0.01000000",
                                                         .step_size = "0.00001000",
                                                         .min_notional = "5.00000000"})
                               .value()};
    exec::answer_decoder decoder(specs);
    std::array<char, exec::max_request_bytes> out{};
    const exec::hmac_signer unused;
    exec::spot_request_encoder encoder(api_key, unused, 5000);
    encoder.set_session_auth(true);
    auto signer = exec::ed25519_signer::from_private_key(keys.private_pem());
    REQUIRE(signer.has_value());
    auto stranger = exec::ed25519_signer::from_private_key(stranger_keys.private_pem());
    REQUIRE(stranger.has_value());
    exec::order_request order;
    order.side = core::side::buy;
    order.post_only = true;
    order.price = core::price{5'999'900};
    order.qty = core::qty{100};

    venue::api_session session;
    const auto send = [&](std::string_view frame, venue::api_session * on) -> const auto& {
        REQUIRE_FALSE(frame.empty());
        return decoder.decode_ws(api.handle(frame, now_ms, on));
    };
    // Not logged on: an unsigned request is refused with Binance's error, nothing is placed.
    const auto& unsigned_place =
        send(encoder.place(out, 1, specs[0], order, "e1", exec::order_response_type::ack, now_ms),
             &session);
    CHECK(unsigned_place.status == 400);
    CHECK(unsigned_place.code == -1102);
    CHECK(send(encoder.session_user_data_subscribe(out, 2), &session).code == -2015);
    CHECK(api.stats().unauthenticated == 2);

    // A logon signed by another key: -1022, still not logged on.
    CHECK(send(encoder.session_logon(out, 3, *stranger, now_ms), &session).code == -1022);
    CHECK_FALSE(session.logged_on);
    // A logon outside the recvWindow: -1021.
    CHECK(send(encoder.session_logon(out, 4, *signer, now_ms - 10'000), &session).code == -1021);
    CHECK_FALSE(session.logged_on);

    // The account's key: logged on; unsigned requests and the user stream are accepted.
    const auto& logon = send(encoder.session_logon(out, 5, *signer, now_ms), &session);
    CHECK(logon.outcome == exec::answer_outcome::ok);
    CHECK(session.logged_on);
    CHECK(api.stats().logons == 1);
    CHECK(send(encoder.place(out, 6, specs[0], order, "e1", exec::order_response_type::ack, now_ms),
               &session)
              .outcome == exec::answer_outcome::ok);
    CHECK(send(encoder.session_user_data_subscribe(out, 7), &session).outcome ==
          exec::answer_outcome::ok);
    CHECK(api.stats().orders_placed == 1);
    // The timestamp is still checked on a logged-on connection.
    CHECK(send(encoder.cancel_all(out, 8, "BTCUSDT", now_ms - 10'000), &session).code == -1021);

    // Another connection has not logged on: refused.
    venue::api_session other;
    CHECK(send(encoder.cancel_all(out, 9, "BTCUSDT", now_ms), &other).code == -1102);
    CHECK(send(encoder.cancel_all(out, 10, "BTCUSDT", now_ms), nullptr).code == -1102);
    CHECK(api.open_order_count() == 1);
}

TEST_CASE("an HMAC account refuses session.logon", "[venue_order_api][ed25519]") {
    venue_fixture venue;
    const testing::ed25519_test_keys keys;
    auto signer = exec::ed25519_signer::from_private_key(keys.private_pem());
    REQUIRE(signer.has_value());
    venue::api_session session;
    const auto& answer = venue.decoder.decode_ws(venue.api.handle(
        venue.encoder.session_logon(venue.out, 1, *signer, now_ms), now_ms, &session));
    CHECK(answer.code == -1022);
    CHECK_FALSE(session.logged_on);
}

TEST_CASE("the venue counts request weight and new orders and refuses what goes over",
          "[venue_order_api]") {
    venue::market_state market;
    market.add_symbol("BTCUSDT");
    market.at(0).book.apply({{"60000.00", "1.00000"}}, {{"60001.00", "1.00000"}});
    market.limits.spot_weight_per_minute = 10;
    market.limits.spot_orders_per_10s = 3;
    market.limits.enforced = true;
    venue::order_api api{market, venue::order_api_options{}};
    exec::hmac_signer signer{secret};
    exec::spot_request_encoder encoder{api_key, signer, 5000};
    const auto spec = core::symbol_spec::from_text({.name = "BTCUSDT",
                                                    .tick_size = "0.01000000",
                                                    .step_size = "0.00001000",
                                                    .min_notional = "5.00000000"})
                          .value();
    std::array<char, exec::max_request_bytes> out{};
    const auto place = [&](std::uint64_t id) {
        exec::order_request request;
        request.side = core::side::buy;
        request.post_only = true;
        request.price = core::price{5'999'900};
        request.qty = core::qty{100};
        const std::string client_id = "qR" + std::to_string(id);
        return api.handle(encoder.place(out, id, spec, request, client_id,
                                        exec::order_response_type::result, now_ms),
                          now_ms);
    };

    // Three orders fit the 10 s window; every answer lists the counts.
    for (std::uint64_t id = 1; id <= 3; ++id) {
        const std::string answer = place(id);
        CHECK(answer.find("\"status\":200") != std::string::npos);
        CHECK(answer.find("\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,"
                          "\"limit\":3,\"count\":" +
                          std::to_string(id) + "}") != std::string::npos);
    }
    // The fourth is refused and not executed, until the end of the 10 s window.
    const std::string refused = place(4);
    CHECK(refused.find("\"status\":429") != std::string::npos);
    CHECK(refused.find("\"code\":-1015") != std::string::npos);
    CHECK(refused.find("\"retryAfter\":" + std::to_string(now_ms - now_ms % 10'000 + 10'000)) !=
          std::string::npos);
    CHECK(api.stats().orders_placed == 3);
    CHECK(api.stats().order_limit_answers == 1);

    // Four weight used (the refused order's too); six more fit the minute, the next does not.
    // The order count's 429 is per account and earns no ban: these pass.
    for (int i = 0; i < 6; ++i) {
        const std::string answer = api.handle("{\"id\":\"t\",\"method\":\"time\"}", now_ms);
        CHECK(answer.find("\"status\":200") != std::string::npos);
    }
    const std::string heavy = api.handle("{\"id\":\"t\",\"method\":\"time\"}", now_ms);
    CHECK(heavy.find("\"status\":429") != std::string::npos);
    CHECK(heavy.find("\"code\":-1003") != std::string::npos);
    CHECK(heavy.find("\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\","
                     "\"intervalNum\":1,\"limit\":10,\"count\":10}") != std::string::npos);
    CHECK(api.stats().weight_limit_answers == 1);
    CHECK(api.stats().answers_429 == 0); // the fault's count stays apart

    // A new minute: counted from zero again; the peaks remain.
    const std::string later = api.handle("{\"id\":\"t\",\"method\":\"time\"}", now_ms + 60'000);
    CHECK(later.find("\"status\":200") != std::string::npos);
    CHECK(api.usage().peak_weight() == 10);
    CHECK(api.usage().peak_orders_10s() == 3);
}

TEST_CASE("a client that sends again before a request-weight 429 ends is banned",
          "[venue_order_api]") {
    venue::market_state market;
    market.limits.spot_weight_per_minute = 3;
    market.limits.enforced = true;
    market.limits.ban_ms = 5'000;
    venue::order_api api{market, venue::order_api_options{}};
    const std::string time = "{\"id\":\"t\",\"method\":\"time\"}";
    const std::int64_t minute_end = now_ms - now_ms % 60'000 + 60'000;
    const std::int64_t start = minute_end - 2'000; // two seconds before the window ends
    for (int i = 0; i < 3; ++i) {
        CHECK(api.handle(time, start).find("\"status\":200") != std::string::npos);
    }
    const std::string limited = api.handle(time, start);
    CHECK(limited.find("\"status\":429") != std::string::npos);
    CHECK(limited.find("\"retryAfter\":" + std::to_string(minute_end)) != std::string::npos);
    CHECK(api.stats().answers_418 == 0);

    // Sent before the 429 could have reached the client (within a second of it): 429 again.
    CHECK(api.handle(time, start + 999).find("\"status\":429") != std::string::npos);
    CHECK(api.stats().requests_in_backoff == 0);
    // Did not back off: banned for ban_ms from this request, past the window's end.
    const std::string banned = api.handle(time, start + 1'000);
    CHECK(banned.find("\"status\":418") != std::string::npos);
    CHECK(banned.find("\"retryAfter\":" + std::to_string(start + 6'000)) != std::string::npos);
    CHECK(api.stats().requests_in_backoff == 1);
    CHECK(api.handle(time, minute_end + 1'000).find("\"status\":418") != std::string::npos);
    CHECK(api.stats().answers_418 == 2);
    // The ban over: a new window, counted from zero.
    CHECK(api.handle(time, start + 6'000).find("\"status\":200") != std::string::npos);
    CHECK(api.stats().requests_in_backoff == 1);
}

TEST_CASE("a client that waits out a request-weight 429 is not banned", "[venue_order_api]") {
    venue::market_state market;
    market.limits.spot_weight_per_minute = 1;
    market.limits.enforced = true;
    venue::order_api api{market, venue::order_api_options{}};
    const std::string time = "{\"id\":\"t\",\"method\":\"time\"}";
    const std::int64_t minute_end = now_ms - now_ms % 60'000 + 60'000;
    CHECK(api.handle(time, now_ms).find("\"status\":200") != std::string::npos);
    CHECK(api.handle(time, now_ms).find("\"status\":429") != std::string::npos);
    CHECK(api.handle(time, minute_end).find("\"status\":200") != std::string::npos);
    CHECK(api.stats().answers_418 == 0);
    CHECK(api.stats().requests_in_backoff == 0);
}

TEST_CASE("without enforcement the venue counts but refuses nothing", "[venue_order_api]") {
    venue::market_state market;
    market.limits.spot_weight_per_minute = 2;
    venue::order_api api{market, venue::order_api_options{}};
    for (int i = 0; i < 5; ++i) {
        const std::string answer = api.handle("{\"id\":\"t\",\"method\":\"time\"}", now_ms);
        CHECK(answer.find("\"status\":200") != std::string::npos);
    }
    CHECK(api.usage().peak_weight() == 5);
    CHECK(api.stats().weight_limit_answers == 0);
}
