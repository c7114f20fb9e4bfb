// binance_futures_gateway's implementation (the contract is in binance_futures_gateway.hpp).
// One piece, about 1,250 lines: the I/O thread's REST orders, listenKey stream, countdown
// heartbeat, reconciliation and status queries are one state machine over one order table and
// the shared report funnel; split, each part would need the others' state.
#include "quoter/exec/binance_futures_gateway.hpp"

#include "binance_reconciliation.hpp"
#include "binance_reconnect.hpp"
#include "net/tls_context.hpp"
#include "net/ws_connection.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/spsc_ring.hpp"
#include "quoter/exec/binance_answer.hpp"
#include "quoter/exec/binance_client_id.hpp"
#include "quoter/exec/binance_futures_requests.hpp"
#include "quoter/exec/binance_holdings.hpp"
#include "quoter/exec/binance_kill_confirmation.hpp"
#include "quoter/exec/binance_report_funnel.hpp"
#include "quoter/exec/binance_signer.hpp"
#include "quoter/exec/binance_user_data.hpp"
#include "quoter/exec/report_backlog.hpp"
#include "quoter/exec/request_slots.hpp"
#include "quoter/net/io_loop.hpp"
#include "quoter/net/rest_client.hpp"
#include "quoter/net/url.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace quoter::exec {
namespace {

enum class request_kind : std::uint8_t {
    place,
    cancel,
    cancel_all,
    status,           ///< GET /fapi/v1/order: resolves an unknown placement or cancel.
    time,             ///< GET /fapi/v1/time: clock offset.
    listen_key,       ///< POST /fapi/v1/listenKey.
    keepalive,        ///< PUT /fapi/v1/listenKey.
    open_orders,      ///< Reconciliation: GET /fapi/v1/openOrders (every symbol).
    account,          ///< Reconciliation: GET /fapi/v2/account (positions and wallets).
    position_mode,    ///< Reconciliation: GET /fapi/v1/positionSide/dual (one-way or hedge).
    reconcile_cancel, ///< Reconciliation: DELETE /fapi/v1/order of an order this run does not own.
    kill_check,       ///< After a cancel-all: GET /fapi/v1/openOrders of the symbol.
    heartbeat,        ///< POST /fapi/v1/countdownCancelAll.
    trades,           ///< GET /fapi/v1/userTrades of one order: fills an answer told.
};

/// A 429 or 418 to a placement or cancel reaches the owner as its reject report, which the risk
/// layer counts toward the API error storm; a query's, a cancel-all's and every other request's
/// is counted here, as a venue failure.
[[nodiscard]] constexpr bool refusal_reported(request_kind kind) noexcept {
    return kind == request_kind::place || kind == request_kind::cancel;
}

/// One signed request on its way from the core thread to the I/O thread.
struct outgoing_request {
    std::array<char, max_request_bytes> text{};
    std::uint16_t size = 0;
    http_method method = http_method::get;
    request_kind kind = request_kind::place;
    std::uint64_t request_id = 0;
    order_request order; ///< place: the order; cancel: id and symbol; cancel_all: symbol.
    /// place: the request's signed `timestamp` (venue ms): the venue may execute it until
    /// this + recvWindow.
    std::int64_t signed_ms = 0;
};

/// A request the I/O thread sent and has no answer for yet. I/O thread only.
struct pending_request {
    std::uint64_t request_id = 0;
    request_kind kind = request_kind::place;
    bool active = false;
    bool timed_out = false;  ///< Reported unknown / queried already.
    bool retried = false;    ///< -1021 retry used.
    bool await_time = false; ///< Placement waiting for the clock resync to be sent again.
    bool for_cancel = false; ///< status: resolving a cancel, not a placement.
    /// status: one of the reconciliation's queries of this run's acknowledged orders (of
    /// `generation`), which it waits for; not a placement whose outcome is unknown. trades:
    /// the trades such a query found the order made, which the reconciliation waits for in
    /// its stead.
    bool reconcile_step = false;
    std::int64_t sent_ms = 0; ///< Local wall time of sending.
    /// place, and the status queries resolving it: the placement request's signed `timestamp`
    /// (venue ms; 0: none). Until it + recvWindow has passed, a query's "no such order" means
    /// not yet (order_report_funnel::window_of).
    std::int64_t signed_ms = 0;
    /// Sent again (re-encoded) at this local time; 0: not waiting. Requests the limiter held
    /// back and queries that must be asked again wait here.
    std::int64_t retry_at_ms = 0;
    std::uint64_t generation = 0; ///< Reconciliation round of reconciliation requests.
    std::uint32_t kill_epoch = 0; ///< cancel_all, kill_check: the kill's epoch when sent.
    order_request order;
    venue_client_id foreign_id;    ///< reconcile_cancel: the order's client id on the venue.
    std::uint64_t exchange_id = 0; ///< trades: the venue's order id.
    std::uint32_t attempt = 0;     ///< trades: which request for the order's trades (from 1).
};

constexpr std::size_t request_ring = 256;
constexpr std::size_t report_ring = 1024;
/// Reports kept, in order, while the ring to the core is full: every one is a fill or an end the
/// core must see (16 times the ring, under 2 MB).
constexpr std::size_t report_backlog_capacity = 16 * report_ring;
constexpr std::size_t pending_slots = 1024;
/// Slots the core's requests may not take: the I/O thread's own requests (the queries that
/// resolve the core's requests, kill checks, reconciliation) always find room.
constexpr std::size_t own_request_reserve = 256;

std::int64_t wall_ns() noexcept {
    return core::wall_clock{}.now();
}

std::int64_t wall_ms() noexcept {
    return wall_ns() / core::ns_per_ms;
}

net::http_method to_net(http_method method) noexcept {
    switch (method) {
    case http_method::get:
        return net::http_method::get;
    case http_method::post:
        return net::http_method::post;
    case http_method::put:
        return net::http_method::put;
    case http_method::del:
        return net::http_method::del;
    }
    return net::http_method::get;
}

/// The request never reached the venue: it cannot have executed.
bool never_sent(net::rest_error error) noexcept {
    switch (error) {
    case net::rest_error::bad_url:
    case net::rest_error::tls_setup:
    case net::rest_error::resolve_failed:
    case net::rest_error::connect_failed:
    case net::rest_error::tls_failed:
        return true;
    case net::rest_error::none:
    case net::rest_error::timed_out:
    case net::rest_error::io_error:
    case net::rest_error::too_large:
        break;
    }
    return false;
}

std::int64_t header_number(const net::rest_response& response, std::string_view name) {
    const std::string_view text = response.header(name);
    std::int64_t value = -1;
    if (text.empty() ||
        std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc{}) {
        return -1;
    }
    return value;
}

/// The string value of "name" in a small flat JSON object ("" when absent).
std::string_view json_string(std::string_view body, std::string_view name) {
    std::string key = "\"";
    key += name;
    key += "\":\"";
    const auto at = body.find(key);
    if (at == std::string_view::npos) {
        return {};
    }
    const auto first = at + key.size();
    const auto last = body.find('"', first);
    return last == std::string_view::npos ? std::string_view{} : body.substr(first, last - first);
}

/// The boolean `name` of a flat JSON object, written true or "true" (false alike); empty when
/// absent or not a boolean.
std::optional<bool> json_flag(std::string_view body, std::string_view name) {
    std::string key = "\"";
    key += name;
    key += '"';
    std::size_t at = body.find(key);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    at = body.find_first_not_of(" \t\r\n", at + key.size());
    if (at == std::string_view::npos || body[at] != ':') {
        return std::nullopt;
    }
    at = body.find_first_not_of(" \t\r\n\"", at + 1);
    const std::string_view value = at == std::string_view::npos ? "" : body.substr(at);
    if (value.starts_with("true")) {
        return true;
    }
    if (value.starts_with("false")) {
        return false;
    }
    return std::nullopt;
}

} // namespace

struct binance_futures_gateway::impl final : net::detail::ws_listener, report_funnel_output {
    impl(binance_futures_gateway_config cfg, std::span<const core::symbol_spec> syms)
        : config(std::move(cfg)), symbols(syms), signer(config.secret),
          core_encoder(signer, config.recv_window_ms), io_encoder(signer, config.recv_window_ms),
          ids(config.id_tag, config.start_us), decoder(syms), user_decoder(syms),
          limiter(config.limiter),
          kills(syms.size(), {.check_delay_ms = config.kill_check_delay_ms,
                              .confirm_attempts = config.kill_confirm_attempts}),
          kill_requests(syms.size(), 0), funnel(*this, counters.fills) {
        for (const rate_limit_rule& rule : config.rate_limits) {
            (void)limiter.add_rule(rule);
        }
        config.secret.assign(config.secret.size(), '\0');
        config.secret.clear();
    }

    // ---- core thread -------------------------------------------------------------------------

    [[nodiscard]] std::int64_t venue_ms(core::timestamp_ns now) const noexcept {
        return now / core::ns_per_ms + offset_ms.load(std::memory_order_relaxed);
    }

