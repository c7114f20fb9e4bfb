// Client WebSocket connections over Beast: one implementation, instantiated for plain TCP and
// for TLS.
#include "ws_connection.hpp"

#include "rx_socket.hpp"
#include "tls_context.hpp"

#include "quoter/core/clock.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

namespace quoter::net::detail {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

enum class phase : std::uint8_t { idle, resolving, connecting, tls_handshake, ws_handshake, open };

bool is_remote_close(const error_code& ec) {
    return ec == websocket::error::closed || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::ssl::error::stream_truncated;
}

/// A text waiting to be written, with its on_written tag (0: none).
struct write_slot {
    std::string text;
    std::uint64_t tag = 0;
};

/// FIFO of texts to write over slots that are reused, so that queueing a text copies it into
/// capacity already there. Loop thread only.
class write_ring {
public:
    write_ring() : slots_(initial_slots) {
        for (write_slot& slot : slots_) {
            slot.text.reserve(initial_bytes);
        }
    }

    void push(std::string_view text, std::uint64_t tag) {
        if (count_ == slots_.size()) {
            grow();
        }
        write_slot& slot = slots_[(head_ + count_) % slots_.size()];
        slot.text.assign(text.data(), text.size());
        slot.tag = tag;
        ++count_;
    }
    [[nodiscard]] const write_slot& front() const noexcept { return slots_[head_]; }
    void pop() noexcept {
        head_ = (head_ + 1) % slots_.size();
        --count_;
    }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    void clear() noexcept {
        head_ = 0;
        count_ = 0;
    }

private:
    static constexpr std::size_t initial_slots = 64;
    static constexpr std::size_t initial_bytes = 2048; ///< Above any signed order request.

    /// More texts wait than there are slots (a stalled socket): twice the slots, order kept.
    /// The text being written keeps its bytes where they are: a moved string hands over its heap
    /// buffer, and every slot's text is on the heap (its reserved capacity is beyond the
    /// small-string buffer).
    void grow() {
        std::vector<write_slot> bigger(slots_.size() * 2);
        for (std::size_t i = 0; i < count_; ++i) {
            bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
        }
        for (std::size_t i = count_; i < bigger.size(); ++i) {
            bigger[i].text.reserve(initial_bytes);
        }
        slots_ = std::move(bigger);
        head_ = 0;
    }

