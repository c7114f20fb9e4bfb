// risk_config_reader: reads [risk] (pre-trade, position and loss limits), [risk.triggers] (kill
// and pause triggers) and [risk.alarms] (post-trade alarms) into a risk_config. The risk module
// owns these keys: each is declared once here with the struct's own default, range and
// description; the app only calls the reader while composing the engine configuration.
//
// Start-up code: allocates, never on the hot path.
#pragma once

#include "quoter/risk/limits.hpp"

namespace quoter::config {
class section;
} // namespace quoter::config

namespace quoter::risk {

/// Declares and reads [risk] and its sub-tables into `out`, whose values are the defaults;
/// problems (bad values, limits that contradict each other) are recorded on the section's
/// document.
void read_risk_config(config::section s, risk_config& out);

} // namespace quoter::risk
