// market_data_service against quoter-venue (synthetic mode) on 127.0.0.1: sync, every injected
// fault, 200 symbols, and the message -> md_event latency over loopback.
#include "live/live_support.hpp"
#include "quoter/live/market_data_service.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
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

/// Spot venue and service; trades from @trade.
struct harness : quoter::live::testing::service_harness {
    harness(std::vector<std::string> venue_args, std::vector<std::string> symbols)
        : service_harness(std::move(venue_args), subscription(std::move(symbols))) {}

    static live::subscription_config subscription(std::vector<std::string> symbols) {
        live::subscription_config config;
        config.symbols = std::move(symbols);
        config.trades = live::trade_stream::trade;
        return config;
    }
};

std::vector<std::string> two_symbols() {
    return {"BTCUSDT", "ETHUSDT"};
}
std::vector<std::string> venue_two(const char* rate_hz = "20") {
    return {"--symbols", "BTCUSDT,ETHUSDT", "--rate-hz", rate_hz, "--seed", "11"};
}

/// The JSON text of the first price of "bids" or "asks" in a depth body.
std::string first_price(const std::string& body, const std::string& side) {
    const std::size_t at = body.find("\"" + side + "\":[[\"");
    if (at == std::string::npos) {
        return {};
    }
    const std::size_t begin = at + side.size() + 6;
    return body.substr(begin, body.find('"', begin) - begin);
}

} // namespace

TEST_CASE("initial sync: valid books whose top matches the venue's snapshot", "[live][venue]") {
    harness h(venue_two(), two_symbols());
    h.consumer.keep_books(true);
    h.start();
    REQUIRE(h.service->registry().size() == 2);
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    CHECK(h.consumer.saw(0, md::feed_state::syncing));
    CHECK(h.consumer.saw(0, md::feed_state::synced));

    // The venue answers with lastUpdateId = its latest diff; the event for that diff must show
    // the same top of book.
    const net::rest_response snapshot = h.get("/api/v3/depth?symbol=BTCUSDT&limit=5");
    REQUIRE(snapshot.ok());
    const long long last_id = net::testing::json_int(snapshot.body, "lastUpdateId");
    REQUIRE(last_id > 0);
    const md::md_event* match = nullptr;
    const bool found = h.consumer.wait(
        [&] {
            const auto& books = h.consumer.symbol(0).books;
            const auto it = std::find_if(books.begin(), books.end(), [&](const md::md_event& e) {
                return e.update_id == static_cast<std::uint64_t>(last_id);
            });
            match = it == books.end() ? nullptr : &*it;
            return match != nullptr;
        },
        5s);
    if (!found) {
        for (const auto& e : h.consumer.symbol(0).books) {
            UNSCOPED_INFO("book event " << e.update_id << " kind " << int(e.kind));
        }
        UNSCOPED_INFO("snapshot " << snapshot.body);
    }
    REQUIRE(found);
    const core::symbol_spec& spec = h.service->registry().at(0).book_spec;
    auto bid = spec.parse_price(first_price(snapshot.body, "bids"));
    auto ask = spec.parse_price(first_price(snapshot.body, "asks"));
    REQUIRE(bid.has_value());
    REQUIRE(ask.has_value());
    CHECK(match->book_valid());
    CHECK(match->best_bid().px == *bid);
    CHECK(match->best_ask().px == *ask);
    CHECK(match->best_bid().px < match->best_ask().px);
    // A consumer that gave no depth ring (a live session) gets no depth records.
    CHECK_FALSE(match->has_depth());
    CHECK_FALSE(match->depth_kept());
    CHECK(h.consumer.depth_ring().empty_approx());

    // Counters are published every housekeeping period.
    REQUIRE(h.consumer.wait(
        [&] {
            const live::service_stats now = h.service->stats();
            return now.messages > 0 && now.snapshots_requested >= 2;
        },
        2s));
    const live::service_stats stats = h.service->stats();
    CHECK(stats.gaps == 0);
    CHECK(stats.resyncs == 0);
    CHECK(stats.ring_full == 0);
    CHECK(h.consumer.sequence_breaks() == 0);
    // The filters were cached for offline runs.
    CHECK(std::filesystem::exists(h.dir.path / "exchangeInfo.json"));
    h.service->stop();
    CHECK_FALSE(h.service->running());
}

TEST_CASE("gap: resyncing, then synced again, the resync counted", "[live][venue]") {
    harness h(venue_two(), two_symbols());
    h.start();
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    h.consumer.clear_history();
    h.gap_and_resync(0, "BTCUSDT");
    CHECK_FALSE(h.consumer.saw(1, md::feed_state::resyncing)); // the other book is untouched
    REQUIRE(h.consumer.wait([&] { return h.service->stats().resyncs >= 1; }, 2s));
    const live::service_stats stats = h.service->stats();
    CHECK(stats.gaps >= 1);
    CHECK(stats.resyncs == 1);
    CHECK(stats.snapshots_requested >= 3);
}

