// Replaces the global operator new and delete (every form, aligned ones included) with versions
// that report each allocation to quoter::test::count_allocation(), which the including test
// defines: how allocations are charged (one counter, per thread) is the test's business.
//
// Include it in exactly one translation unit of a test program: replacing the global allocation
// functions affects the whole binary, so such a test is a program of its own.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace quoter::test {

/// Called on every allocation through operator new, on the allocating thread. Defined by the
/// test that includes this header; must not allocate.
void count_allocation() noexcept;

namespace detail {

inline void* counted(std::size_t size) noexcept {
    count_allocation();
    return std::malloc(size == 0 ? 1 : size);
}

inline void* counted_aligned(std::size_t size, std::align_val_t align) noexcept {
    count_allocation();
    const auto alignment = static_cast<std::size_t>(align);
    const std::size_t rounded = (size + alignment - 1) / alignment * alignment;
    return std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
}

} // namespace detail
} // namespace quoter::test

// Every form, so that whatever a library allocates with it frees with a match.
void* operator new(std::size_t size) {
    if (void* p = quoter::test::detail::counted(size)) {
        return p;
    }
    throw std::bad_alloc{};
}
void* operator new[](std::size_t size) {
    if (void* p = quoter::test::detail::counted(size)) {
        return p;
    }
    throw std::bad_alloc{};
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return quoter::test::detail::counted(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return quoter::test::detail::counted(size);
}
void* operator new(std::size_t size, std::align_val_t align) {
    if (void* p = quoter::test::detail::counted_aligned(size, align)) {
        return p;
    }
    throw std::bad_alloc{};
}
void* operator new[](std::size_t size, std::align_val_t align) {
    if (void* p = quoter::test::detail::counted_aligned(size, align)) {
        return p;
    }
    throw std::bad_alloc{};
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
