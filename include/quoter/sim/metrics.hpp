// Performance metrics of a simulated (or recorded) run, computed from its equity curve, fills and
// order counts, and their aggregation over many independent paths.
//
// Conventions (all documented on the fields too):
// - Returns are simple returns of equity between consecutive observations,
//   r_i = E_i / E_(i-1) - 1. Observations are the recorded samples, or, with return_period_s set,
//   the equity at t0, t0 + P, t0 + 2P, ... (the last sample at or before each instant); a final
//   partial period is left out. Ratio metrics need positive equity throughout, else they are NaN.
// - Annualisation: periods_per_year = seconds_per_year / period, where period is return_period_s
//   or else the mean spacing of the samples; Sharpe = mean(r - rf) / stdev(r) * sqrt(periods per
//   year) with the sample standard deviation (n - 1); Sortino uses the downside deviation
//   sqrt(sum(min(0, r - rf)^2) / n) instead; Calmar = annualised return / max drawdown, with the
//   annualised return the total return scaled linearly to a year (compounding a short run to a
//   year would explode). rf is the per-period risk-free rate, risk_free_rate_per_year / periods.
// - Max drawdown is the largest fall from a running peak of equity over all samples; the
//   percentage is the largest (peak - equity) / peak, which need not be at the same instant.
// - Win rate and profit factor are per closing fill: a fill that trades against the existing
//   position (it reduces or flips it) and so realizes PnL (before fees). A win realizes > 0.
// - Spread capture is each fill's edge against the mid at that instant (bought below / sold above
//   the mid); inventory PnL is the rest: total PnL = spread capture + inventory PnL - net fees.
//   Adverse selection (markouts 1 s / 10 s / 60 s after each fill) is the part of inventory PnL
//   the mid's move right after the fills cost.
// - Inventory statistics are time-weighted: a sample's inventory holds until the next sample.
// Undefined values are NaN (for instance a Sharpe ratio of a flat curve); infinite ones (a profit
// factor with no losses) are +inf.
#pragma once

#include "quoter/sim/markouts.hpp"
#include "quoter/sim/records.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace quoter::sim {

struct metrics_config {
    /// Capital at the start in quote units; 0 takes the first sample's equity.
    double initial_capital = 0.0;
    /// Length of a return period in seconds (equity is resampled to it); 0 uses every sample.
    double return_period_s = 0.0;
    /// Annualisation base: 365 days of 24 hours, as crypto markets never close. Use
    /// 252 * 6.5 * 3600 for an exchange session calendar.
    double seconds_per_year = 365.0 * 24.0 * 3600.0;
    /// Risk-free rate as a fraction per year, subtracted from returns in Sharpe and Sortino.
    double risk_free_rate_per_year = 0.0;
    /// Inventory soft band as a percentage of initial capital (|inventory| * mid >= band).
    double soft_limit_pct = 20.0;
    /// Inventory hard limit as a percentage of initial capital.
    double hard_limit_pct = 30.0;
};

/// Order-flow counts of a run.
struct activity_counts {
    std::uint64_t orders_submitted = 0;
    std::uint64_t orders_filled = 0; ///< orders with at least one fill
    std::uint64_t cancels = 0;       ///< orders cancelled (confirmed)
    std::uint64_t rejects = 0;
};

/// Counts submitted, filled (at least partly), cancelled and rejected orders from order events.
[[nodiscard]] activity_counts count_activity(std::span<const order_record> orders);

struct run_metrics {
    // Returns and risk.
    double duration_s = 0.0;                ///< last sample time - first sample time
    double initial_equity = 0.0;            ///< quote units
    double final_equity = 0.0;              ///< quote units
    double total_pnl = 0.0;                 ///< final - initial equity, quote units
    double total_return_pct = 0.0;          ///< total_pnl / initial equity, percent
    double annualized_return_pct = 0.0;     ///< total return scaled linearly to a year, percent
    double annualized_volatility_pct = 0.0; ///< stdev of period returns * sqrt(periods per year)
    double sharpe = 0.0;
    double sortino = 0.0;
    double calmar = 0.0;
    double max_drawdown = 0.0;        ///< quote units, >= 0
    double max_drawdown_pct = 0.0;    ///< percent of the running peak, >= 0
    double period_s = 0.0;            ///< return period used for annualisation, seconds
    std::uint64_t return_periods = 0; ///< number of returns behind Sharpe and Sortino

    // Trading.
    std::uint64_t fills = 0;
    std::uint64_t buy_fills = 0;
    std::uint64_t sell_fills = 0;
    std::uint64_t closing_fills = 0; ///< fills that traded against the position
    std::uint64_t winning_fills = 0; ///< closing fills with realized PnL > 0
    double win_rate_pct = 0.0;       ///< winning / closing fills, percent
    double gross_profit = 0.0;       ///< sum of positive realized PnL of closing fills
    double gross_loss = 0.0;         ///< minus the sum of negative ones, >= 0
    double profit_factor = 0.0;      ///< gross profit / gross loss
    double fill_ratio = 0.0;         ///< orders filled (at least partly) / orders submitted
    double cancel_to_trade = 0.0;    ///< cancels / fills
    std::uint64_t orders_submitted = 0;
    std::uint64_t cancels = 0;
    std::uint64_t rejects = 0;

