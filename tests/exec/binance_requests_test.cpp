#include "quoter/exec/binance_futures_requests.hpp"
#include "quoter/exec/binance_spot_requests.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <string_view>

using namespace quoter;
using namespace quoter::exec;

namespace {

constexpr std::string_view api_key =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr std::string_view secret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

/// Spot BTCUSDT as Binance lists it: every filter with 8 decimals.
core::symbol_spec spot_spec() {
    const auto spec = core::symbol_spec::from_text({.name = "BTCUSDT",
                                                    .tick_size = "0.01000000",
                                                    .step_size = "0.00001000",
                                                    .min_notional = "5.00000000"});
    REQUIRE(spec.has_value());
    return *spec;
}

/// USD-M BTCUSDT: tick 0.10, step 0.001.
core::symbol_spec futures_spec() {
    const auto spec = core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.10", .step_size = "0.001", .min_notional = "100"});
    REQUIRE(spec.has_value());
    return *spec;
}

/// The frame the encoder must write for sorted params (JSON text of each value given) and the
/// signature of their k=v payload.
std::string expected_frame(std::uint64_t id, std::string_view method,
                           std::initializer_list<std::array<std::string_view, 3>> params) {
    std::string payload;
    std::string json = "{\"id\":" + std::to_string(id) + ",\"method\":\"" + std::string(method) +
                       "\",\"params\":{";
    for (const auto& [name, value, quoted] : params) {
        if (!payload.empty()) {
            payload += '&';
        }
        payload += std::string(name) + "=" + std::string(value);
        json += "\"" + std::string(name) + "\":";
        json += quoted == "q" ? "\"" + std::string(value) + "\"" : std::string(value);
        json += ',';
    }
    const hmac_signer signer(secret);
    json += "\"signature\":\"" + std::string(signer.sign(payload).view()) + "\"}}";
    return json;
}

} // namespace

TEST_CASE("spot order.place reproduces Binance's signed example", "[binance_requests]") {
    // Binance's WebSocket API signing example is a LIMIT GTC order; with its parameters the
    // frame's signature is the published one.
    const hmac_signer signer(secret);
    spot_request_encoder encoder(api_key, signer, 100);
    const auto spec = core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.01", .step_size = "0.00000001", .min_notional = "5"});
    REQUIRE(spec.has_value());
    order_request order;
    order.side = core::side::sell;
    order.post_only = false;
    order.tif = time_in_force::gtc;
    order.price = spec->parse_price("52000.00").value();
    order.qty = spec->parse_qty("0.01000000").value();
    std::array<char, max_request_bytes> out{};
    const auto frame =
        encoder.place(out, 7, *spec, order, "q0Abc123", order_response_type::ack, 1645423376532);
    CHECK(frame == expected_frame(7, "order.place",
                                  {{"apiKey", api_key, "q"},
                                   {"newClientOrderId", "q0Abc123", "q"},
                                   {"newOrderRespType", "ACK", "q"},
                                   {"price", "52000.00", "q"},
                                   {"quantity", "0.01000000", "q"},
                                   {"recvWindow", "100", "n"},
                                   {"side", "SELL", "q"},
                                   {"symbol", "BTCUSDT", "q"},
                                   {"timeInForce", "GTC", "q"},
                                   {"timestamp", "1645423376532", "n"},
                                   {"type", "LIMIT", "q"}}));
}

TEST_CASE("spot post-only orders are LIMIT_MAKER without timeInForce", "[binance_requests]") {
    const hmac_signer signer(secret);
    spot_request_encoder encoder(api_key, signer, 5000);
    const auto spec = spot_spec();
    order_request order;
    order.side = core::side::buy;
    order.post_only = true;
    order.price = core::price{6'173'763}; // 61737.63
    order.qty = core::qty{123};           // 0.00123
    std::array<char, max_request_bytes> out{};
    const auto frame =
        encoder.place(out, 1, spec, order, "qid-1", order_response_type::result, 1700000000000);
    CHECK(frame == expected_frame(1, "order.place",
                                  {{"apiKey", api_key, "q"},
                                   {"newClientOrderId", "qid-1", "q"},
                                   {"newOrderRespType", "RESULT", "q"},
                                   {"price", "61737.63", "q"},
                                   {"quantity", "0.00123", "q"},
                                   {"recvWindow", "5000", "n"},
                                   {"side", "BUY", "q"},
                                   {"symbol", "BTCUSDT", "q"},
                                   {"timestamp", "1700000000000", "n"},
                                   {"type", "LIMIT_MAKER", "q"}}));
    CHECK(frame.find("timeInForce") == std::string_view::npos);
}

