// quoter-venue's /ws-api/v3 end to end: the real binary as a child process on 127.0.0.1, a real
// WebSocket connection, requests signed by the engine's encoder and answers read by its decoder.
#include "net/ws_connection.hpp"
#include "venue_process.hpp"

#include "quoter/exec/binance_answer.hpp"
#include "quoter/exec/binance_spot_requests.hpp"
#include "quoter/net/url.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <string>
#include <vector>

using namespace quoter;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view api_key =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr std::string_view secret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

struct collecting_listener final : net::detail::ws_listener {
    bool open = false;
    bool closed = false;
    std::vector<std::string> messages;

    void on_open(net::detail::ws_connection&) override { open = true; }
    void on_message(net::detail::ws_connection&, std::string_view payload, core::timestamp_ns,
                    bool) override {
        messages.emplace_back(payload);
    }
    void on_ping(net::detail::ws_connection&) override {}
    void on_closed(net::detail::ws_connection&, net::close_reason, std::string_view) override {
        closed = true;
    }
};

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

TEST_CASE("the venue accepts a signed order and refuses a bad signature over /ws-api/v3",
          "[venue_ws_api]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    net::io_loop loop;
    collecting_listener listener;
    const auto endpoint = net::parse_url(venue.ws_url());
    REQUIRE(endpoint.has_value());
    net::detail::ws_connection_options options;
    options.target = "/ws-api/v3";
    const auto connection =
        net::detail::make_ws_connection(loop.context(), nullptr, *endpoint, options, &listener);
    connection->start();
    REQUIRE(net::testing::run_until(
        loop, [&] { return listener.open || listener.closed; }, 5s));
    REQUIRE(listener.open);

    const exec::hmac_signer signer(secret);
    exec::spot_request_encoder encoder(api_key, signer, 5000);
    const auto spec = core::symbol_spec::from_text({.name = "BTCUSDT",
                                                    .tick_size = "0.01000000",
                                                    .step_size = "0.00001000",
                                                    .min_notional = "5.00000000"});
    REQUIRE(spec.has_value());
    exec::order_request order;
    order.side = core::side::buy;
    order.post_only = true;
    order.price = core::price{100}; // 1.00: far below any synthetic bid, so it rests
    order.qty = core::qty{1000};    // 0.01
    std::array<char, exec::max_request_bytes> out{};

    const std::string good(
        encoder.place(out, 1, *spec, order, "qE2E1", exec::order_response_type::result, wall_ms()));
    std::string bad(
        encoder.place(out, 2, *spec, order, "qE2E2", exec::order_response_type::ack, wall_ms()));
    const std::size_t at = bad.find("\"signature\":\"") + 13;
    bad[at] = bad[at] == 'a' ? 'b' : 'a';
    connection->send_text(good);
    connection->send_text(bad);
    const std::string cancel_all(encoder.cancel_all(out, 3, "BTCUSDT", wall_ms()));
    connection->send_text(cancel_all);
    REQUIRE(net::testing::run_until(
        loop, [&] { return listener.messages.size() >= 3; }, 5s));

    const std::array symbols{*spec};
    exec::answer_decoder decoder(symbols);
    const auto& placed = decoder.decode_ws(listener.messages[0]);
    CHECK(placed.request_id == 1);
    CHECK(placed.outcome == exec::answer_outcome::ok);
    REQUIRE(placed.has_order);
    CHECK(placed.order.client_id.view() == "qE2E1");
    CHECK(placed.order.status == exec::venue_order_status::new_order);

    const auto& refused = decoder.decode_ws(listener.messages[1]);
    CHECK(refused.request_id == 2);
    CHECK(refused.status == 400);
    CHECK(refused.code == -1022);

    const auto& all = decoder.decode_ws(listener.messages[2]);
    CHECK(all.request_id == 3);
    CHECK(all.outcome == exec::answer_outcome::ok);
    CHECK(listener.messages[2].find("\"origClientOrderId\":\"qE2E1\"") != std::string::npos);
    CHECK(listener.messages[2].find("qE2E2") == std::string::npos);

    connection->close(net::close_reason::stopped);
    net::testing::run_until(
        loop, [&] { return listener.closed; }, 3s);
}
