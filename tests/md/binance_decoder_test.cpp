// Tests of md::binance_decoder: every message kind of both markets, field order, both decoding
// paths, and the malformed/unrecognised counts. One component, so one file.
#include "quoter/md/binance_decoder.hpp"

#include "md/test_support.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

using namespace quoter;
using namespace quoter::md;
using quoter::core::price;
using quoter::core::qty;
using quoter::md::testing::btc;
using quoter::md::testing::eth;
using quoter::md::testing::perp;

namespace {

// Hand-written messages in Binance's documented formats.
constexpr std::string_view spot_depth_envelope =
    R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT",)"
    R"("U":50093239203,"u":50093239207,"b":[["61000.10000000","0.00000000"],["60999.99000000",)"
    R"("1.50000000"]],"a":[["61001.00000000","0.32332000"],["61002.50000000","0.00000100"],)"
    R"(["61100.00000000","2.00000000"]]}})";

constexpr std::string_view futures_depth =
    R"({"e":"depthUpdate","E":1723161255308,"T":1723161255306,"s":"BTCPERP","U":400,"u":410,)"
    R"("pu":399,"b":[["61000.10","0.500"]],"a":[["61000.20","1.000"],["61000.30","0"]]})";

constexpr std::string_view spot_ticker_envelope =
    R"({"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000",)"
    R"("B":"3.78826000","a":"61837.64000000","A":"1.54698000"}})";

constexpr std::string_view futures_ticker =
    R"({"e":"bookTicker","u":400900,"s":"BTCPERP","b":"61000.10","B":"2.500","a":"61000.20",)"
    R"("A":"0.010","T":1723161255306,"E":1723161255308})";

constexpr std::string_view trade_envelope =
    R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT",)"
    R"("t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}})";

constexpr std::string_view agg_trade =
    R"({"e":"aggTrade","E":1723161255343,"s":"ETHUSDT","a":26129,"p":"2683.80000000",)"
    R"("q":"1.25000000","f":100,"l":104,"T":1723161255342,"m":false,"M":true})";

constexpr std::string_view spot_snapshot =
    R"({"lastUpdateId":50093239218,"bids":[["61837.63000000","3.78826000"],)"
    R"(["61837.62000000","0.61700000"]],"asks":[["61837.64000000","1.92853000"]]})";

constexpr std::string_view futures_snapshot =
    R"({"lastUpdateId":1027024,"E":1589436922972,"T":1589436922959,)"
    R"("bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]})";

struct decoder_fixture {
    symbol_registry registry = testing::make_registry();
    binance_decoder decoder{
        registry,
        decoder_config{.max_levels_per_side = 16, .reports_burst = 2, .report_interval_ms = 1000}};

    const decoded_message& decode(std::string_view text, symbol_id fallback = invalid_symbol) {
        return decoder.decode_copy(text, 1'000, fallback);
    }
    const core::symbol_spec& spec(symbol_id id) const { return registry.at(id).book_spec; }
    price px(symbol_id id, std::string_view text) const { return *spec(id).parse_price(text); }
    qty lots(symbol_id id, std::string_view text) const { return *spec(id).parse_qty(text); }
};

} // namespace

