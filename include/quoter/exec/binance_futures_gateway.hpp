// binance_futures_gateway: the order_gateway of Binance USD-M futures, over REST (/fapi) with a
// listenKey user-data stream and the exchange-side dead-man's switch.
//
// Two threads, as the spot gateway. The core thread calls submit / cancel / cancel_all / poll:
// each request is encoded and HMAC-signed into a fixed buffer (futures_request_encoder: the
// query string as sent is what is signed, the body stays empty) and pushed on an SPSC ring;
// nothing is allocated, formatted or locked there. The gateway's own I/O thread owns net's
// rest_client (keep-alive connections to rest_url, the key in X-MBX-APIKEY) and the user-data
// WebSocket, sends what the ring holds, decodes answers (answer_decoder) and pushes exec reports
// on a second ring that poll() drains into the sink.
//
// Outcomes (see order_gateway): POST /fapi/v1/order (GTX for post-only, reduceOnly for flatten
// orders) answers ack / reject (-5022: post_only_would_cross); a placement whose answer does not
// come within request_timeout_ms, is a 5xx / -1006 / -1007 or is lost with its connection is
// reported `unknown` and resolved by GET /fapi/v1/order (the shared report funnel maps the
// venue's status), never sent again. "No such order" (-2013) is final only once the venue can no
// longer execute the placement (its signed timestamp + recvWindow + 1 s passed); before that the
// query is asked again every not_yet_requery_ms, and an ack or fill that still comes for an order
// rejected so is reported (the order reopens). A transport failure before the request left (connect
// refused) is a plain reject. -1021 resyncs the clock from GET /fapi/v1/time and retries once.
// Every report passes the shared order_report_funnel, so the answer, the stream and a query
// telling the same ack, fill or end reach the core once; fills only an answer tells are
// reported from GET /fapi/v1/userTrades of the order (weight 5), with their trade ids and times.
//
// User data: POST /fapi/v1/listenKey, then a WebSocket at <ws_url>/ws/<listenKey>:
// ORDER_TRADE_UPDATE (NEW, TRADE, CANCELED, EXPIRED) become reports, ACCOUNT_UPDATE sets the
// positions. The key is kept alive with PUT every listen_key_keepalive_ms, and at once when a
// placement the venue accepted is not told on the stream within stream_silence_ms (a key the
// venue forgot without a word leaves its stream open and silent); an answer -1125 or a
// listenKeyExpired event makes a new key and a new stream. Every time the stream opens the
// gateway reconciles before it takes new orders (submit() answers `disconnected` until then):
// GET /fapi/v1/openOrders; orders of earlier runs of the same id tag are cancelled, foreign ones
// too when cancel_foreign_orders, this run's stay; then GET /fapi/v2/account, whose positions
// and wallet balances are adopted (positions(), balances(); ACCOUNT_UPDATE keeps both current);
// then ready(). One request, so the positions and the wallets are of one state of the account:
// a fill is in all of them or in none, and the later of the position's and the wallet's update
// times is a time the whole reading is as of (engine/holdings_adoption.hpp).
//
// I/O thread idling and written stamps as the spot gateway's: after a pass with nothing to do
// the I/O thread follows `idle` (core/wait_policy.hpp; block: a futex sleep the core's next
// request ends at once, socket input and timers seen within max_block_us), and a core request's
// (request id, tsc_clock time) goes back on a ring when its bytes were written to the socket
// (poll_written()).
//
// Dead-man's switch: while ready, POST /fapi/v1/countdownCancelAll (countdown_ms) for every
// symbol every heartbeat_ms, so the venue cancels every order if quoter stops talking.
//
// Kill: every cancel-all (DELETE /fapi/v1/allOpenOrders) is confirmed by GET /fapi/v1/openOrders
// kill_check_delay_ms after its answer and sent again while anything rests, until the venue
// confirms or a resting order is placed (the owner resumed); past kill_confirm_attempts,
// kill_gave_up counts the kill once and the checks go on eight times as far apart (counters as
// the spot gateway's).
//
// Limits: every request passes order_rate_limiter before it is sent (by default Binance USD-M's
// 2,400 weight a minute, 300 orders per 10 s and 1,200 a minute; the X-MBX-USED-WEIGHT-1M,
// X-MBX-ORDER-COUNT-10S and X-MBX-ORDER-COUNT-1M headers as floors); 429 / 418 back off as the
// limiter decides.
//
// Threading: construct, start() and stop() on the owning thread; order_gateway calls on the
// core thread only; everything else runs on the gateway's I/O thread.
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/wait_policy.hpp"
#include "quoter/exec/binance_order_params.hpp"
#include "quoter/exec/binance_rate_limits.hpp"
#include "quoter/exec/binance_spot_gateway.hpp"
#include "quoter/exec/order_gateway.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace quoter::exec {

