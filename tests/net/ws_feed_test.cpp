// ws_feed against quoter-venue on 127.0.0.1: plain and TLS streams, certificate failures,
// reconnect with backoff, stale detection, make-before-break rollover, malformed frames,
// ping/pong, and 200 symbols over several connections. Every wait is bounded.
#include "quoter/net/ws_feed.hpp"

#include "venue_process.hpp"

#include "quoter/net/rest_client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace quoter::net;
using namespace std::chrono_literals;
using testing::control;
using testing::run_until;
using testing::venue_process;

namespace {

/// Symbol and U/u of a depthUpdate, read straight from the text.
struct depth_ids {
    std::string symbol;
    long long first = -1;
    long long last = -1;
};

std::optional<depth_ids> extract_depth(std::string_view payload) {
    if (payload.find("\"e\":\"depthUpdate\"") == std::string_view::npos) {
        return std::nullopt;
    }
    depth_ids ids;
    const std::size_t s = payload.find("\"s\":\"");
    if (s == std::string_view::npos) {
        return std::nullopt;
    }
    ids.symbol = std::string(payload.substr(s + 5, payload.find('"', s + 5) - s - 5));
    ids.first = testing::json_int(payload, "U");
    ids.last = testing::json_int(payload, "u");
    if (ids.first < 0 || ids.last < ids.first) {
        return std::nullopt;
    }
    return ids;
}

/// Applies Binance's continuity rule per symbol across every connection, dropping what was
/// already seen (the dedup a consumer does during a rollover overlap).
struct chain_checker {
    std::map<std::string, long long> last_u;
    std::uint64_t applied = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t gaps = 0;

    void add(const depth_ids& ids) {
        auto [it, fresh] = last_u.try_emplace(ids.symbol, ids.last);
        if (fresh) {
            ++applied;
            return;
        }
        if (ids.last <= it->second) {
            ++duplicates;
            return;
        }
        if (ids.first != it->second + 1) {
            ++gaps;
        }
        it->second = ids.last;
        ++applied;
    }
};

struct recorder {
    std::vector<connection_event> events;
    std::vector<std::string> details;
    std::vector<std::uint64_t> message_connections;
    std::vector<std::string> payloads;
    std::vector<bool> binaries;
    std::vector<std::int64_t> latencies_ns;
    chain_checker chain;
    std::uint64_t messages = 0;
    std::uint64_t padding_violations = 0;
    std::size_t keep_payloads = 0;

    feed_handlers handlers() {
        feed_handlers out;
        out.on_message = [this](const ws_message& message) {
            ++messages;
            message_connections.push_back(message.connection_id);
            const char* end = message.payload.data() + message.payload.size();
            for (std::size_t i = 0; i < receive_padding; ++i) {
                padding_violations += end[i] != 0 ? 1 : 0;
            }
            if (const auto ids = extract_depth(message.payload)) {
                chain.add(*ids);
            }
            if (payloads.size() < keep_payloads) {
                payloads.emplace_back(message.payload);
                binaries.push_back(message.binary);
            }
            if (const long long stamp = testing::json_int(message.payload, "vts"); stamp > 0) {
                latencies_ns.push_back(message.local_ns - stamp);
            }
        };
        out.on_event = [this](const connection_event& event) {
            events.push_back(event);
            details.emplace_back(event.detail);
        };
        return out;
    }

    [[nodiscard]] std::size_t count(connection_state state) const {
        return static_cast<std::size_t>(std::count_if(
            events.begin(), events.end(), [state](const auto& e) { return e.state == state; }));
    }
    [[nodiscard]] const connection_event* find(connection_state state, std::size_t nth = 0) const {
        for (const auto& event : events) {
            if (event.state == state && nth-- == 0) {
                return &event;
            }
        }
        return nullptr;
    }
    [[nodiscard]] std::size_t index_of(connection_state state, std::uint64_t connection) const {
        for (std::size_t i = 0; i < events.size(); ++i) {
            if (events[i].state == state && events[i].connection_id == connection) {
                return i;
            }
        }
        return events.size();
    }
};

std::vector<std::string> streams_for(int symbols, bool book_ticker = true) {
    std::vector<std::string> streams;
    for (int i = 0; i < symbols; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "syn%03dusdt", i);
        streams.push_back(std::string(name) + "@depth@100ms");
        if (book_ticker) {
            streams.push_back(std::string(name) + "@bookTicker");
        }
    }
    return streams;
}

