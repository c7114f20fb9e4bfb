// rest_client: a FIFO of requests served by a pool of keep-alive HTTP/1.1 connections.
//
// Invariants: a connection serves one request at a time and is either idle (socket open or
// not) or busy with exactly one job; a job is in the queue, on a busy connection, or completed.
// Connections only hold a weak reference to the client, so destroying the client drops every
// pending callback without running it.
#include "quoter/net/rest_client.hpp"

#include "quoter/core/clock.hpp"
#include "tls_context.hpp"

#include "quoter/net/url.hpp"
#include "quoter/net/ws_feed.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <optional>
#include <type_traits>

namespace quoter::net {

std::string_view describe(rest_error error) noexcept {
    switch (error) {
    case rest_error::none:
        return "no error";
    case rest_error::bad_url:
        return "base_url is not an http:// or https:// URL";
    case rest_error::tls_setup:
        return "TLS context could not be set up";
    case rest_error::resolve_failed:
        return "resolve failed";
    case rest_error::connect_failed:
        return "connect failed";
    case rest_error::tls_failed:
        return "TLS handshake failed";
    case rest_error::timed_out:
        return "timed out";
    case rest_error::io_error:
        return "I/O error";
    case rest_error::too_large:
        return "response too large";
    }
    return "unknown error";
}

std::string_view rest_response::header(std::string_view name) const noexcept {
    const auto same = [name](std::string_view candidate) {
        return candidate.size() == name.size() &&
               std::equal(candidate.begin(), candidate.end(), name.begin(), [](char a, char b) {
                   return std::tolower(static_cast<unsigned char>(a)) ==
                          std::tolower(static_cast<unsigned char>(b));
               });
    };
    for (const auto& [key, value] : headers) {
        if (same(key)) {
            return value;
        }
    }
    return {};
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct job {
    rest_request request;
    rest_callback done;
    bool retried = false;
};

http::verb to_verb(http_method method) {
    switch (method) {
    case http_method::get:
        return http::verb::get;
    case http_method::post:
        return http::verb::post;
    case http_method::put:
        return http::verb::put;
    case http_method::del:
        return http::verb::delete_;
    }
    return http::verb::get;
}

class http_connection;

/// What a connection reports back to its pool.
class connection_owner {
public:
    virtual void on_complete(http_connection& connection, job&& finished, rest_response&& response,
                             bool retry) = 0;

protected:
    ~connection_owner() = default;
};

struct connection_settings {
    url endpoint;
    std::int64_t request_timeout_ms = 10'000;
    std::size_t max_body_bytes = 64u << 20;
    std::string user_agent;
};

class http_connection : public std::enable_shared_from_this<http_connection> {
public:
    virtual ~http_connection() = default;
    virtual void execute(job work) = 0;
    virtual void shut() = 0;
    bool busy = false;
};

template <bool Secure> class basic_http_connection final : public http_connection {
    using stream_type = std::conditional_t<Secure, beast::ssl_stream<tcp::socket>, tcp::socket>;

public:
    basic_http_connection(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                          connection_settings settings, std::weak_ptr<connection_owner> owner)
        : tls_(std::move(tls)), stream_(make_stream(io, tls_.get())), resolver_(io), deadline_(io),
          settings_(std::move(settings)), owner_(std::move(owner)) {}

    void execute(job work) override {
        work_ = std::move(work);
        timed_out_ = false;
        deadline_.expires_after(std::chrono::milliseconds(settings_.request_timeout_ms));
        deadline_.async_wait([self = shared(), this](error_code ec) {
            if (!ec && busy) {
                timed_out_ = true;
                shut();
            }
        });
        if (connected_) {
            reused_ = true;
            write();
            return;
        }
        reused_ = false;
        error_code ec;
        const auto address = asio::ip::make_address(settings_.endpoint.host, ec);
        if (!ec) {
            const std::array<tcp::endpoint, 1> endpoints{
                tcp::endpoint(address, settings_.endpoint.port)};
            asio::async_connect(socket(), endpoints,
                                [self = shared(), this](error_code error, const tcp::endpoint&) {
                                    on_connect(error);
                                });
            return;
        }
        resolver_.async_resolve(
            settings_.endpoint.host, std::to_string(settings_.endpoint.port),
            [self = shared(), this](error_code error, const tcp::resolver::results_type& results) {
                if (error) {
                    fail(rest_error::resolve_failed, error.message(), false);
                    return;
                }
                asio::async_connect(socket(), results,
                                    [self, this](error_code connect_error, const tcp::endpoint&) {
                                        on_connect(connect_error);
                                    });
            });
    }

    void shut() override {
        error_code ignored;
        resolver_.cancel();
        socket().shutdown(tcp::socket::shutdown_both, ignored);
        socket().close(ignored);
        connected_ = false;
    }

private:
    static stream_type make_stream(asio::io_context& io, asio::ssl::context* tls) {
        if constexpr (Secure) {
            return stream_type(io, *tls);
        } else {
            (void)tls;
            return stream_type(io);
        }
    }

    std::shared_ptr<basic_http_connection> shared() {
        return std::static_pointer_cast<basic_http_connection>(shared_from_this());
    }

    tcp::socket& socket() noexcept {
        if constexpr (Secure) {
            return stream_.next_layer();
        } else {
            return stream_;
        }
    }

    void on_connect(const error_code& ec) {
        if (ec) {
            fail(rest_error::connect_failed, ec.message(), false);
            return;
        }
        error_code ignored;
        socket().set_option(tcp::no_delay(true), ignored);
        if constexpr (Secure) {
            if (!detail::configure_client_session(stream_.native_handle(), settings_.endpoint)) {
                fail(rest_error::tls_failed, "cannot set the expected server name", false);
                return;
            }
            stream_.async_handshake(
                asio::ssl::stream_base::client, [self = shared(), this](error_code error) {
                    if (error) {
                        fail(rest_error::tls_failed,
                             detail::describe_tls_failure(stream_.native_handle(), error), false);
                        return;
                    }
                    connected_ = true;
                    write();
                });
        } else {
            connected_ = true;
            write();
        }
    }

    void write() {
        const rest_request& request = work_.request;
        request_.emplace(to_verb(request.method), request.target, 11);
        request_->set(http::field::host, settings_.endpoint.host_header());
        request_->set(http::field::user_agent, settings_.user_agent);
        request_->keep_alive(true);
        for (const auto& [name, value] : request.headers) {
            request_->set(name, value);
        }
        if (!request.body.empty()) {
            request_->set(http::field::content_type, request.content_type);
            request_->body() = request.body;
        }
        request_->prepare_payload();
        sent_ns_ = core::wall_clock{}.now();
        http::async_write(stream_, *request_, [self = shared(), this](error_code ec, std::size_t) {
            if (ec) {
                fail(rest_error::io_error, ec.message(), true);
                return;
            }
            if (work_.request.on_written) {
                work_.request.on_written();
            }
            read();
        });
    }

    void read() {
        parser_.emplace();
        parser_->header_limit(64 * 1024);
        parser_->body_limit(settings_.max_body_bytes);
        buffer_.clear();
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared(), this](error_code ec, std::size_t) { on_read(ec); });
    }

