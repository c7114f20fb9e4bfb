// The market-data hot path allocates nothing once warmed up: a real capture is replayed through
// feed_handler (decode + book_sync + md_publisher) into an spsc_ring on an md thread, with the
// books' depth through the depth hand-off (depth_sender, a depth ring, depth_receiver), while a
// consumer thread reads the events in place. Counting hooks on the global operator new (every
// form) and, in builds without ASan/TSan (which own malloc themselves), on malloc/calloc/realloc
// count the allocations of those two threads after the warm-up; the test requires zero.
//
// A program of its own: replacing the global allocation functions affects the whole binary.
// Needs the captures in ../shared/data/binance (or QUOTER_DATA_DIR); without them it is skipped
// with a warning, and fails when the CI environment variable is set.
#include "quoter/core/spsc_ring.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/md/depth_handoff.hpp"
#include "quoter/md/exchange_info.hpp"
#include "quoter/md/feed_handler.hpp"
#include "quoter/md/publisher.hpp"
#include "support/capture_data.hpp"
#include "support/counting_allocator.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace {

/// Which thread an allocation is charged to; set by the threads under test.
enum class counted_thread : std::uint8_t { none, md, consumer };
thread_local counted_thread current_thread = counted_thread::none;
std::atomic<std::uint64_t> md_allocations{0};
std::atomic<std::uint64_t> consumer_allocations{0};

void count_thread_allocation() noexcept {
    switch (current_thread) {
    case counted_thread::none:
        return;
    case counted_thread::md:
        md_allocations.fetch_add(1, std::memory_order_relaxed);
        return;
    case counted_thread::consumer:
        consumer_allocations.fetch_add(1, std::memory_order_relaxed);
        return;
    }
}

} // namespace

