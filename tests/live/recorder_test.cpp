// run_recorder against quoter-venue, then the written files replayed through md's replayer: the
// replay syncs without gaps and ends on exactly the book the recorder built live.
#include "live/live_support.hpp"
#include "quoter/live/recorder.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/md/exchange_info.hpp"
#include "quoter/md/replayer.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using quoter::live::testing::temp_dir;
using quoter::live::testing::venue_process;
namespace live = quoter::live;
namespace md = quoter::md;
namespace net = quoter::net;
namespace core = quoter::core;

namespace {

std::vector<core::book_level> side_of(const md::order_book& book, core::side side) {
    std::vector<core::book_level> levels;
    for (std::size_t i = 0; i < book.depth(side); ++i) {
        levels.push_back(book.level(side, i));
    }
    return levels;
}

bool same_levels(const std::vector<core::book_level>& a, const std::vector<core::book_level>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].px != b[i].px || a[i].qty != b[i].qty) {
            return false;
        }
    }
    return true;
}

} // namespace

TEST_CASE("record, then replay: zero gaps and the live book bit for bit", "[live][venue]") {
    temp_dir dir;
    venue_process venue({"--symbols", "BTCUSDT,ETHUSDT", "--rate-hz", "50", "--seed", "9"});
    live::recorder_config config;
    config.session = live::testing::venue_session(venue, dir);
    config.session.instruments.cache_path.clear(); // the recorder's default: beside the files
    config.subscription.trades = live::trade_stream::trade;
    const std::string out = (dir.path / "capture").string();
    const net::binance_endpoints endpoints =
        net::local_venue_endpoints("127.0.0.1", static_cast<std::uint16_t>(venue.port()), false);

    auto recorded = live::run_recorder({"btcusdt", "ethusdt"}, out, 2000ms, endpoints, config);
    REQUIRE(recorded.has_value());
    const live::record_summary& summary = *recorded;
    REQUIRE(summary.symbols.size() == 2);
    CHECK(summary.messages > 100);
    CHECK(std::filesystem::exists(summary.exchange_info_path));

    for (const live::recorded_symbol& symbol : summary.symbols) {
        INFO(symbol.name);
        REQUIRE(symbol.files.size() == 1);
        CHECK(symbol.files[0].find("spot-" + live::lower_symbol(symbol.name) + "-") !=
              std::string::npos);
        CHECK(symbol.snapshots == 1);
        CHECK(symbol.gaps == 0);
        REQUIRE(symbol.final_state == md::feed_state::synced);
        REQUIRE_FALSE(symbol.final_bids.empty());

        // Each line is "<ns> <json>"; the snapshot is a bare REST body.
        md::gzip_line_reader reader;
        REQUIRE(reader.open(symbol.files[0]).has_value());
        md::capture_line line;
        std::uint64_t lines = 0;
        std::uint64_t snapshot_lines = 0;
        core::timestamp_ns previous = 0;
        while (reader.next(line)) {
            ++lines;
            CHECK(line.local_ns >= previous - 5 * core::ns_per_ms);
            previous = line.local_ns;
            snapshot_lines += line.json.starts_with("{\"lastUpdateId\"") ? 1U : 0U;
        }
        CHECK(reader.bad_lines() == 0);
        CHECK(lines == symbol.lines);
        CHECK(snapshot_lines == 1);

        auto info = md::load_exchange_info_file(summary.exchange_info_path, md::market::spot);
        REQUIRE(info.has_value());
        md::symbol_registry registry;
        const std::vector<std::string_view> names{symbol.name};
        REQUIRE(md::register_symbols(registry, *info, names).has_value());
        md::capture_replayer replayer(registry, symbol.files);
        md::md_event event;
        std::uint64_t events = 0;
        while (replayer.next(event)) {
            ++events;
        }
        CHECK(replayer.error() == md::capture_error::none);
        CHECK(events > 0);
        const md::book_sync& sync = replayer.feed().sync(0);
        CHECK(sync.stats().gaps == 0);
        CHECK(sync.stats().resyncs == 0);
        CHECK(sync.state() == md::feed_state::synced);
        CHECK(sync.update_id() == symbol.final_update_id);
        CHECK(same_levels(side_of(sync.book(), core::side::buy), symbol.final_bids));
        CHECK(same_levels(side_of(sync.book(), core::side::sell), symbol.final_asks));
    }
}

TEST_CASE("recorder argument errors", "[live]") {
    temp_dir dir;
    auto none = live::run_recorder({}, dir.path.string(), 100ms, net::binance_endpoints{});
    REQUIRE_FALSE(none.has_value());
    CHECK(none.error() == live::record_error::no_symbols);

    // Offline with no cache: no filters, nothing recorded.
    live::recorder_config offline;
    offline.session.instruments.offline = true;
    auto missing = live::run_recorder({"BTCUSDT"}, dir.path.string(), 100ms,
                                      net::binance_endpoints{}, offline);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error() == live::record_error::instruments);
}
