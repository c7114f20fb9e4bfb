// binance_spot_gateway's implementation (the contract is in binance_spot_gateway.hpp). One
// piece, about 1,100 lines: the I/O thread's session (connect, reconciliation, answers, user-data
// stream, timeouts, status queries) is one state machine over one connection and order table.
#include "quoter/exec/binance_spot_gateway.hpp"
#include "quoter/core/clock.hpp"

#include "binance_reconciliation.hpp"
#include "binance_reconnect.hpp"
#include "net/tls_context.hpp"
#include "net/ws_connection.hpp"
#include "quoter/core/spsc_ring.hpp"
#include "quoter/exec/binance_answer.hpp"
#include "quoter/exec/binance_client_id.hpp"
#include "quoter/exec/binance_holdings.hpp"
#include "quoter/exec/binance_kill_confirmation.hpp"
#include "quoter/exec/binance_report_funnel.hpp"
#include "quoter/exec/binance_signer.hpp"
#include "quoter/exec/binance_spot_requests.hpp"
#include "quoter/exec/binance_user_data.hpp"
#include "quoter/exec/report_backlog.hpp"
#include "quoter/exec/request_slots.hpp"
#include "quoter/net/io_loop.hpp"
#include "quoter/net/url.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace quoter::exec {
namespace {

enum class request_kind : std::uint8_t {
    place,
    cancel,
    cancel_all,
    status,
    time,
    subscribe,
    open_orders,      ///< Reconciliation: openOrders.status of one symbol.
    account,          ///< Reconciliation: account.status.
    reconcile_cancel, ///< Reconciliation: order.cancel of an order this run does not own.
    kill_check,       ///< After a cancel-all: openOrders.status, to confirm nothing rests.
    logon,            ///< session.logon (Ed25519 keys), first on every connection.
    /// order.cancelReplace (STOP_ON_FAILURE): `order` is the new order, `replaced` the old.
    replace,
    trades, ///< myTrades of one order: fills an answer told (order_report_funnel).
};

/// A 429 or 418 to a placement, cancel or replacement reaches the owner as its reject report,
/// which the risk layer counts toward the API error storm; a query's, a cancel-all's and every
/// other request's is counted here, as a venue failure.
[[nodiscard]] constexpr bool refusal_reported(request_kind kind) noexcept {
    return kind == request_kind::place || kind == request_kind::cancel ||
           kind == request_kind::replace;
}

/// One signed request on its way from the core thread to the I/O thread.
struct outgoing_request {
    std::array<char, max_request_bytes> text{};
    std::uint16_t size = 0;
    request_kind kind = request_kind::place;
    std::uint64_t request_id = 0;
    order_request order;      ///< place: the order; cancel: id and symbol.
    client_order_id replaced; ///< replace: the order cancelled.
    /// place / replace: the request's signed `timestamp` (venue ms): the venue may execute it
    /// until this + recvWindow.
    std::int64_t signed_ms = 0;
};

/// A request the I/O thread sent and has no answer for yet. I/O thread only.
struct pending_request {
    std::uint64_t request_id = 0;
    request_kind kind = request_kind::place;
    bool active = false;
    bool timed_out = false;      ///< Reported unknown / queried already.
    bool retried = false;        ///< -1021 retry used.
    bool query_on_open = false;  ///< Lost in a disconnect: query after the reconnect.
    bool for_cancel = false;     ///< status: resolving a cancel, not a placement.
    bool held = false;           ///< Own request held back by the rate limiter: sent later.
    bool await_time = false;     ///< Answered -1021: sent again once `time` resynced the clock.
    bool reconcile_step = false; ///< status: one of the reconciliation's own-order queries.
    /// On the wire with no answer yet: its timeout, or its loss with the connection, is a venue
    /// failure. An answer that keeps the request to ask again later clears it.
    bool awaiting_answer = false;
    std::uint32_t generation = 0; ///< Reconciliation requests: the reconciliation they serve.
    std::uint32_t kill_epoch = 0; ///< cancel_all, kill_check: the kill's epoch when sent.
    std::int64_t sent_ms = 0;     ///< Local wall time of sending.
    /// place / replace, and the status queries resolving its placement: the placement
    /// request's signed `timestamp` (venue ms; 0: none). Until it + recvWindow has passed, a
    /// query's "no such order" means not yet (order_report_funnel::window_of).
    std::int64_t signed_ms = 0;
    /// status: asked again at this local time (the venue may still take the placement), not
    /// after the timeout; 0: not waiting.
    std::int64_t requery_at_ms = 0;
    order_request order;
    client_order_id replaced;      ///< replace: the order cancelled (order is the new one).
    std::uint64_t exchange_id = 0; ///< trades: the venue's order id.
    std::uint32_t attempt = 0;     ///< trades: which request for the order's trades (from 1).
    /// reconcile_cancel: the venue's client id of the order being cancelled.
    std::array<char, 40> venue_id{};
    std::uint8_t venue_id_size = 0;
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
constexpr std::size_t written_ring = 256;

std::int64_t wall_ns() noexcept {
    return core::wall_clock{}.now();
}

} // namespace

struct binance_spot_gateway::impl final : net::detail::ws_listener, report_funnel_output {
    impl(binance_spot_gateway_config cfg, std::span<const core::symbol_spec> syms)
        : config(std::move(cfg)), symbols(syms), signer(config.secret),
          core_encoder(config.api_key, signer, config.recv_window_ms),
          io_encoder(config.api_key, signer, config.recv_window_ms),
          ids(config.id_tag, config.start_us), decoder(syms), user_decoder(syms),
          limiter(config.limiter),
          kills(syms.size(), {.check_delay_ms = config.kill_check_delay_ms,
                              .confirm_attempts = config.kill_confirm_attempts}),
          kill_requests(syms.size(), 0), funnel(*this, counters.fills),
          session_auth(config.key_type == api_key_type::ed25519) {
        for (const rate_limit_rule& rule : config.rate_limits) {
            (void)limiter.add_rule(rule);
        }
        if (session_auth) {
            // A key that does not load leaves the signer empty: its logon signature is refused
            // by the venue (logon_failures), nothing goes out unsigned.
            if (auto loaded = ed25519_signer::from_private_key(config.private_key)) {
                logon_signer = std::move(*loaded);
            }
            core_encoder.set_session_auth(true);
            io_encoder.set_session_auth(true);
        }
        config.secret.assign(config.secret.size(), '\0');
        config.secret.clear();
        config.private_key.assign(config.private_key.size(), '\0');
        config.private_key.clear();
    }

    // ---- core thread -------------------------------------------------------------------------

    [[nodiscard]] std::int64_t venue_ms(core::timestamp_ns now) const noexcept {
        return now / core::ns_per_ms + offset_ms.load(std::memory_order_relaxed);
    }

    gateway_error push(outgoing_request& request, std::string_view text) noexcept {
        if (text.empty()) {
            return gateway_error::queue_full; // cannot be encoded: never sent
        }
        request.size = static_cast<std::uint16_t>(text.size());
        if (!to_io.try_push(request)) {
            return gateway_error::queue_full;
        }
        if (io_waits_on_core) {
            io_wakeup.notify(); // a system call only while the I/O thread sleeps
        }
        return gateway_error::none;
    }

    // ---- I/O thread --------------------------------------------------------------------------

    void run() {
        core::idle_waiter waiter(config.idle, &io_wakeup);
        const std::int64_t max_block_ns = std::max<std::int64_t>(1, config.max_block_us) * 1'000;
        while (!stopping.load(std::memory_order_acquire)) {
            if (loop.stopped()) {
                loop.restart(); // ran out of work (e.g. between connections)
            }
            std::size_t work = loop.poll();
            const std::int64_t now_ms = wall_ns() / core::ns_per_ms;
            if (connection == nullptr && now_ms >= reconnect_at_ms) {
                connect();
            }
            work += backlog.flush(to_core); // what the core had no room for, in order
            work += to_io.pop_batch([&](const outgoing_request& request) { send(request); });
            if (now_ms != last_scan_ms) {
                last_scan_ms = now_ms;
                check_timeouts(now_ms);
            }
            if (work == 0) {
                waiter.idle([&] { return to_io.front() != nullptr; }, max_block_ns);
            }
        }
        if (connection != nullptr) {
            connection->detach();
            connection->abort(net::close_reason::stopped);
            connection.reset();
        }
        open.store(false, std::memory_order_release);
        loop.poll();
    }

    void connect() {
        const auto endpoint = net::parse_url(config.url);
        if (!endpoint.has_value()) {
            reconnect_at_ms = wall_ns() / core::ns_per_ms + 1'000;
            return;
        }
        std::shared_ptr<boost::asio::ssl::context> tls;
        if (endpoint->tls) {
            auto made = net::detail::make_client_tls_context({});
            if (!made.has_value()) {
                reconnect_at_ms = wall_ns() / core::ns_per_ms + 1'000;
                return;
            }
            tls = *made;
        }
        net::detail::ws_connection_options options;
        options.target = endpoint->path;
        options.idle_timeout_ms = config.idle_timeout_ms;
        connection = net::detail::make_ws_connection(loop.context(), tls, *endpoint, options, this);
        connection->start();
    }

    void on_open(net::detail::ws_connection& /*connection*/) override {
        socket_open = true;
        counters.connects.fetch_add(1, std::memory_order_relaxed);
        if (session_auth) {
            send_logon(wall_ns() / core::ns_per_ms); // the session opens on its answer
            return;
        }
        open_session();
    }

