// Whole-loop replay benchmark on the real captures in ../shared/data/binance: how many capture
// messages per second one core turns into trading decisions.
//
// Rows, each over the same in-memory capture (lines and padding in one arena, so no I/O and no
// gunzip in the timed part unless the row says so):
// - md floor: feed_handler only (decode + book sync + top-of-book event), the baseline every
//   other row pays;
// - whole loop, one thread: the same, with core_loop as the event sink (simulated exchange with
//   the queue model, account, risk engine and risk gate, strategy, quote manager), the way
//   `quoter backtest --data` runs it;
// - whole loop, two threads: the paper session's shape: the md thread decodes into md_events, an
//   SPSC ring carries them (the books' depth beside them, through md::depth_sender and
//   md::depth_receiver), the core thread runs core_loop on each event in its slot (no copy);
//   messages/s of the whole pipeline;
// - from the gzip file: capture_replayer + core_loop (engine::run_replay_backtest), which adds
//   gunzip and line splitting.
// The loop's own cost per message is the difference between the first two rows.
//
// Timing: the one-thread rows count the thread's CPU time (time descheduled on a shared machine
// is not charged); the two-thread row is wall time, since it measures the pipeline, spinning
// included.
#include "quoter/bench/suite.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/cpu.hpp"
#include "quoter/core/spsc_ring.hpp"
#include "quoter/engine/backtest.hpp"
#include "quoter/engine/core_loop.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/md/depth_handoff.hpp"
#include "quoter/md/feed_handler.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace quoter::bench {
namespace {

struct stored_line {
    std::size_t offset;
    std::size_t size;
    core::timestamp_ns local_ns;
};

/// Every line of one capture, each followed by padding, in one arena.
struct capture_lines {
    std::string path;
    std::string symbol; ///< Traded symbol (from the file name).
    std::string arena;
    std::vector<stored_line> lines;

    [[nodiscard]] md::padded_view view(const stored_line& line) const {
        return {arena.data() + line.offset, line.size, arena.size() - line.offset};
    }
};

bool load(const std::string& path, const std::string& symbol, capture_lines& out) {
    md::gzip_line_reader reader;
    if (!reader.open(path)) {
        return false;
    }
    out.path = path;
    out.symbol = symbol;
    md::capture_line line;
    while (reader.next(line)) {
        const std::size_t offset = out.arena.size();
        out.arena.append(line.json);
        out.arena.append(md::message_padding, ' ');
        out.lines.push_back({offset, line.json.size(), line.local_ns});
    }
    return !out.lines.empty();
}

md::symbol_registry make_registry() {
    md::symbol_registry registry;
    for (const char* name : {"BTCUSDT", "ETHUSDT"}) {
        const auto book = md::make_book_spec(name, "0.01", 8);
        const auto trading = md::make_book_spec(name, "0.01", 5);
        (void)registry.add({.book_spec = *book, .trading_spec = *trading});
    }
    return registry;
}

engine::core_loop_config loop_config(const md::symbol_registry& registry,
                                     const std::string& symbol) {
    engine::core_loop_config config;
    config.symbol = registry.find(symbol);
    config.account.initial_cash = 100'000.0;
    return config;
}

struct counting_sink final : md::md_event_sink {
    std::uint64_t events = 0;
    void on_event(const md::md_event& /*event*/) noexcept override { ++events; }
};

/// Runs the core loop inline on every event the feed publishes, with the book's top levels for
/// its simulated exchange.
struct loop_sink final : md::md_event_sink {
    loop_sink() noexcept { want_depth(true); }
    engine::core_loop* loop = nullptr;
    void on_event(const md::md_event& event) noexcept override {
        loop->on_event(event, event.local_ns);
    }
    void on_event_depth(const md::md_event& event, const md::md_depth& depth) noexcept override {
        loop->on_event(event, &depth, event.local_ns);
    }
};

/// The md thread's side of the two-thread pipeline: events into the ring (book events' depth,
/// for the simulated exchange, through the depth hand-off of a paper session), spinning when full.
using event_ring = core::spsc_ring<md::md_event, 4096>;
using depth_ring = core::spsc_ring<md::md_depth, 4096>;
struct ring_sink final : md::md_event_sink {
    ring_sink() noexcept { want_depth(true); }
    event_ring* ring = nullptr;
    depth_ring* depths = nullptr;
    md::depth_sender sender;
    void on_event(const md::md_event& event) noexcept override {
        while (!ring->try_push(event)) {
            core::cpu_relax();
        }
    }
    void on_event_depth(const md::md_event& event, const md::md_depth& depth) noexcept override {
        while (!sender.push(*ring, *depths, event, depth)) {
            core::cpu_relax();
        }
    }
};

/// Feeds every line of a capture, snapshot lines to the symbol of the latest diff.
void feed_all(md::feed_handler& feed, const capture_lines& data) {
    md::symbol_id last_depth = md::invalid_symbol;
    for (const stored_line& line : data.lines) {
        const auto& decoded = feed.on_message(data.view(line), line.local_ns, last_depth);
        if (decoded.kind == md::message_kind::depth_update) {
            last_depth = decoded.symbol;
        }
    }
}

struct result {
    double seconds = 0.0;
    std::uint64_t messages = 0;
    std::uint64_t orders = 0;
    std::uint64_t fills = 0;

