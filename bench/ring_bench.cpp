// Ring benchmark: quoter::core::spsc_ring against boost::lockfree::spsc_queue (compile-time
// capacity) with the same 64-byte event and the same usable capacity, on two pinned threads.
//
// - Throughput: the producer pushes N events as fast as it can, the consumer pops and checks
//   their sequence numbers; once with one pop per event, once draining whatever is available per
//   call (quoter: pop_batch, boost: consume_all), which is the core loop's pattern.
// - Round trip: a ping ring and a pong ring; one thread stamps an event with the TSC and pushes
//   it, the other echoes it back, the first records the elapsed time in a latency_histogram.
//
// Both implementations run through the same templated loops with the same spin policy
// (busy-poll; `pause` after a failed attempt in the throughput loops only), and repeated runs
// alternate between them so that noise from other load hits both alike.
#include "quoter/bench/suite.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/cpu.hpp"
#include "quoter/core/latency_histogram.hpp"
#include "quoter/core/spsc_ring.hpp"

#include <boost/lockfree/spsc_queue.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace quoter::bench {
namespace {

constexpr std::size_t ring_slots = 1024;
constexpr int repetitions = 3;
constexpr std::uint64_t throughput_items_at_scale_1 = 10'000'000;
constexpr std::uint64_t round_trips_at_scale_1 = 300'000;
constexpr std::uint64_t warmup_round_trips = 20'000;
// Caps that keep a run bounded when other load starves the spinning threads.
constexpr auto throughput_run_cap = std::chrono::milliseconds(1500);
constexpr auto round_trip_run_cap = std::chrono::milliseconds(800);

/// The element both queues carry: one cache line, like a market-data event.
struct alignas(64) bench_event {
    std::uint64_t sequence;
    std::uint64_t sent_ticks;
    std::array<std::uint64_t, 6> payload;
};
static_assert(sizeof(bench_event) == 64);

// The two implementations behind one interface; each call maps to the queue's own operation.
struct quoter_ring {
    static constexpr const char* name = "quoter::core::spsc_ring";
    core::spsc_ring<bench_event, ring_slots> ring;

    bool push(const bench_event& e) noexcept { return ring.try_push(e); }
    bool pop(bench_event& e) noexcept { return ring.try_pop(e); }
    template <class F> std::size_t drain(F& handle) noexcept { return ring.pop_batch(handle); }
};

struct boost_ring {
    static constexpr const char* name = "boost::lockfree::spsc_queue";
    // capacity<N> holds N elements (it allocates N + 1 slots internally).
    boost::lockfree::spsc_queue<bench_event, boost::lockfree::capacity<ring_slots>> queue;

