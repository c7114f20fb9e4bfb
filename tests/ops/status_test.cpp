#include "quoter/ops/status.hpp"

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <atomic>
#include <cstddef>
#include <thread>

using namespace quoter;

TEST_CASE("status board: readers never see a half-written snapshot", "[status]") {
    ops::status_board board;
    std::atomic<bool> done{false};
    constexpr std::uint64_t publications = 20'000;

    std::thread writer([&] {
        for (std::uint64_t k = 1; k <= publications; ++k) {
            ops::status_snapshot s;
            s.published_ns = static_cast<core::timestamp_ns>(k);
            s.fills = k;
            s.orders_sent = k;
            s.mid = static_cast<double>(k);
            s.tick_to_order_p99_ns = static_cast<core::duration_ns>(k);
            s.symbol.assign(k % 2 == 0 ? "EVENEVENEVEN" : "ODD");
            s.symbols.back().fills = k; // the snapshot's last words
            board.publish(s);
        }
        done.store(true);
    });
    std::uint64_t reads = 0;
    std::uint64_t last = 0;
    bool consistent = true;
    bool monotonic = true;
    while (!done.load() || reads == 0) {
        const ops::status_snapshot s = board.read();
        const auto k = s.fills;
        consistent = consistent && s.orders_sent == k && s.mid == static_cast<double>(k) &&
                     s.tick_to_order_p99_ns == static_cast<core::duration_ns>(k) &&
                     static_cast<std::uint64_t>(s.published_ns) == k &&
                     s.symbols.back().fills == k &&
                     s.symbol.view() == (k == 0       ? ""
                                         : k % 2 == 0 ? "EVENEVENEVEN"
                                                      : "ODD");
        monotonic = monotonic && k >= last;
        last = k;
        ++reads;
    }
    writer.join();
    CHECK(consistent);
    CHECK(monotonic);
    CHECK(board.read().fills == publications);
}

TEST_CASE("status board: a publication of the listed symbols alone stays whole", "[status]") {
    // The core publishes only the entries a session lists; readers still see every one of them
    // and the top level from the same publication.
    ops::status_board board;
    std::atomic<bool> done{false};
    constexpr std::uint64_t publications = 20'000;

    std::thread writer([&] {
        ops::status_snapshot s;
        s.symbol_count = 2;
        for (std::uint64_t k = 1; k <= publications; ++k) {
            s.fills = k;
            s.symbols[0].fills = k;
            s.symbols[1].fills = k;
            s.symbols[1].symbol.assign(k % 2 == 0 ? "EVENEVENEVEN" : "ODD");
            board.publish(s, s.listed_bytes());
        }
        done.store(true);
    });
    std::uint64_t reads = 0;
    bool consistent = true;
    while (!done.load() || reads == 0) {
        const ops::status_snapshot s = board.read();
        const auto k = s.fills;
        consistent = consistent && s.symbols[0].fills == k && s.symbols[1].fills == k &&
                     s.symbols[1].symbol.view() == (k == 0       ? ""
                                                    : k % 2 == 0 ? "EVENEVENEVEN"
                                                                 : "ODD");
        ++reads;
    }
    writer.join();
    CHECK(consistent);
    CHECK(board.read().symbols[1].fills == publications);
}

TEST_CASE("status board: a publication copies the listed bytes and keeps the rest", "[status]") {
    ops::status_snapshot s;
    CHECK(s.listed_bytes() == offsetof(ops::status_snapshot, symbols));
    s.symbol_count = 3;
    CHECK(s.listed_bytes() ==
          offsetof(ops::status_snapshot, symbols) + 3 * sizeof(ops::symbol_status));
    s.symbol_count = 1000; // more than the table: the table
    CHECK(s.listed_bytes() == sizeof(ops::status_snapshot));

    ops::status_board board;
    s.symbol_count = static_cast<std::uint32_t>(ops::max_status_symbols);
    s.symbols[1].fills = 5;
    s.symbols.back().fills = 6;
    board.publish(s); // everything
    s.symbol_count = 2;
    s.fills = 7;
    s.symbols[1].fills = 8;
    s.symbols.back().fills = 10;
    board.publish(s, s.listed_bytes());
    const ops::status_snapshot read = board.read();
    CHECK(read.fills == 7);
    CHECK(read.listed_symbols() == 2);
    CHECK(read.symbols[1].fills == 8);
    CHECK(read.symbols.back().fills == 6); // the first publication's: not listed any more
    CHECK(board.versions() == 3);          // the board's own empty publication and these two
}

