// `quoter backtest --data`: replays captures through the core loop and the simulated exchange
// and writes the same report as a synthetic run.
#pragma once

#include <string>
#include <vector>

namespace quoter::app {

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

} // namespace quoter::app