    bool push(const bench_event& e) noexcept { return queue.push(e); }
    bool pop(bench_event& e) noexcept { return queue.pop(e); }
    template <class F> std::size_t drain(F& handle) noexcept { return queue.consume_all(handle); }
};

// Pins the calling thread when asked to; a failure was reported once up front, so it is ignored.
void maybe_pin(int cpu) {
    if (cpu >= 0) {
        (void)core::pin_current_thread(cpu);
    }
}

// Starts two threads, lets them pin and warm up, then releases them together.
class start_gate {
public:
    void arrive_and_wait() noexcept {
        ready_.fetch_add(1, std::memory_order_acq_rel);
        while (!open_.load(std::memory_order_acquire)) {
            core::cpu_relax();
        }
    }
    void open_when_both_ready() noexcept {
        while (ready_.load(std::memory_order_acquire) < 2) {
            std::this_thread::yield();
        }
        open_.store(true, std::memory_order_release);
    }

private:
    std::atomic<int> ready_{0};
    std::atomic<bool> open_{false};
};

struct throughput_run {
    double items_per_s = 0;
    std::uint64_t errors = 0;
    bool capped = false;
};

// The number of items the consumer waits for; lowered by the producer when a run hits its time
// cap. On its own line: the consumer reads it on every poll.
struct alignas(core::false_sharing_range) item_limit {
    std::atomic<std::uint64_t> items;
};

template <class Queue, bool Drain>
throughput_run measure_throughput(std::uint64_t items, const bench_options& options) {
    auto queue = std::make_unique<Queue>();
    start_gate gate;
    item_limit limit{items};
    std::uint64_t errors = 0;
    bool capped = false;

    std::thread producer([&] {
        maybe_pin(options.producer_cpu);
        gate.arrive_and_wait();
        const auto deadline = std::chrono::steady_clock::now() + throughput_run_cap;
        bench_event e{};
        for (std::uint64_t s = 0; s < items; ++s) {
            if ((s & 0xFFFF) == 0 && s != 0 && std::chrono::steady_clock::now() > deadline) {
                limit.items.store(s, std::memory_order_relaxed);
                capped = true;
                break;
            }
            e.sequence = s;
            e.payload[0] = s * 3;
            while (!queue->push(e)) {
                core::cpu_relax();
            }
        }
    });
    std::thread consumer([&] {
        maybe_pin(options.consumer_cpu);
        gate.arrive_and_wait();
        std::uint64_t expected = 0;
        std::uint64_t bad = 0;
        auto check = [&](const bench_event& e) {
            bad += static_cast<std::uint64_t>(e.sequence != expected) +
                   static_cast<std::uint64_t>(e.payload[0] != expected * 3);
            ++expected;
        };
        std::uint64_t received = 0;
        while (received < limit.items.load(std::memory_order_relaxed)) {
            std::size_t got = 0;
            if constexpr (Drain) {
                got = queue->drain(check);
            } else {
                bench_event e;
                if (queue->pop(e)) {
                    check(e);
                    got = 1;
                }
            }
            if (got == 0) {
                core::cpu_relax();
            }
            received += got;
        }
        errors = bad;
    });

    const auto start = std::chrono::steady_clock::now();
    gate.open_when_both_ready();
    producer.join();
    consumer.join();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    const auto delivered = limit.items.load(std::memory_order_relaxed);
    return {static_cast<double>(delivered) / elapsed.count(), errors, capped};
}

struct round_trip_run {
    std::uint64_t errors = 0;
    bool capped = false;
};

template <class Queue>
round_trip_run measure_round_trips(std::uint64_t round_trips, const core::tsc_clock& clock,
                                   const bench_options& options, core::latency_histogram& out) {
    constexpr std::uint64_t stop_sequence = ~std::uint64_t{0};
    auto ping = std::make_unique<Queue>();
    auto pong = std::make_unique<Queue>();
    start_gate gate;
    const std::uint64_t total = warmup_round_trips + round_trips;
    round_trip_run result;

    std::thread echo([&] {
        maybe_pin(options.consumer_cpu);
        gate.arrive_and_wait();
        bench_event e;
        for (;;) {
            while (!ping->pop(e)) {
            }
            if (e.sequence == stop_sequence) {
                break;
            }
            while (!pong->push(e)) {
            }
        }
    });
    std::thread initiator([&] {
        maybe_pin(options.producer_cpu);
        gate.arrive_and_wait();
        const auto deadline = std::chrono::steady_clock::now() + round_trip_run_cap;
        bench_event e{};
        std::uint64_t bad = 0;
        for (std::uint64_t i = 0; i < total; ++i) {
            if ((i & 0x3FF) == 0 && i > warmup_round_trips &&
                std::chrono::steady_clock::now() > deadline) {
                result.capped = true;
                break;
            }
            e.sequence = i;
            e.sent_ticks = clock.ticks();
            while (!ping->push(e)) {
            }
            while (!pong->pop(e)) {
            }
            const std::uint64_t now = clock.ticks();
            bad += static_cast<std::uint64_t>(e.sequence != i);
            if (i >= warmup_round_trips) {
                out.record(clock.elapsed_ns(e.sent_ticks, now));
            }
        }
        e.sequence = stop_sequence;
        while (!ping->push(e)) {
        }
        result.errors = bad;
    });

    gate.open_when_both_ready();
    initiator.join();
    echo.join();
    return result;
}

struct row {
    explicit row(std::string row_name) : name(std::move(row_name)) {}

