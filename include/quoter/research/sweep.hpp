// What a parameter sweep runs: the swept configuration keys (a grid of listed values, ranges,
// random draws), how many synthetic paths and which captures each trial runs on, the seed and
// the objective trials are ranked by; and the list of trials it expands to.
//
// A sweep is written as a [sweep] table in the configuration file or given on the command line
// (--set key=v1,v2 / --range key=lo:hi:step / --random key=lo:hi with --trials N); the command
// line adds to the table and replaces a key the table also sweeps. Values are TOML value texts
// ("0.5", "true", "\"glft\""), handed to the configuration reader as overrides, so any key can
// be swept and a bad key or value fails exactly as it would in the file.
//
// Invariants: expand() is a pure function of the spec, so every process of a sharded sweep sees
// the same trial numbering; trial i of a shard K/N is trial i of the whole sweep.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/research/objective.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::research {

/// A key with the values a grid takes, as TOML value texts.
struct grid_axis {
    std::string key;
    std::vector<std::string> values;
};

/// A key drawn uniformly from [lo, hi] in each random trial; whole numbers when both bounds are
/// written as integers.
struct random_axis {
    std::string key;
    double lo = 0.0;
    double hi = 0.0;
    bool integer = false;
};

struct sweep_spec {
    std::vector<grid_axis> grid;     ///< Cartesian product, first axis slowest.
    std::vector<random_axis> random; ///< Drawn `trials` times per grid point.
    std::size_t trials = 0;          ///< Random draws per grid point (random axes need it).
    /// Synthetic paths per trial (path p has the same seed in every trial, so trials are compared
    /// on the same markets); 0 with captures: captures only.
    std::size_t paths = 0;
    bool paths_set = false;        ///< paths was given (else backtest.paths, or 0 with captures)
    std::uint64_t seed = 1;        ///< Base seed of the paths and of the random draws.
    bool seed_set = false;         ///< seed was given (else backtest.seed)
    std::vector<std::string> data; ///< Capture files, each replayed as one unit of a trial.
    /// Walk-forward on time (0: off): trials run on the first `split` of each capture's time and
    /// the best are tested on the rest; in (0, 1).
    double split = 0.0;
    /// Rolling walk-forward (0: off; else at least 2): each capture's time is cut into `folds`
    /// consecutive test windows, each preceded by its training window; trials are ranked on a
    /// fold's training window and the best is run on its test window. `split` is the training
    /// share of a fold's window (train + test).
    std::size_t folds = 0;
    /// Anchored (expanding) folds: every training window starts at the capture's start instead
    /// of rolling forward with its test window.
    bool anchored = false;
    objective goal;
};

/// Default training share of a fold window when folds are asked for without a split.
inline constexpr double default_fold_split = 0.7;
/// At most this many folds.
inline constexpr std::size_t max_folds = 100;

/// One fold's windows, as fractions of a capture's time ([0, 1], from its first to its last
/// line): train [train_lo, train_hi), test [test_lo, test_hi) with train_hi == test_lo.
struct fold_window {
    double train_lo = 0.0;
    double train_hi = 0.0;
    double test_lo = 0.0;
    double test_hi = 0.0;
};

/// The folds of a walk-forward: the test windows are consecutive, do not overlap and end at 1;
/// rolling training windows have the same length (split of train + test), anchored ones start
/// at 0 and grow; the first training window is the same in both. Needs folds >= 1 and split in
/// (0, 1).
[[nodiscard]] std::vector<fold_window> fold_windows(std::size_t folds, double split, bool anchored);

/// A key=value override of one trial.
struct parameter {
    std::string key;
    std::string value; ///< TOML value text
    friend bool operator==(const parameter&, const parameter&) = default;
};

struct trial {
    std::size_t index = 0;
    std::vector<parameter> parameters;
};

/// "key=v1,v2,..." (values split at commas).
[[nodiscard]] core::result<grid_axis, std::string> parse_set(std::string_view text);
/// "key=lo:hi:step": lo, lo + step, ... up to hi (inclusive within 1e-9 step); integers when
/// all three are.
[[nodiscard]] core::result<grid_axis, std::string> parse_range(std::string_view text);
/// "key=lo:hi".
[[nodiscard]] core::result<random_axis, std::string> parse_random(std::string_view text);
/// "K/N" with 0 <= K < N.
struct shard {
    std::size_t index = 0;
    std::size_t count = 1;
};
[[nodiscard]] core::result<shard, std::string> parse_shard(std::string_view text);

/// The [sweep] table of a configuration file (an empty spec when there is none):
///   paths, seed, trials, folds (integers), objective (string), data (file list, relative to the
///   file), split (a number in (0, 1)), anchored (boolean),
///   [sweep.set] "key" = [values...], [sweep.range] "key" = [lo, hi, step],
///   [sweep.random] "key" = [lo, hi].
/// Every problem is reported, with the file and key.
[[nodiscard]] core::result<sweep_spec, std::vector<std::string>>
read_sweep_table(const std::filesystem::path& config_file);

/// Adds a grid axis, replacing one for the same key (in the grid or random).
void set_axis(sweep_spec& spec, grid_axis axis);
void set_axis(sweep_spec& spec, random_axis axis);

/// The swept keys, grid first, in order.
[[nodiscard]] std::vector<std::string> swept_keys(const sweep_spec& spec);

/// Checks the spec can run (something swept, trials with random axes, a unit to run).
[[nodiscard]] std::vector<std::string> validate(const sweep_spec& spec);

/// Every trial in order: grid points (first axis slowest), each with `trials` random draws.
/// Draw j of trial i depends only on (seed, i, j).
[[nodiscard]] std::vector<trial> expand(const sweep_spec& spec);

/// The trials a shard runs: index % count == shard index.
[[nodiscard]] std::vector<trial> select_shard(std::vector<trial> trials, shard part);

/// A canonical text of everything that decides the results (spec without shard, config text,
/// profile), and its 64-bit FNV-1a hash in hex: shards and resumed runs must agree on it.
[[nodiscard]] std::string canonical_text(const sweep_spec& spec, std::string_view config_text,
                                         std::string_view profile);
[[nodiscard]] std::string fingerprint(std::string_view canonical);

} // namespace quoter::research
