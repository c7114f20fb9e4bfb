// run_live_session: live trading on Binance spot. live::market_data_service runs the md thread
// (WebSocket feed, decode, book sync) and publishes md_events into an SPSC ring;
// exec::binance_spot_gateway runs its own I/O thread (WebSocket API orders, user-data stream);
// the calling thread becomes the core thread and runs the core loop against the gateway.
//
// Start: market data first (the instrument comes from the venue's exchangeInfo), then the
// gateway's session; nothing is quoted until the gateway is connected and the venue's open
// orders have been reconciled (see below).
//
// Clock: the core thread's `now` is the wall clock (system_clock, ns), the same clock the
// gateway stamps its reports with (exec_report::local_ts) and signs requests with, so ack
// latencies and request timestamps are on one clock. The core loop never lets time run
// backwards (it keeps the largest `now` it saw).
//
// Stopping: the stop flag, a quit command or a stop request on the control channel. On the way
// out every order is cancelled on the venue (openOrders.cancelAll) and the session waits, at
// most stop_timeout_ms, for the cancels to be confirmed: every order the quote manager tracks,
// and the venue's listing of open orders showing none of this instance's (the gateway's kill
// confirmation), which also covers an order the venue took late.
//
// Threading: blocks the calling thread for the whole session. The status callback runs on that
// thread between events (off the hot path; it may allocate and log).
#pragma once

#include "quoter/core/tick_latency.hpp"
#include "quoter/core/wait_policy.hpp"
#include "quoter/engine/core_loop.hpp"
#include "quoter/exec/binance_gateway.hpp"
#include "quoter/live/market_data_service.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/ops_config.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace quoter::engine {

struct live_session_config {
    /// engine.symbol is the index of the traded symbol in market_data.subscription.symbols;
    /// engine.exchange is not used (the venue matches).
    core_loop_config engine;
    /// Feed, symbols and the md thread's CPU.
    live::service_config market_data;
    /// WebSocket API endpoint, key, secret, recvWindow, client-id tag. start_us is filled in by
    /// the session when zero (the process start time, so client ids differ across restarts).
    exec::binance_spot_gateway_config gateway;
    /// Set: USD-M futures through exec::binance_futures_gateway instead (same start_us rule);
    /// the position and the wallet balance GET /fapi/v2/account reports are adopted into the
    /// account before the first quote (spot: the base and quote balances).
    std::optional<exec::binance_futures_gateway_config> futures_gateway;
    /// How long the gateway may take to open its session and reconcile before the run fails,
    /// in ms.
    std::int64_t connect_timeout_ms = 10'000;
    /// How long a stop waits for the venue to confirm the cancels, in ms.
    std::int64_t stop_timeout_ms = 5'000;
    /// Period of the status callback, in ms.
    std::int64_t status_interval_ms = 1'000;
    /// What the core thread does when a poll found nothing (core/wait_policy.hpp). block sleeps
    /// until the md thread publishes or max_block_us passed: exec reports from the gateway's I/O
    /// thread do not wake it, so max_block_us bounds how late they are seen.
    core::idle_policy idle = core::idle_policy::yield;
    std::int64_t max_block_us = 1'000;
    /// [ops], [http], [alerts], [state], as a paper session serves them (session_services):
    /// /status, /metrics and POST /kill, /pause, /resume, /flatten over HTTP (a kill cancels
    /// every order on the venue), alerts to the dispatcher, the state file and the instance
    /// lock (a kill latched before a restart stays latched). HTTP POSTs and Telegram commands
    /// need the control channel.
    ops::ops_settings ops;
    /// Mode name in /status and alerts.
    std::string mode_name = "live";
    /// One line per session event (connect, reconcile, stop); may be empty. Called on the
    /// calling thread outside the trading loop.
    std::function<void(std::string_view)> log;
};