    std::string name;
    std::vector<double> pop_rates;
    std::vector<double> drain_rates;
    std::vector<core::latency_summary> round_trips;
    std::unique_ptr<core::latency_histogram> all_round_trips =
        std::make_unique<core::latency_histogram>();
    std::uint64_t errors = 0;
    int capped_runs = 0;
};

template <class V> V median(std::vector<V> values) {
    if (values.empty()) {
        return V{};
    }
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// Median over runs of one percentile: a run disturbed by other load on the machine moves it less
// than it moves the percentile of all runs pooled.
template <class Field> core::duration_ns median_of(const row& r, Field field) {
    std::vector<core::duration_ns> values;
    values.reserve(r.round_trips.size());
    for (const auto& s : r.round_trips) {
        values.push_back(s.*field);
    }
    return median(values);
}

template <class Queue>
void run_once(row& r, std::uint64_t items, std::uint64_t round_trips, const core::tsc_clock& clock,
              const bench_options& options) {
    const throughput_run single = measure_throughput<Queue, false>(items, options);
    const throughput_run drained = measure_throughput<Queue, true>(items, options);
    r.pop_rates.push_back(single.items_per_s);
    r.drain_rates.push_back(drained.items_per_s);
    r.errors += single.errors + drained.errors;
    auto run = std::make_unique<core::latency_histogram>();
    const round_trip_run trips = measure_round_trips<Queue>(round_trips, clock, options, *run);
    r.errors += trips.errors;
    r.capped_runs += static_cast<int>(single.capped) + static_cast<int>(drained.capped) +
                     static_cast<int>(trips.capped);
    r.round_trips.push_back(run->summary());
    r.all_round_trips->merge(*run);
}

void report_pinning(const char* role, int cpu) {
    if (cpu < 0) {
        fmt::print("note: {} thread not pinned (cpu -1)\n", role);
        return;
    }
    core::result<int, core::pin_error> pinned = core::unexpected{core::pin_error::none};
    std::thread probe([&] { pinned = core::pin_current_thread(cpu); });
    probe.join();
    if (!pinned) {
        const auto why = core::describe(pinned.error());
        fmt::print("note: cannot pin {} thread to CPU {} ({}); running it unpinned\n", role, cpu,
                   std::string_view(why));
    }
}

} // namespace

int run_ring_bench(const bench_options& options) {
    const auto items = std::max<std::uint64_t>(
        10'000, static_cast<std::uint64_t>(throughput_items_at_scale_1 * options.scale));
    const auto round_trips = std::max<std::uint64_t>(
        10'000, static_cast<std::uint64_t>(round_trips_at_scale_1 * options.scale));
    const core::tsc_clock clock = core::tsc_clock::process();

    fmt::print("64-byte events, {} slots each, producer CPU {}, consumer CPU {}, clock: {} "
               "({:.3f} GHz)\n",
               ring_slots, options.producer_cpu, options.consumer_cpu,
               std::string_view(core::describe(clock.status())), clock.ticks_per_second() / 1e9);
    if (options.producer_cpu >= 0 && options.producer_cpu == options.consumer_cpu) {
        fmt::print("note: both threads share one CPU; round trips include context switches\n");
    }
    report_pinning("producer", options.producer_cpu);
    report_pinning("consumer", options.consumer_cpu);
    fmt::print("throughput: {} items per run; round trip: {} per run after {} warm-up; "
               "{} runs, alternating order\n",
               items, round_trips, warmup_round_trips, repetitions);
    std::fflush(stdout);

    row quoter{quoter_ring::name};
    row boost{boost_ring::name};
    for (int rep = 0; rep < repetitions; ++rep) {
        if (rep % 2 == 0) {
            run_once<quoter_ring>(quoter, items, round_trips, clock, options);
            run_once<boost_ring>(boost, items, round_trips, clock, options);
        } else {
            run_once<boost_ring>(boost, items, round_trips, clock, options);
            run_once<quoter_ring>(quoter, items, round_trips, clock, options);
        }
    }

    fmt::print("\n{:<29} | {:>11} | {:>11} | {:>7} | {:>7} | {:>7} | {:>9}\n", "implementation",
               "pop Mit/s", "drain Mit/s", "rtt p50", "rtt p99", "p99.9", "rtt max");
    fmt::print("{:-<29}-+-{:->11}-+-{:->11}-+-{:->7}-+-{:->7}-+-{:->7}-+-{:->9}\n", "", "", "", "",
               "", "", "");
    for (const row* r : {&quoter, &boost}) {
        fmt::print("{:<29} | {:>11.1f} | {:>11.1f} | {:>7} | {:>7} | {:>7} | {:>9}\n", r->name,
                   median(r->pop_rates) / 1e6, median(r->drain_rates) / 1e6,
                   median_of(*r, &core::latency_summary::p50),
                   median_of(*r, &core::latency_summary::p99),
                   median_of(*r, &core::latency_summary::p999), r->all_round_trips->max());
    }
    fmt::print("pop: one try_pop/pop per event; drain: pop_batch/consume_all per poll. Mit/s and "
               "rtt percentiles (ns) are medians over the {} runs; rtt max is over all runs.\n",
               repetitions);
    int status = 0;
    for (const row* r : {&quoter, &boost}) {
        if (r->capped_runs != 0) {
            fmt::print("note: {} runs of {} stopped early at their time cap (machine busy?)\n",
                       r->capped_runs, r->name);
        }
        if (r->errors != 0) {
            fmt::print("error: {} lost or reordered events through {}\n", r->errors, r->name);
            status = 1;
        }
    }
    return status;
}

} // namespace quoter::bench
