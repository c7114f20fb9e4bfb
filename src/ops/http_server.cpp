// http_server: an acceptor and one session per connection on a private io_context, run by one
// thread. Every handler runs on that thread, so server state needs no lock; the counters other
// threads read are relaxed atomics.
//
// Invariants: a session has at most one operation in flight (a read, then a write, then the
// next read), its buffer never grows past max_header_bytes + max_body_bytes, and the stream's
// deadline is armed before every operation, so no connection lives past its deadlines.
#include "quoter/ops/http_server.hpp"
#include "quoter/core/clock.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "quoter/core/quoted_string.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <optional>
#include <thread>

#include <sys/resource.h>

namespace quoter::ops {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

/// Write requests carry no body we use; anything larger is refused.
constexpr std::uint64_t max_body_bytes = 1024;

using digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

digest sha256(std::string_view text) {
    digest out{};
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
    return out;
}

std::string json_error(std::string_view message) {
    std::string out = "{\"error\":";
    core::append_quoted(out, message);
    out += '}';
    return out;
}

} // namespace

bool is_ip_address(std::string_view address) {
    boost::system::error_code ec;
    (void)asio::ip::make_address(std::string(address), ec);
    return !ec;
}

bool is_loopback_address(std::string_view address) {
    boost::system::error_code ec;
    const asio::ip::address parsed = asio::ip::make_address(std::string(address), ec);
    if (ec) {
        return false;
    }
    if (parsed.is_v6() && parsed.to_v6().is_v4_mapped()) {
        return asio::ip::make_address_v4(asio::ip::v4_mapped, parsed.to_v6()).is_loopback();
    }
    return parsed.is_loopback();
}

