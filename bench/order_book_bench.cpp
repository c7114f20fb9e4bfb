// Order-book benchmark: quoter::md::order_book (a dense window at the top of each side, sorted
// blocks below it) against a naive std::map book, fed the same level updates in the same run.
// Each message's levels go to order_book::apply() one side at a time, as book_sync does, and to
// the map one by one.
//
// Workloads:
// - capture: the real diff stream of ../shared/data/binance (the REST snapshot, then every
//   depthUpdate level in order); after each message both books are asked for the best levels
//   and the top 10 per side, as the publisher does.
// - deep synthetic: a 5,000-level-per-side book and a random stream of updates concentrated
//   near the top with a tail deep into the book (always run, and the only one without data).
// Each workload is timed per message (p50/p99) and in total (ns per level update); the two
// books alternate repetitions so that machine noise hits both alike.
#include "quoter/bench/suite.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/md/binance_decoder.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/md/order_book.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace quoter::bench {
namespace {

using core::book_level;
using core::price;
using core::qty;
using core::side;

constexpr std::size_t top_k = 10;

struct level_update {
    side s;
    std::int64_t ticks;
    std::int64_t lots;
};

/// A message's worth of level updates.
struct update_batch {
    std::size_t begin;
    std::size_t end;
};

struct workload {
    std::string name;
    std::vector<level_update> snapshot;
    std::vector<level_update> updates;
    std::vector<update_batch> batches;
};

/// The naive baseline: one std::map per side, best first.
class map_book {
public:
    void set(side s, std::int64_t ticks, std::int64_t lots) {
        if (s == side::buy) {
            lots == 0 ? (void)bids_.erase(ticks) : (void)(bids_[ticks] = lots);
        } else {
            lots == 0 ? (void)asks_.erase(ticks) : (void)(asks_[ticks] = lots);
        }
    }
    void clear() {
        bids_.clear();
        asks_.clear();
    }
    std::size_t top(side s, std::span<core::book_level> out) const {
        std::size_t n = 0;
        const auto copy = [&](const auto& levels) {
            for (auto it = levels.begin(); it != levels.end() && n < out.size(); ++it) {
                out[n++] = {price{it->first}, qty{it->second}};
            }
        };
        s == side::buy ? copy(bids_) : copy(asks_);
        return n;
    }
    [[nodiscard]] std::size_t depth(side s) const {
        return s == side::buy ? bids_.size() : asks_.size();
    }

private:
    std::map<std::int64_t, std::int64_t, std::greater<>> bids_;
    std::map<std::int64_t, std::int64_t> asks_;
};

class flat_book {
public:
    flat_book() : book_(8192) {}
    void set(side s, std::int64_t ticks, std::int64_t lots) {
        book_.set(s, price{ticks}, qty{lots});
    }
    /// Applies updates[begin, end), each run of one side with one apply() call.
    void apply(const std::vector<level_update>& updates, std::size_t begin, std::size_t end) {
        while (begin < end) {
            const side s = updates[begin].s;
            std::size_t count = 0;
            while (begin + count < end && updates[begin + count].s == s && count < batch_.size()) {
                const level_update& u = updates[begin + count];
                batch_[count++] = {price{u.ticks}, qty{u.lots}};
            }
            book_.apply(s, {batch_.data(), count});
            begin += count;
        }
    }
    void clear() { book_.clear(); }
    std::size_t top(side s, std::span<core::book_level> out) const { return book_.top(s, out); }
    [[nodiscard]] std::size_t depth(side s) const { return book_.depth(s); }

private:
    md::order_book book_;
    std::array<core::book_level, 256> batch_{};
};

bool load_capture(const std::string& path, workload& out) {
    md::symbol_registry registry;
    // Spot BTCUSDT/ETHUSDT: tick 0.01, book quantities in 1e-8 (see md/instrument.hpp).
    for (const char* name : {"BTCUSDT", "ETHUSDT"}) {
        const auto spec = md::make_book_spec(name, "0.01", 8);
        if (!spec) {
            return false;
        }
        (void)registry.add({.book_spec = *spec, .trading_spec = *spec});
    }
    md::binance_decoder decoder(registry);
    md::gzip_line_reader reader;
    if (!reader.open(path)) {
        return false;
    }
    md::capture_line line;
    md::symbol_id last_depth = md::invalid_symbol;
    bool have_snapshot = false;
    std::uint64_t snapshot_id = 0;
    while (reader.next(line)) {
        const auto& m = decoder.decode(line.padded(), line.local_ns, last_depth);
        if (m.kind == md::message_kind::depth_snapshot && !have_snapshot) {
            have_snapshot = true;
            snapshot_id = m.depth.final_update_id;
            for (const auto& l : m.depth.bids) {
                out.snapshot.push_back({side::buy, l.px.ticks(), l.qty.lots()});
            }
            for (const auto& l : m.depth.asks) {
                out.snapshot.push_back({side::sell, l.px.ticks(), l.qty.lots()});
            }
        } else if (m.kind == md::message_kind::depth_update) {
            last_depth = m.symbol;
            if (!have_snapshot || m.depth.final_update_id <= snapshot_id) {
                continue;
            }
            const std::size_t begin = out.updates.size();
            for (const auto& l : m.depth.bids) {
                out.updates.push_back({side::buy, l.px.ticks(), l.qty.lots()});
            }
            for (const auto& l : m.depth.asks) {
                out.updates.push_back({side::sell, l.px.ticks(), l.qty.lots()});
            }
            out.batches.push_back({begin, out.updates.size()});
        }
    }
    return have_snapshot && !out.batches.empty();
}

workload make_deep_synthetic(std::size_t messages) {
    workload w;
    w.name = "synthetic, 5000 levels/side";
    constexpr std::int64_t mid = 1'000'000;
    constexpr std::int64_t levels = 5000;
    for (std::int64_t i = 0; i < levels; ++i) {
        w.snapshot.push_back({side::buy, mid - 1 - i, 100 + i});
        w.snapshot.push_back({side::sell, mid + 1 + i, 100 + i});
    }
    std::mt19937_64 rng(7);
    std::geometric_distribution<std::int64_t> near_top(0.15);
    for (std::size_t m = 0; m < messages; ++m) {
        const std::size_t begin = w.updates.size();
        const std::size_t count = 1 + rng() % 20;
        for (std::size_t i = 0; i < count; ++i) {
            const side s = (rng() & 1U) != 0 ? side::buy : side::sell;
            // 90% within a few ticks of the top, 10% anywhere in the book.
            const std::int64_t distance = rng() % 10 == 0
                                              ? static_cast<std::int64_t>(rng() % levels)
                                              : std::min<std::int64_t>(near_top(rng), levels);
            const std::int64_t ticks = s == side::buy ? mid - 1 - distance : mid + 1 + distance;
            const std::int64_t lots =
                rng() % 4 == 0 ? 0 : static_cast<std::int64_t>(rng() % 100000 + 1);
            w.updates.push_back({s, ticks, lots});
        }
        w.batches.push_back({begin, w.updates.size()});
    }
    return w;
}

struct run_result {
    std::vector<std::int64_t> per_message_ns;
    std::int64_t total_ns = 0;
    std::uint64_t checksum = 0;
};

template <class Book> void run_once(Book& book, const workload& w, run_result& result) {
    book.clear();
    for (const auto& u : w.snapshot) {
        book.set(u.s, u.ticks, u.lots);
    }
    std::array<core::book_level, top_k> bids{};
    std::array<core::book_level, top_k> asks{};
    const core::monotonic_clock clock;
    const std::int64_t start = clock.now();
    for (const auto& batch : w.batches) {
        const std::int64_t t0 = clock.now();
        if constexpr (requires { book.apply(w.updates, batch.begin, batch.end); }) {
            book.apply(w.updates, batch.begin, batch.end);
        } else {
            for (std::size_t i = batch.begin; i < batch.end; ++i) {
                const auto& u = w.updates[i];
                book.set(u.s, u.ticks, u.lots);
            }
        }
        const std::size_t nb = book.top(side::buy, bids);
        const std::size_t na = book.top(side::sell, asks);
        const std::int64_t t1 = clock.now();
        result.per_message_ns.push_back(t1 - t0);
        result.checksum += static_cast<std::uint64_t>(nb > 0 ? bids[0].px.ticks() : 0) +
                           static_cast<std::uint64_t>(na > 0 ? asks[0].qty.lots() : 0);
    }
    result.total_ns += clock.now() - start;
}

std::int64_t percentile(std::vector<std::int64_t>& values, double p) {
    if (values.empty()) {
        return 0;
    }
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                     values.end());
    return values[index];
}

