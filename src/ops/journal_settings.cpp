// Reading [journal]. Every key is declared once, with the struct's own default;
// docs/config.md lists them (the app tests compare).
#include "quoter/ops/journal_settings.hpp"

#include "quoter/config/config.hpp"

namespace quoter::ops {

void read_journal_settings(config::section s, journal_settings& out) {
    out.path = s.output_path("path", "JSONL audit trail appended to (orders, refusals, reports, "
                                     "kill/pause/resume), relative to this file; empty: none");
    out.flush_interval_ms =
        s.duration_ms("flush_interval_ms", out.flush_interval_ms, {.min = -1, .max = 3'600'000},
                      "fdatasync the journal at most this often; 0: after every batch; -1: "
                      "never (left to the OS)");
}

} // namespace quoter::ops
