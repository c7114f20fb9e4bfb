// Report writers for simulation runs: CSV time series (pnl.csv, fills.csv, orders.csv, paths.csv),
// a machine-readable report.json, a human-readable report.md, and a self-contained report.html
// with inline SVG charts that opens offline (no scripts, fonts, styles or images from elsewhere).
//
// Invariants: output depends only on the input values, byte for byte. Numbers are written with
// fmt at fixed precision (locale-independent; "-0.00" is written "0.00"); undefined values are
// empty CSV fields, JSON null, and "n/a" in the Markdown and HTML text. Long runs are downsampled
// for the charts only, keeping every bucket's extremes; the CSV files hold every record.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/sim/metrics.hpp"
#include "quoter/sim/records.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace quoter::sim {

/// Digits after the decimal point in CSV files and JSON time series.
struct report_format {
    int price_decimals = 2;    ///< quote and fill prices (the symbol's tick precision)
    int mid_decimals = 4;      ///< the mid, which lies between ticks
    int quantity_decimals = 6; ///< base-asset quantities and inventory
    int value_decimals = 6;    ///< quote-asset values: cash, equity, PnL, fees
};

/// A configuration value echoed in the report, already formatted by the caller.
struct report_parameter {
    std::string key;
    std::string value;
};

/// A count of something the run met beyond its metrics (risk refusals by reason, replay message
/// counters), shown in its own table and under "run_counts" in report.json.
struct report_counter {
    std::string key;   ///< JSON key, snake_case.
    std::string label; ///< Text for report.md and report.html.
    std::uint64_t value = 0;
};

/// Alerts of one kind a run raised: how many, and the first few as text.
struct report_alert {
    std::string kind; ///< risk::alert_kind name ("low_fill_ratio").
    std::uint64_t count = 0;
    std::vector<std::string> examples;
};

/// Where a report comes from, shown at the top of the HTML and in report.json; empty fields
/// are left out (the formatters stay a function of their input: the caller supplies the date).
struct report_provenance {
    std::string config_file; ///< The configuration file as given.
    std::string version;     ///< quoter's version.
    std::string generated;   ///< When the run was made, e.g. "2026-12-04 21:33:26 UTC".
};

/// How the PnL of many paths spreads over time: quantiles across paths at common sample times.
struct equity_spread {
    std::vector<double> x_s;                        ///< seconds since the start
    std::vector<double> p05, p25, median, p75, p95; ///< PnL (equity - initial), quote units
};

/// Quantiles across paths at each time; every series of `pnl_by_path` has x_s.size() values.
[[nodiscard]] equity_spread make_equity_spread(std::vector<double> x_s,
                                               std::span<const std::vector<double>> pnl_by_path);

/// Runs shorter than this get a caveat beside their annualised figures, seconds.
inline constexpr double annualisation_caveat_below_s = 24.0 * 3600.0;

/// Everything a single-run report shows. The spans must outlive the call that writes it.
struct run_report {
    std::string title = "quoter simulation";
    std::span<const pnl_sample> pnl;
    std::span<const fill_record> fills;
    std::span<const order_record> orders;
    run_metrics metrics;
    std::vector<report_parameter> parameters;
    /// Extra counts in the order given; empty: no "Run counts" table.
    std::vector<report_counter> counters;
    /// Alerts raised, by kind; always under "alerts" in report.json, a table when not empty.
    std::vector<report_alert> alerts;
    report_provenance provenance;
    report_format format;
    /// Upper bound on the buckets per chart; each keeps its first, last, minimum and maximum
    /// point per series, so a chart draws at most about 4 points per bucket and series.
    std::size_t chart_buckets = 600;
};

/// Everything a multi-path report shows; representative (optional) adds one path's charts.
struct multi_path_report {
    std::string title = "quoter simulation, multiple paths";
    std::span<const path_summary> paths;
    multi_path_metrics metrics;
    std::vector<report_parameter> parameters;
    /// Counts summed over every path, as run_report's (orders sent, risk refusals by reason).
    std::vector<report_counter> counters;
    /// Alerts raised over every path, by kind (examples from the first paths).
    std::vector<report_alert> alerts;
    report_provenance provenance;
    /// Simulated time each path covers, seconds (0: not given). Below a day the report says
    /// that the paths' annualised figures are extrapolated.
    double path_duration_s = 0.0;
    /// PnL quantiles across paths over time; empty: no spread chart.
    equity_spread spread;
    report_format format;
    const run_report* representative = nullptr;
};

/// Why a report file could not be written.
struct report_error {
    std::string path;
    std::string reason;
};

// Pure formatters: the exact bytes the writers below put in each file.
[[nodiscard]] std::string format_pnl_csv(std::span<const pnl_sample> pnl, const report_format& f);
[[nodiscard]] std::string format_fills_csv(std::span<const fill_record> fills,
                                           const report_format& f);
[[nodiscard]] std::string format_orders_csv(std::span<const order_record> orders,
                                            const report_format& f);
[[nodiscard]] std::string format_paths_csv(std::span<const path_summary> paths,
                                           const report_format& f);
[[nodiscard]] std::string format_report_json(const run_report& report);
[[nodiscard]] std::string format_report_markdown(const run_report& report);
[[nodiscard]] std::string format_report_html(const run_report& report);
[[nodiscard]] std::string format_multi_path_json(const multi_path_report& report);
[[nodiscard]] std::string format_multi_path_markdown(const multi_path_report& report);
[[nodiscard]] std::string format_multi_path_html(const multi_path_report& report);

/// Creates dir if needed and writes pnl.csv, fills.csv, orders.csv, report.json, report.md and
/// report.html; returns the paths written. Large CSV files are streamed in chunks.
[[nodiscard]] core::result<std::vector<std::filesystem::path>, report_error>
write_run_report(const std::filesystem::path& dir, const run_report& report);

/// Creates dir if needed and writes paths.csv, report.json, report.md and report.html.
[[nodiscard]] core::result<std::vector<std::filesystem::path>, report_error>
write_multi_path_report(const std::filesystem::path& dir, const multi_path_report& report);

/// Indices of the points worth drawing when `count` points are plotted `buckets` wide: for each
/// of `buckets` equal-count slices, the first and last point and the minimum and maximum of every
/// series (NaN ignored), sorted and without duplicates. Keeps spikes that plain decimation drops.
/// Every series must have `count` values. Returns all indices when count <= 4 * buckets.
[[nodiscard]] std::vector<std::size_t>
downsample_min_max(std::size_t count, std::span<const std::span<const double>> series,
                   std::size_t buckets);

/// Report number formats for a symbol: prices at its tick precision, quantities at its step's.
[[nodiscard]] report_format report_format_for(const core::symbol_spec& spec) noexcept;

} // namespace quoter::sim