void quoter::test::count_allocation() noexcept {
    count_thread_allocation();
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool malloc_counted = false;
#elif defined(__GLIBC__)
constexpr bool malloc_counted = true;
// glibc's own entry points, so that the hooks can forward without recursing.
extern "C" void* __libc_malloc(std::size_t size);
extern "C" void* __libc_calloc(std::size_t count, std::size_t size);
extern "C" void* __libc_realloc(void* p, std::size_t size);
extern "C" void* malloc(std::size_t size) {
    count_thread_allocation();
    return __libc_malloc(size);
}
extern "C" void* calloc(std::size_t count, std::size_t size) {
    count_thread_allocation();
    return __libc_calloc(count, size);
}
extern "C" void* realloc(void* p, std::size_t size) {
    count_thread_allocation();
    return __libc_realloc(p, size);
}
#else
constexpr bool malloc_counted = false;
#endif

using namespace quoter;
using namespace quoter::md;

namespace {

// Lines of the capture replayed; the first warmup_lines are not counted (books, buffers and
// counters reach their working size there).
constexpr std::size_t replayed_lines = 200'000;
constexpr std::size_t warmup_lines = 10'000;
constexpr std::size_t ring_capacity = 1U << 12U;

/// The capture's lines, each followed by message_padding readable bytes, loaded up front so that
/// the md thread does what it does live: decode, sync, publish.
struct loaded_capture {
    std::string bytes;
    struct line {
        core::timestamp_ns local_ns;
        std::size_t offset;
        std::size_t size;
    };
    std::vector<line> lines;

    [[nodiscard]] padded_view view(const line& l) const noexcept {
        return {bytes.data() + l.offset, l.size, l.size + message_padding};
    }
};

loaded_capture load(const std::string& path, std::size_t max_lines) {
    loaded_capture out;
    gzip_line_reader reader;
    REQUIRE(reader.open(path).has_value());
    capture_line line;
    while (out.lines.size() < max_lines && reader.next(line)) {
        out.lines.push_back({line.local_ns, out.bytes.size(), line.json.size()});
        out.bytes.append(line.json);
        out.bytes.append(message_padding, ' ');
    }
    return out;
}

struct consumer_result {
    std::uint64_t events = 0;
    std::uint64_t valid_books = 0;
    std::uint64_t with_depth = 0;
    std::uint64_t depth_mismatches = 0;
    std::uint64_t out_of_order = 0;
    std::int64_t last_bid_ticks = 0;
};

} // namespace

TEST_CASE("the md thread and its consumer allocate nothing after warm-up", "[no_alloc][data]") {
    const std::string dir = test::require_captures({"spot-btcusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    const auto info = load_exchange_info_file(
        QUOTER_SOURCE_DIR "/tests/md/data/exchange_info_spot.json", market::spot);
    REQUIRE(info.has_value());
    symbol_registry registry;
    const std::array<std::string_view, 1> names{"BTCUSDT"};
    REQUIRE(register_symbols(registry, *info, names).has_value());
    const loaded_capture capture = load(dir + "/spot-btcusdt-20240808.gz", replayed_lines);
    REQUIRE(capture.lines.size() > warmup_lines * 2);

    auto ring = std::make_unique<core::spsc_ring<md_event, ring_capacity>>();
    auto depths = std::make_unique<core::spsc_ring<md_depth, ring_capacity>>();
    ring_event_sink<ring_capacity> sink(*ring, *depths);
    feed_handler feed(registry, sink);
    std::atomic<bool> md_done{false};
    std::atomic<bool> consumer_counting{false};
    consumer_result consumed;

    std::thread consumer([&] {
        std::uint64_t last_sequence = 0;
        depth_receiver receiver;
        const auto handle = [&](const md_event& e) noexcept {
            ++consumed.events;
            consumed.out_of_order += static_cast<std::uint64_t>(e.sequence <= last_sequence);
            last_sequence = e.sequence;
            if (const md_depth* depth = receiver.take(e, *depths)) {
                ++consumed.with_depth;
                consumed.depth_mismatches += static_cast<std::uint64_t>(
                    depth->sequence != e.sequence || depth->bids[0] != e.top.bid);
            }
            if (e.book_valid()) {
                ++consumed.valid_books;
                consumed.last_bid_ticks = e.best_bid().px.ticks();
            }
        };
        current_thread = counted_thread::consumer;
        consumer_counting.store(true);
        for (std::uint64_t polls = 0;; ++polls) {
            // Both consumer forms: a batch, and one event read in place.
            const bool got =
                (polls & 1) != 0 ? ring->pop_batch(handle, 64) != 0 : ring->consume(handle);
            if (!got) {
                if (md_done.load(std::memory_order_acquire) && ring->front() == nullptr) {
                    break;
                }
                std::this_thread::yield();
            }
        }
        current_thread = counted_thread::none;
    });
    while (!consumer_counting.load()) {
        std::this_thread::yield();
    }

    std::thread md([&] {
        feed.on_connected(capture.lines.front().local_ns);
        for (std::size_t i = 0; i < capture.lines.size(); ++i) {
            if (i == warmup_lines) {
                current_thread = counted_thread::md;
            }
            const auto& line = capture.lines[i];
            (void)feed.on_message(capture.view(line), line.local_ns, symbol_id{0});
            // Replaying runs ahead of any consumer: pace it so that no event is dropped (a line
            // publishes at most a few events).
            while (ring->size_approx() > ring_capacity - 16 ||
                   depths->size_approx() > ring_capacity - 16) {
                std::this_thread::yield();
            }
        }
        current_thread = counted_thread::none;
        md_done.store(true, std::memory_order_release);
    });
    md.join();
    consumer.join();

    INFO("lines " << capture.lines.size() << " (" << warmup_lines << " warm-up), events "
                  << consumed.events << ", dropped by a full ring " << sink.dropped()
                  << (malloc_counted ? ", operator new and malloc counted"
                                     : ", operator new counted (sanitizer build: malloc not)"));
    CHECK(md_allocations.load() == 0);
    CHECK(consumer_allocations.load() == 0);
    // The replay did real work: the book synced and events crossed in order.
    CHECK(feed.sync(0).state() == feed_state::synced);
    CHECK(sink.dropped() == 0);
    CHECK(consumed.events > capture.lines.size() / 2);
    CHECK(consumed.valid_books > 1000);
    // Every valid book came with its depth, a record or the kept one with the event's top.
    CHECK(consumed.with_depth == consumed.valid_books);
    CHECK(consumed.depth_mismatches == 0);
    CHECK(sink.depth_sent().records() > 1000);
    CHECK(sink.depth_sent().kept_events() > 1000);
    CHECK(depths->front() == nullptr);
    CHECK(consumed.out_of_order == 0);
    CHECK(consumed.last_bid_ticks > 0);
    WARN("no_alloc: " << consumed.events << " events, " << sink.dropped() << " dropped, "
                      << (malloc_counted ? "new+malloc" : "new") << " counted");
}