feed_config test_config(const venue_process& venue, std::vector<std::string> streams) {
    feed_config config;
    config.base_url = venue.ws_url();
    config.streams = std::move(streams);
    config.tls.extra_ca_file = testing::certificates().ca;
    config.connect_timeout_ms = 5'000;
    config.stale_after_ms = 2'000;
    config.backoff.initial_ms = 100;
    config.backoff.max_ms = 1'000;
    config.jitter_seed = 42;
    return config;
}

void require_started(ws_feed& feed) {
    const auto started = feed.start();
    REQUIRE(started.has_value());
}

} // namespace

TEST_CASE("plain ws: combined and raw streams deliver padded messages", "[ws_feed][integration]") {
    venue_process venue({"--synthetic", "3", "--rate-hz", "50"});
    io_loop loop;

    SECTION("combined streams, gap-free U/u chain") {
        recorder seen;
        seen.keep_payloads = 5;
        ws_feed feed(loop, test_config(venue, streams_for(3)), seen.handlers());
        require_started(feed);
        REQUIRE(feed.slot_count() == 1);
        REQUIRE(run_until(
            loop, [&] { return seen.chain.applied >= 60; }, 15s));
        CHECK(seen.chain.gaps == 0);
        CHECK(seen.chain.duplicates == 0);
        CHECK(seen.padding_violations == 0);
        CHECK(seen.payloads.front().starts_with("{\"stream\":\"syn00"));
        CHECK(seen.count(connection_state::open) == 1);
        CHECK(seen.count(connection_state::live) == 1);
        CHECK(seen.count(connection_state::closed) == 0);
        CHECK(feed.open_connections() == 1);
        CHECK(feed.stats().messages == seen.messages);

        feed.stop();
        REQUIRE(run_until(
            loop, [&] { return seen.count(connection_state::closed) == 1; }, 5s));
        CHECK(seen.find(connection_state::closed)->reason == close_reason::stopped);
        CHECK(seen.find(connection_state::closed)->retry_in_ms == -1);
    }

    SECTION("requests sent on an open connection (SUBSCRIBE) go through the write queue") {
        recorder seen;
        seen.keep_payloads = 10'000;
        ws_feed feed(loop, test_config(venue, {"syn000usdt@depth"}), seen.handlers());
        require_started(feed);
        CHECK_FALSE(feed.send_text(0, "{}")); // not open yet
        REQUIRE(run_until(
            loop, [&] { return seen.messages >= 1; }, 15s));
        REQUIRE(feed.send_text(
            0, R"({"method":"SUBSCRIBE","params":["syn001usdt@bookTicker"],"id":7})"));
        REQUIRE(feed.send_text(0, R"({"method":"LIST_SUBSCRIPTIONS","id":8})"));
        const auto has = [&](std::string_view text) {
            return std::any_of(seen.payloads.begin(), seen.payloads.end(),
                               [text](const std::string& p) { return p.find(text) != p.npos; });
        };
        REQUIRE(run_until(
            loop, [&] { return has("\"stream\":\"syn001usdt@bookTicker\""); }, 10s));
        CHECK(has(R"({"result":null,"id":7})"));
        CHECK(has(R"({"result":["syn000usdt@depth","syn001usdt@bookTicker"],"id":8})"));
        CHECK_FALSE(feed.send_text(5, "{}")); // no such slot
    }

    SECTION("raw /ws/ stream") {
        recorder seen;
        seen.keep_payloads = 3;
        feed_config config = test_config(venue, {"syn001usdt@depth"});
        config.path = stream_path::raw;
        ws_feed feed(loop, config, seen.handlers());
        require_started(feed);
        REQUIRE(run_until(
            loop, [&] { return seen.payloads.size() >= 3; }, 15s));
        CHECK(seen.payloads.front().starts_with("{\"e\":\"depthUpdate\""));
        CHECK(seen.payloads.front().find("SYN001USDT") != std::string::npos);
    }
}