    void on_read(const error_code& ec) {
        if (ec) {
            const bool nothing_received = !parser_->got_some();
            fail(ec == http::error::body_limit ? rest_error::too_large : rest_error::io_error,
                 ec.message(), nothing_received);
            return;
        }
        rest_response response;
        response.sent_ns = sent_ns_;
        response.received_ns = core::wall_clock{}.now();
        auto message = parser_->release();
        response.status = static_cast<int>(message.result_int());
        for (const auto& field : message.base()) {
            response.headers.emplace_back(std::string(field.name_string()),
                                          std::string(field.value()));
        }
        response.body = std::move(message.body());
        // Zeroed padding for in-place parsing: append it, then take it back off the size.
        response.body.append(receive_padding, '\0');
        response.body.resize(response.body.size() - receive_padding);
        if (!message.keep_alive()) {
            shut();
        }
        finish(std::move(response), false);
    }

    // retry_if_reused: the failure may just mean the server closed an idle keep-alive
    // connection, so an idempotent request may go again on a fresh connection.
    void fail(rest_error error, std::string detail, bool retry_if_reused) {
        const bool retry = retry_if_reused && reused_ && !timed_out_ &&
                           work_.request.method == http_method::get && !work_.retried;
        rest_response response;
        response.error = timed_out_ ? rest_error::timed_out : error;
        response.error_detail = timed_out_ ? "request timeout" : std::move(detail);
        response.sent_ns = sent_ns_;
        response.received_ns = core::wall_clock{}.now();
        shut();
        finish(std::move(response), retry);
    }

    void finish(rest_response&& response, bool retry) {
        deadline_.cancel();
        request_.reset();
        parser_.reset();
        if (auto owner = owner_.lock()) {
            owner->on_complete(*this, std::move(work_), std::move(response), retry);
        }
    }

