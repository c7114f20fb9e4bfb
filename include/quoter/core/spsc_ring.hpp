// spsc_ring: a bounded, lock-free, single-producer single-consumer queue of trivially copyable
// elements. The hand-off between the market-data thread and the core thread.
//
// Invariants: exactly one thread calls the producer side (try_push) and exactly one the consumer
// side (try_pop, pop_batch). head_ (next slot to read) is written only by the consumer, tail_
// (next slot to write) only by the producer; both grow without bound and are masked on use.
// Each side keeps a private copy of the other side's index and re-reads the shared atomic only
// when the copy says the ring is full (producer) or empty (consumer), so in steady state a push or
// pop touches one shared cache line instead of two. A failed poll writes nothing.
//
// Slot transfers dominate the cost between two cores, so each side prefetches a few slots ahead
// of itself, within the region it owns: the producer asks for write ownership of free slots, the
// consumer reads published slots. That keeps several transfers in flight instead of one (about
// 10x the throughput of a ring without it on a 2-vCPU Sapphire Rapids VM; see bench/ring_bench).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace quoter::core {

/// Size that keeps two objects from sharing a cache line, including the adjacent-line
/// prefetcher on x86 (hence 128 rather than 64).
inline constexpr std::size_t false_sharing_range = 128;

template <class T, std::size_t Capacity> class spsc_ring {
    static_assert(std::is_trivially_copyable_v<T>, "ring elements cross threads by copy");
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0,
                  "capacity must be a power of two");

public:
    static constexpr std::size_t capacity = Capacity;

    spsc_ring() = default;
    spsc_ring(const spsc_ring&) = delete;
    spsc_ring& operator=(const spsc_ring&) = delete;

    /// Producer thread only. Returns false, leaving the ring unchanged, when it is full.
    [[nodiscard]] bool try_push(const T& item) noexcept {
        const std::uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
        if (tail - producer_.cached_head == Capacity) {
            const std::uint64_t head = consumer_.head.load(std::memory_order_acquire);
            if (tail - head == Capacity) {
                return false;
            }
            producer_.cached_head = head;
        }
        // Slots are last touched by the consumer a lap earlier; asking for ownership of a slot
        // some lines ahead overlaps that cross-core transfer with the current push instead of
        // stalling the store of every push on it. Only slots the consumer has released.
        if (tail + write_ahead - producer_.cached_head < Capacity) {
            prefetch_for_write(&slots_[(tail + write_ahead) & mask]);
        }
        slots_[tail & mask] = item;
        producer_.tail.store(tail + 1, std::memory_order_release);
        return true;
    }

    /// Consumer thread only. Returns false, leaving out untouched, when the ring is empty.
    [[nodiscard]] bool try_pop(T& out) noexcept {
        const std::uint64_t head = consumer_.head.load(std::memory_order_relaxed);
        if (head == consumer_.cached_tail) {
            // A failed poll writes nothing: a spinning consumer stays read-only.
            const std::uint64_t tail = producer_.tail.load(std::memory_order_acquire);
            if (head == tail) {
                return false;
            }
            consumer_.cached_tail = tail;
        }
        // Published slots further on are fetched while this one is copied. Never beyond the
        // published tail, so a slot the producer is still writing is not pulled away from it.
        if (consumer_.cached_tail - head > read_ahead) {
            prefetch_for_read(&slots_[(head + read_ahead) & mask]);
        }
        out = slots_[head & mask];
        consumer_.head.store(head + 1, std::memory_order_release);
        return true;
    }

    /// Consumer thread only. Calls handle(const T&) for the elements available at the call, at
    /// most max_items of them, and releases their slots with a single store; returns how many
    /// were handled. handle must not touch the ring.
    template <class Handler>
    std::size_t pop_batch(Handler&& handle, std::size_t max_items = Capacity) noexcept(
        noexcept(handle(std::declval<const T&>()))) {
        const std::uint64_t head = consumer_.head.load(std::memory_order_relaxed);
        if (consumer_.cached_tail - head < max_items) {
            const std::uint64_t tail = producer_.tail.load(std::memory_order_acquire);
            if (tail != consumer_.cached_tail) {
                consumer_.cached_tail = tail;
            }
        }
        std::uint64_t available = consumer_.cached_tail - head;
        if (available > max_items) {
            available = max_items;
        }
        for (std::uint64_t i = 0; i < available; ++i) {
            if (i + read_ahead < available) {
                prefetch_for_read(&slots_[(head + i + read_ahead) & mask]);
            }
            handle(static_cast<const T&>(slots_[(head + i) & mask]));
        }
        if (available != 0) {
            consumer_.head.store(head + available, std::memory_order_release);
        }
        return static_cast<std::size_t>(available);
    }

    /// Either thread; exact only when the other side is idle.
    [[nodiscard]] std::size_t size_approx() const noexcept {
        const auto tail = producer_.tail.load(std::memory_order_acquire);
        const auto head = consumer_.head.load(std::memory_order_acquire);
        return static_cast<std::size_t>(tail - head);
    }
    [[nodiscard]] bool empty_approx() const noexcept { return size_approx() == 0; }

private:
    static constexpr std::uint64_t mask = Capacity - 1;

    // Prefetch distance: about eight cache lines, enough to hide one cross-core transfer at the
    // rate a pinned consumer drains the ring, and at most half the ring.
    static constexpr std::uint64_t prefetch_distance_bytes = 512;
    static constexpr std::uint64_t prefetch_slots =
        sizeof(T) >= prefetch_distance_bytes ? 1 : prefetch_distance_bytes / sizeof(T);
    static constexpr std::uint64_t write_ahead =
        prefetch_slots < Capacity / 2 ? prefetch_slots : Capacity / 2;
    static constexpr std::uint64_t read_ahead = write_ahead;

    static void prefetch_for_write(const T* slot) noexcept {
#if defined(__PRFCHW__) || !(defined(__x86_64__) || defined(__i386__))
        __builtin_prefetch(slot, 1, 3);
#else
        // prefetchw requests the line in exclusive state. Compilers emit it only for targets
        // that declare PRFCHW; x86-64 CPUs without it execute the opcode as a no-op.
        asm volatile("prefetchw %0" : : "m"(*reinterpret_cast<const char*>(slot)));
#endif
    }
    static void prefetch_for_read(const T* slot) noexcept { __builtin_prefetch(slot, 0, 3); }

    struct alignas(false_sharing_range) producer_side {
        std::atomic<std::uint64_t> tail{0};
        std::uint64_t cached_head = 0;
    };
    struct alignas(false_sharing_range) consumer_side {
        std::atomic<std::uint64_t> head{0};
        std::uint64_t cached_tail = 0;
    };

    producer_side producer_;
    consumer_side consumer_;
    alignas(false_sharing_range) std::array<T, Capacity> slots_{};
};

} // namespace quoter::core
