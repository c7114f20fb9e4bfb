// `quoter sweep` and `quoter sweep merge`: the command-line side of a parameter sweep. The sweep
// itself (trials, pool, results, report) is the research module; this file loads each trial's
// configuration through the one configuration reader (the swept keys as overrides) and runs a
// unit of a trial: a synthetic path or the replay of one capture.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quoter::app {

struct sweep_command {
    std::string config_path;
    std::string profile;
    std::vector<std::string> sets;    ///< --set key=v1,v2
    std::vector<std::string> ranges;  ///< --range key=lo:hi:step
    std::vector<std::string> randoms; ///< --random key=lo:hi
    std::optional<std::size_t> trials;
    std::optional<std::size_t> paths;
    std::optional<std::uint64_t> seed;
    std::vector<std::string> data;  ///< --data: replaces sweep.data
    /// --market-from: captures the synthetic paths' market of a symbol without a start price is
    /// fitted to (app/market_fit.hpp).
    std::vector<std::string> market_from;
    std::vector<std::string> train; ///< --train: captures trials are ranked on
    std::vector<std::string> test;  ///< --test: captures the best trials are checked on
    std::optional<std::string> objective;
    /// --split F: walk-forward on time; rank on the first F of each capture, test on the rest.
    std::optional<double> split;
    /// --folds N: rolling walk-forward over N folds of each capture's time (split is then the
    /// training share of each fold's window, default 0.7).
    std::optional<std::size_t> folds;
    bool anchored = false; ///< --anchored: training windows start at the capture's start
    unsigned threads = 0;  ///< 0: backtest.threads (0 there: every hardware thread)
    std::string shard;     ///< "K/N"; empty: every trial
    bool resume = false;
    std::string out_dir = "out/sweep";
};

/// Runs the sweep and writes its report; returns the exit code (0 done, 1 a run or a file
/// failed, 2 invalid sweep or configuration, 130 interrupted with finished trials kept).
int run_sweep_command(const sweep_command& command);

struct sweep_merge_command {
    std::vector<std::string> inputs; ///< shard folders or their trials.jsonl files
    std::string out_dir = "out/sweep";
};

/// Joins the shards' results into one results file and report; exit 0, or 2 when the inputs
/// are not shards of one sweep.
int run_sweep_merge_command(const sweep_merge_command& command);

} // namespace quoter::app
