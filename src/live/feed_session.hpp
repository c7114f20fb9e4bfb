// feed_session: the transport side of one md thread, shared by market_data_service and the
// recorder. It drives an md::feed_handler from net::ws_feed connections and REST depth
// snapshots on one io_loop:
//   - a book symbol is "connected" while at least one connection of the slot carrying its depth
//     stream is open, so a rollover's replacement (opened before the old connection closes)
//     never disconnects the book;
//   - snapshots are requested when book_sync says they are due (its backoff included), at most
//     max_snapshots_in_flight at a time;
//   - duplicates (the same event on two connections during a rollover overlap) are recognised by
//     update id per symbol and stream kind.
//
// Threading: the loop's thread only. Not a hot-path object except on_ws_message().
#pragma once

#include "quoter/core/clock.hpp"
#include "quoter/core/latency_histogram.hpp"
#include "quoter/live/market_data_service.hpp"
#include "quoter/live/subscription.hpp"
#include "quoter/md/feed_handler.hpp"
#include "quoter/net/io_loop.hpp"
#include "quoter/net/rest_client.hpp"
#include "quoter/net/ws_feed.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::live::detail {

/// Highest update ids seen per symbol: a message at or below them is a duplicate.
class duplicate_filter {
public:
    explicit duplicate_filter(std::size_t symbols) : last_(symbols) {}
    /// True when the message repeats one already seen; otherwise records its ids.
    [[nodiscard]] bool check(const md::decoded_message& message) noexcept;

private:
    struct ids {
        std::uint64_t depth = 0;
        std::uint64_t ticker = 0;
        std::int64_t trade = -1;
    };
    std::vector<ids> last_;
};

struct session_counters {
    std::uint64_t messages = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t reconnects = 0;
    std::uint64_t snapshots_requested = 0;
    std::uint64_t snapshots_failed = 0;
    std::uint64_t server_shutdowns = 0;
};

/// The md-thread stamps of the stream message being handled (tsc clock ns, 0: none).
struct frame_stamps {
    core::timestamp_ns kernel_ns = 0;   ///< The kernel received its last bytes.
    core::timestamp_ns received_ns = 0; ///< The socket read of those bytes returned.
    core::timestamp_ns read_ns = 0;     ///< Its read completed (handed to the feed).
};

struct session_hooks {
    /// After the handler processed a stream message.
    std::function<void(const net::ws_message&, const md::decoded_message&, bool duplicate)>
        on_message;
    /// Before the handler gets a successful snapshot body; applied_ns is the local time the
    /// handler is given for it (when the answer is handled, so never before a message that was
    /// handled earlier).
    std::function<void(md::symbol_id, const net::rest_response&, core::timestamp_ns applied_ns)>
        on_snapshot;
    /// After every housekeeping pass (stats publication).
    std::function<void(core::timestamp_ns)> on_housekeeping;
    /// Log line (connection changes, malformed samples).
    std::function<void(std::string_view)> log;
    /// When set, holds the stamps of the stream message being handled while the handler runs
    /// (net::ws_message's kernel_ns, received_ns and read_ns), and zeros otherwise, so that an
    /// event sink can stamp the events a frame produces with the frame's times.
    frame_stamps* frame = nullptr;
    /// When set, gets the kernel -> read hop (read_ns - kernel_ns, ns) of every stream message
    /// that came with the kernel's receive time (net::ws_message::kernel_ns). md thread.
    core::latency_histogram* kernel_to_read = nullptr;
};

class feed_session {
public:
    /// registry, handler and loop must outlive the session.
    feed_session(net::io_loop& loop, const md::symbol_registry& registry,
                 md::feed_handler& handler, const subscription_config& subscription,
                 const session_config& config, session_hooks hooks);
    ~feed_session();
    feed_session(const feed_session&) = delete;
    feed_session& operator=(const feed_session&) = delete;

    /// Starts every stream set and the housekeeping timer.
    [[nodiscard]] core::result<bool, net::feed_error> start();
    /// Closes the connections (gracefully, bounded by the close timeout when the loop runs on)
    /// and stops the housekeeping. Books are left as they are.
    void stop();

    /// Housekeeping: stale checks, snapshot requests, malformed reports. Also run by the timer.
    void housekeeping(core::timestamp_ns now);

    [[nodiscard]] const session_counters& counters() const noexcept { return counters_; }
    [[nodiscard]] std::uint64_t rollovers() const noexcept;
    [[nodiscard]] std::size_t open_connections() const noexcept;

private:
    struct slot_state {
        std::vector<md::symbol_id> symbols; ///< Symbols whose depth stream the slot carries.
        std::vector<std::uint64_t> open;    ///< Ids of its open connections.
    };

    void on_ws_message(const net::ws_message& message);
    void on_book_event(const net::connection_event& event);
    void on_other_event(const net::connection_event& event);
    void request_snapshots(core::timestamp_ns now);
    void arm_timer();
    void log(std::string_view text) const;

    net::io_loop& loop_;
    const md::symbol_registry& registry_;
    md::feed_handler& handler_;
    subscription_config subscription_;
    session_config config_;
    session_hooks hooks_;
    net::rest_client rest_;
    std::vector<std::unique_ptr<net::ws_feed>> feeds_; ///< [0] carries the depth streams.
    std::vector<slot_state> slots_;
    std::vector<std::string> snapshot_targets_;
    std::size_t snapshots_in_flight_ = 0;
    duplicate_filter duplicates_;
    net::timer timer_;
    session_counters counters_;
    bool stopped_ = false;
};

} // namespace quoter::live::detail
