// `quoter run --mode live`: trading on Binance spot, with the operations services of
// [ops]/[http]/[alerts]/[state].
#pragma once

#include <string>

namespace quoter::app {

struct live_run_command {
    std::string config_path;
    std::string profile;
    /// Overrides engine.symbol when not empty.
    std::string symbol;
    /// Wall-clock seconds to run; 0: until SIGINT or SIGTERM.
    double duration_s = 0.0;
    /// `--mainnet`: the command line's half of the acknowledgement mainnet trading needs (the
    /// configuration's half is testnet = false and mainnet = true).
    bool mainnet_confirmed = false;
};

/// Trades engine.symbol on Binance spot (testnet unless the configuration sets
/// `testnet = false` and `mainnet = true` and the command line adds `--mainnet`) with the credentials of QUOTER_API_KEY /
/// QUOTER_API_SECRET or the 0600 secrets file, until the duration ends or a stop is requested
/// (SIGINT/SIGTERM; SIGUSR1 engages the kill switch, which cancels every order on the venue);
/// then cancels everything and prints the summary.
int run_live_command(const live_run_command& command);

} // namespace quoter::app