    gateway_error push(outgoing_request& request, rest_request encoded) noexcept {
        if (!encoded.ok()) {
            return gateway_error::queue_full; // cannot be encoded: never sent
        }
        request.method = encoded.method;
        request.size = static_cast<std::uint16_t>(encoded.target.size());
        if (!to_io.try_push(request)) {
            return gateway_error::queue_full;
        }
        if (io_waits_on_core) {
            io_wakeup.notify(); // a system call only while the I/O thread sleeps
        }
        return gateway_error::none;
    }

    // ---- I/O thread: the loop ----------------------------------------------------------------

    void run() {
        net::rest_config rest_config;
        rest_config.base_url = config.rest_url;
        rest_config.max_connections = config.max_connections;
        rest_config.request_timeout_ms = config.request_timeout_ms;
        rest = std::make_unique<net::rest_client>(loop, rest_config);
        request_time(wall_ms());
        core::idle_waiter waiter(config.idle, &io_wakeup);
        const std::int64_t max_block_ns = std::max<std::int64_t>(1, config.max_block_us) * 1'000;
        while (!stopping.load(std::memory_order_acquire)) {
            if (loop.stopped()) {
                loop.restart();
            }
            std::size_t work = loop.poll();
            const std::int64_t now_ms = wall_ms();
            if (stream == nullptr && !key_requested && now_ms >= reconnect_at_ms) {
                request_listen_key(now_ms);
            }
            work += backlog.flush(to_core); // what the core had no room for, in order
            work += to_io.pop_batch([&](const outgoing_request& request) { send(request); });
            if (now_ms != last_scan_ms) {
                last_scan_ms = now_ms;
                scan(now_ms);
            }
            if (work == 0) {
                waiter.idle([&] { return to_io.front() != nullptr; }, max_block_ns);
            }
        }
        close_stream();
        rest.reset(); // pending callbacks never run
        loop.poll();
    }

    /// Sends a core request (already encoded) through the limiter.
    void send(const outgoing_request& request) {
        const std::int64_t now_ms = wall_ms();
        if (request.kind == request_kind::place && may_rest(request.order)) {
            // The owner quotes again, so it resumed: only flatten orders (IOC) go out while
            // killed.
            kills.end(request.order.symbol);
        }
        // The slot claimed below is free, and the I/O thread's own requests find room.
        const bool has_slot = pending.has_room(own_request_reserve);
        if (!has_slot || limiter.try_send(class_of(request.kind), weight_of(request.kind, false),
                                          now_ms * core::ns_per_ms) != admit_result::ok) {
            // Never left the process: the venue cannot have it.
            (has_slot ? counters.rate_limited : counters.request_table_full)
                .fetch_add(1, std::memory_order_relaxed);
            if (request.kind == request_kind::place) {
                exec_report r = report_of(request.order, exec_kind::reject);
                r.reason = reject_reason::held_back;
                deliver(r);
            } else if (request.kind == request_kind::cancel) {
                exec_report r = report_of(request.order, exec_kind::cancel_reject);
                r.reason = reject_reason::held_back;
                deliver(r);
            } else if (request.kind == request_kind::cancel_all) {
                // A kill held back (a 429 or 418 lasts): never dropped. The confirming query
                // goes out once the venue allows and sends the cancel-all again while anything
                // rests.
                hold_kill(request.order.symbol, now_ms);
            }
            return;
        }
        pending_request& p = *claim_slot(request.request_id);
        p.kind = request.kind;
        p.order = request.order;
        if (request.kind == request_kind::place) {
            p.signed_ms = request.signed_ms;
            funnel.open(request.order);
        }
        if (request.kind == request_kind::cancel_all) {
            // Held from now on: whatever becomes of this request, a query confirms the kill.
            p.kill_epoch = kills.sent(request.order.symbol);
        }
        transmit(p, request.method, {request.text.data(), request.size}, now_ms, true);
    }

    /// The kill of symbol (all_symbols: every one) is confirmed by a query as soon as the
    /// limiter lets it out, and sent again while anything rests.
    void hold_kill(std::uint32_t symbol, std::int64_t now_ms) {
        for (std::uint32_t s = 0; s < symbols.size(); ++s) {
            if (symbol == all_symbols || symbol == s) {
                kills.held(s, now_ms);
            }
        }
    }

    /// A cleared slot for request `id`; nullptr when every slot waits for an answer (counted).
    [[nodiscard]] pending_request* claim_slot(std::uint64_t id) noexcept {
        pending_request* const p = pending.claim(id);
        if (p == nullptr) {
            counters.request_table_full.fetch_add(1, std::memory_order_relaxed);
            return nullptr;
        }
        return p;
    }

    /// Hands one request to the REST client; its answer comes back through on_response.
    /// stamp_written: a core request's first sending, whose written stamp (bytes handed to the
    /// socket, core::tsc_clock) goes back to the core.
    void transmit(pending_request& p, http_method method, std::string_view target,
                  std::int64_t now_ms, bool stamp_written = false) {
        p.active = true;
        p.sent_ms = now_ms;
        p.retry_at_ms = 0;
        net::rest_request request;
        request.method = to_net(method);
        request.target.assign(target);
        request.headers.emplace_back("X-MBX-APIKEY", config.api_key);
        const std::uint64_t id = p.request_id;
        if (stamp_written) {
            request.on_written = [this, id] {
                // full: dropped
                (void)written.try_push(
                    written_stamp{.request_id = id, .at = core::tsc_clock::process().now()});
            };
        }
        rest->send(std::move(request),
                   [this, id](net::rest_response&& response) { on_response(id, response); });
        counters.sent.fetch_add(1, std::memory_order_relaxed);
    }

    /// Sends a request the I/O thread wrote itself (queries, reconciliation, heartbeat) through
    /// the limiter; held back, it is written and sent again at the next scan.
    void send_own(pending_request& p, rest_request encoded, std::int64_t now_ms) {
        p.active = true;
        p.sent_ms = now_ms;
        if (!encoded.ok()) {
            p.active = false;
            return;
        }
        if (limiter.try_send(class_of(p.kind), weight_of(p.kind, p.order.symbol == all_symbols),
                             now_ms * core::ns_per_ms) != admit_result::ok) {
            counters.rate_limited.fetch_add(1, std::memory_order_relaxed);
            p.retry_at_ms = now_ms + 1;
            return;
        }
        transmit(p, encoded.method, encoded.target, now_ms);
    }

    /// A foreign order's fill makes a reconciliation due (detail::foreign_fill_reconciles).
    void reconcile_for_foreign_fill(std::int64_t now_ms) {
        if (foreign_reconciles.start_now(now_ms, config.foreign_fill_reconcile_ms,
                                         stream_open && ready.load(std::memory_order_relaxed))) {
            start_reconcile(now_ms);
        }
    }

    void scan(std::int64_t now_ms) {
        pending.recount();
        check_kills(now_ms);
        reconcile_for_foreign_fill(now_ms);
        for (pending_request& p : pending) {
            if (p.active && p.retry_at_ms != 0 && now_ms >= p.retry_at_ms) {
                p.retry_at_ms = 0;
                reissue(p, now_ms);
            }
        }
        if (reconcile_at_ms != 0 && now_ms >= reconcile_at_ms) {
            reconcile_at_ms = 0;
            if (stream_open) {
                start_reconcile(now_ms);
            }
        }
        watch_stream(now_ms);
        if (stream_open && now_ms >= next_keepalive_ms) {
            if (pending_request* const q = claim_slot(take_io_id()); q != nullptr) {
                next_keepalive_ms = now_ms + config.listen_key_keepalive_ms;
                q->kind = request_kind::keepalive;
                send_own(*q, futures_request_encoder::listen_key(http_method::put), now_ms);
            } else {
                next_keepalive_ms = now_ms + 1'000; // every slot waits: tried again in a second
            }
        }
        if (heartbeat_armed && config.heartbeat_ms > 0 && now_ms >= next_heartbeat_ms) {
            next_heartbeat_ms = now_ms + config.heartbeat_ms;
            for (std::uint32_t symbol = 0; symbol < symbols.size(); ++symbol) {
                send_heartbeat(symbol, now_ms);
            }
        }
    }

    /// A listenKey the venue forgot without a word leaves its stream open and silent: fills
    /// would go unseen until the next keep-alive, up to listen_key_keepalive_ms later. Every
    /// placement the venue accepts is told on the stream too (ORDER_TRADE_UPDATE NEW); when
    /// stream_silence_ms passes after such an answer with nothing on the stream, the key is
    /// kept alive at once, which a forgotten key answers -1125: a new key, a new stream and a
    /// reconciliation that finds what was missed.
    void watch_stream(std::int64_t now_ms) {
        if (!stream_open || stream_owed_since_ms == 0 ||
            now_ms - stream_owed_since_ms < config.stream_silence_ms) {
            return;
        }
        stream_owed_since_ms = 0;
        futures.stream_silences.fetch_add(1, std::memory_order_relaxed);
        next_keepalive_ms = std::min(next_keepalive_ms, now_ms);
    }