    std::vector<write_slot> slots_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

template <bool Secure> class basic_ws_connection final : public ws_connection {
    // Reads go through rx_socket, which also returns the kernel's receive time of the bytes.
    using next_layer = std::conditional_t<Secure, beast::ssl_stream<rx_socket>, rx_socket>;

public:
    basic_ws_connection(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls, url endpoint,
                        ws_connection_options options, ws_listener* listener)
        : ws_connection(listener), tls_(std::move(tls)), ws_(make_stream(io, tls_.get())),
          resolver_(io), deadline_(io), close_timer_(io), endpoint_(std::move(endpoint)),
          options_(std::move(options)) {}

    void start() override {
        status.started_ns = core::wall_clock{}.now();
        deadline_.expires_after(std::chrono::milliseconds(options_.connect_timeout_ms));
        deadline_.async_wait([self = shared(), this](error_code ec) {
            if (!ec && !finished_ && phase_ != phase::open) {
                timed_out_ = true;
                shut_socket();
            }
        });

        error_code ec;
        const auto address = asio::ip::make_address(endpoint_.host, ec);
        if (!ec) {
            phase_ = phase::connecting;
            const std::array<tcp::endpoint, 1> endpoints{tcp::endpoint(address, endpoint_.port)};
            asio::async_connect(socket(), endpoints,
                                [self = shared(), this](error_code error, const tcp::endpoint&) {
                                    on_connect(error);
                                });
            return;
        }
        phase_ = phase::resolving;
        resolver_.async_resolve(
            endpoint_.host, std::to_string(endpoint_.port),
            [self = shared(), this](error_code error, const tcp::resolver::results_type& results) {
                on_resolve(error, results);
            });
    }

    void send_text(std::string_view text, std::uint64_t tag) override {
        if (finished_ || closing_) {
            return;
        }
        write_queue_.push(text, tag);
        if (phase_ == phase::open && !writing_) {
            do_write();
        }
    }

    void close(close_reason reason) override {
        if (finished_ || closing_) {
            return;
        }
        closing_ = true;
        reason_ = reason;
        if (phase_ != phase::open) {
            shut_socket();
            return;
        }
        close_timer_.expires_after(std::chrono::milliseconds(options_.close_timeout_ms));
        close_timer_.async_wait([self = shared(), this](error_code ec) {
            if (!ec && !finished_) {
                shut_socket();
            }
        });
        if (delivering_) {
            close_deferred_ = true; // on_read starts the next read first
        } else if (!writing_) {
            do_close();
        }
        // Otherwise do_close runs when the write in flight completes (one write at a time).
    }

    void abort(close_reason reason) override {
        if (finished_) {
            return;
        }
        if (!closing_) {
            closing_ = true;
            reason_ = reason;
        }
        shut_socket();
    }

    [[nodiscard]] bool is_open() const noexcept override {
        return phase_ == phase::open && !finished_ && !closing_;
    }

private:
    static websocket::stream<next_layer> make_stream(asio::io_context& io,
                                                     asio::ssl::context* tls) {
        if constexpr (Secure) {
            return websocket::stream<next_layer>(io, *tls);
        } else {
            (void)tls;
            return websocket::stream<next_layer>(io);
        }
    }

    std::shared_ptr<basic_ws_connection> shared() {
        return std::static_pointer_cast<basic_ws_connection>(shared_from_this());
    }

    tcp::socket& socket() noexcept { return beast::get_lowest_layer(ws_); }

    rx_socket& rx() noexcept {
        if constexpr (Secure) {
            return ws_.next_layer().next_layer();
        } else {
            return ws_.next_layer();
        }
    }

    void shut_socket() {
        error_code ignored;
        resolver_.cancel();
        socket().shutdown(tcp::socket::shutdown_both, ignored);
        socket().close(ignored);
    }

    void on_resolve(const error_code& ec, const tcp::resolver::results_type& results) {
        if (ec) {
            fail(close_reason::resolve_failed, ec.message());
            return;
        }
        phase_ = phase::connecting;
        asio::async_connect(
            socket(), results,
            [self = shared(), this](error_code error, const tcp::endpoint&) { on_connect(error); });
    }

    void on_connect(const error_code& ec) {
        if (ec) {
            fail(close_reason::connect_failed, ec.message());
            return;
        }
        error_code ignored;
        socket().set_option(tcp::no_delay(true), ignored);
        status.kernel_stamps = rx().enable_rx_timestamps();
        if constexpr (Secure) {
            if (!configure_client_session(ws_.next_layer().native_handle(), endpoint_)) {
                fail(close_reason::tls_failed, "cannot set the expected server name");
                return;
            }
            phase_ = phase::tls_handshake;
            ws_.next_layer().async_handshake(
                asio::ssl::stream_base::client,
                [self = shared(), this](error_code error) { on_tls_handshake(error); });
        } else {
            start_ws_handshake();
        }
    }

    void on_tls_handshake(const error_code& ec) {
        if (ec) {
            if constexpr (Secure) {
                fail(close_reason::tls_failed,
                     describe_tls_failure(ws_.next_layer().native_handle(), ec));
            } else {
                fail(close_reason::tls_failed, ec.message());
            }
            return;
        }
        start_ws_handshake();
    }

    void start_ws_handshake() {
        phase_ = phase::ws_handshake;
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = std::chrono::milliseconds(options_.connect_timeout_ms);
        if (options_.idle_timeout_ms > 0) {
            timeouts.idle_timeout = std::chrono::milliseconds(options_.idle_timeout_ms);
            timeouts.keep_alive_pings = true;
        } else {
            timeouts.idle_timeout = websocket::stream_base::none();
            timeouts.keep_alive_pings = false;
        }
        ws_.set_option(timeouts);
        websocket::permessage_deflate deflate;
        deflate.client_enable = false;
        deflate.server_enable = false;
        ws_.set_option(deflate);
        ws_.set_option(websocket::stream_base::decorator(
            [agent = options_.user_agent](websocket::request_type& request) {
                request.set(boost::beast::http::field::user_agent, agent);
            }));
        ws_.read_message_max(options_.max_message_bytes);
        ws_.auto_fragment(false);
        ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
            if (kind == websocket::frame_type::ping && listener_ != nullptr && !finished_) {
                listener_->on_ping(*this);
            }
        });
        ws_.async_handshake(endpoint_.host_header(), options_.target,
                            [self = shared(), this](error_code error) { on_ws_handshake(error); });
    }

    void on_ws_handshake(const error_code& ec) {
        if (ec) {
            fail(close_reason::handshake_failed, ec.message());
            return;
        }
        deadline_.cancel();
        phase_ = phase::open;
        status.opened_ns = core::wall_clock{}.now();
        realtime_offset::process().calibrate();
        ws_.text(true);
        start_read();
        if (listener_ != nullptr) {
            listener_->on_open(*this);
        }
        if (!writing_ && !write_queue_.empty() && !closing_) {
            do_write();
        }
    }

    void start_read() {
        beast::flat_buffer& buffer = buffers_[current_];
        buffer.clear();
        ws_.async_read(buffer,
                       [self = shared(), this](error_code ec, std::size_t) { on_read(ec); });
    }