struct binance_futures_gateway_config {
    /// REST origin, e.g. "https://testnet.binancefuture.com".
    std::string rest_url;
    /// User-data stream origin; the stream is <ws_url>/ws/<listenKey>, e.g.
    /// "wss://stream.binancefuture.com".
    std::string ws_url;
    std::string api_key;
    std::string secret; ///< HMAC-SHA256 secret; forgotten after construction (signer state).
    std::int64_t recv_window_ms = 5'000;
    /// Instance tag and start time of the client order ids (see client_id_factory).
    std::string id_tag = "q";
    std::int64_t start_us = 0;
    /// A request without answer after this long is unknown and gets queried (ms).
    std::int64_t request_timeout_ms = 2'000;
    /// A placement of unknown outcome whose GET /fapi/v1/order found no order (-2013) while the
    /// venue may still execute it (its timestamp + recv_window_ms, plus a 1 s clock margin, not
    /// yet passed): asked again after this long (ms), until found or the window closed.
    std::int64_t not_yet_requery_ms = 250;
    /// Delay before opening a new user-data stream after it dropped (ms).
    std::int64_t reconnect_delay_ms = 200;
    /// Keep-alive connections to rest_url.
    std::size_t max_connections = 4;
    /// PUT /fapi/v1/listenKey this often (Binance closes a key after 60 min without one).
    std::int64_t listen_key_keepalive_ms = 30 * 60 * 1'000;
    /// Nothing at all received on the user-data stream for this long (not the venue's pings
    /// nor the pong to the ping sent after half of it): the stream is dead though the socket
    /// may not say so, and fills of resting orders would go unseen (the keep-alive goes over
    /// REST and succeeds regardless). It is opened again and reconciled; counted in silences.
    /// 0: never.
    std::int64_t idle_timeout_ms = 30'000;
    /// A placement the venue accepted and the user stream has not told this long after (ms):
    /// the stream is suspect and the key is kept alive at once (a forgotten one answers -1125).
    std::int64_t stream_silence_ms = 5'000;
    /// countdownCancelAll heartbeat: every heartbeat_ms with countdown_ms; 0 turns it off.
    std::int64_t heartbeat_ms = 30'000;
    std::int64_t countdown_ms = 120'000;
    /// Request limits enforced before anything is sent; by default Binance USD-M's published
    /// ones. New orders and queries stop short of each by limiter.cancel_reserve_pct.
    std::vector<rate_limit_rule> rate_limits{
        {rate_limit_type::request_weight, 60 * core::ns_per_s, 2'400},
        {rate_limit_type::orders, 10 * core::ns_per_s, 300},
        {rate_limit_type::orders, 60 * core::ns_per_s, 1'200},
    };
    rate_limiter_config limiter;
    /// Reconciliation: cancel open orders neither this run nor an earlier run of the same tag
    /// placed (true) or leave them and count them (false).
    bool cancel_foreign_orders = false;
    /// A fill of a foreign order (on the user stream) moved the position and wallet without a
    /// report the owner books: a reconciliation reads them again, at most once in this long (ms).
    std::int64_t foreign_fill_reconcile_ms = 5'000;
    /// After a cancel-all: query the open orders this long after its answer (ms) and send the
    /// cancel-all again while any rest; past kill_confirm_attempts, kill_gave_up raises the
    /// alarm and the checks go on eight times as far apart.
    std::int64_t kill_check_delay_ms = 200;
    std::uint32_t kill_confirm_attempts = 5;
    /// What the I/O thread does after a pass that found nothing to do (see above).
    core::idle_policy idle = core::idle_policy::block;
    /// block: the longest the I/O thread sleeps before it looks at its sockets and timers (us).
    std::int64_t max_block_us = 50;
};

/// A position on the venue: signed lots and the venue's average entry price (0 when unknown).
struct futures_position {
    std::uint32_t symbol = 0;
    core::qty amount;
    core::price entry_price;
    /// Venue time (ms) the amount is as of (position_amount::update_time_ms; 0: not told).
    std::int64_t update_time_ms = 0;
};

/// Positions and wallets taken together (one lock), so they are of one state: the last
/// reconciliation's GET /fapi/v2/account and the ACCOUNT_UPDATEs since.
struct futures_account {
    std::vector<futures_position> positions;
    /// asset_balance::free_e8 is the wallet balance, locked_e8 the cross wallet balance.
    std::vector<asset_balance> balances;
};

/// Futures-only counters; written by the I/O thread, readable from any thread (relaxed).
struct binance_futures_counters {
    std::atomic<std::uint64_t> listen_keys{0};        ///< listenKeys created (POST).
    std::atomic<std::uint64_t> keepalives{0};         ///< Keep-alive PUTs answered ok.
    std::atomic<std::uint64_t> listen_key_expired{0}; ///< listenKeyExpired events and -1125.
    /// Placements the stream did not tell within stream_silence_ms (a keep-alive sent at once).
    std::atomic<std::uint64_t> stream_silences{0};
    std::atomic<std::uint64_t> heartbeats{0};         ///< countdownCancelAll answered ok.
    std::atomic<std::uint64_t> heartbeat_failures{0}; ///< countdownCancelAll not answered ok.
    std::atomic<std::uint64_t> position_updates{0};   ///< ACCOUNT_UPDATE events.
    /// Answers of GET /fapi/v1/positionSide/dual that put the account in hedge mode
    /// (dualSidePosition true): its orders need a LONG or SHORT positionSide, which one net
    /// position per symbol cannot give, so the reconciliation stops there and no order is
    /// taken.
    std::atomic<std::uint64_t> hedge_mode_answers{0};
};

class binance_futures_gateway final : public order_gateway {
public:
    /// symbols: index = order_request::symbol; must outlive the gateway. Allocates everything
    /// here (rings, decoders, request table).
    binance_futures_gateway(binance_futures_gateway_config config,
                            std::span<const core::symbol_spec> symbols);
    ~binance_futures_gateway() override;
    binance_futures_gateway(const binance_futures_gateway&) = delete;
    binance_futures_gateway& operator=(const binance_futures_gateway&) = delete;

    /// Starts the I/O thread, which opens (and reopens) the user-data stream on its own.
    void start();
    /// Closes the stream and joins the I/O thread. Requests still queued are dropped; the
    /// countdown stays armed on the venue (it cancels what a crash would have left).
    void stop();
    /// True while the user-data stream is open.
    [[nodiscard]] bool connected() const noexcept;
    /// True once the stream is open and the gateway reconciled: submit() takes orders only then.
    [[nodiscard]] bool ready() const noexcept;
    /// Positions as GET /fapi/v2/account told at the last reconciliation (amount, entry price,
    /// update time), amounts updated by ACCOUNT_UPDATE events. Any thread; locks.
    [[nodiscard]] std::vector<futures_position> positions() const;
    /// Wallets as GET /fapi/v2/account told at the last reconciliation, updated by
    /// ACCOUNT_UPDATE events: asset_balance::free_e8 is the wallet balance, locked_e8 the cross
    /// wallet balance. Any thread; locks.
    [[nodiscard]] std::vector<asset_balance> balances() const;
    /// positions() and balances() read together, under one lock. Any thread; locks.
    [[nodiscard]] futures_account account() const;
    [[nodiscard]] const binance_gateway_counters& counters() const noexcept;
    [[nodiscard]] const binance_futures_counters& futures_counters() const noexcept;
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

    /// Core thread: the request id the next submit / cancel / cancel_all request will carry.
    [[nodiscard]] std::uint64_t next_request_id() const noexcept;
    /// Core thread: moves up to out.size() written stamps (a core request handed to the REST
    /// client, on core::tsc_clock::process()), oldest first, into out; returns how many.
    std::size_t poll_written(std::span<written_stamp> out) noexcept;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

} // namespace quoter::exec