    /// Connected, not ready, and reconciling as it should (detail::reconciliation_clock). Any
    /// thread.
    [[nodiscard]] bool reconciling() const noexcept {
        return open.load(std::memory_order_acquire) &&
               reconciliation.on_track(wall_ms(),
                                       counters.reconcile_failures.load(std::memory_order_relaxed),
                                       config.request_timeout_ms);
    }

    /// Writes and sends again a request that waits (held by the limiter, or asked again).
    void reissue(pending_request& p, std::int64_t now_ms) {
        switch (p.kind) {
        case request_kind::status:
            query(p, now_ms);
            return;
        case request_kind::trades:
            send_trades(p, now_ms);
            return;
        case request_kind::place:
            resend_place(p, now_ms);
            return;
        case request_kind::open_orders:
        case request_kind::account:
        case request_kind::position_mode:
            if (p.generation == reconcile_generation) {
                send_reconcile_query(p, now_ms);
            } else {
                p.active = false;
            }
            return;
        case request_kind::reconcile_cancel:
            send_reconcile_cancel(p, now_ms);
            return;
        case request_kind::time:
            p.active = false;
            request_time(now_ms);
            return;
        case request_kind::listen_key:
            send_own(p, futures_request_encoder::listen_key(http_method::post), now_ms);
            return;
        case request_kind::keepalive:
            send_own(p, futures_request_encoder::listen_key(http_method::put), now_ms);
            return;
        case request_kind::heartbeat:
            p.active = false; // the next heartbeat goes out on time anyway
            return;
        case request_kind::kill_check:
            p.active = false;
            // The limiter had no room: asked again a check delay later (under a new id).
            check_kill_again(p, now_ms, config.kill_check_delay_ms);
            return;
        case request_kind::cancel_all:
            send_own(p,
                     io_encoder.cancel_all(io_buffer, symbols[p.order.symbol].name().view(),
                                           now_ms + offset_ms.load()),
                     now_ms);
            return;
        case request_kind::cancel:
            resend_cancel(p, now_ms); // a -1021 retry the limiter held back
            return;
        }
    }

    // ---- answers -----------------------------------------------------------------------------

    /// An answer's outcome for the limiter: a 429 or 418 holds every request until its
    /// Retry-After, counted as a backoff or a ban (the owner raises venue_ban).
    void take_outcome(const api_answer& answer, std::int64_t now_ms) {
        limiter.on_outcome(answer.outcome, answer.retry_after_ms, now_ms * core::ns_per_ms,
                           answer.code);
        if (answer.outcome == answer_outcome::retry_after) {
            counters.backoffs.fetch_add(1, std::memory_order_relaxed);
        } else if (answer.outcome == answer_outcome::banned) {
            counters.bans.fetch_add(1, std::memory_order_relaxed);
        }
    }

    void on_response(std::uint64_t id, const net::rest_response& response) {
        pending_request* const waiting = pending.find(id);
        if (waiting == nullptr) {
            return; // resolved meanwhile (e.g. by a query)
        }
        pending_request& p = *waiting;
        const std::int64_t now_ms = wall_ms();
        if (response.error != net::rest_error::none) {
            on_transport_error(p, response.error, now_ms);
            return;
        }
        counters.answers.fetch_add(1, std::memory_order_relaxed);
        if (p.kind == request_kind::time) {
            if (response.status == 429 || response.status == 418) {
                // The clock request counts against the limits as any request does: its 429 or
                // 418 holds what waited for the clock (sent again below, with the offset as it
                // is) until the Retry-After, as any other answer's would.
                take_outcome(decoder.decode_rest(response.status, response.body, {},
                                                 header_number(response, "Retry-After"), now_ms),
                             now_ms);
            }
            resync_time(response.body, p.sent_ms, now_ms);
            p.active = false;
            return;
        }
        const api_answer& answer =
            decoder.decode_rest(response.status, response.body,
                                {.weight_1m = header_number(response, "X-MBX-USED-WEIGHT-1M"),
                                 .orders_10s = header_number(response, "X-MBX-ORDER-COUNT-10S"),
                                 .orders_1m = header_number(response, "X-MBX-ORDER-COUNT-1M")},
                                header_number(response, "Retry-After"), now_ms);
        if (answer.outcome != answer_outcome::ok) {
            counters.api_errors.fetch_add(1, std::memory_order_relaxed);
        }
        if (answer.outcome == answer_outcome::unknown ||
            answer.outcome == answer_outcome::malformed ||
            (refused_for_rate(answer.outcome) && !refusal_reported(p.kind))) {
            counters.venue_failures.fetch_add(1, std::memory_order_relaxed);
        }
        limiter.on_usage(answer.usage, now_ms * core::ns_per_ms,
                         offset_ms.load(std::memory_order_relaxed) * core::ns_per_ms);
        take_outcome(answer, now_ms);
        if (answer.outcome == answer_outcome::clock_skew && p.kind != request_kind::place &&
            p.kind != request_kind::cancel) {
            // Orders and cancels resync and retry themselves; any other request refused -1021
            // (a query, the kill's confirmation, the heartbeat) is asked again later anyway, with
            // the clock resynced meanwhile.
            request_time(now_ms);
        }
        switch (p.kind) {
        case request_kind::place:
            on_place_answer(p, answer, now_ms);
            return;
        case request_kind::cancel:
            on_cancel_answer(p, answer, now_ms);
            return;
        case request_kind::cancel_all:
            on_cancel_all_answer(p, now_ms);
            return;
        case request_kind::status: {
            const bool step = p.reconcile_step && p.generation == reconcile_generation;
            // A fill the answer tells is reported from the order's trades: the trades query
            // (want_trades, called from the resolution) takes the step on, so that no new
            // order is taken before the fill is reported.
            step_for_trades = step;
            on_status_answer(p, answer, now_ms);
            const bool handed_on = step && !step_for_trades;
            step_for_trades = false;
            if (step && !p.active && !handed_on) {
                finish_reconcile_step(now_ms); // one of this run's orders is known again
            }
            return;
        }
        case request_kind::trades:
            on_trades_answer(p, answer, now_ms);
            return;
        case request_kind::listen_key:
            on_listen_key_answer(p, response.body, answer, now_ms);
            return;
        case request_kind::keepalive:
            p.active = false;
            if (answer.outcome == answer_outcome::ok) {
                futures.keepalives.fetch_add(1, std::memory_order_relaxed);
            } else if (answer.outcome == answer_outcome::listen_key_invalid) {
                futures.listen_key_expired.fetch_add(1, std::memory_order_relaxed);
                restart_stream(now_ms);
            }
            return;
        case request_kind::open_orders:
        case request_kind::account:
        case request_kind::reconcile_cancel:
            on_reconcile_answer(p, answer, now_ms);
            return;
        case request_kind::position_mode:
            on_position_mode_answer(p, response.body, answer, now_ms);
            return;
        case request_kind::kill_check:
            on_kill_check_answer(p, answer, now_ms);
            return;
        case request_kind::heartbeat:
            p.active = false;
            (answer.outcome == answer_outcome::ok ? futures.heartbeats : futures.heartbeat_failures)
                .fetch_add(1, std::memory_order_relaxed);
            return;
        case request_kind::time:
            return;
        }
    }

    void on_status_answer(pending_request& p, const api_answer& answer, std::int64_t now_ms) {
        // resolve_status ignores the window for a cancel's query (whose signed_ms is 0 anyway).
        // Judged when the query left, not when its answer came: the venue answered somewhere in
        // between, and an answer that took long must not close a window the venue still had
        // open when it said "no such order".
        const placement_window window = order_report_funnel::window_of(
            p.signed_ms, config.recv_window_ms, p.sent_ms + offset_ms.load());
        switch (funnel.resolve_status(p.order, p.for_cancel, answer, window)) {
        case status_resolution::resolved:
            p.active = false;
            return;
        case status_resolution::ask_again: // says nothing about the order (5xx, 429, ...)
            p.retry_at_ms = now_ms + config.request_timeout_ms;
            return;
        case status_resolution::not_yet:
            // No such order, but the venue may still execute the placement: asked again soon,
            // until its recvWindow has passed (then -2013 is final).
            p.retry_at_ms = now_ms + std::max<std::int64_t>(config.not_yet_requery_ms, 1);
            return;
        }
    }

    // ---- trades of an order whose fills an answer told (order_report_funnel) ---------------

    /// The funnel wants the trades of an order (I/O thread: the funnel runs there).
    void want_trades(const order_request& order, std::uint64_t exchange_id) override {
        if (exchange_id == 0) {
            // No venue order id to ask by: the fills as the answer told them.
            (void)funnel.trades_answered(order, {}, order_report_funnel::max_trade_attempts);
            return;
        }
        pending_request* const slot = claim_slot(take_io_id());
        if (slot == nullptr) {
            // Every slot waits (never expected): the fills as the answer told them.
            (void)funnel.trades_answered(order, {}, order_report_funnel::max_trade_attempts);
            return;
        }
        pending_request& q = *slot;
        q.kind = request_kind::trades;
        q.order = order;
        q.exchange_id = exchange_id;
        q.attempt = 1;
        send_trades(q, wall_ms());
        if (step_for_trades && q.active) {
            step_for_trades = false;
            q.reconcile_step = true;
            q.generation = reconcile_generation;
        }
    }

