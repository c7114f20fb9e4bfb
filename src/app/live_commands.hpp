// The subcommands that touch real market data: `quoter record` (captures live streams to gzip
// files), `quoter backtest --data` (replays captures through the core loop and the simulated
// exchange), `quoter run --mode paper_exchange` (paper trading on live data) and
// `quoter run --mode live` (trading on Binance).
//
// Each returns the process exit code: 0 on success (a signal-requested stop included), 1 when a
// run failed after it started, 2 for invalid input (configuration, symbols, files, folders).
#pragma once

#include <string>
#include <vector>

namespace quoter::app {

struct record_command {
    /// Comma-separated exchange symbols, any case ("btcusdt,ethusdt").
    std::string symbols;
    /// Folder for the capture files; created when missing.
    std::string out_dir;
    /// Seconds to record; 0: until SIGINT or SIGTERM.
    double duration_s = 0.0;
    /// Configuration whose [engine] market and [exchange] endpoints are used; empty: Binance's
    /// public spot endpoints.
    std::string config_path;
};

/// Records until the duration ends or SIGINT/SIGTERM arrives, then prints what was written.
int run_record_command(const record_command& command);

struct replay_command {
    std::string config_path;
    std::string profile;
    /// Capture files, replayed in order as one stream.
    std::vector<std::string> data_files;
    /// Folder of report.json.
    std::string out_dir = "out/backtest";
};

/// Replays the captures for engine.symbol with the configured strategy, quotes and simulated
/// exchange, prints the summary and writes `<out_dir>/report.json`.
int run_replay_command(const replay_command& command);

struct paper_run_command {
    std::string config_path;
    std::string profile;
    /// Overrides engine.symbol when not empty.
    std::string symbol;
    /// Wall-clock seconds to run; 0: until SIGINT or SIGTERM.
    double duration_s = 0.0;
};

/// Paper-trades on the live feed of the configured endpoints with a status line on stderr until
/// the duration ends or a stop is requested (SIGINT/SIGTERM; SIGUSR1 engages the kill switch),
/// then prints the summary.
int run_paper_command(const paper_run_command& command);

struct live_run_command {
    std::string config_path;
    std::string profile;
    /// Overrides engine.symbol when not empty.
    std::string symbol;
    /// Wall-clock seconds to run; 0: until SIGINT or SIGTERM.
    double duration_s = 0.0;
};

/// Trades engine.symbol on Binance spot (testnet unless the configuration sets
/// `testnet = false` and `mainnet = true`) with the credentials of QUOTER_API_KEY /
/// QUOTER_API_SECRET or the 0600 secrets file, until the duration ends or a stop is requested
/// (SIGINT/SIGTERM; SIGUSR1 engages the kill switch, which cancels every order on the venue);
/// then cancels everything and prints the summary.
int run_live_command(const live_run_command& command);

} // namespace quoter::app