TEST_CASE("TLS: verified connection to the venue with the test CA", "[ws_feed][integration][tls]") {
    venue_process venue({"--synthetic", "2", "--rate-hz", "50"}, true);
    io_loop loop;
    const std::string host = GENERATE(std::string("127.0.0.1"), std::string("localhost"));
    CAPTURE(host);
    recorder seen;
    feed_config config = test_config(venue, streams_for(2));
    config.base_url = venue.ws_url(host);
    ws_feed feed(loop, config, seen.handlers());
    require_started(feed);
    REQUIRE(run_until(
        loop, [&] { return seen.chain.applied >= 20; }, 15s));
    CHECK(seen.chain.gaps == 0);
    CHECK(seen.count(connection_state::closed) == 0);
    CHECK(seen.padding_violations == 0);
}

TEST_CASE("TLS: untrusted or wrong-host certificates fail verification",
          "[ws_feed][integration][tls]") {
    io_loop loop;
    recorder seen;

    SECTION("certificate from an unknown CA") {
        venue_process venue({"--synthetic", "1"}, true);
        feed_config config = test_config(venue, streams_for(1));
        config.tls.extra_ca_file.clear(); // system store only
        ws_feed feed(loop, config, seen.handlers());
        require_started(feed);
        REQUIRE(run_until(
            loop, [&] { return seen.count(connection_state::closed) >= 1; }, 10s));
        feed.stop();
        const auto* closed = seen.find(connection_state::closed);
        CHECK(closed->reason == close_reason::tls_failed);
        CHECK(seen.details[static_cast<std::size_t>(closed - seen.events.data())].find(
                  "certificate verify failed") != std::string::npos);
        CHECK(closed->retry_in_ms >= 0); // a feed keeps retrying, with backoff
        CHECK(seen.count(connection_state::open) == 0);
        CHECK(seen.messages == 0);
    }

    SECTION("trusted chain for another host name") {
        venue_process venue({"--synthetic", "1"}, testing::certificates().wrong_host_cert,
                            testing::certificates().wrong_host_key);
        const std::string host = GENERATE(std::string("127.0.0.1"), std::string("localhost"));
        CAPTURE(host);
        feed_config config = test_config(venue, streams_for(1));
        config.base_url = venue.ws_url(host);
        ws_feed feed(loop, config, seen.handlers());
        require_started(feed);
        REQUIRE(run_until(
            loop, [&] { return seen.count(connection_state::closed) >= 1; }, 10s));
        feed.stop();
        const auto* closed = seen.find(connection_state::closed);
        CHECK(closed->reason == close_reason::tls_failed);
        const std::string& detail =
            seen.details[static_cast<std::size_t>(closed - seen.events.data())];
        CAPTURE(detail);
        CHECK(detail.find("mismatch") != std::string::npos);
        CHECK(seen.count(connection_state::open) == 0);
        CHECK(seen.messages == 0);
    }

    SECTION("plain client configuration errors are reported before connecting") {
        venue_process venue({"--synthetic", "1"});
        feed_config config = test_config(venue, streams_for(1));
        config.base_url = "https://127.0.0.1:1";
        ws_feed bad_scheme(loop, config, seen.handlers());
        CHECK(bad_scheme.start().error() == feed_error::bad_url);
        config.base_url = "wss://127.0.0.1:1";
        config.tls.extra_ca_file = "/nonexistent/ca.pem";
        ws_feed bad_ca(loop, config, seen.handlers());
        CHECK(bad_ca.start().error() == feed_error::tls_setup);
        config.streams.clear();
        ws_feed no_streams(loop, config, seen.handlers());
        CHECK(no_streams.start().error() == feed_error::no_streams);
    }
}

