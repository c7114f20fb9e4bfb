// The decoder accepts only valid JSON: every document simdjson's DOM parser (a validating
// parser) rejects is malformed for both decode paths and never reaches a book. Checked on a
// list of hand-made invalid documents and on seeded random mutations of real message shapes.
#include "quoter/md/binance_decoder.hpp"
#include "quoter/md/feed_handler.hpp"

#include "md/test_support.hpp"

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace quoter;
using namespace quoter::md;
using quoter::md::testing::btc;
using quoter::md::testing::perp;

namespace {

// Valid messages of every shape the decoder reads, canonical layouts first.
const std::vector<std::string>& valid_messages() {
    static const std::vector<std::string> messages = {
        R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,)"
        R"("s":"BTCUSDT","U":111,"u":113,"b":[["61000.10000000","0.00000000"],)"
        R"(["60999.99000000","1.50000000"]],"a":[["61001.00000000","0.32332000"]]}})",
        R"({"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":111,"u":112,)"
        R"("b":[["61000.05000000","2.00000000"]],"a":[]})",
        R"({"e":"depthUpdate","E":1723161255308,"T":1723161255306,"s":"BTCPERP","U":400,)"
        R"("u":410,"pu":399,"b":[["61000.10","0.500"]],"a":[["61000.20","1.000"]]})",
        R"({"stream":"btcusdt@bookTicker","data":{"u":112,"s":"BTCUSDT",)"
        R"("b":"61000.05000000","B":"3.78826000","a":"61000.06000000","A":"1.54698000"}})",
        R"({"e":"bookTicker","u":411,"E":1723161255308,"T":1723161255306,"s":"BTCPERP",)"
        R"("b":"61000.10","B":"2.500","a":"61000.20","A":"0.010"})",
        R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT",)"
        R"("t":3735683259,"p":"61000.05000000","q":"0.02000000","T":1723161255342,"m":true,)"
        R"("M":true}})",
        R"({"e":"aggTrade","E":1723161255343,"s":"BTCUSDT","a":26129,"p":"61000.05000000",)"
        R"("q":"1.25000000","f":100,"l":104,"T":1723161255342,"m":false,"M":true})",
        R"({ "e" : "depthUpdate", "E" : 1723161255308, "s" : "BTCUSDT", "U" : 111, "u" : 112,)"
        R"( "b" : [ [ "61000.05000000" , "2.00000000" ] ], "a" : [ ], "x" : {"k":[null,1.5e3]} })",
        R"({"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"U":111,"u":112,)"
        R"("b":[["61000.05","1"]],"a":[],"s":"BTCUSDT"}})",
        R"({"result":null,"id":1})",
    };
    return messages;
}

/// True when simdjson's validating DOM parser accepts text.
bool dom_accepts(const std::string& text) {
    static simdjson::dom::parser parser;
    simdjson::dom::element root;
    return parser.parse(text).get(root) == simdjson::SUCCESS;
}

/// Both decode paths, and a feed whose books are synced, over the same documents.
struct strict_fixture {
    symbol_registry registry = testing::make_registry();
    binance_decoder canonical{registry, decoder_config{.max_levels_per_side = 64}};
    binance_decoder general{
        registry, decoder_config{.max_levels_per_side = 64, .canonical_fast_path = false}};

    struct null_sink final : md_event_sink {
        void on_event(const md_event& /*event*/) noexcept override {}
    } sink;
    feed_handler feed{registry, sink};

    strict_fixture() {
        feed.on_connected(0);
        (void)feed.on_message_copy(
            R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":100,"u":110,"b":[],"a":[]})", 1);
        (void)feed.on_snapshot_copy(btc,
                                    R"({"lastUpdateId":105,"bids":[["61000.00","1.0"]],)"
                                    R"("asks":[["61001.00","1.0"]]})",
                                    2);
        (void)feed.on_message_copy(R"({"e":"depthUpdate","E":1,"T":1,"s":"BTCPERP","U":390,)"
                                   R"("u":399,"pu":380,"b":[],"a":[]})",
                                   3);
        (void)feed.on_snapshot_copy(perp,
                                    R"({"lastUpdateId":399,"bids":[["61000.00","1.0"]],)"
                                    R"("asks":[["61001.00","1.0"]]})",
                                    4);
        REQUIRE(feed.sync(btc).state() == feed_state::synced);
        REQUIRE(feed.sync(perp).state() == feed_state::synced);
    }