    /// A request sent and never answered (timed out, lost with the connection) is a venue
    /// failure: counted once, when its wait ends.
    void count_unanswered(pending_request& p) noexcept {
        if (std::exchange(p.awaiting_answer, false)) {
            counters.venue_failures.fetch_add(1, std::memory_order_relaxed);
        }
    }

    /// The connection may carry orders (connected, and logged on for an Ed25519 key): subscribe
    /// to user data, reconcile, and query whatever was in flight when the last one dropped.
    void open_session() {
        open.store(true, std::memory_order_release);
        reconnects.reset();
        start_reconcile(wall_ns() / core::ns_per_ms); // subscribes to the user stream first
        // Whatever was in flight when the last session dropped is queried now.
        for (pending_request& p : pending) {
            if (p.active && p.query_on_open) {
                p.query_on_open = false;
                if (p.kind == request_kind::trades) {
                    p.active = false;
                    send_trades(p.order, p.exchange_id, p.attempt, wall_ns() / core::ns_per_ms);
                    continue;
                }
                query(p, wall_ns() / core::ns_per_ms);
            }
        }
    }

    void on_ping(net::detail::ws_connection& /*connection*/) override {}

    void on_written(net::detail::ws_connection& /*connection*/, std::uint64_t tag,
                    core::timestamp_ns at) override {
        (void)written.try_push(written_stamp{.request_id = tag, .at = at}); // full: dropped
    }

    void on_closed(net::detail::ws_connection& /*connection*/, net::close_reason reason,
                   std::string_view /*detail*/) override {
        if (reason == net::close_reason::idle_timed_out) {
            counters.silences.fetch_add(1, std::memory_order_relaxed);
        }
        socket_open = false;
        open.store(false, std::memory_order_release);
        user_stream.store(false, std::memory_order_release);
        ready.store(false, std::memory_order_release);
        counters.disconnects.fetch_add(1, std::memory_order_relaxed);
        // The connection object outlives this callback through its own handlers.
        connection.reset();
        reconnect_at_ms = detail::next_connect_ms(reconnects, limiter, wall_ns() / core::ns_per_ms);
        time_in_flight = false;
        for (pending_request& p : pending) {
            if (!p.active) {
                continue;
            }
            count_unanswered(p); // lost with the connection
            p.held = false;
            p.await_time = false;
            switch (p.kind) {
            case request_kind::place:
            case request_kind::replace: // both halves queried after the reconnect
                if (!p.timed_out && !outcome_known(p.order.id)) {
                    report_unknown(p);
                }
                [[fallthrough]];
            case request_kind::cancel:
            case request_kind::status:
            case request_kind::trades:
                // The venue may or may not have it: asked after the reconnect, never resent.
                p.timed_out = true;
                p.query_on_open = true;
                p.reconcile_step = false; // the next reconciliation asks for itself
                break;
            case request_kind::cancel_all:
            case request_kind::kill_check:
                // A kill lost with the connection: confirmed (and resent) after the reconnect.
                check_kill_again(p, 0, 0);
                p.active = false;
                break;
            case request_kind::time:
            case request_kind::subscribe:
            case request_kind::open_orders:
            case request_kind::account:
            case request_kind::reconcile_cancel:
            case request_kind::logon:
                p.active = false; // the next connect logs on, subscribes and reconciles afresh
                break;
            }
        }
    }

    void on_message(net::detail::ws_connection& /*connection*/, std::string_view payload,
                    core::timestamp_ns /*local_ns*/, bool /*binary*/) override {
        const std::int64_t now_ms = wall_ns() / core::ns_per_ms;
        last_rx_ms = now_ms; // the venue is not silent
        silent_scans = 0;
        if (payload.find("\"event\":") != std::string_view::npos) {
            on_user_event(payload, now_ms); // answers never carry "event"
            return;
        }
        counters.answers.fetch_add(1, std::memory_order_relaxed);
        const api_answer& answer = decoder.decode_ws(payload);
        // Whatever the request was, its answer tells the limiter: a 429 or 418 to a query stops
        // orders too. retryAfter is venue time; the limiter runs on the local clock.
        limiter.on_usage(answer.usage, now_ms * core::ns_per_ms,
                         offset_ms.load(std::memory_order_relaxed) * core::ns_per_ms);
        const std::int64_t retry_local_ms =
            answer.retry_after_ms > 0
                ? answer.retry_after_ms - offset_ms.load(std::memory_order_relaxed)
                : 0;
        limiter.on_outcome(answer.outcome, retry_local_ms, now_ms * core::ns_per_ms, answer.code);
        if (answer.outcome == answer_outcome::retry_after) {
            counters.backoffs.fetch_add(1, std::memory_order_relaxed);
        } else if (answer.outcome == answer_outcome::banned) {
            counters.bans.fetch_add(1, std::memory_order_relaxed);
        }
        pending_request* const waiting = pending.find(answer.request_id);
        if (waiting == nullptr) {
            return; // an answer to a request already resolved (e.g. after a query)
        }
        pending_request& p = *waiting;
        // Once per request sent: a late answer to one already counted as timed out is not.
        if (std::exchange(p.awaiting_answer, false) &&
            (answer.outcome == answer_outcome::unknown ||
             answer.outcome == answer_outcome::malformed ||
             (refused_for_rate(answer.outcome) && !refusal_reported(p.kind)))) {
            counters.venue_failures.fetch_add(1, std::memory_order_relaxed);
        }
        if (p.kind == request_kind::time) {
            resync_time(payload, now_ms);
            p.active = false;
            time_in_flight = false;
            resend_after_resync(now_ms);
            return;
        }
        if (answer.outcome == answer_outcome::clock_skew && !p.retried) {
            // -1021: our clock estimate is off. Resync from the venue's time, then send the
            // request once more, re-signed with the new offset (it had no effect).
            counters.api_errors.fetch_add(1, std::memory_order_relaxed);
            counters.clock_retries.fetch_add(1, std::memory_order_relaxed);
            p.retried = true;
            p.await_time = true;
            request_time(now_ms);
            return;
        }
        if (p.kind == request_kind::kill_check) {
            on_kill_check_answer(p, answer, now_ms);
            return;
        }
        if (p.kind == request_kind::logon) {
            p.active = false;
            if (answer.outcome == answer_outcome::ok) {
                counters.logons.fetch_add(1, std::memory_order_relaxed);
                open_session();
            } else {
                // Refused (wrong key, bad signature, a second -1021): the connection stays
                // closed to orders, and the owner raises the alarm.
                counters.api_errors.fetch_add(1, std::memory_order_relaxed);
                counters.logon_failures.fetch_add(1, std::memory_order_relaxed);
            }
            return;
        }
        if (p.kind == request_kind::open_orders || p.kind == request_kind::account ||
            p.kind == request_kind::reconcile_cancel) {
            if (answer.outcome != answer_outcome::ok) {
                counters.api_errors.fetch_add(1, std::memory_order_relaxed);
            }
            on_reconcile_answer(p, answer, now_ms);
            return;
        }
        if (p.kind == request_kind::trades) {
            on_trades_answer(p, answer, now_ms);
            return;
        }
        if (p.kind == request_kind::subscribe) {
            on_subscribe_answer(p, answer.outcome == answer_outcome::ok, now_ms);
            return;
        }
        if (answer.outcome != answer_outcome::ok) {
            counters.api_errors.fetch_add(1, std::memory_order_relaxed);
        }
        switch (p.kind) {
        case request_kind::place:
            on_place_answer(p, answer, now_ms);
            break;
        case request_kind::cancel:
            on_cancel_answer(p, answer, now_ms);
            break;
        case request_kind::replace:
            on_replace_answer(p, answer, now_ms);
            break;
        case request_kind::cancel_all:
            on_cancel_all_answer(p, answer, now_ms);
            break;
        case request_kind::status: {
            const bool step = p.reconcile_step && p.generation == reconcile_generation;
            on_status_answer(p, answer, now_ms);
            if (step && !p.active) {
                finish_reconcile_step(); // one of this run's orders is known again
            }
            break;
        }
        case request_kind::time:
        case request_kind::subscribe:
        case request_kind::open_orders:
        case request_kind::account:
        case request_kind::reconcile_cancel:
        case request_kind::kill_check:
        case request_kind::logon:
        case request_kind::trades:
            break;
        }
    }

