#include "quoter/exec/binance_user_data.hpp"

#include <catch2/catch.hpp>

#include <array>

using namespace quoter;
using namespace quoter::exec;

namespace {

core::symbol_spec make(std::string_view name, std::string_view tick, std::string_view step) {
    const auto spec = core::symbol_spec::from_text(
        {.name = name, .tick_size = tick, .step_size = step, .min_notional = "5"});
    REQUIRE(spec.has_value());
    return *spec;
}

} // namespace

TEST_CASE("spot executionReport of a new order", "[binance_user_data]") {
    const std::array symbols{make("ETHBTC", "0.00000100", "0.00010000")};
    user_data_decoder decoder(symbols);
    // Binance's documented example, as the WebSocket API subscription delivers it.
    const auto& event = decoder.decode(
        R"({"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264400","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"NEW","X":"NEW","r":"NONE","i":4293153,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,"T":1499405658657,"t":-1,"v":3,"I":8641984,"w":true,"m":false,"M":false,"O":1499405658657,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}})");
    REQUIRE(event.kind == user_event_kind::order_update);
    const order_update& order = event.order;
    CHECK(order.symbol == 0);
    CHECK(order.client_id.view() == "mUvoqJxFIILMdfAW5iGSOW");
    CHECK(order.cancel_id.empty());
    CHECK(order.side == core::side::buy);
    CHECK(order.execution == execution_type::new_order);
    CHECK(order.status == venue_order_status::new_order);
    CHECK(order.order_id == 4293153);
    CHECK(order.order_price == core::price{102'644});
    CHECK(order.order_qty == core::qty{10'000});
    CHECK(order.trade_id == -1);
    CHECK(order.commission_e8 == 0);
    CHECK(order.commission_asset.empty());
    CHECK(order.reject_reason.view() == "NONE");
    CHECK(order.event_time_ms == 1499405658658);
    CHECK(order.transaction_time_ms == 1499405658657);
}

TEST_CASE("spot executionReport of a cancel names the order in C", "[binance_user_data]") {
    const std::array symbols{make("BTCUSDT", "0.01000000", "0.00001000")};
    user_data_decoder decoder(symbols);
    const auto& event = decoder.decode(
        R"({"subscriptionId":0,"event":{"e":"executionReport","E":1733300001000,"s":"BTCUSDT","c":"qC0000000000000002","S":"SELL","o":"LIMIT_MAKER","f":"GTC","q":"0.00100000","p":"97000.00000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"qA0000000000000001","x":"CANCELED","X":"CANCELED","r":"NONE","i":31337,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,"T":1733300000999,"t":-1,"I":99,"w":false,"m":false,"M":false,"O":1733300000000,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","V":"EXPIRE_MAKER"}})");
    REQUIRE(event.kind == user_event_kind::order_update);
    CHECK(event.order.client_id.view() == "qA0000000000000001");
    CHECK(event.order.cancel_id.view() == "qC0000000000000002");
    CHECK(event.order.execution == execution_type::canceled);
    CHECK(is_final(event.order.status));
}

TEST_CASE("spot executionReport of a maker fill with commission", "[binance_user_data]") {
    const std::array symbols{make("BTCUSDT", "0.01000000", "0.00001000")};
    user_data_decoder decoder(symbols);
    const auto& event = decoder.decode(
        R"({"e":"executionReport","E":1733300002000,"s":"BTCUSDT","c":"qA0000000000000003","S":"BUY","o":"LIMIT_MAKER","f":"GTC","q":"0.00200000","p":"96999.99000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":31338,"l":"0.00050000","z":"0.00150000","L":"96999.99000000","n":"0.00000050","N":"BTC","T":1733300001998,"t":777001,"I":100,"w":false,"m":true,"M":true,"O":1733300000000,"Z":"145.49998500","Y":"48.49999500","Q":"0.00000000","W":1733300000000,"V":"EXPIRE_MAKER"})");
    REQUIRE(event.kind == user_event_kind::order_update);
    const order_update& order = event.order;
    CHECK(order.client_id.view() == "qA0000000000000003");
    CHECK(order.execution == execution_type::trade);
    CHECK(order.status == venue_order_status::partially_filled);
    CHECK(order.last_price == core::price{9'699'999});
    CHECK(order.last_qty == core::qty{50});
    CHECK(order.cum_qty == core::qty{150});
    CHECK(order.trade_id == 777001);
    CHECK(order.maker);
    CHECK(order.commission_e8 == 50);
    CHECK(order.commission_asset.view() == "BTC");
}

TEST_CASE("spot outboundAccountPosition balances", "[binance_user_data]") {
    const std::array symbols{make("BTCUSDT", "0.01000000", "0.00001000")};
    user_data_decoder decoder(symbols);
    const auto& event = decoder.decode(
        R"({"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1728972148778,"u":1728972148778,"B":[{"a":"BTC","f":"11818.00000000","l":"182.00000000"},{"a":"USDT","f":"10580.00000000","l":"70.00000000"}]}})");
    REQUIRE(event.kind == user_event_kind::account_position);
    REQUIRE(event.account.balance_count == 2);
    CHECK(event.account.balances[0].asset.view() == "BTC");
    CHECK(event.account.balances[0].free_e8 == 1'181'800'000'000);
    CHECK(event.account.balances[0].locked_e8 == 18'200'000'000);
    CHECK(event.account.balances[1].asset.view() == "USDT");
    CHECK(event.account.event_time_ms == 1728972148778);
    CHECK_FALSE(event.account.truncated);
}

TEST_CASE("futures ORDER_TRADE_UPDATE of a reduce-only fill", "[binance_user_data]") {
    const std::array symbols{make("BTCUSDT", "0.10", "0.001")};
    user_data_decoder decoder(symbols);
    const auto& event = decoder.decode(
        R"({"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"qX0000000000000007","S":"SELL","o":"LIMIT","f":"IOC","q":"0.002","p":"7103.0","ap":"7103.0","sp":"0","x":"TRADE","X":"FILLED","i":8886774,"l":"0.002","z":"0.002","L":"7103.0","N":"USDT","n":"0.00568240","T":1568879465650,"t":42,"b":"0","a":"0","m":false,"R":true,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"-0.12000000","pP":false,"si":0,"ss":0,"V":"EXPIRE_TAKER","pm":"NONE","gtd":0}})");
    REQUIRE(event.kind == user_event_kind::order_update);
    const order_update& order = event.order;
    CHECK(order.client_id.view() == "qX0000000000000007");
    CHECK(order.side == core::side::sell);
    CHECK(order.execution == execution_type::trade);
    CHECK(order.status == venue_order_status::filled);
    CHECK(order.last_price == core::price{71'030});
    CHECK(order.last_qty == core::qty{2});
    CHECK(order.cum_qty == core::qty{2});
    CHECK(order.trade_id == 42);
    CHECK(order.reduce_only);
    CHECK_FALSE(order.maker);
    CHECK(order.commission_e8 == 568'240);
    CHECK(order.commission_asset.view() == "USDT");
    CHECK(order.event_time_ms == 1568879465651);
}

TEST_CASE("futures ORDER_TRADE_UPDATE of a new order has no commission", "[binance_user_data]") {
    const std::array symbols{make("BTCUSDT", "0.10", "0.001")};
    user_data_decoder decoder(symbols);
    const auto& event = decoder.decode(
        R"({"stream":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1","data":{"e":"ORDER_TRADE_UPDATE","E":1733300000500,"T":1733300000499,"o":{"s":"BTCUSDT","c":"qX0000000000000008","S":"BUY","o":"LIMIT","f":"GTX","q":"0.010","p":"96000.0","ap":"0","sp":"0","x":"NEW","X":"NEW","i":8886775,"l":"0","z":"0","L":"0","T":1733300000499,"t":0,"b":"960","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"EXPIRE_MAKER","pm":"NONE","gtd":0}}})");
    REQUIRE(event.kind == user_event_kind::order_update);
    CHECK(event.order.execution == execution_type::new_order);
    CHECK(event.order.order_price == core::price{960'000});
    CHECK(event.order.order_qty == core::qty{10});
    CHECK(event.order.commission_e8 == 0);
    CHECK_FALSE(event.order.reduce_only);
}

TEST_CASE("futures ACCOUNT_UPDATE balances and signed positions", "[binance_user_data]") {
    const std::array symbols{make("BTCUSDT", "0.10", "0.001"), make("ETHUSDT", "0.01", "0.001")};
    user_data_decoder decoder(symbols);
    const auto& event = decoder.decode(
        R"({"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"},{"a":"BUSD","wb":"1.00000000","cw":"0.00000000","bc":"-49.12345678"}],"P":[{"s":"BTCUSDT","pa":"0","ep":"0.00000","bep":"0","cr":"200","up":"0","mt":"isolated","iw":"0.00000000","ps":"BOTH"},{"s":"ETHUSDT","pa":"-20","ep":"6563.66500","bep":"6563.6","cr":"0","up":"2850.21200000","mt":"isolated","iw":"13200.70726908","ps":"BOTH"},{"s":"XRPUSDT","pa":"5","ep":"0.5","bep":"0.5","cr":"0","up":"0","mt":"cross","iw":"0","ps":"BOTH"}]}})");
    REQUIRE(event.kind == user_event_kind::account_update);
    CHECK(event.account.reason.view() == "ORDER");
    REQUIRE(event.account.balance_count == 2);
    CHECK(event.account.balances[0].asset.view() == "USDT");
    CHECK(event.account.balances[0].free_e8 == 12'262'412'345'678);
    CHECK(event.account.balances[0].locked_e8 == 10'012'345'678);
    REQUIRE(event.account.position_count == 2); // XRPUSDT is not in the table
    CHECK(event.account.positions[0].symbol == 0);
    CHECK(event.account.positions[0].amount == core::qty{0});
    CHECK(event.account.positions[1].symbol == 1);
    CHECK(event.account.positions[1].amount == core::qty{-20'000});
    // The entry price comes with the amount, to the nearest tick (6563.665 is 6563.66499...
    // as a double).
    CHECK(event.account.positions[0].entry_price_known);
    CHECK(event.account.positions[0].entry_price == core::price{0});
    CHECK(event.account.positions[1].entry_price_known);
    CHECK(event.account.positions[1].entry_price == core::price{656'366});
    // Balances and positions are as of the event's transaction time T.
    CHECK(event.account.transaction_time_ms == 1564745798938);
    CHECK(event.account.balances[1].update_time_ms == 1564745798938);
    CHECK(event.account.positions[0].update_time_ms == 1564745798938);
}

TEST_CASE("listenKeyExpired, other events and malformed input", "[binance_user_data]") {
    const std::array symbols{make("BTCUSDT", "0.10", "0.001")};
    user_data_decoder decoder(symbols);
    CHECK(
        decoder
            .decode(
                R"({"stream":"abc","data":{"e":"listenKeyExpired","E":"1736996475556","listenKey":"WsCMN0a4KHUPTQuX6IUnqEZfB1inxmv1qR4kbf1LuEjur5VdbzqvyxqG9TSjVVxv"}})")
            .kind == user_event_kind::listen_key_expired);
    CHECK(decoder.decode(R"({"e":"listenKeyExpired","E":1576653824250})").kind ==
          user_event_kind::listen_key_expired);
    // The WebSocket API's end of a user-data subscription (Binance's documented example).
    CHECK(decoder
              .decode(
                  R"({"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1728973001334}})")
              .kind == user_event_kind::stream_terminated);
    CHECK(
        decoder
            .decode(
                R"({"subscriptionId":0,"event":{"e":"balanceUpdate","E":1573200697110,"a":"BTC","d":"100.00000000","T":1573200697068}})")
            .kind == user_event_kind::other);
    CHECK(decoder.malformed_count() == 0);
    CHECK(decoder.decode("{").kind == user_event_kind::malformed);
    // A price off the tick grid is not silently rounded.
    CHECK(
        decoder
            .decode(
                R"({"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"a","S":"BUY","o":"LIMIT","f":"GTX","q":"0.010","p":"96000.05","x":"NEW","X":"NEW","i":1,"l":"0","z":"0","L":"0","T":1,"t":0,"m":false,"R":false}})")
            .kind == user_event_kind::malformed);
    // An unknown symbol cannot be attributed.
    CHECK(
        decoder
            .decode(
                R"({"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"DOGEUSDT","c":"a","S":"BUY","o":"LIMIT","f":"GTX","q":"1","p":"1","x":"NEW","X":"NEW","i":1,"l":"0","z":"0","L":"0","T":1,"t":0,"m":false,"R":false}})")
            .kind == user_event_kind::malformed);
    CHECK(decoder.malformed_count() == 3);
}
