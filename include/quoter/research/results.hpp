// Results of a parameter sweep: one row per trial (its parameters and, for every backtest
// metric, mean, standard deviation and quantiles over the trial's paths and captures), the
// results file that makes a sweep resumable and mergeable, the ranking, and the report files.
//
// The results file (trials.jsonl) is a header line (format, fingerprint, objective, swept keys,
// trial count, the configuration text) and one line per finished trial, appended and flushed as
// each trial ends, in completion order. Numbers are written with 17 significant digits (NaN as
// null, infinities as "inf"/"-inf"), so reading a row back gives the same doubles: every report
// is made from rows read back from results files, which is why a merge of shards gives the same
// files, byte for byte, as one process running the whole sweep.
//
// Threading: plain functions; results_writer::append is called under the caller's lock.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/research/sweep.hpp"
#include "quoter/sim/metrics.hpp"

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quoter::research {

/// One metric of a run, read from sim::run_metrics.
struct metric_def {
    std::string_view name;
    std::string_view label; ///< For tables and charts.
    double (*read)(const sim::run_metrics&);
};

/// Every metric a trial row holds, in column order; includes pnl_to_drawdown (total PnL / max
/// drawdown per path; NaN without a drawdown).
[[nodiscard]] std::span<const metric_def> metric_defs() noexcept;
/// Index of a metric in metric_defs(); metric_defs().size() when unknown.
[[nodiscard]] std::size_t metric_index(std::string_view name) noexcept;

struct trial_row {
    std::size_t index = 0;
    std::vector<parameter> parameters;
    std::size_t units = 0;                      ///< paths + captures it ran on
    std::vector<sim::distribution_stats> stats; ///< by metric_defs() index
};

/// The row of a trial from its units' metrics (in unit order).
[[nodiscard]] trial_row summarize_trial(const trial& t, std::span<const sim::run_metrics> units);

/// What the header of a results file says.
struct results_header {
    std::string fingerprint;
    objective goal;
    std::vector<std::string> keys; ///< swept keys, in order
    std::size_t total_trials = 0;  ///< of the whole sweep (every shard)
    std::size_t units = 0;
    std::string unit_names;  ///< "20 paths", "2 captures", ...
    std::string config_name; ///< the configuration file's name
    std::string config_text; ///< its text, for best.toml
    std::string profile;
    bool grid_only = true; ///< no random axes (the heat map needs a grid)
    friend bool operator==(const results_header&, const results_header&) = default;
};

struct results_file {
    results_header header;
    std::vector<trial_row> rows; ///< sorted by trial index, no duplicates
};

/// The row as one JSON line (no newline); read_results reads it back exactly.
[[nodiscard]] std::string row_json(const trial_row& row);
[[nodiscard]] std::string header_json(const results_header& header);

/// Reads a results file; a truncated last line (a run killed mid-write) is ignored.
[[nodiscard]] core::result<results_file, std::string>
read_results(const std::filesystem::path& file);

/// Appends rows to a results file, flushing each line.
class results_writer {
public:
    /// Creates (truncates) the file and writes the header; or, with append, opens it for more
    /// rows (its header was checked by the caller).
    [[nodiscard]] static core::result<results_writer, std::string>
    open(const std::filesystem::path& file, const results_header& header, bool append);
    results_writer() = default; ///< Writes nowhere (append fails).
    results_writer(results_writer&& other) noexcept : file_(other.file_) { other.file_ = nullptr; }
    results_writer& operator=(results_writer&& other) noexcept {
        std::swap(file_, other.file_);
        return *this;
    }
    results_writer(const results_writer&) = delete;
    ~results_writer();
    [[nodiscard]] bool append(const trial_row& row);

private:
    explicit results_writer(std::FILE* file) : file_(file) {}
    std::FILE* file_ = nullptr;
};

/// Joins results files of one sweep (shards): same fingerprint required, a trial present in two
/// files must be identical.
[[nodiscard]] core::result<results_file, std::string>
merge_results(std::span<const results_file> parts);

/// Positions in results.rows ranked by the objective's mean, best first; NaN last; ties by
/// trial index.
[[nodiscard]] std::vector<std::size_t> rank(const results_file& results);

/// The configuration text with the parameters written in (the [sweep] table and the keys in
/// every [profile.*] table dropped), as TOML that `quoter config check` reads.
[[nodiscard]] core::result<std::string, std::string>
apply_parameters(std::string_view config_text, std::span<const parameter> parameters);

/// Writes trials.csv, trials.json, ranking.md, report.html and best.toml into out_dir. Returns
/// the files written, or the first that could not be.
[[nodiscard]] core::result<std::vector<std::filesystem::path>, std::string>
write_report(const std::filesystem::path& out_dir, const results_file& results);

/// Walk-forward table: row i of train (ranked on the training units) beside row i of test (the
/// same parameters on the test units): objective, PnL, Sharpe and max drawdown, mean ± sd, so
/// that a drop from train to test (overfitting) shows.
[[nodiscard]] std::string walk_forward_markdown(const results_file& train,
                                                const results_file& test);

/// One fold of a rolling walk-forward: the trial chosen on its training window (its row there,
/// among `trials_ranked`) and the same parameters' row on its test window.
struct fold_result {
    fold_window window;
    std::size_t trials_ranked = 0;
    trial_row train;
    trial_row test;
};

/// A whole walk-forward over folds, as walkforward.md and walkforward.json report it.
struct walk_forward_folds {
    objective goal;
    std::vector<std::string> keys; ///< swept keys, in order
    std::string unit_names;        ///< what a window runs on: "2 captures"
    double split = 0.0;            ///< training share of a fold's window
    bool anchored = false;
    std::vector<fold_result> folds;
};

/// The out-of-sample summary of a walk-forward (test windows of every fold, end to end).
struct walk_forward_summary {
    double test_objective_mean = 0.0; ///< objective of the chosen trial on each test window
    double test_objective_sd = 0.0;   ///< over folds (0 with one fold)
    double train_objective_mean = 0.0;
    double oos_pnl = 0.0;             ///< sum over folds of the test PnL (mean over units)
    double oos_fills = 0.0;           ///< sum over folds of the test fills (mean over units)
    double mean_sharpe = 0.0;         ///< mean test Sharpe over the folds where it is defined
    double worst_drawdown = 0.0;      ///< largest test max drawdown (mean over units) of any fold
    std::size_t profitable_folds = 0; ///< folds with a test PnL above 0
    std::size_t changes = 0;          ///< folds whose chosen parameters differ from the previous
    /// Test PnL per unit of time over training PnL per unit of time (walk-forward efficiency);
    /// NaN when the training PnL is not positive.
    double efficiency = 0.0;
};
[[nodiscard]] walk_forward_summary summarize(const walk_forward_folds& walk);

/// walkforward.md of a walk-forward over folds: one row per fold (windows, chosen parameters,
/// objective train and test, PnL, Sharpe, max drawdown, fills), then the out-of-sample summary.
[[nodiscard]] std::string walk_forward_markdown(const walk_forward_folds& walk);
/// walkforward.json: the same, every number of the rows' means and the summary.
[[nodiscard]] std::string walk_forward_json(const walk_forward_folds& walk);

/// The report's parts, for tests.
[[nodiscard]] std::string trials_csv(const results_file& results);
[[nodiscard]] std::string trials_json(const results_file& results);
[[nodiscard]] std::string ranking_markdown(const results_file& results, std::size_t max_rows);
[[nodiscard]] std::string report_html(const results_file& results);

} // namespace quoter::research
