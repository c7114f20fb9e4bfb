// journal_settings: the [journal] section (where the JSONL audit trail goes and how often it is
// synced to disk) and its reader. The ops module owns these keys: each is declared once in
// journal_settings.cpp with the struct's own default, range and description; the app only
// calls the reader and hands the values to the journal (journal_config) of each session.
//
// Start-up code: allocates, never on the hot path.
#pragma once

#include <chrono>
#include <string>

namespace quoter::config {
class section;
} // namespace quoter::config

namespace quoter::ops {

/// [journal]: the append-only JSONL audit trail of orders, refusals, reports and commands.
struct journal_settings {
    /// File the journal is appended to; empty: no journal.
    std::string path;
    /// fdatasync after a written batch once this long has passed since the last one (0: after
    /// every batch; negative: never, leaving it to the OS).
    std::chrono::milliseconds flush_interval_ms{1000};
};

/// Declares and reads [journal] into `out`, whose values are the defaults.
void read_journal_settings(config::section s, journal_settings& out);

} // namespace quoter::ops
