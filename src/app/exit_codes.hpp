// Exit codes of the `quoter` command line, one definition for every subcommand file. The
// convention: 0 success, 1 the run or a write failed, 2 invalid input or configuration, 3 the
// subcommand (or mode) is not built yet, 130 interrupted by SIGINT/SIGTERM (128 + SIGINT, as a
// shell reports it).
#pragma once

namespace quoter::app {

/// The run, or writing its output, failed.
inline constexpr int exit_failed = 1;

/// Invalid input: command-line arguments, configuration or data files.
inline constexpr int exit_invalid = 2;

/// The subcommand or mode exists on the command line but its engine part is not built yet.
inline constexpr int exit_not_built = 3;

/// Stopped by SIGINT or SIGTERM before the work was complete.
inline constexpr int exit_interrupted = 130;

} // namespace quoter::app
