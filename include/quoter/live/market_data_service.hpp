// market_data_service: the md thread of a live process. It owns an io_loop (and the thread that
// runs it, optionally pinned to a CPU), loads the symbol filters from exchangeInfo (cached on
// disk for offline runs), subscribes depth diffs, bookTicker and trades for N symbols through
// net::ws_feed, feeds every message into md::feed_handler, fetches the REST depth snapshots the
// book syncs ask for (after their backoff, a bounded number at a time), and publishes md_events
// into an SPSC ring that the core thread drains.
//
// Fault handling, as the core sees it through the events:
// - gap: the book goes `resyncing` (book_valid clear), a new snapshot follows, then `synced`;
// - connection lost: `connecting` for the slot's symbols, then reconnect (ws_feed backoff) and
//   a fresh sync;
// - rollover (serverShutdown or the 24-hour limit): the replacement connection opens before the
//   old one closes; the books stay synced, and the events both connections deliver during the
//   overlap are de-duplicated by update id (diffs and bookTicker by book_sync, trades by trade
//   id here), so nothing is published twice;
// - silence: a synced book with no message for stale_after_ms is published `stale` (the core
//   pauses quoting) and `synced` again with the next diff;
// - malformed frames: counted, sampled to the log at a limited rate, never applied.
//
// Threading: construct, start(), stop() and destroy from one controlling thread; stats() from
// any thread. Everything else runs on the md thread. The ring's producer side belongs to the md
// thread from start() until stop() returns.
#pragma once

#include "quoter/core/latency_histogram.hpp"
#include "quoter/core/result.hpp"
#include "quoter/core/spsc_ring.hpp"
#include "quoter/core/wait_policy.hpp"
#include "quoter/live/subscription.hpp"
#include "quoter/md/feed_handler.hpp"
#include "quoter/md/md_event.hpp"
#include "quoter/net/backoff.hpp"
#include "quoter/net/endpoints.hpp"
#include "quoter/net/tls.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace quoter::live {

/// Events in flight between the md and core threads (128 B a slot: 2 MB).
inline constexpr std::size_t md_ring_capacity = 1U << 14U;
using md_ring = core::spsc_ring<md::md_event, md_ring_capacity>;
static_assert(md_ring::slot_bytes == 2 * 64, "an md_event and its sequence word: two cache lines");
/// The depth records of valid books' events, beside md_ring, for a consumer that asked for them (a
/// simulated exchange); as many as events, so that only a full event ring drops one (384 B a
/// slot: 6 MB).
using md_depth_ring = core::spsc_ring<md::md_depth, md_ring_capacity>;

/// Transport and scheduling settings shared by the service and the recorder.
struct session_config {
    net::binance_endpoints endpoints;
    net::tls_config tls;
    /// Streams per WebSocket connection (Binance allows 1,024).
    std::size_t streams_per_connection = 200;
    /// A synced book (and a connection) with no message for this long is stale, in ms.
    std::int64_t stale_after_ms = 5'000;
    /// A connection silent for this long is replaced, in ms; 0 never.
    std::int64_t reconnect_after_stale_ms = 60'000;
    /// Old and new connection both deliver for this long during a rollover, in ms.
    std::int64_t rollover_overlap_ms = 2'000;
    /// Age at which a connection is rolled over, in ms (Binance closes at 24 h).
    std::int64_t max_connection_age_ms = 23 * 3'600'000LL + 30 * 60'000LL;
    /// Reconnect backoff of the stream connections.
    net::backoff_config reconnect_backoff;
    /// Seed of the reconnect jitter; 0 picks a random one.
    std::uint64_t jitter_seed = 0;
    /// Period of the stale checks, snapshot scheduling and counter publication, in ms.
    std::int64_t housekeeping_interval_ms = 10;
    /// Depth snapshot requests in flight at once (REST weight: Binance spot charges 50 per
    /// 1,000-level snapshot out of 6,000 per minute).
    std::size_t max_snapshots_in_flight = 4;
    /// Bound on one REST request, in ms.
    std::int64_t rest_timeout_ms = 10'000;
    /// exchangeInfo source and cache.
    instruments_config instruments;
    /// The md thread busy-polls its io_context (a non-blocking reactor poll, then the ready
    /// handlers, again and again) instead of sleeping in epoll_wait: no wake-up on the path of
    /// a frame, at the price of a whole CPU (pin it: service_config::cpu).
    bool busy_poll = false;
    /// Decoder and book-sync settings; sync.stale_after_ms is replaced by stale_after_ms.
    md::feed_config feed;
};

