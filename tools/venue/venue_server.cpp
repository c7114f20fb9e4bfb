// quoter-venue's server: accept loop, HTTP routing, WebSocket sessions and fault injection.
// One piece (about 1,100 lines): the faults act on the sessions and the routes they belong to, so
// each fault is read beside the code it breaks.
#include "venue_server.hpp"

#include "futures_api.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <type_traits>
#include <vector>

namespace quoter::venue {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

std::int64_t wall_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t wall_ms() {
    return wall_ns() / 1'000'000;
}

std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned value = 0;
        if (text[i] == '%' && i + 2 < text.size() &&
            std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr ==
                text.data() + i + 3) {
            out += static_cast<char>(value);
            i += 2;
        } else if (text[i] == '+') {
            out += ' ';
        } else {
            out += text[i];
        }
    }
    return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
    std::map<std::string, std::string> params;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) {
            params[percent_decode(pair)] = "";
        } else {
            params[percent_decode(pair.substr(0, eq))] = percent_decode(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query = query.substr(amp + 1);
    }
    return params;
}

std::int64_t param_int(const std::map<std::string, std::string>& params, const std::string& key,
                       std::int64_t fallback) {
    const auto it = params.find(key);
    if (it == params.end() || it->second.empty()) {
        return fallback;
    }
    try {
        return std::stoll(it->second);
    } catch (...) {
        return fallback;
    }
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    while (!text.empty()) {
        const std::size_t at = text.find(separator);
        if (at != 0) {
            parts.emplace_back(text.substr(0, at));
        }
        if (at == std::string_view::npos) {
            break;
        }
        text = text.substr(at + 1);
    }
    return parts;
}

using response_type = http::response<http::string_body>;
using request_type = http::request<http::string_body>;
using responder = std::function<void(response_type)>;

struct venue_stats {
    std::uint64_t sessions_total = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t pings_sent = 0;
    std::uint64_t pongs_received = 0;
    std::uint64_t ping_timeouts = 0;
    std::uint64_t snapshots_served = 0;
    std::uint64_t shutdown_events = 0;
    std::uint64_t drops = 0;
    std::uint64_t mutes = 0; ///< Sessions gone mute by the fault.
    std::uint64_t malformed_sent = 0;
    std::uint64_t slow_consumer_drops = 0;
    std::uint64_t http_requests = 0;
    std::uint64_t streams_refused = 0; ///< Futures streams asked for under the wrong prefix.
};

/// Whether a USD-M futures stream may be served under a path prefix: Binance serves depth and
/// bookTicker under "/public", the other market streams under "/market", and only the "/public"
/// ones on a connection without a routed path. Other streams deliver nothing, silently.
bool futures_prefix_serves(std::string_view prefix, channel kind) {
    const bool book_data = kind == channel::depth || kind == channel::book_ticker;
    return prefix == "/market" ? !book_data : book_data;
}

struct server_core;

/// What the server needs from a WebSocket session, whatever its transport.
class ws_session_base : public std::enable_shared_from_this<ws_session_base> {
public:
    virtual ~ws_session_base() = default;
    virtual void send(std::shared_ptr<const std::string> message, bool binary) = 0;
    virtual void drop() = 0;
    virtual void close_going_away(std::string reason) = 0;
    virtual void ping(std::int64_t timeout_ms) = 0;
    virtual void kick() = 0;
    /// Goes mute at once, as over a half-open connection: nothing read (so pings go unanswered)
    /// and nothing written for `ms`, then the connection is dropped.
    virtual void mute_now(std::int64_t ms) = 0;

    std::uint64_t id = 0;
    std::int64_t opened_ns = 0;
    bool combined = true;
    /// A WebSocket API session (/ws-api/v3): text frames are requests, not SUBSCRIBE calls.
    bool ws_api = false;
    /// WebSocket API sessions: the user-data subscription opened on it, if any.
    std::optional<std::uint64_t> user_subscription;
    /// WebSocket API sessions: session.logon state.
    api_session api;
    /// Futures user-data stream (/ws/<listenKey>): its key, else "".
    std::string listen_key;
    /// Path before "/stream" or "/ws" ("", "/public", "/market").
    std::string prefix;
    /// Output of this session alone is held until then (0: not stalled).
    std::int64_t stall_until_ns = 0;
    /// The mute fault: after its next request the session goes mute (mute_now) for this long
    /// (ms; 0: not asked).
    std::int64_t mute_after_next_ms = 0;
    /// Stream name per (symbol, channel) as the client spelled it; "" = not subscribed.
    std::vector<std::string> names;
    bool shutdown_notified = false;
    std::int64_t shutdown_close_ns = 0;
    bool age_closed = false;
};

struct server_core : std::enable_shared_from_this<server_core> {
    server_core(net::io_loop& loop_in, market_state& market_in, server_options options_in)
        : loop(loop_in), market(market_in), options(std::move(options_in)),
          acceptor(loop_in.context()), housekeeping(loop_in.context()),
          orders(market_in, options.orders), futures(market_in, options.orders) {}

    net::io_loop& loop;
    market_state& market;
    server_options options;
    tcp::acceptor acceptor;
    std::optional<asio::ssl::context> tls;
    asio::steady_timer housekeeping;
    std::vector<std::shared_ptr<ws_session_base>> sessions;
    venue_stats stats;
    order_api orders;
    futures_api futures;
    /// Futures requests left unanswered (silence, dropped answers) until then: dropping the
    /// responder closes the connection.
    std::vector<std::pair<std::int64_t, responder>> withheld;
    /// GET /fapi/v1/time requests still to leave unanswered (the futures_time_drop fault), and
    /// those left so far.
    std::uint64_t futures_time_drops = 0;
    std::uint64_t futures_time_dropped = 0;
    /// Futures answers the delay fault holds until their time (ms).
    struct delayed_answer {
        std::int64_t due_ms = 0;
        responder respond;
        response_type response;
    };
    std::vector<delayed_answer> delayed;
    std::uint64_t next_session_id = 1;
    std::int64_t stall_until_ns = 0;
    bool stall_active = false;
    std::int64_t next_stall_ns = 0;
    std::int64_t next_gap_ns = 0;
    std::int64_t next_malformed_ns = 0;
    std::int64_t next_ping_ns = 0;
    bool first_subscriber_seen = false;
    bool stopped = false;
    std::function<void()> on_first_subscriber;
    std::function<std::string()> extra_stats;

    template <class... Args> void log(const char* format, Args... args) {
        if (options.verbose) {
            std::fprintf(stderr, format, args...);
            std::fputc('\n', stderr);
        }
    }

    [[nodiscard]] bool stalled() const { return stall_active; }

    void subscribed() {
        if (!first_subscriber_seen) {
            first_subscriber_seen = true;
            if (on_first_subscriber) {
                on_first_subscriber();
            }
        }
    }

    void add_session(const std::shared_ptr<ws_session_base>& session) {
        ++stats.sessions_total;
        sessions.push_back(session);
        log("venue: session %llu open", static_cast<unsigned long long>(session->id));
    }