bool is_loopback_host(std::string_view host) {
    std::string_view name = host;
    if (name.starts_with('[')) {
        const std::size_t close = name.find(']');
        if (close == std::string_view::npos) {
            return false;
        }
        const std::string_view after = name.substr(close + 1);
        if (!after.empty() && !after.starts_with(':')) {
            return false;
        }
        name = name.substr(1, close - 1);
    } else if (const std::size_t colon = name.rfind(':'); colon != std::string_view::npos) {
        name = name.substr(0, colon); // an unbracketed name holds no colon but the port's
    }
    if (name.ends_with('.')) {
        name.remove_suffix(1); // the absolute form of the same name
    }
    constexpr std::string_view localhost = "localhost";
    if (name.size() == localhost.size() &&
        std::equal(name.begin(), name.end(), localhost.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
        return true;
    }
    return is_loopback_address(name);
}

bool token_matches(const config::secret& expected, std::string_view presented) {
    if (expected.empty()) {
        return false;
    }
    const digest want = sha256(expected.reveal());
    const digest got = sha256(presented);
    return CRYPTO_memcmp(want.data(), got.data(), want.size()) == 0;
}

struct http_server::impl {
    // Declared first so that it outlives the io_context, whose destruction frees the sessions.
    http_settings settings;
    config::secret token;
    http_sources sources;
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> auth_failures{0};
    std::atomic<std::uint64_t> foreign_hosts{0};
    std::atomic<std::uint64_t> commands{0};
    std::atomic<std::uint64_t> connections_open{0};
    std::atomic<std::uint64_t> connections_refused{0};
    std::atomic<std::uint64_t> timeouts{0};

    asio::io_context context{1};
    tcp::acceptor acceptor{context};
    asio::steady_timer accept_retry{context};
    std::uint16_t bound_port = 0;
    std::string bound_address;
    // Bound to loopback: requests must name loopback in their Host (is_loopback_host).
    bool loopback_hosts_only = false;
    std::thread thread;
    bool stopped = false;

    void accept();
    void count(std::atomic<std::uint64_t>& counter, std::int64_t delta) {
        counter.store(counter.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(delta),
                      std::memory_order_relaxed);
    }
};

namespace {

using request_type = bhttp::request<bhttp::string_body>;
using response_type = bhttp::response<bhttp::string_body>;

class session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, http_server::impl& server)
        : stream_(std::move(socket)), buffer_(server.settings.max_header_bytes + max_body_bytes),
          server_(server) {
        server_.count(server_.connections_open, 1);
    }
    ~session() { server_.count(server_.connections_open, -1); }
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    void read() {
        parser_.emplace();
        parser_->header_limit(server_.settings.max_header_bytes);
        parser_->body_limit(max_body_bytes);
        // buffer_ keeps the bytes of a pipelined next request; its limit bounds it.
        stream_.expires_after(server_.settings.request_timeout_ms);
        bhttp::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

private:
    void on_read(beast::error_code ec) {
        if (ec == beast::error::timeout) {
            server_.count(server_.timeouts, 1);
            return close();
        }
        if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
            ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
            return close();
        }
        if (ec == bhttp::error::header_limit || ec == bhttp::error::body_limit ||
            ec == bhttp::error::buffer_overflow) {
            return reply_error(bhttp::status::payload_too_large, "request too large", false);
        }
        if (ec) {
            return reply_error(bhttp::status::bad_request,
                               fmt::format("malformed request: {}", ec.message()), false);
        }
        server_.count(server_.requests, 1);
        handle(parser_->get());
    }

    void handle(const request_type& request) {
        const bool keep_alive = request.keep_alive();
        std::string_view target(request.target().data(), request.target().size());
        if (const auto query = target.find('?'); query != std::string_view::npos) {
            target = target.substr(0, query);
        }
        const bool is_get = request.method() == bhttp::verb::get;
        const bool is_post = request.method() == bhttp::verb::post;
        // A request without Host (HTTP/1.0 tools) passes: browsers always send one.
        if (const auto host = request.find(bhttp::field::host);
            server_.loopback_hosts_only && host != request.end() &&
            !is_loopback_host(std::string_view(host->value().data(), host->value().size()))) {
            server_.count(server_.foreign_hosts, 1);
            return reply_error(
                bhttp::status::misdirected_request,
                fmt::format("Host \"{}\" is not this server: a server bound to loopback answers "
                            "requests for localhost, 127.0.0.1 or [::1] only",
                            std::string_view(host->value().data(),
                                             std::min<std::size_t>(host->value().size(), 100))),
                false);
        }

        if (target == "/health" || target == "/ready" || target == "/status" ||
            target == "/metrics") {
            if (!is_get) {
                return reply_error(bhttp::status::method_not_allowed,
                                   fmt::format("{} accepts GET only", target), keep_alive, "GET");
            }
            return serve_read(target, keep_alive);
        }
        if (target == "/kill" || target == "/pause" || target == "/resume" ||
            target == "/flatten") {
            if (!is_post) {
                return reply_error(bhttp::status::method_not_allowed,
                                   fmt::format("{} accepts POST only", target), keep_alive, "POST");
            }
            return serve_command(request, target, keep_alive);
        }
        reply_error(bhttp::status::not_found, fmt::format("no endpoint {}", target), keep_alive);
    }

    void serve_read(std::string_view target, bool keep_alive) {
        if (target == "/health") {
            return reply(bhttp::status::ok, "{\"status\":\"ok\"}", keep_alive);
        }
        if (target == "/metrics") {
            if (server_.sources.metrics == nullptr) {
                return reply_error(bhttp::status::service_unavailable, "no metrics registry",
                                   keep_alive);
            }
            return reply(bhttp::status::ok, server_.sources.metrics->exposition(), keep_alive,
                         metrics_registry::content_type);
        }
        if (server_.sources.status == nullptr) {
            return reply_error(bhttp::status::service_unavailable, "no status published",
                               keep_alive);
        }
        const status_snapshot status = server_.sources.status->read();
        if (target == "/status") {
            return reply(bhttp::status::ok, status_json(status), keep_alive);
        }
        // /ready, with the reasons it is not.
        std::string body = fmt::format("{{\"ready\":{},\"reasons\":[", status.ready());
        bool first = true;
        const auto reason = [&](bool failing, std::string_view text) {
            if (failing) {
                body += first ? "" : ",";
                core::append_quoted(body, text);
                first = false;
            }
        };
        reason(status.published_ns == 0, "no status published yet");
        reason(!status.book_synced, "book not synced");
        // A session of several symbols: each other symbol whose book is not synced, by name.
        for (std::size_t i = 1; i < status.listed_symbols(); ++i) {
            const symbol_status& symbol = status.symbols[i];
            reason(!symbol.book_synced, std::string(symbol.symbol.view()) + " book not synced");
        }
        reason(!status.gateway_connected, "gateway not connected");
        reason(status.any_killed(), "kill switch engaged");
        reason(status.state == trading_state::stopped, "engine stopped");
        body += "]}";
        reply(status.ready() ? bhttp::status::ok : bhttp::status::service_unavailable,
              std::move(body), keep_alive);
    }

    void serve_command(const request_type& request, std::string_view target, bool keep_alive) {
        if (server_.token.empty()) {
            server_.count(server_.auth_failures, 1);
            return reply_error(bhttp::status::forbidden,
                               "writes are disabled: no HTTP token is configured (set "
                               "QUOTER_HTTP_TOKEN or http_token in the secrets file)",
                               keep_alive);
        }
        const auto header = request.find(bhttp::field::authorization);
        constexpr std::string_view scheme = "Bearer ";
        std::string_view presented;
        if (header != request.end()) {
            presented = std::string_view(header->value().data(), header->value().size());
        }
        if (presented.size() <= scheme.size() ||
            !std::equal(scheme.begin(), scheme.end(), presented.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            })) {
            server_.count(server_.auth_failures, 1);
            return reply_error(bhttp::status::unauthorized,
                               "missing bearer token (Authorization: Bearer <token>)", keep_alive);
        }
        if (!token_matches(server_.token, presented.substr(scheme.size()))) {
            server_.count(server_.auth_failures, 1);
            return reply_error(bhttp::status::unauthorized, "invalid bearer token", keep_alive);
        }
        control_channel* control = server_.sources.control;
        if (control == nullptr) {
            return reply_error(bhttp::status::service_unavailable, "no control channel",
                               keep_alive);
        }
        const std::string_view command = target.substr(1);
        if (command == "kill") {
            control->request_kill(command_source::http);
        } else if (command == "flatten") {
            control->request_flatten(command_source::http);
        } else {
            const control_message message{
                .command = command == "pause" ? control_command::pause : control_command::resume,
                .source = command_source::http,
                .wall_time = core::wall_clock{}.now(),
            };
            if (!control->post(message)) {
                return reply_error(bhttp::status::service_unavailable, "control queue full; retry",
                                   keep_alive);
            }
        }
        server_.count(server_.commands, 1);
        std::string body = "{\"accepted\":";
        core::append_quoted(body, command);
        body += ",\"source\":\"http\"}";
        reply(bhttp::status::accepted, std::move(body), keep_alive);
    }

    void reply_error(bhttp::status status, std::string_view message, bool keep_alive,
                     std::string_view allow = {}) {
        response_ = response_type{};
        if (!allow.empty()) {
            response_.set(bhttp::field::allow, allow);
        }
        if (status == bhttp::status::unauthorized) {
            response_.set(bhttp::field::www_authenticate, "Bearer realm=\"quoter\"");
        }
        send(status, json_error(message), keep_alive, "application/json");
    }

    void reply(bhttp::status status, std::string body, bool keep_alive,
               std::string_view content_type = "application/json") {
        response_ = response_type{};
        send(status, std::move(body), keep_alive, content_type);
    }

    void send(bhttp::status status, std::string body, bool keep_alive,
              std::string_view content_type) {
        response_.version(11);
        response_.result(status);
        response_.set(bhttp::field::server, "quoter");
        response_.set(bhttp::field::content_type, content_type);
        response_.set(bhttp::field::cache_control, "no-store");
        response_.body() = std::move(body);
        response_.keep_alive(keep_alive);
        response_.prepare_payload();
        stream_.expires_after(server_.settings.write_timeout_ms);
        bhttp::async_write(
            stream_, response_,
            [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                if (ec == beast::error::timeout) {
                    self->server_.count(self->server_.timeouts, 1);
                }
                if (ec || !keep_alive) {
                    return self->close();
                }
                self->read();
            });
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    response_type response_;
    http_server::impl& server_;
};

} // namespace

