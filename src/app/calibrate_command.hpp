// `quoter calibrate --data FILE...`: fits the synthetic market's and the strategy's fixed inputs
// (tick and step, volatility, the fill intensity's A and k) to recorded captures and writes them
// as a TOML fragment to merge into a configuration (research::calibrate does the fitting).
#pragma once

#include <string>
#include <vector>

namespace quoter::app {

struct calibrate_command {
    std::vector<std::string> data; ///< capture files, replayed in order as one market
    std::string symbol;            ///< empty: the first symbol the captures name
    double bucket_ticks = 1.0;     ///< distance grid of the intensity fit, ticks
    double interval_s = 1.0;       ///< mid sampling interval of the volatility estimate
    std::string out_path;          ///< empty: standard output
};

/// Returns the exit code: 0 written, 1 a file could not be read or the data do not suffice,
/// 2 invalid arguments.
int run_calibrate_command(const calibrate_command& command);

} // namespace quoter::app
