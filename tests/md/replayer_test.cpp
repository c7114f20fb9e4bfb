// Replays the real Binance captures through the production decode + sync path and checks it
// against a small, independent reference book: std::map levels, plain string parsing, and
// Binance's procedure written out directly.
#include "quoter/md/exchange_info.hpp"
#include "quoter/md/replayer.hpp"

#include "md/test_support.hpp"
#include "support/capture_data.hpp"

#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace quoter;
using namespace quoter::md;

namespace {

// ---- independent reference ---------------------------------------------------------------

/// "61737.63000000" -> integer scaled by 10^decimals, by hand.
std::int64_t scaled(std::string_view text, int decimals) {
    std::int64_t value = 0;
    int fraction = -1;
    for (const char c : text) {
        if (c == '.') {
            fraction = 0;
            continue;
        }
        if (fraction >= decimals) {
            continue; // Binance pads with zeros
        }
        value = value * 10 + (c - '0');
        if (fraction >= 0) {
            ++fraction;
        }
    }
    for (int i = fraction < 0 ? 0 : fraction; i < decimals; ++i) {
        value *= 10;
    }
    return value;
}

std::uint64_t number_after(const std::string& json, const std::string& key) {
    const auto at = json.find("\"" + key + "\":");
    REQUIRE(at != std::string::npos);
    return std::strtoull(json.c_str() + at + key.size() + 3, nullptr, 10);
}

std::string string_after(const std::string& json, const std::string& key) {
    const auto at = json.find("\"" + key + "\":\"");
    REQUIRE(at != std::string::npos);
    const auto begin = at + key.size() + 4;
    return json.substr(begin, json.find('"', begin) - begin);
}

using level_list = std::vector<std::pair<std::int64_t, std::int64_t>>;

/// Levels of the array after "key":[ as (ticks, lots) with 2 price and 8 quantity decimals.
level_list levels_after(const std::string& json, const std::string& key) {
    level_list levels;
    auto at = json.find("\"" + key + "\":[");
    REQUIRE(at != std::string::npos);
    at += key.size() + 4;
    while (json[at] == '[') {
        const auto p0 = at + 2;
        const auto p1 = json.find('"', p0);
        const auto q0 = p1 + 3;
        const auto q1 = json.find('"', q0);
        levels.emplace_back(scaled(std::string_view(json).substr(p0, p1 - p0), 2),
                            scaled(std::string_view(json).substr(q0, q1 - q0), 8));
        at = q1 + 2; // past "]
        if (json[at] == ',') {
            ++at;
        }
    }
    return levels;
}

struct reference_book {
    std::map<std::int64_t, std::int64_t, std::greater<>> bids;
    std::map<std::int64_t, std::int64_t> asks;
    bool synced = false;
    bool have_snapshot = false;
    std::uint64_t last_u = 0;
    std::uint64_t ticker_u = 0;
    bool ticker_active = false;
    std::pair<std::int64_t, std::int64_t> ticker_bid, ticker_ask;
    std::vector<std::tuple<std::uint64_t, std::uint64_t, level_list, level_list>> buffered;
    int gaps = 0;

