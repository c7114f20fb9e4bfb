// The kernel's receive time of WebSocket messages (SO_TIMESTAMPING through rx_socket), plain and
// TLS, against quoter-venue on 127.0.0.1: every message of a warmed-up connection carries a
// kernel stamp on the tick clock, never after its read stamp and never decreasing, the md
// service's kernel -> read histogram is fed, and reading allocates nothing after the warm-up
// (counting hooks on the global operator new, charged to the I/O thread).
//
// A program of its own: replacing the global allocation functions affects the whole binary.
#include "venue_process.hpp"

#include "quoter/core/latency_histogram.hpp"
#include "quoter/net/ws_feed.hpp"
#include "support/counting_allocator.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

using namespace quoter;
using namespace quoter::net;
using namespace std::chrono_literals;
using testing::run_until;
using testing::venue_process;

namespace {

thread_local bool io_thread = false;
std::atomic<std::uint64_t> io_allocations{0};

/// What the feed delivered, kept without allocating in the message handler.
struct stamp_checker {
    std::uint64_t messages = 0;
    std::uint64_t stamped = 0;
    std::uint64_t after_read = 0; ///< kernel_ns > read_ns: must stay 0.
    std::uint64_t backwards = 0;  ///< kernel_ns below the previous message's: must stay 0.
    /// Out of order: kernel_ns > received_ns, received_ns > read_ns, or received_ns missing.
    std::uint64_t misordered = 0;
    core::timestamp_ns last_kernel = 0;
    core::latency_histogram kernel_to_read;
    std::uint64_t allocations_at_warm = 0;
    std::uint64_t warm_after = 0; ///< Messages before the allocation count is taken.

    void on_message(const ws_message& m) {
        ++messages;
        if (messages == warm_after) {
            allocations_at_warm = io_allocations.load(std::memory_order_relaxed);
        }
        misordered += m.received_ns == 0 || m.received_ns > m.read_ns ? 1U : 0U;
        if (m.kernel_ns == 0) {
            return;
        }
        misordered += m.kernel_ns > m.received_ns ? 1U : 0U;
        ++stamped;
        after_read += m.kernel_ns > m.read_ns ? 1U : 0U;
        backwards += m.kernel_ns < last_kernel ? 1U : 0U;
        last_kernel = m.kernel_ns;
        kernel_to_read.record(m.read_ns - m.kernel_ns);
    }
};

feed_config stamp_config(const venue_process& venue) {
    feed_config config;
    config.base_url = venue.ws_url();
    config.streams = {"syn000usdt@depth@100ms", "syn000usdt@bookTicker", "syn001usdt@depth@100ms",
                      "syn001usdt@bookTicker"};
    config.tls.extra_ca_file = testing::certificates().ca;
    config.connect_timeout_ms = 5'000;
    config.stale_after_ms = 2'000;
    config.jitter_seed = 42;
    return config;
}

void check_stamps(bool tls) {
    venue_process venue({"--synthetic", "2", "--rate-hz", "200"}, tls);
    io_loop loop;
    stamp_checker seen;
    seen.warm_after = 50;
    feed_handlers handlers;
    handlers.on_message = [&seen](const ws_message& m) { seen.on_message(m); };
    ws_feed feed(loop, stamp_config(venue), std::move(handlers));
    REQUIRE(feed.start().has_value());
    io_thread = true;
    REQUIRE(run_until(
        loop, [&] { return seen.messages >= 400; }, 20s));
    io_thread = false;
    INFO("messages " << seen.messages << ", stamped " << seen.stamped);
    // Loopback TCP gets software receive stamps: every message of the connection has one.
    CHECK(seen.stamped == seen.messages);
    CHECK(feed.stats().kernel_stamped == seen.stamped);
    CHECK(seen.after_read == 0);
    CHECK(seen.backwards == 0);
    // kernel receive <= the recvmsg that brought the bytes returned <= the frame was read.
    CHECK(seen.misordered == 0);
    CHECK(seen.kernel_to_read.count() == seen.stamped);
    // From the 50th message to the 400th, the loop's thread read, framed (and decrypted) and
    // delivered without allocating.
    CHECK(io_allocations.load() - seen.allocations_at_warm == 0);
    feed.stop();
    run_until(
        loop, [&] { return feed.open_connections() == 0; }, 3s);
}

} // namespace

void quoter::test::count_allocation() noexcept {
    if (io_thread) {
        io_allocations.fetch_add(1, std::memory_order_relaxed);
    }
}

TEST_CASE("plain ws: every message carries the kernel's receive time, before its read",
          "[rx_stamp][integration]") {
    check_stamps(false);
}

TEST_CASE("TLS: every message carries the kernel's receive time, before its read",
          "[rx_stamp][integration][tls]") {
    check_stamps(true);
}
