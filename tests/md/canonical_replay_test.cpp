// The canonical-layout reader against the general decoder on every message of the real captures.
#include "quoter/md/binance_decoder.hpp"
#include "quoter/md/capture.hpp"

#include "md/test_support.hpp"
#include "support/capture_data.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace quoter;
using namespace quoter::md;

TEST_CASE("every captured message decodes identically with and without the canonical reader",
          "[replay][data][canonical]") {
    const std::string dir =
        test::require_captures({"spot-btcusdt-20240808.gz", "spot-ethusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    const symbol_registry registry = testing::make_registry();
    binance_decoder fast(registry);
    binance_decoder general(registry, decoder_config{.canonical_fast_path = false});
    for (const char* file : {"/spot-btcusdt-20240808.gz", "/spot-ethusdt-20240808.gz"}) {
        gzip_line_reader reader;
        REQUIRE(reader.open(dir + file).has_value());
        capture_line line;
        symbol_id last_depth = invalid_symbol;
        while (reader.next(line)) {
            INFO(line.json.substr(0, 200));
            const decoded_message a = fast.decode(line.padded(), line.local_ns, last_depth);
            const decoded_message& b = general.decode(line.padded(), line.local_ns, last_depth);
            testing::require_same_decode(a, b);
            if (a.kind == message_kind::depth_update) {
                last_depth = a.symbol;
            }
        }
        CHECK(reader.error() == capture_error::none);
    }
    const auto& stats = fast.stats();
    // Every depthUpdate, bookTicker and trade of the captures is in the canonical layout: all
    // but the two snapshot lines.
    CHECK(stats.canonical == stats.count(message_kind::depth_update) +
                                 stats.count(message_kind::book_ticker) +
                                 stats.count(message_kind::trade));
    CHECK(stats.count(message_kind::trade) == 9757 + 6106);
    CHECK(stats.canonical == 3451 + 3434 + 28040 + 24077 + 9757 + 6106);
    CHECK(general.stats().canonical == 0);
    CHECK(stats.by_kind == general.stats().by_kind);
}