struct service_config {
    subscription_config subscription;
    session_config session;
    /// CPU the md thread is pinned to; -1 leaves it unpinned.
    int cpu = -1;
    /// Notified after every event the ring takes, for a core thread that blocks on it
    /// (core::idle_policy::block); nullptr when the core spins or yields. Must outlive the
    /// service.
    core::wakeup* wakeup = nullptr;
    /// Where the top-K levels of valid books' events go, for a consumer that wants them (a
    /// simulated exchange consumes the feed), through an md::depth_sender: an event whose levels
    /// below the top changed carries md_flags::has_depth and its record is pushed just before it
    /// (both or neither), any other carries md_flags::depth_kept and no record (see
    /// md/depth_handoff.hpp; the consumer reads them with an md::depth_receiver). nullptr: the
    /// consumer wants none and the md thread writes none. Must outlive the service; the core
    /// thread is its only consumer.
    md_depth_ring* depth = nullptr;
    /// Receives log lines (malformed-message samples, connection changes) on the md thread;
    /// empty for none. Called off the message path, at a limited rate.
    std::function<void(std::string_view)> log;
};

/// Counters since start(); a consistent-enough copy published every housekeeping period.
struct service_stats {
    std::uint64_t messages = 0;         ///< WebSocket messages received.
    std::uint64_t malformed = 0;        ///< Messages the decoder rejected.
    std::uint64_t gaps = 0;             ///< Update-id chain breaks of synced books.
    std::uint64_t resyncs = 0;          ///< Books sent back to resyncing.
    std::uint64_t reconnects = 0;       ///< Connections lost with a reconnect scheduled.
    std::uint64_t rollovers = 0;        ///< Replacement connections opened make-before-break.
    std::uint64_t server_shutdowns = 0; ///< serverShutdown events received.
    std::uint64_t duplicates = 0;       ///< Messages already seen (rollover overlap) dropped.
    std::uint64_t snapshots_requested = 0;
    std::uint64_t snapshots_failed = 0; ///< HTTP or transport failures and bad bodies.
    std::uint64_t stale_transitions = 0;
    std::uint64_t events_published = 0; ///< md_events handed to the ring.
    std::uint64_t ring_full = 0;        ///< md_events dropped because the ring was full.
    std::uint64_t synced_symbols = 0;   ///< Books currently synced (gauge).
    std::uint64_t open_connections = 0; ///< Stream connections currently open (gauge).
    /// Stream messages that came with the kernel's receive time (SO_TIMESTAMPING).
    std::uint64_t kernel_stamped = 0;
    /// The kernel -> read hop of those messages (the kernel took the bytes -> their read
    /// completed), since start(); refreshed about once a second, the other counters every
    /// housekeeping period.
    core::latency_summary kernel_to_read{};
    /// Bytes the books' tables hold on the heap, all symbols together (md::order_book::
    /// memory_bytes); refreshed with kernel_to_read.
    std::uint64_t book_memory_bytes = 0;
};

enum class service_error : std::uint8_t {
    none,
    already_started,
    no_symbols,
    instruments,    ///< exchangeInfo could not be loaded (REST failed, no cache).
    unknown_symbol, ///< exchangeInfo lacks a configured symbol (or its filters are invalid).
    pinning,        ///< The md thread could not be pinned to config.cpu.
    feed,           ///< A stream set could not be started (bad URL, TLS setup).
    stopped,        ///< stop() was called during start-up.
};

[[nodiscard]] std::string_view describe(service_error error) noexcept;

class market_data_service {
public:
    /// ring must outlive the service; the core thread is its only consumer.
    market_data_service(service_config config, md_ring& ring);
    /// Stops the md thread if it runs.
    ~market_data_service();
    market_data_service(const market_data_service&) = delete;
    market_data_service& operator=(const market_data_service&) = delete;

    /// Starts the md thread and returns once the symbols are registered and the feeds are
    /// connecting (or on failure, with the thread gone). Blocks for up to the exchangeInfo
    /// timeout.
    [[nodiscard]] core::result<bool, service_error> start();
    /// Closes the connections and joins the md thread. Idempotent.
    void stop();
    [[nodiscard]] bool running() const noexcept;

    /// Symbol ids of the events: config.subscription.symbols in order. Valid after a successful
    /// start() and immutable from then on, so any thread may read it.
    [[nodiscard]] const md::symbol_registry& registry() const noexcept;
    /// Where the symbol filters came from (after a successful start()).
    [[nodiscard]] instruments_source instruments_origin() const noexcept;
    /// Latest published counters. Any thread.
    [[nodiscard]] service_stats stats() const noexcept;

    /// Runs fn on the md thread with the feed handler (e.g. to inspect a full book) and waits
    /// for it, at most timeout_ms. Returns false when the service is not running or timed out.
    /// Control path only: allocates and blocks.
    bool inspect(const std::function<void(const md::feed_handler&)>& fn,
                 std::int64_t timeout_ms = 5'000);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace quoter::live
