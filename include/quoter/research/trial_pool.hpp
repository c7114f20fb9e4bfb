// trial_pool: runs the units (synthetic paths, captures) of many trials on a pool of worker
// threads. A unit is the smallest piece of work, so a sweep of few trials with many paths still
// uses every core; when a trial's last unit ends its row is handed to on_trial (under a lock,
// in completion order), so finished trials are kept even when the sweep stops early.
//
// Invariants: unit u of trial t runs exactly once and its result depends only on (t, u) (the
// callable must not share mutable state), so the rows do not depend on the thread count or the
// scheduling. Setting *stop (a signal handler may) lets running units finish and starts no new
// ones; trials with units left are dropped, never written half-done.
//
// Threading: run() is called from one thread and returns when every worker has stopped.
#pragma once

#include "quoter/research/results.hpp"
#include "quoter/research/sweep.hpp"
#include "quoter/sim/metrics.hpp"

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <span>

namespace quoter::research {

struct pool_options {
    unsigned threads = 0;                    ///< 0: every hardware thread
    const std::atomic<bool>* stop = nullptr; ///< optional; checked before each unit
    /// Progress with an estimate of the time left, redrawn in place on a terminal, a line every
    /// 10 s otherwise; nullptr: none.
    std::FILE* progress = nullptr;
    bool progress_is_terminal = false;
};

struct pool_outcome {
    std::size_t trials_done = 0;
    std::size_t units_done = 0;
    bool stopped = false; ///< *stop was set before every trial finished
    double wall_s = 0.0;
    unsigned threads = 0;
};

/// Unit u of the trial at position slot in `trials`.
using unit_function = std::function<sim::run_metrics(std::size_t slot, std::size_t unit)>;
using trial_done_function = std::function<void(const trial_row&)>;

/// Runs units_per_trial units of every trial. An exception from a unit stops the pool and is
/// rethrown once the workers are idle.
pool_outcome run_trials(std::span<const trial> trials, std::size_t units_per_trial,
                        const unit_function& unit, const trial_done_function& on_trial,
                        const pool_options& options);

} // namespace quoter::research
