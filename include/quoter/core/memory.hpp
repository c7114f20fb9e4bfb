// Hints to the kernel about buffers the hot path fills, given once when they are set up.
#pragma once

#include <cstddef>

namespace quoter::core {

/// Bytes of one transparent huge page on x86-64 Linux.
inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

/// Asks the kernel to back [data, data + bytes) with transparent huge pages where it can (the
/// whole 2 MB pages inside the range). A buffer written over a long run then costs one page
/// fault per 2 MB instead of one per 4 KB; faults are dear, above all in a virtual machine.
/// A hint: on systems whose huge pages are off, outside Linux, or for a buffer smaller than a
/// huge page it does nothing. Returns whether the kernel took it. One system call: for
/// set-up, not the hot path.
bool advise_huge_pages(void* data, std::size_t bytes) noexcept;

} // namespace quoter::core
