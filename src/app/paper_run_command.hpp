// `quoter run --mode paper_exchange`: paper trading on the live feed against the simulated
// exchange, with the operations services of [ops]/[http]/[alerts]/[state].
#pragma once

#include <string>

namespace quoter::app {

struct paper_run_command {
    std::string config_path;
    std::string profile;
    /// Overrides engine.symbol when not empty.
    std::string symbol;
    /// Wall-clock seconds to run; 0: until SIGINT or SIGTERM.
    double duration_s = 0.0;
    /// Where the report is written at exit (as a replay's: CSV, report.json/md/html).
    std::string out_dir = "out/paper";
};

/// Paper-trades on the live feed of the configured endpoints with a status line on stderr until
/// the duration ends or a stop is requested (SIGINT/SIGTERM; SIGUSR1 engages the kill switch),
/// then prints the summary.
int run_paper_command(const paper_run_command& command);

} // namespace quoter::app
