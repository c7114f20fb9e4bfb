#include "quoter/exec/binance_answer.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>

using namespace quoter;
using namespace quoter::exec;

namespace {

std::array<core::symbol_spec, 2> spot_symbols() {
    const auto btc = core::symbol_spec::from_text({.name = "BTCUSDT",
                                                   .tick_size = "0.01000000",
                                                   .step_size = "0.00001000",
                                                   .min_notional = "5.00000000"});
    const auto eth = core::symbol_spec::from_text({.name = "ETHUSDT",
                                                   .tick_size = "0.01000000",
                                                   .step_size = "0.00010000",
                                                   .min_notional = "5.00000000"});
    REQUIRE(btc.has_value());
    REQUIRE(eth.has_value());
    return {*eth, *btc};
}

} // namespace

TEST_CASE("classification of Binance errors", "[binance_answer]") {
    CHECK(classify_answer(200, 0, "") == answer_outcome::ok);
    CHECK(classify_answer(400, -2010, "Order would immediately match and take.") ==
          answer_outcome::post_only_reject);
    CHECK(classify_answer(400, -2010, "Account has insufficient balance for requested action.") ==
          answer_outcome::reject);
    CHECK(
        classify_answer(400, -5022,
                        "Due to the order could not be executed as maker, the Post Only order "
                        "will be rejected. The order will not be recorded in the order history") ==
        answer_outcome::post_only_reject);
    CHECK(classify_answer(400, -2011, "Unknown order sent.") == answer_outcome::unknown_order);
    CHECK(classify_answer(400, -2013, "Order does not exist.") == answer_outcome::unknown_order);
    CHECK(classify_answer(400, -1021, "Timestamp for this request is outside of the recvWindow.") ==
          answer_outcome::clock_skew);
    CHECK(classify_answer(400, -1125, "This listenKey does not exist.") ==
          answer_outcome::listen_key_invalid);
    CHECK(classify_answer(400, -1022, "Signature for this request is not valid.") ==
          answer_outcome::reject);
    CHECK(classify_answer(500, -1006, "") == answer_outcome::unknown);
    CHECK(classify_answer(400, -1007, "Timeout waiting for response from backend server.") ==
          answer_outcome::unknown);
    CHECK(classify_answer(503, 0, "") == answer_outcome::unknown);
    CHECK(classify_answer(0, 0, "") == answer_outcome::unknown); // no answer at all
    CHECK(classify_answer(409, -2021, "") == answer_outcome::unknown);
    // A timeout waiting for the backend, with or without a code: it may have happened.
    CHECK(classify_answer(408, 0, "") == answer_outcome::unknown);
    CHECK(classify_answer(429, -1003, "Too many requests") == answer_outcome::retry_after);
    CHECK(classify_answer(418, -1003, "IP banned") == answer_outcome::banned);
    CHECK(classify_answer(429, -1021, "") == answer_outcome::retry_after); // limits decide first
}

TEST_CASE("spot order.place ACK answer with rate limits", "[binance_answer]") {
    const auto symbols = spot_symbols();
    answer_decoder decoder(symbols);
    const auto& answer = decoder.decode_ws(R"({
        "id": 42,
        "status": 200,
        "result": {
            "symbol": "BTCUSDT",
            "orderId": 12510053279,
            "orderListId": -1,
            "clientOrderId": "q0AbCdEfGh0000000000000001",
            "transactTime": 1660801715639
        },
        "rateLimits": [
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50, "count": 1},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000, "count": 1},
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000, "count": 1}
        ]
    })");
    CHECK(answer.outcome == answer_outcome::ok);
    CHECK(answer.request_id == 42);
    CHECK(answer.usage.orders_10s == 1);
    CHECK(answer.usage.orders_1d == 1);
    CHECK(answer.usage.weight_1m == 1);
    REQUIRE(answer.has_order);
    CHECK(answer.order.symbol == 1);
    CHECK(answer.order.order_id == 12510053279ULL);
    CHECK(answer.order.client_id.view() == "q0AbCdEfGh0000000000000001");
    CHECK(answer.order.transact_time_ms == 1660801715639);
    CHECK(answer.order.status == venue_order_status::unknown); // ACK carries no state
}