    [[nodiscard]] double per_s() const {
        return seconds > 0.0 ? static_cast<double>(messages) / seconds : 0.0;
    }
    [[nodiscard]] double ns_per_message() const {
        return messages > 0 ? seconds * 1e9 / static_cast<double>(messages) : 0.0;
    }
};

/// CPU time of the calling thread: what one-thread rows are timed in, so that time spent
/// descheduled on a shared machine is not charged to the code.
constexpr core::thread_cpu_clock cpu_clock{};
/// Elapsed time of the rows that span threads.
constexpr core::monotonic_clock elapsed_clock{};

/// Seconds from `start` to now on `clock`.
template <class Clock> double seconds_since(const Clock& clock, core::timestamp_ns start) {
    return static_cast<double>(clock.now() - start) * 1e-9;
}

result run_md_floor(const capture_lines& data, int repetitions) {
    const auto registry = make_registry();
    result r;
    for (int rep = 0; rep < repetitions; ++rep) {
        counting_sink sink;
        // Built outside the timed part, like the trading rows' loops: the floor is the messages.
        md::feed_handler feed(registry, sink);
        const core::timestamp_ns start = cpu_clock.now();
        feed_all(feed, data);
        r.seconds += seconds_since(cpu_clock, start);
        r.messages += data.lines.size();
    }
    return r;
}

/// One run's trading side: the simulated exchange and the core loop on the capture's symbol.
/// Built outside the timed part (estimator buffers, the exchange's tables).
struct trading_loop {
    trading_loop(const md::symbol_registry& registry, const std::string& symbol)
        : config(loop_config(registry, symbol)),
          instrument(registry.at(config.symbol)), specs{instrument.trading_spec},
          exchange(config.exchange, specs), loop(config, instrument, exchange, &exchange) {}
    trading_loop(const trading_loop&) = delete;
    trading_loop& operator=(const trading_loop&) = delete;

    /// Adds this run's messages, orders and fills to r.
    void count(const capture_lines& data, result& r) const {
        r.messages += data.lines.size();
        r.orders += loop.gate().orders_passed();
        r.fills += loop.stats().fills;
    }

    engine::core_loop_config config;
    const md::instrument& instrument;
    std::array<core::symbol_spec, 1> specs;
    exec::sim_exchange exchange;
    engine::core_loop loop;
};

result run_one_thread(const capture_lines& data, int repetitions) {
    const auto registry = make_registry();
    result r;
    for (int rep = 0; rep < repetitions; ++rep) {
        trading_loop trading(registry, data.symbol);
        loop_sink sink;
        sink.loop = &trading.loop;
        md::feed_handler feed(registry, sink);
        const core::timestamp_ns start = cpu_clock.now();
        feed_all(feed, data);
        r.seconds += seconds_since(cpu_clock, start);
        trading.count(data, r);
    }
    return r;
}

result run_two_threads(const capture_lines& data, int repetitions, const bench_options& options) {
    const auto registry = make_registry();
    result r;
    for (int rep = 0; rep < repetitions; ++rep) {
        trading_loop trading(registry, data.symbol);
        engine::core_loop& loop = trading.loop;
        auto ring = std::make_unique<event_ring>();
        auto depths = std::make_unique<depth_ring>();
        std::atomic<bool> md_done{false};
        std::atomic<bool> core_ready{false};
        std::thread core_thread([&] {
            if (options.consumer_cpu >= 0) {
                (void)core::pin_current_thread(options.consumer_cpu);
            }
            core_ready.store(true, std::memory_order_release);
            // Events are read in their slot (front/pop), as the live feed reads them: no copy.
            md::depth_receiver receiver;
            const auto take = [&] {
                const md::md_event* event = ring->front();
                if (event == nullptr) {
                    return false;
                }
                loop.on_event(*event, receiver.take(*event, *depths), event->local_ns);
                ring->pop();
                return true;
            };
            for (;;) {
                if (take()) {
                    continue;
                }
                if (md_done.load(std::memory_order_acquire)) {
                    while (take()) {
                    }
                    break;
                }
                core::cpu_relax();
            }
        });
        while (!core_ready.load(std::memory_order_acquire)) {
            core::cpu_relax();
        }
        ring_sink sink;
        sink.ring = ring.get();
        sink.depths = depths.get();
        md::feed_handler feed(registry, sink);
        std::thread md_thread([&] {
            if (options.producer_cpu >= 0) {
                (void)core::pin_current_thread(options.producer_cpu);
            }
            feed_all(feed, data);
            md_done.store(true, std::memory_order_release);
        });
        const core::timestamp_ns start = elapsed_clock.now();
        md_thread.join();
        core_thread.join();
        r.seconds += seconds_since(elapsed_clock, start);
        trading.count(data, r);
    }
    return r;
}

result run_from_file(const capture_lines& data, int repetitions) {
    const auto registry = make_registry();
    const engine::core_loop_config config = loop_config(registry, data.symbol);
    result r;
    const core::timestamp_ns start = cpu_clock.now();
    for (int rep = 0; rep < repetitions; ++rep) {
        const engine::backtest_summary s =
            engine::run_replay_backtest(registry, {data.path}, config);
        r.messages += s.lines;
        r.orders += s.quotes.orders_sent;
        r.fills += s.loop.fills;
    }
    r.seconds = seconds_since(cpu_clock, start);
    return r;
}

} // namespace