TEST_CASE("a spot depthUpdate in a combined-stream envelope decodes exactly", "[decoder]") {
    decoder_fixture f;
    const auto& m = f.decode(spot_depth_envelope);
    REQUIRE(m.kind == message_kind::depth_update);
    CHECK(m.symbol == btc);
    CHECK(m.local_ns == 1'000);
    CHECK(m.depth.first_update_id == 50093239203ULL);
    CHECK(m.depth.final_update_id == 50093239207ULL);
    CHECK_FALSE(m.depth.has_prev_final_update_id);
    CHECK(m.depth.exchange_ns == 1723161255308LL * 1'000'000);
    REQUIRE(m.depth.bids.size() == 2);
    REQUIRE(m.depth.asks.size() == 3);
    CHECK(m.depth.bids[0].px == price{6100010});
    CHECK(m.depth.bids[0].qty == qty{0});
    CHECK(m.depth.bids[1].px == price{6099999});
    CHECK(m.depth.bids[1].qty == qty{150000000});
    CHECK(m.depth.asks[1].qty == qty{100}); // 0.000001 in 1e-8 book lots
    CHECK(m.depth.asks[2].px == f.px(btc, "61100"));
}

TEST_CASE("raw /ws messages decode like enveloped ones", "[decoder]") {
    decoder_fixture f;
    const auto start = spot_depth_envelope.find(R"("data":)") + 7;
    const std::string raw(
        spot_depth_envelope.substr(start, spot_depth_envelope.size() - start - 1));
    REQUIRE(raw.front() == '{');
    const auto& m = f.decode(raw);
    REQUIRE(m.kind == message_kind::depth_update);
    CHECK(m.symbol == btc);
    CHECK(m.depth.asks.size() == 3);
}

TEST_CASE("a futures depthUpdate carries pu and the transaction time", "[decoder]") {
    decoder_fixture f;
    const auto& m = f.decode(futures_depth);
    REQUIRE(m.kind == message_kind::depth_update);
    CHECK(m.symbol == perp);
    CHECK(m.depth.first_update_id == 400);
    CHECK(m.depth.final_update_id == 410);
    CHECK(m.depth.has_prev_final_update_id);
    CHECK(m.depth.prev_final_update_id == 399);
    CHECK(m.depth.transaction_ns == 1723161255306LL * 1'000'000);
    CHECK(m.depth.bids[0].px == price{610001});
    CHECK(m.depth.asks[1].qty == qty{0});
}

TEST_CASE("bookTicker decodes on spot (no event type) and futures", "[decoder]") {
    decoder_fixture f;
    const auto& spot = f.decode(spot_ticker_envelope);
    REQUIRE(spot.kind == message_kind::book_ticker);
    CHECK(spot.symbol == btc);
    CHECK(spot.ticker.update_id == 50093239212ULL);
    CHECK(spot.ticker.bid.px == f.px(btc, "61837.63"));
    CHECK(spot.ticker.bid.qty == f.lots(btc, "3.78826"));
    CHECK(spot.ticker.ask.px == f.px(btc, "61837.64"));
    CHECK(spot.ticker.ask.qty == f.lots(btc, "1.54698"));
    CHECK(spot.ticker.exchange_ns == 0);

    const auto& futures = f.decode(futures_ticker);
    REQUIRE(futures.kind == message_kind::book_ticker);
    CHECK(futures.symbol == perp);
    CHECK(futures.ticker.update_id == 400900);
    CHECK(futures.ticker.ask.qty == f.lots(perp, "0.01"));
    CHECK(futures.ticker.exchange_ns == 1723161255308LL * 1'000'000);
}

TEST_CASE("trade and aggTrade decode price, size, aggressor and count", "[decoder]") {
    decoder_fixture f;
    const auto& trade = f.decode(trade_envelope);
    REQUIRE(trade.kind == message_kind::trade);
    CHECK(trade.trade.trade_id == 3735683259LL);
    CHECK(trade.trade.px == f.px(btc, "61837.63"));
    CHECK(trade.trade.qty == f.lots(btc, "0.02"));
    CHECK(trade.trade.aggressor == core::side::sell); // buyer was the maker
    CHECK(trade.trade.count == 1);
    CHECK(trade.trade.trade_ns == 1723161255342LL * 1'000'000);

    const auto& agg = f.decode(agg_trade);
    REQUIRE(agg.kind == message_kind::agg_trade);
    CHECK(agg.symbol == eth);
    CHECK(agg.trade.trade_id == 26129);
    CHECK(agg.trade.count == 5);
    CHECK(agg.trade.aggressor == core::side::buy);
}

TEST_CASE("REST depth snapshots decode with the requested symbol", "[decoder]") {
    decoder_fixture f;
    const auto& spot = f.decode(spot_snapshot, btc);
    REQUIRE(spot.kind == message_kind::depth_snapshot);
    CHECK(spot.symbol == btc);
    CHECK(spot.depth.final_update_id == 50093239218ULL);
    CHECK(spot.depth.bids.size() == 2);
    CHECK(spot.depth.asks[0].qty == f.lots(btc, "1.92853"));

    const auto& futures = f.decode(futures_snapshot, eth);
    REQUIRE(futures.kind == message_kind::malformed); // 4.000002 is off ETHUSDT's 0.01 grid
    CHECK(futures.error == decode_error::bad_price);

    const auto& no_symbol = f.decode(spot_snapshot);
    CHECK(no_symbol.kind == message_kind::malformed);
    CHECK(no_symbol.error == decode_error::no_symbol);
}

TEST_CASE("unknown fields, replies, other events and unknown symbols are not errors", "[decoder]") {
    decoder_fixture f;
    const auto& extra = f.decode(
        R"({"stream":"btcusdt@bookTicker","data":{"x":{"deep":[1,[2,{"y":null}]]},"u":7,)"
        R"("s":"BTCUSDT","b":"1.00","B":"1","a":"1.01","A":"2","zz":"\u00e9"},"extra":[true]})");
    CHECK(extra.kind == message_kind::book_ticker);
    CHECK(f.decode(R"({"result":null,"id":1})").kind == message_kind::ignored);
    CHECK(f.decode(R"({"e":"24hrTicker","E":1,"s":"BTCUSDT","c":"1.0"})").kind ==
          message_kind::ignored);
    CHECK(f.decode(R"({"e":"depthUpdate","E":1,"s":"DOGEUSDT","U":1,"u":2,"b":[],"a":[]})").kind ==
          message_kind::unknown_symbol);
    CHECK(f.decoder.stats().malformed() == 0);
}

TEST_CASE("serverShutdown is recognised bare, enveloped or wrapped", "[decoder]") {
    decoder_fixture f;
    CHECK(f.decode(R"({"e":"serverShutdown","E":1723161255308})").kind ==
          message_kind::server_shutdown);
    CHECK(f.decode(R"({"stream":"btcusdt@depth","data":{"e":"serverShutdown","E":5}})").kind ==
          message_kind::server_shutdown);
    CHECK(f.decode(R"({"event":{"e":"serverShutdown","E":5}})").kind ==
          message_kind::server_shutdown);
}

TEST_CASE("a symbol named after the levels is found by a second pass", "[decoder]") {
    decoder_fixture f;
    const auto& m = f.decode(
        R"({"e":"depthUpdate","E":1,"U":5,"u":6,"b":[["2683.80","1.5"]],"a":[],"s":"ETHUSDT"})");
    REQUIRE(m.kind == message_kind::depth_update);
    CHECK(m.symbol == eth);
    REQUIRE(m.depth.bids.size() == 1);
    CHECK(m.depth.bids[0].px == f.px(eth, "2683.80"));

    // Stream name says one symbol, "s" another: "s" wins and the levels are re-read.
    const auto& both =
        f.decode(R"({"stream":"ethusdt@depth","data":{"e":"depthUpdate","E":1,"U":5,"u":6,)"
                 R"("b":[["61000.01","1"]],"a":[],"s":"BTCUSDT"}})");
    REQUIRE(both.kind == message_kind::depth_update);
    CHECK(both.symbol == btc);
    CHECK(both.depth.bids[0].px == price{6100001});
}

TEST_CASE("every truncation of a valid message is malformed and counted", "[decoder]") {
    decoder_fixture f;
    for (const std::string_view message :
         {spot_depth_envelope, futures_depth, spot_ticker_envelope, trade_envelope}) {
        for (std::size_t size = 0; size < message.size(); ++size) {
            const auto& m = f.decode(message.substr(0, size));
            INFO(message.substr(0, size));
            REQUIRE(m.kind == message_kind::malformed);
        }
    }
    CHECK(f.decoder.stats().malformed() > 100);
    CHECK(f.decoder.stats().by_error[static_cast<std::size_t>(decode_error::json)] > 0);
}

TEST_CASE("malformed inputs are rejected with their reason", "[decoder]") {
    decoder_fixture f;
    const auto error_of = [&](std::string_view text) {
        const auto& m = f.decode(text);
        CHECK(m.kind == message_kind::malformed);
        return m.error;
    };
    CHECK(error_of("") == decode_error::json);
    CHECK(error_of("not json") == decode_error::json);
    CHECK(error_of("[1,2,3]") == decode_error::json);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":"5","u":6,"b":[],"a":[]})") ==
          decode_error::wrong_type);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":5,"u":6,"b":[],"a":{}})") ==
          decode_error::wrong_type);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":5,"u":6,"b":[[1.5,"1"]],"a":[]})") ==
          decode_error::wrong_type);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":5,"u":6,"b":[["1.00"]],"a":[]})") ==
          decode_error::missing_field);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":5,"b":[],"a":[]})") ==
          decode_error::missing_field);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":7,"u":6,"b":[],"a":[]})") ==
          decode_error::bad_number);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":5,"u":123456789012345678901234567890,)"
                   R"("b":[],"a":[]})") == decode_error::bad_number);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":-5,"u":6,"b":[],"a":[]})") !=
          decode_error::none);
    CHECK(error_of(R"({"e":"depthUpdate","E":99999999999999999,"s":"BTCUSDT","U":5,"u":6,)"
                   R"("b":[],"a":[]})") == decode_error::bad_number);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":5,"u":6,)"
                   R"("b":[["99999999999999999999999.00","1"]],"a":[]})") ==
          decode_error::bad_price);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":5,"u":6,"b":[["1.001","1"]],"a":[]})") ==
          decode_error::bad_price);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":5,"u":6,"b":[["1e5","1"]],"a":[]})") ==
          decode_error::bad_price);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":5,"u":6,"b":[["1.00","-1"]],"a":[]})") ==
          decode_error::bad_qty);
    CHECK(error_of(R"({"e":"depthUpdate","s":"BTCUSDT","U":5,"u":6,)"
                   R"("b":[["1.00","0.000000001"]],"a":[]})") == decode_error::bad_qty);
    CHECK(error_of(R"({"u":7,"s":"BTCUSDT","b":"1.00","B":"1","a":"1.01"})") ==
          decode_error::missing_field);
    CHECK(error_of(R"({"u":7,"s":"BTCUSDT","b":"1.00","B":"1","a":"x","A":"1"})") ==
          decode_error::bad_price);
    CHECK(error_of(R"({"e":"trade","s":"BTCUSDT","t":1,"p":"1.00","q":"1","m":"yes"})") ==
          decode_error::wrong_type);
    CHECK(error_of(R"({"e":"trade","s":"BTCUSDT","t":1,"p":"1.00","m":true})") ==
          decode_error::missing_field);
    CHECK(error_of(R"({"e":"depthUpdate","U":5,"u":6,"b":[["1.00","1"]],"a":[]})") ==
          decode_error::no_symbol);
    CHECK(error_of(R"({"code":-1121,"msg":"Invalid symbol."})") == decode_error::rest_error);
    CHECK(error_of(R"({"stream":"btcusdt@trade","data":null})") == decode_error::wrong_type);
    CHECK(error_of(R"({"lastUpdateId":5,"bids":[]})") != decode_error::none);

    std::string many = R"({"e":"depthUpdate","s":"BTCUSDT","U":5,"u":6,"b":[)";
    for (int i = 0; i < 17; ++i) {
        many += (i == 0 ? "" : ",");
        many += R"(["1.00","1"])";
    }
    many += R"(],"a":[]})";
    CHECK(error_of(many) == decode_error::too_many_levels);

    std::string deep(5000, '[');
    CHECK(error_of(deep) == decode_error::json);
    std::string nested = R"({"x":)" + std::string(3000, '[') + std::string(3000, ']') + "}";
    CHECK(f.decode(nested).kind != message_kind::depth_update);
}

