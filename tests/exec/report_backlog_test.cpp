// report_backlog: reports the ring to the core had no room for are kept in order and handed over
// before any later one; past the backlog's capacity a report is lost and said so.
#include "quoter/exec/report_backlog.hpp"

#include "quoter/core/spsc_ring.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

namespace {

using namespace quoter;
using namespace quoter::exec;

exec_report numbered(std::uint64_t id) {
    exec_report report;
    report.kind = exec_kind::partial_fill;
    report.client_id = client_order_id{id};
    return report;
}

/// Everything the ring holds, in order.
template <class Ring> std::vector<std::uint64_t> drain(Ring& ring) {
    std::vector<std::uint64_t> ids;
    (void)ring.pop_batch([&](const exec_report& r) { ids.push_back(r.client_id.value); });
    return ids;
}

/// What the core sees as it takes everything the ring holds, the backlog moving on each time,
/// until both are empty.
template <class Ring> std::vector<std::uint64_t> drain_all(Ring& ring, report_backlog& backlog) {
    std::vector<std::uint64_t> ids;
    while (backlog.size() > 0 || ring.front() != nullptr) {
        const std::vector<std::uint64_t> more = drain(ring);
        ids.insert(ids.end(), more.begin(), more.end());
        (void)backlog.flush(ring);
    }
    return ids;
}

} // namespace

TEST_CASE("reports the ring has no room for wait, in order, and go before any later one",
          "[report_backlog]") {
    core::spsc_ring<exec_report, 4> ring;
    report_backlog backlog(8);
    for (std::uint64_t id = 1; id <= 10; ++id) {
        REQUIRE(backlog.deliver(ring, numbered(id)));
    }
    CHECK(backlog.size() == 10 - decltype(ring)::capacity);
    // The core takes what the ring holds; the backlog moves on first, then the next report.
    std::vector<std::uint64_t> seen = drain(ring);
    REQUIRE(backlog.deliver(ring, numbered(11)));
    const std::vector<std::uint64_t> rest = drain_all(ring, backlog);
    seen.insert(seen.end(), rest.begin(), rest.end());
    REQUIRE(seen.size() == 11);
    for (std::size_t i = 0; i < seen.size(); ++i) {
        CHECK(seen[i] == i + 1);
    }
}

TEST_CASE("past its capacity a report is lost and said so; the ones kept still come in order",
          "[report_backlog]") {
    core::spsc_ring<exec_report, 2> ring;
    report_backlog backlog(3);
    for (std::uint64_t id = 1; id <= 5; ++id) {
        REQUIRE(backlog.deliver(ring, numbered(id)));
    }
    CHECK_FALSE(backlog.deliver(ring, numbered(6)));
    CHECK(backlog.size() == backlog.capacity());
    CHECK(drain_all(ring, backlog) == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
}
