// Test support for the live integration tests: a core-side consumer of the md ring that keeps
// what the tests check (per-symbol state history and book events), and the service
// configuration for a local quoter-venue.
#pragma once

#include "net/venue_process.hpp"
#include "quoter/live/market_data_service.hpp"
#include "quoter/md/depth_handoff.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace quoter::live::testing {

using net::testing::venue_process;

/// Drains the ring on the test thread (the core thread's role).
class ring_consumer {
public:
    explicit ring_consumer(std::size_t symbols)
        : ring_(std::make_unique<md_ring>()), depth_(std::make_unique<md_depth_ring>()),
          per_symbol_(symbols) {}

    [[nodiscard]] md_ring& ring() noexcept { return *ring_; }
    /// The depth ring beside ring(), for a service configured with it (service_config::depth).
    [[nodiscard]] md_depth_ring& depth_ring() noexcept { return *depth_; }

    /// Pops everything available.
    void drain() {
        md::md_event event;
        while (ring_->try_pop(event)) {
            ++events_;
            md::md_depth depth{};
            // A record published just before its event, or the kept one with the event's top.
            const md::md_depth* taken = depth_receiver_.take(event, *depth_);
            if (event.has_depth() || event.depth_kept()) {
                if (taken == nullptr || taken->sequence != event.sequence) {
                    ++depth_breaks_;
                } else {
                    depth = *taken;
                }
            }
            if (event.sequence != next_sequence_) {
                ++sequence_breaks_;
            }
            next_sequence_ = event.sequence + 1;
            if (event.symbol >= per_symbol_.size()) {
                continue;
            }
            symbol_events& mine = per_symbol_[event.symbol];
            if (mine.states.empty() || mine.states.back() != event.state) {
                mine.states.push_back(event.state);
            }
            if (event.kind == md::md_event_kind::book || event.kind == md::md_event_kind::state) {
                mine.valid = event.book_valid();
                mine.last = event;
                if (keep_books_ && event.book_valid()) {
                    mine.books.push_back(event);
                    mine.book_depths.push_back(depth);
                }
            }
            if (event.kind == md::md_event_kind::trade) {
                ++mine.trades;
                if (event.trade.trade_id <= mine.last_trade_id) {
                    ++trade_repeats_;
                }
                mine.last_trade_id = event.trade.trade_id;
            }
        }
    }

