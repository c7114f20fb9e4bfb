// market_data_service on the USD-M futures path against quoter-venue --futures on 127.0.0.1:
// exchangeInfo and snapshots from /fapi/v1, depth and bookTicker over the "/public" connection,
// aggTrade over "/market" (the venue refuses streams under the wrong prefix, as Binance does),
// diffs chained by pu (the venue's U skips ids, so a U-based chain would break), gap recovery,
// and the book compared level by level with the venue's own snapshot.
#include "live/live_support.hpp"
#include "quoter/live/market_data_service.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using quoter::live::testing::ring_consumer;
using quoter::live::testing::temp_dir;
using quoter::live::testing::venue_process;
namespace live = quoter::live;
namespace md = quoter::md;
namespace net = quoter::net;
namespace core = quoter::core;

namespace {

/// Venue books of at most 8 levels a side: an md_event (10 levels) then holds the whole book.
std::vector<std::string> futures_venue(const char* trade_probability = "0.5") {
    return {"--futures",      "--symbols", "BTCUSDT,ETHUSDT", "--rate-hz", "20",
            "--seed",         "13",        "--depth-levels",  "8",         "--trade-probability",
            trade_probability};
}

/// Futures venue and service on BTCUSDT and ETHUSDT; trades from @aggTrade on /market.
struct futures_harness : quoter::live::testing::service_harness {
    explicit futures_harness(std::vector<std::string> venue_args,
                             std::int32_t depth_interval_ms = 100)
        : service_harness(std::move(venue_args), subscription(depth_interval_ms),
                          /*with_depth=*/true) {}

    static live::subscription_config subscription(std::int32_t depth_interval_ms) {
        live::subscription_config config;
        config.venue = md::market::usdm_futures;
        config.symbols = {"BTCUSDT", "ETHUSDT"};
        config.depth_interval_ms = depth_interval_ms; // @100ms or @0ms
        config.trades = live::trade_stream::agg_trade;
        return config;
    }
};

using text_level = std::pair<std::string, std::string>;

/// The [["price","qty"],...] array of "bids" or "asks" in a depth body.
std::vector<text_level> levels_of(const std::string& body, const std::string& side) {
    std::vector<text_level> levels;
    const std::size_t at = body.find("\"" + side + "\":[");
    if (at == std::string::npos) {
        return levels;
    }
    std::size_t pos = at + side.size() + 4;
    std::vector<std::string> texts;
    // Collect the quoted texts up to the array's closing bracket.
    for (int depth = 1; pos < body.size() && depth > 0; ++pos) {
        const char c = body[pos];
        if (c == '[') {
            ++depth;
        } else if (c == ']') {
            --depth;
        } else if (c == '"') {
            const std::size_t end = body.find('"', pos + 1);
            if (end == std::string::npos) {
                break;
            }
            texts.push_back(body.substr(pos + 1, end - pos - 1));
            pos = end;
        }
    }
    for (std::size_t i = 0; i + 1 < texts.size(); i += 2) {
        levels.emplace_back(texts[i], texts[i + 1]);
    }
    return levels;
}

/// Fetches the venue's /fapi/v1/depth snapshot of a symbol and checks that the book event the
/// service published for that update id (a diff's, not a bookTicker refresh) shows exactly the
/// same levels and quantities on both sides.
void check_book_matches_venue(futures_harness& h, md::symbol_id id, const std::string& name) {
    const net::rest_response snapshot = h.get("/fapi/v1/depth?symbol=" + name + "&limit=1000");
    REQUIRE(snapshot.ok());
    CHECK(net::testing::json_int(snapshot.body, "E") > 0); // the futures snapshot's E and T
    CHECK(net::testing::json_int(snapshot.body, "T") > 0);
    const long long last_id = net::testing::json_int(snapshot.body, "lastUpdateId");
    REQUIRE(last_id > 0);
    const auto bids = levels_of(snapshot.body, "bids");
    const auto asks = levels_of(snapshot.body, "asks");
    REQUIRE(!bids.empty());
    REQUIRE(!asks.empty());
    REQUIRE(bids.size() <= md::md_top_levels); // the depth record holds the whole book
    REQUIRE(asks.size() <= md::md_top_levels);

    md::md_event match{};
    md::md_depth match_depth{};
    const bool found = h.consumer.wait(
        [&] {
            const auto& books = h.consumer.symbol(id).books;
            const auto it = std::find_if(books.begin(), books.end(), [&](const md::md_event& e) {
                return e.update_id == static_cast<std::uint64_t>(last_id) &&
                       (e.flags & md::md_flags::from_ticker) == 0;
            });
            if (it == books.end()) {
                return false;
            }
            match = *it;
            match_depth =
                h.consumer.symbol(id).book_depths[static_cast<std::size_t>(it - books.begin())];
            return true;
        },
        5s);
    INFO(name << " at lastUpdateId " << last_id << ": " << snapshot.body);
    REQUIRE(found);
    CHECK(match.venue == md::market::usdm_futures);
    CHECK(match.book_valid());
    const core::symbol_spec& spec = h.service->registry().at(id).book_spec;
    const auto same = [&](const std::vector<text_level>& expected, const auto& levels,
                          std::size_t count) {
        REQUIRE(count == expected.size());
        for (std::size_t i = 0; i < count; ++i) {
            INFO("level " << i << ": " << expected[i].first << " " << expected[i].second);
            const auto px = spec.parse_price(expected[i].first);
            const auto qty = spec.parse_qty(expected[i].second);
            REQUIRE(px.has_value());
            REQUIRE(qty.has_value());
            CHECK(levels[i].px == *px);
            CHECK(levels[i].qty == *qty);
        }
    };
    REQUIRE((match.has_depth() || match.depth_kept()));
    CHECK(match_depth.sequence == match.sequence);
    CHECK(h.consumer.depth_breaks() == 0);
    same(bids, match_depth.bids, match.bid_count);
    same(asks, match_depth.asks, match.ask_count);
    CHECK(match.best_bid() == match_depth.bids[0]);
    CHECK(match.best_ask() == match_depth.asks[0]);
}

/// How many book events of a symbol came from a bookTicker refresh.
std::size_t ticker_refreshes(const ring_consumer::symbol_events& events) {
    return static_cast<std::size_t>(
        std::count_if(events.books.begin(), events.books.end(), [](const md::md_event& e) {
            return (e.flags & md::md_flags::from_ticker) != 0;
        }));
}

} // namespace