    /// A trades query is done (reported, or given up after its last attempt).
    void trades_done(pending_request& p, std::int64_t now_ms) {
        p.active = false;
        if (p.reconcile_step && p.generation == reconcile_generation) {
            finish_reconcile_step(now_ms);
        }
    }

    void send_trades(pending_request& q, std::int64_t now_ms) {
        counters.trade_queries.fetch_add(1, std::memory_order_relaxed);
        send_own(q,
                 io_encoder.user_trades(io_buffer, symbols[q.order.symbol].name().view(),
                                        q.exchange_id, now_ms + offset_ms.load()),
                 now_ms);
    }

    /// The trades, or a failure (no trades): reported, or asked again after the timeout while
    /// they do not cover what the answer told; after the last attempt the answer's fill.
    void on_trades_answer(pending_request& p, const api_answer& answer, std::int64_t now_ms) {
        const std::span<const venue_trade> trades = answer.outcome == answer_outcome::ok
                                                        ? decoder.listed_trades()
                                                        : std::span<const venue_trade>{};
        if (funnel.trades_answered(p.order, trades, p.attempt, symbols) ==
            status_resolution::ask_again) {
            ++p.attempt;
            p.retry_at_ms = now_ms + config.request_timeout_ms;
            return;
        }
        trades_done(p, now_ms);
    }

    /// No HTTP answer: never sent (connect failed) or lost after sending (timeout, reset).
    void on_transport_error(pending_request& p, net::rest_error error, std::int64_t now_ms) {
        const bool unsent = never_sent(error);
        if (!unsent) {
            counters.timeouts.fetch_add(1, std::memory_order_relaxed);
            counters.venue_failures.fetch_add(1, std::memory_order_relaxed);
        }
        switch (p.kind) {
        case request_kind::trades:
            if (funnel.trades_answered(p.order, {}, p.attempt) == status_resolution::ask_again) {
                ++p.attempt;
                p.retry_at_ms = now_ms + std::max<std::int64_t>(config.reconnect_delay_ms, 1);
                return;
            }
            trades_done(p, now_ms);
            return;
        case request_kind::place:
            if (unsent) {
                reject(p, reject_reason::none);
                return;
            }
            if (!p.timed_out && !funnel.outcome_known(p.order.id)) {
                report_unknown(p);
            }
            query(p, now_ms);
            return;
        case request_kind::cancel:
            if (unsent) {
                deliver(report_of(p.order, exec_kind::cancel_reject));
                p.active = false;
                return;
            }
            p.for_cancel = true;
            query(p, now_ms);
            return;
        case request_kind::status:
        case request_kind::open_orders:
        case request_kind::account:
        case request_kind::position_mode:
        case request_kind::reconcile_cancel:
        case request_kind::listen_key:
            // Asked again after a pause (a reconciliation cancel is idempotent: the order is
            // gone or it is not).
            // No listenKey, no stream: an attempt to connect that failed, paced as the stream's.
            p.retry_at_ms = p.kind == request_kind::listen_key
                                ? detail::next_connect_ms(reconnects, limiter, now_ms)
                                : now_ms + std::max<std::int64_t>(config.reconnect_delay_ms, 1);
            return;
        case request_kind::cancel_all:
            on_cancel_all_answer(p, now_ms); // the confirming query decides
            return;
        case request_kind::kill_check:
            p.active = false;
            check_kill_again(p, now_ms, config.kill_check_delay_ms); // not at once: no storm
            return;
        case request_kind::heartbeat:
            futures.heartbeat_failures.fetch_add(1, std::memory_order_relaxed);
            p.active = false;
            return;
        case request_kind::time:
            // What waited for the clock goes out again with the offset it has: left waiting,
            // a placement would stay unresolved and a kill unconfirmed for good.
            p.active = false;
            resync_time({}, 0, now_ms);
            return;
        case request_kind::keepalive:
            p.active = false;
            return;
        }
    }

    void on_place_answer(pending_request& p, const api_answer& answer, std::int64_t now_ms) {
        switch (answer.outcome) {
        case answer_outcome::ok:
            if (answer.has_order) {
                (void)funnel.resolve_status(p.order, false, answer);
            } else {
                funnel.ack(p.order, 0);
            }
            if (stream_open && stream_heard_ms < p.sent_ms && stream_owed_since_ms == 0) {
                stream_owed_since_ms = now_ms; // its ORDER_TRADE_UPDATE is due
            }
            p.active = false;
            return;
        case answer_outcome::clock_skew:
            if (!p.retried) {
                p.retried = true;
                p.await_time = true; // sent again when the clock answer came
                counters.clock_retries.fetch_add(1, std::memory_order_relaxed);
                request_time(now_ms);
                return;
            }
            reject(p, reject_reason::venue_refused);
            return;
        case answer_outcome::post_only_reject:
            reject(p, reject_reason::post_only_would_cross);
            return;
        case answer_outcome::retry_after:
        case answer_outcome::banned:
            reject(p, reject_reason::rate_limited);
            return;
        case answer_outcome::unknown:
        case answer_outcome::malformed:
            if (!p.timed_out && !funnel.outcome_known(p.order.id)) {
                report_unknown(p);
            }
            query(p, now_ms);
            return;
        case answer_outcome::reject:
        case answer_outcome::unknown_order:
        case answer_outcome::listen_key_invalid:
            reject(p, reject_reason::venue_refused);
            return;
        }
    }

    void on_cancel_answer(pending_request& p, const api_answer& answer, std::int64_t now_ms) {
        switch (answer.outcome) {
        case answer_outcome::ok:
            if (answer.has_order) {
                funnel.finished(order_report_funnel::order_of(answer.order, p.order), answer.order,
                                exec_kind::cancelled);
            } else {
                funnel.terminal(p.order, exec_kind::cancelled, reject_reason::user_cancel);
            }
            p.active = false;
            return;
        case answer_outcome::unknown:
        case answer_outcome::malformed:
            p.for_cancel = true;
            query(p, now_ms);
            return;
        case answer_outcome::clock_skew:
            if (!p.retried) {
                // It had no effect: resync, then the same cancel once more, re-signed.
                p.retried = true;
                p.await_time = true;
                counters.clock_retries.fetch_add(1, std::memory_order_relaxed);
                request_time(now_ms);
                return;
            }
            [[fallthrough]];
        default: {
            exec_report r = report_of(p.order, exec_kind::cancel_reject);
            r.reason = answer.outcome == answer_outcome::unknown_order
                           ? reject_reason::unknown_order
                       : answer.outcome == answer_outcome::retry_after ||
                               answer.outcome == answer_outcome::banned
                           ? reject_reason::rate_limited
                           : reject_reason::venue_refused;
            deliver(r);
            const order_request gone = p.order;
            p.active = false;
            if (answer.outcome == answer_outcome::unknown_order && funnel.acked_and_open(gone.id)) {
                // Acknowledged, now gone before the cancel came: filled, expired or cancelled.
                // An event the user stream lost (or a stream that is down) would leave a fill
                // untold until the next reconciliation: asked at once; what the stream told
                // counts once. An order not yet acknowledged is left to its placement's own
                // resolution, which knows how long the venue may still take it.
                send_status(gone, false, now_ms);
            }
            return;
        }
        }
    }

    void on_cancel_all_answer(pending_request& p, std::int64_t now_ms) {
        p.active = false;
        // Whatever the answer said (Binance's is a bare {"code":200}), the cancelled orders come
        // on the stream and a query confirms that nothing rests.
        check_kill_again(p, now_ms, config.kill_check_delay_ms);
    }

    /// `p` (a cancel-all or a confirming query of the kill in force) has its answer, failed or
    /// was lost: the next query goes out delay_ms after now_ms (kill_confirmation).
    void check_kill_again(const pending_request& p, std::int64_t now_ms, std::int64_t delay_ms) {
        kills.check_again(p.order.symbol, p.kill_epoch, now_ms, delay_ms);
    }

    /// Resolves `p` (a placement or cancel) with GET /fapi/v1/order under a new request id.
    void query(pending_request& p, std::int64_t now_ms) {
        const order_request order = p.order;
        const bool for_cancel = p.for_cancel || p.kind == request_kind::cancel;
        // Read before the query claims a slot: it may be p's.
        const bool step = p.reconcile_step;
        const std::uint64_t generation = p.generation;
        const std::int64_t signed_ms = p.signed_ms;
        p.active = false;
        pending_request* const q = send_status(order, for_cancel, now_ms, signed_ms);
        if (!step) {
            return;
        }
        if (q != nullptr && q->active) {
            q->reconcile_step = true;
            q->generation = generation;
        } else if (generation == reconcile_generation) {
            finish_reconcile_step(now_ms); // could not be encoded
        }
    }

