// The engine's complete configuration: every module's section, loaded and validated together.
#pragma once

#include <string>

namespace quoter::app {

/// `quoter config check FILE [--profile P]`: prints the resolved configuration (secrets masked)
/// or every error found; returns 0 when valid and 2 otherwise.
int check_config(const std::string& path, const std::string& profile);

} // namespace quoter::app
