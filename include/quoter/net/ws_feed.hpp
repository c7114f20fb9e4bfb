// ws_feed: market-data WebSocket connections to Binance (or the local venue) with their whole
// lifecycle. It hands every received message, untouched, to the caller together with the local
// receive time; decoding and book logic live in md/.
//
// Streams and connections. The configured streams are cut, in order, into slots of at most
// streams_per_connection streams; each slot is served by one connection (two during a
// rollover) at base_url + "/stream?streams=a/b/c" (combined: every message carries its stream
// name) or base_url + "/ws/a/b/c" (raw payloads). Binance allows 1,024 streams per connection
// and a URL of a few KB; 200 per connection is a conservative default.
//
// Transport. TLS with peer and host-name verification and SNI (see tls.hpp), TCP_NODELAY, no
// permessage-deflate, one read always outstanding so the server's pings are answered at once
// (Binance spot pings every 20 s and drops a connection that has not answered within a minute;
// futures ping every 3 min and wait 10 min), one write at a time through a queue. The client
// sends at most the messages the caller sends: Binance caps those at 5/s (spot) and 10/s
// (futures) per connection.
//
// Lifecycle.
// - Reconnect: a slot whose connection failed or closed reconnects after backoff (exponential,
//   with jitter; backoff.hpp), and all attempts of the feed pass an attempt_limiter so that a
//   storm stays within Binance's 300 connection attempts per 5 minutes per IP.
// - Stale: a connection that delivered no message for stale_after_ms is reported `stale`
//   (quoting should pause); the next message reports it `live` again. After
//   reconnect_after_stale_ms of silence it is replaced.
// - Rollover (make-before-break): before the 24-hour limit (max_connection_age_ms), on a
//   `serverShutdown` event, or on request, a replacement connection for the same streams is
//   opened while the old one keeps delivering. Once the replacement delivered its first message
//   (or after a bounded wait) the old one is closed rollover_overlap_ms later. During the
//   overlap the same events arrive on both connections: the caller deduplicates by exchange
//   update id (depth `u`, bookTicker `u`, trade `t`), dropping what it has already applied.
//   ws_message::connection_id tells the connections apart.
//
// Threading: construct, call and destroy on the io_loop's thread (or before it runs). Callbacks
// run on that thread. Do not destroy the feed from inside its own callbacks.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/core/time.hpp"
#include "quoter/net/backoff.hpp"
#include "quoter/net/io_loop.hpp"
#include "quoter/net/tls.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::net {

/// Bytes readable past the end of every delivered payload (simdjson needs 64).
inline constexpr std::size_t receive_padding = 64;

enum class stream_path : std::uint8_t {
    combined, ///< /stream?streams=a/b/c; messages are {"stream":...,"data":...} envelopes.
    raw,      ///< /ws/a/b/c; bare payloads, so use one stream per slot to tell them apart.
};

struct feed_config {
    /// "wss://stream.binance.com:9443"; may carry a path prefix ("wss://host/public").
    std::string base_url = "wss://stream.binance.com:9443";
    /// Stream names as Binance spells them: "btcusdt@depth@100ms", "btcusdt@bookTicker".
    std::vector<std::string> streams;
    stream_path path = stream_path::combined;
    /// Streams per connection; more streams open more connections.
    std::size_t streams_per_connection = 200;
    tls_config tls;

    /// Bound on resolve + TCP connect + TLS handshake + WebSocket handshake.
    std::int64_t connect_timeout_ms = 10'000;
    /// Bound on a graceful close (WebSocket close handshake and TLS shutdown).
    std::int64_t close_timeout_ms = 2'000;
    /// No message for this long reports the connection `stale`.
    std::int64_t stale_after_ms = 5'000;
    /// No message for this long replaces the connection; 0 never does.
    std::int64_t reconnect_after_stale_ms = 60'000;
    /// Age at which a connection is rolled over; Binance disconnects at 24 h.
    std::int64_t max_connection_age_ms = 23 * 3'600'000LL + 30 * 60'000LL;
    /// How long old and new connection both deliver before the old one is closed.
    std::int64_t rollover_overlap_ms = 2'000;
    /// Roll over when a message containing "serverShutdown" arrives (checked on messages of at
    /// most 512 bytes, which every such event is).
    bool rollover_on_server_shutdown = true;

    backoff_config backoff;
    connect_limit_config connect_limit;
    /// Seed for the backoff jitter; 0 picks a random one.
    std::uint64_t jitter_seed = 0;

    /// Larger messages fail the connection (Binance messages are at most a few hundred KB).
    std::size_t max_message_bytes = 16u << 20;
    /// User-Agent header of the WebSocket handshake.
    std::string user_agent = "quoter";
};

/// One received WebSocket message.
struct ws_message {
    /// The message bytes; readable (zero-filled) for receive_padding bytes past the end. Valid
    /// only during the callback.
    std::string_view payload;
    /// Wall-clock time at which the read completed, ns since the Unix epoch.
    core::timestamp_ns local_ns = 0;
    /// The same moment on core::tsc_clock::process() (ns on steady_clock's time line), the clock
    /// every hop of the tick-to-order path is stamped on.
    core::timestamp_ns read_ns = 0;
    /// When the kernel received the message's last bytes (SO_TIMESTAMPING software receive
    /// stamp, CLOCK_REALTIME, converted onto the same clock as read_ns; never after read_ns):
    /// the start of the kernel -> read hop. 0 where the kernel gives no stamp.
    core::timestamp_ns kernel_ns = 0;
    /// When the socket read (recvmsg) that brought the message's last bytes returned, on the
    /// same clock as read_ns, never after it. received_ns -> read_ns is the WebSocket (and TLS)
    /// unframing and the wait behind earlier messages of the same read; kernel_ns ->
    /// received_ns the I/O thread's wake-up and the read itself. 0 where not stamped.
    core::timestamp_ns received_ns = 0;
    /// Physical connection it came from: unique per feed, never reused.
    std::uint64_t connection_id = 0;
    /// Index of the slot (group of streams) it belongs to.
    std::uint32_t slot = 0;
    bool binary = false;