    /// Drains until done() holds or timeout passes; returns done().
    template <class Predicate> bool wait(Predicate done, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            drain();
            if (done()) {
                return true;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    /// Drains for a fixed time.
    void drain_for(std::chrono::milliseconds duration) {
        (void)wait([] { return false; }, duration);
    }

    struct symbol_events {
        std::vector<md::feed_state> states; ///< State changes, in order.
        md::md_event last{};                ///< Latest book or state event.
        std::vector<md::md_event> books;    ///< Valid book events (when kept).
        /// books[i]'s depth (an empty record when it came without).
        std::vector<md::md_depth> book_depths;
        bool valid = false; ///< book_valid of the latest event.
        std::uint64_t trades = 0;
        std::int64_t last_trade_id = -1;
    };

    [[nodiscard]] symbol_events& symbol(md::symbol_id id) { return per_symbol_[id]; }
    [[nodiscard]] bool all_valid() const {
        return std::all_of(per_symbol_.begin(), per_symbol_.end(),
                           [](const symbol_events& s) { return s.valid; });
    }
    [[nodiscard]] bool saw(md::symbol_id id, md::feed_state state) const {
        const auto& states = per_symbol_[id].states;
        return std::find(states.begin(), states.end(), state) != states.end();
    }
    void clear_history() {
        for (auto& s : per_symbol_) {
            s.states.clear();
            s.books.clear();
            s.book_depths.clear();
        }
    }
    void keep_books(bool keep) { keep_books_ = keep; }
    [[nodiscard]] std::uint64_t events() const noexcept { return events_; }
    [[nodiscard]] std::uint64_t sequence_breaks() const noexcept { return sequence_breaks_; }
    /// Events flagged with depth whose depth was missing or another event's.
    [[nodiscard]] std::uint64_t depth_breaks() const noexcept { return depth_breaks_; }
    /// Trade prints whose id was not above the symbol's previous one (published twice).
    [[nodiscard]] std::uint64_t trade_repeats() const noexcept { return trade_repeats_; }

private:
    std::unique_ptr<md_ring> ring_;
    std::unique_ptr<md_depth_ring> depth_;
    md::depth_receiver depth_receiver_;
    std::vector<symbol_events> per_symbol_;
    std::uint64_t depth_breaks_ = 0;
    std::uint64_t events_ = 0;
    std::uint64_t next_sequence_ = 1; ///< Events are numbered from 1.
    std::uint64_t sequence_breaks_ = 0;
    std::uint64_t trade_repeats_ = 0;
    bool keep_books_ = false;
};

/// A private temporary folder, removed afterwards.
struct temp_dir {
    temp_dir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "quoter-live-test-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    std::filesystem::path path;
};

/// Session settings for a plain-WebSocket venue on 127.0.0.1, with short fault timings.
inline session_config venue_session(const venue_process& venue, const temp_dir& dir) {
    session_config session;
    session.endpoints =
        net::local_venue_endpoints("127.0.0.1", static_cast<std::uint16_t>(venue.port()), false);
    session.stale_after_ms = 400;
    session.rollover_overlap_ms = 200;
    session.reconnect_backoff.initial_ms = 50;
    session.reconnect_backoff.max_ms = 500;
    session.jitter_seed = 7;
    session.rest_timeout_ms = 5'000;
    session.instruments.cache_path = (dir.path / "exchangeInfo.json").string();
    session.instruments.timeout_ms = 5'000;
    session.feed.sync.snapshot_backoff_initial_ms = 50;
    session.feed.sync.snapshot_backoff_max_ms = 500;
    return session;
}

/// A venue process, a market_data_service on it publishing into a ring_consumer, and a REST
/// client for the venue's control and REST endpoints. The subscription's symbols and market are
/// the test's; the session is venue_session(). with_depth: the consumer asks for the book events'
/// depth records (as a simulated exchange's session does).
struct service_harness {
    service_harness(std::vector<std::string> venue_args, subscription_config subscription,
                    bool with_depth = false)
        : venue(std::move(venue_args)), consumer(subscription.symbols.size()),
          control_client(control_loop, net::testing::venue_rest_config(venue)) {
        service_config config;
        config.subscription = std::move(subscription);
        config.session = venue_session(venue, dir);
        config.depth = with_depth ? &consumer.depth_ring() : nullptr;
        service = std::make_unique<market_data_service>(config, consumer.ring());
    }

    void start() {
        auto started = service->start();
        REQUIRE(started.has_value());
    }

    /// Sends a fault-injection request to the venue.
    void fault(const std::string& target) {
        const net::rest_response answer =
            net::testing::control(control_loop, control_client, target);
        REQUIRE(answer.ok());
    }

    /// Has the venue skip update ids of `name` (symbol `id`), then waits for its book to go
    /// resyncing and come back synced and valid.
    void gap_and_resync(md::symbol_id id, const std::string& name) {
        fault("/control/gap?count=3&symbol=" + name);
        REQUIRE(consumer.wait([&] { return consumer.saw(id, md::feed_state::resyncing); },
                              std::chrono::seconds(5)));
        REQUIRE(consumer.wait(
            [&] {
                return consumer.symbol(id).states.back() == md::feed_state::synced &&
                       consumer.symbol(id).valid;
            },
            std::chrono::seconds(10)));
    }

    net::rest_response get(const std::string& target) {
        net::rest_response answer;
        bool done = false;
        control_client.get(target, [&](net::rest_response&& response) {
            answer = std::move(response);
            done = true;
        });
        REQUIRE(net::testing::run_until(
            control_loop, [&] { return done; }, std::chrono::seconds(10)));
        return answer;
    }

    /// Book-sync counters of a symbol, read on the md thread.
    md::book_sync_stats sync_stats(md::symbol_id id) {
        md::book_sync_stats stats;
        REQUIRE(service->inspect([&](const md::feed_handler& h) { stats = h.sync(id).stats(); }));
        return stats;
    }

    temp_dir dir;
    venue_process venue;
    ring_consumer consumer;
    net::io_loop control_loop;
    net::rest_client control_client;
    std::unique_ptr<market_data_service> service;
};

} // namespace quoter::live::testing
