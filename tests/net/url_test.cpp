#include "quoter/net/endpoints.hpp"
#include "quoter/net/url.hpp"

#include <catch2/catch.hpp>

using namespace quoter::net;

TEST_CASE("parse_url splits Binance endpoints", "[url]") {
    const auto spot = parse_url("wss://stream.binance.com:9443");
    REQUIRE(spot.has_value());
    CHECK(spot->scheme == "wss");
    CHECK(spot->tls);
    CHECK(spot->host == "stream.binance.com");
    CHECK(spot->port == 9443);
    CHECK(spot->path.empty());
    CHECK(spot->host_header() == "stream.binance.com:9443");
    CHECK_FALSE(spot->host_is_ip_literal());

    const auto futures = parse_url("WSS://fstream.binance.com/public");
    REQUIRE(futures.has_value());
    CHECK(futures->scheme == "wss");
    CHECK(futures->port == 443);
    CHECK(futures->path == "/public");
    CHECK(futures->host_header() == "fstream.binance.com");

    const auto local = parse_url("http://127.0.0.1:8080/api/v3/depth?symbol=BTCUSDT");
    REQUIRE(local.has_value());
    CHECK_FALSE(local->tls);
    CHECK(local->host_is_ip_literal());
    CHECK(local->path == "/api/v3/depth?symbol=BTCUSDT");

    const auto query_only = parse_url("ws://localhost?x=1");
    REQUIRE(query_only.has_value());
    CHECK(query_only->port == 80);
    CHECK(query_only->path == "/?x=1");

    const auto ipv6 = parse_url("https://[::1]:8443/x");
    REQUIRE(ipv6.has_value());
    CHECK(ipv6->host == "::1");
    CHECK(ipv6->port == 8443);
    CHECK(ipv6->host_is_ip_literal());
    CHECK(ipv6->host_header() == "[::1]:8443");
}

TEST_CASE("parse_url rejects what it cannot connect to", "[url]") {
    CHECK(parse_url("stream.binance.com").error() == url_error::missing_scheme);
    CHECK(parse_url("ftp://x").error() == url_error::unsupported_scheme);
    CHECK(parse_url("wss://:9443").error() == url_error::missing_host);
    CHECK(parse_url("wss://host:").error() == url_error::bad_port);
    CHECK(parse_url("wss://host:0").error() == url_error::bad_port);
    CHECK(parse_url("wss://host:65536").error() == url_error::bad_port);
    CHECK(parse_url("wss://host:12x").error() == url_error::bad_port);
    CHECK(parse_url("wss://256.1.1").has_value()); // a (bad) host name, resolved later
    CHECK_FALSE(parse_url("wss://256.1.1")->host_is_ip_literal());
}

TEST_CASE("endpoint presets", "[endpoints]") {
    const binance_endpoints mainnet = binance_mainnet();
    CHECK(mainnet.spot_ws == "wss://stream.binance.com:9443");
    CHECK(mainnet.futures_public_ws == "wss://fstream.binance.com/public");
    CHECK(mainnet.futures_market_ws == "wss://fstream.binance.com/market");
    CHECK(mainnet.spot_rest == "https://api.binance.com");
    CHECK(mainnet.futures_rest == "https://fapi.binance.com");
    CHECK(&futures_stream_base(mainnet, "btcusdt@depth@0ms") == &mainnet.futures_public_ws);
    CHECK(&futures_stream_base(mainnet, "btcusdt@bookTicker") == &mainnet.futures_public_ws);
    CHECK(&futures_stream_base(mainnet, "btcusdt@aggTrade") == &mainnet.futures_market_ws);

    const binance_endpoints testnet = binance_testnet();
    CHECK(testnet.spot_rest == "https://testnet.binance.vision");
    for (const auto* text : {&testnet.spot_ws, &testnet.futures_public_ws, &testnet.spot_rest,
                             &testnet.futures_rest}) {
        CHECK(parse_url(*text).has_value());
    }

    const binance_endpoints local = local_venue_endpoints("127.0.0.1", 4567, false);
    CHECK(local.spot_ws == "ws://127.0.0.1:4567");
    CHECK(local.futures_public_ws == "ws://127.0.0.1:4567/public");
    CHECK(local.futures_rest == "http://127.0.0.1:4567");
    CHECK(local_venue_endpoints("localhost", 1, true).spot_rest == "https://localhost:1");
}