TEST_CASE("spot order.place RESULT and order.cancel answers", "[binance_answer]") {
    const auto symbols = spot_symbols();
    answer_decoder decoder(symbols);
    const auto& placed = decoder.decode_ws(
        R"({"id":7,"status":200,"result":{"symbol":"BTCUSDT","orderId":12569099453,"orderListId":-1,"clientOrderId":"qA1","transactTime":1660801715793,"price":"23416.10000000","origQty":"0.00847000","executedQty":"0.00000000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT_MAKER","side":"SELL","workingTime":1660801715793,"selfTradePreventionMode":"NONE"}})");
    REQUIRE(placed.outcome == answer_outcome::ok);
    REQUIRE(placed.has_order);
    CHECK(placed.order.status == venue_order_status::new_order);
    CHECK(placed.order.side == core::side::sell);
    CHECK(placed.order.price == core::price{2'341'610});
    CHECK(placed.order.orig_qty == core::qty{847});
    CHECK(placed.order.executed_qty == core::qty{0});

    const auto& cancelled = decoder.decode_ws(
        R"({"id":8,"status":200,"result":{"symbol":"BTCUSDT","origClientOrderId":"qA1","orderId":12569099453,"orderListId":-1,"clientOrderId":"qC9","transactTime":1684804350068,"price":"23416.10000000","origQty":"0.00847000","executedQty":"0.00001000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"0.23416100","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"SELL","selfTradePreventionMode":"NONE"},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":1}]})");
    REQUIRE(cancelled.has_order);
    CHECK(cancelled.request_id == 8);
    CHECK(cancelled.order.status == venue_order_status::canceled);
    CHECK(cancelled.order.orig_client_id.view() == "qA1");
    CHECK(cancelled.order.client_id.view() == "qC9");
    CHECK(cancelled.order.executed_qty == core::qty{1});
    CHECK(cancelled.usage.orders_10s == -1);
}

TEST_CASE("spot error answers map to outcomes with their retry time", "[binance_answer]") {
    const auto symbols = spot_symbols();
    answer_decoder decoder(symbols);
    const auto& maker = decoder.decode_ws(
        R"({"id":3,"status":400,"error":{"code":-2010,"msg":"Order would immediately match and take."},"rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":13}]})");
    CHECK(maker.outcome == answer_outcome::post_only_reject);
    CHECK(maker.code == -2010);
    CHECK(maker.message.view() == "Order would immediately match and take.");
    CHECK(maker.usage.orders_10s == 13);
    CHECK_FALSE(maker.has_order);

    const auto& banned = decoder.decode_ws(
        R"({"id":"fc93a61a-a192-4cf4-bb2a-a8f0f0c51e06","status":418,"error":{"code":-1003,"msg":"Way too much request weight used; IP banned until 1659146400000. Please use WebSocket Streams for live updates to avoid bans.","data":{"serverTime":1659142907531,"retryAfter":1659146400000}},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":6100}]})");
    CHECK(banned.outcome == answer_outcome::banned);
    CHECK(banned.request_id == 0); // string ids are not ours
    CHECK(banned.retry_after_ms == 1659146400000);
    CHECK(banned.usage.weight_1m == 6100);
    CHECK(banned.message.view().size() == 96); // cut, not overflowed

    const auto& limited = decoder.decode_ws(
        R"({"id":5,"status":429,"error":{"code":-1003,"msg":"Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.","data":{"serverTime":1659142907531,"retryAfter":1659142920000}}})");
    CHECK(limited.outcome == answer_outcome::retry_after);
    CHECK(limited.retry_after_ms == 1659142920000);

    const auto& skew = decoder.decode_ws(
        R"({"id":6,"status":400,"error":{"code":-1021,"msg":"Timestamp for this request was 1000ms ahead of the server's time."}})");
    CHECK(skew.outcome == answer_outcome::clock_skew);
    const auto& unknown_cancel = decoder.decode_ws(
        R"({"id":9,"status":400,"error":{"code":-2011,"msg":"Unknown order sent."}})");
    CHECK(unknown_cancel.outcome == answer_outcome::unknown_order);
    const auto& server = decoder.decode_ws(
        R"({"id":10,"status":503,"error":{"code":-1006,"msg":"An unexpected response was received from the message bus. Execution status unknown."}})");
    CHECK(server.outcome == answer_outcome::unknown);

    CHECK(decoder.decode_ws("not json").outcome == answer_outcome::malformed);
    CHECK(decoder.decode_ws(R"({"id":1})").outcome == answer_outcome::malformed);
}