    void on_read(const error_code& ec) {
        if (ec) {
            if (closing_) {
                fail(reason_, ec == websocket::error::closed ? "" : ec.message());
            } else if (is_remote_close(ec)) {
                std::string detail = ec.message();
                if (ec == websocket::error::closed) {
                    detail = "close frame, code " + std::to_string(ws_.reason().code);
                    if (!ws_.reason().reason.empty()) {
                        detail += ": " + std::string(ws_.reason().reason.c_str());
                    }
                }
                fail(close_reason::remote_closed, detail);
            } else if (ec == beast::error::timeout) {
                fail(close_reason::idle_timed_out,
                     "nothing for " + std::to_string(options_.idle_timeout_ms) + " ms");
            } else {
                fail(close_reason::io_error, ec.message());
            }
            return;
        }
        const core::timestamp_ns read_ns = core::tsc_clock::process().now();
        const core::timestamp_ns local_ns = core::wall_clock{}.now();
        const bool binary = ws_.got_binary();
        beast::flat_buffer& done = buffers_[current_];
        current_ ^= 1U;

        const auto padding = done.prepare(receive_padding);
        std::memset(padding.data(), 0, padding.size());
        const auto bytes = done.data();
        status.last_message_ns = local_ns;
        status.last_read_ns = read_ns;
        // One connection's bytes arrive in order, so their receive times never decrease: an
        // earlier one can only come from a recalibrated realtime offset, and the previous stands.
        // The socket's receive of the bytes that completed this message (tsc): before read_ns
        // by the WebSocket (and TLS) unframing and by the messages of the same read handled
        // first.
        status.last_received_ns = std::min(rx().last_read_ns(), read_ns);
        const core::timestamp_ns kernel_ns =
            kernel_rx_on_tsc(rx().last_kernel_rx_ns(), status.last_received_ns);
        status.last_kernel_ns =
            kernel_ns != 0 && kernel_ns < status.last_kernel_ns ? status.last_kernel_ns : kernel_ns;
        ++status.messages;
        // The message is handed on before the next read starts: starting it first put a
        // recvmsg (mostly EAGAIN) or the unframing of the next buffered message between this
        // message's read and its decode. A close asked for meanwhile waits for that read, so
        // the read loop still reports the end.
        delivering_ = true;
        if (listener_ != nullptr) {
            listener_->on_message(
                *this, std::string_view(static_cast<const char*>(bytes.data()), bytes.size()),
                local_ns, binary);
        }
        delivering_ = false;
        if (finished_) {
            return;
        }
        start_read();
        if (close_deferred_) {
            close_deferred_ = false;
            if (!writing_) {
                do_close();
            }
        }
    }

    void do_write() {
        writing_ = true;
        const write_slot& next = write_queue_.front();
        ws_.async_write(asio::buffer(next.text),
                        [self = shared(), this](error_code ec, std::size_t) { on_write(ec); });
        // The write was initiated: on an idle socket the frame went to send() inside the call.
        if (next.tag != 0 && listener_ != nullptr) {
            listener_->on_written(*this, next.tag, core::tsc_clock::process().now());
        }
    }

    void on_write(const error_code& ec) {
        writing_ = false;
        if (!write_queue_.empty()) {
            write_queue_.pop();
        }
        if (ec) {
            if (!closing_) {
                closing_ = true;
                reason_ =
                    is_remote_close(ec) ? close_reason::remote_closed : close_reason::io_error;
            }
            shut_socket(); // the read loop reports it
            return;
        }
        if (closing_) {
            if (!finished_) {
                do_close();
            }
            return;
        }
        if (!write_queue_.empty()) {
            do_write();
        }
    }

    void do_close() {
        write_queue_.clear();
        ws_.async_close(websocket::close_code::normal, [self = shared(), this](error_code ec) {
            if (ec) {
                shut_socket(); // the read loop reports it
            }
        });
    }

    void fail(close_reason reason, std::string_view detail) {
        if (finished_) {
            return;
        }
        finished_ = true;
        if (closing_) {
            reason = reason_;
        } else if (timed_out_ && phase_ != phase::open) {
            reason = close_reason::timed_out;
            detail = "connect timeout";
        }
        error_code ignored;
        deadline_.cancel();
        close_timer_.cancel();
        resolver_.cancel();
        socket().close(ignored);
        write_queue_.clear();
        if (listener_ != nullptr) {
            ws_listener* const listener = listener_;
            listener_ = nullptr;
            listener->on_closed(*this, reason, detail);
        }
    }

    std::shared_ptr<asio::ssl::context> tls_;
    websocket::stream<next_layer> ws_;
    tcp::resolver resolver_;
    asio::steady_timer deadline_;
    asio::steady_timer close_timer_;
    url endpoint_;
    ws_connection_options options_;
    std::array<beast::flat_buffer, 2> buffers_;
    unsigned current_ = 0;
    write_ring write_queue_;
    phase phase_ = phase::idle;
    close_reason reason_ = close_reason::none;
    bool writing_ = false;
    bool closing_ = false;
    bool finished_ = false;
    bool delivering_ = false;     ///< on_read is handing a message to the listener.
    bool close_deferred_ = false; ///< close() came during delivery: do_close after the read.
    bool timed_out_ = false;
};

} // namespace

std::shared_ptr<ws_connection> make_ws_connection(asio::io_context& io,
                                                  std::shared_ptr<asio::ssl::context> tls,
                                                  url endpoint, ws_connection_options options,
                                                  ws_listener* listener) {
    if (tls) {
        return std::make_shared<basic_ws_connection<true>>(io, std::move(tls), std::move(endpoint),
                                                           std::move(options), listener);
    }
    return std::make_shared<basic_ws_connection<false>>(io, nullptr, std::move(endpoint),
                                                        std::move(options), listener);
}

} // namespace quoter::net::detail
