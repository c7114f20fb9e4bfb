// strategy_config_reader: reads [strategy] and its sub-tables ([strategy.linear],
// [strategy.avellaneda_stoikov], [strategy.glft], [strategy.volatility], [strategy.intensity],
// [strategy.bands], [strategy.levels]) into a strategy_config. The strategy module owns these
// keys: each is declared once here with the struct's own default, range and description; the app
// only calls the reader while composing the engine configuration.
//
// Start-up code: allocates, never on the hot path. The strategy itself never sees the config
// library (config::section is only named here).
#pragma once

#include "quoter/strategy/strategy_config.hpp"

namespace quoter::config {
class section;
} // namespace quoter::config

namespace quoter::strategy {

/// Declares and reads [strategy] and its sub-tables into `out`, whose values are the defaults;
/// problems (bad values, cross-key conflicts) are recorded on the section's document.
void read_strategy_config(config::section s, strategy_config& out);

} // namespace quoter::strategy
