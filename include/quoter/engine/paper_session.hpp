// run_paper_session: paper trading on live market data. live::market_data_service runs the md
// thread (WebSocket feed, decode, book sync; pinned when its config says so) and publishes
// md_events into an SPSC ring; the calling thread becomes the core thread (pinned when
// core_loop_config::core_cpu >= 0) and runs the core loop against a simulated exchange on the
// local monotonic clock until stopped.
//
// Several symbols: paper_session_config::symbols names one core loop configuration per traded
// symbol; every loop (its own strategy, quote manager, limits and account) runs on the core
// thread against one simulated exchange, with the portfolio-level limits across them, and the
// ring's events go to the loop of their symbol. The first symbol's loop takes the control
// channel and feeds /status, the metrics and the state file; a kill, pause or resume it takes
// reaches every loop. The journal holds every symbol's lines.
//
// Stopping: the stop flag, a quit command or a stop request on the control channel. On the way
// out every open order is cancelled and the simulated cancels are given time to arrive.
//
// Threading: blocks the calling thread for the whole session. The status callback runs on that
// thread between events (off the hot path; it may allocate and log).
#pragma once

#include "quoter/core/tick_latency.hpp"
#include "quoter/core/wait_policy.hpp"
#include "quoter/engine/core_loop.hpp"
#include "quoter/engine/run_recorder.hpp"
#include "quoter/live/market_data_service.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/ops_config.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::engine {

struct paper_session_config {
    /// engine.symbol is the index of the traded symbol in market_data.subscription.symbols.
    /// With several symbols: the journal path and flush interval, the core CPU and the
    /// simulated exchange's settings are taken from here.
    core_loop_config engine;
    /// Several symbols in one loop: one configuration per traded symbol (its .symbol is its
    /// index in market_data.subscription.symbols; set each one's account.initial_cash to its
    /// share of the capital). Empty: engine alone. At most portfolio_exposure::max_symbols.
    std::vector<core_loop_config> symbols;
    /// Feed, symbols and the md thread's CPU.
    live::service_config market_data;
    /// Period of the status callback, in ms.
    std::int64_t status_interval_ms = 1'000;
    /// What the core thread does when the ring is empty: spin (pause, for a pinned core on a
    /// CPU of its own), yield (sched_yield) or block (sleep until the md thread publishes, at
    /// most max_block_us, so control commands and timers keep being served).
    core::idle_policy idle = core::idle_policy::yield;
    /// Longest sleep of the block policy, in µs.
    std::int64_t max_block_us = 1'000;
    /// [ops], [http], [alerts], [state]. The core publishes an ops::status_snapshot and
    /// refreshes the engine metrics every ops.status_interval_ms (copies of counters it already
    /// keeps: no allocation, no formatting); with http.enabled the HTTP control plane serves
    /// them on its own thread and hands POSTs to the control channel (which must then be
    /// given).
    ops::ops_settings ops;
    /// Keep what the session's report needs (a pnl sample a second, fills, order events,
    /// alerts), returned in paper_summary::report at exit. Records grow with the session.
    bool keep_report = false;
    /// Mode name in /status ("paper_exchange").
    std::string mode_name = "paper_exchange";
    /// One line per operations event at start and stop ("http: listening on ..."); may be
    /// empty. Called on the calling thread outside the trading loop.
    std::function<void(std::string_view)> log;
};

/// One symbol of a session of several, as paper_status::symbols lists them.
struct paper_symbol_status {
    std::uint32_t symbol = 0; ///< Index in market_data.subscription.symbols.
    risk::trading_state state = risk::trading_state::running;
    core_loop_stats loop;
    std::size_t open_orders = 0;   ///< Orders open on the simulated exchange.
    std::uint64_t orders_sent = 0; ///< Quote orders that reached the exchange.
    std::uint64_t risk_rejects = 0;
    core::qty position;
    double equity = 0.0;    ///< Quote asset, marked to the mid.
    double total_pnl = 0.0; ///< Quote asset.
};

/// A snapshot of the session, handed to the status callback and returned at the end. With
/// several symbols the fields below are the first symbol's (open_orders and exchange: the whole
/// exchange's), and symbols lists each one.
struct paper_status {
    core::timestamp_ns now = 0; ///< Core clock (steady, ns).
    risk::trading_state state = risk::trading_state::running;
    bool feed_paused = false;
    core_loop_stats loop;
    /// The quote manager's view: its orders_sent also counts orders the risk gate refused.
    exec::quote_counters quotes;
    exec::sim_exchange_stats exchange;
    std::size_t open_orders = 0;           ///< Orders open on the simulated exchange.
    std::uint64_t orders_sent = 0;         ///< Quote orders that reached the exchange.
    std::uint64_t flatten_orders_sent = 0; ///< Flatten orders that reached the exchange.
    std::uint64_t risk_rejects = 0;
    core::qty position;
    double equity = 0.0;    ///< Quote asset, marked to the mid.
    double total_pnl = 0.0; ///< Quote asset.
    live::service_stats market_data;
    // As /status shows them (the last published ops snapshot).
    double mid = 0.0;                        ///< Quote asset; 0 before the first book.
    double quoted_bid = 0.0;                 ///< Our best working bid; 0 when none.
    double quoted_ask = 0.0;                 ///< Our best working ask; 0 when none.
    double inventory_base = 0.0;             ///< Net position, base asset.
    core::duration_ns round_trip_p50_ns = 0; ///< Order sent to ack; 0 before the first ack.
    core::duration_ns round_trip_p99_ns = 0;
    /// Tick-to-order latency of every hop since the start (see core/tick_latency.hpp): md
    /// hops for every event, core hops for the traded symbol's ticks; in a paper session an
    /// order is "encoded" when the in-process exchange took it and nothing is written.
    core::tick_latency_summary tick_to_order;
    /// Every traded symbol, in configuration order, when the session trades several; empty
    /// otherwise.
    std::vector<paper_symbol_status> symbols;
    /// Sum of every symbol's total_pnl (quote asset; the symbols share a quote asset).
    double portfolio_pnl = 0.0;
};

/// What a paper session recorded for its report (keep_report), as a replay's.
struct paper_report {
    std::vector<sim::pnl_sample> pnl;
    std::vector<sim::fill_record> fills;
    std::vector<sim::order_record> orders;
    sim::activity_counts activity;
    sim::run_metrics metrics;
    alert_tally alerts;
    /// Orders sent and refused by the symbol's risk gate.
    gate_counts gate;
    /// The capital the metrics are relative to (the symbol's account.initial_cash).
    double initial_cash = 0.0;
};

struct paper_summary {
    bool ok = false;
    /// The HTTP control plane's endpoint ("127.0.0.1:9464"); empty when it was not started.
    std::string http_endpoint;
    std::string error; ///< Why the session could not start.
    paper_status last;
    /// One per traded symbol, in configuration order; empty unless keep_report.
    std::vector<paper_report> reports;
};

using paper_status_callback = std::function<void(const paper_status&)>;

/// Runs until stop is set, or the control channel asks to stop (quit command or
/// request_stop). control may be nullptr; on_status may be empty.
[[nodiscard]] paper_summary run_paper_session(const paper_session_config& config,
                                              const std::atomic<bool>& stop,
                                              const paper_status_callback& on_status = {},
                                              ops::control_channel* control = nullptr);

} // namespace quoter::engine
