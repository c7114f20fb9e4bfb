// binance_spot_gateway: the order_gateway of Binance spot, over the WebSocket API (/ws-api/v3).
//
// Two threads. The core thread calls submit / cancel / cancel_all / poll: each request is
// encoded and HMAC-signed into a fixed buffer (spot_request_encoder) and pushed on an SPSC ring;
// nothing is allocated, formatted or locked there. The gateway's own I/O thread owns the
// WebSocket connection (net's Beast transport, kept out of this header): it sends what the ring
// holds, reads answers, decodes them (answer_decoder) and pushes exec reports on a second ring
// that poll() drains into the sink.
//
// User data: on every (re)connect the session subscribes to the user-data stream
// (userDataStream.subscribe.signature); executionReports (NEW, TRADE, CANCELED, EXPIRED,
// REJECTED) become reports too. Every order report passes one funnel that remembers, per order
// of this run, whether its ack and its end were reported and how much fill: an ack or an end is
// reported once whichever source tells first (answer, stream, status query), and a fill only for
// the quantity beyond what was reported already, so a trade seen on the stream and again in an
// order.status result (or replayed) is booked once. A placement whose outcome the stream told
// is not reported unknown when its answer is lost. Fills only an answer tells (a status query,
// a cancel answer) are reported from the order's trades, asked with myTrades (orderId, weight 5),
// with their trade ids, venue times and commissions (binance_report_funnel.hpp).
//
// Outcomes (see order_gateway): an answer maps to ack / reject / cancelled / cancel_reject. A
// new order whose answer does not come within request_timeout_ms, whose answer is a 5xx / -1006
// / -1007, or which is in flight when the connection drops, is reported `unknown` and resolved
// by an order.status query (after the reconnect, for a drop); the query's answer gives the real
// state (NEW -> ack, FILLED -> fill, CANCELED/EXPIRED -> cancelled, no such order -> reject).
// It is never sent again. "No such order" is final only once the venue can no longer execute the
// placement (its signed timestamp + recvWindow + 1 s passed); before that the query is asked
// again every not_yet_requery_ms. An ack or fill that still comes for an order rejected so is
// reported (the order reopens, binance_report_funnel.hpp). A cancel left unanswered is resolved
// the same way. -1021 resyncs the server-time offset from the venue's time and retries once. Every
// API error reaches the sink as a reject or cancel_reject, so risk's error-storm trigger sees it.
//
// Replace in one request (config.cancel_replace): replace() sends order.cancelReplace with
// cancelReplaceMode=STOP_ON_FAILURE, the new order placed only if the cancel succeeded. It
// counts as a new order for the limiter (ORDERS, weight 1), also when the new order is not
// attempted, as Binance counts it. Each half is reported as its own request would be: both
// succeeded -> the old order's cancelled, the new one's ack; the cancel failed (-2022 / -2021
// with cancelResult FAILURE, newOrderResult NOT_ATTEMPTED) -> cancel_reject, the new order's
// reject (unknown_order), and an order.status of the old order (it may have filled); the new
// order failed -> cancelled, then its reject (-2010 would-match: post_only_would_cross). No
// answer, a 5xx, -1006 or a disconnect -> the new order is unknown and both orders are queried
// (the old as for a lost cancel), never resent.
//
// Ed25519 keys (key_type): after every (re)connect the I/O thread sends session.logon first and
// nothing else until the venue accepts it; only then is the session open (connected()), the
// user stream subscribed (userDataStream.subscribe) and the reconciliation started. Requests
// then carry neither apiKey nor signature. A refused logon is counted (logon_failures) and the
// session stays closed to orders: never a fallback to anything unsigned.
//
// Reconciliation: after every connect and every ended user stream, before submit() takes a new
// order (it answers `disconnected` until then), the I/O thread subscribes to the user stream
// (a refusal or a lost answer is asked again every subscribe_retry_ms, within
// reconcile_max_retries: spot's ACK answers tell no fills, so no order goes out without the
// stream), and once it runs lists the open orders of every symbol
// (openOrders.status) and cancels those of earlier runs of the same id tag (left over from a
// crash) and, when cancel_foreign_orders, everyone else's; this run's own stay (they are tracked,
// or being resolved by their queries). Then it reads the balances (account.status) and the
// gateway is ready(). Cancels and cancel-alls are taken as soon as the session is open.
//
// Kill: every cancel-all (openOrders.cancelAll) is confirmed, also one taken while the
// connection is down (cancel_all() answers `disconnected` then, and the kill is confirmed after
// the reconnect). kill_check_delay_ms after its answer, whatever it said (or once it is lost),
// openOrders.status lists the symbol; while an order of this instance rests (anyone else's too
// with cancel_foreign_orders) the cancel-all is sent again. After
// kill_confirm_attempts of these, kill_gave_up counts the kill once (the owner raises the
// alarm) and the checks go on every 8 x kill_check_delay_ms until nothing rests. Only a resting
// (GTC) order placed on the symbol ends an unconfirmed kill: the owner has resumed trading.
// kills_confirmed counts the confirmations.
//
// Limits: every request the I/O thread is about to send passes order_rate_limiter first (rules
// from the config, the venue's reported counts as floors). A new order it holds back is rejected
// unsent (rate_limited: no report but the reject follows); a cancel is refused only when
// even the reserve is used up (cancel_reject, the owner retries); a query waits and is retried.
// 429 backs off and 418 stops everything until the venue's retry time, as the limiter decides.
//
// I/O thread idling: after a pass that found nothing to do (no socket event, no request on the
// ring, no timer) the I/O thread follows `idle` (core/wait_policy.hpp): spin, yield, or block
// (a futex sleep the core thread's next request ends at once; socket input and timers are then
// seen within max_block_us). Sends copy the request into the connection's preallocated write
// slots: nothing is allocated per request on either thread once warmed up.
//
// Written stamps: when the bytes of a request from the core thread are handed to the socket, the
// I/O thread passes (request id, tsc_clock time) back on a ring; poll_written() drains it on the
// core thread, next_request_id() tells which id the next request gets, so the owner can close a
// tick's `written` hop (core/tick_latency.hpp).
//
// Threading: construct, start() and stop() on the owning thread; order_gateway calls on the
// core thread only; everything else runs on the gateway's I/O thread.
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/core/wait_policy.hpp"
#include "quoter/exec/binance_answer.hpp"
#include "quoter/exec/binance_rate_limits.hpp"
#include "quoter/exec/binance_signer.hpp"
#include "quoter/exec/order_gateway.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace quoter::exec {

