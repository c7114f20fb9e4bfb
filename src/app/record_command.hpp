// `quoter record`: captures live market-data streams to gzip files (with the exchangeInfo of
// the recorded symbols beside them) until the duration ends or SIGINT/SIGTERM arrives.
#pragma once

#include <string>

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

} // namespace quoter::app
