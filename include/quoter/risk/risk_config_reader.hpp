// risk_config_reader: reads [risk] (pre-trade, position and loss limits), [risk.triggers] (kill
// and pause triggers) and [risk.alarms] (post-trade alarms) into a risk_config. The risk module
// owns these keys: each is declared once here with the struct's own default, range and
// description; the app only calls the reader while composing the engine configuration.
//
// Start-up code: allocates, never on the hot path.
#pragma once

#include "quoter/risk/limits.hpp"

#include <string_view>
#include <vector>

namespace quoter::config {
class section;
} // namespace quoter::config

namespace quoter::risk {

/// Declares and reads [risk] and its sub-tables into `out`, whose values are the defaults;
/// problems (bad values, limits that contradict each other) are recorded on the section's
/// document.
void read_risk_config(config::section s, risk_config& out);

/// Declares and reads one symbol's own limits (a [symbol.<NAME>.risk] table) into `out`, whose
/// values are the defaults (the [risk] ones): the limits that apply to each symbol on its own,
/// order size and price band, the symbol's net and gross exposure, and its inventory flatten and
/// kill levels. Rates, losses and the portfolio limit stay [risk]'s for every symbol.
void read_symbol_limits(config::section s, risk_limits& out);

/// The keys of `config` whose value 0 turns a limit or trigger off ("daily_loss_pct",
/// "triggers.stale_market_data_ms", ...), in declaration order, so that a configuration check
/// can say so: a 0 could be read as "nothing allowed".
[[nodiscard]] std::vector<std::string_view> limits_turned_off(const risk_config& config);

/// The same for one symbol's own limits (the keys of a [symbol.<NAME>.risk] table).
[[nodiscard]] std::vector<std::string_view> symbol_limits_turned_off(const risk_limits& limits);

} // namespace quoter::risk