void http_server::impl::accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
        if (stopped || !acceptor.is_open()) {
            return;
        }
        if (ec) {
            // Out of descriptors (EMFILE) or a transient failure: back off instead of spinning.
            accept_retry.expires_after(std::chrono::milliseconds(50));
            accept_retry.async_wait([this](beast::error_code wait_ec) {
                if (!wait_ec && !stopped) {
                    accept();
                }
            });
            return;
        }
        if (connections_open.load(std::memory_order_relaxed) >= settings.max_connections) {
            count(connections_refused, 1);
            beast::error_code ignored;
            socket.close(ignored);
        } else {
            std::make_shared<session>(std::move(socket), *this)->read();
        }
        accept();
    });
}

core::result<std::unique_ptr<http_server>, std::string>
http_server::start(const http_settings& settings, config::secret token, http_sources sources) {
    boost::system::error_code ec;
    const asio::ip::address address = asio::ip::make_address(settings.bind_address, ec);
    if (ec) {
        return core::unexpected(
            fmt::format("http.bind_address \"{}\" is not an IP address (use 127.0.0.1 or ::1)",
                        settings.bind_address));
    }
    if (!is_loopback_address(settings.bind_address) && token.empty()) {
        return core::unexpected(fmt::format(
            "refusing to serve HTTP on {} without a token: a non-loopback address exposes "
            "/kill, /pause, /resume and /flatten to the network. Set QUOTER_HTTP_TOKEN (or "
            "http_token in the secrets file), or bind 127.0.0.1",
            settings.bind_address));
    }
    auto state = std::make_unique<impl>();
    state->settings = settings;
    rlimit descriptors{};
    if (::getrlimit(RLIMIT_NOFILE, &descriptors) == 0 && descriptors.rlim_cur != RLIM_INFINITY) {
        state->settings.max_connections =
            connection_cap(settings.max_connections, descriptors.rlim_cur);
    }
    state->token = std::move(token);
    state->sources = sources;
    state->loopback_hosts_only = is_loopback_address(settings.bind_address);
    const tcp::endpoint endpoint(address, settings.port);
    auto& acceptor = state->acceptor;
    if (acceptor.open(endpoint.protocol(), ec); !ec) {
        acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (acceptor.bind(endpoint, ec); !ec) {
            acceptor.listen(asio::socket_base::max_listen_connections, ec);
        }
    }
    if (ec) {
        return core::unexpected(fmt::format("cannot listen on {}:{}: {}", settings.bind_address,
                                            settings.port, ec.message()));
    }
    state->bound_port = acceptor.local_endpoint().port();
    state->bound_address = settings.bind_address;
    state->accept();
    impl* raw = state.get();
    state->thread = std::thread([raw] { raw->context.run(); });
    return std::unique_ptr<http_server>(new http_server(std::move(state)));
}

