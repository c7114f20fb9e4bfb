// ws_connection: one client WebSocket connection (plain or TLS) through its whole life: resolve,
// TCP connect (TCP_NODELAY), TLS handshake with verification, WebSocket upgrade, then a read
// loop that always keeps a read outstanding and a write queue with one write in flight.
//
// Invariants: until the connection finishes exactly one operation of the set-up chain or the
// read loop is outstanding, so closing the socket always ends in exactly one on_closed call.
// Received bytes alternate between two buffers: the next read is started into one before the
// other is handed to the listener, so control frames (pings) keep being served, and the handed
// out bytes stay intact for the whole callback. Callbacks stop for good after detach().
//
// Sending allocates nothing once warmed up: a text is copied into one of a fixed ring of write
// slots whose strings keep their capacity (a slot grows only for a longer text than it held, and
// the ring doubles only when more texts wait than it has slots).
#pragma once

#include "quoter/core/time.hpp"
#include "quoter/net/url.hpp"
#include "quoter/net/ws_feed.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace quoter::net::detail {

class ws_connection;

/// Receives a connection's events, on the io_context's thread.
class ws_listener {
public:
    virtual void on_open(ws_connection& connection) = 0;
    /// payload is readable for receive_padding bytes past its end (zero-filled).
    virtual void on_message(ws_connection& connection, std::string_view payload,
                            core::timestamp_ns local_ns, bool binary) = 0;
    virtual void on_ping(ws_connection& connection) = 0;
    /// A text sent with a non-zero tag was handed to the socket: the WebSocket write of its
    /// frame was started (on an idle socket that includes the send system call; behind another
    /// write, it starts when that one completed). at is on core::tsc_clock::process().
    virtual void on_written(ws_connection& /*connection*/, std::uint64_t /*tag*/,
                            core::timestamp_ns /*at*/) {}
    /// Called exactly once per started connection, unless detached first.
    virtual void on_closed(ws_connection& connection, close_reason reason,
                           std::string_view detail) = 0;

protected:
    ~ws_listener() = default;
};

struct ws_connection_options {
    std::string target; ///< Request target: "/stream?streams=a/b".
    std::int64_t connect_timeout_ms = 10'000;
    std::int64_t close_timeout_ms = 2'000;
    std::size_t max_message_bytes = 16u << 20;
    /// Nothing received for this long, not even a pong to the ping sent after half of it,
    /// closes the connection (close_reason::idle_timed_out): a half-open TCP connection says
    /// nothing by itself. 0: never.
    std::int64_t idle_timeout_ms = 0;
    std::string user_agent = "quoter";
};

/// Bookkeeping the owner reads; written by the connection on the loop's thread.
struct ws_connection_status {
    std::uint64_t id = 0;
    std::uint32_t slot = 0;
    core::timestamp_ns started_ns = 0;
    core::timestamp_ns opened_ns = 0;       ///< 0 until the handshakes completed.
    core::timestamp_ns last_message_ns = 0; ///< 0 until the first message.
    /// When the last message's read completed on core::tsc_clock::process() (ns, steady_clock's
    /// time line): the first stamp of the tick-to-order path. 0 until the first message.
    core::timestamp_ns last_read_ns = 0;
    /// When the kernel received the last bytes of the last message (SO_TIMESTAMPING, converted
    /// onto core::tsc_clock::process(), never after last_read_ns); 0 when the kernel gave none.
    core::timestamp_ns last_kernel_ns = 0;
    /// When the socket read that brought the last message's final bytes returned (recvmsg, on
    /// core::tsc_clock::process(); never after last_read_ns). Between the two: the WebSocket
    /// (and TLS) unframing and the wait behind earlier messages of the same read.
    core::timestamp_ns last_received_ns = 0;
    std::uint64_t messages = 0;
    /// The kernel took SO_TIMESTAMPING on this connection's socket.
    bool kernel_stamps = false;
    bool stale = false; ///< Maintained by the owner.
};

class ws_connection : public std::enable_shared_from_this<ws_connection> {
public:
    virtual ~ws_connection() = default;

    /// Starts resolving and connecting.
    virtual void start() = 0;
    /// Queues a copy of text as a text frame; dropped when the connection is closing or closed.
    /// A non-zero tag is handed back to the listener's on_written when the frame's write
    /// starts.
    virtual void send_text(std::string_view text, std::uint64_t tag = 0) = 0;
    /// Graceful close (close frame, TLS shutdown) bounded by close_timeout_ms; on_closed then
    /// reports `reason`.
    virtual void close(close_reason reason) = 0;
    /// Closes the socket at once; on_closed then reports `reason`.
    virtual void abort(close_reason reason) = 0;
    [[nodiscard]] virtual bool is_open() const noexcept = 0;

    /// No callback reaches the listener after this.
    void detach() noexcept { listener_ = nullptr; }

    ws_connection_status status;

protected:
    explicit ws_connection(ws_listener* listener) : listener_(listener) {}
    ws_listener* listener_;
};

/// A plain connection when tls is null, else a TLS one using that (verifying) context.
[[nodiscard]] std::shared_ptr<ws_connection>
make_ws_connection(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls,
                   url endpoint, ws_connection_options options, ws_listener* listener);

} // namespace quoter::net::detail
