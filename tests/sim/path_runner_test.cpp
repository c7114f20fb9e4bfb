#include "quoter/sim/path_runner.hpp"

#include "quoter/sim/random.hpp"
#include "quoter/sim/synthetic_market.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace quoter;
using namespace quoter::sim;
using namespace std::chrono_literals;

namespace {

path_runner_options quiet(unsigned threads) {
    path_runner_options options;
    options.threads = threads;
    options.progress = progress_display::never;
    return options;
}

// Final mid of a short synthetic path: depends only on the path's seed.
double simulate_path(const path_context& context) {
    const auto spec = core::symbol_spec::from_text(
        {.name = "X", .tick_size = "0.01", .step_size = "0.001", .min_notional = ""});
    market_config config;
    config.gbm_sigma_per_sqrt_year = 2.0;
    auto market = synthetic_market(config, *spec, context.seed);
    for (int i = 0; i < 2000; ++i) {
        market.step(core::ns_per_s);
    }
    return market.mid();
}

std::string read_stream(std::FILE* file) {
    std::rewind(file);
    std::string text;
    for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) {
        text += static_cast<char>(c);
    }
    return text;
}

} // namespace

TEST_CASE("results come back in path order with derived seeds", "[path_runner]") {
    path_runner runner(quiet(4));
    CHECK(runner.threads() == 4);
    struct row {
        std::size_t index;
        std::uint64_t seed;
    };
    // Early paths take longest, so they finish last under any schedule.
    const auto rows = runner.run(48, 777, [](const path_context& context) {
        std::this_thread::sleep_for(std::chrono::microseconds(50 * (48 - context.index)));
        return row{context.index, context.seed};
    });
    REQUIRE(rows.size() == 48);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CHECK(rows[i].index == i);
        CHECK(rows[i].seed == derive_path_seed(777, i));
    }
}

TEST_CASE("results do not depend on the number of threads", "[path_runner]") {
    path_runner one(quiet(1));
    path_runner three(quiet(3));
    const auto serial = one.run(24, 42, simulate_path);
    const auto parallel = three.run(24, 42, simulate_path);
    const auto again = three.run(24, 42, simulate_path);
    const auto other_seed = three.run(24, 43, simulate_path);
    REQUIRE(serial.size() == 24);
    CHECK(serial == parallel);
    CHECK(parallel == again);
    for (std::size_t i = 0; i < serial.size(); ++i) {
        CHECK(serial[i] != other_seed[i]);
        if (i > 0) {
            CHECK(serial[i] != serial[i - 1]);
        }
    }
}

TEST_CASE("every path runs exactly once, including void callables and empty runs",
          "[path_runner]") {
    path_runner runner(quiet(3));
    std::vector<std::atomic<int>> visits(1000);
    runner.run(visits.size(), 1, [&](const path_context& context) {
        visits[context.index].fetch_add(1, std::memory_order_relaxed);
    });
    for (const auto& v : visits) {
        REQUIRE(v.load() == 1);
    }
    CHECK(runner.run(0, 1, [](const path_context&) { return 1; }).empty());
}

TEST_CASE("an exception in a path is rethrown and the runner stays usable", "[path_runner]") {
    path_runner runner(quiet(2));
    std::atomic<int> started{0};
    CHECK_THROWS_AS(runner.run(10000, 5,
                               [&](const path_context& context) {
                                   started.fetch_add(1);
                                   if (context.index == 3) {
                                       throw std::runtime_error("path 3 failed");
                                   }
                                   std::this_thread::sleep_for(50us);
                                   return 0;
                               }),
                    std::runtime_error);
    CHECK(started.load() < 10000); // the rest were skipped
    const auto after = runner.run(5, 5, [](const path_context& c) { return c.index * 2; });
    CHECK(after == std::vector<std::size_t>{0, 2, 4, 6, 8});
}

TEST_CASE("the progress bar is drawn only when forced or on a terminal, and late",
          "[path_runner]") {
    const auto slow_path = [](const path_context&) {
        std::this_thread::sleep_for(2ms);
        return 0;
    };
    std::FILE* stream = std::tmpfile();
    REQUIRE(stream != nullptr);

    path_runner_options options;
    options.threads = 2;
    options.progress_stream = stream;
    options.progress_delay = 0ms;
    options.progress_interval = 5ms;

    options.progress = progress_display::automatic; // a temporary file is not a terminal
    {
        path_runner runner(options);
        (void)runner.run(40, 1, slow_path);
        CHECK_FALSE(runner.progress_shown());
    }
    CHECK(read_stream(stream).empty());

    options.progress = progress_display::always;
    options.progress_delay = 10s; // the run ends long before the bar may appear
    {
        path_runner runner(options);
        (void)runner.run(40, 1, slow_path);
        CHECK_FALSE(runner.progress_shown());
    }
    CHECK(read_stream(stream).empty());

    options.progress_delay = 0ms;
    {
        path_runner runner(options);
        (void)runner.run(40, 1, slow_path);
        CHECK(runner.progress_shown());
    }
    const std::string drawn = read_stream(stream);
    CHECK(drawn.find('\r') != std::string::npos);
    CHECK(drawn.find("40/40 paths 100%") != std::string::npos);
    CHECK(drawn.back() == '\n');
    std::fclose(stream);
}

TEST_CASE("a progress line shows the bar, counts, percentage and time left", "[path_runner]") {
    const std::string half = render_progress_line("paths", 50, 100, 2.0);
    CHECK(half == "[############------------]  50/100 paths  50%  2.0 s, about 2.0 s left");
    const std::string done = render_progress_line("paths", 100, 100, 4.25);
    CHECK(done == "[########################] 100/100 paths 100%  4.2 s");
    CHECK(render_progress_line("paths", 0, 0, 0.0).find("100%") != std::string::npos);
}
