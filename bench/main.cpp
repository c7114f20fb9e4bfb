// quoter-bench: runs benchmark suites without the rest of the engine.
#include "quoter/bench/suite.hpp"

#include <CLI/CLI.hpp>

#include <string>

int main(int argc, char** argv) {
    CLI::App app{"quoter-bench: hot-path benchmarks with same-run baselines"};
    std::string suite_name = "all";
    quoter::bench::bench_options options;
    app.add_option("suite", suite_name, "Suite to run, or 'all'");
    app.add_option("--scale", options.scale, "Work scale factor (1 = default run)")
        ->check(CLI::PositiveNumber);
    app.add_option("--producer-cpu", options.producer_cpu, "CPU for the producer thread (-1: none)");
    app.add_option("--consumer-cpu", options.consumer_cpu, "CPU for the consumer thread (-1: none)");
    app.add_option("--data", options.data_dir, "Folder with Binance captures");
    app.add_option("--symbols", options.symbols,
                   "tick_to_order: this many synthetic symbols in one process, next to one");
    CLI11_PARSE(app, argc, argv);
    return quoter::bench::run_suite(suite_name, options);
}