    std::shared_ptr<asio::ssl::context> tls_;
    stream_type stream_;
    tcp::resolver resolver_;
    asio::steady_timer deadline_;
    connection_settings settings_;
    std::weak_ptr<connection_owner> owner_;
    job work_;
    std::optional<http::request<http::string_body>> request_;
    std::optional<http::response_parser<http::string_body>> parser_;
    beast::flat_buffer buffer_;
    core::timestamp_ns sent_ns_ = 0;
    bool connected_ = false;
    bool reused_ = false;
    bool timed_out_ = false;
};

} // namespace

struct rest_client::impl final : connection_owner, std::enable_shared_from_this<impl> {
    impl(io_loop& loop_in, rest_config config_in) : loop(loop_in), config(std::move(config_in)) {
        const auto parsed = parse_url(config.base_url);
        if (!parsed || (parsed->scheme != "http" && parsed->scheme != "https")) {
            setup_error = rest_error::bad_url;
            return;
        }
        settings.endpoint = *parsed;
        settings.request_timeout_ms = config.request_timeout_ms;
        settings.max_body_bytes = config.max_body_bytes;
        settings.user_agent = config.user_agent;
        if (settings.endpoint.tls) {
            auto context = detail::make_client_tls_context(config.tls);
            if (!context) {
                setup_error = rest_error::tls_setup;
                setup_detail = context.error();
                return;
            }
            tls = *context;
        }
    }

    void submit(job work) {
        if (setup_error != rest_error::none) {
            rest_response response;
            response.error = setup_error;
            response.error_detail = setup_detail;
            // Complete asynchronously like every other request.
            auto done = std::move(work.done);
            loop.post([done = std::move(done), response = std::move(response)]() mutable {
                done(std::move(response));
            });
            return;
        }
        ++pending;
        queue.push_back(std::move(work));
        dispatch();
    }

    void dispatch() {
        while (!queue.empty() && !closed) {
            std::shared_ptr<http_connection> chosen;
            for (const auto& connection : pool) {
                if (!connection->busy) {
                    chosen = connection;
                    break;
                }
            }
            if (!chosen) {
                if (pool.size() >= std::max<std::size_t>(config.max_connections, 1)) {
                    return;
                }
                std::weak_ptr<connection_owner> owner = shared_from_this();
                if (tls) {
                    chosen = std::make_shared<basic_http_connection<true>>(loop.context(), tls,
                                                                           settings, owner);
                } else {
                    chosen = std::make_shared<basic_http_connection<false>>(loop.context(), nullptr,
                                                                            settings, owner);
                }
                pool.push_back(chosen);
            }
            chosen->busy = true;
            job work = std::move(queue.front());
            queue.pop_front();
            chosen->execute(std::move(work));
        }
    }

    void on_complete(http_connection& connection, job&& finished, rest_response&& response,
                     bool retry) override {
        connection.busy = false;
        if (closed) {
            return;
        }
        if (retry) {
            finished.retried = true;
            queue.push_front(std::move(finished));
            dispatch();
            return;
        }
        --pending;
        const auto keep_alive = shared_from_this();
        if (finished.done) {
            finished.done(std::move(response));
        }
        dispatch();
    }

    void shutdown() {
        closed = true;
        queue.clear();
        for (const auto& connection : pool) {
            connection->shut();
        }
        pool.clear();
    }

    io_loop& loop;
    rest_config config;
    connection_settings settings;
    rest_error setup_error = rest_error::none;
    std::string setup_detail;
    std::shared_ptr<asio::ssl::context> tls;
    std::deque<job> queue;
    std::vector<std::shared_ptr<http_connection>> pool;
    std::size_t pending = 0;
    bool closed = false;
};

rest_client::rest_client(io_loop& loop, rest_config config)
    : impl_(std::make_shared<impl>(loop, std::move(config))) {}

rest_client::~rest_client() {
    impl_->shutdown();
}

void rest_client::get(std::string target, rest_callback done) {
    job work;
    work.request.target = std::move(target);
    work.done = std::move(done);
    impl_->submit(std::move(work));
}

void rest_client::send(rest_request request, rest_callback done) {
    job work;
    work.request = std::move(request);
    work.done = std::move(done);
    impl_->submit(std::move(work));
}

std::size_t rest_client::pending() const noexcept {
    return impl_->pending;
}

std::size_t rest_client::connections() const noexcept {
    return impl_->pool.size();
}

} // namespace quoter::net
