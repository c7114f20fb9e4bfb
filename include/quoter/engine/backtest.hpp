// run_replay_backtest: recorded captures (gzip "<local ns> <json>" lines) through the same
// decode and book-sync code as the live feed (md::capture_replayer), feeding the core loop and a
// simulated exchange inline on the calling thread. Simulated time is the capture's local
// timestamps, so a run is deterministic: the same files and config give the same fills.
//
// A run_recorder between the loop's risk gate and the exchange records every order event, fill
// and a pnl sample per record interval of capture time (from the first event that marks the
// account), so a replay gets the same metrics and report as a synthetic backtest.
//
// Threading: runs entirely on the calling thread; allocates at set-up only.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/engine/core_loop.hpp"
#include "quoter/engine/run_recorder.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/md/replayer.hpp"
#include "quoter/sim/metrics.hpp"
#include "quoter/sim/records.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace quoter::engine {

struct backtest_summary {
    bool ok = false;
    std::string error;       ///< Why the run failed (unreadable file, unknown symbol).
    std::uint64_t lines = 0; ///< Capture lines decoded.
    std::uint64_t bad_lines = 0;
    md::replay_stats replay; ///< What the lines decoded to (malformed, unrecognised, ...).
    std::uint64_t gaps = 0;  ///< Update-id chain breaks of the traded symbol's book.
    std::uint64_t resyncs = 0;
    core_loop_stats loop; ///< Events, fills, pauses and the fill digest.
    /// The quote manager's view: its orders_sent also counts orders the risk gate refused
    /// (they are answered with a reject), so summaries report `gate` below.
    exec::quote_counters quotes;
    /// Orders that reached the exchange, and the risk refusals, in total and by reason.
    gate_counts gate;
    /// Trading state at the end of the replay (before the final cancel-all).
    risk::trading_state final_state = risk::trading_state::running;
    exec::sim_exchange_stats exchange;
    // Account at the end, notional units of the trading spec unless stated otherwise.
    core::qty position;
    std::int64_t cash_units = 0;
    std::int64_t inventory_value_units = 0;
    std::int64_t equity_units = 0;
    std::int64_t initial_cash_units = 0;
    std::int64_t mark_half_ticks = 0;
    double equity = 0.0;             ///< Quote asset.
    double total_pnl = 0.0;          ///< Quote asset.
    double fees = 0.0;               ///< Quote asset.
    core::timestamp_ns first_ns = 0; ///< Capture time of the first and last event.
    core::timestamp_ns last_ns = 0;
    double wall_seconds = 0.0;
    /// Capture lines per wall-clock second through decode, book, strategy and exchange.
    double messages_per_s = 0.0;
    /// The traded book was never valid (e.g. a capture without a depth snapshot): no quotes.
    bool book_never_synced = false;
    // What the recorder kept, and the metrics over it (as a synthetic run's).
    std::vector<sim::pnl_sample> pnl;
    std::vector<sim::fill_record> fills;
    std::vector<sim::order_record> orders;
    sim::activity_counts activity;
    sim::run_metrics metrics;
    /// Alerts the loop raised, counted by kind with the first few kept.
    alert_tally alerts;
};

/// What a replay records.
struct replay_options {
    /// Capture time between two pnl samples, ns (> 0).
    core::duration_ns record_interval_ns = core::ns_per_s;
    record_options keep;
    /// A time window of the capture (capture time, ns; one-symbol replays): events before
    /// start_ns only build the books (the loop sees none of them, so it starts on a synced book
    /// at start_ns); the replay ends before the first event at or after end_ns.
    core::timestamp_ns start_ns = 0;
    core::timestamp_ns end_ns = std::numeric_limits<core::timestamp_ns>::max();
};

/// Replays files (in order, as one stream) for the symbol config.symbol of registry.
/// config.journal_path, when set, receives the journal (drained inline).
[[nodiscard]] backtest_summary run_replay_backtest(const md::symbol_registry& registry,
                                                   const std::vector<std::string>& files,
                                                   const core_loop_config& config,
                                                   const replay_options& options = {});

/// Replays files (merged by time) for several symbols in one loop: configs[i] trades
/// configs[i].symbol of registry (its own strategy, quote manager, limits and account: set each
/// one's account.initial_cash to its share), all on one simulated exchange (symbol index i) with
/// the portfolio-level limits across them. One summary per config, in order; the line, replay
/// and wall-time counts are the whole replay's in each. configs.front().journal_path, when set,
/// receives every symbol's journal. An empty configs, or a symbol twice or not in the registry,
/// fails with the error set in the first summary.
[[nodiscard]] std::vector<backtest_summary>
run_replay_backtest(const md::symbol_registry& registry, const std::vector<std::string>& files,
                    std::span<const core_loop_config> configs, const replay_options& options = {});

} // namespace quoter::engine
