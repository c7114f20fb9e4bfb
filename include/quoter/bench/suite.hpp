// Benchmark suites shared by the standalone `quoter-bench` program and `quoter bench <suite>`.
// Each suite prints a table comparing quoter's implementation with a baseline measured in the
// same run. Benchmarks never assert timings; they report.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace quoter::bench {

struct bench_options {
    /// Scale factor for the amount of work (1.0 = the default run; lower for a quick look).
    double scale = 1.0;
    /// CPUs to pin the two threads of two-thread benchmarks to (-1: do not pin).
    int producer_cpu = 0;
    int consumer_cpu = 1;
    /// Folder with Binance captures for data-driven suites.
    std::string data_dir = "../shared/data/binance";
    /// Symbols of suites that can hold many in one process (tick_to_order: that many synthetic
    /// symbols from quoter-venue --synthetic, next to a one-symbol run); 0: the suite's default.
    int symbols = 0;
    /// tick_to_order: the paper loop's order path warm-up period (core_loop_config::
    /// warm_order_path_us, µs; 0: off). The default is [engine] warm_order_path_us's.
    std::int64_t warm_order_path_us = 100;
};

struct suite {
    std::string_view name;
    std::string_view description;
    int (*run)(const bench_options&);
};

/// Every registered suite, in the order `quoter bench all` runs them.
[[nodiscard]] std::span<const suite> all_suites();

/// Runs the named suite ("all" runs each); returns a process exit code.
int run_suite(std::string_view name, const bench_options& options);

} // namespace quoter::bench