    void apply(const level_list& b, const level_list& a) {
        for (const auto& [px, lots] : b) {
            lots == 0 ? (void)bids.erase(px) : (void)(bids[px] = lots);
        }
        for (const auto& [px, lots] : a) {
            lots == 0 ? (void)asks.erase(px) : (void)(asks[px] = lots);
        }
    }
    void apply_ticker() {
        while (!bids.empty() && bids.begin()->first > ticker_bid.first) {
            bids.erase(bids.begin());
        }
        while (!asks.empty() && asks.begin()->first < ticker_ask.first) {
            asks.erase(asks.begin());
        }
        bids[ticker_bid.first] = ticker_bid.second;
        asks[ticker_ask.first] = ticker_ask.second;
    }
    void diff(std::uint64_t first, std::uint64_t last, const level_list& b, const level_list& a) {
        if (!synced && have_snapshot) {
            // Snapshot newer than every buffered diff: the stream brings the straddling one.
            if (last <= last_u) {
                return;
            }
            REQUIRE(first <= last_u + 1);
            apply(b, a);
            last_u = last;
            synced = true;
            return;
        }
        if (!synced) {
            buffered.emplace_back(first, last, b, a);
            return;
        }
        if (last <= last_u) {
            return;
        }
        if (first != last_u + 1) {
            ++gaps;
            synced = false;
            return;
        }
        apply(b, a);
        last_u = last;
        if (ticker_active && ticker_u > last_u) {
            apply_ticker();
        } else {
            ticker_active = false;
        }
    }
    void snapshot(std::uint64_t id, const level_list& b, const level_list& a) {
        bids.clear();
        asks.clear();
        apply(b, a);
        last_u = id;
        bool first = true;
        for (const auto& [U, u, db, da] : buffered) {
            if (u <= id) {
                continue;
            }
            if (first) {
                REQUIRE(U <= id + 1);
                REQUIRE(id + 1 <= u);
                first = false;
                apply(db, da);
                last_u = u;
                continue;
            }
            REQUIRE(U == last_u + 1);
            apply(db, da);
            last_u = u;
        }
        buffered.clear();
        synced = !first;
        have_snapshot = true;
    }
    void ticker(std::uint64_t u, std::pair<std::int64_t, std::int64_t> bid,
                std::pair<std::int64_t, std::int64_t> ask) {
        const std::uint64_t book_u = ticker_active && ticker_u > last_u ? ticker_u : last_u;
        if (!synced || u <= book_u) {
            return;
        }
        ticker_u = u;
        ticker_active = true;
        ticker_bid = bid;
        ticker_ask = ask;
        apply_ticker();
    }
    void line(const std::string& json) {
        if (json.find("\"lastUpdateId\":") != std::string::npos) {
            snapshot(number_after(json, "lastUpdateId"), levels_after(json, "bids"),
                     levels_after(json, "asks"));
        } else if (json.find("\"e\":\"depthUpdate\"") != std::string::npos) {
            diff(number_after(json, "U"), number_after(json, "u"), levels_after(json, "b"),
                 levels_after(json, "a"));
        } else if (json.find("@bookTicker\"") != std::string::npos) {
            ticker(number_after(json, "u"),
                   {scaled(string_after(json, "b"), 2), scaled(string_after(json, "B"), 8)},
                   {scaled(string_after(json, "a"), 2), scaled(string_after(json, "A"), 8)});
        }
    }
};

/// Reads capture lines with zlib directly, independently of gzip_line_reader.
class plain_gz_lines {
public:
    explicit plain_gz_lines(const std::string& path) : file_(gzopen(path.c_str(), "rb")) {
        REQUIRE(file_ != nullptr);
    }
    ~plain_gz_lines() { gzclose(file_); }
    plain_gz_lines(const plain_gz_lines&) = delete;
    plain_gz_lines& operator=(const plain_gz_lines&) = delete;