TEST_CASE("messages over the size limit are rejected before parsing", "[decoder]") {
    const auto registry = testing::make_registry();
    binance_decoder decoder(registry, decoder_config{.max_message_bytes = 64});
    const auto& m = decoder.decode_copy(spot_depth_envelope, 0);
    CHECK(m.kind == message_kind::malformed);
    CHECK(m.error == decode_error::too_large);
}

TEST_CASE("malformed messages are reported at a limited rate", "[decoder]") {
    decoder_fixture f; // 2 reports per second
    malformed_report report;
    CHECK_FALSE(f.decoder.take_report(report));
    int reports = 0;
    std::uint64_t suppressed = 0;
    for (int i = 0; i < 100; ++i) {
        (void)f.decoder.decode_copy("{broken", 1'000'000'000LL + i * 100'000'000LL); // 100 ms apart
        if (f.decoder.take_report(report)) {
            ++reports;
            suppressed += report.suppressed;
            CHECK(report.error == decode_error::json);
            CHECK(report.excerpt_view() == "{broken");
        }
    }
    CHECK(f.decoder.stats().malformed() == 100);
    // 10 s at 2 per second, plus the initial burst of 2.
    CHECK(reports >= 20);
    CHECK(reports <= 23);
    CHECK(static_cast<int>(suppressed) + reports <= 100);
    CHECK(suppressed >= 70);
}

TEST_CASE("a valid body that is not what its market-data stream carries is malformed",
          "[decoder]") {
    symbol_registry registry = testing::make_registry();
    for (const bool canonical : {true, false}) {
        binance_decoder decoder(registry, {.canonical_fast_path = canonical});
        const auto decode = [&](std::string_view text) -> const decoded_message& {
            return decoder.decode_copy(text, 1);
        };
        const std::string depth_body(spot_depth_envelope.substr(
            spot_depth_envelope.find(R"("data":)") + 7,
            spot_depth_envelope.size() - spot_depth_envelope.find(R"("data":)") - 8));
        const std::string ticker_body(spot_ticker_envelope.substr(
            spot_ticker_envelope.find(R"("data":)") + 7,
            spot_ticker_envelope.size() - spot_ticker_envelope.find(R"("data":)") - 8));
        // The bodies on their own streams decode.
        CHECK(decode(R"({"stream":"btcusdt@depth@100ms","data":)" + depth_body + "}").kind ==
              message_kind::depth_update);
        CHECK(decode(R"({"stream":"btcusdt@bookTicker","data":)" + ticker_body + "}").kind ==
              message_kind::book_ticker);
        // On another market-data stream, or with a body that is no market data at all.
        for (const std::string& text :
             {R"({"stream":"btcusdt@trade","data":)" + depth_body + "}",
              R"({"stream":"btcusdt@depth@100ms","data":)" + ticker_body + "}",
              R"({"stream":"btcusdt@bookTicker","data":)" + depth_body + "}",
              std::string(R"({"stream":"btcusdt@depth","data":{"result":null}})"),
              std::string(R"({"stream":"btcusdt@aggTrade","data":{"e":"trade","E":1,"s":"BTCUSDT",)"
                          R"("t":1,"p":"1.00","q":"1","T":1,"m":true}})"),
              std::string(R"({"stream":"btcusdt@depth","data":{"lastUpdateId":5,"bids":[],)"
                          R"("asks":[]}})")}) {
            INFO(text << (canonical ? " (canonical on)" : " (general path)"));
            const auto& m = decode(text);
            CHECK(m.kind == message_kind::malformed);
            CHECK(m.error == decode_error::wrong_stream);
        }
        // A serverShutdown may come on any stream; other channels are not checked.
        CHECK(decode(R"({"stream":"btcusdt@depth","data":{"e":"serverShutdown","E":5}})").kind ==
              message_kind::server_shutdown);
        CHECK(decode(R"({"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":1}})").kind ==
              message_kind::ignored);
    }
}

TEST_CASE("malformed reports taken late are neither overwritten nor lost uncounted", "[decoder]") {
    SECTION("a burst within the budget: one report each") {
        symbol_registry registry = testing::make_registry();
        binance_decoder decoder(registry, {.reports_burst = 5, .report_interval_ms = 10'000});
        for (int i = 0; i < 3; ++i) { // 1 us apart, before housekeeping looks
            (void)decoder.decode_copy("{broken" + std::to_string(i), 1'000'000'000LL + i * 1'000);
        }
        malformed_report report;
        for (int i = 0; i < 3; ++i) {
            REQUIRE(decoder.take_report(report));
            CHECK(report.excerpt_view() == "{broken" + std::to_string(i));
            CHECK(report.suppressed == 0);
        }
        CHECK_FALSE(decoder.take_report(report));
    }
    SECTION("more than the budget or the queue: the rest are counted in the next report") {
        decoder_fixture f; // 2 reports per second
        std::uint64_t accounted = 0;
        malformed_report report;
        // Ten malformed messages 1 s apart while nobody takes reports: the queue holds two.
        for (int i = 0; i < 10; ++i) {
            (void)f.decoder.decode_copy("{broken", 1'000'000'000LL + i * 1'000'000'000LL);
        }
        while (f.decoder.take_report(report)) {
            accounted += 1 + report.suppressed;
        }
        CHECK(accounted == 2);
        (void)f.decoder.decode_copy("{late", 20'000'000'000LL);
        REQUIRE(f.decoder.take_report(report));
        CHECK(report.excerpt_view() == "{late");
        CHECK(report.suppressed == 8);
        accounted += 1 + report.suppressed;
        CHECK(accounted == f.decoder.stats().malformed());
    }
}

TEST_CASE("receive_buffer holds a padded message decoded in place", "[decoder]") {
    decoder_fixture f;
    receive_buffer buffer(1024);
    auto space = buffer.writable();
    REQUIRE(space.size() == 1024);
    std::copy(trade_envelope.begin(), trade_envelope.end(), space.begin());
    buffer.commit(trade_envelope.size());
    const padded_view view = buffer.view();
    CHECK(view.capacity >= view.size + message_padding);
    CHECK(f.decoder.decode(view, 5).kind == message_kind::trade);
    buffer.assign(spot_ticker_envelope);
    CHECK(f.decoder.decode(buffer.view(), 6).kind == message_kind::book_ticker);
    CHECK(f.decoder.stats().count(message_kind::trade) == 1);
}

TEST_CASE("rate_limiter refills over time and counts refusals", "[decoder]") {
    rate_limiter limiter(3, 3'000);
    CHECK(limiter.allow(0));
    CHECK(limiter.allow(0));
    CHECK(limiter.allow(0));
    CHECK_FALSE(limiter.allow(10));
    CHECK_FALSE(limiter.allow(999));
    CHECK(limiter.allow(1'000));
    CHECK_FALSE(limiter.allow(1'001));
    CHECK(limiter.take_suppressed() == 3);
    CHECK(limiter.suppressed() == 0);
}

TEST_CASE("stream names and \"s\" decide the symbol in document order", "[decoder]") {
    decoder_fixture f;
    const auto decode = [&](std::string_view text, symbol_id fallback = invalid_symbol) {
        const auto& m = f.decode(text, fallback);
        return std::pair{m.kind, m.symbol};
    };
    const auto depth = [](symbol_id symbol) {
        return std::pair{message_kind::depth_update, symbol};
    };
    const auto unknown = std::pair{message_kind::unknown_symbol, invalid_symbol};
    // "s" wins over the stream name, before or after it.
    CHECK(decode(R"({"stream":"ethusdt@depth","data":{"e":"depthUpdate","U":5,"u":6,)"
                 R"("s":"BTCUSDT","b":[["1.00","1"]],"a":[]}})") == depth(btc));
    CHECK(decode(R"({"data":{"s":"BTCUSDT","e":"depthUpdate","U":5,"u":6,"b":[["1.00","1"]],)"
                 R"("a":[]},"stream":"ethusdt@depth"})") == depth(btc));
    // Without "s", the stream name (in any position) names the symbol, over the fallback.
    CHECK(decode(R"({"stream":"ethusdt@depth","data":{"e":"depthUpdate","U":5,"u":6,)"
                 R"("b":[["1.00","1"]],"a":[]}})",
                 perp) == depth(eth));
    CHECK(decode(R"({"data":{"e":"depthUpdate","U":5,"u":6,"b":[["1.00","1"]],"a":[]},)"
                 R"("stream":"ethusdt@depth"})") == depth(eth));
    // An unknown stream name leaves the fallback; an unknown "s" makes the message unknown.
    CHECK(decode(R"({"stream":"dogeusdt@depth","data":{"e":"depthUpdate","U":5,"u":6,)"
                 R"("b":[["1.00","1"]],"a":[]}})",
                 perp) == depth(perp));
    CHECK(decode(R"({"stream":"dogeusdt@depth","data":{"e":"depthUpdate","U":5,"u":6,)"
                 R"("b":[["1.00","1"]],"a":[]}})")
              .second == invalid_symbol);
    CHECK(decode(R"({"stream":"ethusdt@depth","data":{"e":"depthUpdate","U":5,"u":6,)"
                 R"("s":"DOGEUSDT","b":[["1.00","1"]],"a":[]}})") == unknown);
    CHECK(decode(R"({"data":{"s":"DOGEUSDT","e":"depthUpdate","U":5,"u":6,"b":[["1.00","1"]],)"
                 R"("a":[]},"stream":"ethusdt@depth"})") == unknown);
    // Two stream names: an unknown second one does not undo a known first one.
    CHECK(decode(R"({"stream":"ethusdt@depth","stream":"dogeusdt@x","data":{"e":"depthUpdate",)"
                 R"("U":5,"u":6,"b":[["1.00","1"]],"a":[]}})") == depth(eth));
    // Two "s": the last decides, levels read with the first are read again, and "s" is exact.
    const auto& reread = f.decode(R"({"e":"depthUpdate","U":5,"u":6,"s":"ETHUSDT",)"
                                  R"("b":[["61000.01","1"]],"s":"BTCUSDT","a":[]})");
    REQUIRE(reread.kind == message_kind::depth_update);
    CHECK(reread.symbol == btc);
    CHECK(reread.depth.bids[0].px == f.px(btc, "61000.01"));
    CHECK(decode(R"({"e":"depthUpdate","U":5,"u":6,"s":"BTCUSDT","s":"btcusdt",)"
                 R"("b":[["1.00","1"]],"a":[]})") == unknown);
    // Stream names are matched in any letter case.
    CHECK(decode(R"({"stream":"BTCUSDT@bookTicker","data":{"u":7,"b":"1.00","B":"1",)"
                 R"("a":"1.01","A":"2"}})") == std::pair{message_kind::book_ticker, btc});
}

// -- canonical-layout reader ---------------------------------------------------------------

namespace {

constexpr std::string_view eth_depth_raw =
    R"({"e":"depthUpdate","E":1723161255308,"s":"ETHUSDT","U":7,"u":9,"b":[["2683.81000000",)"
    R"("12.50000000"],["2683.10000000","0.00000000"]],"a":[]})";

constexpr std::string_view futures_ticker_canonical =
    R"({"e":"bookTicker","u":400900,"E":1723161255308,"T":1723161255306,"s":"BTCPERP",)"
    R"("b":"61000.10","B":"2.500","a":"61000.20","A":"0.010"})";

constexpr std::string_view futures_agg_trade =
    R"({"e":"aggTrade","E":1723161255343,"a":26129,"s":"BTCPERP","p":"61000.10","q":"0.010",)"
    R"("f":100,"l":104,"T":1723161255342,"m":true})";

constexpr std::string_view spot_ticker_raw =
    R"({"u":50093239212,"s":"ETHUSDT","b":"2683.80000000","B":"3.78826000","a":"2683.81000000",)"
    R"("A":"0.00010000"})";

/// One decoder with the canonical reader and one without, on the same registry.
struct twin_decoders {
    symbol_registry registry = testing::make_registry();
    binance_decoder fast{registry, decoder_config{.max_levels_per_side = 16}};
    binance_decoder general{
        registry, decoder_config{.max_levels_per_side = 16, .canonical_fast_path = false}};

    /// Decodes text (followed by the given padding bytes) with both; requires equal results.
    void require_agree(std::string_view text, char padding = '\0',
                       symbol_id fallback = invalid_symbol) {
        std::string buffer(text);
        buffer.append(message_padding, padding);
        const padded_view view{buffer.data(), text.size(), buffer.size()};
        INFO(std::string(text));
        const decoded_message a = fast.decode(view, 77, fallback);
        const decoded_message& b = general.decode(view, 77, fallback);
        testing::require_same_decode(a, b);
    }
};

} // namespace

TEST_CASE("canonical messages take the canonical reader and decode as the general path does",
          "[decoder][canonical]") {
    twin_decoders d;
    const std::string raw_spot_depth(spot_depth_envelope.substr(
        spot_depth_envelope.find(R"("data":)") + 7,
        spot_depth_envelope.size() - spot_depth_envelope.find(R"("data":)") - 8));
    const std::vector<std::string_view> canonical{
        spot_depth_envelope,  raw_spot_depth,           futures_depth,
        spot_ticker_envelope, futures_ticker_canonical, eth_depth_raw,
        spot_ticker_raw,      trade_envelope,           agg_trade};
    for (const std::string_view text : canonical) {
        const std::uint64_t before = d.fast.stats().canonical;
        d.require_agree(text);
        INFO(std::string(text));
        CHECK(d.fast.stats().canonical == before + 1);
    }
    CHECK(d.general.stats().canonical == 0);
    // Other field orders, other events and snapshots take the general path in both.
    for (const std::string_view text : {futures_ticker, futures_agg_trade, spot_snapshot}) {
        const std::uint64_t before = d.fast.stats().canonical;
        d.require_agree(text, '\0', btc);
        CHECK(d.fast.stats().canonical == before);
    }
    // The symbol cache follows a change of symbol.
    for (int i = 0; i < 4; ++i) {
        d.require_agree(i % 2 == 0 ? eth_depth_raw : spot_depth_envelope);
        CHECK(d.fast.last().symbol == (i % 2 == 0 ? eth : btc));
    }
}

TEST_CASE("the canonical reader falls back on every deviation from the layout",
          "[decoder][canonical]") {
    twin_decoders d;
    const std::vector<std::string> variants{
        // whitespace, escapes, other spellings of the same values
        R"({"stream":"btcusdt@depth","data": {"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}})",
        R"({"e":"depthUpdate","E":1,"s":"BTC\u0055SDT","U":1,"u":2,"b":[],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[ ["1.00000000","1.00000000"]],"a":[]})",
        R"({"e":"depthUpdate","E":01,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]})",
        R"({"e":"depthUpdate","E":1.0,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]})",
        R"({"e":"depthUpdate","E":1e3,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]})",
        R"({"e":"depthUpdate","E":-1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]})",
        R"({"e":"depthUpdate","E":99999999999999999999,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]})",
        R"({"e":"depthUpdate","E":9999999999999999999,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":3,"u":2,"b":[],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"NOPEUSDT","U":1,"u":2,"b":[["1.00000000","1.00000000"]],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"","U":1,"u":2,"b":[],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.001","1.00000000"]],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.00000000","1.000000001"]],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["123456789.00000000","1"]],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["61000.1","2"],[".5","0."]],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.00000000","1.00000000","x"]],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.00000000"]],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[[1.0,2.0]],"a":[]})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]} )",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[],"x":1})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"a":[],"b":[]})",
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[],"a":[]})",
        R"({"stream":"ethusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}})",
        R"({"stream":"btc\"usdt","data":{"u":1,"s":"BTCUSDT","b":"1.00000000","B":"1.00000000","a":"2.00000000","A":"1.00000000"}})",
        R"({"u":1,"s":"BTCUSDT","b":"1.00000000","B":"1.00000000","a":"2.00000000"})",
        R"({"u":1,"s":"BTCUSDT","b":"1.00000000","B":"-1.00000000","a":"2.00000000","A":"1.00000000"})",
        R"({"u":1,"s":"BTCUSDT","b":"1.00000000","B":"1.00000000","a":"2.00000000","A":"1.00000000"})",
        R"({"u":18446744073709551615,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"})",
        R"({"e":"bookTicker","u":1,"E":9223372036854775807,"T":1,"s":"BTCPERP","b":"1.00","B":"1","a":"2.00","A":"1"})",
        // trades: other orders, types and ranges
        R"({"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.00000000","q":"1.00000000","T":1,"m":1,"M":true})",
        R"({"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.00000000","q":"1.00000000","T":1,"m":true,"M":null})",
        R"({"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.00000000","q":"1.00000000","T":1,"m":true})",
        R"({"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.00000000","q":"1.00000000","m":true,"M":true})",
        R"({"e":"trade","E":1,"s":"BTCUSDT","t":9223372036854775808,"p":"1.00000000","q":"1.00000000","T":1,"m":true,"M":true})",
        R"({"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.001","q":"1.00000000","T":1,"m":false,"M":true})",
        R"({"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.00000000","q":"1.000000001","T":1,"m":false,"M":true})",
        R"({"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.00000000","q":"1.00000000","T":9223372036854775807,"m":false,"M":true})",
        R"({"e":"trade","E":1,"s":"NOPEUSDT","t":5,"p":"1.00000000","q":"1.00000000","T":1,"m":false,"M":true})",
        R"({"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.00000000","q":"1.00000000","T":1,"m":false,"M":true,"x":1})",
        R"({"stream":"btcusdt@depth","data":{"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.00000000","q":"1.00000000","T":1,"m":false,"M":true}})",
        R"({"stream":"btcusdt@aggTrade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.00000000","q":"1.00000000","T":1,"m":false,"M":true}})",
        R"({"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":5,"p":"1.00000000","q":"1.00000000","f":7,"l":7,"T":1,"m":false,"M":true}})",
        R"({"e":"aggTrade","E":1,"s":"BTCUSDT","a":5,"p":"1.00000000","q":"1.00000000","f":8,"l":7,"T":1,"m":false,"M":true})",
        R"({"e":"aggTrade","E":1,"s":"BTCUSDT","a":5,"p":"1.00000000","q":"1.00000000","f":0,"l":4294967295,"T":1,"m":false,"M":true})",
        R"({"e":"aggTrade","E":1,"s":"BTCUSDT","a":5,"p":"1.00000000","q":"1.00000000","f":1,"l":4294967295,"T":1,"m":false,"M":true})",
        R"({"e":"aggTrade","E":1,"s":"BTCUSDT","a":5,"p":"1.00000000","q":"1.00000000","T":1,"m":false,"M":true})",
    };
    for (const std::string& text : variants) {
        for (const char padding : {'\0', '7', '"', ']', '}'}) {
            d.require_agree(text, padding);
        }
    }
    // More levels than configured, and every truncation of canonical messages.
    std::string many = R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[)";
    for (int i = 0; i < 17; ++i) {
        many += std::string(i == 0 ? "" : ",") + R"(["1.00000000","1.00000000"])";
    }
    many += R"(],"a":[]})";
    d.require_agree(many);
    CHECK(d.fast.last().error == decode_error::too_many_levels);
    for (const std::string_view text :
         {spot_depth_envelope, spot_ticker_envelope, eth_depth_raw, trade_envelope, agg_trade}) {
        for (std::size_t size = 0; size < text.size(); ++size) {
            for (const char padding : {'\0', '0', '"'}) {
                d.require_agree(text.substr(0, size), padding);
            }
        }
    }
}