TEST_CASE("drop: the feed reconnects with growing, jittered backoff", "[ws_feed][integration]") {
    venue_process venue({"--synthetic", "2", "--rate-hz", "50"});
    io_loop loop;
    rest_client control_client(loop, testing::venue_rest_config(venue));
    recorder seen;
    feed_config config = test_config(venue, streams_for(2));
    config.backoff.initial_ms = 200;
    config.backoff.jitter_pct = 50;
    ws_feed feed(loop, config, seen.handlers());
    require_started(feed);
    REQUIRE(run_until(
        loop, [&] { return seen.messages >= 10; }, 15s));

    for (int drop = 0; drop < 2; ++drop) {
        const std::size_t opens_before = seen.count(connection_state::open);
        const std::size_t closes_before = seen.count(connection_state::closed);
        REQUIRE(control(loop, control_client, "/control/drop").status == 200);
        REQUIRE(run_until(
            loop, [&] { return seen.count(connection_state::closed) > closes_before; }, 10s));
        const connection_event closed = *seen.find(connection_state::closed, closes_before);
        CHECK(closed.reason == close_reason::remote_closed);
        // Attempt n waits between half and all of 200 ms * 2^n.
        const std::int64_t ceiling = 200LL << drop;
        CHECK(closed.retry_in_ms >= ceiling / 2);
        CHECK(closed.retry_in_ms <= ceiling);

        const std::uint64_t messages_before = seen.messages;
        REQUIRE(run_until(
            loop,
            [&] {
                return seen.count(connection_state::open) > opens_before &&
                       seen.messages > messages_before + 5;
            },
            15s));
        const connection_event opened = *seen.find(connection_state::open, opens_before);
        CHECK(opened.connection_id != closed.connection_id);
        CHECK(opened.at_ns - closed.at_ns >= closed.retry_in_ms * 1'000'000 - 2'000'000);
        CHECK(seen.message_connections.back() == opened.connection_id);
    }
    CHECK(feed.stats().connect_attempts == 3);
}

TEST_CASE("stale: reported when messages stop, live again when they resume",
          "[ws_feed][integration]") {
    venue_process venue({"--synthetic", "2", "--rate-hz", "50"});
    io_loop loop;
    rest_client control_client(loop, testing::venue_rest_config(venue));
    recorder seen;
    feed_config config = test_config(venue, streams_for(2));
    config.stale_after_ms = 150;

    SECTION("short stall: same connection recovers") {
        config.reconnect_after_stale_ms = 0;
        ws_feed feed(loop, config, seen.handlers());
        require_started(feed);
        REQUIRE(run_until(
            loop, [&] { return seen.messages >= 10; }, 15s));
        REQUIRE(control(loop, control_client, "/control/stall?ms=800").status == 200);
        REQUIRE(run_until(
            loop, [&] { return seen.count(connection_state::stale) == 1; }, 5s));
        const std::uint64_t at_stale = seen.messages;
        REQUIRE(run_until(
            loop, [&] { return seen.count(connection_state::live) == 2; }, 5s));
        CHECK(seen.messages > at_stale);
        const auto* stale = seen.find(connection_state::stale);
        const auto* live = seen.find(connection_state::live, 1);
        CHECK(stale->connection_id == live->connection_id);
        CHECK(live->at_ns - stale->at_ns >= 300'000'000); // stall 800 ms - stale after 150 ms
        CHECK(seen.count(connection_state::closed) == 0);
        CHECK(seen.chain.gaps == 0); // a stall delays, it does not lose
        CHECK(feed.stats().stale_events == 1);
    }

    SECTION("long stall: the connection is replaced") {
        config.reconnect_after_stale_ms = 400;
        ws_feed feed(loop, config, seen.handlers());
        require_started(feed);
        REQUIRE(run_until(
            loop, [&] { return seen.messages >= 10; }, 15s));
        REQUIRE(control(loop, control_client, "/control/stall?ms=3000").status == 200);
        REQUIRE(run_until(
            loop, [&] { return seen.count(connection_state::closed) == 1; }, 5s));
        CHECK(seen.find(connection_state::closed)->reason == close_reason::stale);
        CHECK(seen.count(connection_state::stale) == 1);
        REQUIRE(run_until(
            loop, [&] { return seen.count(connection_state::open) == 2; }, 5s));
    }
}