void run_workload(const workload& w, int repetitions) {
    flat_book flat;
    map_book naive;
    run_result flat_result;
    run_result naive_result;
    for (int rep = 0; rep < repetitions; ++rep) {
        run_once(flat, w, flat_result);
        run_once(naive, w, naive_result);
    }
    const bool same = flat_result.checksum == naive_result.checksum &&
                      flat.depth(side::buy) == naive.depth(side::buy) &&
                      flat.depth(side::sell) == naive.depth(side::sell);
    const double updates = static_cast<double>(w.updates.size()) * repetitions;
    fmt::print("\n{}: {} messages, {} level updates, final depth {}/{}, x{} repetitions{}\n",
               w.name, w.batches.size(), w.updates.size(), flat.depth(side::buy),
               flat.depth(side::sell), repetitions, same ? "" : "  [BOOKS DIFFER]");
    fmt::print("  {:<34} {:>12} {:>12} {:>14} {:>10}\n", "implementation", "msg p50 ns",
               "msg p99 ns", "ns/level upd", "speed-up");
    const auto row = [&](const char* name, run_result& r, double baseline_ns) {
        const double per_update = static_cast<double>(r.total_ns) / updates;
        fmt::print("  {:<34} {:>12} {:>12} {:>14.1f} {:>9.2f}x\n", name,
                   percentile(r.per_message_ns, 0.50), percentile(r.per_message_ns, 0.99),
                   per_update, baseline_ns / per_update);
    };
    const double naive_per_update = static_cast<double>(naive_result.total_ns) / updates;
    row("std::map book (baseline)", naive_result, naive_per_update);
    row("quoter::md::order_book", flat_result, naive_per_update);
}

} // namespace

int run_order_book_bench(const bench_options& options) {
    const double scale = std::max(options.scale, 0.01);
    const std::string path = options.data_dir + "/spot-btcusdt-20240808.gz";
    fmt::print("per message: apply every level update of one depth message, then read the top "
               "{} levels of each side\n",
               top_k);
    if (std::filesystem::exists(path)) {
        workload capture;
        capture.name = "capture " + path;
        if (load_capture(path, capture)) {
            run_workload(capture, std::max(1, static_cast<int>(200 * scale)));
        } else {
            fmt::print("capture {} could not be read; capture workload skipped\n", path);
        }
    } else {
        fmt::print("capture folder {} not found: capture workload skipped, synthetic only\n",
                   options.data_dir);
    }
    run_workload(make_deep_synthetic(static_cast<std::size_t>(200'000 * scale)), 3);
    return 0;
}

} // namespace quoter::bench