int run_replay_bench(const bench_options& options) {
    std::vector<capture_lines> captures;
    for (const auto& [file, symbol] : {std::pair{"spot-btcusdt-20240808.gz", "BTCUSDT"},
                                       std::pair{"spot-ethusdt-20240808.gz", "ETHUSDT"}}) {
        const std::string path = options.data_dir + "/" + file;
        capture_lines data;
        if (std::filesystem::exists(path) && load(path, symbol, data)) {
            captures.push_back(std::move(data));
        }
    }
    if (captures.empty()) {
        fmt::print("replay: capture folder {} not found or empty: suite skipped\n",
                   options.data_dir);
        return 0;
    }
    const int repetitions = std::max(1, static_cast<int>(20 * std::max(options.scale, 0.01)));
    fmt::print("whole capture through decode + book + strategy + risk + simulated exchange; "
               "{} repetitions; messages/s per thread CPU second on one core (the two-thread row: "
               "wall time)\n",
               repetitions);
    fmt::print("  {:<26} {:<34} {:>12} {:>9} {:>10} {:>8} {:>7}\n", "capture", "case", "messages/s",
               "ns/msg", "vs floor", "orders", "fills");
    for (const capture_lines& data : captures) {
        // Interleaved rounds so that machine noise hits every case alike.
        result floor;
        result one;
        result two;
        result file;
        for (int round = 0; round < 2; ++round) {
            const int reps = std::max(1, repetitions / 2);
            const auto add = [](result& total, const result& part) {
                total.seconds += part.seconds;
                total.messages += part.messages;
                total.orders += part.orders;
                total.fills += part.fills;
            };
            add(floor, run_md_floor(data, reps));
            add(one, run_one_thread(data, reps));
            add(two, run_two_threads(data, reps, options));
            add(file, run_from_file(data, std::max(1, reps / 4)));
        }
        const std::string name = std::filesystem::path(data.path).filename().string();
        const auto row = [&](const char* label, const result& r, bool with_orders) {
            const auto per_rep = [&](std::uint64_t total) {
                return r.messages > 0 ? total * data.lines.size() / r.messages : 0;
            };
            fmt::print("  {:<26} {:<34} {:>12.0f} {:>9.0f} {:>9.2f}x {:>8} {:>7}\n", name, label,
                       r.per_s(), r.ns_per_message(), r.per_s() / floor.per_s(),
                       with_orders ? fmt::format("{}", per_rep(r.orders)) : std::string("-"),
                       with_orders ? fmt::format("{}", per_rep(r.fills)) : std::string("-"));
        };
        row("md floor: decode + book only", floor, false);
        row("whole loop, one thread", one, true);
        row("whole loop, md + core threads", two, true);
        row("whole loop from gzip, one thread", file, true);
        fmt::print("  {:<26} loop cost per message: {:.0f} ns ({} lines)\n", name,
                   one.ns_per_message() - floor.ns_per_message(), data.lines.size());
    }
    return 0;
}

} // namespace quoter::bench