    /// Checks one document DOM rejects: malformed on both paths, no book touched.
    void require_rejected(const std::string& text) {
        INFO("document: " << text);
        REQUIRE_FALSE(dom_accepts(text));
        const auto& fast = canonical.decode_copy(text, 10);
        CHECK(fast.kind == message_kind::malformed);
        const auto& slow = general.decode_copy(text, 10);
        CHECK(slow.kind == message_kind::malformed);
        const std::uint64_t btc_id = feed.sync(btc).update_id();
        const std::uint64_t perp_id = feed.sync(perp).update_id();
        const std::uint64_t applied =
            feed.sync(btc).stats().diffs_applied + feed.sync(btc).stats().tickers_applied +
            feed.sync(perp).stats().diffs_applied + feed.sync(perp).stats().tickers_applied;
        (void)feed.on_message_copy(text, 10);
        CHECK(feed.sync(btc).update_id() == btc_id);
        CHECK(feed.sync(perp).update_id() == perp_id);
        CHECK(feed.sync(btc).stats().diffs_applied + feed.sync(btc).stats().tickers_applied +
                  feed.sync(perp).stats().diffs_applied + feed.sync(perp).stats().tickers_applied ==
              applied);
    }
};

std::string replace_first(std::string text, std::string_view from, std::string_view to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    return text;
}

} // namespace

TEST_CASE("documents a validating JSON parser rejects are malformed on both decode paths",
          "[decoder][strict]") {
    strict_fixture f;
    const auto& messages = valid_messages();
    for (const auto& message : messages) {
        REQUIRE(dom_accepts(message));
    }
    const std::string& spot_depth = messages[0];
    const std::string& raw_depth = messages[1];
    const std::string& futures_depth = messages[2];
    const std::string& spot_ticker = messages[3];
    const std::string& futures_ticker = messages[4];
    const std::string& trade = messages[5];
    const std::string& spaced = messages[7];

    std::vector<std::string> invalid;
    for (const auto& message : messages) {
        invalid.push_back(message + "}");                         // trailing brace
        invalid.push_back(message + "]");                         // trailing bracket
        invalid.push_back(message + " x");                        // trailing garbage
        invalid.push_back(message + "{}");                        // a second document
        invalid.push_back(message + ",1");                        // trailing value
        invalid.push_back(message.substr(0, message.size() - 1)); // truncated
    }
    // An unknown field whose value is not a JSON literal or number.
    invalid.push_back(replace_first(raw_depth, R"("E":)", R"("zz":tru,"E":)"));
    invalid.push_back(replace_first(spot_ticker, R"("s":)", R"("zz":nul,"s":)"));
    invalid.push_back(replace_first(trade, R"("M":true)", R"("M":tru)"));
    invalid.push_back(replace_first(trade, R"("M":true)", R"("M":truex)"));
    invalid.push_back(replace_first(raw_depth, R"("E":)", R"("zz":01,"E":)"));
    invalid.push_back(replace_first(raw_depth, R"("E":)", R"("zz":1.,"E":)"));
    invalid.push_back(replace_first(raw_depth, R"("E":)", R"("zz":-,"E":)"));
    invalid.push_back(replace_first(raw_depth, R"("E":)", R"("zz":[1,,2],"E":)"));
    invalid.push_back(replace_first(raw_depth, R"("E":)", R"("zz":{"k"},"E":)"));
    invalid.push_back(replace_first(raw_depth, R"("E":)", R"("zz":"x\q","E":)"));
    invalid.push_back(replace_first(raw_depth, R"("E":)", R"("zz":"\u12G4","E":)"));
    invalid.push_back(replace_first(raw_depth, R"("E":)", R"("x\q":1,"E":)"));
    invalid.push_back(replace_first(spaced, R"("k":[null,1.5e3])", R"("k":[nil,1.5e3])"));
    invalid.push_back(replace_first(spaced, R"("k":[null,1.5e3])", R"("k":[null,1.5e])"));
    // A number field with letters inside.
    invalid.push_back(replace_first(raw_depth, "1723161255308", "17231612x5308"));
    invalid.push_back(replace_first(spot_depth, "1723161255308", "17231612x5308"));
    invalid.push_back(replace_first(futures_depth, R"("pu":399)", R"("pu":39x9)"));
    invalid.push_back(replace_first(trade, "3735683259", "37356x83259"));
    invalid.push_back(replace_first(futures_ticker, R"("T":1723161255306)", R"("T":17231x)"));
    // Invalid escapes in strings the decoder reads as text.
    invalid.push_back(replace_first(raw_depth, R"("BTCUSDT")", R"("BTC\qUSDT")"));
    invalid.push_back(replace_first(raw_depth, R"("depthUpdate")", R"("depth\qUpdate")"));
    invalid.push_back(replace_first(spot_depth, R"("btcusdt@depth@100ms")", R"("btc\xusdt")"));
    invalid.push_back(replace_first(spot_ticker, R"("61000.05000000")", R"("61000.0\q")"));
    // Extra elements of a level that are not valid JSON.
    invalid.push_back(replace_first(raw_depth, R"("2.00000000"])", R"("2.00000000",tru])"));
    // Control characters and broken UTF-8 inside strings.
    invalid.push_back(replace_first(raw_depth, R"("BTCUSDT")", std::string("\"BTC\x01USDT\"")));
    invalid.push_back(replace_first(raw_depth, R"("depthUpdate")", "\"depth\xff\""));
    invalid.push_back(replace_first(spaced, R"("k":[null,1.5e3])", "\"k\":\"\xc3\""));
    // Structure.
    invalid.push_back(replace_first(raw_depth, R"(,"U":)", R"(,,"U":)"));
    invalid.push_back(replace_first(raw_depth, R"("U":111)", R"("U" 111)"));
    invalid.push_back(replace_first(raw_depth, R"("U":111)", R"(U:111)"));
    invalid.push_back(replace_first(spot_depth, R"("data":)",
                                    R"("data":)"
                                    "\x01"));

    for (const auto& text : invalid) {
        f.require_rejected(text);
    }
}