    /// GET /fapi/v1/order of one of this run's orders. signed_ms: the placement request's
    /// timestamp when it resolves a placement (else 0). Returns the query's slot; nullptr when
    /// every slot waits (never when the caller freed the slot of the request it resolves).
    pending_request* send_status(const order_request& order, bool for_cancel, std::int64_t now_ms,
                                 std::int64_t signed_ms = 0) {
        pending_request* const slot = claim_slot(take_io_id());
        if (slot == nullptr) {
            return nullptr;
        }
        pending_request& q = *slot;
        q.kind = request_kind::status;
        q.order = order;
        q.for_cancel = for_cancel;
        q.signed_ms = for_cancel ? 0 : signed_ms;
        q.timed_out = true;
        counters.status_queries.fetch_add(1, std::memory_order_relaxed);
        const auto text_id = ids.format(order.id);
        send_own(q,
                 io_encoder.order_status(io_buffer, symbols[order.symbol].name().view(),
                                         text_id.view(), now_ms + offset_ms.load()),
                 now_ms);
        return &q;
    }

    void resend_place(pending_request& p, std::int64_t now_ms) {
        if (may_rest(p.order) && kills.active(p.order.symbol)) {
            // A kill came after it first went out: an order that would rest must not follow the
            // cancel-all. The venue never had it (-1021, or held back): refused unsent.
            reject(p, reject_reason::held_back);
            return;
        }
        const auto text_id = ids.format(p.order.id);
        p.signed_ms = now_ms + offset_ms.load(); // the refused one (-1021) had no effect
        send_own(p,
                 io_encoder.place(io_buffer, symbols[p.order.symbol], p.order, text_id.view(),
                                  response_type(p.order), p.signed_ms),
                 now_ms);
    }

    void resend_cancel(pending_request& p, std::int64_t now_ms) {
        const auto text_id = ids.format(p.order.id);
        send_own(p,
                 io_encoder.cancel(io_buffer, symbols[p.order.symbol].name().view(), text_id.view(),
                                   now_ms + offset_ms.load()),
                 now_ms);
    }

    void request_time(std::int64_t now_ms) {
        pending_request* const slot = claim_slot(take_io_id());
        if (slot == nullptr) {
            // Every slot waits (never expected): what waits for the clock goes out as it is.
            resync_time({}, 0, now_ms);
            return;
        }
        slot->kind = request_kind::time;
        send_own(*slot, {http_method::get, "/fapi/v1/time"}, now_ms);
    }

    /// Offset from GET /fapi/v1/time: serverTime against the middle of the round trip. Then the
    /// placements refused for -1021 go out again (once).
    void resync_time(std::string_view body, std::int64_t sent_ms, std::int64_t now_ms) {
        const auto at = body.find("\"serverTime\":");
        std::int64_t server = 0;
        if (at != std::string_view::npos &&
            std::from_chars(body.data() + at + 13, body.data() + body.size(), server).ec ==
                std::errc{}) {
            offset_ms.store(server - (sent_ms + now_ms) / 2, std::memory_order_relaxed);
        }
        for (pending_request& p : pending) {
            if (p.active && p.await_time) {
                p.await_time = false;
                if (p.kind == request_kind::place) {
                    resend_place(p, now_ms);
                } else if (p.kind == request_kind::cancel) {
                    resend_cancel(p, now_ms);
                }
            }
        }
    }

    // ---- user-data stream --------------------------------------------------------------------

    void request_listen_key(std::int64_t now_ms) {
        pending_request* const slot = claim_slot(take_io_id());
        if (slot == nullptr) {
            reconnect_at_ms = now_ms + std::max<std::int64_t>(config.reconnect_delay_ms, 100);
            return; // every slot waits (never expected): asked again later
        }
        key_requested = true;
        slot->kind = request_kind::listen_key;
        send_own(*slot, futures_request_encoder::listen_key(http_method::post), now_ms);
    }

    void on_listen_key_answer(pending_request& p, std::string_view body, const api_answer& answer,
                              std::int64_t now_ms) {
        const std::string_view key = json_string(body, "listenKey");
        if (answer.outcome != answer_outcome::ok || key.empty()) {
            p.retry_at_ms = detail::next_connect_ms(reconnects, limiter, now_ms);
            return;
        }
        p.active = false;
        key_requested = false;
        futures.listen_keys.fetch_add(1, std::memory_order_relaxed);
        listen_key.assign(key);
        open_stream(now_ms);
    }

    void open_stream(std::int64_t now_ms) {
        std::string base = config.ws_url;
        while (!base.empty() && base.back() == '/') {
            base.pop_back();
        }
        const auto endpoint = net::parse_url(base + "/ws/" + listen_key);
        std::shared_ptr<boost::asio::ssl::context> tls;
        if (endpoint.has_value() && endpoint->tls) {
            auto made = net::detail::make_client_tls_context({});
            if (made.has_value()) {
                tls = *made;
            }
        }
        if (!endpoint.has_value() || (endpoint->tls && tls == nullptr)) {
            reconnect_at_ms = now_ms + 1'000;
            return;
        }
        net::detail::ws_connection_options options;
        options.target = endpoint->path;
        options.idle_timeout_ms = config.idle_timeout_ms;
        stream = net::detail::make_ws_connection(loop.context(), tls, *endpoint, options, this);
        stream->start();
    }

    void on_open(net::detail::ws_connection& /*connection*/) override {
        const std::int64_t now_ms = wall_ms();
        stream_open = true;
        reconnects.reset();
        open.store(true, std::memory_order_release);
        counters.connects.fetch_add(1, std::memory_order_relaxed);
        next_keepalive_ms = now_ms + config.listen_key_keepalive_ms;
        start_reconcile(now_ms);
    }

    void on_ping(net::detail::ws_connection& /*connection*/) override {}

    void on_closed(net::detail::ws_connection& /*connection*/, net::close_reason reason,
                   std::string_view /*detail*/) override {
        if (reason == net::close_reason::idle_timed_out) {
            counters.silences.fetch_add(1, std::memory_order_relaxed);
        }
        stream_closed(wall_ms());
        // The connection object outlives this callback through its own handlers.
        stream.reset();
    }

    void stream_closed(std::int64_t now_ms) {
        if (stream_open) {
            counters.disconnects.fetch_add(1, std::memory_order_relaxed);
        }
        stream_open = false;
        open.store(false, std::memory_order_release);
        ready.store(false, std::memory_order_release);
        ++reconcile_generation; // a reconciliation in flight is void
        reconnect_at_ms = detail::next_connect_ms(reconnects, limiter, now_ms);
    }

    void close_stream() {
        if (stream != nullptr) {
            stream->detach();
            stream->abort(net::close_reason::stopped);
            stream.reset();
        }
    }

    /// The key expired: drop the stream; the loop makes a new key and stream, then reconciles.
    void restart_stream(std::int64_t now_ms) {
        close_stream();
        stream_closed(now_ms);
        reconnect_at_ms = now_ms; // a new key at once
    }

    void on_message(net::detail::ws_connection& /*connection*/, std::string_view payload,
                    core::timestamp_ns /*local_ns*/, bool /*binary*/) override {
        counters.user_events.fetch_add(1, std::memory_order_relaxed);
        stream_heard_ms = wall_ms();
        stream_owed_since_ms = 0;
        const user_event& e = user_decoder.decode(payload);
        switch (e.kind) {
        case user_event_kind::order_update:
            on_order_update(e.order);
            return;
        case user_event_kind::account_update:
            on_account_update(e.account);
            return;
        case user_event_kind::listen_key_expired:
            futures.listen_key_expired.fetch_add(1, std::memory_order_relaxed);
            restart_stream(wall_ms());
            return;
        case user_event_kind::malformed:
            // It may have told a fill of this run's, which nothing would ask about again while
            // the stream lasts: the orders are queried as for a foreign fill.
            counters.unreadable_user_events.fetch_add(1, std::memory_order_relaxed);
            foreign_reconciles.note_fill();
            reconcile_for_foreign_fill(wall_ms());
            return;
        case user_event_kind::none:
        case user_event_kind::account_position:
        case user_event_kind::stream_terminated: // the spot WebSocket API's; a listenKey ends
                                                 // with listenKeyExpired
        case user_event_kind::other:
            return;
        }
    }

    void on_order_update(const order_update& u) {
        const auto id = ids.parse(u.client_id.view());
        if (!id.has_value()) {
            // An order of another run or program: reconciliation's business, at once when it
            // traded.
            if (u.execution == execution_type::trade) {
                counters.foreign_fills.fetch_add(1, std::memory_order_relaxed);
                foreign_reconciles.note_fill();
                reconcile_for_foreign_fill(wall_ms());
            }
            return;
        }
        order_request order;
        order.id = *id;
        order.symbol = u.symbol;
        order.side = u.side;
        order.price = u.order_price;
        order.qty = u.order_qty;
        order = funnel.tracked_order(order);
        switch (u.execution) {
        case execution_type::new_order:
            funnel.ack(order, u.order_id);
            return;
        case execution_type::trade:
            funnel.stream_trade(order, u, offset_ms.load(std::memory_order_relaxed),
                                symbols[u.symbol]);
            return;
        case execution_type::canceled:
        case execution_type::expired:
        case execution_type::trade_prevention:
            funnel.terminal(order, exec_kind::cancelled,
                            u.execution == execution_type::canceled ? reject_reason::user_cancel
                                                                    : reject_reason::expired,
                            u.cum_qty, u.order_id);
            return;
        case execution_type::rejected:
            funnel.terminal(order, exec_kind::reject, reject_reason::venue_refused);
            return;
        case execution_type::unknown:
        case execution_type::replaced:
        case execution_type::amendment:
        case execution_type::calculated:
            return;
        }
    }