TEST_CASE("prices and quantities print exactly, far beyond double's precision",
          "[binance_requests]") {
    const hmac_signer signer(secret);
    spot_request_encoder encoder(api_key, signer, 0);
    const auto spec = core::symbol_spec::from_text(
        {.name = "SHIBUSDT", .tick_size = "0.00000001", .step_size = "1", .min_notional = "5"});
    REQUIRE(spec.has_value());
    order_request order;
    order.price = core::price{2'345};             // 0.00002345: no double rounding artefacts
    order.qty = core::qty{9'007'199'254'740'993}; // 2^53 + 1 lots: not representable as double
    std::array<char, max_request_bytes> out{};
    const auto frame =
        encoder.place(out, 2, *spec, order, "x", order_response_type::ack, 1700000000000);
    CHECK(frame.find(R"("price":"0.00002345")") != std::string_view::npos);
    CHECK(frame.find(R"("quantity":"9007199254740993")") != std::string_view::npos);
    CHECK(frame.find("recvWindow") == std::string_view::npos);
}

TEST_CASE("spot cancel, cancel-replace, cancel-all and queries", "[binance_requests]") {
    const hmac_signer signer(secret);
    spot_request_encoder encoder(api_key, signer, 5000);
    const auto spec = spot_spec();
    std::array<char, max_request_bytes> out{};

    CHECK(encoder.cancel(out, 3, "BTCUSDT", "qA0000000000000001", "qC0000000000000002",
                         1700000000001) ==
          expected_frame(3, "order.cancel",
                         {{"apiKey", api_key, "q"},
                          {"newClientOrderId", "qC0000000000000002", "q"},
                          {"origClientOrderId", "qA0000000000000001", "q"},
                          {"recvWindow", "5000", "n"},
                          {"symbol", "BTCUSDT", "q"},
                          {"timestamp", "1700000000001", "n"}}));
    CHECK(encoder.cancel(out, 4, "BTCUSDT", "qA1", "", 1700000000001).find("newClientOrderId") ==
          std::string_view::npos);

    order_request order;
    order.side = core::side::sell;
    order.price = core::price{6'200'000};
    order.qty = core::qty{1000};
    CHECK(encoder.cancel_replace(out, 5, spec, "qA1", order, "qA2",
                                 cancel_replace_mode::stop_on_failure, order_response_type::ack,
                                 1700000000002) ==
          expected_frame(5, "order.cancelReplace",
                         {{"apiKey", api_key, "q"},
                          {"cancelOrigClientOrderId", "qA1", "q"},
                          {"cancelReplaceMode", "STOP_ON_FAILURE", "q"},
                          {"newClientOrderId", "qA2", "q"},
                          {"newOrderRespType", "ACK", "q"},
                          {"price", "62000.00", "q"},
                          {"quantity", "0.01000", "q"},
                          {"recvWindow", "5000", "n"},
                          {"side", "SELL", "q"},
                          {"symbol", "BTCUSDT", "q"},
                          {"timestamp", "1700000000002", "n"},
                          {"type", "LIMIT_MAKER", "q"}}));

    CHECK(encoder.cancel_all(out, 6, "BTCUSDT", 1700000000003) ==
          expected_frame(6, "openOrders.cancelAll",
                         {{"apiKey", api_key, "q"},
                          {"recvWindow", "5000", "n"},
                          {"symbol", "BTCUSDT", "q"},
                          {"timestamp", "1700000000003", "n"}}));
    CHECK(encoder.order_status(out, 7, "BTCUSDT", "qA1", 1700000000004) ==
          expected_frame(7, "order.status",
                         {{"apiKey", api_key, "q"},
                          {"origClientOrderId", "qA1", "q"},
                          {"recvWindow", "5000", "n"},
                          {"symbol", "BTCUSDT", "q"},
                          {"timestamp", "1700000000004", "n"}}));
    CHECK(encoder.open_orders_status(out, 8, "", 1700000000005) ==
          expected_frame(8, "openOrders.status",
                         {{"apiKey", api_key, "q"},
                          {"recvWindow", "5000", "n"},
                          {"timestamp", "1700000000005", "n"}}));
    CHECK(encoder.account_status(out, 9, 1700000000006) ==
          expected_frame(9, "account.status",
                         {{"apiKey", api_key, "q"},
                          {"omitZeroBalances", "false", "n"},
                          {"recvWindow", "5000", "n"},
                          {"timestamp", "1700000000006", "n"}}));
    CHECK(encoder.my_trades(out, 11, "BTCUSDT", 12569099453ULL, 1700000000008) ==
          expected_frame(11, "myTrades",
                         {{"apiKey", api_key, "q"},
                          {"orderId", "12569099453", "n"},
                          {"recvWindow", "5000", "n"},
                          {"symbol", "BTCUSDT", "q"},
                          {"timestamp", "1700000000008", "n"}}));
    CHECK(encoder.user_data_subscribe(out, 10, 1700000000007) ==
          expected_frame(10, "userDataStream.subscribe.signature",
                         {{"apiKey", api_key, "q"},
                          {"recvWindow", "5000", "n"},
                          {"timestamp", "1700000000007", "n"}}));
}

TEST_CASE("encoders refuse what they cannot write faithfully", "[binance_requests]") {
    const hmac_signer signer(secret);
    spot_request_encoder encoder(api_key, signer, 5000);
    const auto spec = spot_spec();
    order_request order;
    order.price = core::price{100};
    order.qty = core::qty{1};
    std::array<char, max_request_bytes> out{};
    // A value that would need escaping is refused, not escaped differently in JSON and payload.
    CHECK(encoder.place(out, 1, spec, order, "bad\"id", order_response_type::ack, 1).empty());
    CHECK(encoder.cancel(out, 1, "BTC USDT", "a", "", 1).empty());
    CHECK(encoder.place(out, 1, spec, order, "", order_response_type::ack, 1).empty());
    // Too small a buffer gives an empty view, never a truncated frame.
    std::array<char, 100> small{};
    CHECK(encoder.place(small, 1, spec, order, "a", order_response_type::ack, 1).empty());
    const futures_request_encoder futures(signer, 5000);
    CHECK_FALSE(futures.cancel(small, "BTCUSDT", "a-very-long-client-order-id-0000000000", 1).ok());
}

TEST_CASE("USD-M order is GTX when post-only and signs its query string", "[binance_requests]") {
    const hmac_signer signer(secret);
    const futures_request_encoder encoder(signer, 5000);
    const auto spec = futures_spec();
    order_request order;
    order.side = core::side::buy;
    order.post_only = true;
    order.price = core::price{900'001}; // 90000.1
    order.qty = core::qty{2};           // 0.002
    std::array<char, max_request_bytes> out{};
    const auto request =
        encoder.place(out, spec, order, "qX1", order_response_type::ack, 1591702613943);
    REQUIRE(request.ok());
    CHECK(request.method == http_method::post);
    const std::string query =
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.002&price=90000.1&"
        "newClientOrderId=qX1&newOrderRespType=ACK&recvWindow=5000&timestamp=1591702613943";
    CHECK(request.target ==
          "/fapi/v1/order?" + query + "&signature=" + std::string(signer.sign(query).view()));

    order.post_only = false;
    order.reduce_only = true;
    order.tif = time_in_force::ioc;
    order.side = core::side::sell;
    const auto flatten =
        encoder.place(out, spec, order, "qX2", order_response_type::result, 1591702613944);
    const std::string flatten_query =
        "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=IOC&quantity=0.002&price=90000.1&"
        "reduceOnly=true&newClientOrderId=qX2&newOrderRespType=RESULT&recvWindow=5000&"
        "timestamp=1591702613944";
    CHECK(flatten.target == "/fapi/v1/order?" + flatten_query +
                                "&signature=" + std::string(signer.sign(flatten_query).view()));
}

TEST_CASE("USD-M futures example signature through the encoder's signing", "[binance_requests]") {
    // Binance's USD-M example query, signed the way write_signed signs (the query as sent).
    const hmac_signer signer("2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9");
    const futures_request_encoder encoder(signer, 5000);
    const auto spec = core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "1", .step_size = "1", .min_notional = "1"});
    REQUIRE(spec.has_value());
    std::array<char, max_request_bytes> out{};
    const auto request = encoder.countdown_cancel_all(out, "BTCUSDT", 120000, 1591702613943);
    const std::string query =
        "symbol=BTCUSDT&countdownTime=120000&recvWindow=5000&timestamp=1591702613943";
    CHECK(request.method == http_method::post);
    CHECK(request.target == "/fapi/v1/countdownCancelAll?" + query +
                                "&signature=" + std::string(signer.sign(query).view()));
}

TEST_CASE("USD-M cancels, queries and listenKey endpoints", "[binance_requests]") {
    const hmac_signer signer(secret);
    const futures_request_encoder encoder(signer, 0);
    std::array<char, max_request_bytes> out{};
    const auto signed_target = [&](std::string_view path, const std::string& query) {
        return std::string(path) + "?" + query +
               "&signature=" + std::string(signer.sign(query).view());
    };

    auto request = encoder.cancel(out, "BTCUSDT", "qX1", 1700000000000);
    CHECK(request.method == http_method::del);
    CHECK(request.target ==
          signed_target("/fapi/v1/order",
                        "symbol=BTCUSDT&origClientOrderId=qX1&timestamp=1700000000000"));
    request = encoder.cancel_all(out, "BTCUSDT", 1700000000000);
    CHECK(request.method == http_method::del);
    CHECK(request.target ==
          signed_target("/fapi/v1/allOpenOrders", "symbol=BTCUSDT&timestamp=1700000000000"));
    request = encoder.order_status(out, "BTCUSDT", "qX1", 1700000000000);
    CHECK(request.method == http_method::get);
    CHECK(request.target ==
          signed_target("/fapi/v1/order",
                        "symbol=BTCUSDT&origClientOrderId=qX1&timestamp=1700000000000"));
    request = encoder.open_orders(out, "", 1700000000000);
    CHECK(request.method == http_method::get);
    CHECK(request.target == signed_target("/fapi/v1/openOrders", "timestamp=1700000000000"));
    request = encoder.user_trades(out, "BTCUSDT", 25851813, 1700000000000);
    CHECK(request.method == http_method::get);
    CHECK(request.target ==
          signed_target("/fapi/v1/userTrades",
                        "symbol=BTCUSDT&orderId=25851813&timestamp=1700000000000"));
    request = encoder.account(out, 1700000000000);
    CHECK(request.method == http_method::get);
    CHECK(request.target == signed_target("/fapi/v2/account", "timestamp=1700000000000"));
    request = encoder.position_mode(out, 1700000000000);
    CHECK(request.method == http_method::get);
    CHECK(request.target == signed_target("/fapi/v1/positionSide/dual", "timestamp=1700000000000"));

    CHECK(futures_request_encoder::listen_key(http_method::post).target == "/fapi/v1/listenKey");
    CHECK(futures_request_encoder::listen_key(http_method::put).method == http_method::put);
    CHECK(method_text(http_method::del) == "DELETE");
}

TEST_CASE("session.logon is signed with the Ed25519 key; logged-on requests are not signed",
          "[binance_requests]") {
    // The private key of Binance's FIX API example (Ed25519 signatures are deterministic).
    constexpr std::string_view key =
        "MC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u";
    auto signer = ed25519_signer::from_private_key(key);
    REQUIRE(signer.has_value());
    auto check_signer = ed25519_signer::from_private_key(key);
    REQUIRE(check_signer.has_value());
    const hmac_signer hmac(secret);
    spot_request_encoder encoder(api_key, hmac, 5000);
    encoder.set_session_auth(true);
    std::array<char, max_request_bytes> out{};

    const std::string payload =
        "apiKey=" + std::string(api_key) + "&recvWindow=5000&timestamp=1649729878532";
    const std::string signature(check_signer->sign(payload).view());
    REQUIRE(signature.size() == 88);
    CHECK(encoder.session_logon(out, 3, *signer, 1649729878532) ==
          "{\"id\":3,\"method\":\"session.logon\",\"params\":{\"apiKey\":\"" +
              std::string(api_key) +
              "\",\"recvWindow\":5000,\"timestamp\":1649729878532,\"signature\":\"" + signature +
              "\"}}");

    // After the logon: timestamp and recvWindow only, no apiKey, no signature.
    const auto spec = spot_spec();
    order_request order;
    order.side = core::side::buy;
    order.price = spec.parse_price("52000.00").value();
    order.qty = spec.parse_qty("0.01").value();
    order.post_only = true;
    CHECK(
        encoder.place(out, 4, spec, order, "q1", order_response_type::ack, 1700000000000) ==
        std::string_view(R"({"id":4,"method":"order.place","params":{"newClientOrderId":"q1",)"
                         R"("newOrderRespType":"ACK","price":"52000.00",)"
                         R"("quantity":"0.01000","recvWindow":5000,"side":"BUY",)"
                         R"("symbol":"BTCUSDT","timestamp":1700000000000,"type":"LIMIT_MAKER"}})"));
    CHECK(encoder.cancel_all(out, 5, "BTCUSDT", 1700000000001) ==
          std::string_view(R"({"id":5,"method":"openOrders.cancelAll","params":{)"
                           R"("recvWindow":5000,"symbol":"BTCUSDT","timestamp":1700000000001}})"));
    CHECK(encoder.session_user_data_subscribe(out, 6) ==
          std::string_view(R"({"id":6,"method":"userDataStream.subscribe"})"));

    // Back to per-request signing: the HMAC frame as before.
    encoder.set_session_auth(false);
    CHECK(encoder.cancel_all(out, 7, "BTCUSDT", 1700000000001) ==
          expected_frame(7, "openOrders.cancelAll",
                         {{"apiKey", api_key, "q"},
                          {"recvWindow", "5000", "n"},
                          {"symbol", "BTCUSDT", "q"},
                          {"timestamp", "1700000000001", "n"}}));
}
