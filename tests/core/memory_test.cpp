// The huge-page hint, checked against the kernel's own view: after advise_huge_pages() on a
// buffer, /proc/self/smaps marks the mapping that holds it eligible for transparent huge pages
// (when the machine has them on at all). Buffers too small to hold a huge page, and no buffer,
// are left alone.
#include "quoter/core/memory.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

using namespace quoter::core;

namespace {

/// The machine's transparent huge page mode ("always", "madvise", "never"), or "" without one.
std::string huge_page_mode() {
    std::ifstream file("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string line;
    std::getline(file, line);
    const auto open = line.find('[');
    const auto close = line.find(']');
    if (open == std::string::npos || close == std::string::npos || close < open) {
        return {};
    }
    return line.substr(open + 1, close - open - 1);
}

/// The "THPeligible" value of the mapping holding address in /proc/self/smaps, or -1.
int huge_page_eligible(const void* address) {
    const auto wanted = reinterpret_cast<std::uintptr_t>(address);
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        std::uintptr_t begin = 0;
        std::uintptr_t end = 0;
        char dash = 0;
        std::istringstream range(line);
        if (range >> std::hex >> begin >> dash >> end && dash == '-') {
            inside = begin <= wanted && wanted < end;
            continue;
        }
        if (inside && line.rfind("THPeligible:", 0) == 0) {
            return std::stoi(line.substr(12));
        }
    }
    return -1;
}

} // namespace

TEST_CASE("advise_huge_pages leaves no buffer and small buffers alone", "[core][memory]") {
    CHECK_FALSE(advise_huge_pages(nullptr, 64 * huge_page_bytes));
    auto small = std::make_unique<std::byte[]>(huge_page_bytes / 2);
    CHECK_FALSE(advise_huge_pages(small.get(), huge_page_bytes / 2));
    CHECK_FALSE(advise_huge_pages(small.get(), 0));
}

TEST_CASE("advise_huge_pages makes a large buffer eligible for huge pages", "[core][memory]") {
    const std::string mode = huge_page_mode();
    if (mode.empty() || mode == "never") {
        WARN("transparent huge pages are off on this machine (mode '" << mode
                                                                      << "'): nothing to check");
        return;
    }
    constexpr std::size_t bytes = 8 * huge_page_bytes;
    // Not value-initialised: the pages are first touched after the advice, as a run's are.
    std::unique_ptr<std::byte[]> buffer(new std::byte[bytes]);
    REQUIRE(advise_huge_pages(buffer.get(), bytes));
    for (std::size_t i = 0; i < bytes; i += 4096) {
        buffer[i] = std::byte{1};
    }
    CHECK(huge_page_eligible(buffer.get() + bytes / 2) == 1);
    // The buffer is still ordinary memory.
    CHECK(buffer[bytes - 4096] == std::byte{1});
}