TEST_CASE("spot cancel-all answers an array; cancel-replace tracks the new order",
          "[binance_answer]") {
    const auto symbols = spot_symbols();
    answer_decoder decoder(symbols);
    const auto& all = decoder.decode_ws(
        R"({"id":11,"status":200,"result":[{"symbol":"BTCUSDT","origClientOrderId":"qA1","orderId":1,"orderListId":-1,"clientOrderId":"x1","transactTime":1684804350068,"price":"23416.10000000","origQty":"0.00847000","executedQty":"0.00000000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"0.00000000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"BUY","selfTradePreventionMode":"NONE"}]})");
    CHECK(all.outcome == answer_outcome::ok);
    CHECK_FALSE(all.has_order);

    const auto& replaced = decoder.decode_ws(
        R"({"id":12,"status":200,"result":{"cancelResult":"SUCCESS","newOrderResult":"SUCCESS","cancelResponse":{"symbol":"BTCUSDT","origClientOrderId":"qA1","orderId":125690984230,"orderListId":-1,"clientOrderId":"91fe37ce9e69c90d6358c0","transactTime":1684804350068,"price":"23450.00000000","origQty":"0.00847000","executedQty":"0.00001000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"0.23450000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"SELL","selfTradePreventionMode":"NONE"},"newOrderResponse":{"symbol":"BTCUSDT","orderId":12569099453,"orderListId":-1,"clientOrderId":"qA2","transactTime":1660813156959}}})");
    REQUIRE(replaced.has_order);
    CHECK(replaced.order.client_id.view() == "qA2");
    CHECK(replaced.order.order_id == 12569099453ULL);

    // A 409 (one half failed) is resolved by a query, never assumed.
    const auto& partial = decoder.decode_ws(
        R"({"id":13,"status":409,"error":{"code":-2021,"msg":"Order cancel-replace partially failed.","data":{"cancelResult":"SUCCESS","newOrderResult":"FAILURE"}}})");
    CHECK(partial.outcome == answer_outcome::unknown);
}

