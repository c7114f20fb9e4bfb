// Ring benchmark: quoter::core::spsc_ring against boost::lockfree::spsc_queue (compile-time
// capacity) and against the floor, a bare cache-line ping-pong, on the same two pinned CPUs.
//
// Two element types: the production md::md_event (120 bytes: with the slot sequence, two lines),
// and a one-line item (56 bytes, which with spsc_ring's 8-byte slot sequence fills exactly one
// 64-byte line; boost stores it packed). spsc_ring runs twice: copying (try_push/try_pop, as the
// callers did before the in-place API) and in place (try_emplace/consume, pop_batch to drain).
// The md_event table has one more row, "+ depth": every event goes with an md::md_depth record
// through a second ring (md::push_with_depth's order: the record copied in and committed, then
// the event), which is what a consumer that asked for depth (a simulated exchange) pays for a book
// event whose levels below the top changed (md::depth_sender sends no record for the others, about
// five book events in six on the captures); a live session never does.
//
// - Throughput: the producer pushes N events as fast as it can, the consumer pops and checks
//   their sequence numbers; once with one pop per event, once draining whatever is available per
//   call (quoter: pop_batch, boost: consume_all), which is the core loop's pattern.
// - Round trip: a ping ring and a pong ring; one thread stamps an event with the TSC and pushes
//   it, the other echoes it back, the first records the elapsed time in a latency_histogram.
// - Floor: one cache line holding a counter; each side waits for the other's value and answers
//   with the next one, so a round trip is two line transfers and nothing else.
//
// Every interval, deadline and rate is read on the project's clock (core::tsc_clock::process()).
// All implementations run through the same templated loops with the same spin policy
// (busy-poll; `pause` after a failed attempt in the throughput loops only), and repeated runs
// alternate between them so that noise from other load hits them alike.
#include "quoter/bench/suite.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/cpu.hpp"
#include "quoter/core/latency_histogram.hpp"
#include "quoter/core/spsc_ring.hpp"
#include "quoter/md/md_event.hpp"
#include "quoter/md/publisher.hpp"

#include <boost/lockfree/spsc_queue.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
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
constexpr core::duration_ns throughput_run_cap = 1'500 * core::ns_per_ms;
constexpr core::duration_ns round_trip_run_cap = 800 * core::ns_per_ms;

/// The one-line item: with spsc_ring's slot sequence it fills one 64-byte line.
struct line_item {
    std::uint64_t sequence;
    std::uint64_t sent_ticks;
    std::array<std::uint64_t, 5> payload;
};
static_assert(sizeof(line_item) == 56);

// What the loops write into and check in an element, per element type.
inline void stamp(line_item& e, std::uint64_t sequence) noexcept {
    e.sequence = sequence;
    e.payload[0] = sequence * 3;
}
inline bool intact(const line_item& e, std::uint64_t sequence) noexcept {
    return e.sequence == sequence && e.payload[0] == sequence * 3;
}
inline std::uint64_t sequence_of(const line_item& e) noexcept {
    return e.sequence;
}
inline std::uint64_t& ticks_of(line_item& e) noexcept {
    return e.sent_ticks;
}
inline std::uint64_t ticks_of(const line_item& e) noexcept {
    return e.sent_ticks;
}

inline void stamp(md::md_event& e, std::uint64_t sequence) noexcept {
    e.sequence = sequence;
    e.update_id = sequence * 3;
}
inline bool intact(const md::md_event& e, std::uint64_t sequence) noexcept {
    return e.sequence == sequence && e.update_id == sequence * 3;
}
inline std::uint64_t sequence_of(const md::md_event& e) noexcept {
    return e.sequence;
}
inline std::uint64_t& ticks_of(md::md_event& e) noexcept {
    return e.symbol_sequence;
}
inline std::uint64_t ticks_of(const md::md_event& e) noexcept {
    return e.symbol_sequence;
}

// The implementations behind one interface; each call maps to the queue's own operation.
// emplace(build) writes an element through build; consume(handle) reads one through handle.
template <class T> struct quoter_copy_ring {
    static constexpr const char* name = "spsc_ring copy";
    using value_type = T;
    core::spsc_ring<T, ring_slots> ring;
    alignas(core::false_sharing_range) T produced{}; ///< Producer thread only.
    alignas(core::false_sharing_range) T consumed{}; ///< Consumer thread only.

    // Like the callers before the in-place API: the producer builds in a long-lived scratch
    // element and copies it in, the consumer copies out into its own.
    template <class B> bool emplace(B&& build) noexcept {
        build(produced);
        return ring.try_push(produced);
    }
    template <class F> bool consume(F&& handle) noexcept {
        if (!ring.try_pop(consumed)) {
            return false;
        }
        handle(static_cast<const T&>(consumed));
        return true;
    }
    template <class F> std::size_t drain(F& handle) noexcept { return ring.pop_batch(handle); }
};