struct binance_spot_gateway_config {
    /// WebSocket API endpoint, e.g. "wss://ws-api.testnet.binance.vision/ws-api/v3".
    std::string url;
    std::string api_key;
    std::string secret; ///< HMAC-SHA256 secret; forgotten after construction (signer state).
    /// hmac: every request signed with `secret`. ed25519: after every (re)connect the session
    /// logs on once (session.logon signed with `private_key`), then requests go without apiKey
    /// and signature and the user stream is userDataStream.subscribe.
    api_key_type key_type = api_key_type::hmac;
    /// Ed25519 private key, PKCS#8 as PEM or the base64 of its DER; forgotten after
    /// construction (signer state). A key that does not load signs nothing the venue accepts:
    /// every logon fails (logon_failures).
    std::string private_key;
    std::int64_t recv_window_ms = 5'000;
    /// Instance tag and start time of the client order ids (see client_id_factory).
    std::string id_tag = "q";
    std::int64_t start_us = 0;
    /// A request without answer after this long is unknown and gets queried (ms).
    std::int64_t request_timeout_ms = 2'000;
    /// A placement of unknown outcome whose order.status found no order (-2013) while the venue
    /// may still execute it (its timestamp + recv_window_ms, plus a 1 s clock margin, not yet
    /// passed): asked again after this long (ms), until found or the window closed.
    std::int64_t not_yet_requery_ms = 250;
    /// Delay before reconnecting after the connection dropped (ms); doubled after every attempt
    /// that opened no session, up to 30 s, and never before a 418 ban ends.
    std::int64_t reconnect_delay_ms = 200;
    /// Subscribe to the user-data stream on every (re)connect (userDataStream.subscribe.
    /// signature): executionReports bring acks, fills and cancels, also of orders whose answer
    /// was lost. false only for tests of the query path.
    bool user_data_stream = true;
    /// A subscription the venue refused or did not answer is asked again this long after
    /// (ms), within reconcile_max_retries: the reconciliation (and so every new order) waits for
    /// it, since spot answers tell no fills and the stream does.
    std::int64_t subscribe_retry_ms = 500;
    /// Request limits enforced before anything is sent (exchangeInfo rateLimits; by default
    /// Binance spot's published ones). New orders and queries stop short of each limit by
    /// limiter.cancel_reserve_pct so that cancels and kills always have room.
    std::vector<rate_limit_rule> rate_limits{
        {rate_limit_type::request_weight, 60 * core::ns_per_s, 6'000},
        {rate_limit_type::orders, 10 * core::ns_per_s, 100},
        {rate_limit_type::orders, 86'400 * core::ns_per_s, 200'000},
    };
    rate_limiter_config limiter;
    /// Reconciliation: open orders neither this run nor an earlier run of the same id tag
    /// placed (manual orders, other programs) are cancelled too when true, left alone (and
    /// counted) when false.
    bool cancel_foreign_orders = false;
    /// A fill of a foreign order (on the user stream) moved the holdings without a report the
    /// owner books: a reconciliation reads them again (the owner adopts them, see
    /// engine/holdings_adoption.hpp), at most once in this long (ms).
    std::int64_t foreign_fill_reconcile_ms = 5'000;
    /// After a cancel-all: query the open orders this long after its answer (ms) and send the
    /// cancel-all again while any rest; past kill_confirm_attempts, kill_gave_up raises the
    /// alarm and the checks go on eight times as far apart.
    std::int64_t kill_check_delay_ms = 200;
    std::uint32_t kill_confirm_attempts = 5;
    /// A reconciliation request (open orders, balances, this run's orders) that fails or times
    /// out is asked again at most this many times per reconciliation; then the reconciliation
    /// gives up (reconcile_gave_up: the owner raises a critical alert) and the gateway stays
    /// not ready, so nothing is quoted, until the next connect reconciles afresh.
    std::uint32_t reconcile_max_retries = 10;
    /// Requests timing out this many times in a row with nothing at all received since they
    /// were sent mean the venue went silent: the connection is closed and opened again (the
    /// requests in flight are queried after the reconnect, never resent).
    std::uint32_t silent_timeouts = 2;
    /// Nothing at all received for this long (not the venue's pings, which Binance sends every
    /// 20 s, nor the pong to the ping sent after half of it): the connection is dead though the
    /// socket may not say so, and fills of resting orders would go unseen while nothing is
    /// sent. It is closed and opened again (and reconciled); counted in silences. 0: never.
    std::int64_t idle_timeout_ms = 30'000;
    /// Replace an order in one request (order.cancelReplace, STOP_ON_FAILURE: the new order is
    /// placed only if the cancel succeeded) instead of cancel, then place after the cancelled
    /// report. See "Replace in one request" above.
    bool cancel_replace = true;
    /// What the I/O thread does after a pass that found nothing to do (see above).
    core::idle_policy idle = core::idle_policy::block;
    /// block: the longest the I/O thread sleeps before it looks at its socket and timers (us).
    std::int64_t max_block_us = 50;
};

/// A core-thread request's bytes handed to the socket (see "Written stamps").
struct written_stamp {
    std::uint64_t request_id = 0;
    core::timestamp_ns at = 0; ///< core::tsc_clock::process() time.
};

/// What the gateway saw; written by the I/O thread, readable from any thread (relaxed).
struct binance_gateway_counters {
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> answers{0};
    std::atomic<std::uint64_t> api_errors{0};
    std::atomic<std::uint64_t> timeouts{0};
    /// Requests of any kind the venue failed: no answer (a timeout, a connection lost or never
    /// made), a 5xx, -1006/-1007, an answer that could not be read. poll() tells its sink
    /// (exec_report_sink::on_venue_failures): each is an API error for the kill triggers.
    std::atomic<std::uint64_t> venue_failures{0};
    std::atomic<std::uint64_t> unknowns{0};
    std::atomic<std::uint64_t> status_queries{0};
    /// Trade lists asked for (spot myTrades, futures userTrades): fills an answer told.
    std::atomic<std::uint64_t> trade_queries{0};
    std::atomic<std::uint64_t> clock_retries{0};
    std::atomic<std::uint64_t> connects{0};
    std::atomic<std::uint64_t> disconnects{0};
    std::atomic<std::uint64_t> reports_dropped{0}; ///< Report ring full (core not polling).
    std::atomic<std::uint64_t> user_events{0};     ///< User-data stream events received.
    std::atomic<std::uint64_t> balance_updates{0}; ///< outboundAccountPosition events.
    std::atomic<std::uint64_t> fills{0};           ///< Fill reports delivered (after dedup).
    /// Requests held back by the rate limiter (new orders rejected unsent, cancels refused,
    /// queries delayed).
    std::atomic<std::uint64_t> rate_limited{0};
    std::atomic<std::uint64_t> reconciles{0};          ///< Reconciliations completed.
    std::atomic<std::uint64_t> reconcile_found{0};     ///< Open orders found by them.
    std::atomic<std::uint64_t> reconcile_cancelled{0}; ///< Of those, cancelled.
    std::atomic<std::uint64_t> foreign_orders{0};      ///< Of those, foreign and left alone.
    /// Fills of foreign orders the user stream told (each makes a reconciliation due).
    std::atomic<std::uint64_t> foreign_fills{0};
    /// User-data events that did not decode. Each may have been a fill of this run's, so each
    /// makes a reconciliation due, as a foreign fill does.
    std::atomic<std::uint64_t> unreadable_user_events{0};
    std::atomic<std::uint64_t> kills_confirmed{0}; ///< Cancel-alls a query found complete.
    std::atomic<std::uint64_t> kill_resends{0};    ///< Cancel-alls sent again (orders rested).
    /// Kills not confirmed after kill_confirm_attempts (once each; the checks go on): raise the
    /// alarm.
    std::atomic<std::uint64_t> kill_gave_up{0};
    std::atomic<std::uint64_t> backoffs{0}; ///< 429 answers: sending paused until retryAfter.
    /// 418 answers: banned, nothing sent until retryAfter. Critical: raise the alarm.
    std::atomic<std::uint64_t> bans{0};
    std::atomic<std::uint64_t> stream_restarts{0};    ///< User streams resubscribed after an end.
    std::atomic<std::uint64_t> silences{0};           ///< Connections closed for silence.
    std::atomic<std::uint64_t> reconcile_failures{0}; ///< Reconciliation requests asked again.
    /// Reconciliations abandoned after reconcile_max_retries. Critical: raise the alarm (the
    /// gateway takes no new order until a reconnect reconciles).
    std::atomic<std::uint64_t> reconcile_gave_up{0};
    std::atomic<std::uint64_t> logons{0}; ///< session.logon accepted (Ed25519 keys).
    /// session.logon refused or unanswered. Critical: raise the alarm (the connection stays
    /// unauthenticated, nothing is sent or quoted; a timed-out logon reconnects and tries again).
    std::atomic<std::uint64_t> logon_failures{0};
    /// order.cancelReplace requests sent (replacements in one request).
    std::atomic<std::uint64_t> replaces_sent{0};
    /// Requests not sent because every slot of the request table still waits for an answer
    /// (new orders rejected held back, cancels refused, queries asked again later). Never
    /// expected: the venue has left that many requests unanswered.
    std::atomic<std::uint64_t> request_table_full{0};
};

/// Core thread, from poll(): tells `sink` the venue failures counted since `told` (what the
/// last call saw), and moves `told` on.
inline void tell_venue_failures(const binance_gateway_counters& counters, std::uint64_t& told,
                                exec_report_sink* sink, core::timestamp_ns now) noexcept {
    const std::uint64_t failures = counters.venue_failures.load(std::memory_order_relaxed);
    if (failures == told) [[likely]] {
        return;
    }
    const std::uint64_t fresh = failures - told;
    told = failures;
    if (sink != nullptr) {
        constexpr std::uint64_t most = std::numeric_limits<std::uint32_t>::max();
        sink->on_venue_failures(static_cast<std::uint32_t>(std::min(fresh, most)), now);
    }
}

class binance_spot_gateway final : public order_gateway {
public:
    /// symbols: index = order_request::symbol; must outlive the gateway. Allocates everything
    /// here (rings, decoder, request table).
    binance_spot_gateway(binance_spot_gateway_config config,
                         std::span<const core::symbol_spec> symbols);
    ~binance_spot_gateway() override;
    binance_spot_gateway(const binance_spot_gateway&) = delete;
    binance_spot_gateway& operator=(const binance_spot_gateway&) = delete;