TEST_CASE("spot order.cancelReplace answers name each half", "[binance_answer][replace]") {
    const auto symbols = spot_symbols();
    answer_decoder decoder(symbols);
    const auto& both = decoder.decode_ws(
        R"({"id":12,"status":200,"result":{"cancelResult":"SUCCESS","newOrderResult":"SUCCESS","cancelResponse":{"symbol":"BTCUSDT","origClientOrderId":"qA1","orderId":7,"orderListId":-1,"clientOrderId":"c1","transactTime":1684804350068,"price":"23450.00000000","origQty":"0.00847000","executedQty":"0.00001000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"0.23450000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"SELL","selfTradePreventionMode":"NONE"},"newOrderResponse":{"symbol":"BTCUSDT","orderId":8,"orderListId":-1,"clientOrderId":"qA2","transactTime":1660813156959}}})");
    CHECK(both.outcome == answer_outcome::ok);
    REQUIRE(both.replace.present);
    CHECK(both.replace.cancel == replace_half::success);
    CHECK(both.replace.new_order == replace_half::success);
    REQUIRE(both.replace.has_cancelled);
    CHECK(both.replace.cancelled.orig_client_id.view() == "qA1");
    CHECK(both.replace.cancelled.status == venue_order_status::canceled);
    CHECK(both.replace.cancelled.executed_qty == core::qty{1});
    CHECK(both.order.order_id == 8);

    // STOP_ON_FAILURE, the cancel failed: the new order was not attempted.
    const auto& stopped = decoder.decode_ws(
        R"({"id":13,"status":400,"error":{"code":-2022,"msg":"Order cancel-replace failed.","data":{"cancelResult":"FAILURE","newOrderResult":"NOT_ATTEMPTED","cancelResponse":{"code":-2011,"msg":"Unknown order sent."},"newOrderResponse":null}}})");
    CHECK(stopped.outcome == answer_outcome::reject);
    REQUIRE(stopped.replace.present);
    CHECK(stopped.replace.cancel == replace_half::failure);
    CHECK(stopped.replace.new_order == replace_half::not_attempted);
    CHECK_FALSE(stopped.replace.has_cancelled);
    CHECK(stopped.replace.cancel_code == -2011);
    CHECK(stopped.replace.new_order_code == 0);

    // The cancel succeeded, the new order would have taken liquidity.
    const auto& maker = decoder.decode_ws(
        R"({"id":14,"status":409,"error":{"code":-2021,"msg":"Order cancel-replace partially failed.","data":{"cancelResult":"SUCCESS","newOrderResult":"FAILURE","cancelResponse":{"symbol":"BTCUSDT","origClientOrderId":"qA1","orderId":7,"orderListId":-1,"clientOrderId":"c2","transactTime":1684804350068,"price":"23450.00000000","origQty":"0.00847000","executedQty":"0.00000000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"SELL"},"newOrderResponse":{"code":-2010,"msg":"Order would immediately match and take."}}}})");
    REQUIRE(maker.replace.present);
    CHECK(maker.replace.cancel == replace_half::success);
    CHECK(maker.replace.has_cancelled);
    CHECK(maker.replace.new_order == replace_half::failure);
    CHECK(maker.replace.new_order_code == -2010);
    CHECK(maker.replace.new_order_outcome == answer_outcome::post_only_reject);

    // A whole-request error carries no halves: its outcome is both halves'.
    const auto& skew = decoder.decode_ws(
        R"({"id":15,"status":400,"error":{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}})");
    CHECK_FALSE(skew.replace.present);
    CHECK(skew.outcome == answer_outcome::clock_skew);
}