TEST_CASE("the canonical reader's remembered stream and symbol names never change a result",
          "[decoder][canonical]") {
    twin_decoders d;
    const std::string body =
        R"({"u":7,"s":"BTCUSDT","b":"1.00000000","B":"1.00000000","a":"2.00000000",)"
        R"("A":"1.00000000"})";
    const std::string depth_body =
        R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]})";
    const auto envelope = [](std::string_view stream, std::string_view data) {
        return std::string(R"({"stream":")") + std::string(stream) + R"(","data":)" +
               std::string(data) + "}";
    };
    const auto agree = [&](const std::string& text) {
        for (const char padding : {'\0', '"', 'r', ','}) {
            d.require_agree(text, padding);
        }
    };
    // Remember the stream and the symbol, then send texts that share a prefix with them, extend
    // them or carry the wrong body: each must decode as the general path decodes it.
    const std::string usual = envelope("btcusdt@bookTicker", body);
    agree(usual);
    REQUIRE(d.fast.last().kind == message_kind::book_ticker);
    const std::uint64_t canonical_before = d.fast.stats().canonical;
    agree(usual);
    CHECK(d.fast.stats().canonical > canonical_before); // the remembered names are accepted
    const std::vector<std::string> texts{
        envelope("btcusdt@bookTicker", depth_body), // known stream, wrong body: malformed
        envelope("btcusdt@bookTickerX", body),      // the known name plus one character
        envelope("btcusdt@bookTicke", body),        // the known name less one character
        envelope("btcusdt@bookTicker\\", body),     // followed by an escape
        envelope("btcusdt@bookTicker\u0041", body), // followed by an escaped character
        envelope("btcusdt@depth@100ms", body),      // another channel, wrong body
        envelope("btcusdt@bookTicker@bookTicker@bookTicker", body), // too long to remember
        envelope("btcusdt@bookTicker@bookTicker@bookTicker", body),
        envelope("", body),
        envelope("", depth_body),
        R"({"stream":"btcusdt@bookTicker"})",
        R"({"stream":"btcusdt@bookTicker)",
        R"({"stream":"btcusdt@bookTicker",)",
        R"({"u":7,"s":"BTCUSDTX","b":"1.00000000","B":"1.00000000","a":"2.00000000","A":"1.00000000"})",
        R"({"u":7,"s":"BTCUSD","b":"1.00000000","B":"1.00000000","a":"2.00000000","A":"1.00000000"})",
        R"({"u":7,"s":"BTCUSDT\u0000","b":"1.00000000","B":"1.00000000","a":"2.00000000","A":"1.00000000"})",
        R"({"u":7,"s":"BTCUSDT)",
        R"({"u":7,"s":"BTCUSDT")",
        R"({"u":7,"s":"BTCUSDT",)",
        R"({"u":7,"s":"ETHUSDT","b":"1.00000000","B":"1.00000000","a":"2.00000000","A":"1.00000000"})",
        usual,
    };
    for (int round = 0; round < 2; ++round) {
        for (const std::string& text : texts) {
            agree(text);
        }
    }
    d.require_agree(envelope("btcusdt@bookTicker", depth_body));
    CHECK(d.fast.last().kind == message_kind::malformed);
    CHECK(d.fast.last().error == decode_error::wrong_stream);
    // More streams than the reader remembers, in turn, then the first again.
    const std::vector<std::string> streams{"btcusdt@bookTicker", "a@bookTicker", "b@bookTicker",
                                           "c@bookTicker",       "d@bookTicker", "e@bookTicker",
                                           "btcusdt@depth@100ms"};
    for (int round = 0; round < 3; ++round) {
        for (const std::string& stream : streams) {
            agree(envelope(stream, body));
            agree(envelope(stream, depth_body));
        }
    }
    // Every truncation after the remembered names.
    for (std::size_t size = 0; size < usual.size(); ++size) {
        for (const char padding : {'\0', '"'}) {
            d.require_agree(usual.substr(0, size), padding);
        }
        d.require_agree(usual);
    }
}