    /// Starts the I/O thread, which connects (and reconnects) on its own.
    void start();
    /// Closes the connection and joins the I/O thread. Requests still queued are dropped.
    void stop();
    /// True while the WebSocket session is open.
    [[nodiscard]] bool connected() const noexcept;
    /// True once connected and reconciled (see above): submit() takes new orders only then.
    [[nodiscard]] bool ready() const noexcept;
    /// The account's balances as the last reconciliation read them (account.status). Any
    /// thread; locks.
    [[nodiscard]] std::vector<asset_balance> balances() const;
    /// True once the venue confirmed this session's user-data subscription (until it drops).
    [[nodiscard]] bool user_stream_subscribed() const noexcept;
    [[nodiscard]] const binance_gateway_counters& counters() const noexcept;
    /// Local-to-venue clock offset in ms (venue time = local wall time + offset).
    [[nodiscard]] std::int64_t server_time_offset_ms() const noexcept;

    void set_report_sink(exec_report_sink* sink) noexcept override;
    [[nodiscard]] gateway_error submit(const order_request& request,
                                       core::timestamp_ns now) noexcept override;
    [[nodiscard]] gateway_error cancel(std::uint32_t symbol, client_order_id id,
                                       core::timestamp_ns now) noexcept override;
    [[nodiscard]] gateway_error cancel_all(std::uint32_t symbol,
                                           core::timestamp_ns now) noexcept override;
    /// Until the confirming query finds none of this instance's orders of `symbol` resting (also
    /// while the cancel-all waits for the I/O thread or the connection): see
    /// order_gateway::kill_unconfirmed.
    [[nodiscard]] bool kill_unconfirmed(std::uint32_t symbol) const noexcept override;
    std::size_t poll(core::timestamp_ns now) noexcept override;
    /// Dry run of submit(): see order_gateway::rehearse_submit.
    [[nodiscard]] bool rehearse_submit(const order_request& request,
                                       core::timestamp_ns now) noexcept override;
    /// Dry run of replace() (order.cancelReplace when config.cancel_replace), else of submit().
    [[nodiscard]] bool rehearse_replace(std::uint32_t symbol, client_order_id old_id,
                                        const order_request& request,
                                        core::timestamp_ns now) noexcept override;
    /// config.cancel_replace.
    [[nodiscard]] bool replaces_in_one_request() const noexcept override;
    /// order.cancelReplace with STOP_ON_FAILURE (see order_gateway::replace); disconnected
    /// until reconciled, as submit().
    [[nodiscard]] gateway_error replace(std::uint32_t symbol, client_order_id old_id,
                                        const order_request& request,
                                        core::timestamp_ns now) noexcept override;

    /// Core thread: the request id the next submit / cancel / cancel_all request will carry.
    [[nodiscard]] std::uint64_t next_request_id() const noexcept;
    /// Core thread: moves up to out.size() written stamps, oldest first, into out; returns how
    /// many. Stamps not drained are dropped once 256 wait.
    std::size_t poll_written(std::span<written_stamp> out) noexcept;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

} // namespace quoter::exec
