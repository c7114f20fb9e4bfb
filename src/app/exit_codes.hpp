// Exit codes of the `quoter` command line shared by more than one subcommand file. The
// convention: 0 success, 1 the run or a write failed, 2 invalid input or configuration, 3 the
// subcommand (or mode) is not built yet.
#pragma once

namespace quoter::app {

/// The subcommand or mode exists on the command line but its engine part is not built yet.
inline constexpr int exit_not_built = 3;

} // namespace quoter::app