    void remove_session(std::uint64_t id) {
        sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                      [id](const auto& session) { return session->id == id; }),
                       sessions.end());
        log("venue: session %llu closed", static_cast<unsigned long long>(id));
    }

    /// Subscribes a session to a stream name; false for unknown symbols or kinds.
    bool subscribe(ws_session_base& session, std::string_view name) {
        if (futures.is_listen_key(name)) {
            session.listen_key = std::string(name);
            return true;
        }
        const auto stream = parse_stream(name);
        if (!stream) {
            return false;
        }
        const auto symbol = market.find(stream->first);
        if (!symbol) {
            return false;
        }
        if (market.futures && !futures_prefix_serves(session.prefix, stream->second)) {
            ++stats.streams_refused;
            log("venue: %.*s refused under '%s'", static_cast<int>(name.size()), name.data(),
                session.prefix.c_str());
            return false;
        }
        session.names.resize(market.size() * channel_count);
        session.names[*symbol * channel_count + static_cast<std::size_t>(stream->second)] =
            std::string(name);
        return true;
    }

    void unsubscribe(ws_session_base& session, std::string_view name) {
        for (auto& existing : session.names) {
            if (existing == name) {
                existing.clear();
            }
        }
    }

    /// Sends the order API's new user-data events to every subscribed WebSocket API session.
    void flush_user_events() {
        for (const std::string& event : orders.take_events()) {
            for (const auto& session : sessions) {
                if (!session->ws_api || !session->user_subscription) {
                    continue;
                }
                session->send(
                    std::make_shared<const std::string>(
                        "{\"subscriptionId\":" + std::to_string(*session->user_subscription) +
                        ",\"event\":" + event + "}"),
                    false);
            }
        }
    }

    /// Ends every user-data subscription as Binance does when a stream stops: no more events
    /// on that session until it subscribes again, and one eventStreamTerminated, notice_ms
    /// later (events of the meantime are lost, as they would be).
    void terminate_user_streams(std::int64_t notice_ms) {
        for (const auto& session : sessions) {
            if (!session->ws_api || !session->user_subscription) {
                continue;
            }
            auto event = std::make_shared<const std::string>(
                "{\"subscriptionId\":" + std::to_string(*session->user_subscription) +
                ",\"event\":{\"e\":\"eventStreamTerminated\",\"E\":" + std::to_string(wall_ms()) +
                "}}");
            session->user_subscription.reset();
            orders.count_stream_terminated();
            if (notice_ms <= 0) {
                session->send(std::move(event), false);
                continue;
            }
            auto timer = std::make_shared<asio::steady_timer>(loop.context());
            timer->expires_after(std::chrono::milliseconds(notice_ms));
            timer->async_wait(
                [timer, event, weak = std::weak_ptr<ws_session_base>(session)](error_code ec) {
                    if (const auto alive = weak.lock(); !ec && alive) {
                        alive->send(event, false);
                    }
                });
        }
    }

    /// Sends the futures API's new events to the streams of their listenKey; closes the
    /// streams of expired keys (after their listenKeyExpired event).
    void flush_futures_events() {
        for (const auto& [key, event] : futures.take_events()) {
            const auto message = std::make_shared<const std::string>(event);
            for (const auto& session : sessions) {
                if (session->listen_key == key) {
                    session->send(message, false);
                }
            }
        }
        for (const std::string& key : futures.take_expired_keys()) {
            for (const auto& session : std::vector(sessions)) {
                if (session->listen_key == key) {
                    session->close_going_away("listenKey expired");
                }
            }
        }
    }

    /// A futures answer as HTTP: its status and body, Retry-After and the usage headers.
    static response_type futures_response(const request_type& request, futures_answer& answer) {
        response_type response = json_response(request, static_cast<http::status>(answer.status),
                                               std::move(answer.body));
        if (answer.retry_after_s > 0) {
            response.set(http::field::retry_after, std::to_string(answer.retry_after_s));
        }
        if (answer.used_weight_1m >= 0) {
            response.set("X-MBX-USED-WEIGHT-1M", std::to_string(answer.used_weight_1m));
            response.set("X-MBX-ORDER-COUNT-10S", std::to_string(answer.order_count_10s));
            response.set("X-MBX-ORDER-COUNT-1M", std::to_string(answer.order_count_1m));
        }
        return response;
    }

    void handle_futures(const request_type& request, std::string_view path, std::string_view query,
                        const responder& respond) {
        futures_answer answer =
            futures.handle(std::string_view(request.method_string()), path, query, request.body(),
                           std::string_view(request["X-MBX-APIKEY"]), wall_ms());
        flush_futures_events();
        if (answer.withheld) {
            // Silence lasts as configured; a dropped answer is never sent.
            const std::int64_t now_ms = wall_ms();
            const std::int64_t until =
                now_ms < futures.silent_until() ? futures.silent_until() : now_ms + 30'000;
            withheld.emplace_back(until, respond);
            return;
        }
        response_type response = futures_response(request, answer);
        if (answer.delay_ms > 0) {
            delayed.push_back({wall_ms() + answer.delay_ms, respond, std::move(response)});
            return;
        }
        respond(std::move(response));
    }

    void publish(std::size_t symbol, channel kind, std::string_view data) {
        if (kind == channel::depth) {
            // Resting orders fill as the market moves through them, not only on requests.
            orders.on_book(symbol, wall_ms());
            flush_user_events();
            futures.on_book(symbol, wall_ms());
            flush_futures_events();
        }
        const std::size_t slot = symbol * channel_count + static_cast<std::size_t>(kind);
        for (const auto& session : sessions) {
            if (slot >= session->names.size() || session->names[slot].empty()) {
                continue;
            }
            std::string message;
            if (session->combined) {
                message.reserve(data.size() + session->names[slot].size() + 24);
                message += "{\"stream\":\"";
                message += session->names[slot];
                message += "\",\"data\":";
                message += data;
                message += '}';
            } else {
                message.assign(data);
            }
            session->send(std::make_shared<const std::string>(std::move(message)), false);
        }
    }

    void broadcast(const std::string& text, bool binary) {
        const auto message = std::make_shared<const std::string>(text);
        for (const auto& session : std::vector(sessions)) {
            session->send(message, binary);
        }
    }

    // Faults.

    void drop_sessions(std::optional<std::uint64_t> id, const std::optional<std::string>& prefix,
                       bool graceful) {
        for (const auto& session : std::vector(sessions)) {
            if ((id && session->id != *id) || (prefix && session->prefix != *prefix)) {
                continue;
            }
            ++stats.drops;
            if (graceful) {
                session->close_going_away("dropped");
            } else {
                session->drop();
            }
        }
    }

    void stall(std::int64_t duration_ms) {
        stall_active = true;
        stall_until_ns = std::max(stall_until_ns, wall_ns() + duration_ms * 1'000'000);
        log("venue: stall %lld ms", static_cast<long long>(duration_ms));
    }

    /// Holds the output of the sessions open under one path prefix (e.g. only "/public").
    void stall_prefix(const std::string& prefix, std::int64_t duration_ms) {
        const std::int64_t until = wall_ns() + duration_ms * 1'000'000;
        for (const auto& session : sessions) {
            if (session->prefix == prefix) {
                session->stall_until_ns = std::max(session->stall_until_ns, until);
            }
        }
        log("venue: stall '%s' %lld ms", prefix.c_str(), static_cast<long long>(duration_ms));
    }

    void send_malformed(const std::string& kind, std::int64_t count) {
        for (std::int64_t i = 0; i < count; ++i) {
            ++stats.malformed_sent;
            if (kind == "binary") {
                broadcast(std::string("\x00\x01\x02\xfe\xff{\"e\":", 10), true);
            } else if (kind == "garbage") {
                broadcast("}{ not json ]]", false);
            } else {
                broadcast("{\"stream\":\"malformed@depth\",\"data\":{\"e\":\"depthUpdate\","
                          "\"E\":17,\"s\":\"BTC",
                          false);
            }
        }
    }

    void send_server_shutdown(std::int64_t grace_ms) {
        const std::string event =
            "{\"e\":\"serverShutdown\",\"E\":" + std::to_string(wall_ms()) + "}";
        const auto message = std::make_shared<const std::string>(event);
        const std::int64_t close_at = wall_ns() + grace_ms * 1'000'000;
        for (const auto& session : std::vector(sessions)) {
            if (session->shutdown_notified) {
                continue;
            }
            ++stats.shutdown_events;
            session->shutdown_notified = true;
            session->shutdown_close_ns = close_at;
            session->send(message, false);
        }
    }

    void ping_sessions(std::int64_t timeout_ms) {
        for (const auto& session : std::vector(sessions)) {
            session->ping(timeout_ms);
        }
    }

    void arm_housekeeping() {
        housekeeping.expires_after(std::chrono::milliseconds(5));
        housekeeping.async_wait([self = shared_from_this()](error_code ec) {
            if (ec || self->stopped) {
                return;
            }
            self->run_housekeeping();
            self->arm_housekeeping();
        });
    }

    void run_housekeeping() {
        const std::int64_t now = wall_ns();
        const fault_options& faults = options.faults;
        constexpr std::int64_t ms = 1'000'000;

        futures.tick(now / ms);
        flush_futures_events();
        std::erase_if(withheld, [&](const auto& held) { return now / ms >= held.first; });
        std::erase_if(delayed, [&](delayed_answer& held) {
            if (now / ms < held.due_ms) {
                return false;
            }
            held.respond(std::move(held.response));
            return true;
        });
        if (stall_active && now >= stall_until_ns) {
            stall_active = false;
            for (const auto& session : std::vector(sessions)) {
                session->kick();
            }
        }
        if (faults.stall_every_ms > 0 && faults.stall_ms > 0) {
            if (next_stall_ns == 0) {
                next_stall_ns = now + faults.stall_every_ms * ms;
            } else if (now >= next_stall_ns) {
                next_stall_ns = now + faults.stall_every_ms * ms;
                stall(faults.stall_ms);
            }
        }
        if (faults.gap_every_ms > 0) {
            if (next_gap_ns == 0) {
                next_gap_ns = now + faults.gap_every_ms * ms;
            } else if (now >= next_gap_ns) {
                next_gap_ns = now + faults.gap_every_ms * ms;
                market.inject_gap(std::nullopt, 1);
            }
        }
        if (faults.malformed_every_ms > 0) {
            if (next_malformed_ns == 0) {
                next_malformed_ns = now + faults.malformed_every_ms * ms;
            } else if (now >= next_malformed_ns) {
                next_malformed_ns = now + faults.malformed_every_ms * ms;
                send_malformed("truncated", 1);
            }
        }
        if (faults.ping_every_ms > 0) {
            if (next_ping_ns == 0) {
                next_ping_ns = now + faults.ping_every_ms * ms;
            } else if (now >= next_ping_ns) {
                next_ping_ns = now + faults.ping_every_ms * ms;
                ping_sessions(faults.pong_timeout_ms);
            }
        }

        for (const auto& session : std::vector(sessions)) {
            if (session->stall_until_ns != 0 && now >= session->stall_until_ns) {
                session->stall_until_ns = 0;
                session->kick();
            }
            const std::int64_t age = now - session->opened_ns;
            if (faults.drop_after_ms > 0 && age >= faults.drop_after_ms * ms) {
                ++stats.drops;
                session->drop();
                continue;
            }
            if (faults.shutdown_after_ms > 0 && !session->shutdown_notified &&
                age >= faults.shutdown_after_ms * ms) {
                const std::string event =
                    "{\"e\":\"serverShutdown\",\"E\":" + std::to_string(now / ms) + "}";
                ++stats.shutdown_events;
                session->shutdown_notified = true;
                session->shutdown_close_ns = now + faults.shutdown_grace_ms * ms;
                session->send(std::make_shared<const std::string>(event), false);
            }
            if (session->shutdown_notified && !session->age_closed &&
                now >= session->shutdown_close_ns) {
                session->age_closed = true;
                session->close_going_away("server shutdown");
                continue;
            }
            if (faults.max_connection_age_ms > 0 && !session->age_closed &&
                age >= faults.max_connection_age_ms * ms) {
                session->age_closed = true;
                session->close_going_away("connection age limit");
            }
        }
    }

    // HTTP routing.

    static response_type json_response(const request_type& request, http::status status,
                                       std::string body) {
        response_type response{status, request.version()};
        response.set(http::field::server, "quoter-venue");
        response.set(http::field::content_type, "application/json");
        response.keep_alive(request.keep_alive());
        response.body() = std::move(body);
        response.prepare_payload();
        return response;
    }

    void handle_http(const request_type& request, const responder& respond) {
        ++stats.http_requests;
        const std::string_view target = request.target();
        const std::size_t question = target.find('?');
        const std::string path(target.substr(0, question));
        const auto params = parse_query(
            question == std::string_view::npos ? std::string_view{} : target.substr(question + 1));
        if (path.starts_with("/control/")) {
            handle_control(request, path.substr(9), params, respond);
            return;
        }
        if (futures_api::serves(path)) {
            handle_futures(request, path,
                           question == std::string_view::npos ? std::string_view{}
                                                              : target.substr(question + 1),
                           respond);
            return;
        }
        if (request.method() != http::verb::get) {
            respond(json_response(request, http::status::method_not_allowed,
                                  R"({"code":-1,"msg":"Method not allowed."})"));
            return;
        }
        const bool futures = path.starts_with("/fapi/");
        if (market.futures && path.starts_with("/api/")) {
            // fapi.binance.com has no spot API: a futures client must not get answers there.
            respond(json_response(request, http::status::not_found,
                                  R"({"code":-1,"msg":"Unknown path."})"));
            return;
        }
        if (path == "/api/v3/depth" || path == "/fapi/v1/depth") {
            const auto symbol_param = params.find("symbol");
            const auto symbol =
                symbol_param == params.end() ? std::nullopt : market.find(symbol_param->second);
            if (!symbol) {
                respond(json_response(request, http::status::bad_request,
                                      R"({"code":-1121,"msg":"Invalid symbol."})"));
                return;
            }
            const auto limit = static_cast<std::size_t>(
                std::clamp<std::int64_t>(param_int(params, "limit", 100), 1, 5000));
            serve_snapshot(request, *symbol, limit, futures, respond,
                           wall_ns() + options.faults.snapshot_delay_ms * 1'000'000);
            return;
        }
        if (path == "/api/v3/exchangeInfo" || path == "/fapi/v1/exchangeInfo") {
            respond(json_response(request, http::status::ok,
                                  market.render_exchange_info(futures, wall_ms())));
            return;
        }
        if (path == "/api/v3/ping" || path == "/fapi/v1/ping") {
            respond(json_response(request, http::status::ok, "{}"));
            return;
        }
        if (path == "/fapi/v1/time") {
            if (std::optional<futures_answer> refused =
                    this->futures.refuse_time_request(wall_ms());
                refused) {
                respond(futures_response(request, *refused));
                return;
            }
            if (futures_time_drops > 0) {
                --futures_time_drops;
                ++futures_time_dropped;
                withheld.emplace_back(wall_ms() + 30'000, respond); // the connection closes then
                return;
            }
        }
        if (path == "/api/v3/time" || path == "/fapi/v1/time") {
            // The futures clock fault moves the futures time (the spot clock is the WebSocket
            // API's `time`).
            const std::int64_t offset = path == "/fapi/v1/time" ? this->futures.clock_offset() : 0;
            respond(json_response(request, http::status::ok,
                                  "{\"serverTime\":" + std::to_string(wall_ms() + offset) + "}"));
            return;
        }
        respond(json_response(request, http::status::not_found,
                              R"({"code":-1,"msg":"Unknown path."})"));
    }

    // Answers once the symbol's book is known and the configured delay has passed; the body
    // is rendered at that moment, so lastUpdateId is the last diff id at response time.
    void serve_snapshot(const request_type& request, std::size_t symbol, std::size_t limit,
                        bool futures, const responder& respond, std::int64_t not_before_ns) {
        const std::int64_t now = wall_ns();
        if (!market.at(symbol).seeded || now < not_before_ns) {
            auto timer = std::make_shared<asio::steady_timer>(loop.context());
            const std::int64_t wait_ns = market.at(symbol).seeded ? not_before_ns - now : 5'000'000;
            timer->expires_after(std::chrono::nanoseconds(wait_ns));
            timer->async_wait([self = shared_from_this(), timer, request, symbol, limit, futures,
                               respond, not_before_ns](error_code ec) {
                if (ec || self->stopped) {
                    return;
                }
                self->serve_snapshot(request, symbol, limit, futures, respond, not_before_ns);
            });
            return;
        }
        ++stats.snapshots_served;
        respond(json_response(request, http::status::ok,
                              market.render_snapshot(symbol, limit, futures, wall_ms())));
    }

    std::string render_stats() const {
        std::string out = "{\"sessions_open\":" + std::to_string(sessions.size());
        const auto add = [&out](const char* key, std::uint64_t value) {
            out += ",\"";
            out += key;
            out += "\":" + std::to_string(value);
        };
        add("sessions_total", stats.sessions_total);
        add("messages_sent", stats.messages_sent);
        add("bytes_sent", stats.bytes_sent);
        add("pings_sent", stats.pings_sent);
        add("pongs_received", stats.pongs_received);
        add("ping_timeouts", stats.ping_timeouts);
        add("snapshots_served", stats.snapshots_served);
        add("shutdown_events", stats.shutdown_events);
        add("drops", stats.drops);
        add("mutes", stats.mutes);
        add("malformed_sent", stats.malformed_sent);
        add("slow_consumer_drops", stats.slow_consumer_drops);
        add("http_requests", stats.http_requests);
        add("streams_refused", stats.streams_refused);
        add("ws_api_requests", orders.stats().requests);
        add("ws_api_signature_failures", orders.stats().signature_failures);
        add("orders_placed", orders.stats().orders_placed);
        add("buy_orders_placed", orders.stats().buy_orders_placed);
        add("orders_rejected", orders.stats().orders_rejected);
        add("orders_cancelled", orders.stats().orders_cancelled);
        add("order_answers_dropped", orders.stats().answers_dropped);
        add("open_orders", orders.open_order_count());
        add("failed_after_execute", orders.stats().failed_after_execute);
        add("cancel_alls_lost", orders.stats().cancel_alls_lost);
        add("cancels_lost", orders.stats().cancels_lost);
        add("trades", orders.stats().trades);
        add("buy_trades", orders.stats().buy_trades);
        add("trade_lists", orders.stats().trade_lists);
        add("user_events", orders.stats().user_events);
        add("user_subscriptions", orders.stats().subscriptions);
        add("logons", orders.stats().logons);
        add("unauthenticated_requests", orders.stats().unauthenticated);
        add("place_requests", orders.stats().place_requests);
        add("replace_requests", orders.stats().replace_requests);
        add("replaces_done", orders.stats().replaces_done);
        add("answers_429", orders.stats().answers_429);
        add("weight_limit_answers", orders.stats().weight_limit_answers);
        add("order_limit_answers", orders.stats().order_limit_answers);
        add("peak_weight_1m", static_cast<std::uint64_t>(orders.usage().peak_weight()));
        add("peak_orders_10s", static_cast<std::uint64_t>(orders.usage().peak_orders_10s()));
        add("peak_orders_1d", static_cast<std::uint64_t>(orders.usage().peak_orders_long()));
        add("weight_limit", static_cast<std::uint64_t>(orders.usage().weight_limit()));
        add("order_limit_10s", static_cast<std::uint64_t>(orders.usage().orders_10s_limit()));
        add("answers_418", orders.stats().answers_418);
        add("requests_in_backoff", orders.stats().requests_in_backoff);
        add("clock_rejects", orders.stats().clock_rejects);
        add("time_requests", orders.stats().time_requests);
        add("silenced_requests", orders.stats().silenced_requests);
        add("answers_delayed", orders.stats().answers_delayed);
        add("status_answers_delayed", orders.stats().status_answers_delayed);
        add("replace_halves_unknown", orders.stats().replace_halves_unknown);
        add("trade_events_garbled", orders.stats().trade_events_garbled);
        add("orders_late", orders.stats().orders_late);
        add("late_orders_expired", orders.stats().late_orders_expired);
        add("streams_terminated", orders.stats().streams_terminated);
        out += ",\"balances\":" + orders.balances_json();
        std::uint64_t withheld = 0;
        for (std::size_t i = 0; i < market.size(); ++i) {
            withheld += market.at(i).withheld;
        }
        add("depth_withheld", withheld);
        out += ",\"open_client_ids\":" + orders.open_client_ids_json();
        add("futures_requests", futures.stats().requests);
        add("futures_signature_failures", futures.stats().signature_failures);
        add("futures_orders_placed", futures.stats().orders_placed);
        add("futures_orders_rejected", futures.stats().orders_rejected);
        add("futures_orders_cancelled", futures.stats().orders_cancelled);
        add("futures_open_orders", futures.open_order_count());
        add("futures_trades", futures.stats().trades);
        add("futures_user_events", futures.stats().user_events);
        add("listen_keys_created", futures.stats().listen_keys_created);
        add("listen_keys_expired", futures.stats().listen_keys_expired);
        add("listen_keys_lost", futures.stats().listen_keys_lost);
        add("listen_key_keepalives", futures.stats().keepalives);
        add("countdown_heartbeats", futures.stats().heartbeats);
        add("countdown_cancels", futures.stats().countdown_cancels);
        add("countdowns_armed", futures.countdowns_armed());
        add("futures_silenced", futures.stats().silenced);
        add("futures_time_answers_dropped", futures_time_dropped);
        add("futures_answers_429", futures.stats().answers_429);
        add("futures_weight_limit_answers", futures.stats().weight_limit_answers);
        add("futures_order_limit_answers", futures.stats().order_limit_answers);
        add("futures_peak_weight_1m", static_cast<std::uint64_t>(futures.usage().peak_weight()));
        add("futures_peak_orders_10s",
            static_cast<std::uint64_t>(futures.usage().peak_orders_10s()));
        add("futures_peak_orders_1m",
            static_cast<std::uint64_t>(futures.usage().peak_orders_long()));
        add("futures_answers_418", futures.stats().answers_418);
        add("futures_requests_in_backoff", futures.stats().requests_in_backoff);
        add("futures_clock_rejects", futures.stats().clock_rejects);
        add("futures_account_reads", futures.stats().account_reads);
        add("futures_trade_lists", futures.stats().trade_lists);
        add("futures_answers_dropped", futures.stats().answers_dropped);
        add("futures_answers_delayed", futures.stats().answers_delayed);
        add("futures_status_answers_delayed", futures.stats().status_answers_delayed);
        add("futures_trade_events_garbled", futures.stats().trade_events_garbled);
        add("futures_orders_late", futures.stats().orders_late);
        add("futures_late_orders_expired", futures.stats().late_orders_expired);
        add("futures_failed_after_execute", futures.stats().failed_after_execute);
        add("futures_cancel_alls_lost", futures.stats().cancel_alls_lost);
        std::uint64_t user_streams = 0;
        for (const auto& session : sessions) {
            user_streams += session->listen_key.empty() ? 0 : 1;
        }
        add("futures_user_streams", user_streams);
        out += ",\"futures_open_client_ids\":" + futures.open_client_ids_json();
        out += ",\"futures_positions\":" + futures.positions_json();
        out += ",\"futures_wallet\":" + futures.wallet_json();
        out += ",\"stalled\":";
        out += stall_active ? "true" : "false";
        out += ",\"session_ids\":[";
        for (std::size_t i = 0; i < sessions.size(); ++i) {
            out += (i == 0 ? "" : ",") + std::to_string(sessions[i]->id);
        }
        out += "],\"session_prefixes\":[";
        for (std::size_t i = 0; i < sessions.size(); ++i) {
            out += (i == 0 ? "\"" : ",\"") + sessions[i]->prefix + "\"";
        }
        out += ']';
        if (extra_stats) {
            const std::string extra = extra_stats();
            if (!extra.empty()) {
                out += ',' + extra;
            }
        }
        out += '}';
        return out;
    }

    void handle_control(const request_type& request, const std::string& action,
                        const std::map<std::string, std::string>& params,
                        const responder& respond) {
        log("venue: control %s", action.c_str());
        const auto ok = [&](const std::string& extra = "") {
            respond(json_response(request, http::status::ok,
                                  "{\"ok\":true" + (extra.empty() ? "" : "," + extra) + "}"));
        };
        if (action == "stats") {
            respond(json_response(request, http::status::ok, render_stats()));
        } else if (action == "drop") {
            const std::int64_t id = param_int(params, "session", 0);
            const auto mode = params.find("mode");
            const auto prefix = params.find("path");
            drop_sessions(id > 0 ? std::optional<std::uint64_t>(id) : std::nullopt,
                          prefix != params.end() ? std::optional(prefix->second) : std::nullopt,
                          mode != params.end() && mode->second == "close");
            ok();
        } else if (action == "stall") {
            if (const auto prefix = params.find("path"); prefix != params.end()) {
                stall_prefix(prefix->second, param_int(params, "ms", 1'000));
            } else {
                stall(param_int(params, "ms", 1'000));
            }
            ok();
        } else if (action == "mute") {
            const std::int64_t ms = param_int(params, "ms", 1'000);
            const auto stream = params.find("stream");
            const bool user_streams = stream != params.end() && stream->second == "user";
            for (const auto& session : std::vector(sessions)) {
                if (user_streams && !session->listen_key.empty()) {
                    session->mute_now(ms);
                } else if (!user_streams && session->ws_api) {
                    session->mute_after_next_ms = ms;
                }
            }
            ok();
        } else if (action == "gap") {
            const auto count = static_cast<std::uint32_t>(param_int(params, "count", 1));
            std::optional<std::size_t> symbol;
            if (const auto it = params.find("symbol"); it != params.end()) {
                symbol = market.find(it->second);
                if (!symbol) {
                    respond(json_response(request, http::status::bad_request,
                                          R"({"ok":false,"msg":"unknown symbol"})"));
                    return;
                }
            }
            market.inject_gap(symbol, count);
            ok();
        } else if (action == "malformed") {
            const auto kind = params.find("kind");
            send_malformed(kind == params.end() ? "truncated" : kind->second,
                           param_int(params, "count", 1));
            ok();
        } else if (action == "snapshot_delay") {
            options.faults.snapshot_delay_ms = param_int(params, "ms", 0);
            ok();
        } else if (action == "shutdown") {
            send_server_shutdown(param_int(params, "after_ms", options.faults.shutdown_grace_ms));
            ok();
        } else if (action == "order_drop") {
            orders.drop_place_answers(static_cast<std::uint32_t>(param_int(params, "count", 1)));
            ok();
        } else if (action == "order_fail_after_execute") {
            orders.fail_after_execute(static_cast<std::uint32_t>(param_int(params, "count", 1)));
            ok();
        } else if (action == "cancel_all_lose") {
            orders.lose_cancel_alls(static_cast<std::uint32_t>(param_int(params, "count", 1)));
            ok();
        } else if (action == "cancel_lose") {
            orders.lose_cancels(static_cast<std::uint32_t>(param_int(params, "count", 1)));
            ok();
        } else if (action == "rate_limit") {
            const std::int64_t ms = param_int(params, "ms", 1'000);
            orders.limit_rate(wall_ms(), ms, param_int(params, "ban_ms", 2 * ms),
                              param_int(params, "ban", 0) != 0);
            ok();
        } else if (action == "clock_skew") {
            orders.set_clock_offset(param_int(params, "ms", 0));
            ok();
        } else if (action == "silence") {
            orders.silence(wall_ms(), param_int(params, "ms", 1'000));
            ok();
        } else if (action == "order_late") {
            orders.execute_late(static_cast<std::uint32_t>(param_int(params, "count", 1)),
                                param_int(params, "ms", 1'000));
            ok();
        } else if (action == "order_delay") {
            orders.delay_place_answers(static_cast<std::uint32_t>(param_int(params, "count", 1)),
                                       param_int(params, "ms", 1'000));
            ok();
        } else if (action == "replace_new_unknown") {
            orders.unknown_replace_halves(
                static_cast<std::uint32_t>(param_int(params, "count", 1)));
            ok();
        } else if (action == "trade_event_garble") {
            orders.garble_trade_events(static_cast<std::uint32_t>(param_int(params, "count", 1)));
            ok();
        } else if (action == "status_delay") {
            orders.delay_status_answers(static_cast<std::uint32_t>(param_int(params, "count", 1)),
                                        param_int(params, "ms", 1'000));
            ok();
        } else if (action == "balance") {
            // balance?set=BTC=5: an outside transfer the next account.status shows;
            // &wallet=futures: of the futures wallet, which the next GET /fapi/v2/account shows.
            const auto set = params.find("set");
            const auto parsed = set != params.end() ? parse_balance(set->second) : std::nullopt;
            if (!parsed) {
                respond(json_response(request, http::status::bad_request,
                                      "{\"error\":\"balance needs set=ASSET=AMOUNT\"}"));
                return;
            }
            const auto wallet = params.find("wallet");
            if (wallet != params.end() && wallet->second == "futures") {
                futures.set_wallet(parsed->first, parsed->second, wall_ms());
            } else {
                orders.set_balance(parsed->first, parsed->second, wall_ms());
            }
            ok();
        } else if (action == "fees") {
            // fees?bps=10[&asset=BNB&price=600 | &asset=received]: commission of spot trades
            // from now on.
            const auto asset = params.find("asset");
            const std::int64_t price = param_int(params, "price", 0);
            if (asset != params.end() && asset->second != "received" && price <= 0) {
                respond(json_response(request, http::status::bad_request,
                                      "{\"error\":\"fees in an asset need its price\"}"));
                return;
            }
            orders.set_fees(param_int(params, "bps", 0),
                            asset != params.end() ? asset->second : std::string{}, price);
            ok();
        } else if (action == "user_stream_kill") {
            terminate_user_streams(param_int(params, "notice_ms", 0));
            ok();
        } else if (action == "listen_key_expire") {
            futures.expire_listen_key(wall_ms());
            flush_futures_events();
            ok();
        } else if (action == "listen_key_lose") {
            futures.lose_listen_key();
            ok();
        } else if (action == "futures_silence") {
            futures.silence_until(wall_ms() + param_int(params, "ms", 1'000));
            ok();
        } else if (action == "futures_rate_limit") {
            const std::int64_t ms = param_int(params, "ms", 1'000);
            futures.limit_rate(wall_ms(), ms, param_int(params, "ban_ms", 2 * ms),
                               param_int(params, "ban", 0) != 0);
            ok();
        } else if (action == "futures_clock_skew") {
            futures.set_clock_offset(param_int(params, "ms", 0));
            ok();
        } else if (action == "futures_time_drop") {
            futures_time_drops = static_cast<std::uint64_t>(param_int(params, "count", 1));
            ok();
        } else if (action == "futures_time_rate_limit") {
            futures.limit_time_requests(static_cast<std::uint32_t>(param_int(params, "count", 1)),
                                        param_int(params, "ms", 1'000));
            ok();
        } else if (action == "futures_order_drop") {
            futures.drop_place_answers(static_cast<std::uint32_t>(param_int(params, "count", 1)));
            ok();
        } else if (action == "futures_order_delay") {
            futures.delay_place_answers(static_cast<std::uint32_t>(param_int(params, "count", 1)),
                                        param_int(params, "ms", 1'000));
            ok();
        } else if (action == "futures_trade_event_garble") {
            futures.garble_trade_events(static_cast<std::uint32_t>(param_int(params, "count", 1)));
            ok();
        } else if (action == "futures_status_delay") {
            futures.delay_status_answers(static_cast<std::uint32_t>(param_int(params, "count", 1)),
                                         param_int(params, "ms", 1'000));
            ok();
        } else if (action == "futures_order_late") {
            futures.execute_late(static_cast<std::uint32_t>(param_int(params, "count", 1)),
                                 param_int(params, "ms", 1'000));
            ok();
        } else if (action == "futures_fail_after_execute") {
            futures.fail_after_execute(static_cast<std::uint32_t>(param_int(params, "count", 1)));
            ok();
        } else if (action == "futures_cancel_all_lose") {
            futures.lose_cancel_alls(static_cast<std::uint32_t>(param_int(params, "count", 1)));
            ok();
        } else if (action == "futures_market_order") {
            // futures_market_order?symbol=BTCUSDT&side=SELL&qty=0.01: a fill of the account's
            // resting orders that no request of its own made.
            const auto name = params.find("symbol");
            const auto side = params.find("side");
            const auto qty = params.find("qty");
            const std::optional<std::size_t> symbol =
                name != params.end() ? market.find(name->second) : std::nullopt;
            std::optional<std::string> filled;
            if (symbol && side != params.end() && qty != params.end() &&
                (side->second == "BUY" || side->second == "SELL")) {
                filled = futures.outside_market_order(
                    *symbol, side->second == "BUY" ? core::side::buy : core::side::sell,
                    qty->second, wall_ms());
            }
            if (!filled) {
                respond(json_response(
                    request, http::status::bad_request,
                    R"({"ok":false,"msg":"needs a known symbol, side BUY or SELL and a qty"})"));
                return;
            }
            flush_futures_events();
            ok("\"filled\":\"" + *filled + "\"");
        } else if (action == "ping") {
            ping_sessions(param_int(params, "timeout_ms", options.faults.pong_timeout_ms));
            ok();
        } else {
            respond(json_response(request, http::status::not_found,
                                  R"({"ok":false,"msg":"unknown control action"})"));
        }
    }
};

// Transport-specific parts.

template <bool Secure>
using stream_type = std::conditional_t<Secure, beast::ssl_stream<tcp::socket>, tcp::socket>;

template <bool Secure> class ws_session final : public ws_session_base {
public:
    ws_session(stream_type<Secure>&& stream, std::shared_ptr<server_core> server)
        : ws_(std::move(stream)), server_(std::move(server)), pong_timer_(server_->loop.context()),
          close_timer_(server_->loop.context()) {}

    void run(request_type request) {
        const std::string_view target = request.target();
        const std::size_t question = target.find('?');
        const std::string_view path = target.substr(0, question);
        const std::string_view query =
            question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
        std::vector<std::string> streams;
        if (path.ends_with("/ws-api/v3")) {
            ws_api = true;
            api.connected_ms = wall_ms();
            prefix = std::string(path.substr(0, path.size() - 10));
        } else if (path.ends_with("/stream")) {
            combined = true;
            prefix = std::string(path.substr(0, path.size() - 7));
            const auto params = parse_query(query);
            if (const auto it = params.find("streams"); it != params.end()) {
                streams = split(it->second, '/');
            }
        } else if (const std::size_t ws_at = path.find("/ws"); ws_at != std::string_view::npos) {
            combined = false;
            prefix = std::string(path.substr(0, ws_at));
            streams = split(path.substr(ws_at + 3), '/');
        }
        for (const auto& name : streams) {
            server_->subscribe(*this, name);
        }
        has_streams_ = !streams.empty();

        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = std::chrono::seconds(5);
        timeouts.idle_timeout = websocket::stream_base::none();
        timeouts.keep_alive_pings = false;
        ws_.set_option(timeouts);
        websocket::permessage_deflate deflate;
        deflate.server_enable = false;
        ws_.set_option(deflate);
        ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
            response.set(http::field::server, "quoter-venue");
        }));
        ws_.auto_fragment(false);
        ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
            if (kind == websocket::frame_type::pong && awaiting_pong_) {
                awaiting_pong_ = false;
                ++server_->stats.pongs_received;
                pong_timer_.cancel();
            }
        });
        ws_.async_accept(request, [self = shared(), this](error_code ec) {
            if (ec) {
                return;
            }
            id = server_->next_session_id++;
            opened_ns = wall_ns();
            accepted_ = true;
            beast::get_lowest_layer(ws_).set_option(tcp::no_delay(true));
            server_->add_session(shared());
            if (has_streams_) {
                server_->subscribed();
            }
            read();
        });
    }

    void send(std::shared_ptr<const std::string> message, bool binary) override {
        if (!accepted_ || finished_ || closing_) {
            return;
        }
        if (queue_.size() >= server_->options.max_queued_messages) {
            ++server_->stats.slow_consumer_drops;
            drop();
            return;
        }
        queue_.push_back({std::move(message), binary});
        kick();
    }

    void kick() override {
        if (!writing_ && !queue_.empty() && !server_->stalled() && stall_until_ns == 0 &&
            !finished_ && !closing_) {
            write();
        }
    }

    void mute_now(std::int64_t ms) override {
        if (finished_) {
            return;
        }
        ++server_->stats.mutes;
        muted_ = true;
        stall_until_ns = wall_ns() + ms * 1'000'000;
        error_code ignored;
        beast::get_lowest_layer(ws_).cancel(ignored); // the read in flight: no pong from it
        auto timer = std::make_shared<asio::steady_timer>(server_->loop.context());
        timer->expires_after(std::chrono::milliseconds(ms));
        timer->async_wait([self = shared(), this, timer](error_code) {
            muted_ = false;
            finish();
        });
    }

    void drop() override {
        if (finished_) {
            return;
        }
        error_code ignored;
        beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(ws_).close(ignored);
    }

    void close_going_away(std::string reason) override {
        if (finished_ || closing_) {
            return;
        }
        closing_ = true;
        queue_.clear();
        close_timer_.expires_after(std::chrono::seconds(2));
        close_timer_.async_wait([self = shared(), this](error_code ec) {
            if (!ec) {
                drop();
            }
        });
        websocket::close_reason close{websocket::close_code::going_away};
        close.reason = reason.c_str();
        ws_.async_close(close, [self = shared(), this](error_code ec) {
            if (ec) {
                drop();
            }
        });
    }

    void ping(std::int64_t timeout_ms) override {
        if (finished_ || closing_ || awaiting_pong_ || ping_in_flight_) {
            return;
        }
        awaiting_pong_ = true;
        ping_in_flight_ = true;
        ++server_->stats.pings_sent;
        ws_.async_ping("venue", [self = shared(), this](error_code) { ping_in_flight_ = false; });
        pong_timer_.expires_after(std::chrono::milliseconds(timeout_ms));
        pong_timer_.async_wait([self = shared(), this](error_code ec) {
            if (!ec && awaiting_pong_) {
                ++server_->stats.ping_timeouts;
                drop();
            }
        });
    }

private:
    struct queued {
        std::shared_ptr<const std::string> message;
        bool binary = false;
    };

    std::shared_ptr<ws_session> shared() {
        return std::static_pointer_cast<ws_session>(shared_from_this());
    }

    void read() {
        read_buffer_.clear();
        ws_.async_read(read_buffer_, [self = shared(), this](error_code ec, std::size_t) {
            if (muted_) {
                return; // the mute's timer ends the session
            }
            if (ec) {
                finish();
                return;
            }
            handle_request(beast::buffers_to_string(read_buffer_.data()));
            if (const std::int64_t ms = std::exchange(mute_after_next_ms, 0); ms > 0) {
                mute_now(ms); // no read is armed again
                return;
            }
            read();
        });
    }

    // SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS, answered like Binance.
    void handle_request(const std::string& text) {
        if (ws_api) {
            std::string answer = server_->orders.handle(text, wall_ms(), &api);
            if (const auto subscription = server_->orders.take_subscription()) {
                user_subscription = subscription;
            }
            if (const std::int64_t late_ms = server_->orders.take_late_execution(); late_ms > 0) {
                // The order_late fault: the order reaches the matching engine later, whether or
                // not this connection still stands.
                auto timer = std::make_shared<asio::steady_timer>(server_->loop.context());
                timer->expires_after(std::chrono::milliseconds(late_ms));
                timer->async_wait([core = server_, timer](error_code ec) {
                    if (ec || core->stopped) {
                        return;
                    }
                    core->orders.execute_late_orders(wall_ms());
                    core->flush_user_events();
                });
            }
            if (const std::int64_t delay_ms = server_->orders.take_answer_delay();
                delay_ms > 0 && !answer.empty()) {
                // The order_delay and status_delay faults: the answer, made now, leaves late.
                auto timer = std::make_shared<asio::steady_timer>(server_->loop.context());
                timer->expires_after(std::chrono::milliseconds(delay_ms));
                timer->async_wait(
                    [self = shared(), this, timer,
                     late = std::make_shared<const std::string>(std::move(answer))](error_code ec) {
                        if (!ec) {
                            send(late, false);
                        }
                    });
            } else if (!answer.empty()) { // empty: withheld by a fault
                send(std::make_shared<const std::string>(std::move(answer)), false);
            }
            server_->flush_user_events();
            return;
        }
        const auto id_value = find_int_field(text, "id");
        const std::string id_text = id_value ? std::to_string(*id_value) : "null";
        std::vector<std::string> params;
        if (const std::size_t at = text.find("\"params\""); at != std::string::npos) {
            const std::size_t open = text.find('[', at);
            const std::size_t close = text.find(']', open);
            if (open != std::string::npos && close != std::string::npos) {
                for (std::size_t pos = open; pos < close;) {
                    const std::size_t q0 = text.find('"', pos);
                    if (q0 == std::string::npos || q0 > close) {
                        break;
                    }
                    const std::size_t q1 = text.find('"', q0 + 1);
                    if (q1 == std::string::npos) {
                        break;
                    }
                    params.push_back(text.substr(q0 + 1, q1 - q0 - 1));
                    pos = q1 + 1;
                }
            }
        }
        std::string reply;
        if (text.find("\"SUBSCRIBE\"") != std::string::npos) {
            for (const auto& name : params) {
                server_->subscribe(*this, name);
            }
            server_->subscribed();
            reply = "{\"result\":null,\"id\":" + id_text + "}";
        } else if (text.find("\"UNSUBSCRIBE\"") != std::string::npos) {
            for (const auto& name : params) {
                server_->unsubscribe(*this, name);
            }
            reply = "{\"result\":null,\"id\":" + id_text + "}";
        } else if (text.find("\"LIST_SUBSCRIPTIONS\"") != std::string::npos) {
            reply = "{\"result\":[";
            bool first = true;
            for (const auto& name : names) {
                if (!name.empty()) {
                    reply += (first ? "\"" : ",\"") + name + "\"";
                    first = false;
                }
            }
            reply += "],\"id\":" + id_text + "}";
        } else {
            reply = "{\"error\":{\"code\":2,\"msg\":\"Invalid request\"},\"id\":" + id_text + "}";
        }
        send(std::make_shared<const std::string>(std::move(reply)), false);
    }

    void write() {
        writing_ = true;
        ws_.binary(queue_.front().binary);
        ws_.async_write(asio::buffer(*queue_.front().message),
                        [self = shared(), this](error_code ec, std::size_t bytes) {
                            writing_ = false;
                            if (ec) {
                                drop();
                                return;
                            }
                            ++server_->stats.messages_sent;
                            server_->stats.bytes_sent += bytes;
                            if (!queue_.empty()) {
                                queue_.pop_front();
                            }
                            kick();
                        });
    }

    void finish() {
        if (finished_) {
            return;
        }
        finished_ = true;
        queue_.clear();
        pong_timer_.cancel();
        close_timer_.cancel();
        error_code ignored;
        beast::get_lowest_layer(ws_).close(ignored);
        if (accepted_) {
            server_->remove_session(id);
        }
    }

    websocket::stream<stream_type<Secure>> ws_;
    std::shared_ptr<server_core> server_;
    asio::steady_timer pong_timer_;
    asio::steady_timer close_timer_;
    beast::flat_buffer read_buffer_;
    std::deque<queued> queue_;
    bool has_streams_ = false;
    bool accepted_ = false;
    bool writing_ = false;
    bool closing_ = false;
    bool finished_ = false;
    bool awaiting_pong_ = false;
    bool muted_ = false; ///< mute_now(): nothing read or written until the session is dropped.
    bool ping_in_flight_ = false;
};

template <bool Secure>
class http_session final : public std::enable_shared_from_this<http_session<Secure>> {
public:
    http_session(stream_type<Secure>&& stream, std::shared_ptr<server_core> server)
        : stream_(std::move(stream)), server_(std::move(server)) {}

    void start() {
        if constexpr (Secure) {
            stream_.async_handshake(asio::ssl::stream_base::server,
                                    [self = this->shared_from_this()](error_code ec) {
                                        if (!ec) {
                                            self->read();
                                        }
                                    });
        } else {
            read();
        }
    }

private:
    void read() {
        parser_.emplace();
        parser_->header_limit(1u << 20);
        parser_->body_limit(1u << 20);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(const error_code& ec) {
        if (ec) {
            error_code ignored;
            beast::get_lowest_layer(stream_).close(ignored);
            return;
        }
        request_type request = parser_->release();
        if (websocket::is_upgrade(request)) {
            std::make_shared<ws_session<Secure>>(std::move(stream_), server_)
                ->run(std::move(request));
            return;
        }
        const auto self = this->shared_from_this();
        server_->handle_http(request,
                             [self](response_type response) { self->write(std::move(response)); });
    }

    void write(response_type response) {
        auto message = std::make_shared<response_type>(std::move(response));
        http::async_write(stream_, *message,
                          [self = this->shared_from_this(), message](error_code ec, std::size_t) {
                              if (ec || !message->keep_alive()) {
                                  error_code ignored;
                                  beast::get_lowest_layer(self->stream_).close(ignored);
                                  return;
                              }
                              self->read();
                          });
    }

    stream_type<Secure> stream_;
    std::shared_ptr<server_core> server_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
};

void accept_next(const std::shared_ptr<server_core>& server) {
    server->acceptor.async_accept([server](error_code ec, tcp::socket socket) {
        if (server->stopped) {
            return;
        }
        if (!ec) {
            error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            if (server->tls) {
                std::make_shared<http_session<true>>(
                    stream_type<true>(std::move(socket), *server->tls), server)
                    ->start();
            } else {
                std::make_shared<http_session<false>>(std::move(socket), server)->start();
            }
        }
        accept_next(server);
    });
}

} // namespace

struct venue_server::impl {
    std::shared_ptr<server_core> core;
};

venue_server::venue_server(net::io_loop& loop, market_state& market, server_options options)
    : impl_(std::make_shared<impl>()) {
    impl_->core = std::make_shared<server_core>(loop, market, std::move(options));
}

venue_server::~venue_server() {
    shutdown();
}

core::result<std::uint16_t, std::string> venue_server::listen() {
    server_core& core = *impl_->core;
    core.on_first_subscriber = on_first_subscriber;
    core.extra_stats = extra_stats;
    error_code ec;
    if (!core.options.cert_file.empty() || !core.options.key_file.empty()) {
        core.tls.emplace(asio::ssl::context::tls_server);
        core.tls->set_options(asio::ssl::context::default_workarounds |
                              asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3);
        core.tls->use_certificate_chain_file(core.options.cert_file, ec);
        if (ec) {
            return core::unexpected{"certificate " + core.options.cert_file + ": " + ec.message()};
        }
        core.tls->use_private_key_file(core.options.key_file, asio::ssl::context::pem, ec);
        if (ec) {
            return core::unexpected{"key " + core.options.key_file + ": " + ec.message()};
        }
    }
    const auto address = asio::ip::make_address(core.options.host, ec);
    if (ec) {
        return core::unexpected{"bad host " + core.options.host};
    }
    const tcp::endpoint endpoint(address, core.options.port);
    core.acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        core.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        core.acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        core.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return core::unexpected{"listen on " + core.options.host + ":" +
                                std::to_string(core.options.port) + ": " + ec.message()};
    }
    accept_next(impl_->core);
    core.arm_housekeeping();
    return core.acceptor.local_endpoint().port();
}

void venue_server::shutdown() {
    server_core& core = *impl_->core;
    if (core.stopped) {
        return;
    }
    core.stopped = true;
    error_code ignored;
    core.acceptor.close(ignored);
    core.housekeeping.cancel();
    core.withheld.clear(); // they hold their sessions, which hold the core
    core.delayed.clear();
    for (const auto& session : std::vector(core.sessions)) {
        session->drop();
    }
}

void venue_server::publish(std::size_t symbol, channel kind, std::string_view data) {
    if (!impl_->core->sessions.empty()) {
        impl_->core->publish(symbol, kind, data);
    }
}

} // namespace quoter::venue