TEST_CASE("status: JSON document and readiness", "[status]") {
    ops::status_snapshot s;
    CHECK_FALSE(s.ready());
    s.published_ns = 1'796'000'000'123'000'000;
    s.mode.assign("sim");
    s.symbol.assign("BTC\"USDT");
    s.state = ops::trading_state::killed;
    s.halt_reason.assign("daily_loss");
    s.book_synced = true;
    s.gateway_connected = true;
    CHECK_FALSE(s.ready()); // killed
    s.spread_bps = std::numeric_limits<double>::quiet_NaN();

    const std::string json = ops::status_json(s);
    simdjson::dom::parser parser;
    const simdjson::dom::element doc = parser.parse(json);
    CHECK(std::string_view(doc["symbol"]) == "BTC\"USDT");
    CHECK(std::string_view(doc["state"]) == "killed");
    CHECK(std::string_view(doc["halt_reason"]) == "daily_loss");
    CHECK(doc["spread_bps"].is_null());
    CHECK(std::string_view(doc["published_utc"]) == "2026-11-30T00:53:20.123Z");
    CHECK_FALSE(bool(doc["ready"]));

    s.state = ops::trading_state::running;
    CHECK(s.ready());
}

TEST_CASE("status: every symbol of a session is listed, the first one first", "[status]") {
    ops::status_snapshot s;
    s.symbol.assign("BTCUSDT");
    simdjson::dom::parser parser;
    {
        const simdjson::dom::element doc = parser.parse(ops::status_json(s));
        CHECK(doc["symbols"].get_array().size() == 0); // nothing published yet
    }
    s.symbol_count = 2;
    s.symbols[0].symbol.assign("BTCUSDT");
    s.symbols[0].state = ops::trading_state::running;
    s.symbols[0].mid = 60'000.5;
    s.symbols[0].fills = 3;
    s.symbols[1].symbol.assign("ETHUSDT");
    s.symbols[1].state = ops::trading_state::killed;
    s.symbols[1].halt_reason.assign("inventory_kill");
    s.symbols[1].inventory_base = -0.25;
    s.symbols[1].pnl_total_quote = std::numeric_limits<double>::infinity();
    s.symbols[1].orders_sent = 12;
    s.symbols[2].symbol.assign("NOTLISTED"); // beyond symbol_count
    const std::string json = ops::status_json(s);
    const simdjson::dom::element doc = parser.parse(json);
    const simdjson::dom::array symbols = doc["symbols"].get_array();
    REQUIRE(symbols.size() == 2);
    CHECK(std::string_view(symbols.at(0)["symbol"]) == "BTCUSDT");
    CHECK(std::string_view(symbols.at(0)["state"]) == "running");
    CHECK(std::string_view(symbols.at(0)["halt_reason"]).empty());
    CHECK(double(symbols.at(0)["mid"]) == 60'000.5);
    CHECK(int64_t(symbols.at(0)["fills"]) == 3);
    CHECK(std::string_view(symbols.at(1)["symbol"]) == "ETHUSDT");
    CHECK(std::string_view(symbols.at(1)["state"]) == "killed");
    CHECK(std::string_view(symbols.at(1)["halt_reason"]) == "inventory_kill");
    CHECK(double(symbols.at(1)["inventory_base"]) == -0.25);
    CHECK(symbols.at(1)["pnl_total_quote"].is_null());
    CHECK(int64_t(symbols.at(1)["orders_sent"]) == 12);
    CHECK(json.find("NOTLISTED") == std::string::npos);

    // Ready only while every symbol's book is synced and none is killed.
    s.published_ns = 1;
    s.gateway_connected = true;
    s.book_synced = true;
    s.state = ops::trading_state::running;
    s.symbols[0].book_synced = true;
    s.symbols[1].book_synced = true;
    s.symbols[1].state = ops::trading_state::running;
    CHECK(s.ready());
    s.symbols[1].book_synced = false;
    CHECK_FALSE(s.books_synced());
    CHECK_FALSE(s.ready());
    s.symbols[1].book_synced = true;
    s.symbols[1].state = ops::trading_state::killed;
    CHECK(s.any_killed());
    CHECK_FALSE(s.ready());
    s.symbols[1].state = ops::trading_state::running;
    s.symbols[2].state = ops::trading_state::killed; // not listed
    CHECK(s.ready());

    // A count past the table lists the table.
    s.symbol_count = 1'000;
    CHECK(parser.parse(ops::status_json(s))["symbols"].get_array().size() ==
          ops::max_status_symbols);
}

TEST_CASE("status: fixed text truncates and pads", "[status]") {
    ops::fixed_text<8> text;
    text.assign("ABCDEFGHIJ");
    CHECK(text.view() == "ABCDEFG");
    text.assign("AB");
    CHECK(text.view() == "AB");
}