TEST_CASE("rollover: replacement opens before the old connection closes, without a gap",
          "[ws_feed][integration]") {
    const std::string trigger =
        GENERATE(std::string("serverShutdown"), std::string("venue flag"), std::string("age"));
    const bool tls = GENERATE(false, true);
    CAPTURE(trigger, tls);
    std::vector<std::string> arguments{"--synthetic", "3", "--rate-hz", "50"};
    if (trigger == "venue flag") {
        // Every connection gets serverShutdown at 1 s of age and is closed 3 s later.
        arguments.insert(arguments.end(),
                         {"--shutdown-after-ms", "1000", "--shutdown-grace-ms", "3000"});
    }
    venue_process venue(arguments, tls);
    io_loop loop;
    rest_client control_client(loop, testing::venue_rest_config(venue));
    recorder seen;
    feed_config config = test_config(venue, streams_for(3));
    config.rollover_overlap_ms = 300;
    if (trigger == "age") {
        config.max_connection_age_ms = 1'000;
    }

    ws_feed feed(loop, config, seen.handlers());
    require_started(feed);
    REQUIRE(run_until(
        loop, [&] { return seen.chain.applied >= 20; }, 15s));
    const std::uint64_t first = seen.find(connection_state::open)->connection_id;

    if (trigger == "serverShutdown") {
        // The venue closes the old connection 3 s after the event; the feed must not wait.
        REQUIRE(control(loop, control_client, "/control/shutdown?after_ms=3000").status == 200);
    }
    REQUIRE(run_until(
        loop, [&] { return seen.count(connection_state::closed) >= 1; }, 10s));
    const std::uint64_t applied_at_close = seen.chain.applied;
    REQUIRE(run_until(
        loop, [&] { return seen.chain.applied >= applied_at_close + 20; }, 10s));

    const auto* closed = seen.find(connection_state::closed);
    CHECK(closed->connection_id == first);
    CHECK(closed->reason == close_reason::rolled_over);
    CHECK(closed->retry_in_ms == -1);
    const auto* rolling = seen.find(connection_state::rolling_over);
    REQUIRE(rolling != nullptr);
    CHECK(rolling->connection_id == first);
    const auto* second_open = seen.find(connection_state::open, 1);
    REQUIRE(second_open != nullptr);
    const std::uint64_t second = second_open->connection_id;
    CHECK(second != first);
    // Make-before-break: the replacement was open, and delivering, before the old one closed.
    CHECK(seen.index_of(connection_state::open, second) <
          seen.index_of(connection_state::closed, first));
    CHECK(seen.index_of(connection_state::live, second) <
          seen.index_of(connection_state::closed, first));
    // Both delivered during the overlap; deduplicated by u, the chain has no gap.
    CHECK(seen.chain.duplicates > 0);
    CHECK(seen.chain.gaps == 0);
    CHECK(feed.stats().rollovers >= 1);
    if (trigger != "age") {
        CHECK(feed.stats().server_shutdowns >= 1);
    }
    CHECK(seen.message_connections.back() != first);
}