TEST_CASE("the canonical reader converts levels as the general path does for every tick size",
          "[decoder][canonical]") {
    // The reader converts the levels of a book spec with a one-unit tick of 0 to 8 decimals and
    // 8 quantity decimals with its decimals as constants; other specs take the general loop.
    const std::vector<std::string> prices{"61737.63000000",
                                          "1.00000000",
                                          "0.00000001",
                                          "1234567.10000000",
                                          "9.99999999",
                                          "61737.60000000",
                                          "61737.00000000",
                                          "100.12345678",
                                          "0.10000000",
                                          "12345678.00000000",
                                          "61737.63",
                                          "61737.630000000",
                                          "061737.63000000",
                                          "61737.6300000x",
                                          "1.",
                                          "7",
                                          "61730.00000000"};
    const std::vector<std::string> quantities{"0.00000000",       "1.54698000",  "0.00000001",
                                              "9999999.99999999", "1.000000001", "2"};
    for (const char* tick : {"1", "0.1", "0.01", "0.001", "0.0001", "0.00001", "0.000001",
                             "0.0000001", "0.00000001", "0.05", "10"}) {
        for (const int qty_decimals : {8, 5}) {
            symbol_registry registry;
            const auto book = make_book_spec("XUSDT", tick, qty_decimals);
            REQUIRE(book.has_value());
            REQUIRE(registry.add({.book_spec = *book, .trading_spec = *book}) != invalid_symbol);
            binance_decoder fast{registry, decoder_config{.max_levels_per_side = 64}};
            binance_decoder general{
                registry, decoder_config{.max_levels_per_side = 64, .canonical_fast_path = false}};
            const auto agree = [&](const std::string& levels) {
                std::string text = R"({"e":"depthUpdate","E":1,"s":"XUSDT","U":1,"u":2,"b":[)" +
                                   levels + R"(],"a":[)" + levels + "]}";
                INFO(tick << " " << qty_decimals << " " << text);
                text.append(message_padding, '\0');
                const padded_view view{text.data(), text.size() - message_padding, text.size()};
                const decoded_message a = fast.decode(view, 1);
                testing::require_same_decode(a, general.decode(view, 1));
            };
            std::string all;
            for (const std::string& px : prices) {
                for (const std::string& q : quantities) {
                    const std::string level = R"([")" + px + R"(",")" + q + R"("])";
                    agree(level);
                    agree(level + "," + level);
                    all += (all.empty() ? "" : ",") + level;
                }
            }
            agree(all);
            INFO(tick << " " << qty_decimals);
            CHECK(fast.stats().canonical > 0); // the reader took the valid ones
        }
    }
}