    void on_account_update(const account_change& change) {
        futures.position_updates.fetch_add(1, std::memory_order_relaxed);
        const std::lock_guard<std::mutex> lock(positions_mutex);
        for (std::size_t i = 0; i < change.position_count; ++i) {
            set_position(change.positions[i]);
        }
        for (std::size_t i = 0; i < change.balance_count; ++i) {
            set_balance(change.balances[i]);
        }
    }

    /// An amount as of `incoming` replaces one as of `known` unless it is older (an event the
    /// stream delivered after a reconciliation read a later state): the kept amount and its
    /// time always belong together. 0 is a time not told, which replaces and is replaced.
    [[nodiscard]] static bool not_older(std::int64_t incoming, std::int64_t known) noexcept {
        return incoming == 0 || known == 0 || incoming >= known;
    }

    /// Caller holds positions_mutex.
    void set_balance(const asset_balance& balance) {
        for (asset_balance& known : balances) {
            if (known.asset.view() == balance.asset.view()) {
                if (not_older(balance.update_time_ms, known.update_time_ms)) {
                    known = balance;
                }
                return;
            }
        }
        balances.push_back(balance);
    }

    /// Caller holds positions_mutex. The entry price is kept when the position does not tell
    /// it (ACCOUNT_UPDATE's decoder keeps the amounts only).
    void set_position(const position_amount& position) {
        for (futures_position& known : positions) {
            if (known.symbol == position.symbol) {
                if (!not_older(position.update_time_ms, known.update_time_ms)) {
                    return;
                }
                known.amount = position.amount;
                known.update_time_ms = position.update_time_ms;
                if (position.entry_price_known) {
                    known.entry_price = position.entry_price;
                }
                return;
            }
        }
        positions.push_back({.symbol = position.symbol,
                             .amount = position.amount,
                             .entry_price = position.entry_price,
                             .update_time_ms = position.update_time_ms});
    }

    // ---- reconciliation: every time the stream opens, before new orders are taken ---------

    void start_reconcile(std::int64_t now_ms) {
        ready.store(false, std::memory_order_release);
        reconciliation.start(now_ms, counters.reconcile_failures.load());
        reconcile_at_ms = 0;
        ++reconcile_generation;
        reconcile_steps = 2; // the open orders and the position mode
        positions_asked = false;
        for (const request_kind kind : {request_kind::open_orders, request_kind::position_mode}) {
            pending_request* const slot = claim_slot(take_io_id());
            if (slot == nullptr) {
                reconcile_again_later(now_ms);
                return;
            }
            pending_request& q = *slot;
            q.kind = kind;
            q.order.symbol = all_symbols;
            q.generation = reconcile_generation;
            send_reconcile_query(q, now_ms);
        }
        query_unfinished_orders(now_ms);
    }

    /// This run's acknowledged, unfinished orders may have traded, expired or been cancelled
    /// while no stream told it (a key forgotten, a stream down): each is queried, and the
    /// reconciliation waits for the answers. The funnel reports only what was not reported
    /// yet. Unacknowledged ones have their placement's own query.
    void query_unfinished_orders(std::int64_t now_ms) {
        const std::uint64_t generation = reconcile_generation;
        funnel.for_each_unfinished([&](const order_request& order) {
            if (generation != reconcile_generation) {
                return; // every slot waited: this reconciliation was given up
            }
            pending_request* const q = send_status(order, false, now_ms);
            if (q == nullptr) {
                reconcile_again_later(now_ms); // every slot waits (never expected)
                return;
            }
            if (!q->active) {
                return; // could not be encoded
            }
            q->reconcile_step = true;
            q->generation = generation;
            ++reconcile_steps;
        });
    }

    /// Every slot waits (never expected): this reconciliation is void (its answers no longer
    /// count), no new order is taken, and a new one starts after the reconnect delay.
    void reconcile_again_later(std::int64_t now_ms) {
        ready.store(false, std::memory_order_release);
        ++reconcile_generation;
        reconcile_steps = 0;
        counters.reconcile_failures.fetch_add(1, std::memory_order_relaxed);
        reconcile_at_ms = now_ms + std::max<std::int64_t>(config.reconnect_delay_ms, 100);
    }

    void send_reconcile_query(pending_request& q, std::int64_t now_ms) {
        const std::int64_t venue_ms = now_ms + offset_ms.load();
        send_own(
            q,
            q.kind == request_kind::open_orders ? io_encoder.open_orders(io_buffer, {}, venue_ms)
            : q.kind == request_kind::position_mode ? io_encoder.position_mode(io_buffer, venue_ms)
                                                    : io_encoder.account(io_buffer, venue_ms),
            now_ms);
    }