    /// Bytes readable from payload.data(): what simdjson's padded_string_view wants.
    [[nodiscard]] std::size_t padded_size() const noexcept {
        return payload.size() + receive_padding;
    }
};

enum class connection_state : std::uint8_t {
    connecting,   ///< Attempt started (resolve, TCP, TLS, WebSocket handshake).
    open,         ///< Handshakes done; messages may flow.
    live,         ///< First message after open or after being stale.
    stale,        ///< No message for stale_after_ms.
    rolling_over, ///< A replacement for this connection is being opened.
    closed,       ///< Gone; retry_in_ms says whether and when the slot reconnects.
};

enum class close_reason : std::uint8_t {
    none,
    resolve_failed,   ///< Host name did not resolve.
    connect_failed,   ///< TCP connect refused or unreachable.
    tls_failed,       ///< TLS handshake failed, including certificate verification.
    handshake_failed, ///< WebSocket upgrade rejected or malformed.
    timed_out,        ///< connect_timeout_ms or close_timeout_ms elapsed.
    remote_closed,    ///< The server closed the connection (close frame, FIN or reset).
    io_error,         ///< Any other transport error, including oversized messages.
    stale,            ///< Replaced after reconnect_after_stale_ms without messages.
    idle_timed_out,   ///< Nothing received, not even a pong to a ping, within the idle timeout.
    rolled_over,      ///< Closed on purpose after its replacement took over.
    stopped,          ///< stop() or the feed's destruction.
    dropped,          ///< reconnect() was called.
};

[[nodiscard]] std::string_view describe(connection_state state) noexcept;
[[nodiscard]] std::string_view describe(close_reason reason) noexcept;

/// A change of a connection's state.
struct connection_event {
    std::uint32_t slot = 0;
    std::uint64_t connection_id = 0;
    connection_state state = connection_state::connecting;
    close_reason reason = close_reason::none; ///< For closed.
    core::timestamp_ns at_ns = 0;             ///< Wall clock.
    /// Attempt number of the slot since it was last healthy (connecting, closed).
    unsigned attempt = 0;
    /// For closed: ms until the slot's next attempt, or -1 when none follows (stopped,
    /// rolled over, or the replacement already runs).
    std::int64_t retry_in_ms = -1;
    /// Error text for closed (e.g. "certificate verify failed"); valid during the callback.
    std::string_view detail;
};

/// Counters since construction, read from the loop's thread.
struct feed_stats {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::uint64_t connect_attempts = 0;
    std::uint64_t opens = 0;
    std::uint64_t closes = 0;
    std::uint64_t rollovers = 0;        ///< Replacement connections started.
    std::uint64_t server_shutdowns = 0; ///< serverShutdown events seen.
    std::uint64_t stale_events = 0;
    std::uint64_t pings_received = 0; ///< Server pings (each answered with a pong).
    /// Messages that came with the kernel's receive time (ws_message::kernel_ns != 0).
    std::uint64_t kernel_stamped = 0;
};

struct feed_handlers {
    /// Every message of every connection. Hot path: keep it cheap.
    std::function<void(const ws_message&)> on_message;
    /// Connection state changes; optional.
    std::function<void(const connection_event&)> on_event;
};

enum class feed_error : std::uint8_t {
    none,
    bad_url, ///< base_url does not parse or is not ws/wss.
    no_streams,
    tls_setup, ///< The CA store or extra_ca_file could not be loaded.
    already_started,
};

[[nodiscard]] std::string_view describe(feed_error error) noexcept;

class ws_feed {
public:
    /// The loop must outlive the feed.
    ws_feed(io_loop& loop, feed_config config, feed_handlers handlers);
    ~ws_feed();
    ws_feed(const ws_feed&) = delete;
    ws_feed& operator=(const ws_feed&) = delete;

    /// Validates the configuration and starts connecting every slot. Returns the slot count.
    [[nodiscard]] core::result<std::size_t, feed_error> start();
    /// Closes every connection gracefully; no reconnects follow. Idempotent.
    void stop();

    /// Starts a make-before-break rollover of a slot (as on serverShutdown). Returns false if the
    /// slot has no open connection or a rollover is already under way.
    bool request_rollover(std::size_t slot);
    /// Drops a slot's connections at once and reconnects with backoff (break-before-make).
    void reconnect(std::size_t slot);
    /// Queues a text frame (e.g. a SUBSCRIBE request) on the slot's current connection. Returns
    /// false when the slot has no open connection.
    bool send_text(std::size_t slot, std::string text);

    [[nodiscard]] std::size_t slot_count() const noexcept;
    /// Streams of a slot, in configuration order.
    [[nodiscard]] const std::vector<std::string>& slot_streams(std::size_t slot) const;
    /// Number of connections currently open (two per slot during a rollover).
    [[nodiscard]] std::size_t open_connections() const noexcept;
    [[nodiscard]] const feed_stats& stats() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace quoter::net
