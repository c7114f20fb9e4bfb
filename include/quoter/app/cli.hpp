// The quoter command line: parses arguments and dispatches to the subcommands.
#pragma once

namespace quoter::app {

/// Runs the quoter command line; returns the process exit code.
int run_cli(int argc, char** argv);

} // namespace quoter::app