TEST_CASE("a feed stopped from inside its message handler closes cleanly, the close reported "
          "once",
          "[ws_feed][integration]") {
    // The close is asked for while the connection is handing a message on, before its next
    // read has started: the connection starts that read first, so the read loop reports the end.
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    venue_process venue({"--synthetic", "2", "--rate-hz", "200"}, tls);
    io_loop loop;
    recorder seen;
    bool stopped = false;
    ws_feed* feed_ptr = nullptr;
    feed_handlers handlers = seen.handlers();
    auto record = handlers.on_message;
    handlers.on_message = [&](const ws_message& message) {
        record(message);
        if (!stopped && seen.messages >= 20) {
            stopped = true;
            feed_ptr->stop();
        }
    };
    ws_feed feed(loop, test_config(venue, streams_for(2)), std::move(handlers));
    feed_ptr = &feed;
    require_started(feed);
    REQUIRE(run_until(
        loop, [&] { return seen.count(connection_state::closed) >= 1; }, 15s));
    // Give a misbehaving connection the chance to deliver more or report twice.
    run_until(
        loop, [] { return false; }, 300ms);
    CHECK(stopped);
    CHECK(seen.count(connection_state::closed) == 1);
    CHECK(seen.find(connection_state::closed)->reason == close_reason::stopped);
    CHECK(feed.open_connections() == 0);
}

TEST_CASE("malformed frames reach the caller as bytes and the connection survives",
          "[ws_feed][integration]") {
    venue_process venue({"--synthetic", "1", "--rate-hz", "20", "--trade-probability", "0"});
    io_loop loop;
    rest_client control_client(loop, testing::venue_rest_config(venue));
    recorder seen;
    seen.keep_payloads = 1'000;
    ws_feed feed(loop, test_config(venue, {"syn000usdt@depth"}), seen.handlers());
    require_started(feed);
    REQUIRE(run_until(
        loop, [&] { return seen.messages >= 3; }, 15s));
    for (const char* kind : {"truncated", "garbage", "binary"}) {
        REQUIRE(
            control(loop, control_client, std::string("/control/malformed?kind=") + kind).status ==
            200);
    }
    const std::uint64_t applied = seen.chain.applied;
    REQUIRE(run_until(
        loop, [&] { return seen.chain.applied >= applied + 5; }, 10s));

    const auto has = [&](auto predicate) {
        for (std::size_t i = 0; i < seen.payloads.size(); ++i) {
            if (predicate(seen.payloads[i], seen.binaries[i])) {
                return true;
            }
        }
        return false;
    };
    CHECK(has([](const std::string& p, bool binary) {
        return !binary && p.starts_with("{\"stream\":\"malformed@depth\"") && p.back() == 'C';
    }));
    CHECK(has([](const std::string& p, bool binary) { return !binary && p == "}{ not json ]]"; }));
    CHECK(has([](const std::string& p, bool binary) {
        return binary && p.size() == 10 && p[0] == '\0' && static_cast<unsigned char>(p[4]) == 0xff;
    }));
    CHECK(seen.count(connection_state::closed) == 0);
    CHECK(seen.chain.gaps == 0);
}

TEST_CASE("ping: the client answers the venue's pings at once", "[ws_feed][integration]") {
    venue_process venue({"--synthetic", "1", "--rate-hz", "20"});
    io_loop loop;
    rest_client control_client(loop, testing::venue_rest_config(venue));
    recorder seen;
    ws_feed feed(loop, test_config(venue, streams_for(1)), seen.handlers());
    require_started(feed);
    REQUIRE(run_until(
        loop, [&] { return seen.messages >= 3; }, 15s));
    for (int i = 0; i < 3; ++i) {
        REQUIRE(control(loop, control_client, "/control/ping?timeout_ms=500").status == 200);
        REQUIRE(run_until(
            loop, [&] { return feed.stats().pings_received == std::uint64_t(i + 1); }, 5s));
        testing::run_for(loop, 50ms);
    }
    testing::run_for(loop, 600ms); // past the venue's pong deadline
    const rest_response stats = control(loop, control_client, "/control/stats");
    CAPTURE(stats.body);
    CHECK(testing::json_int(stats.body, "pings_sent") == 3);
    CHECK(testing::json_int(stats.body, "pongs_received") == 3);
    CHECK(testing::json_int(stats.body, "ping_timeouts") == 0);
    CHECK(seen.count(connection_state::closed) == 0);
}

