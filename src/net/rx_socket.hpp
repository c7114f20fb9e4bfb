// rx_socket: a TCP socket stream that Beast (plain WebSocket, and TLS over it) reads through,
// whose reads also return the kernel's receive time of the bytes, and the conversion of that
// time onto the tick-to-order clock. Private to net: only ws_connection.cpp includes it, so Asio
// and Beast stay out of the public headers.
//
// Kernel receive time. With SO_TIMESTAMPING (SOF_TIMESTAMPING_RX_SOFTWARE |
// SOF_TIMESTAMPING_SOFTWARE) the kernel stamps every received skb on CLOCK_REALTIME when the
// network stack takes it, and recvmsg hands the stamp of the last skb it consumed back in an
// SCM_TIMESTAMPING control message. Each read_some is therefore one recvmsg with a fixed control
// buffer: no second system call, no MSG_PEEK (which would race Beast for the bytes) and no
// SIOCGSTAMPNS (which TCP sockets do not keep). A read that brought no stamp (the option was
// refused, or the kernel attached none) leaves the stamp at 0, and the hop is not recorded.
//
// Reads. async_read_some first tries recvmsg with MSG_DONTWAIT; bytes, end of stream or an error
// complete through a post (a completion handler never runs inside its initiating call), and
// EAGAIN waits for readability (async_wait) and tries again. The io_context's reactor is
// edge-triggered: the wait is queued from the same thread right after recvmsg drained the
// socket, before the reactor runs again, so a later arrival always wakes it. Writes go straight
// to the socket. Handlers are allocated through Asio's per-thread recycling, so a warmed-up read
// allocates nothing.
//
// Clock domain. The stamp is CLOCK_REALTIME; tick stamps are on core::tsc_clock::process()
// (steady_clock's time line). realtime_offset holds realtime - tsc, measured off the hot path
// (at connection open and on the feed's watchdog, about once a second) as the narrowest of a few
// realtime readings bracketed by two TSC readings, so NTP slews and the TSC calibration's drift
// are followed. A converted stamp later than the read's own stamp (an offset error of a few tens
// of ns) is clamped to it: the kernel cannot have received bytes after they were read.
//
// Threading: an rx_socket belongs to its io_context's thread. realtime_offset is process-wide;
// any thread may calibrate or read it.
#pragma once

#include "quoter/core/clock.hpp"
#include "quoter/core/time.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <utility>

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace quoter::net::detail {

/// realtime - tsc_clock::process(), in ns: a CLOCK_REALTIME stamp minus it is on the tick clock.
class realtime_offset {
public:
    /// The process-wide offset, calibrated at the first call.
    [[nodiscard]] static realtime_offset& process() noexcept;

    /// Measures the offset again (about 8 clock reads). Off the hot path; any thread.
    void calibrate() noexcept;
    /// A CLOCK_REALTIME time on core::tsc_clock::process(). Any thread.
    [[nodiscard]] core::timestamp_ns to_tsc(core::timestamp_ns realtime_ns) const noexcept {
        return realtime_ns - offset_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] core::duration_ns offset() const noexcept {
        return offset_.load(std::memory_order_relaxed);
    }

private:
    realtime_offset() noexcept { calibrate(); }
    std::atomic<core::duration_ns> offset_{0};
};

/// The kernel receive time of a read's bytes on the tick clock, given the read's own stamp
/// (tsc): 0 when the kernel gave none, never later than read_ns.
[[nodiscard]] inline core::timestamp_ns kernel_rx_on_tsc(core::timestamp_ns kernel_realtime_ns,
                                                         core::timestamp_ns read_ns) noexcept {
    if (kernel_realtime_ns == 0) {
        return 0;
    }
    const core::timestamp_ns at = realtime_offset::process().to_tsc(kernel_realtime_ns);
    return at > read_ns ? read_ns : at;
}

class rx_socket {
public:
    using socket_type = boost::asio::ip::tcp::socket;
    using executor_type = socket_type::executor_type;
    using lowest_layer_type = socket_type::lowest_layer_type;

    explicit rx_socket(boost::asio::io_context& io) : socket_(io) {}

    [[nodiscard]] executor_type get_executor() noexcept { return socket_.get_executor(); }
    /// The TCP socket (beast::get_lowest_layer finds it through next_layer()).
    [[nodiscard]] socket_type& next_layer() noexcept { return socket_; }
    [[nodiscard]] lowest_layer_type& lowest_layer() noexcept { return socket_.lowest_layer(); }

    /// Asks the kernel for software receive stamps; call once connected. Returns whether the
    /// kernel took the option (reads stamp nothing otherwise).
    bool enable_rx_timestamps() noexcept {
        const int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
        stamping_ = ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_TIMESTAMPING, &flags,
                                 sizeof(flags)) == 0;
        return stamping_;
    }
    [[nodiscard]] bool rx_timestamps() const noexcept { return stamping_; }

    /// CLOCK_REALTIME ns at which the kernel received the last bytes of the last read that
    /// brought any; 0 when none carried a stamp.
    [[nodiscard]] core::timestamp_ns last_kernel_rx_ns() const noexcept { return last_rx_ns_; }
    /// When the last read that brought bytes returned, on core::tsc_clock::process() (ns).
    [[nodiscard]] core::timestamp_ns last_read_ns() const noexcept { return last_read_ns_; }
    /// Reads completed (with bytes) and how many of them carried a kernel stamp.
    [[nodiscard]] std::uint64_t reads() const noexcept { return reads_; }
    [[nodiscard]] std::uint64_t stamped_reads() const noexcept { return stamped_reads_; }

    template <class MutableBuffers, class Handler>
    auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
        return boost::asio::async_initiate<Handler, void(boost::system::error_code, std::size_t)>(
            [this](auto&& h, const MutableBuffers& b) {
                start_read(std::forward<decltype(h)>(h), b);
            },
            handler, buffers);
    }

    template <class ConstBuffers, class Handler>
    auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
        return socket_.async_write_some(buffers, std::forward<Handler>(handler));
    }

