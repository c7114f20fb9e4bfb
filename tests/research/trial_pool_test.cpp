#include "quoter/research/trial_pool.hpp"

#include "quoter/sim/random.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>

using namespace quoter::research;

namespace {

std::vector<trial> some_trials(std::size_t n) {
    sweep_spec spec;
    grid_axis axis{"a.x", {}};
    for (std::size_t i = 0; i < n; ++i) {
        axis.values.push_back(std::to_string(i));
    }
    set_axis(spec, axis);
    spec.paths = 1;
    return expand(spec);
}

/// A unit's metrics from its trial's parameter and its unit number alone.
quoter::sim::run_metrics fake_unit(const std::vector<trial>& trials, std::size_t slot,
                                   std::size_t unit) {
    std::uint64_t state =
        quoter::sim::derive_path_seed(std::stoull(trials[slot].parameters[0].value), unit);
    quoter::sim::run_metrics m;
    m.total_pnl = static_cast<double>(quoter::sim::splitmix64(state) % 1000) / 10.0;
    m.max_drawdown = 1.0 + static_cast<double>(unit);
    return m;
}

} // namespace

TEST_CASE("rows do not depend on the thread count", "[research][pool]") {
    const auto trials = some_trials(13);
    const auto run_with = [&](unsigned threads) {
        std::vector<std::string> rows(trials.size());
        const auto outcome = run_trials(
            trials, 5,
            [&](std::size_t slot, std::size_t unit) { return fake_unit(trials, slot, unit); },
            [&](const trial_row& row) { rows[row.index] = row_json(row); },
            pool_options{.threads = threads});
        CHECK(outcome.trials_done == trials.size());
        CHECK(outcome.units_done == trials.size() * 5);
        CHECK_FALSE(outcome.stopped);
        return rows;
    };
    const auto one = run_with(1);
    CHECK(one == run_with(4));
    CHECK(one == run_with(3));
    CHECK(one[0] != one[1]);
}

TEST_CASE("a stop keeps whole trials only", "[research][pool]") {
    const auto trials = some_trials(40);
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> started{0};
    std::vector<std::size_t> done;
    const auto outcome = run_trials(
        trials, 3,
        [&](std::size_t slot, std::size_t unit) {
            if (started.fetch_add(1) == 20) {
                stop.store(true); // as a SIGINT handler would, in the middle of trial 6
            }
            return fake_unit(trials, slot, unit);
        },
        [&](const trial_row& row) {
            CHECK(row.units == 3);
            done.push_back(row.index);
        },
        pool_options{.threads = 2, .stop = &stop});
    CHECK(outcome.stopped);
    CHECK(outcome.trials_done == done.size());
    CHECK(done.size() >= 6);
    CHECK(done.size() < trials.size());
}

TEST_CASE("a failing unit stops the pool and its exception reaches the caller",
          "[research][pool]") {
    const auto trials = some_trials(10);
    CHECK_THROWS_WITH(run_trials(
                          trials, 2,
                          [&](std::size_t slot, std::size_t unit) {
                              if (slot == 4) {
                                  throw std::runtime_error("unit failed");
                              }
                              return fake_unit(trials, slot, unit);
                          },
                          [](const trial_row&) {}, pool_options{.threads = 3}),
                      "unit failed");
}