TEST_CASE("futures: sync from /fapi/v1, a clean pu chain, bookTicker and aggTrade",
          "[live][venue][futures]") {
    futures_harness h(futures_venue());
    h.consumer.keep_books(true);
    h.start();
    REQUIRE(h.service->registry().size() == 2);
    for (md::symbol_id id = 0; id < 2; ++id) {
        // Filters from /fapi/v1/exchangeInfo (the venue answers no /api/v3 path in this mode).
        const md::instrument& instrument = h.service->registry().at(id);
        CHECK(instrument.venue == md::market::usdm_futures);
        CHECK(instrument.trading_spec.tick_size() == Approx(0.01));
        CHECK(instrument.trading_spec.step_size() == Approx(0.001));
    }
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    CHECK(h.consumer.saw(0, md::feed_state::syncing));
    CHECK(h.consumer.saw(0, md::feed_state::synced));

    // A clean stream whose U skips ids past pu: about 30 diffs a symbol, none a gap.
    h.consumer.drain_for(1500ms);
    for (md::symbol_id id = 0; id < 2; ++id) {
        INFO("symbol " << id);
        const md::book_sync_stats sync = h.sync_stats(id);
        CHECK(sync.diffs_applied >= 10);
        CHECK(sync.gaps == 0);
        CHECK(sync.resyncs == 0);
        // bookTicker (ahead of the batched diff of its update) refreshed the top.
        CHECK(sync.tickers_applied >= 5);
        CHECK(ticker_refreshes(h.consumer.symbol(id)) >= 5);
        CHECK(h.consumer.symbol(id).states.back() == md::feed_state::synced);
        // aggTrade prints, which only the "/market" connection carries.
        CHECK(h.consumer.symbol(id).trades >= 3);
    }
    CHECK(h.consumer.sequence_breaks() == 0);
    CHECK(h.consumer.trade_repeats() == 0);

    const net::rest_response venue_stats = h.get("/control/stats");
    REQUIRE(venue_stats.ok());
    INFO(venue_stats.body);
    CHECK(net::testing::json_int(venue_stats.body, "streams_refused") == 0);
    const std::size_t prefixes_at = venue_stats.body.find("\"session_prefixes\":[");
    REQUIRE(prefixes_at != std::string::npos);
    const std::string prefixes =
        venue_stats.body.substr(prefixes_at, venue_stats.body.find(']', prefixes_at) - prefixes_at);
    CHECK(prefixes.find("\"/public\"") != std::string::npos); // depth and bookTicker
    CHECK(prefixes.find("\"/market\"") != std::string::npos); // aggTrade

    check_book_matches_venue(h, 0, "BTCUSDT");
    check_book_matches_venue(h, 1, "ETHUSDT");

    REQUIRE(h.consumer.wait([&] { return h.service->stats().open_connections == 2; }, 2s));
    const live::service_stats stats = h.service->stats();
    CHECK(stats.gaps == 0);
    CHECK(stats.resyncs == 0);
    CHECK(stats.malformed == 0);
    CHECK(stats.ring_full == 0);
    CHECK(stats.snapshots_failed == 0);
    CHECK(std::filesystem::exists(h.dir.path / "exchangeInfo.json"));
    h.service->stop();
}