private:
    static constexpr std::size_t max_iov = 16;

    /// One recvmsg without blocking. Returns false on EAGAIN (nothing read, wait for more);
    /// otherwise ec and n say what happened (n == 0 without error: end of stream).
    template <class MutableBuffers>
    bool try_read(const MutableBuffers& buffers, boost::system::error_code& ec,
                  std::size_t& n) noexcept {
        iovec iov[max_iov];
        std::size_t count = 0;
        std::size_t total = 0;
        for (auto it = boost::asio::buffer_sequence_begin(buffers),
                  end = boost::asio::buffer_sequence_end(buffers);
             it != end && count < max_iov; ++it) {
            const boost::asio::mutable_buffer b(*it);
            if (b.size() == 0) {
                continue;
            }
            iov[count].iov_base = b.data();
            iov[count].iov_len = b.size();
            total += b.size();
            ++count;
        }
        ec = {};
        n = 0;
        if (total == 0) {
            return true; // a read of nothing completes at once, as Asio's does
        }
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(scm_timestamping))];
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = count;
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        ssize_t got = 0;
        do {
            got = ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT);
        } while (got < 0 && errno == EINTR);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return false;
            }
            ec.assign(errno, boost::asio::error::get_system_category());
            return true;
        }
        if (got == 0) {
            ec = boost::asio::error::eof;
            return true;
        }
        n = static_cast<std::size_t>(got);
        last_read_ns_ = core::tsc_clock::process().now();
        ++reads_;
        last_rx_ns_ = 0; // a read without a stamp must not keep an older one
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
                scm_timestamping stamps{};
                std::memcpy(&stamps, CMSG_DATA(c), sizeof(stamps));
                const timespec& sw = stamps.ts[0]; // software stamp; [2] is hardware
                if (sw.tv_sec != 0 || sw.tv_nsec != 0) {
                    last_rx_ns_ =
                        static_cast<core::timestamp_ns>(sw.tv_sec) * 1'000'000'000 + sw.tv_nsec;
                    ++stamped_reads_;
                }
            }
        }
        return true;
    }

    template <class Handler, class MutableBuffers>
    void start_read(Handler&& handler, const MutableBuffers& buffers) {
        boost::system::error_code ec;
        std::size_t n = 0;
        if (try_read(buffers, ec, n)) {
            boost::asio::post(socket_.get_executor(),
                              boost::beast::bind_handler(std::forward<Handler>(handler), ec, n));
            return;
        }
        wait_read(std::forward<Handler>(handler), buffers);
    }

    template <class Handler, class MutableBuffers>
    void wait_read(Handler&& handler, const MutableBuffers& buffers) {
        socket_.async_wait(socket_type::wait_read,
                           [this, h = std::forward<Handler>(handler),
                            buffers](const boost::system::error_code& wait_error) mutable {
                               if (wait_error) {
                                   std::move(h)(wait_error, std::size_t{0});
                                   return;
                               }
                               boost::system::error_code ec;
                               std::size_t n = 0;
                               if (try_read(buffers, ec, n)) {
                                   // Already inside a completion of this socket's executor:
                                   // complete here.
                                   std::move(h)(ec, n);
                                   return;
                               }
                               wait_read(std::move(h), buffers); // woken without bytes: wait again
                           });
    }

    socket_type socket_;
    core::timestamp_ns last_rx_ns_ = 0;
    core::timestamp_ns last_read_ns_ = 0;
    std::uint64_t reads_ = 0;
    std::uint64_t stamped_reads_ = 0;
    bool stamping_ = false;
};

// WebSocket closing over a plain rx_socket is the TCP socket's (found by argument-dependent
// lookup from Beast's close).
inline void teardown(boost::beast::role_type role, rx_socket& socket,
                     boost::system::error_code& ec) {
    boost::beast::websocket::teardown(role, socket.next_layer(), ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, rx_socket& socket, TeardownHandler&& handler) {
    boost::beast::websocket::async_teardown(role, socket.next_layer(),
                                            std::forward<TeardownHandler>(handler));
}

} // namespace quoter::net::detail
