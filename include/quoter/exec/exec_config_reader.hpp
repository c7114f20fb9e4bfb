// exec_config_reader: reads the execution module's sections, [sim_exchange] (fees, latencies and
// matching rules of the simulated exchange) and [quotes] (the quote lifecycle). The exec module
// owns these keys: each is declared once here with the struct's own default, range and
// description; the app only calls the readers while composing the engine configuration.
//
// Start-up code: allocates, never on the hot path.
#pragma once

#include "quoter/exec/quote_manager.hpp"
#include "quoter/exec/sim_exchange.hpp"

#include <cstdint>

namespace quoter::config {
class section;
} // namespace quoter::config

namespace quoter::exec {

/// Declares and reads [sim_exchange] into `out`, whose values are the defaults.
void read_sim_exchange_config(config::section s, sim_exchange_config& out);

/// Declares and reads [quotes] into `out`, whose values are the defaults. `out.levels` is left
/// alone: the levels key depends on strategy.levels.count, so it is returned as written (0:
/// follow strategy.levels.count) for the app to resolve.
[[nodiscard]] std::uint32_t read_quote_manager_config(config::section s, quote_manager_config& out);

} // namespace quoter::exec