    // PnL attribution and costs, quote units.
    double spread_capture_pnl = 0.0; ///< sum of each fill's edge against the mid
    double inventory_pnl = 0.0;      ///< total_pnl - spread capture + net fees
    /// Adverse selection: the mid's move against each fill 1 s, 10 s and 60 s after it, times
    /// its quantity, summed over fills (markouts.hpp), quote units; positive is a cost. A part
    /// of inventory PnL, shown apart from it. NaN when the run did not measure it. Set by the
    /// run (it needs the mid between samples), not by compute_metrics().
    double adverse_selection_1s = std::numeric_limits<double>::quiet_NaN();
    double adverse_selection_10s = std::numeric_limits<double>::quiet_NaN();
    double adverse_selection_60s = std::numeric_limits<double>::quiet_NaN();
    double fees_paid = 0.0;        ///< sum of positive fees
    double rebates_received = 0.0; ///< minus the sum of negative fees, >= 0
    double net_fees = 0.0;         ///< fees paid - rebates received
    double volume_base = 0.0;      ///< traded quantity, base units
    double turnover = 0.0;         ///< traded notional, quote units
    double turnover_ratio = 0.0;   ///< turnover / initial equity

    // Inventory, base units; time shares in percent of the run.
    double final_inventory = 0.0;
    double mean_abs_inventory = 0.0;
    double max_abs_inventory = 0.0;
    double time_at_soft_limit_pct = 0.0; ///< |inventory| * mid >= soft band
    double time_at_hard_limit_pct = 0.0; ///< |inventory| * mid >= hard limit

    /// Average of our best ask - best bid while both sides were quoted, quote units per base
    /// unit; NaN when never two-sided. compute_metrics() averages the pnl samples that show both
    /// quotes (replays, paper sessions); a synthetic run replaces it with the average over the
    /// steps in which its order flow met both sides quoted.
    double mean_quoted_spread = std::numeric_limits<double>::quiet_NaN();

    // Order-rate holds: new orders held back after the order-rate limits refused one
    // (max_new_orders_per_s, _per_min, max_orders_per_day), until the windows have room again.
    // Set by the run (set_rate_holds()), not by compute_metrics().
    std::uint64_t rate_holds = 0; ///< holds started
    double rate_held_s = 0.0;     ///< time new orders were held, seconds
    double rate_held_pct = 0.0;   ///< rate_held_s / duration_s, percent; NaN for no duration
};

/// Writes a run's markout totals into its metrics (adverse_selection_*).
void set_markouts(run_metrics& metrics, const markout_totals& totals) noexcept;

/// Writes a run's order-rate holds into its metrics, after compute_metrics(): holds started and
/// the time new orders were held (seconds, up to the run's end), both summed over the `symbols`
/// quoted side by side (a portfolio); the share is of their quoting time, duration_s * symbols.
void set_rate_holds(run_metrics& metrics, std::uint64_t holds, double held_s,
                    std::size_t symbols = 1) noexcept;

/// Computes every metric; an empty pnl series gives NaN ratios and zero totals.
[[nodiscard]] run_metrics compute_metrics(std::span<const pnl_sample> pnl,
                                          std::span<const fill_record> fills,
                                          const activity_counts& activity,
                                          const metrics_config& config = {});

/// Mean, sample standard deviation and quantiles of one quantity over paths. NaN values are
/// left out (count says how many were used); quantiles interpolate linearly between order
/// statistics (the "type 7" definition of R and NumPy).
struct distribution_stats {
    std::size_t count = 0;
    double mean = 0.0;
    double stddev = 0.0;
    double min = 0.0;
    double p05 = 0.0;
    double median = 0.0;
    double p95 = 0.0;
    double max = 0.0;
};

[[nodiscard]] distribution_stats describe_distribution(std::span<const double> values);

/// One row of the per-path table of a multi-path run.
struct path_summary {
    std::size_t path_index = 0;
    std::uint64_t seed = 0;
    double final_pnl = 0.0; ///< quote units
    double total_return_pct = 0.0;
    double final_inventory = 0.0; ///< base units
    double sharpe = 0.0;
    double max_drawdown = 0.0; ///< quote units
    double max_drawdown_pct = 0.0;
    std::uint64_t fills = 0;
    double net_fees = 0.0; ///< quote units
    double mean_abs_inventory = 0.0;
    double mean_quoted_spread = std::numeric_limits<double>::quiet_NaN(); ///< see run_metrics
    double rate_held_pct = 0.0;                                           ///< see run_metrics
};

[[nodiscard]] path_summary summarize_path(std::size_t path_index, std::uint64_t seed,
                                          const run_metrics& metrics) noexcept;

struct multi_path_metrics {
    std::size_t paths = 0;
    distribution_stats final_pnl;
    distribution_stats final_inventory;
    distribution_stats sharpe;
    distribution_stats max_drawdown;
    distribution_stats fills;
    distribution_stats mean_quoted_spread; ///< over the paths that measured it
    distribution_stats rate_held_pct;      ///< share of each path new orders were held, percent
};

[[nodiscard]] multi_path_metrics aggregate_paths(std::span<const path_summary> paths);

} // namespace quoter::sim