TEST_CASE("random mutations of canonical messages decode alike on both paths",
          "[decoder][canonical][property]") {
    twin_decoders d;
    std::mt19937_64 rng(2024);
    constexpr std::string_view alphabet = "0123456789.\"\\,:[]{} e-+xE\x01\x7f\xc3";
    const std::vector<std::string_view> seeds{
        spot_depth_envelope, spot_ticker_envelope, futures_depth,  futures_ticker_canonical,
        eth_depth_raw,       spot_ticker_raw,      trade_envelope, agg_trade};
    for (const std::string_view seed : seeds) {
        for (int round = 0; round < 1500; ++round) {
            std::string text(seed);
            for (int edit = 0, edits = 1 + static_cast<int>(rng() % 3); edit < edits; ++edit) {
                const std::size_t at = rng() % text.size();
                const char c = alphabet[rng() % alphabet.size()];
                switch (rng() % 4) {
                case 0:
                    text[at] = c;
                    break;
                case 1:
                    text.erase(at, 1);
                    break;
                case 2:
                    text.insert(at, 1, c);
                    break;
                default:
                    text.resize(at);
                    break;
                }
                if (text.empty()) {
                    text = "{";
                }
            }
            d.require_agree(text, (rng() & 1U) != 0 ? '\0' : '9');
        }
    }
    // Digits: every quantity and price text of one level, mutated digit by digit.
    for (int round = 0; round < 2000; ++round) {
        std::string text(eth_depth_raw);
        const std::size_t at = text.find("2683.81000000") + rng() % 13;
        text[at] = "0123456789."[rng() % 11];
        d.require_agree(text);
    }
}
