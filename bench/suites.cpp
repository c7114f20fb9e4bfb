#include "quoter/bench/suite.hpp"

#include <array>
#include <cstdio>

namespace quoter::bench {

int run_quote_manager_bench(const bench_options& options);
int run_order_book_bench(const bench_options& options);
int run_md_decode_bench(const bench_options& options);
int run_strategy_bench(const bench_options& options);
int run_sim_bench(const bench_options& options);
int run_risk_bench(const bench_options& options);
int run_ring_bench(const bench_options& options);
int run_backtest_bench(const bench_options& options);
int run_replay_bench(const bench_options& options);
int run_order_encoding_bench(const bench_options& options);
int run_tick_to_order_bench(const bench_options& options);

namespace {

constexpr std::array suites{
    suite{"quote_manager",
          "quote manager + simulated exchange per-event cost vs a map/string-id baseline",
          &run_quote_manager_bench},
    suite{"order_book", "full-depth order book vs std::map book, driven by the real diff stream",
          &run_order_book_bench},
    suite{"md_decode",
          "Binance decode + book apply vs plain simdjson parse vs nlohmann::json + std::map",
          &run_md_decode_bench},
    suite{"strategy", "per-update cost of the volatility estimators and quoting models",
          &run_strategy_bench},
    suite{"sim", "synthetic market: steps and fill sampling per second vs std <random>",
          &run_sim_bench},
    suite{"risk", "pre-trade check cost vs a naive checker; SIGUSR1-to-kill latency",
          &run_risk_bench},
    suite{"ring", "SPSC ring throughput and round trip vs boost::lockfree::spsc_queue",
          &run_ring_bench},
    suite{"backtest",
          "whole backtest loop: simulated steps per second vs every module on every step",
          &run_backtest_bench},
    suite{"replay",
          "whole capture replay (decode, book, strategy, risk, simulated exchange) vs the md floor",
          &run_replay_bench},
    suite{"order_encoding",
          "signed Binance order request (encode + HMAC) vs std::map + fmt + double + HMAC()",
          &run_order_encoding_bench},
    suite{"tick_to_order",
          "frame on the socket to order, per hop, against quoter-venue on loopback, vs the floors",
          &run_tick_to_order_bench},
};

} // namespace

std::span<const suite> all_suites() { return suites; }

int run_suite(std::string_view name, const bench_options& options) {
    int status = 0;
    bool found = false;
    for (const auto& s : suites) {
        if (name == "all" || name == s.name) {
            found = true;
            std::printf("== %.*s: %.*s\n", static_cast<int>(s.name.size()), s.name.data(),
                        static_cast<int>(s.description.size()), s.description.data());
            std::fflush(stdout);
            status |= s.run(options);
        }
    }
    if (!found) {
        std::fprintf(stderr, "unknown benchmark suite '%.*s'; available:", static_cast<int>(name.size()),
                     name.data());
        for (const auto& s : suites) {
            std::fprintf(stderr, " %.*s", static_cast<int>(s.name.size()), s.name.data());
        }
        std::fprintf(stderr, "\n");
        return 2;
    }
    return status;
}

} // namespace quoter::bench