TEST_CASE("drop: connecting, reconnect and a fresh sync", "[live][venue]") {
    harness h(venue_two(), two_symbols());
    h.start();
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    h.consumer.clear_history();
    h.fault("/control/drop");
    REQUIRE(h.consumer.wait([&] { return h.consumer.saw(0, md::feed_state::connecting); }, 5s));
    REQUIRE(h.consumer.wait(
        [&] {
            return h.consumer.saw(0, md::feed_state::synced) &&
                   h.consumer.saw(1, md::feed_state::synced) && h.consumer.all_valid();
        },
        10s));
    REQUIRE(h.consumer.wait(
        [&] {
            const live::service_stats now = h.service->stats();
            return now.reconnects >= 1 && now.snapshots_requested >= 4;
        },
        2s));
}

TEST_CASE("stall: stale published, then synced again when messages flow", "[live][venue]") {
    harness h(venue_two(), two_symbols());
    h.start();
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    h.consumer.clear_history();
    h.fault("/control/stall?ms=1500");
    REQUIRE(h.consumer.wait(
        [&] {
            return h.consumer.saw(0, md::feed_state::stale) &&
                   h.consumer.saw(1, md::feed_state::stale);
        },
        5s));
    CHECK_FALSE(h.consumer.symbol(0).last.book_valid()); // the core pauses on this
    REQUIRE(h.consumer.wait(
        [&] {
            return h.consumer.symbol(0).states.back() == md::feed_state::synced &&
                   h.consumer.symbol(1).states.back() == md::feed_state::synced &&
                   h.consumer.all_valid();
        },
        10s));
    const live::service_stats stats = h.service->stats();
    CHECK(stats.stale_transitions >= 2);
    CHECK(stats.resyncs == 0); // stalled, not lost: the chain continues
}

TEST_CASE("serverShutdown: rollover without a gap", "[live][venue]") {
    harness h(venue_two("50"), two_symbols());
    h.start();
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    h.consumer.clear_history();
    h.fault("/control/shutdown?after_ms=1000");
    REQUIRE(h.consumer.wait([&] { return h.service->stats().rollovers >= 1; }, 5s));
    // Past the overlap and the old connection's close.
    h.consumer.drain_for(2000ms);
    const live::service_stats stats = h.service->stats();
    CHECK(stats.server_shutdowns >= 1);
    CHECK(stats.gaps == 0);
    CHECK(stats.resyncs == 0);
    CHECK(stats.reconnects == 0);
    CHECK(stats.open_connections == 1);
    CHECK(stats.duplicates > 0);            // both connections delivered during the overlap...
    CHECK(h.consumer.trade_repeats() == 0); // ...and nothing reached the core twice
    CHECK(h.consumer.sequence_breaks() == 0);
    for (md::symbol_id id = 0; id < 2; ++id) {
        INFO("symbol " << id);
        CHECK(h.consumer.symbol(id).states.size() <= 1); // never left synced
        CHECK_FALSE(h.consumer.saw(id, md::feed_state::connecting));
        CHECK_FALSE(h.consumer.saw(id, md::feed_state::resyncing));
        CHECK(h.consumer.symbol(id).valid);
    }
    const std::uint64_t before = h.consumer.events();
    h.consumer.drain_for(300ms);
    CHECK(h.consumer.events() > before); // the replacement delivers
}

TEST_CASE("malformed frames are counted and the books stay intact", "[live][venue]") {
    harness h(venue_two(), two_symbols());
    h.start();
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    h.consumer.clear_history();
    h.fault("/control/malformed?kind=truncated&count=2");
    h.fault("/control/malformed?kind=garbage");
    h.fault("/control/malformed?kind=binary");
    REQUIRE(h.consumer.wait([&] { return h.service->stats().malformed >= 4; }, 5s));
    h.consumer.drain_for(300ms);
    const live::service_stats stats = h.service->stats();
    CHECK(stats.resyncs == 0);
    CHECK(stats.reconnects == 0);
    CHECK(h.consumer.all_valid());
    CHECK_FALSE(h.consumer.saw(0, md::feed_state::resyncing));
}

TEST_CASE("200 symbols sync over several connections", "[live][venue]") {
    harness h({"--synthetic", "200", "--rate-hz", "2", "--seed", "3"}, [] {
        std::vector<std::string> names;
        for (int i = 0; i < 200; ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "SYN%03dUSDT", i);
            names.emplace_back(name);
        }
        return names;
    }());
    h.start();
    REQUIRE(h.service->registry().size() == 200);
    const bool synced = h.consumer.wait([&] { return h.consumer.all_valid(); }, 40s);
    const live::service_stats stats = h.service->stats();
    INFO("synced symbols " << stats.synced_symbols << ", snapshots " << stats.snapshots_requested);
    REQUIRE(synced);
    CHECK(stats.open_connections == 3); // 600 streams, 200 per connection
    CHECK(stats.gaps == 0);
    CHECK(stats.ring_full == 0);
}