    bool next(std::string& json) {
        std::string line;
        std::array<char, 65536> chunk{};
        while (gzgets(file_, chunk.data(), static_cast<int>(chunk.size())) != nullptr) {
            line += chunk.data();
            if (!line.empty() && line.back() == '\n') {
                break;
            }
        }
        if (line.empty()) {
            return false;
        }
        if (line.back() == '\n') {
            line.pop_back();
        }
        json = line.substr(line.find(' ') + 1);
        return true;
    }

private:
    gzFile file_;
};

// ---- the test ----------------------------------------------------------------------------

void replay_and_compare(const std::string& path, std::string_view symbol_name) {
    const auto info = load_exchange_info_file(
        QUOTER_SOURCE_DIR "/tests/md/data/exchange_info_spot.json", market::spot);
    REQUIRE(info.has_value());
    symbol_registry registry;
    const std::array<std::string_view, 1> names{symbol_name};
    REQUIRE(register_symbols(registry, *info, names).has_value());

    capture_replayer replayer(registry, {path});
    replayer.want_depth(true);
    reference_book reference;
    plain_gz_lines lines(path);
    std::uint64_t reference_lines = 0;
    std::uint64_t compared = 0;
    std::uint64_t book_events = 0;
    md_event event;
    while (replayer.next(event)) {
        while (reference_lines < replayer.lines()) {
            std::string json;
            REQUIRE(lines.next(json));
            reference.line(json);
            ++reference_lines;
        }
        if (event.kind == md_event_kind::trade) {
            continue;
        }
        ++book_events;
        const bool reference_valid = reference.synced && !reference.bids.empty() &&
                                     !reference.asks.empty() &&
                                     reference.bids.begin()->first < reference.asks.begin()->first;
        REQUIRE(event.book_valid() == reference_valid);
        if (!event.book_valid()) {
            continue;
        }
        REQUIRE(event.state == feed_state::synced);
        // Top of book at every event...
        REQUIRE(event.top.bid.px.ticks() == reference.bids.begin()->first);
        REQUIRE(event.top.bid.qty.lots() == reference.bids.begin()->second);
        REQUIRE(event.top.ask.px.ticks() == reference.asks.begin()->first);
        REQUIRE(event.top.ask.qty.lots() == reference.asks.begin()->second);
        // ...and the rest of the top K, in its depth record.
        const md_depth* depth = replayer.depth();
        REQUIRE(depth != nullptr);
        REQUIRE(depth->sequence == event.sequence);
        REQUIRE(depth->bid_count == event.bid_count);
        REQUIRE(depth->ask_count == event.ask_count);
        auto bid = reference.bids.begin();
        for (std::size_t i = 0; i < event.bid_count; ++i, ++bid) {
            REQUIRE(bid != reference.bids.end());
            REQUIRE(depth->bids[i].px.ticks() == bid->first);
            REQUIRE(depth->bids[i].qty.lots() == bid->second);
        }
        auto ask = reference.asks.begin();
        for (std::size_t i = 0; i < event.ask_count; ++i, ++ask) {
            REQUIRE(ask != reference.asks.end());
            REQUIRE(depth->asks[i].px.ticks() == ask->first);
            REQUIRE(depth->asks[i].qty.lots() == ask->second);
        }
        REQUIRE(event.bid_count == std::min<std::size_t>(md_top_levels, reference.bids.size()));
        REQUIRE(event.ask_count == std::min<std::size_t>(md_top_levels, reference.asks.size()));
        ++compared;
    }
    REQUIRE(replayer.error() == capture_error::none);
    INFO(path);
    CHECK(replayer.bad_lines() == 0);
    CHECK(replayer.feed().decoder().stats().malformed() == 0);
    CHECK(replayer.feed().decoder().stats().count(message_kind::unknown_symbol) == 0);

    const book_sync& sync = replayer.feed().sync(0);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.stats().gaps == 0);
    CHECK(sync.stats().resyncs == 0);
    CHECK(sync.stats().snapshots_applied == 1);
    CHECK(reference.gaps == 0);
    CHECK(compared > 1000);
    CHECK(compared <= book_events);

    // The whole final book, every level, equals the reference.
    const order_book& book = sync.book();
    REQUIRE(book.depth(core::side::buy) == reference.bids.size());
    REQUIRE(book.depth(core::side::sell) == reference.asks.size());
    std::size_t i = 0;
    for (const auto& [px, lots] : reference.bids) {
        REQUIRE(book.level(core::side::buy, i).px.ticks() == px);
        REQUIRE(book.level(core::side::buy, i).qty.lots() == lots);
        ++i;
    }
    i = 0;
    for (const auto& [px, lots] : reference.asks) {
        REQUIRE(book.level(core::side::sell, i).px.ticks() == px);
        REQUIRE(book.level(core::side::sell, i).qty.lots() == lots);
        ++i;
    }
    WARN(path << ": " << replayer.lines() << " lines, " << compared
              << " valid book events compared, final depth " << book.depth(core::side::buy) << "/"
              << book.depth(core::side::sell));
}

} // namespace