http_server::http_server(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

std::uint32_t http_server::max_connections() const noexcept {
    return impl_->settings.max_connections;
}

std::uint32_t connection_cap(std::uint32_t configured, std::uint64_t descriptor_limit) noexcept {
    const std::uint64_t half = descriptor_limit / 2;
    return static_cast<std::uint32_t>(
        std::max<std::uint64_t>(1, std::min<std::uint64_t>(configured, half)));
}

http_server::~http_server() {
    stop();
}

std::uint16_t http_server::port() const noexcept {
    return impl_->bound_port;
}

std::string http_server::endpoint() const {
    return impl_->bound_address.find(':') != std::string::npos
               ? fmt::format("[{}]:{}", impl_->bound_address, impl_->bound_port)
               : fmt::format("{}:{}", impl_->bound_address, impl_->bound_port);
}

http_server_stats http_server::stats() const noexcept {
    const auto get = [](const std::atomic<std::uint64_t>& a) {
        return a.load(std::memory_order_relaxed);
    };
    return {
        .requests = get(impl_->requests),
        .auth_failures = get(impl_->auth_failures),
        .foreign_hosts = get(impl_->foreign_hosts),
        .commands = get(impl_->commands),
        .connections_open = get(impl_->connections_open),
        .connections_refused = get(impl_->connections_refused),
        .timeouts = get(impl_->timeouts),
    };
}

void http_server::stop() {
    if (!impl_ || !impl_->thread.joinable()) {
        return;
    }
    impl_->context.stop();
    impl_->thread.join();
    // Closed once the thread is gone (nothing else touches them then): a close posted to the
    // stopping context might never run, and a listening socket left open would take
    // connections nobody serves.
    impl_->stopped = true;
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->accept_retry.cancel();
}

} // namespace quoter::ops