template <class T> struct quoter_in_place_ring {
    static constexpr const char* name = "spsc_ring in place";
    using value_type = T;
    core::spsc_ring<T, ring_slots> ring;

    template <class B> bool emplace(B&& build) noexcept { return ring.try_emplace(build); }
    template <class F> bool consume(F&& handle) noexcept { return ring.consume(handle); }
    template <class F> std::size_t drain(F& handle) noexcept { return ring.pop_batch(handle); }
};

/// An md_event ring and an md_depth ring beside it: each event is built in place and goes with a
/// depth record copied from a long-lived scratch record (as the md thread copies the publisher's),
/// both claimed before either is committed; the consumer reads both in place and checks that the
/// record carries its event's sequence.
struct quoter_event_depth_rings {
    static constexpr const char* name = "spsc_ring in place + depth";
    using value_type = md::md_event;
    core::spsc_ring<md::md_event, ring_slots> events;
    core::spsc_ring<md::md_depth, ring_slots> depths;
    alignas(core::false_sharing_range) md::md_depth scratch{};       ///< Producer thread only.
    alignas(core::false_sharing_range) std::uint64_t mismatched = 0; ///< Consumer thread only.

    quoter_event_depth_rings() noexcept {
        for (std::size_t i = 0; i < md::md_top_levels; ++i) {
            scratch.bids[i] = {core::price{100'000 - static_cast<std::int64_t>(i)}, core::qty{7}};
            scratch.asks[i] = {core::price{100'001 + static_cast<std::int64_t>(i)}, core::qty{9}};
        }
        scratch.bid_count = md::md_top_levels;
        scratch.ask_count = md::md_top_levels;
    }

    template <class B> bool emplace(B&& build) noexcept {
        md::md_depth* depth = depths.try_claim();
        if (depth == nullptr) {
            return false;
        }
        md::md_event* event = events.try_claim();
        if (event == nullptr) {
            return false;
        }
        *depth = scratch;
        build(*event);
        event->flags = md::md_flags::has_depth;
        depth->sequence = event->sequence;
        depths.commit();
        events.commit();
        return true;
    }
    template <class F> bool consume(F&& handle) noexcept {
        const md::md_event* event = events.front();
        if (event == nullptr) {
            return false;
        }
        take(*event, handle);
        events.pop();
        return true;
    }
    template <class F> std::size_t drain(F& handle) noexcept {
        return events.pop_batch([&](const md::md_event& event) noexcept { take(event, handle); });
    }

private:
    template <class F> void take(const md::md_event& event, F& handle) noexcept {
        const md::md_depth* depth = event.has_depth() ? depths.front() : nullptr;
        mismatched +=
            static_cast<std::uint64_t>(depth == nullptr || depth->sequence != event.sequence ||
                                       depth->bids[0].qty != core::qty{7});
        handle(event);
        if (depth != nullptr) {
            depths.pop();
        }
    }
};

/// Errors a queue found itself (event and depth record out of step); 0 for the others.
template <class Queue> std::uint64_t queue_errors(const Queue& /*queue*/) noexcept {
    return 0;
}
std::uint64_t queue_errors(const quoter_event_depth_rings& queue) noexcept {
    return queue.mismatched;
}

template <class T> struct boost_ring {
    static constexpr const char* name = "boost::lockfree::spsc_queue";
    using value_type = T;
    // capacity<N> holds N elements (it allocates N + 1 slots internally).
    boost::lockfree::spsc_queue<T, boost::lockfree::capacity<ring_slots>> queue;

    alignas(core::false_sharing_range) T produced{}; ///< Producer thread only.

    // boost has no producer-side in-place API: the element is built, then copied in.
    template <class B> bool emplace(B&& build) noexcept {
        build(produced);
        return queue.push(produced);
    }
    template <class F> bool consume(F&& handle) noexcept { return queue.consume_one(handle); }
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
throughput_run measure_throughput(std::uint64_t items, const core::tsc_clock& clock,
                                  const bench_options& options) {
    using T = typename Queue::value_type;
    auto queue = std::make_unique<Queue>();
    start_gate gate;
    item_limit limit{items};
    std::uint64_t errors = 0;
    bool capped = false;

    std::thread producer([&] {
        maybe_pin(options.producer_cpu);
        gate.arrive_and_wait();
        const core::timestamp_ns deadline = clock.now() + throughput_run_cap;
        for (std::uint64_t s = 0; s < items; ++s) {
            if ((s & 0xFFFF) == 0 && s != 0 && clock.now() > deadline) {
                limit.items.store(s, std::memory_order_relaxed);
                capped = true;
                break;
            }
            while (!queue->emplace([s](T& e) noexcept { stamp(e, s); })) {
                core::cpu_relax();
            }
        }
    });
    std::thread consumer([&] {
        maybe_pin(options.consumer_cpu);
        gate.arrive_and_wait();
        std::uint64_t expected = 0;
        std::uint64_t bad = 0;
        auto check = [&](const T& e) noexcept {
            bad += static_cast<std::uint64_t>(!intact(e, expected));
            ++expected;
        };
        std::uint64_t received = 0;
        while (received < limit.items.load(std::memory_order_relaxed)) {
            std::size_t got = 0;
            if constexpr (Drain) {
                got = queue->drain(check);
            } else {
                got = queue->consume(check) ? 1 : 0;
            }
            if (got == 0) {
                core::cpu_relax();
            }
            received += got;
        }
        errors = bad + queue_errors(*queue);
    });

    const std::uint64_t start = clock.ticks();
    gate.open_when_both_ready();
    producer.join();
    consumer.join();
    const double elapsed_s = static_cast<double>(clock.elapsed_ns(start, clock.ticks())) /
                             static_cast<double>(core::ns_per_s);
    const auto delivered = limit.items.load(std::memory_order_relaxed);
    return {static_cast<double>(delivered) / elapsed_s, errors, capped};
}

struct round_trip_run {
    std::uint64_t errors = 0;
    bool capped = false;
};

constexpr std::uint64_t stop_sequence = ~std::uint64_t{0};

template <class Queue>
round_trip_run measure_round_trips(std::uint64_t round_trips, const core::tsc_clock& clock,
                                   const bench_options& options, core::latency_histogram& out) {
    using T = typename Queue::value_type;
    auto ping = std::make_unique<Queue>();
    auto pong = std::make_unique<Queue>();
    start_gate gate;
    const std::uint64_t total = warmup_round_trips + round_trips;
    round_trip_run result;

    std::thread echo([&] {
        maybe_pin(options.consumer_cpu);
        gate.arrive_and_wait();
        bool stop = false;
        // Echoes the sequence and the stamp: what a consumer reading the element in place and
        // answering with a new one writes.
        const auto answer = [&](const T& in) noexcept {
            const std::uint64_t sequence = sequence_of(in);
            if (sequence == stop_sequence) {
                stop = true;
                return;
            }
            const std::uint64_t ticks = ticks_of(in);
            while (!pong->emplace([&](T& e) noexcept {
                stamp(e, sequence);
                ticks_of(e) = ticks;
            })) {
            }
        };
        while (!stop) {
            while (!ping->consume(answer)) {
            }
        }
    });
    std::thread initiator([&] {
        maybe_pin(options.producer_cpu);
        gate.arrive_and_wait();
        const core::timestamp_ns deadline = clock.now() + round_trip_run_cap;
        std::uint64_t bad = 0;
        std::uint64_t sent_ticks = 0;
        for (std::uint64_t i = 0; i < total; ++i) {
            if ((i & 0x3FF) == 0 && i > warmup_round_trips && clock.now() > deadline) {
                result.capped = true;
                break;
            }
            while (!ping->emplace([&](T& e) noexcept {
                stamp(e, i);
                ticks_of(e) = clock.ticks();
            })) {
            }
            while (!pong->consume([&](const T& e) noexcept {
                bad += static_cast<std::uint64_t>(!intact(e, i));
                sent_ticks = ticks_of(e);
            })) {
            }
            const std::uint64_t now = clock.ticks();
            if (i >= warmup_round_trips) {
                out.record(clock.elapsed_ns(sent_ticks, now));
            }
        }
        while (!ping->emplace([](T& e) noexcept { stamp(e, stop_sequence); })) {
        }
        result.errors = bad;
    });

    gate.open_when_both_ready();
    initiator.join();
    echo.join();
    result.errors += queue_errors(*ping) + queue_errors(*pong);
    return result;
}

/// The floor: a bare ping-pong of one cache line. The initiator writes an odd value, the echo
/// answers with the next even one; a round trip moves the line there and back.
round_trip_run measure_floor(std::uint64_t round_trips, const core::tsc_clock& clock,
                             const bench_options& options, core::latency_histogram& out) {
    struct alignas(core::false_sharing_range) shared_line {
        std::atomic<std::uint64_t> value{0};
    };
    auto line = std::make_unique<shared_line>();
    start_gate gate;
    const std::uint64_t total = warmup_round_trips + round_trips;
    round_trip_run result;

    std::thread echo([&] {
        maybe_pin(options.consumer_cpu);
        gate.arrive_and_wait();
        for (std::uint64_t expected = 1;; expected += 2) {
            std::uint64_t v = 0;
            while ((v = line->value.load(std::memory_order_acquire)) != expected &&
                   v != stop_sequence) {
            }
            if (v == stop_sequence) {
                break;
            }
            line->value.store(expected + 1, std::memory_order_release);
        }
    });
    std::thread initiator([&] {
        maybe_pin(options.producer_cpu);
        gate.arrive_and_wait();
        const core::timestamp_ns deadline = clock.now() + round_trip_run_cap;
        for (std::uint64_t i = 0; i < total; ++i) {
            if ((i & 0x3FF) == 0 && i > warmup_round_trips && clock.now() > deadline) {
                result.capped = true;
                break;
            }
            const std::uint64_t sent = clock.ticks();
            line->value.store(2 * i + 1, std::memory_order_release);
            while (line->value.load(std::memory_order_acquire) != 2 * i + 2) {
            }
            const std::uint64_t now = clock.ticks();
            if (i >= warmup_round_trips) {
                out.record(clock.elapsed_ns(sent, now));
            }
        }
        line->value.store(stop_sequence, std::memory_order_release);
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
    const throughput_run single = measure_throughput<Queue, false>(items, clock, options);
    const throughput_run drained = measure_throughput<Queue, true>(items, clock, options);
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

void run_floor_once(row& r, std::uint64_t round_trips, const core::tsc_clock& clock,
                    const bench_options& options) {
    auto run = std::make_unique<core::latency_histogram>();
    const round_trip_run trips = measure_floor(round_trips, clock, options, *run);
    r.capped_runs += static_cast<int>(trips.capped);
    r.round_trips.push_back(run->summary());
    r.all_round_trips->merge(*run);
}

/// The rows of one element type.
template <class T> struct element_rows {
    explicit element_rows(std::string label, std::uint64_t item_count)
        : name(std::move(label)), items(item_count) {}

    std::string name;
    std::uint64_t items;
    row copy{quoter_copy_ring<T>::name};
    row in_place{quoter_in_place_ring<T>::name};
    row boost{boost_ring<T>::name};
    /// md_event only: every event with its depth record (quoter_event_depth_rings).
    row with_depth{quoter_event_depth_rings::name};
    static constexpr bool has_depth_row = std::is_same_v<T, md::md_event>;

    void run(int rep, std::uint64_t round_trips, const core::tsc_clock& clock,
             const bench_options& options) {
        if (rep % 2 == 0) {
            run_once<quoter_in_place_ring<T>>(in_place, items, round_trips, clock, options);
            run_once<quoter_copy_ring<T>>(copy, items, round_trips, clock, options);
            run_once<boost_ring<T>>(boost, items, round_trips, clock, options);
            if constexpr (has_depth_row) {
                run_once<quoter_event_depth_rings>(with_depth, items, round_trips, clock, options);
            }
        } else {
            if constexpr (has_depth_row) {
                run_once<quoter_event_depth_rings>(with_depth, items, round_trips, clock, options);
            }
            run_once<boost_ring<T>>(boost, items, round_trips, clock, options);
            run_once<quoter_copy_ring<T>>(copy, items, round_trips, clock, options);
            run_once<quoter_in_place_ring<T>>(in_place, items, round_trips, clock, options);
        }
    }
};

void print_header() {
    fmt::print("{:<29} | {:>9} | {:>11} | {:>7} | {:>7} | {:>7} | {:>9}\n", "implementation",
               "pop Mit/s", "drain Mit/s", "rtt p50", "rtt p99", "p99.9", "rtt max");
    fmt::print("{:-<29}-+-{:->9}-+-{:->11}-+-{:->7}-+-{:->7}-+-{:->7}-+-{:->9}\n", "", "", "", "",
               "", "", "");
}

void print_row(const row& r, bool has_throughput) {
    if (has_throughput) {
        fmt::print("{:<29} | {:>9.1f} | {:>11.1f} ", r.name, median(r.pop_rates) / 1e6,
                   median(r.drain_rates) / 1e6);
    } else {
        fmt::print("{:<29} | {:>9} | {:>11} ", r.name, "-", "-");
    }
    fmt::print("| {:>7} | {:>7} | {:>7} | {:>9}\n", median_of(r, &core::latency_summary::p50),
               median_of(r, &core::latency_summary::p99),
               median_of(r, &core::latency_summary::p999), r.all_round_trips->max());
}

double ratio(double a, double b) {
    return b > 0 ? a / b : 0.0;
}

template <class T> void print_rows(const element_rows<T>& rows, const row& floor) {
    fmt::print("\n{} ({} B element, {} B spsc_ring slot, {} items per throughput run)\n", rows.name,
               sizeof(T), core::spsc_ring<T, ring_slots>::slot_bytes, rows.items);
    print_header();
    print_row(floor, false);
    print_row(rows.in_place, true);
    print_row(rows.copy, true);
    print_row(rows.boost, true);
    if constexpr (element_rows<T>::has_depth_row) {
        print_row(rows.with_depth, true);
    }
    const auto floor_p50 = static_cast<double>(median_of(floor, &core::latency_summary::p50));
    const auto in_place_p50 =
        static_cast<double>(median_of(rows.in_place, &core::latency_summary::p50));
    const auto in_place_p99 =
        static_cast<double>(median_of(rows.in_place, &core::latency_summary::p99));
    const auto floor_p99 = static_cast<double>(median_of(floor, &core::latency_summary::p99));
    fmt::print("goal rtt <= 1.15x floor:  in place p50 {:.2f}x, p99 {:.2f}x\n",
               ratio(in_place_p50, floor_p50), ratio(in_place_p99, floor_p99));
    fmt::print("goal >= 1.5x boost:       in place pop {:.2f}x, drain {:.2f}x (copy: {:.2f}x, "
               "{:.2f}x)\n",
               ratio(median(rows.in_place.pop_rates), median(rows.boost.pop_rates)),
               ratio(median(rows.in_place.drain_rates), median(rows.boost.drain_rates)),
               ratio(median(rows.copy.pop_rates), median(rows.boost.pop_rates)),
               ratio(median(rows.copy.drain_rates), median(rows.boost.drain_rates)));
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

    fmt::print("{} slots per ring, producer CPU {}, consumer CPU {}, clock: {} ({:.3f} GHz)\n",
               ring_slots, options.producer_cpu, options.consumer_cpu,
               std::string_view(core::describe(clock.status())), clock.ticks_per_second() / 1e9);
    if (options.producer_cpu >= 0 && options.producer_cpu == options.consumer_cpu) {
        fmt::print("note: both threads share one CPU; round trips include context switches\n");
    }
    report_pinning("producer", options.producer_cpu);
    report_pinning("consumer", options.consumer_cpu);
    fmt::print("round trip: {} per run after {} warm-up; {} runs, alternating order\n", round_trips,
               warmup_round_trips, repetitions);
    std::fflush(stdout);

    row floor{"floor: cache-line ping-pong"};
    element_rows<line_item> lines{"one-line item", items};
    // md_event is two lines: half the items keeps the run about as long.
    element_rows<md::md_event> events{"md::md_event", std::max<std::uint64_t>(10'000, items / 2)};
    for (int rep = 0; rep < repetitions; ++rep) {
        run_floor_once(floor, round_trips, clock, options);
        if (rep % 2 == 0) {
            lines.run(rep, round_trips, clock, options);
            events.run(rep, round_trips, clock, options);
        } else {
            events.run(rep, round_trips, clock, options);
            lines.run(rep, round_trips, clock, options);
        }
    }

    print_rows(lines, floor);
    print_rows(events, floor);
    fmt::print("\npop: one pop per event (in place: consume; copy: try_pop; boost: consume_one); "
               "drain: pop_batch/consume_all per poll. Mit/s and rtt percentiles (ns) are medians "
               "over the {} runs; rtt max is over all runs.\n",
               repetitions);
    int status = 0;
    for (const row* r : {&floor, &lines.in_place, &lines.copy, &lines.boost, &events.in_place,
                         &events.copy, &events.boost, &events.with_depth}) {
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