TEST_CASE("many symbols in one process: every book synced, nothing dropped, kernel stamps and "
          "book memory published",
          "[live][venue]") {
    // 500 symbols is `quoter bench tick_to_order --symbols 500`; 50 keep this within CI time.
    constexpr int count = 50;
    harness h({"--synthetic", std::to_string(count), "--rate-hz", "20", "--seed", "7"}, [] {
        std::vector<std::string> names;
        for (int i = 0; i < count; ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "SYN%03dUSDT", i);
            names.emplace_back(name);
        }
        return names;
    }());
    h.start();
    REQUIRE(h.service->registry().size() == count);
    const bool synced = h.consumer.wait([&] { return h.consumer.all_valid(); }, 40s);
    INFO("synced symbols " << h.service->stats().synced_symbols);
    REQUIRE(synced);
    // Keep the flow going until the figures refreshed about once a second cover it.
    const std::uint64_t messages_at_sync = h.service->stats().messages;
    REQUIRE(h.consumer.wait(
        [&] {
            const live::service_stats now = h.service->stats();
            return now.messages >= messages_at_sync + 2'000 && now.kernel_to_read.count > 0 &&
                   now.book_memory_bytes > 0;
        },
        30s));
    const live::service_stats stats = h.service->stats();
    CHECK(stats.synced_symbols == count);
    CHECK(stats.gaps == 0);
    CHECK(stats.resyncs == 0);
    CHECK(stats.ring_full == 0);
    CHECK(h.consumer.sequence_breaks() == 0);
    // Loopback TCP gets the kernel's receive stamps: every stream message carries one.
    CHECK(stats.kernel_stamped == stats.messages);
    CHECK(stats.kernel_to_read.count <= stats.kernel_stamped);
    CHECK(stats.kernel_to_read.p50 <= stats.kernel_to_read.max);
    // Every book holds its tables (book_sync's default sizes here: 8,192 levels a side, the
    // window sized from the price), each well under what a fixed 1 MiB window would add.
    CHECK(stats.book_memory_bytes / count > 64U * 1024U);
    CHECK(stats.book_memory_bytes / count < 2U * 1024U * 1024U);
}

TEST_CASE("busy-polling md thread: books sync, counters publish and stop() returns",
          "[live][venue]") {
    harness h(venue_two(), two_symbols());
    live::service_config config;
    config.subscription = harness::subscription(two_symbols());
    config.session = live::testing::venue_session(h.venue, h.dir);
    config.session.busy_poll = true;
    h.service = std::make_unique<live::market_data_service>(config, h.consumer.ring());
    h.start();
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    REQUIRE(h.consumer.wait([&] { return h.service->stats().messages > 0; }, 5s));
    CHECK(h.service->stats().ring_full == 0);
    CHECK(h.consumer.sequence_breaks() == 0);
    h.service->stop(); // the polling loop sees the stop flag (a hang here fails the run)
    CHECK_FALSE(h.service->running());
}

TEST_CASE("message to md_event latency over loopback", "[live][venue][measure]") {
    harness h({"--symbols", "BTCUSDT,ETHUSDT", "--rate-hz", "500", "--seed", "5"}, two_symbols());
    h.start();
    REQUIRE(h.consumer.wait([&] { return h.consumer.all_valid(); }, 15s));
    std::vector<std::int64_t> latencies;
    latencies.reserve(1U << 16U);
    std::uint64_t events = 0;
    const auto begin = std::chrono::steady_clock::now();
    const auto end = begin + 2s;
    md::md_event event;
    while (std::chrono::steady_clock::now() < end) {
        bool any = false;
        while (h.consumer.ring().try_pop(event)) {
            any = true;
            ++events;
            if (event.kind == md::md_event_kind::book && latencies.size() < latencies.capacity()) {
                const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
                latencies.push_back(now - event.local_ns);
            }
        }
        if (!any) {
            std::this_thread::yield();
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    REQUIRE(latencies.size() > 100);
    std::sort(latencies.begin(), latencies.end());
    const auto at = [&](double q) {
        return latencies[static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1))];
    };
    WARN("receive -> core pop latency (book events, "
         << latencies.size() << "): p50 " << at(0.5) / 1000.0 << " us, p99 " << at(0.99) / 1000.0
         << " us; md_events/s " << static_cast<double>(events) / seconds);
    CHECK(h.service->stats().ring_full == 0);
}