TEST_CASE("replaying the real captures syncs with no gap and matches the reference book",
          "[replay][data]") {
    const std::string dir =
        test::require_captures({"spot-btcusdt-20240808.gz", "spot-ethusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    SECTION("BTCUSDT") {
        replay_and_compare(dir + "/spot-btcusdt-20240808.gz", "BTCUSDT");
    }
    SECTION("ETHUSDT") {
        replay_and_compare(dir + "/spot-ethusdt-20240808.gz", "ETHUSDT");
    }
}

TEST_CASE("every message of the real captures decodes", "[replay][data]") {
    const std::string dir =
        test::require_captures({"spot-btcusdt-20240808.gz", "spot-ethusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    symbol_registry registry = testing::make_registry();
    binance_decoder decoder(registry);
    for (const char* file : {"/spot-btcusdt-20240808.gz", "/spot-ethusdt-20240808.gz"}) {
        gzip_line_reader reader;
        REQUIRE(reader.open(dir + file).has_value());
        capture_line line;
        symbol_id last_depth = invalid_symbol;
        while (reader.next(line)) {
            const auto& m = decoder.decode(line.padded(), line.local_ns, last_depth);
            INFO(line.json.substr(0, 200));
            REQUIRE(m.kind != message_kind::malformed);
            REQUIRE(m.kind != message_kind::ignored);
            if (m.kind == message_kind::depth_update) {
                last_depth = m.symbol;
            }
        }
        CHECK(reader.error() == capture_error::none);
    }
    const auto& stats = decoder.stats();
    CHECK(stats.count(message_kind::depth_update) == 3451 + 3434);
    CHECK(stats.count(message_kind::trade) == 9757 + 6106);
    CHECK(stats.count(message_kind::book_ticker) == 28040 + 24077);
    CHECK(stats.count(message_kind::depth_snapshot) == 2);
}

TEST_CASE("captures of two symbols over the same hours replay together, merged by time",
          "[replay][data][symbols]") {
    const std::string dir =
        test::require_captures({"spot-btcusdt-20240808.gz", "spot-ethusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    const std::string btc = dir + "/spot-btcusdt-20240808.gz";
    const std::string eth = dir + "/spot-ethusdt-20240808.gz";
    symbol_registry registry = testing::make_registry();
    /// Lines, events per symbol and the last top of book per symbol of one replay.
    struct outcome {
        std::uint64_t lines = 0;
        std::array<std::uint64_t, 2> events{};
        std::array<core::price, 2> last_bid{};
        core::timestamp_ns last_ns = 0;
        bool in_order = true;
    };
    const auto replay = [&](std::vector<std::string> files) {
        capture_replayer replayer(registry, std::move(files));
        outcome out;
        md_event event;
        while (replayer.next(event)) {
            out.in_order = out.in_order && event.local_ns >= out.last_ns;
            out.last_ns = event.local_ns;
            if (event.symbol >= 2) { // BTCPERP, registered but not captured: its state only
                CHECK(event.kind == md_event_kind::state);
                continue;
            }
            ++out.events[event.symbol];
            if (event.kind == md_event_kind::book && event.bid_count > 0) {
                out.last_bid[event.symbol] = event.top.bid.px;
            }
        }
        INFO(replayer.error_message());
        REQUIRE(replayer.error() == capture_error::none);
        for (symbol_id id : {symbol_id{0}, symbol_id{1}}) {
            if (out.last_bid[id].ticks() == 0) {
                continue; // not in these files
            }
            const book_sync& sync = replayer.feed().sync(id);
            CHECK(sync.state() == feed_state::synced);
            CHECK(sync.stats().gaps == 0);
            CHECK(sync.stats().snapshots_applied == 1);
        }
        CHECK(replayer.stats().unknown_symbol == 0);
        out.lines = replayer.lines();
        return out;
    };
    const outcome both = replay({btc, eth});
    const outcome btc_alone = replay({btc});
    const outcome eth_alone = replay({eth});
    CHECK(both.in_order);
    CHECK(both.lines == btc_alone.lines + eth_alone.lines);
    CHECK(both.events[0] == btc_alone.events[0]);
    CHECK(both.events[1] == eth_alone.events[1]);
    CHECK(both.last_bid[0] == btc_alone.last_bid[0]);
    CHECK(both.last_bid[1] == eth_alone.last_bid[1]);
    // The order the files are given in does not matter.
    const outcome reversed = replay({eth, btc});
    CHECK(reversed.events == both.events);
    CHECK(reversed.last_bid == both.last_bid);
}

// ---- replays that must fail, and what the lines were ---------------------------------------

namespace {

/// Writes lines as a plain-text capture (the reader takes plain text as well as gzip).
std::string write_capture(const std::filesystem::path& dir, const std::string& name,
                          const std::vector<std::string>& lines) {
    const std::string path = (dir / name).string();
    std::FILE* file = std::fopen(path.c_str(), "wb");
    REQUIRE(file != nullptr);
    for (const auto& line : lines) {
        std::fputs(line.c_str(), file);
        std::fputc('\n', file);
    }
    std::fclose(file);
    return path;
}

const std::string depth_line =
    R"(1723161254000000000 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate",)"
    R"("E":1723161255308,"s":"BTCUSDT","U":100,"u":110,"b":[["61000.00","1.0"]],"a":[]}})";

std::uint64_t drain(capture_replayer& replayer) {
    md_event event;
    std::uint64_t events = 0;
    while (replayer.next(event)) {
        ++events;
    }
    return events;
}

} // namespace

TEST_CASE("a replay in which nothing decodes fails and says what the lines were", "[replay]") {
    const auto dir = testing::temp_dir("replay-garbage");
    symbol_registry registry = testing::make_registry();
    std::mt19937_64 rng(7);
    std::string bytes(64 * 1024, '\0');
    for (char& c : bytes) {
        c = static_cast<char>(rng());
    }
    const std::string path = write_capture(dir, "random.bin", {bytes});
    capture_replayer replayer(registry, {path});
    CHECK(drain(replayer) == 0);
    CHECK(replayer.error() == capture_error::no_market_data);
    const std::string message = replayer.error_message();
    INFO(message);
    CHECK(message.find("no market data") != std::string::npos);
    CHECK(message.find("not \"<ns> <json>\"") != std::string::npos);

    // Lines that split but hold no market data: malformed and unrecognised are counted.
    const std::string junk =
        write_capture(dir, "junk.txt",
                      {R"(1 {"result":null,"id":1})", R"(2 {broken)", R"(3 {"e":"depthUpdate"}})",
                       R"(4 {"stream":"btcusdt@depth@100ms","data":{"result":null}})"});
    capture_replayer other(registry, {junk});
    (void)drain(other); // only the connection state events
    CHECK(other.error() == capture_error::no_market_data);
    const replay_stats stats = other.stats();
    CHECK(stats.lines == 4);
    CHECK(stats.unrecognised == 1);
    CHECK(stats.malformed == 3); // the last one is valid JSON, but not what a depth stream carries
    CHECK(stats.malformed_by_error[static_cast<std::size_t>(decode_error::wrong_stream)] == 1);
    CHECK(stats.market_data == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("next() in place yields the events next(out) copies, in the same order", "[replay]") {
    const auto dir = testing::temp_dir("replay-in-place");
    symbol_registry registry = testing::make_registry();
    const std::string path = write_capture(
        dir, "depth.txt",
        {depth_line,
         R"(1723161254100000000 {"lastUpdateId":105,"bids":[["61000.00","2.0"]],"asks":[["61001.00","1.0"]]})",
         R"(1723161254200000000 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate",)"
         R"("E":1723161255408,"s":"BTCUSDT","U":111,"u":112,"b":[["61000.50","1.0"]],"a":[]}})",
         R"(1723161254300000000 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255409,)"
         R"("s":"BTCUSDT","t":7,"p":"61000.50","q":"0.5","T":1723161255409,"m":true,"M":true}})"});
    capture_replayer copied(registry, {path});
    capture_replayer in_place(registry, {path});
    copied.want_depth(true);
    in_place.want_depth(true);
    std::vector<md_event> expected;
    std::vector<md_depth> expected_depth;
    md_event event;
    while (copied.next(event)) {
        expected.push_back(event);
        expected_depth.push_back(copied.depth() != nullptr ? *copied.depth() : md_depth{});
    }
    // The valid books' levels come with them: the synced state's and the book event's.
    CHECK(std::count_if(expected.begin(), expected.end(),
                        [](const md_event& e) { return e.has_depth(); }) == 2);
    // The connection states of every symbol, the book, the trade: several events per line.
    REQUIRE(expected.size() > registry.size() + 1);
    std::size_t i = 0;
    while (const md_event* next = in_place.next()) {
        REQUIRE(i < expected.size());
        CHECK(std::memcmp(next, &expected[i], sizeof(md_event)) == 0);
        const md_depth none{};
        const md_depth* depth = in_place.depth();
        CHECK(std::memcmp(depth != nullptr ? depth : &none, &expected_depth[i], sizeof(md_depth)) ==
              0);
        ++i;
    }
    CHECK(i == expected.size());
    CHECK(in_place.lines() == copied.lines());
    CHECK(in_place.error() == copied.error());
}

TEST_CASE("a replay of another symbol's capture fails even though its snapshot applies",
          "[replay]") {
    const auto dir = testing::temp_dir("replay-other-symbol");
    symbol_registry registry; // BTCUSDT only: snapshot lines fall back to it
    const auto book = make_book_spec("BTCUSDT", "0.01", 8);
    REQUIRE(book.has_value());
    REQUIRE(registry.add({.book_spec = *book, .trading_spec = *book, .venue = market::spot}) == 0);
    const std::string path = write_capture(
        dir, "eth.txt",
        {R"(1 {"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"ETHUSDT",)"
         R"("U":100,"u":110,"b":[["2600.00","1.0"]],"a":[]}})",
         R"(2 {"lastUpdateId":105,"bids":[["2600.00","1.0"]],"asks":[["2601.00","1.0"]]})"});
    capture_replayer replayer(registry, {path});
    (void)drain(replayer);
    CHECK(replayer.error() == capture_error::no_market_data);
    const replay_stats stats = replayer.stats();
    CHECK(stats.unknown_symbol == 1);
    CHECK(stats.snapshots == 1);
    CHECK(stats.market_data == 0);
    CHECK(replayer.error_message().find("1 for other symbols") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a replay whose time runs backwards fails at the line that does", "[replay]") {
    const auto dir = testing::temp_dir("replay-backwards");
    symbol_registry registry = testing::make_registry();
    std::string earlier = depth_line;
    earlier.replace(0, 19, "1723161226000000000"); // 28 s before the first line
    const std::string path = write_capture(dir, "backwards.txt", {depth_line, depth_line, earlier});
    capture_replayer replayer(registry, {path});
    (void)drain(replayer);
    CHECK(replayer.error() == capture_error::time_backwards);
    const std::string message = replayer.error_message();
    INFO(message);
    CHECK(message.find("backwards.txt line 3") != std::string::npos);
    CHECK(message.find("28.000 s") != std::string::npos);
    CHECK(replayer.lines() == 2);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a replay of a directory or a missing file says which", "[replay]") {
    const auto dir = testing::temp_dir("replay-paths");
    symbol_registry registry = testing::make_registry();
    CHECK(check_capture_file(dir.string()) == capture_error::is_directory);
    CHECK(check_capture_file((dir / "absent.gz").string()) == capture_error::not_found);
    const std::string good = write_capture(dir, "good.txt", {depth_line});
    CHECK(check_capture_file(good) == capture_error::none);

    capture_replayer of_directory(registry, {dir.string()});
    CHECK(drain(of_directory) == 0);
    CHECK(of_directory.error() == capture_error::is_directory);
    CHECK(of_directory.error_message().find("directory") != std::string::npos);

    capture_replayer of_missing(registry, {(dir / "absent.gz").string()});
    CHECK(drain(of_missing) == 0);
    CHECK(of_missing.error() == capture_error::not_found);

    // A capture with market data replays without error and counts it.
    capture_replayer of_good(registry, {good});
    (void)drain(of_good);
    CHECK(of_good.error() == capture_error::none);
    CHECK(of_good.error_message().empty());
    CHECK(of_good.stats().market_data == 1);
    std::filesystem::remove_all(dir);
}
