// What every report-writing command prints and shares: the report's provenance, the alert
// summary, the removal of an earlier report's files, and money as the summaries print it.
#pragma once

#include "quoter/sim/report.hpp"

#include <filesystem>
#include <span>
#include <string>

namespace quoter::app {

/// Removes the files an earlier report (synthetic or replay) wrote into out_dir, so that a run
/// never leaves another run's files beside its own; false, with a message on stderr, when one
/// cannot be removed.
[[nodiscard]] bool remove_earlier_report(const std::filesystem::path& out_dir);

/// The provenance a report shows: the configuration file as given, quoter's version and the
/// current UTC date and time.
[[nodiscard]] sim::report_provenance report_provenance_for(const std::string& config_path);

/// Prints the alerts a run raised as a summary on stdout: one line of counts by kind, then up
/// to a few examples of each kind; nothing when there were none.
void print_alert_summary(std::span<const sim::report_alert> alerts);

/// Money with its sign and four decimals ("+0.1050"), as every summary prints it.
[[nodiscard]] std::string signed_money(double value);

} // namespace quoter::app