TEST_CASE("futures: a gap breaks the pu chain, resyncs from a new snapshot, counted once",
          "[live][venue][futures]") {
    futures_harness h(futures_venue(), 0);
    h.consumer.keep_books(true);
    h.start();
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    h.consumer.clear_history();
    h.gap_and_resync(0, "BTCUSDT");
    CHECK_FALSE(h.consumer.saw(1, md::feed_state::resyncing)); // ETHUSDT's chain is intact

    const md::book_sync_stats btc = h.sync_stats(0);
    CHECK(btc.gaps == 1);
    CHECK(btc.resyncs == 1);
    CHECK(btc.snapshots_applied >= 2);
    CHECK(h.sync_stats(1).resyncs == 0);
    REQUIRE(h.consumer.wait([&] { return h.service->stats().resyncs >= 1; }, 2s));
    const live::service_stats stats = h.service->stats();
    CHECK(stats.gaps == 1);
    CHECK(stats.resyncs == 1);
    CHECK(stats.snapshots_requested >= 3);

    // The resynced book is the venue's, level for level.
    check_book_matches_venue(h, 0, "BTCUSDT");
}

TEST_CASE("futures: a silent /public connection turns the books stale while /market trades flow",
          "[live][venue][futures]") {
    futures_harness h(futures_venue("1.0")); // a trade with every update
    h.start();
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    h.consumer.clear_history();
    h.fault("/control/stall?path=/public&ms=1500");
    // Trades on the other connection say nothing about the diffs: the books must go stale.
    REQUIRE(h.consumer.wait(
        [&] {
            return h.consumer.saw(0, md::feed_state::stale) &&
                   h.consumer.saw(1, md::feed_state::stale);
        },
        1200ms));
    const std::uint64_t trades_when_stale = h.consumer.symbol(0).trades;
    h.consumer.drain_for(300ms);
    CHECK(h.consumer.symbol(0).trades > trades_when_stale); // /market still delivers
    CHECK(h.consumer.symbol(0).states.back() == md::feed_state::stale);
    CHECK_FALSE(h.consumer.symbol(0).valid);

    REQUIRE(h.consumer.wait(
        [&] {
            return h.consumer.symbol(0).states.back() == md::feed_state::synced &&
                   h.consumer.symbol(1).states.back() == md::feed_state::synced &&
                   h.consumer.all_valid();
        },
        10s));
    const live::service_stats stats = h.service->stats();
    CHECK(stats.resyncs == 0); // held back, not lost: the pu chain continues
    CHECK(stats.reconnects == 0);
}

TEST_CASE("futures: losing the /market connection leaves the books synced; trades resume",
          "[live][venue][futures]") {
    futures_harness h(futures_venue("1.0"));
    h.start();
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    h.consumer.clear_history();
    h.fault("/control/drop?path=/market");
    REQUIRE(h.consumer.wait([&] { return h.service->stats().reconnects >= 1; }, 5s));
    const std::uint64_t trades_after_drop = h.consumer.symbol(0).trades;
    REQUIRE(
        h.consumer.wait([&] { return h.consumer.symbol(0).trades > trades_after_drop + 3; }, 5s));
    REQUIRE(h.consumer.wait([&] { return h.service->stats().open_connections == 2; }, 2s));
    for (md::symbol_id id = 0; id < 2; ++id) {
        INFO("symbol " << id);
        CHECK_FALSE(h.consumer.saw(id, md::feed_state::connecting));
        CHECK_FALSE(h.consumer.saw(id, md::feed_state::syncing));
        CHECK_FALSE(h.consumer.saw(id, md::feed_state::resyncing));
        CHECK(h.consumer.symbol(id).valid);
    }
    CHECK(h.service->stats().resyncs == 0);
    CHECK(h.consumer.trade_repeats() == 0);
}

TEST_CASE("futures: the venue serves no trades under /public", "[live][venue][futures]") {
    // The check the other cases rely on: a client routing aggTrade to "/public" gets none.
    temp_dir dir;
    venue_process venue(futures_venue("1.0"));
    ring_consumer consumer(2);
    live::service_config config;
    config.subscription.venue = md::market::usdm_futures;
    config.subscription.symbols = {"BTCUSDT", "ETHUSDT"};
    config.subscription.trades = live::trade_stream::agg_trade;
    config.session = live::testing::venue_session(venue, dir);
    config.session.endpoints.futures_market_ws = config.session.endpoints.futures_public_ws;
    live::market_data_service service(config, consumer.ring());
    REQUIRE(service.start().has_value());
    REQUIRE(consumer.wait([&] { return consumer.all_valid(); }, 15s));
    consumer.drain_for(500ms);
    CHECK(consumer.symbol(0).trades == 0);
    CHECK(consumer.symbol(1).trades == 0);
}
