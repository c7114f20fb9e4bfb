// Time for property tests: steps drawn from a table, so that a test's events stay in a bucket,
// cross one or several buckets, jump past a window or go backwards, in proportions it chooses.
#pragma once

#include "quoter/core/time.hpp"

#include <cstddef>
#include <random>
#include <span>

namespace quoter::test {

/// One of `steps` (ns; negative goes back in time, 0 stays), each as likely.
inline core::duration_ns random_step(std::mt19937_64& rng,
                                     std::span<const core::duration_ns> steps) {
    std::uniform_int_distribution<std::size_t> pick(0, steps.size() - 1);
    return steps[pick(rng)];
}

} // namespace quoter::test