TEST_CASE("200 symbols spread over several connections", "[ws_feed][integration]") {
    venue_process venue({"--synthetic", "200", "--rate-hz", "5"});
    io_loop loop;
    recorder seen;
    feed_config config = test_config(venue, streams_for(200));
    config.streams_per_connection = 100;
    std::set<std::string> depth_symbols;
    std::set<std::string> ticker_symbols;
    std::set<std::uint64_t> connections;
    feed_handlers handlers = seen.handlers();
    auto record = handlers.on_message;
    handlers.on_message = [&](const ws_message& message) {
        record(message);
        connections.insert(message.connection_id);
        const std::string_view payload = message.payload;
        const std::size_t name_end = payload.find('@');
        if (payload.starts_with("{\"stream\":\"") && name_end != std::string_view::npos) {
            const std::string symbol(payload.substr(11, name_end - 11));
            (payload.find("@bookTicker\"") != std::string_view::npos ? ticker_symbols
                                                                     : depth_symbols)
                .insert(symbol);
        }
    };
    ws_feed feed(loop, config, handlers);
    require_started(feed);
    CHECK(feed.slot_count() == 4);
    CHECK(feed.slot_streams(3).size() == 100);
    REQUIRE(run_until(
        loop, [&] { return depth_symbols.size() == 200 && ticker_symbols.size() == 200; }, 20s));
    CHECK(connections.size() == 4);
    CHECK(feed.open_connections() == 4);
    CHECK(seen.chain.gaps == 0);
    CHECK(seen.count(connection_state::closed) == 0);
}

// Generation time in the venue to the start of the callback, both on the wall clock. With
// several symbols per tick the venue emits bursts, so later messages of a burst also wait for
// the writes before them.
TEST_CASE("loopback latency, venue to callback (prints p50/p99)", "[.latency]") {
    for (const int symbols : {1, 10}) {
        for (const bool tls : {false, true}) {
            for (const bool spin : {false, true}) {
                const std::string rate = symbols == 1 ? "1000" : "100";
                venue_process venue(
                    {"--synthetic", std::to_string(symbols), "--rate-hz", rate, "--stamp"}, tls);
                io_loop loop;
                recorder seen;
                ws_feed feed(loop, test_config(venue, streams_for(symbols)), seen.handlers());
                require_started(feed);
                if (spin) { // a busy-polling md thread: no wake-up from epoll_wait
                    const auto deadline = std::chrono::steady_clock::now() + 60s;
                    while (seen.latencies_ns.size() < 20'000 &&
                           std::chrono::steady_clock::now() < deadline) {
                        loop.poll();
                    }
                }
                REQUIRE(run_until(
                    loop, [&] { return seen.latencies_ns.size() >= 20'000; }, 60s));
                std::vector<std::int64_t> samples(seen.latencies_ns.begin() + 1'000,
                                                  seen.latencies_ns.end());
                std::sort(samples.begin(), samples.end());
                const auto at = [&](double q) {
                    return static_cast<double>(
                               samples[static_cast<std::size_t>(q * (samples.size() - 1))]) /
                           1'000.0;
                };
                std::printf("%s %2d symbol(s), %s: venue->callback latency over %zu messages: "
                            "p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n",
                            tls ? "wss" : "ws ", symbols, spin ? "poll spin" : "run_for  ",
                            samples.size(), at(0.5), at(0.9), at(0.99), at(1.0));
                CHECK(seen.chain.gaps == 0);
            }
        }
    }
}