    /// One position a symbol (one-way mode) is what the engine trades; in hedge mode every
    /// order needs a LONG or SHORT positionSide, so the reconciliation ends here and no order
    /// is taken (the owner reads hedge_mode_answers and says why).
    void on_position_mode_answer(pending_request& p, std::string_view body,
                                 const api_answer& answer, std::int64_t now_ms) {
        if (p.generation != reconcile_generation) {
            p.active = false; // an earlier round's: the current one asks for itself
            return;
        }
        const std::optional<bool> hedge = answer.outcome == answer_outcome::ok
                                              ? json_flag(body, "dualSidePosition")
                                              : std::nullopt;
        if (!hedge.has_value()) {
            p.retry_at_ms = now_ms + config.request_timeout_ms; // asked again
            return;
        }
        p.active = false;
        if (*hedge) {
            futures.hedge_mode_answers.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        finish_reconcile_step(now_ms);
    }

    void send_reconcile_cancel(pending_request& q, std::int64_t now_ms) {
        send_own(q,
                 io_encoder.cancel(io_buffer, symbols[q.order.symbol].name().view(),
                                   q.foreign_id.view(), now_ms + offset_ms.load()),
                 now_ms);
    }

    void on_reconcile_answer(pending_request& p, const api_answer& answer, std::int64_t now_ms) {
        if (p.generation != reconcile_generation) {
            p.active = false; // an earlier round's: the current one asks for itself
            return;
        }
        if (p.kind == request_kind::reconcile_cancel) {
            if (answer.outcome != answer_outcome::ok &&
                answer.outcome != answer_outcome::unknown_order) {
                // Refused (a 429, a venue error): the earlier run's order may rest still, and
                // nothing is taken until it is gone. Asked again, as a lost one is.
                counters.reconcile_failures.fetch_add(1, std::memory_order_relaxed);
                p.retry_at_ms = now_ms + std::max<std::int64_t>(config.reconnect_delay_ms, 1);
                return;
            }
            p.active = false;
            if (answer.outcome == answer_outcome::ok) {
                counters.reconcile_cancelled.fetch_add(1, std::memory_order_relaxed);
            }
            finish_reconcile_step(now_ms);
            return;
        }
        if (answer.outcome != answer_outcome::ok) {
            p.retry_at_ms = now_ms + config.request_timeout_ms; // asked again
            return;
        }
        p.active = false;
        if (p.kind == request_kind::account) {
            // Positions and wallets of one state of the account: they replace what earlier
            // readings and events said, together, so no amount is older than another's time.
            {
                const std::lock_guard<std::mutex> lock(positions_mutex);
                positions.clear();
                for (const position_amount& position : decoder.listed_positions()) {
                    set_position(position);
                }
                balances.assign(decoder.listed_balances().begin(), decoder.listed_balances().end());
            }
            finish_reconcile_step(now_ms);
            return;
        }
        // Open orders: those of earlier runs (and foreign ones when so configured) go.
        for (const answered_order& o : decoder.listed_orders()) {
            counters.reconcile_found.fetch_add(1, std::memory_order_relaxed);
            const client_id_owner owner = ids.owner(o.client_id.view());
            if (owner == client_id_owner::this_run) {
                // Tracked, or resolved by its own query; one ended as never taken is on the
                // venue after all, and is tracked again.
                if (const auto id = ids.parse(o.client_id.view()); id.has_value()) {
                    funnel.listed_open(*id, o);
                }
                continue;
            }
            if (owner == client_id_owner::foreign && !config.cancel_foreign_orders) {
                counters.foreign_orders.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            pending_request* const slot = claim_slot(take_io_id());
            if (slot == nullptr) {
                reconcile_again_later(now_ms); // nothing is taken while it rests
                return;
            }
            pending_request& q = *slot;
            q.kind = request_kind::reconcile_cancel;
            q.order.symbol = o.symbol;
            q.generation = reconcile_generation;
            q.foreign_id = o.client_id;
            ++reconcile_steps;
            send_reconcile_cancel(q, now_ms);
            if (!q.active) {
                finish_reconcile_step(now_ms); // could not be encoded
            }
        }
        finish_reconcile_step(now_ms);
    }

    /// One reconciliation request is done; when the listing and its cancels are, the positions
    /// are read, then new orders are taken and the heartbeat runs.
    void finish_reconcile_step(std::int64_t now_ms) {
        if (reconcile_steps > 0) {
            --reconcile_steps;
        }
        if (reconcile_steps > 0 || ready.load(std::memory_order_relaxed)) {
            return;
        }
        if (!positions_asked) {
            // Positions and wallets, before the first order.
            pending_request* const slot = claim_slot(take_io_id());
            if (slot == nullptr) {
                reconcile_again_later(now_ms);
                return;
            }
            positions_asked = true;
            reconcile_steps += 1;
            pending_request& q = *slot;
            q.kind = request_kind::account;
            q.order.symbol = all_symbols;
            q.generation = reconcile_generation;
            send_reconcile_query(q, now_ms);
            return;
        }
        counters.reconciles.fetch_add(1, std::memory_order_relaxed);
        if (!heartbeat_armed) {
            heartbeat_armed = true;
            next_heartbeat_ms = now_ms; // armed before the first order goes out
        }
        ready.store(true, std::memory_order_release);
    }

    void send_heartbeat(std::uint32_t symbol, std::int64_t now_ms) {
        pending_request* const slot = claim_slot(take_io_id());
        if (slot == nullptr) {
            return; // every slot waits (never expected): the next heartbeat renews the countdown
        }
        pending_request& q = *slot;
        q.kind = request_kind::heartbeat;
        q.order.symbol = symbol;
        send_own(q,
                 io_encoder.countdown_cancel_all(io_buffer, symbols[symbol].name().view(),
                                                 config.countdown_ms, now_ms + offset_ms.load()),
                 now_ms);
    }

    // ---- kill confirmation ------------------------------------------------------------------

    void check_kills(std::int64_t now_ms) {
        if (now_ms * core::ns_per_ms < limiter.resume_at()) {
            // A 429 or 418 lasts: nothing may go out, the kill waits for it.
            kills.missed_checks(now_ms, counters);
            return;
        }
        kills.check_due(now_ms, [&](std::uint32_t symbol, std::uint32_t epoch) {
            pending_request* const slot = claim_slot(take_io_id());
            if (slot == nullptr) {
                return false; // every slot waits: asked again a check delay later
            }
            pending_request& q = *slot;
            q.kind = request_kind::kill_check;
            q.order.symbol = symbol;
            q.kill_epoch = epoch;
            send_own(q,
                     io_encoder.open_orders(io_buffer, symbols[symbol].name().view(),
                                            now_ms + offset_ms.load()),
                     now_ms);
            return q.active; // held by the limiter: reissued, which asks again later
        });
    }

    /// True while a placement on `symbol` waits for its answer or for the query resolving its
    /// unknown outcome: the venue may still take it.
    [[nodiscard]] bool placement_unresolved(std::uint32_t symbol) const noexcept {
        for (const pending_request& q : pending) {
            if (q.active && q.order.symbol == symbol &&
                (q.kind == request_kind::place ||
                 (q.kind == request_kind::status && !q.for_cancel && !q.reconcile_step))) {
                return true;
            }
        }
        return false;
    }

    void on_kill_check_answer(pending_request& p, const api_answer& answer, std::int64_t now_ms) {
        // Copied first: the cancel-all below may claim p's slot, which clears it.
        const std::uint32_t symbol = p.order.symbol;
        const std::uint32_t epoch = p.kill_epoch;
        p.active = false;
        const bool ok = answer.outcome == answer_outcome::ok;
        if (kills.answered(
                symbol, epoch, ok,
                ok && kill_must_remove(decoder.listed_orders(), ids, config.cancel_foreign_orders),
                now_ms, counters,
                placement_unresolved(symbol)) != kill_confirmation::outcome::send_again) {
            return;
        }
        pending_request* const slot = claim_slot(take_io_id());
        if (slot == nullptr) {
            kills.resent(symbol, false); // the query at check time decides again
            return;
        }
        pending_request& q = *slot;
        q.kind = request_kind::cancel_all;
        q.order.symbol = symbol;
        q.kill_epoch = epoch;
        send_own(q,
                 io_encoder.cancel_all(io_buffer, symbols[symbol].name().view(),
                                       now_ms + offset_ms.load()),
                 now_ms);
        kills.resent(symbol, q.active); // its answer schedules the next query
    }

    // ---- helpers -----------------------------------------------------------------------------

    [[nodiscard]] static order_response_type response_type(const order_request& order) noexcept {
        // A resting maker order is acknowledged (ACK: the stream brings the rest); an IOC
        // (flatten) order is answered with its result, so its fate is known without the stream.
        return order.post_only || order.tif == time_in_force::gtc ? order_response_type::ack
                                                                  : order_response_type::result;
    }

    [[nodiscard]] static request_class class_of(request_kind kind) noexcept {
        switch (kind) {
        case request_kind::place:
            return request_class::new_order;
        case request_kind::cancel:
        case request_kind::reconcile_cancel:
            return request_class::cancel;
        case request_kind::kill_check:
            // The kill's confirmation sends the cancel-all again: it may use the cancel reserve
            // that quoting's queries leave, or a kill lost at a busy time waits for the window.
            return request_class::cancel;
        case request_kind::cancel_all:
            return request_class::kill;
        default:
            return request_class::query;
        }
    }

    /// REQUEST_WEIGHT of each request, from Binance's USD-M documentation.
    [[nodiscard]] static std::uint32_t weight_of(request_kind kind, bool every_symbol) noexcept {
        switch (kind) {
        case request_kind::place:
            return 0; // counted by the ORDERS rules only
        case request_kind::open_orders:
        case request_kind::kill_check:
            return every_symbol ? 40 : 1;
        case request_kind::account:
        case request_kind::trades: // GET /fapi/v1/userTrades
            return 5;
        case request_kind::position_mode:
            return 30;
        case request_kind::heartbeat:
            return 10;
        default:
            return 1;
        }
    }

    [[nodiscard]] std::uint64_t take_io_id() noexcept {
        const std::uint64_t id = next_io_id;
        next_io_id += 2;
        return id;
    }

    static exec_report report_of(const order_request& order, exec_kind kind) noexcept {
        return order_report_funnel::report_of(order, kind);
    }

    void report_unknown(pending_request& p) {
        p.timed_out = true;
        counters.unknowns.fetch_add(1, std::memory_order_relaxed);
        deliver(report_of(p.order, exec_kind::unknown));
    }

    void reject(pending_request& p, reject_reason reason) {
        funnel.terminal(p.order, exec_kind::reject, reason);
        p.active = false;
    }

    void deliver(exec_report report) override {
        report.local_ts = wall_ns();
        if (report.exchange_ts == 0) {
            report.exchange_ts = report.local_ts;
        }
        if (!backlog.deliver(to_core, report)) {
            counters.reports_dropped.fetch_add(1, std::memory_order_relaxed);
        }
    }

    binance_futures_gateway_config config;
    std::span<const core::symbol_spec> symbols;
    hmac_signer signer;
    futures_request_encoder core_encoder; ///< Core thread.
    futures_request_encoder io_encoder;   ///< I/O thread.
    client_id_factory ids;                ///< format/parse only (const): both threads.
    answer_decoder decoder;               ///< I/O thread.
    user_data_decoder user_decoder;       ///< I/O thread.
    order_rate_limiter limiter;           ///< I/O thread.
    kill_confirmation kills;              ///< I/O thread.
    /// Core thread: per symbol, the cancel-alls handed to the I/O thread (kills.unconfirmed).
    std::vector<std::uint64_t> kill_requests;
    exec_report_sink* sink = nullptr;      ///< Core thread.
    std::uint64_t venue_failures_told = 0; ///< Core thread: of counters.venue_failures.
    std::uint64_t next_core_id = 1;        ///< Core thread: odd request ids.
    std::uint64_t next_io_id = 2;          ///< I/O thread: even request ids.
    outgoing_request scratch;              ///< Core thread.
    /// Core thread: where rehearse_submit encodes (never sent).
    std::array<char, max_request_bytes> rehearsal_text{};
    core::spsc_ring<outgoing_request, request_ring> to_io;
    core::spsc_ring<exec_report, report_ring> to_core;
    /// Reports the ring had no room for (the core not polling), handed over first.
    report_backlog backlog{report_backlog_capacity};
    core::spsc_ring<written_stamp, 256> written; ///< I/O -> core: written stamps.
    core::wakeup io_wakeup;
    const bool io_waits_on_core = config.idle == core::idle_policy::block;
    std::atomic<std::int64_t> offset_ms{0};
    std::atomic<bool> open{false};               ///< The user-data stream is open.
    detail::reconciliation_clock reconciliation; ///< See reconciling().
    std::atomic<bool> ready{false};              ///< Open and reconciled: new orders are taken.
    std::atomic<bool> running{false};
    std::atomic<bool> stopping{false};
    mutable std::mutex positions_mutex; ///< Guards positions and balances.
    std::vector<futures_position> positions;
    std::vector<asset_balance> balances;
    binance_gateway_counters counters;
    binance_futures_counters futures;
    order_report_funnel funnel; ///< I/O thread.

    // I/O thread state.
    net::io_loop loop;
    std::unique_ptr<net::rest_client> rest;
    std::shared_ptr<net::detail::ws_connection> stream;
    std::string listen_key;
    request_slots<pending_request, pending_slots> pending;
    std::array<char, max_request_bytes> io_buffer{};
    bool stream_open = false;
    /// Counts the attempts since the stream last opened (next_connect_ms).
    net::backoff reconnects{detail::reconnect_pacing(config.reconnect_delay_ms), 1};
    bool key_requested = false;
    bool heartbeat_armed = false;
    bool positions_asked = false;
    std::uint32_t reconcile_steps = 0;
    std::int64_t reconcile_at_ms = 0; ///< A reconciliation that could not go out starts then.
    std::uint64_t reconcile_generation = 0;
    /// While a reconciliation's order query is resolved: the trades query it starts, if any,
    /// takes its step on (cleared when taken).
    bool step_for_trades = false;
    std::int64_t reconnect_at_ms = 0;
    std::int64_t next_keepalive_ms = 0;
    detail::foreign_fill_reconciles foreign_reconciles;
    /// The user stream's last message (local wall ms).
    std::int64_t stream_heard_ms = 0;
    /// The first placement the venue accepted with nothing on the stream since it was sent
    /// (local wall ms; 0: none owed): see watch_stream().
    std::int64_t stream_owed_since_ms = 0;
    std::int64_t next_heartbeat_ms = 0;
    std::int64_t last_scan_ms = 0;
    std::thread thread;
};

binance_futures_gateway::binance_futures_gateway(binance_futures_gateway_config config,
                                                 std::span<const core::symbol_spec> symbols)
    : impl_(std::make_unique<impl>(std::move(config), symbols)) {}

binance_futures_gateway::~binance_futures_gateway() {
    stop();
}

void binance_futures_gateway::start() {
    if (impl_->thread.joinable()) {
        return;
    }
    impl_->stopping.store(false);
    impl_->running.store(true, std::memory_order_release);
    impl_->thread = std::thread([this] { impl_->run(); });
}

void binance_futures_gateway::stop() {
    if (!impl_->thread.joinable()) {
        return;
    }
    impl_->stopping.store(true, std::memory_order_release);
    impl_->thread.join();
    impl_->running.store(false, std::memory_order_release);
    impl_->open.store(false, std::memory_order_release);
    impl_->ready.store(false, std::memory_order_release);
}

bool binance_futures_gateway::connected() const noexcept {
    return impl_->open.load(std::memory_order_acquire);
}

bool binance_futures_gateway::ready() const noexcept {
    return impl_->ready.load(std::memory_order_acquire);
}

std::vector<futures_position> binance_futures_gateway::positions() const {
    const std::lock_guard<std::mutex> lock(impl_->positions_mutex);
    return impl_->positions;
}

std::vector<asset_balance> binance_futures_gateway::balances() const {
    const std::lock_guard<std::mutex> lock(impl_->positions_mutex);
    return impl_->balances;
}

futures_account binance_futures_gateway::account() const {
    const std::lock_guard<std::mutex> lock(impl_->positions_mutex);
    return {.positions = impl_->positions, .balances = impl_->balances};
}

const binance_gateway_counters& binance_futures_gateway::counters() const noexcept {
    return impl_->counters;
}

const binance_futures_counters& binance_futures_gateway::futures_counters() const noexcept {
    return impl_->futures;
}

std::int64_t binance_futures_gateway::server_time_offset_ms() const noexcept {
    return impl_->offset_ms.load(std::memory_order_relaxed);
}

void binance_futures_gateway::set_report_sink(exec_report_sink* sink) noexcept {
    impl_->sink = sink;
    // Failures from before (connecting, reconciling) are not told at once as a burst.
    impl_->venue_failures_told = impl_->counters.venue_failures.load(std::memory_order_relaxed);
}

gateway_error binance_futures_gateway::submit(const order_request& request,
                                              core::timestamp_ns now) noexcept {
    impl& m = *impl_;
    if (!m.ready.load(std::memory_order_acquire)) {
        // No stream, or not reconciled yet.
        return m.reconciling() ? gateway_error::reconciling : gateway_error::disconnected;
    }
    if (request.symbol >= m.symbols.size() || !request.id.valid()) {
        return gateway_error::queue_full;
    }
    outgoing_request& out = m.scratch;
    out.kind = request_kind::place;
    out.request_id = m.next_core_id;
    out.order = request;
    out.signed_ms = m.venue_ms(now);
    const auto id_text = m.ids.format(request.id);
    const gateway_error error = m.push(
        out, m.core_encoder.place(out.text, m.symbols[request.symbol], request, id_text.view(),
                                  impl::response_type(request), out.signed_ms));
    if (error == gateway_error::none) {
        m.next_core_id += 2;
    }
    return error;
}

// Dry run (engine::order_path_warmer): submit()'s encoding and signing into a buffer of its
// own; nothing is pushed and the request id does not move.
bool binance_futures_gateway::rehearse_submit(const order_request& request,
                                              core::timestamp_ns now) noexcept {
    impl& m = *impl_;
    if (request.symbol >= m.symbols.size() || !request.id.valid()) {
        return false;
    }
    const auto id_text = m.ids.format(request.id);
    const rest_request encoded =
        m.core_encoder.place(m.rehearsal_text, m.symbols[request.symbol], request, id_text.view(),
                             impl::response_type(request), m.venue_ms(now));
    return encoded.ok() && m.ready.load(std::memory_order_acquire);
}

gateway_error binance_futures_gateway::cancel(std::uint32_t symbol, client_order_id id,
                                              core::timestamp_ns now) noexcept {
    impl& m = *impl_;
    // REST needs no session: cancels go out whenever the I/O thread runs.
    if (!m.running.load(std::memory_order_acquire)) {
        return gateway_error::disconnected;
    }
    if (symbol >= m.symbols.size()) {
        return gateway_error::queue_full;
    }
    outgoing_request& out = m.scratch;
    out.kind = request_kind::cancel;
    out.request_id = m.next_core_id;
    out.order = order_request{};
    out.order.id = id;
    out.order.symbol = symbol;
    const auto id_text = m.ids.format(id);
    const gateway_error error =
        m.push(out, m.core_encoder.cancel(out.text, m.symbols[symbol].name().view(), id_text.view(),
                                          m.venue_ms(now)));
    if (error == gateway_error::none) {
        m.next_core_id += 2;
    }
    return error;
}

gateway_error binance_futures_gateway::cancel_all(std::uint32_t symbol,
                                                  core::timestamp_ns now) noexcept {
    impl& m = *impl_;
    const std::uint32_t first = symbol == all_symbols ? 0 : symbol;
    const std::uint32_t last =
        symbol == all_symbols ? static_cast<std::uint32_t>(m.symbols.size()) : symbol + 1;
    if (first >= m.symbols.size()) {
        return gateway_error::queue_full;
    }
    if (!m.running.load(std::memory_order_acquire)) {
        // Nothing will take it: the kill stays unconfirmed (kill_unconfirmed) rather than pass
        // for confirmed.
        for (std::uint32_t s = first; s < last; ++s) {
            ++m.kill_requests[s];
        }
        return gateway_error::disconnected;
    }
    for (std::uint32_t s = first; s < last; ++s) {
        outgoing_request& out = m.scratch;
        out.kind = request_kind::cancel_all;
        out.request_id = m.next_core_id;
        out.order = order_request{};
        out.order.symbol = s;
        const gateway_error error = m.push(
            out, m.core_encoder.cancel_all(out.text, m.symbols[s].name().view(), m.venue_ms(now)));
        if (error != gateway_error::none) {
            return error;
        }
        m.next_core_id += 2;
        ++m.kill_requests[s];
    }
    return gateway_error::none;
}

bool binance_futures_gateway::kill_unconfirmed(std::uint32_t symbol) const noexcept {
    const impl& m = *impl_;
    return symbol < m.kill_requests.size() && m.kills.unconfirmed(symbol, m.kill_requests[symbol]);
}

std::uint64_t binance_futures_gateway::next_request_id() const noexcept {
    return impl_->next_core_id;
}

std::size_t binance_futures_gateway::poll_written(std::span<written_stamp> out) noexcept {
    std::size_t n = 0;
    while (n < out.size() && impl_->written.try_pop(out[n])) {
        ++n;
    }
    return n;
}

std::size_t binance_futures_gateway::poll(core::timestamp_ns now) noexcept {
    impl& m = *impl_;
    const std::size_t delivered = m.to_core.pop_batch([&](const exec_report& report) {
        if (m.sink != nullptr) {
            m.sink->on_exec_report(report);
        }
    });
    tell_venue_failures(m.counters, m.venue_failures_told, m.sink, now);
    return delivered;
}

} // namespace quoter::exec