/// The gateway's counters, copied (plain values).
struct live_gateway_stats {
    bool connected = false;
    std::uint64_t sent = 0;
    std::uint64_t answers = 0;
    std::uint64_t api_errors = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t unknowns = 0;
    std::uint64_t status_queries = 0;
    std::uint64_t trade_queries = 0; ///< Trade lists asked for fills an answer told.
    std::uint64_t connects = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t reports_dropped = 0;
    std::uint64_t replaces_sent = 0; ///< order.cancelReplace requests (spot).
    std::uint64_t reconciles = 0;    ///< Reconciliations completed (the first included).
    std::uint64_t foreign_fills = 0; ///< Fills of foreign orders (each made one due).
    /// User-data events that did not decode (each made one due).
    std::uint64_t unreadable_user_events = 0;
    std::uint64_t rate_limited = 0; ///< Requests the rate limiter held back (never sent).
    std::uint64_t backoffs = 0;     ///< 429 answers.
    std::uint64_t bans = 0;         ///< 418 answers.
    /// Requests not sent: every slot of the gateway's request table waited for an answer.
    std::uint64_t request_table_full = 0;
};

/// A snapshot of the session, handed to the status callback and returned at the end.
/// The third asset Binance charges spot fees in when the account pays them with it.
inline constexpr std::string_view live_fee_asset = "BNB";

struct live_status {
    core::timestamp_ns now = 0; ///< Core clock (wall, ns).
    /// From the session's last published status snapshot (0 before the first book / quote).
    double mid = 0.0;
    double quoted_bid = 0.0;
    double quoted_ask = 0.0;
    double inventory_base = 0.0;
    risk::trading_state state = risk::trading_state::running;
    bool feed_paused = false;
    core_loop_stats loop;
    exec::quote_counters quotes;
    live_gateway_stats gateway;
    /// Orders the quote manager holds (working, unknown or being cancelled).
    std::size_t working_orders = 0;
    std::uint64_t orders_sent = 0;         ///< Quote orders that passed the risk gate.
    std::uint64_t flatten_orders_sent = 0; ///< Flatten orders that passed the risk gate.
    std::uint64_t risk_rejects = 0;
    core::qty position;         ///< Lots of the venue's trading spec.
    double position_base = 0.0; ///< The same in the base asset.
    double equity = 0.0;        ///< Quote asset, marked to the mid.
    double total_pnl = 0.0;     ///< Quote asset.
    double fees = 0.0;          ///< Fees charged in the quote asset (or base, valued), net.
    /// Fees paid in the third fee asset (live_fee_asset, BNB) and its balance held, 10^-8
    /// units: apart from equity and PnL, which know no price for it.
    std::int64_t fee_asset_paid_e8 = 0;
    std::int64_t fee_asset_held_e8 = 0;
    live::service_stats market_data;
    /// Kill cancel-alls whose confirmation the gateway gave up on (a critical alert each).
    std::uint64_t kill_gave_up = 0;
    /// Tick-to-order latency of every hop since the start (core/tick_latency.hpp): md hops for
    /// every event, core hops for the traded symbol's ticks, written when the gateway's I/O
    /// thread handed the tick's first order to the socket.
    core::tick_latency_summary tick_to_order;
};

struct live_summary {
    bool ok = false;
    std::string error; ///< Why the session could not start.
    /// The HTTP control plane's endpoint ("127.0.0.1:9464"); empty when it was not started.
    std::string http_endpoint;
    /// The stop found every order cancelled within stop_timeout_ms, and the venue confirmed that
    /// none of this instance's orders rests.
    bool stopped_clean = false;
    live_status last;
};

using live_status_callback = std::function<void(const live_status&)>;

/// Runs until stop is set, or the control channel asks to stop (quit command or
/// request_stop). control may be nullptr; on_status may be empty.
[[nodiscard]] live_summary run_live_session(const live_session_config& config,
                                            const std::atomic<bool>& stop,
                                            const live_status_callback& on_status = {},
                                            ops::control_channel* control = nullptr);

} // namespace quoter::engine