    void on_place_answer(pending_request& p, const api_answer& answer, std::int64_t now_ms) {
        switch (answer.outcome) {
        case answer_outcome::ok:
            deliver_ack(p.order, answer.has_order ? answer.order.order_id : 0);
            p.active = false;
            return;
        case answer_outcome::clock_skew: // the second -1021 (the first was retried)
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
            report_unknown_and_query(p, now_ms);
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
                deliver_final(answer.order.order_id == 0 ? p.order
                                                         : order_of(answer.order, p.order),
                              answer.order, exec_kind::cancelled);
            } else {
                deliver_terminal(p.order, exec_kind::cancelled, reject_reason::user_cancel);
            }
            p.active = false;
            return;
        case answer_outcome::unknown:
        case answer_outcome::malformed:
            p.for_cancel = true;
            query(p, now_ms);
            return;
        default: { // a second -1021 included (the first was retried): the owner's retries
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
                (void)send_status(gone, false, false, 0, now_ms); // else a reconciliation tells
            }
            return;
        }
        }
    }

    // ---- order.cancelReplace: a cancel and its new order in one request --------------------

    /// The order a replace cancels, as this run sent it (as far as the funnel remembers).
    [[nodiscard]] order_request replaced_order(const pending_request& p) const noexcept {
        order_request base;
        base.id = p.replaced;
        base.symbol = p.order.symbol;
        base.side = p.order.side;
        return tracked_order(base);
    }

    void replace_cancel_reject(const pending_request& p, reject_reason reason) {
        exec_report r = report_of(replaced_order(p), exec_kind::cancel_reject);
        r.reason = reason;
        deliver(r);
    }

    /// Each half is reported as its own request's answer would be: the old order's cancelled
    /// or cancel_reject, then the new order's ack or reject. An answer without halves (a
    /// whole-request error: 429, 418, a second -1021, bad parameters) refused both; one that
    /// says nothing (5xx, -1006, none) is resolved by querying both orders, never resent.
    void on_replace_answer(pending_request& p, const api_answer& answer, std::int64_t now_ms) {
        const replace_answer& halves = answer.replace;
        if (!halves.present) {
            switch (answer.outcome) {
            case answer_outcome::unknown:
            case answer_outcome::malformed:
                report_unknown_and_query(p, now_ms);
                return;
            case answer_outcome::ok: // a success must name its halves: ask the venue
                query(p, now_ms);
                return;
            case answer_outcome::retry_after:
            case answer_outcome::banned:
                replace_cancel_reject(p, reject_reason::rate_limited);
                reject(p, reject_reason::rate_limited);
                return;
            default:
                // One request refused: one API error, told with its new order's half (a -2011:
                // the old order is gone, routine).
                replace_cancel_reject(p, answer.outcome == answer_outcome::unknown_order
                                             ? reject_reason::unknown_order
                                             : reject_reason::none);
                reject(p, answer.outcome == answer_outcome::unknown_order
                              ? reject_reason::unknown_order
                              : reject_reason::venue_refused);
                return;
            }
        }
        const order_request old = replaced_order(p);
        if (halves.cancel == replace_half::success) {
            if (halves.has_cancelled) {
                deliver_final(order_of(halves.cancelled, old), halves.cancelled,
                              exec_kind::cancelled);
            } else {
                deliver_terminal(old, exec_kind::cancelled, reject_reason::user_cancel);
            }
        } else {
            // The old order is not cancelled: it rests still, or it filled (or expired) before
            // the cancel reached it. The stream tells, and so does this query, once. An order
            // not yet acknowledged is left to its placement's own resolution, which knows how
            // long the venue may still take it: this query's "no such order" would end it.
            replace_cancel_reject(p, halves.cancel_code == -2011 ? reject_reason::unknown_order
                                                                 : reject_reason::venue_refused);
            if (funnel.acked_and_open(old.id)) {
                (void)send_status(old, false, false, 0, now_ms); // else the stream tells
            }
        }
        switch (halves.new_order) {
        case replace_half::success:
            deliver_ack(p.order, answer.has_order ? answer.order.order_id : 0);
            p.active = false;
            return;
        case replace_half::failure:
            if (halves.new_order_outcome == answer_outcome::unknown) {
                // "Execution status unknown" for the new order: the venue may have placed it.
                // Queried as a placement whose answer said nothing, never taken as refused; the
                // old order's half was told above.
                report_unknown_and_query(p, now_ms, false);
                return;
            }
            if (halves.new_order_code == order_rate_limiter::order_count_code) {
                limiter.on_order_count_refusal(now_ms * core::ns_per_ms);
            }
            reject(p, halves.new_order_outcome == answer_outcome::post_only_reject
                          ? reject_reason::post_only_would_cross
                      : halves.new_order_code == order_rate_limiter::order_count_code ||
                              halves.new_order_outcome == answer_outcome::retry_after
                          ? reject_reason::rate_limited
                          : reject_reason::venue_refused);
            return;
        case replace_half::not_attempted:
        case replace_half::none:
            // STOP_ON_FAILURE: the cancel failed, so the new order never reached the book.
            reject(p, reject_reason::unknown_order);
            return;
        }
    }

    void on_cancel_all_answer(pending_request& p, const api_answer& answer, std::int64_t now_ms) {
        p.active = false;
        // Whatever the answer said, a query confirms that nothing rests (kill_confirmation).
        check_kill_again(p, now_ms, config.kill_check_delay_ms);
        if (answer.outcome != answer_outcome::ok) {
            return; // -2011: nothing was open; otherwise the owner's cancel retries take over
        }
        for (const answered_order& o : decoder.listed_orders()) {
            const std::string_view text =
                o.orig_client_id.empty() ? o.client_id.view() : o.orig_client_id.view();
            const auto id = ids.parse(text);
            if (!id.has_value()) {
                continue; // not ours (reconciliation deals with foreign orders)
            }
            order_request base;
            base.id = *id;
            deliver_final(order_of(o, base), o, exec_kind::cancelled);
        }
    }

    /// myTrades of an order whose fills an answer told: the funnel reports the trades, or asks
    /// for them again (after the timeout) while they do not cover what the answer told.
    void on_trades_answer(pending_request& p, const api_answer& answer, std::int64_t now_ms) {
        if (answer.outcome != answer_outcome::ok) {
            counters.api_errors.fetch_add(1, std::memory_order_relaxed);
        }
        const std::span<const venue_trade> trades = answer.outcome == answer_outcome::ok
                                                        ? decoder.listed_trades()
                                                        : std::span<const venue_trade>{};
        if (funnel.trades_answered(p.order, trades, p.attempt, symbols) ==
            status_resolution::ask_again) {
            p.timed_out = true;
            p.sent_ms = now_ms; // asked again after the timeout
            return;
        }
        p.active = false;
    }

    /// The funnel wants the trades of an order whose fills an answer told (I/O thread: the
    /// funnel runs there).
    void want_trades(const order_request& order, std::uint64_t exchange_id) override {
        send_trades(order, exchange_id, 1, wall_ns() / core::ns_per_ms);
    }

    /// order by value: the caller's may live in the slot just freed, which this claims.
    void send_trades(order_request order, std::uint64_t exchange_id, std::uint32_t attempt,
                     std::int64_t now_ms) {
        if (exchange_id == 0) {
            // No venue order id to ask by: the fills as the answer told them.
            (void)funnel.trades_answered(order, {}, order_report_funnel::max_trade_attempts);
            return;
        }
        pending_request* const slot = fresh_request(request_kind::trades);
        if (slot == nullptr) {
            // Every slot waits (never expected): the fills as the answer told them.
            (void)funnel.trades_answered(order, {}, order_report_funnel::max_trade_attempts);
            return;
        }
        pending_request& q = *slot;
        const std::uint64_t id = q.request_id;
        q.order = order;
        q.exchange_id = exchange_id;
        q.attempt = attempt;
        q.timed_out = true;
        counters.trade_queries.fetch_add(1, std::memory_order_relaxed);
        send_own(io_encoder.my_trades(io_buffer, id, symbols[order.symbol].name().view(),
                                      exchange_id, now_ms + offset_ms.load()),
                 q, now_ms);
    }

    /// A trades request that timed out: asked again, or after the last attempt the fills as
    /// the answer told them.
    void retry_trades(pending_request& p, std::int64_t now_ms) {
        p.active = false;
        if (p.attempt >= order_report_funnel::max_trade_attempts) {
            (void)funnel.trades_answered(p.order, {}, p.attempt);
            return;
        }
        send_trades(p.order, p.exchange_id, p.attempt + 1, now_ms);
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
        case status_resolution::ask_again:
            // 5xx, malformed, 429, 418 and -1021 say nothing about the order: asked again after
            // the timeout (the limiter holds it while a 429 or 418 lasts).
            p.timed_out = true;
            p.sent_ms = now_ms;
            return;
        case status_resolution::not_yet:
            // No such order, but the venue may still execute the placement: asked again soon,
            // until its recvWindow has passed (then -2013 is final).
            p.timed_out = true;
            p.requery_at_ms = now_ms + std::max<std::int64_t>(config.not_yet_requery_ms, 1);
            return;
        }
    }

    // ---- the report funnel (binance_report_funnel): every order report passes there, once --

    [[nodiscard]] bool outcome_known(client_order_id id) const noexcept {
        return funnel.outcome_known(id);
    }

    void open_track(const order_request& order) noexcept { funnel.open(order); }

    [[nodiscard]] static order_request order_of(const answered_order& o,
                                                order_request base) noexcept {
        return order_report_funnel::order_of(o, base);
    }

    [[nodiscard]] order_request tracked_order(const order_request& fallback) const noexcept {
        return funnel.tracked_order(fallback);
    }

    void deliver_ack(const order_request& order, std::uint64_t exchange_id) {
        funnel.ack(order, exchange_id);
    }

    void deliver_terminal(const order_request& order, exec_kind kind, reject_reason reason,
                          core::qty cum = core::qty{0}, std::uint64_t exchange_id = 0) {
        funnel.terminal(order, kind, reason, cum, exchange_id);
    }

    void deliver_final(const order_request& order, const answered_order& o, exec_kind kind) {
        funnel.finished(order, o, kind);
    }

    void on_user_event(std::string_view payload, std::int64_t now_ms) {
        counters.user_events.fetch_add(1, std::memory_order_relaxed);
        const user_event& e = user_decoder.decode(payload);
        if (e.kind == user_event_kind::stream_terminated) {
            // The subscription ended: events of the meantime are lost for good. Subscribe again
            // and reconcile (this run's orders are queried, so fills of the gap are reported,
            // once, by the funnel); no new order is taken until then.
            user_stream.store(false, std::memory_order_release);
            counters.stream_restarts.fetch_add(1, std::memory_order_relaxed);
            start_reconcile(now_ms);
            return;
        }
        if (e.kind == user_event_kind::account_position) {
            counters.balance_updates.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        if (e.kind == user_event_kind::malformed) {
            reconcile_for_unreadable_event(now_ms);
            return;
        }
        if (e.kind != user_event_kind::order_update) {
            return;
        }
        const order_update& u = e.order;
        const auto id = ids.parse(u.client_id.view());
        if (!id.has_value()) {
            // An order of another run or program: reconciliation's business, at once when it
            // traded.
            if (u.execution == execution_type::trade) {
                counters.foreign_fills.fetch_add(1, std::memory_order_relaxed);
                foreign_reconciles.note_fill();
                reconcile_for_foreign_fill(now_ms);
            }
            return;
        }
        order_request order;
        order.id = *id;
        order.symbol = u.symbol;
        order.side = u.side;
        order.price = u.order_price;
        order.qty = u.order_qty;
        order = tracked_order(order);
        switch (u.execution) {
        case execution_type::new_order:
            deliver_ack(order, u.order_id);
            return;
        case execution_type::trade:
            funnel.stream_trade(order, u, offset_ms.load(std::memory_order_relaxed),
                                symbols[u.symbol]);
            return;
        case execution_type::canceled:
        case execution_type::expired:
        case execution_type::trade_prevention:
            deliver_terminal(order, exec_kind::cancelled,
                             u.execution == execution_type::canceled ? reject_reason::user_cancel
                                                                     : reject_reason::expired,
                             u.cum_qty, u.order_id);
            return;
        case execution_type::rejected:
            deliver_terminal(order, exec_kind::reject, reject_reason::venue_refused);
            return;
        case execution_type::unknown:
        case execution_type::replaced:
        case execution_type::amendment:
        case execution_type::calculated:
            return;
        }
    }

    // ---- kill confirmation: cancel-all, query, again until nothing rests or trading resumes --

    /// `p` (a cancel-all or a confirming query of the kill in force) has its answer, failed or
    /// was lost: the next query goes out delay_ms after now_ms (kill_confirmation).
    void check_kill_again(const pending_request& p, std::int64_t now_ms, std::int64_t delay_ms) {
        kills.check_again(p.order.symbol, p.kill_epoch, now_ms, delay_ms);
    }

    void check_kills(std::int64_t now_ms) {
        if (now_ms * core::ns_per_ms < limiter.resume_at() ||
            !open.load(std::memory_order_relaxed)) {
            kills.missed_checks(now_ms, counters); // the kill waits for the venue
            return;
        }
        kills.check_due(now_ms, [&](std::uint32_t symbol, std::uint32_t epoch) {
            pending_request* const slot = fresh_request(request_kind::kill_check);
            if (slot == nullptr) {
                return false; // every slot waits: asked again a check delay later
            }
            pending_request& q = *slot;
            const std::uint64_t id = q.request_id;
            q.order.symbol = symbol;
            q.kill_epoch = epoch;
            const std::string_view text = io_encoder.open_orders_status(
                io_buffer, id, symbols[symbol].name().view(), now_ms + offset_ms.load());
            send_own(text, q, now_ms);
            if (q.held) {
                q.active = false; // the limiter has no room: asked again a check delay later
            }
            return q.active;
        });
    }

    /// True while a placement on `symbol` waits for its answer or for the query resolving its
    /// unknown outcome: the venue may still take it.
    [[nodiscard]] bool placement_unresolved(std::uint32_t symbol) const noexcept {
        for (const pending_request& q : pending) {
            if (q.active && q.order.symbol == symbol &&
                (q.kind == request_kind::place || q.kind == request_kind::replace ||
                 (q.kind == request_kind::status && !q.for_cancel))) {
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
        pending_request* const slot = fresh_request(request_kind::cancel_all);
        if (slot == nullptr) {
            kills.resent(symbol, false); // the query at check time decides again
            return;
        }
        pending_request& q = *slot;
        const std::uint64_t id = q.request_id;
        q.order.symbol = symbol;
        q.kill_epoch = epoch;
        const std::string_view text = io_encoder.cancel_all(
            io_buffer, id, symbols[symbol].name().view(), now_ms + offset_ms.load());
        send_own(text, q, now_ms);
        if (!q.active || q.held) {
            q.active = false; // not sent: the query at check time decides again
        }
        kills.resent(symbol, q.active);
    }

    // ---- reconciliation: after every connect, before new orders are taken -----------------

    void start_reconcile(std::int64_t now_ms) {
        ready.store(false, std::memory_order_release);
        reconciliation.start(now_ms, counters.reconcile_failures.load());
        // Answers to an earlier reconciliation's requests no longer count (generation).
        ++reconcile_generation;
        reconcile_steps = 0;
        reconcile_retries = 0;
        reconcile_abandoned = false;
        account_asked = false;
        reconcile_awaits_stream = false;
        if (config.user_data_stream && !user_stream.load(std::memory_order_relaxed)) {
            // Spot answers (ACK) tell no fills: the stream does. The listings are asked once it
            // runs, so that nothing trades unseen between them and the subscription, and no
            // order is taken while it does not.
            reconcile_awaits_stream = true;
            subscribe_user_data(now_ms);
            return;
        }
        send_reconcile_queries(now_ms);
    }

    /// The subscription's answer: the reconciliation's listings follow a success; a failure
    /// (an error answer, or none within the timeout) is asked again subscribe_retry_ms later,
    /// within the reconciliation's retries.
    void on_subscribe_answer(pending_request& p, bool subscribed, std::int64_t now_ms) {
        if (subscribed) {
            p.active = false;
            user_stream.store(true, std::memory_order_release);
            if (reconcile_awaits_stream && p.generation == reconcile_generation) {
                reconcile_awaits_stream = false;
                send_reconcile_queries(now_ms);
            }
            return;
        }
        counters.api_errors.fetch_add(1, std::memory_order_relaxed);
        if (p.generation != reconcile_generation || !reconcile_may_retry()) {
            p.active = false; // superseded, or given up with its reconciliation
            return;
        }
        p.requery_at_ms = now_ms + config.subscribe_retry_ms;
    }

    /// The reconciliation's listings: every symbol's open orders, and this run's unfinished
    /// orders.
    void send_reconcile_queries(std::int64_t now_ms) {
        for (std::uint32_t symbol = 0; symbol < symbols.size(); ++symbol) {
            ++reconcile_steps;
            send_reconcile_query(request_kind::open_orders, symbol, now_ms);
        }
        // This run's acknowledged, unfinished orders may have traded or been cancelled unseen
        // (a dropped connection, an ended user stream): each is queried, and the funnel reports
        // only what was not reported yet. Unacknowledged ones have their own queries.
        funnel.for_each_unfinished([&](const order_request& order) {
            ++reconcile_steps;
            if (!send_status(order, false, true, reconcile_generation, now_ms)) {
                --reconcile_steps;
                abandon_reconcile(); // every slot waits (never expected): nothing is taken
            }
        });
    }

    /// One more failure of a reconciliation request: true while it may be asked again. Past
    /// reconcile_max_retries the reconciliation is abandoned (counted once; ready stays false).
    [[nodiscard]] bool reconcile_may_retry() {
        counters.reconcile_failures.fetch_add(1, std::memory_order_relaxed);
        if (++reconcile_retries <= config.reconcile_max_retries) {
            return true;
        }
        abandon_reconcile();
        return false;
    }

    /// No new order is taken until a reconnect reconciles (counted once).
    void abandon_reconcile() {
        if (!reconcile_abandoned) {
            reconcile_abandoned = true;
            counters.reconcile_gave_up.fetch_add(1, std::memory_order_relaxed);
        }
    }

    /// A cancel of an earlier run's order that failed or went unanswered: sent again (a cancel
    /// of an order gone is answered -2011, which ends the step) while the reconciliation may
    /// retry; past reconcile_max_retries the reconciliation is abandoned, so that no new order
    /// is taken beside an order the limits do not see.
    void retry_reconcile_cancel(pending_request& p, std::int64_t now_ms) {
        if (!reconcile_may_retry()) {
            p.active = false;
            return;
        }
        p.active = true;
        resend(p, now_ms);
    }

    void send_reconcile_query(request_kind kind, std::uint32_t symbol, std::int64_t now_ms) {
        pending_request* const slot = fresh_request(kind);
        if (slot == nullptr) {
            abandon_reconcile(); // every slot waits (never expected)
            return;
        }
        pending_request& q = *slot;
        const std::uint64_t id = q.request_id;
        q.generation = reconcile_generation;
        q.order.symbol = symbol;
        const std::int64_t venue_ms = now_ms + offset_ms.load();
        const std::string_view text =
            kind == request_kind::open_orders
                ? io_encoder.open_orders_status(io_buffer, id, symbols[symbol].name().view(),
                                                venue_ms)
                : io_encoder.account_status(io_buffer, id, venue_ms);
        send_own(text, q, now_ms);
    }

    void on_reconcile_answer(pending_request& p, const api_answer& answer, std::int64_t now_ms) {
        p.active = false;
        if (p.generation != reconcile_generation) {
            return; // a reconciliation since replaced by a newer one
        }
        if (p.kind == request_kind::reconcile_cancel) {
            if (answer.outcome == answer_outcome::ok) {
                counters.reconcile_cancelled.fetch_add(1, std::memory_order_relaxed);
            } else if (answer.outcome != answer_outcome::unknown_order) {
                // Refused (a 429, a venue error): the earlier run's order may rest still, and
                // nothing is taken until it is gone.
                retry_reconcile_cancel(p, now_ms);
                return;
            }
            finish_reconcile_step();
            return;
        }
        if (answer.outcome != answer_outcome::ok) {
            p.active = true; // asked again after the timeout (counted there, bounded)
            p.sent_ms = now_ms;
            return;
        }
        if (p.kind == request_kind::account) {
            {
                const std::lock_guard<std::mutex> lock(balances_mutex);
                balances.assign(decoder.listed_balances().begin(), decoder.listed_balances().end());
            }
            finish_reconcile_step();
            return;
        }
        // openOrders.status: orders of earlier runs (and foreign ones when so configured) go.
        for (const answered_order& o : decoder.listed_orders()) {
            counters.reconcile_found.fetch_add(1, std::memory_order_relaxed);
            const std::string_view text = o.client_id.view();
            const client_id_owner owner = ids.owner(text);
            if (owner == client_id_owner::this_run) {
                // Tracked, or resolved by its own query; one ended as never taken is on the
                // venue after all, and is tracked again.
                if (const auto id = ids.parse(text); id.has_value()) {
                    funnel.listed_open(*id, o);
                }
                continue;
            }
            if (owner == client_id_owner::foreign && !config.cancel_foreign_orders) {
                counters.foreign_orders.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            pending_request* const slot = fresh_request(request_kind::reconcile_cancel);
            if (slot == nullptr) {
                abandon_reconcile(); // every slot waits (never expected): nothing is taken
                return;
            }
            pending_request& q = *slot;
            const std::uint64_t id = q.request_id;
            q.generation = reconcile_generation;
            q.order.symbol = o.symbol;
            q.venue_id_size = static_cast<std::uint8_t>(std::min(text.size(), q.venue_id.size()));
            std::copy_n(text.data(), q.venue_id_size, q.venue_id.data());
            ++reconcile_steps;
            const std::string_view request =
                io_encoder.cancel(io_buffer, id, symbols[o.symbol].name().view(), text, {},
                                  now_ms + offset_ms.load());
            send_own(request, q, now_ms);
            if (!q.active) {
                finish_reconcile_step(); // could not be sent; the next reconciliation retries
            }
        }
        finish_reconcile_step();
    }

    /// One reconciliation request is done; when every open-order listing and cancel is, the
    /// balances are read, then new orders are taken again.
    void finish_reconcile_step() {
        if (reconcile_steps > 0) {
            --reconcile_steps;
        }
        if (reconcile_steps > 0 || ready.load(std::memory_order_relaxed) || reconcile_abandoned ||
            reconcile_awaits_stream) {
            return;
        }
        if (!account_asked) {
            account_asked = true;
            ++reconcile_steps;
            send_reconcile_query(request_kind::account, 0, wall_ns() / core::ns_per_ms);
            return;
        }
        counters.reconciles.fetch_add(1, std::memory_order_relaxed);
        ready.store(true, std::memory_order_release);
    }

    /// A request the limiter held back, tried again (it may be held once more).
    void retry_held(pending_request& p, std::int64_t now_ms) {
        p.held = false;
        switch (p.kind) {
        case request_kind::status:
            query(p, now_ms);
            return;
        case request_kind::trades:
            p.active = false;
            send_trades(p.order, p.exchange_id, p.attempt, now_ms);
            return;
        case request_kind::subscribe:
            p.active = false;
            subscribe_user_data(now_ms, p.generation);
            return;
        case request_kind::time:
            // This was the request in flight: asked again, its answer resends every request
            // waiting for the clock.
            p.active = false;
            time_in_flight = false;
            request_time(now_ms);
            return;
        case request_kind::place:
        case request_kind::replace:
        case request_kind::cancel:
        case request_kind::cancel_all:
        case request_kind::reconcile_cancel:
        case request_kind::logon:
            resend(p, now_ms); // a -1021 retry, re-signed
            return;
        case request_kind::open_orders:
        case request_kind::account:
            p.active = false;
            send_reconcile_query(p.kind, p.order.symbol, now_ms);
            return;
        case request_kind::kill_check:
            p.active = false;
            check_kill_again(p, now_ms, config.kill_check_delay_ms); // once the clock is resynced
            return;
        }
    }

    /// Sends `p` again under its own request id, encoded afresh with the current clock offset
    /// (after a -1021 it had no effect on the venue).
    void resend(pending_request& p, std::int64_t now_ms) {
        if ((p.kind == request_kind::place || p.kind == request_kind::replace) &&
            may_rest(p.order) && kills.active(p.order.symbol)) {
            // A kill came after it first went out: an order that would rest must not follow the
            // cancel-all. The venue never had it (-1021, or held back): refused unsent, and a
            // replaced order rests as it was, for the kill to cancel.
            if (p.kind == request_kind::replace) {
                replace_cancel_reject(p, reject_reason::held_back);
            }
            reject(p, reject_reason::held_back);
            return;
        }
        const std::int64_t venue = now_ms + offset_ms.load(std::memory_order_relaxed);
        const std::string_view symbol = symbols[p.order.symbol].name().view();
        switch (p.kind) {
        case request_kind::place:
            resend_place(p, now_ms);
            return;
        case request_kind::replace: {
            const auto text_id = ids.format(p.order.id);
            const auto old_id = ids.format(p.replaced);
            p.signed_ms = venue; // the refused one (-1021) had no effect
            send_own(io_encoder.cancel_replace(io_buffer, p.request_id, symbols[p.order.symbol],
                                               old_id.view(), p.order, text_id.view(),
                                               cancel_replace_mode::stop_on_failure,
                                               order_response_type::ack, venue),
                     p, now_ms);
            return;
        }
        case request_kind::cancel: {
            const auto text_id = ids.format(p.order.id);
            send_own(io_encoder.cancel(io_buffer, p.request_id, symbol, text_id.view(), {}, venue),
                     p, now_ms);
            return;
        }
        case request_kind::cancel_all:
            send_own(io_encoder.cancel_all(io_buffer, p.request_id, symbol, venue), p, now_ms);
            return;
        case request_kind::logon:
            send_own(io_encoder.session_logon(io_buffer, p.request_id, logon_signer, venue), p,
                     now_ms);
            return;
        case request_kind::reconcile_cancel:
            send_own(io_encoder.cancel(io_buffer, p.request_id, symbol,
                                       std::string_view(p.venue_id.data(), p.venue_id_size), {},
                                       venue),
                     p, now_ms);
            return;
        case request_kind::status:
        case request_kind::trades:
        case request_kind::time:
        case request_kind::subscribe:
        case request_kind::open_orders:
        case request_kind::account:
        case request_kind::kill_check:
            retry_held(p, now_ms); // a fresh request
            return;
        }
    }

    /// The clock is resynced (or the time request was lost): every request that got -1021 goes
    /// out once more.
    void resend_after_resync(std::int64_t now_ms) {
        for (pending_request& p : pending) {
            if (p.active && p.await_time) {
                p.await_time = false;
                p.held = false;
                resend(p, now_ms);
            }
        }
    }

    [[nodiscard]] static request_class class_of(request_kind kind) noexcept {
        switch (kind) {
        case request_kind::place:
        case request_kind::replace: // counts as an order (ORDERS) whatever its cancel does
            return request_class::new_order;
        case request_kind::cancel:
            return request_class::cancel;
        case request_kind::cancel_all:
            return request_class::kill;
        case request_kind::reconcile_cancel:
            return request_class::cancel;
        case request_kind::kill_check:
            // The kill's confirmation sends the cancel-all again: it may use the cancel reserve
            // that quoting's queries leave, or a kill lost at a busy time waits for the window.
            return request_class::cancel;
        case request_kind::status:
        case request_kind::trades:
        case request_kind::time:
        case request_kind::subscribe:
        case request_kind::open_orders:
        case request_kind::account:
        case request_kind::logon:
            break;
        }
        return request_class::query;
    }

    /// REQUEST_WEIGHT of each request, from Binance's WebSocket API documentation.
    [[nodiscard]] static std::uint32_t weight_of(request_kind kind) noexcept {
        switch (kind) {
        case request_kind::status:
            return 4;
        case request_kind::trades:
            return 5; // myTrades with orderId
        case request_kind::subscribe:
        case request_kind::logon:
            return 2;
        case request_kind::open_orders:
        case request_kind::kill_check:
            return 6;
        case request_kind::account:
            return 20;
        case request_kind::reconcile_cancel:
        case request_kind::place:
        case request_kind::replace:
        case request_kind::cancel:
        case request_kind::cancel_all:
        case request_kind::time:
            break;
        }
        return 1;
    }

    /// The I/O thread's request ids are even, the core's odd, so the two never share an id.
    [[nodiscard]] std::uint64_t take_io_id() noexcept {
        const std::uint64_t id = next_io_id;
        next_io_id += 2;
        return id;
    }

    /// A cleared pending slot for a request the I/O thread writes itself, with a new id;
    /// nullptr when every slot waits for an answer (counted).
    [[nodiscard]] pending_request* fresh_request(request_kind kind) noexcept {
        pending_request* const q = pending.claim(take_io_id());
        if (q == nullptr) {
            counters.request_table_full.fetch_add(1, std::memory_order_relaxed);
            return nullptr;
        }
        q->kind = kind;
        return q;
    }

    /// generation: the reconciliation the subscription serves (by default the current one).
    void subscribe_user_data(std::int64_t now_ms, std::uint32_t generation = 0) {
        pending_request* const slot = fresh_request(request_kind::subscribe);
        if (slot == nullptr) {
            abandon_reconcile(); // every slot waits (never expected): nothing is taken
            return;
        }
        pending_request& q = *slot;
        q.generation = generation != 0 ? generation : reconcile_generation;
        const std::uint64_t id = q.request_id;
        const std::string_view text =
            session_auth ? io_encoder.session_user_data_subscribe(io_buffer, id)
                         : io_encoder.user_data_subscribe(io_buffer, id, now_ms + offset_ms.load());
        send_own(text, q, now_ms);
    }

    /// session.logon, first on every connection of an Ed25519 key.
    void send_logon(std::int64_t now_ms) {
        pending_request* const slot = fresh_request(request_kind::logon);
        if (slot == nullptr) {
            // Every slot waits (never expected): the next scan closes this connection, as after
            // an unanswered logon, and a new one logs on again.
            counters.logon_failures.fetch_add(1, std::memory_order_relaxed);
            logon_unsent = true;
            return;
        }
        pending_request& q = *slot;
        const std::uint64_t id = q.request_id;
        send_own(io_encoder.session_logon(io_buffer, id, logon_signer, now_ms + offset_ms.load()),
                 q, now_ms);
    }

    void send(const outgoing_request& request) {
        const std::int64_t now_ms = wall_ns() / core::ns_per_ms;
        const bool is_open = open.load(std::memory_order_relaxed);
        if ((request.kind == request_kind::place || request.kind == request_kind::replace) &&
            may_rest(request.order)) {
            // The owner quotes again, so it resumed: only flatten orders (IOC) go out while
            // killed.
            kills.end(request.order.symbol);
        }
        // The slot claimed below is free, and the I/O thread's own requests find room.
        const bool has_slot = pending.has_room(own_request_reserve);
        const bool admitted = is_open && has_slot &&
                              limiter.try_send(class_of(request.kind), weight_of(request.kind),
                                               now_ms * core::ns_per_ms) == admit_result::ok;
        if (!admitted) {
            // Never left the process: the venue cannot have it.
            if (is_open) {
                (has_slot ? counters.rate_limited : counters.request_table_full)
                    .fetch_add(1, std::memory_order_relaxed);
            }
            if (request.kind == request_kind::replace) {
                // Neither half left: the old order rests as it was.
                order_request old = request.order;
                old.id = request.replaced;
                exec_report r = report_of(tracked_order(old), exec_kind::cancel_reject);
                r.reason = is_open ? reject_reason::held_back : reject_reason::none;
                deliver(r);
            }
            if (request.kind == request_kind::place || request.kind == request_kind::replace) {
                exec_report r = report_of(request.order, exec_kind::reject);
                r.reason = is_open ? reject_reason::held_back : reject_reason::none;
                deliver(r);
            } else if (request.kind == request_kind::cancel) {
                exec_report r = report_of(request.order, exec_kind::cancel_reject);
                r.reason = is_open ? reject_reason::held_back : reject_reason::none;
                deliver(r);
            } else if (request.kind == request_kind::cancel_all) {
                // A kill held back (a 429 or 418 lasts) or taken while the connection is down:
                // the confirming query goes out once the venue allows and sends the cancel-all
                // again while anything rests.
                kills.held(request.order.symbol, now_ms);
            }
            return;
        }
        pending_request& p = *pending.claim(request.request_id);
        p.kind = request.kind;
        p.active = true;
        p.sent_ms = now_ms;
        p.order = request.order;
        p.replaced = request.replaced;
        if (request.kind == request_kind::place || request.kind == request_kind::replace) {
            p.signed_ms = request.signed_ms;
            open_track(request.order);
        }
        if (request.kind == request_kind::replace) {
            counters.replaces_sent.fetch_add(1, std::memory_order_relaxed);
        }
        if (request.kind == request_kind::cancel_all) {
            // Held from now on: whatever becomes of this request, a query confirms the kill.
            p.kill_epoch = kills.sent(request.order.symbol);
        }
        // Tagged with its id: on_written stamps when the frame reaches the socket.
        connection->send_text(std::string_view(request.text.data(), request.size),
                              request.request_id);
        p.awaiting_answer = true;
        counters.sent.fetch_add(1, std::memory_order_relaxed);
    }

    /// Sends a request the I/O thread wrote itself (queries, retries, time).
    void send_own(std::string_view text, pending_request& p, std::int64_t now_ms) {
        p.sent_ms = now_ms;
        p.active = true;
        // Before the logon only the logon itself (and the `time` of its -1021 retry) may go.
        const bool may_send = p.kind == request_kind::logon || p.kind == request_kind::time
                                  ? socket_open
                                  : open.load(std::memory_order_relaxed);
        if (connection == nullptr || !may_send || text.empty()) {
            p.query_on_open = p.kind == request_kind::status || p.kind == request_kind::trades;
            return;
        }
        if (limiter.try_send(class_of(p.kind), weight_of(p.kind), now_ms * core::ns_per_ms) !=
            admit_result::ok) {
            counters.rate_limited.fetch_add(1, std::memory_order_relaxed);
            p.held = true; // check_timeouts sends it again once there is room
            return;
        }
        connection->send_text(text);
        p.awaiting_answer = true;
        counters.sent.fetch_add(1, std::memory_order_relaxed);
    }

    /// Resolves `p` (a placement or cancel) with order.status, under a new request id.
    /// A replace: both orders, the old one as for a cancel without answer, unless
    /// with_replaced is false (its answer told what became of the old one).
    void query(pending_request& p, std::int64_t now_ms, bool with_replaced = true) {
        const order_request order = p.order;
        const bool for_cancel = p.for_cancel || p.kind == request_kind::cancel;
        const bool both = p.kind == request_kind::replace && with_replaced;
        p.active = false;
        // p's own slot takes the first query; a replace queries two orders.
        if (both && !pending.has_free(2)) {
            counters.request_table_full.fetch_add(1, std::memory_order_relaxed);
            p.active = true;
            p.requery_at_ms = now_ms + config.request_timeout_ms;
            return;
        }
        // Read before the first query claims a slot: it may be p's.
        const bool step = p.reconcile_step;
        const std::uint32_t generation = p.generation;
        const std::int64_t signed_ms = p.signed_ms;
        if (both) {
            (void)send_status(replaced_order(p), true, false, generation, now_ms);
        }
        (void)send_status(order, for_cancel, step, generation, now_ms, signed_ms);
    }

    /// order.status of one of this run's orders; step: a reconciliation waits for it.
    /// signed_ms: the placement request's timestamp when it resolves a placement (else 0).
    /// order by value: the caller's may live in the slot just freed, which this claims.
    /// False when every slot waits (never after the caller freed the slot of the request it
    /// resolves): nothing is sent.
    bool send_status(order_request order, bool for_cancel, bool step, std::uint32_t generation,
                     std::int64_t now_ms, std::int64_t signed_ms = 0) {
        pending_request* const slot = fresh_request(request_kind::status);
        if (slot == nullptr) {
            return false;
        }
        pending_request& q = *slot;
        const std::uint64_t id = q.request_id;
        q.order = order;
        q.for_cancel = for_cancel;
        q.signed_ms = for_cancel ? 0 : signed_ms;
        q.reconcile_step = step;
        q.generation = generation;
        q.timed_out = true;
        counters.status_queries.fetch_add(1, std::memory_order_relaxed);
        const auto text_id = ids.format(order.id);
        const std::string_view text =
            io_encoder.order_status(io_buffer, id, symbols[order.symbol].name().view(),
                                    text_id.view(), now_ms + offset_ms.load());
        send_own(text, q, now_ms);
        return true;
    }

    void resend_place(pending_request& p, std::int64_t now_ms) {
        const auto text_id = ids.format(p.order.id);
        p.signed_ms = now_ms + offset_ms.load(); // the refused one (-1021) had no effect
        const std::string_view text =
            io_encoder.place(io_buffer, p.request_id, symbols[p.order.symbol], p.order,
                             text_id.view(), order_response_type::ack, p.signed_ms);
        send_own(text, p, now_ms);
    }

    void request_time(std::int64_t now_ms) {
        if (time_in_flight) {
            return; // its answer resends every request waiting for it
        }
        pending_request* const slot = fresh_request(request_kind::time);
        if (slot == nullptr) {
            resend_after_resync(now_ms); // with the clock as it is: their timeouts resolve them
            return;
        }
        time_in_flight = true;
        pending_request& q = *slot;
        const std::uint64_t id = q.request_id;
        char buffer[64];
        auto [end, ec] = std::to_chars(buffer, buffer + 32, id);
        (void)ec;
        std::string text = "{\"id\":";
        text.append(buffer, end);
        text += ",\"method\":\"time\"}";
        time_sent_ms = now_ms;
        send_own(text, q, now_ms);
    }

    /// Offset from a `time` answer: the venue's serverTime against the middle of the round
    /// trip.
    void resync_time(std::string_view payload, std::int64_t now_ms) {
        const auto at = payload.find("\"serverTime\":");
        if (at == std::string_view::npos) {
            return;
        }
        std::int64_t server = 0;
        const char* first = payload.data() + at + 13;
        if (std::from_chars(first, payload.data() + payload.size(), server).ec != std::errc{}) {
            return;
        }
        offset_ms.store(server - (time_sent_ms + now_ms) / 2, std::memory_order_relaxed);
    }

    /// A foreign order's fill makes a reconciliation due (detail::foreign_fill_reconciles).
    /// An event that did not decode may have told a fill of this run's, which nothing would
    /// ask about again while the connection lasts: the orders are queried as for a foreign fill.
    void reconcile_for_unreadable_event(std::int64_t now_ms) {
        counters.unreadable_user_events.fetch_add(1, std::memory_order_relaxed);
        foreign_reconciles.note_fill();
        reconcile_for_foreign_fill(now_ms);
    }

    void reconcile_for_foreign_fill(std::int64_t now_ms) {
        if (foreign_reconciles.start_now(now_ms, config.foreign_fill_reconcile_ms,
                                         ready.load(std::memory_order_relaxed))) {
            start_reconcile(now_ms);
        }
    }

    /// Connected, not ready, and reconciling as it should (detail::reconciliation_clock). Any
    /// thread.
    [[nodiscard]] bool reconciling() const noexcept {
        return open.load(std::memory_order_acquire) &&
               reconciliation.on_track(wall_ns() / core::ns_per_ms,
                                       counters.reconcile_failures.load(std::memory_order_relaxed),
                                       config.request_timeout_ms);
    }

    void check_timeouts(std::int64_t now_ms) {
        pending.recount();
        check_kills(now_ms);
        reconcile_for_foreign_fill(now_ms);
        bool silent = false;
        bool restart = false;
        for (pending_request& p : pending) {
            if (p.active && p.held) {
                retry_held(p, now_ms);
                continue;
            }
            if (!p.active || p.query_on_open || p.await_time) {
                continue;
            }
            if (p.requery_at_ms != 0) {
                // Answered (no such order, not yet; a refused subscription): asked again when
                // due, not a timeout.
                if (now_ms >= p.requery_at_ms) {
                    if (p.kind == request_kind::subscribe) {
                        p.active = false;
                        subscribe_user_data(now_ms, p.generation);
                    } else {
                        query(p, now_ms);
                    }
                }
                continue;
            }
            if (now_ms - p.sent_ms < config.request_timeout_ms) {
                continue;
            }
            counters.timeouts.fetch_add(1, std::memory_order_relaxed);
            count_unanswered(p); // not one answered and kept to be asked again
            // Nothing at all came since it was sent: the venue may have gone silent.
            silent = silent || last_rx_ms < p.sent_ms;
            switch (p.kind) {
            case request_kind::place:
                if (outcome_known(p.order.id)) {
                    p.active = false; // the user stream told already
                    break;
                }
                if (!p.timed_out) {
                    report_unknown(p);
                }
                query(p, now_ms);
                break;
            case request_kind::cancel:
                query(p, now_ms);
                break;
            case request_kind::replace:
                // Either half may have happened: both orders are queried, neither is resent.
                report_unknown_and_query(p, now_ms);
                break;
            case request_kind::trades:
                retry_trades(p, now_ms);
                break;
            case request_kind::status:
                if (p.reconcile_step && p.generation == reconcile_generation &&
                    !reconcile_may_retry()) {
                    p.active = false; // abandoned with its reconciliation
                    break;
                }
                query(p, now_ms);
                break; // ask again
            case request_kind::time:
                p.active = false;
                time_in_flight = false;
                resend_after_resync(now_ms); // with the offset as it is
                break;
            case request_kind::cancel_all:
                p.active = false;
                check_kill_again(p, now_ms, 0); // whether it happened, a query finds out
                break;
            case request_kind::subscribe:
                on_subscribe_answer(p, false, now_ms); // asked again, as after a refusal
                break;
            case request_kind::open_orders:
            case request_kind::account:
                p.active = false;
                if (p.generation == reconcile_generation && reconcile_may_retry()) {
                    send_reconcile_query(p.kind, p.order.symbol, now_ms); // ask again
                }
                break;
            case request_kind::reconcile_cancel:
                p.active = false;
                if (p.generation == reconcile_generation) {
                    retry_reconcile_cancel(p, now_ms); // it may not have been executed
                }
                break;
            case request_kind::kill_check:
                p.active = false;
                check_kill_again(p, now_ms, config.kill_check_delay_ms); // asked again
                break;
            case request_kind::logon:
                // Unanswered: this connection never opens; a new one logs on again.
                p.active = false;
                counters.logon_failures.fetch_add(1, std::memory_order_relaxed);
                restart = true;
                break;
            }
        }
        restart = restart || std::exchange(logon_unsent, false);
        if (restart && connection != nullptr) {
            const std::shared_ptr<net::detail::ws_connection> dead = connection;
            dead->abort(net::close_reason::stale);
            return;
        }
        if (silent && ++silent_scans >= config.silent_timeouts && connection != nullptr) {
            // Timeouts in a row and not a byte from the venue: the session is dead even if the
            // socket is not. Close it; on_closed marks what is in flight for a query after the
            // reconnect.
            silent_scans = 0;
            counters.silences.fetch_add(1, std::memory_order_relaxed);
            const std::shared_ptr<net::detail::ws_connection> dead = connection;
            dead->abort(net::close_reason::stale);
        }
    }

    static exec_report report_of(const order_request& order, exec_kind kind) noexcept {
        return order_report_funnel::report_of(order, kind);
    }

    /// A request whose answer says nothing (lost, 5xx, -1006): the order it placed becomes
    /// unknown, unless already reported so or resolved by the user stream, and is queried,
    /// never resent. with_replaced: as query's.
    void report_unknown_and_query(pending_request& p, std::int64_t now_ms,
                                  bool with_replaced = true) {
        if (!p.timed_out && !outcome_known(p.order.id)) {
            report_unknown(p);
        }
        query(p, now_ms, with_replaced);
    }

    void report_unknown(pending_request& p) {
        p.timed_out = true;
        counters.unknowns.fetch_add(1, std::memory_order_relaxed);
        deliver(report_of(p.order, exec_kind::unknown));
    }

    void reject(pending_request& p, reject_reason reason) {
        deliver_terminal(p.order, exec_kind::reject, reason);
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

    binance_spot_gateway_config config;
    std::span<const core::symbol_spec> symbols;
    hmac_signer signer;
    ed25519_signer logon_signer;       ///< Ed25519 keys: signs session.logon (I/O thread).
    spot_request_encoder core_encoder; ///< Core thread.
    spot_request_encoder io_encoder;   ///< I/O thread.
    client_id_factory ids;             ///< format/parse only (const): both threads.
    answer_decoder decoder;            ///< I/O thread.
    user_data_decoder user_decoder;    ///< I/O thread.
    order_rate_limiter limiter;        ///< I/O thread.
    kill_confirmation kills;           ///< I/O thread.
    /// Core thread: per symbol, the cancel-alls handed to the I/O thread (kills.unconfirmed).
    std::vector<std::uint64_t> kill_requests;
    exec_report_sink* sink = nullptr;      ///< Core thread.
    std::uint64_t venue_failures_told = 0; ///< Core thread: of counters.venue_failures.
    std::uint64_t next_core_id = 1;        ///< Core thread: odd request ids.
    std::uint64_t next_io_id = 2;          ///< I/O thread: even request ids (own requests).
    outgoing_request scratch;              ///< Core thread.
    /// Core thread: where rehearse_submit encodes (never sent).
    std::array<char, max_request_bytes> rehearsal_text{};
    core::spsc_ring<outgoing_request, request_ring> to_io;
    core::spsc_ring<exec_report, report_ring> to_core;
    /// Reports the ring had no room for (the core not polling), handed over first.
    report_backlog backlog{report_backlog_capacity};
    core::spsc_ring<written_stamp, written_ring> written; ///< I/O -> core: written stamps.
    /// The core thread's pushes wake the I/O thread (block policy only).
    core::wakeup io_wakeup;
    const bool io_waits_on_core = config.idle == core::idle_policy::block;
    std::atomic<std::int64_t> offset_ms{0};
    std::atomic<bool> open{false};
    detail::reconciliation_clock reconciliation; ///< See reconciling().
    std::atomic<bool> user_stream{false};        ///< The user-data subscription is confirmed.
    /// Connected and reconciled: new orders are taken.
    std::atomic<bool> ready{false};
    std::mutex balances_mutex; ///< Guards balances (written by reconciliation only).
    std::vector<asset_balance> balances;
    std::atomic<bool> stopping{false};
    binance_gateway_counters counters;
    order_report_funnel funnel; ///< I/O thread.
    /// Ed25519 key: every connection logs on; requests go without apiKey and signature.
    const bool session_auth;

    // I/O thread state.
    net::io_loop loop;
    std::shared_ptr<net::detail::ws_connection> connection;
    bool socket_open = false;  ///< The WebSocket is up (logged on or not).
    bool logon_unsent = false; ///< No slot for this connection's logon: it is closed.
    request_slots<pending_request, pending_slots> pending;
    std::array<char, max_request_bytes> io_buffer{};
    std::int64_t reconnect_at_ms = 0;
    /// Counts the attempts since the last session opened (next_connect_ms).
    net::backoff reconnects{detail::reconnect_pacing(config.reconnect_delay_ms), 1};
    std::int64_t last_scan_ms = 0;
    std::int64_t time_sent_ms = 0;
    std::uint32_t reconcile_steps = 0;      ///< Reconciliation requests still unanswered.
    std::uint32_t reconcile_generation = 0; ///< Counts reconciliations started.
    std::uint32_t reconcile_retries = 0;    ///< Failures of the current reconciliation.
    bool reconcile_abandoned = false;       ///< It gave up (reconcile_max_retries).
    bool account_asked = false;
    detail::foreign_fill_reconciles foreign_reconciles;
    /// The reconciliation waits for the user stream's subscription before its listings.
    bool reconcile_awaits_stream = false;
    bool time_in_flight = false;    ///< A `time` request awaits its answer.
    std::int64_t last_rx_ms = 0;    ///< Local time the venue last sent anything.
    std::uint32_t silent_scans = 0; ///< Timeout scans in a row with a silent venue.
    std::thread thread;
};

binance_spot_gateway::binance_spot_gateway(binance_spot_gateway_config config,
                                           std::span<const core::symbol_spec> symbols)
    : impl_(std::make_unique<impl>(std::move(config), symbols)) {}

binance_spot_gateway::~binance_spot_gateway() {
    stop();
}

void binance_spot_gateway::start() {
    if (impl_->thread.joinable()) {
        return;
    }
    impl_->stopping.store(false);
    impl_->thread = std::thread([this] { impl_->run(); });
}

void binance_spot_gateway::stop() {
    if (!impl_->thread.joinable()) {
        return;
    }
    impl_->stopping.store(true, std::memory_order_release);
    impl_->thread.join();
}

bool binance_spot_gateway::connected() const noexcept {
    return impl_->open.load(std::memory_order_acquire);
}

bool binance_spot_gateway::ready() const noexcept {
    return impl_->ready.load(std::memory_order_acquire);
}

std::vector<asset_balance> binance_spot_gateway::balances() const {
    const std::lock_guard<std::mutex> lock(impl_->balances_mutex);
    return impl_->balances;
}

bool binance_spot_gateway::user_stream_subscribed() const noexcept {
    return impl_->user_stream.load(std::memory_order_acquire);
}

const binance_gateway_counters& binance_spot_gateway::counters() const noexcept {
    return impl_->counters;
}

std::int64_t binance_spot_gateway::server_time_offset_ms() const noexcept {
    return impl_->offset_ms.load(std::memory_order_relaxed);
}

void binance_spot_gateway::set_report_sink(exec_report_sink* sink) noexcept {
    impl_->sink = sink;
    // Failures from before (connecting, reconciling) are not told at once as a burst.
    impl_->venue_failures_told = impl_->counters.venue_failures.load(std::memory_order_relaxed);
}

gateway_error binance_spot_gateway::submit(const order_request& request,
                                           core::timestamp_ns now) noexcept {
    impl& m = *impl_;
    if (!m.ready.load(std::memory_order_acquire)) {
        // Not connected, or not reconciled yet.
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
    const std::string_view text =
        m.core_encoder.place(out.text, out.request_id, m.symbols[request.symbol], request,
                             id_text.view(), order_response_type::ack, out.signed_ms);
    const gateway_error error = m.push(out, text);
    if (error == gateway_error::none) {
        m.next_core_id += 2;
    }
    return error;
}

// Dry run (engine::order_path_warmer): submit()'s encoding and signing into a buffer of its
// own; nothing is pushed and the request id does not move.
bool binance_spot_gateway::rehearse_submit(const order_request& request,
                                           core::timestamp_ns now) noexcept {
    impl& m = *impl_;
    if (request.symbol >= m.symbols.size() || !request.id.valid()) {
        return false;
    }
    const auto id_text = m.ids.format(request.id);
    const std::string_view text =
        m.core_encoder.place(m.rehearsal_text, m.next_core_id, m.symbols[request.symbol], request,
                             id_text.view(), order_response_type::ack, m.venue_ms(now));
    return !text.empty() && m.ready.load(std::memory_order_acquire);
}

// Dry run of replace(): order.cancelReplace's encoding and signing into the same buffer.
bool binance_spot_gateway::rehearse_replace(std::uint32_t symbol, client_order_id old_id,
                                            const order_request& request,
                                            core::timestamp_ns now) noexcept {
    impl& m = *impl_;
    if (!m.config.cancel_replace) {
        return rehearse_submit(request, now); // replaced by cancel, then submit
    }
    if (request.symbol >= m.symbols.size() || symbol != request.symbol || !request.id.valid() ||
        !old_id.valid()) {
        return false;
    }
    const auto id_text = m.ids.format(request.id);
    const auto old_text = m.ids.format(old_id);
    const std::string_view text = m.core_encoder.cancel_replace(
        m.rehearsal_text, m.next_core_id, m.symbols[request.symbol], old_text.view(), request,
        id_text.view(), cancel_replace_mode::stop_on_failure, order_response_type::ack,
        m.venue_ms(now));
    return !text.empty() && m.ready.load(std::memory_order_acquire);
}

gateway_error binance_spot_gateway::cancel(std::uint32_t symbol, client_order_id id,
                                           core::timestamp_ns now) noexcept {
    impl& m = *impl_;
    if (!m.open.load(std::memory_order_acquire)) {
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
    const std::string_view text =
        m.core_encoder.cancel(out.text, out.request_id, m.symbols[symbol].name().view(),
                              id_text.view(), {}, m.venue_ms(now));
    const gateway_error error = m.push(out, text);
    if (error == gateway_error::none) {
        m.next_core_id += 2;
    }
    return error;
}

bool binance_spot_gateway::replaces_in_one_request() const noexcept {
    return impl_->config.cancel_replace;
}

gateway_error binance_spot_gateway::replace(std::uint32_t symbol, client_order_id old_id,
                                            const order_request& request,
                                            core::timestamp_ns now) noexcept {
    impl& m = *impl_;
    if (!m.config.cancel_replace) {
        return gateway_error::queue_full; // turned off: the owner cancels, then places
    }
    if (!m.ready.load(std::memory_order_acquire)) {
        // A new order: only once reconciled.
        return m.reconciling() ? gateway_error::reconciling : gateway_error::disconnected;
    }
    if (request.symbol >= m.symbols.size() || symbol != request.symbol || !request.id.valid() ||
        !old_id.valid()) {
        return gateway_error::queue_full;
    }
    outgoing_request& out = m.scratch;
    out.kind = request_kind::replace;
    out.request_id = m.next_core_id;
    out.order = request;
    out.replaced = old_id;
    out.signed_ms = m.venue_ms(now);
    const auto id_text = m.ids.format(request.id);
    const auto old_text = m.ids.format(old_id);
    const std::string_view text = m.core_encoder.cancel_replace(
        out.text, out.request_id, m.symbols[request.symbol], old_text.view(), request,
        id_text.view(), cancel_replace_mode::stop_on_failure, order_response_type::ack,
        out.signed_ms);
    const gateway_error error = m.push(out, text);
    if (error == gateway_error::none) {
        m.next_core_id += 2;
    }
    return error;
}

gateway_error binance_spot_gateway::cancel_all(std::uint32_t symbol,
                                               core::timestamp_ns now) noexcept {
    impl& m = *impl_;
    // Taken even while the connection is down, so that the I/O thread holds the kill and has
    // the venue confirm it once connected; the owner still hears `disconnected` and cancels its
    // orders one by one as well.
    const bool is_open = m.open.load(std::memory_order_acquire);
    // One request per symbol; all_symbols covers the table.
    const std::uint32_t first = symbol == all_symbols ? 0 : symbol;
    const std::uint32_t last =
        symbol == all_symbols ? static_cast<std::uint32_t>(m.symbols.size()) : symbol + 1;
    if (first >= m.symbols.size()) {
        return gateway_error::queue_full;
    }
    for (std::uint32_t s = first; s < last; ++s) {
        outgoing_request& out = m.scratch;
        out.kind = request_kind::cancel_all;
        out.request_id = m.next_core_id;
        out.order = order_request{};
        out.order.symbol = s;
        const std::string_view text = m.core_encoder.cancel_all(
            out.text, out.request_id, m.symbols[s].name().view(), m.venue_ms(now));
        const gateway_error error = m.push(out, text);
        if (error != gateway_error::none) {
            return error;
        }
        m.next_core_id += 2;
        ++m.kill_requests[s];
    }
    return is_open ? gateway_error::none : gateway_error::disconnected;
}

bool binance_spot_gateway::kill_unconfirmed(std::uint32_t symbol) const noexcept {
    const impl& m = *impl_;
    return symbol < m.kill_requests.size() && m.kills.unconfirmed(symbol, m.kill_requests[symbol]);
}

std::uint64_t binance_spot_gateway::next_request_id() const noexcept {
    return impl_->next_core_id;
}

std::size_t binance_spot_gateway::poll_written(std::span<written_stamp> out) noexcept {
    std::size_t n = 0;
    while (n < out.size() && impl_->written.try_pop(out[n])) {
        ++n;
    }
    return n;
}

std::size_t binance_spot_gateway::poll(core::timestamp_ns now) noexcept {
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