TEST_CASE("random mutations: what a validating parser rejects the decoder rejects",
          "[decoder][strict]") {
    strict_fixture f;
    std::mt19937_64 rng(20240808);
    constexpr std::string_view alphabet = R"({}[]:,"\ 0123456789.-+eEtrufalsn xq/u)"
                                          "\x01\x7f\xc3\xff";
    const auto& messages = valid_messages();
    std::uint64_t rejected = 0;
    std::uint64_t accepted = 0;
    // Bounded for the unit suite; QUOTER_STRICT_ITERATIONS runs longer by hand.
    int iterations = 20'000;
    if (const char* env = std::getenv("QUOTER_STRICT_ITERATIONS"); env != nullptr) {
        iterations = std::max(1, std::atoi(env));
    }
    for (int i = 0; i < iterations; ++i) {
        std::string text = messages[rng() % messages.size()];
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits && !text.empty(); ++e) {
            const std::size_t at = rng() % text.size();
            const char c = alphabet[rng() % alphabet.size()];
            switch (rng() % 5) {
            case 0:
                text[at] = c;
                break;
            case 1:
                text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
                break;
            case 2:
                text.erase(at, 1);
                break;
            case 3:
                text.insert(at, text.substr(rng() % text.size(), 1 + rng() % 6));
                break;
            default:
                text.resize(at);
                break;
            }
        }
        if (dom_accepts(text)) {
            ++accepted;
            // Valid documents: both paths agree exactly.
            const decoded_message fast = f.canonical.decode_copy(text, 10);
            const decoded_message& slow = f.general.decode_copy(text, 10);
            INFO("document: " << text);
            testing::require_same_decode(fast, slow);
            continue;
        }
        ++rejected;
        INFO("document: " << text);
        REQUIRE(f.canonical.decode_copy(text, 10).kind == message_kind::malformed);
        REQUIRE(f.general.decode_copy(text, 10).kind == message_kind::malformed);
    }
    // The mutations must exercise both outcomes.
    CHECK(rejected > static_cast<std::uint64_t>(iterations) / 4);
    CHECK(accepted > static_cast<std::uint64_t>(iterations) / 50);
}