TEST_CASE("USD-M REST answers, headers and Retry-After", "[binance_answer]") {
    const auto spec = core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.10", .step_size = "0.001", .min_notional = "100"});
    REQUIRE(spec.has_value());
    const std::array symbols{*spec};
    answer_decoder decoder(symbols);

    const auto& placed = decoder.decode_rest(
        200,
        R"({"orderId":4078939432,"symbol":"BTCUSDT","status":"NEW","clientOrderId":"qX1","price":"90000.10","avgPrice":"0.00","origQty":"0.002","executedQty":"0.000","cumQty":"0.000","cumQuote":"0.00000","timeInForce":"GTX","type":"LIMIT","reduceOnly":false,"closePosition":false,"side":"BUY","positionSide":"BOTH","stopPrice":"0.00","workingType":"CONTRACT_PRICE","priceProtect":false,"origType":"LIMIT","priceMatch":"NONE","selfTradePreventionMode":"EXPIRE_MAKER","goodTillDate":0,"updateTime":1733300000123})",
        {.weight_1m = 17, .orders_10s = 1, .orders_1m = 4}, -1, 1733300000000);
    CHECK(placed.outcome == answer_outcome::ok);
    CHECK(placed.usage.weight_1m == 17);
    CHECK(placed.usage.orders_10s == 1);
    CHECK(placed.usage.orders_1m == 4);
    REQUIRE(placed.has_order);
    CHECK(placed.order.price == core::price{900'001});
    CHECK(placed.order.orig_qty == core::qty{2});
    CHECK(placed.order.transact_time_ms == 1733300000123);
    CHECK(placed.order.status == venue_order_status::new_order);

    const auto& gtx = decoder.decode_rest(
        400,
        R"({"code":-5022,"msg":"Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history"})",
        {.weight_1m = 18, .orders_10s = 2}, -1, 1733300000000);
    CHECK(gtx.outcome == answer_outcome::post_only_reject);
    CHECK(gtx.code == -5022);

    const auto& all = decoder.decode_rest(
        200, R"({"code":200,"msg":"The operation of cancel all open order is done."})",
        {.weight_1m = 19}, -1, 1733300000000);
    CHECK(all.outcome == answer_outcome::ok);
    CHECK(all.code == 0);

    const auto& limited = decoder.decode_rest(
        429,
        R"({"code":-1003,"msg":"Too many requests; current limit of IP is 2400 requests per minute."})",
        {.weight_1m = 2401}, 7, 1733300000000);
    CHECK(limited.outcome == answer_outcome::retry_after);
    CHECK(limited.retry_after_ms == 1733300007000);

    const auto& gateway =
        decoder.decode_rest(502, "<html>Bad Gateway</html>", {}, -1, 1733300000000);
    CHECK(gateway.outcome == answer_outcome::unknown);

    const auto& listen = decoder.decode_rest(
        400, R"({"code":-1125,"msg":"This listenKey does not exist."})", {.weight_1m = 1}, -1, 0);
    CHECK(listen.outcome == answer_outcome::listen_key_invalid);

    CHECK(decoder.decode_rest(200, "", {.weight_1m = 1}, -1, 0).outcome ==
          answer_outcome::malformed);
}

TEST_CASE("listings for reconciliation: open orders, balances, positions", "[binance_answer]") {
    const auto symbols = spot_symbols();
    answer_decoder decoder(symbols);
    const auto& open = decoder.decode_ws(
        R"({"id":20,"status":200,"result":[{"symbol":"BTCUSDT","orderId":12569099453,"orderListId":-1,"clientOrderId":"q0AbCdEfGh0000000000000001","price":"23416.10000000","origQty":"0.00847000","executedQty":"0.00000000","cummulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT_MAKER","side":"SELL","stopPrice":"0.00000000","icebergQty":"0.00000000","time":1660801715639,"updateTime":1660801717945,"isWorking":true,"workingTime":1660801715639,"origQuoteOrderQty":"0.00000000","selfTradePreventionMode":"NONE"},{"symbol":"ETHUSDT","orderId":7,"orderListId":-1,"clientOrderId":"web_abc","price":"3000.00000000","origQty":"0.10000000","executedQty":"0.05000000","cummulativeQuoteQty":"150.00000000","status":"PARTIALLY_FILLED","timeInForce":"GTC","type":"LIMIT","side":"BUY","time":1660801715639,"updateTime":1660801717945,"isWorking":true,"workingTime":1660801715639,"origQuoteOrderQty":"0.00000000","selfTradePreventionMode":"NONE"}]})");
    CHECK(open.outcome == answer_outcome::ok);
    CHECK_FALSE(open.has_order);
    const auto orders = decoder.listed_orders();
    REQUIRE(orders.size() == 2);
    CHECK(orders[0].symbol == 1);
    CHECK(orders[0].client_id.view() == "q0AbCdEfGh0000000000000001");
    CHECK(orders[0].side == core::side::sell);
    CHECK(orders[1].symbol == 0);
    CHECK(orders[1].status == venue_order_status::partially_filled);
    CHECK(orders[1].executed_qty == core::qty{500});
    CHECK(orders[1].transact_time_ms == 1660801717945); // updateTime when there is no transactTime
    CHECK_FALSE(decoder.listing_truncated());

    const auto& account = decoder.decode_ws(
        R"({"id":21,"status":200,"result":{"makerCommission":15,"takerCommission":15,"buyerCommission":0,"sellerCommission":0,"canTrade":true,"canWithdraw":true,"canDeposit":true,"commissionRates":{"maker":"0.00150000","taker":"0.00150000","buyer":"0.00000000","seller":"0.00000000"},"brokered":false,"requireSelfTradePrevention":false,"preventSor":false,"updateTime":1660801833000,"accountType":"SPOT","balances":[{"asset":"BNB","free":"0.00000000","locked":"0.00000000"},{"asset":"BTC","free":"1.39000000","locked":"0.01000000"}],"permissions":["SPOT"],"uid":354937868}})");
    CHECK(account.outcome == answer_outcome::ok);
    CHECK(decoder.listed_orders().empty()); // cleared by the next answer
    const auto balances = decoder.listed_balances();
    REQUIRE(balances.size() == 2);
    CHECK(balances[1].asset.view() == "BTC");
    CHECK(balances[1].free_e8 == 139'000'000);
    CHECK(balances[1].locked_e8 == 1'000'000);
    // Every balance is as of the account's updateTime.
    CHECK(balances[0].update_time_ms == 1660801833000);
    CHECK(balances[1].update_time_ms == 1660801833000);

    const auto futures = core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.10", .step_size = "0.001", .min_notional = "100"});
    REQUIRE(futures.has_value());
    const std::array futures_symbols{*futures};
    answer_decoder rest(futures_symbols);
    // GET /fapi/v2/account (the documented single-asset shape): every asset's wallet and every
    // symbol's position, each with the venue time of its last change.
    const auto& futures_account = rest.decode_rest(
        200,
        R"({"feeTier":0,"feeBurn":true,"canTrade":true,"canDeposit":true,"canWithdraw":true,"updateTime":0,"multiAssetsMargin":false,"tradeGroupId":-1,"totalInitialMargin":"0.00000000","totalMaintMargin":"0.00000000","totalWalletBalance":"122607.35137903","totalUnrealizedProfit":"2.50000000","totalMarginBalance":"122609.85137903","totalPositionInitialMargin":"0.00000000","totalOpenOrderInitialMargin":"0.00000000","totalCrossWalletBalance":"23.72469206","totalCrossUnPnl":"0.00000000","availableBalance":"23.72469206","maxWithdrawAmount":"23.72469206","assets":[{"asset":"USDT","walletBalance":"122607.35137903","unrealizedProfit":"2.50000000","marginBalance":"122609.85137903","maintMargin":"0.00000000","initialMargin":"0.00000000","positionInitialMargin":"0.00000000","openOrderInitialMargin":"0.00000000","crossWalletBalance":"23.72469206","crossUnPnl":"0.00000000","availableBalance":"23.72469206","maxWithdrawAmount":"23.72469206","marginAvailable":true,"updateTime":1733299990000}],"positions":[{"symbol":"BTCUSDT","initialMargin":"0","maintMargin":"0","unrealizedProfit":"2.50000000","positionInitialMargin":"0","openOrderInitialMargin":"0","leverage":"5","isolated":false,"entryPrice":"96000.04","breakEvenPrice":"96010.0","maxNotional":"8000000","bidNotional":"0","askNotional":"0","positionSide":"BOTH","positionAmt":"-0.250","updateTime":1733300000000},{"symbol":"BTCUSDT","initialMargin":"0","maintMargin":"0","unrealizedProfit":"0","positionInitialMargin":"0","openOrderInitialMargin":"0","leverage":"5","isolated":false,"entryPrice":"0.0","breakEvenPrice":"0.0","maxNotional":"8000000","bidNotional":"0","askNotional":"0","positionSide":"LONG","positionAmt":"1.000","updateTime":1},{"symbol":"DOGEUSDT","initialMargin":"0","maintMargin":"0","unrealizedProfit":"0","positionInitialMargin":"0","openOrderInitialMargin":"0","leverage":"5","isolated":false,"entryPrice":"0.4","breakEvenPrice":"0.4","maxNotional":"1","bidNotional":"0","askNotional":"0","positionSide":"BOTH","positionAmt":"100","updateTime":1}]})", {.weight_1m = 5},
        -1, 0);
    CHECK(futures_account.outcome == answer_outcome::ok);
    CHECK_FALSE(futures_account.has_order);
    REQUIRE(rest.listed_positions().size() == 1); // no hedge-mode side, no foreign symbol
    CHECK(rest.listed_positions()[0].amount == core::qty{-250});
    CHECK(rest.listed_positions()[0].update_time_ms == 1733300000000);
    CHECK(rest.listed_positions()[0].entry_price_known);
    CHECK(rest.listed_positions()[0].entry_price == core::price{960'000}); // nearest tick
    REQUIRE(rest.listed_balances().size() == 1);
    CHECK(rest.listed_balances()[0].asset.view() == "USDT");
    CHECK(rest.listed_balances()[0].free_e8 == 12'260'735'137'903);
    CHECK(rest.listed_balances()[0].locked_e8 == 2'372'469'206);
    CHECK(rest.listed_balances()[0].update_time_ms == 1733299990000);
    CHECK(rest.listed_orders().empty());

    const auto& futures_open = rest.decode_rest(
        200,
        R"([{"avgPrice":"0.00000","clientOrderId":"qX1","cumQuote":"0","executedQty":"0","orderId":1917641,"origQty":"0.010","origType":"LIMIT","price":"96000.0","reduceOnly":false,"side":"BUY","positionSide":"BOTH","status":"NEW","stopPrice":"0","closePosition":false,"symbol":"BTCUSDT","time":1579276756075,"timeInForce":"GTX","type":"LIMIT","activatePrice":"0","priceRate":"0","updateTime":1579276756075,"workingType":"CONTRACT_PRICE","priceProtect":false,"priceMatch":"NONE","selfTradePreventionMode":"NONE","goodTillDate":0}])",
        {.weight_1m = 1}, -1, 0);
    CHECK(futures_open.outcome == answer_outcome::ok);
    REQUIRE(rest.listed_orders().size() == 1);
    CHECK(rest.listed_orders()[0].client_id.view() == "qX1");
    CHECK(rest.listed_orders()[0].price == core::price{960'000});
    CHECK(rest.listed_positions().empty());

    CHECK(rest.listed_balances().empty());
}

TEST_CASE("a list of open orders with an entry that cannot be read is malformed, not a shorter "
          "list",
          "[binance_answer]") {
    // Taken as it is, the list would leave the order out: a kill's check would read it as
    // cancelled and a reconciliation would not see it rest.
    const auto symbols = spot_symbols();
    answer_decoder decoder(symbols);
    const std::string ours =
        R"({"symbol":"BTCUSDT","orderId":1,"clientOrderId":"q0AbCdEfGh0000000000000001","price":"23416.10000000","origQty":"0.00847000","executedQty":"0.00000000","status":"NEW","side":"SELL","time":1,"updateTime":2})";
    const std::string off_grid =
        R"({"symbol":"BTCUSDT","orderId":2,"clientOrderId":"q0AbCdEfGh0000000000000002","price":"23416.105","origQty":"0.00847000","executedQty":"0.00000000","status":"NEW","side":"SELL","time":1,"updateTime":2})";
    const std::string other_symbol =
        R"({"symbol":"SOLUSDT","orderId":3,"clientOrderId":"web_x","price":"1.005","origQty":"1","executedQty":"0","status":"NEW","side":"BUY","time":1,"updateTime":2})";
    const auto ws = [&](const std::string& items) {
        return decoder.decode_ws(R"({"id":20,"status":200,"result":[)" + items + "]}").outcome;
    };
    CHECK(ws(ours + "," + other_symbol) == answer_outcome::ok); // another symbol's is skipped
    CHECK(decoder.listed_orders().size() == 1);
    CHECK(ws(ours + "," + off_grid) == answer_outcome::malformed);
    CHECK(ws(ours + R"(,{"symbol":"BTCUSDT","orderId":4})") == answer_outcome::malformed);
    CHECK(ws(ours + R"(,{"orderId":5,"price":"1"})") == answer_outcome::malformed); // no symbol
    CHECK(ws(ours + ",7") == answer_outcome::malformed);

    const auto rest = [&](const std::string& items) {
        return decoder.decode_rest(200, "[" + items + "]", {}, -1, 0).outcome;
    };
    CHECK(rest(ours) == answer_outcome::ok);
    CHECK(rest(ours + "," + off_grid) == answer_outcome::malformed);
}

TEST_CASE("trade lists: spot myTrades and futures userTrades", "[binance_answer]") {
    const auto symbols = spot_symbols();
    answer_decoder decoder(symbols);
    // The documented myTrades answer (one order, two trades, commission in BNB).
    const auto& spot = decoder.decode_ws(
        R"({"id":"f4ce6a53","status":200,"result":[{"symbol":"BTCUSDT","id":1650422481,"orderId":12569099453,"orderListId":-1,"price":"23416.10000000","qty":"0.00635000","quoteQty":"148.69223500","commission":"0.00000000","commissionAsset":"BNB","time":1660801715793,"isBuyer":false,"isMaker":true,"isBestMatch":true},{"symbol":"BTCUSDT","id":1650422482,"orderId":12569099453,"orderListId":-1,"price":"23416.50000000","qty":"0.00212000","quoteQty":"49.64298000","commission":"0.00001234","commissionAsset":"BNB","time":1660801715794,"isBuyer":false,"isMaker":false,"isBestMatch":true}],"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":25}]})");
    CHECK(spot.outcome == answer_outcome::ok);
    CHECK(spot.usage.weight_1m == 25);
    CHECK(decoder.listed_orders().empty());
    REQUIRE(decoder.listed_trades().size() == 2);
    const venue_trade& first = decoder.listed_trades()[0];
    CHECK(first.trade_id == 1650422481);
    CHECK(first.order_id == 12569099453ULL);
    CHECK(first.symbol == 1);
    CHECK(first.price == core::price{2'341'610});
    CHECK(first.qty == core::qty{635});
    CHECK(first.time_ms == 1660801715793);
    CHECK(first.maker);
    CHECK(first.commission_asset.view() == "BNB");
    const venue_trade& second = decoder.listed_trades()[1];
    CHECK_FALSE(second.maker);
    CHECK(second.commission_e8 == 1'234);

    const auto futures = core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.10", .step_size = "0.001", .min_notional = "100"});
    REQUIRE(futures.has_value());
    const std::array futures_symbols{*futures};
    answer_decoder rest(futures_symbols);
    // The documented GET /fapi/v1/userTrades answer (a taker trade with a rebate's sign).
    const auto& listed = rest.decode_rest(
        200,
        R"([{"buyer":false,"commission":"-0.07819010","commissionAsset":"USDT","id":698759,"maker":false,"orderId":25851813,"price":"7819.0","qty":"0.002","quoteQty":"15.63802","realizedPnl":"-0.91539999","side":"SELL","positionSide":"SHORT","symbol":"BTCUSDT","time":1569514978020}])",
        {.weight_1m = 5}, -1, 0);
    CHECK(listed.outcome == answer_outcome::ok);
    REQUIRE(rest.listed_trades().size() == 1);
    CHECK(rest.listed_trades()[0].trade_id == 698759);
    CHECK(rest.listed_trades()[0].order_id == 25851813);
    CHECK(rest.listed_trades()[0].price == core::price{78'190});
    CHECK(rest.listed_trades()[0].qty == core::qty{2});
    CHECK(rest.listed_trades()[0].commission_e8 == -7'819'010);
    CHECK(rest.listed_trades()[0].time_ms == 1569514978020);
    CHECK_FALSE(rest.listed_trades()[0].maker);
}
