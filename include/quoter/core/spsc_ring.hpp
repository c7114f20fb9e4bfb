// spsc_ring: a bounded, lock-free, single-producer single-consumer queue of trivially copyable
// elements. The hand-off between the market-data thread and the core thread.
//
// Invariants: exactly one thread calls the producer side (try_claim/commit, try_emplace,
// try_push) and exactly one the consumer side (front/pop, consume, try_pop, pop_batch).
// Positions grow without bound and are masked on use. Every slot carries its own sequence word:
// the producer stores position + 1 into it (release) after writing the element, so a consumer
// at position p knows the slot is published exactly when the word reads p + 1 (a slot a lap
// behind reads p + 1 - Capacity, a new ring 0). head_ (next position to read) is written only by
// the consumer, tail_ (next position to write) only by the producer.
//
// Why the sequence lives in the slot: a consumer polling a shared tail index touches two lines
// per event (the index, then the slot) and turns every push into an ownership transfer of the
// index line. Polling the slot's own word makes the published line the one that carries the data:
// when the element plus the 8-byte word fit in one cache line (elements of up to 56 bytes), an
// event is one line transfer, as in a bare ping-pong. tail_ is still stored on every push, but on
// the producer's own line; only pop_batch and size_approx read it. The producer re-reads head_
// only when its cached copy says the ring is full, so in steady state neither side writes a line
// the other one reads except the slots.
//
// In-place hand-off: try_claim returns the next free slot for the producer to build the element
// in, commit publishes it; front returns the oldest published element for the consumer to read in
// place, pop releases it. try_push and try_pop are the copying forms of the same operations.
//
// Slot transfers dominate the cost between two cores, so each side prefetches a few slots ahead
// of itself, within the region it owns: the producer asks for write ownership of slots the
// consumer released, the consumer reads slots pop_batch knows to be published. That keeps several
// transfers in flight instead of one (see bench/ring_bench).
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
    static_assert(std::is_default_constructible_v<T>, "slots hold a default element until used");
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0,
                  "capacity must be a power of two");

    /// An element and the word that says which position it holds (position + 1; 0 when new).
    /// The word follows the element so that an element of up to 56 bytes shares its line.
    struct alignas(64) slot {
        T value{};
        std::atomic<std::uint64_t> sequence{0};
    };

public:
    static constexpr std::size_t capacity = Capacity;
    /// Bytes one slot occupies: the element and its sequence word, in whole cache lines.
    static constexpr std::size_t slot_bytes = sizeof(slot);

    spsc_ring() = default;
    spsc_ring(const spsc_ring&) = delete;
    spsc_ring& operator=(const spsc_ring&) = delete;

    // ---- producer side ----

    /// Producer thread only. The next free slot, for the caller to build an element in; nullptr,
    /// leaving the ring unchanged, when the ring is full. The slot holds whatever element used it
    /// a lap earlier (or a default one): the caller overwrites what it needs. Nothing is visible
    /// to the consumer until commit(); claiming again without a commit returns the same slot.
    [[nodiscard]] T* try_claim() noexcept {
        const std::uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
        if (tail - producer_.cached_head == Capacity) {
            const std::uint64_t head = consumer_.head.load(std::memory_order_acquire);
            if (tail - head == Capacity) {
                return nullptr;
            }
            producer_.cached_head = head;
        }
        // Slots are last touched by the consumer a lap earlier; asking for ownership of a slot
        // some lines ahead overlaps that cross-core transfer with the current push instead of
        // stalling the store of every push on it. Only slots the consumer has released.
        if (tail + write_ahead - producer_.cached_head < Capacity) {
            prefetch_for_write(&slots_[(tail + write_ahead) & mask]);
        }
        return &slots_[tail & mask].value;
    }

    /// Producer thread only, after a successful try_claim(): publishes the claimed slot.
    void commit() noexcept {
        const std::uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
        slots_[tail & mask].sequence.store(tail + 1, std::memory_order_release);
        producer_.tail.store(tail + 1, std::memory_order_release);
    }

    /// Producer thread only. Calls build(T&) on the next free slot and publishes it; returns
    /// false, without calling build, when the ring is full. build must not touch the ring.
    template <class Build>
    [[nodiscard]] bool try_emplace(Build&& build) noexcept(noexcept(build(std::declval<T&>()))) {
        T* slot = try_claim();
        if (slot == nullptr) {
            return false;
        }
        build(*slot);
        commit();
        return true;
    }

    /// Producer thread only. Returns false, leaving the ring unchanged, when it is full.
    [[nodiscard]] bool try_push(const T& item) noexcept {
        T* slot = try_claim();
        if (slot == nullptr) {
            return false;
        }
        *slot = item;
        commit();
        return true;
    }

    // ---- consumer side ----

    /// Consumer thread only. The oldest published element, read in place and valid until pop();
    /// nullptr when the ring is empty. Polls only that slot's line: a failed poll writes nothing.
    [[nodiscard]] const T* front() const noexcept {
        const std::uint64_t head = consumer_.head.load(std::memory_order_relaxed);
        const slot& s = slots_[head & mask];
        if (s.sequence.load(std::memory_order_acquire) != head + 1) {
            return nullptr;
        }
        return &s.value;
    }

    /// Consumer thread only, after front() returned an element: releases its slot.
    void pop() noexcept {
        const std::uint64_t head = consumer_.head.load(std::memory_order_relaxed);
        consumer_.head.store(head + 1, std::memory_order_release);
    }

    /// Consumer thread only. Calls handle(const T&) on the oldest element in place and releases
    /// it; returns false, without calling handle, when the ring is empty. handle must not touch
    /// the ring.
    template <class Handler>
    bool consume(Handler&& handle) noexcept(noexcept(handle(std::declval<const T&>()))) {
        const T* item = front();
        if (item == nullptr) {
            return false;
        }
        handle(*item);
        pop();
        return true;
    }

    /// Consumer thread only. Returns false, leaving out untouched, when the ring is empty.
    [[nodiscard]] bool try_pop(T& out) noexcept {
        const T* item = front();
        if (item == nullptr) {
            return false;
        }
        out = *item;
        pop();
        return true;
    }

    /// Consumer thread only. Calls handle(const T&) for the elements available at the call, at
    /// most max_items of them, and releases their slots with a single store; returns how many
    /// were handled. handle must not touch the ring.
    template <class Handler>
    std::size_t pop_batch(Handler&& handle, std::size_t max_items = Capacity) noexcept(
        noexcept(handle(std::declval<const T&>()))) {
        const std::uint64_t head = consumer_.head.load(std::memory_order_relaxed);
        // A batch reads the producer's tail once, which tells how many slots are published (and
        // so which ones are safe to prefetch) without polling each slot's line first.
        // cached_tail falls behind head when elements were popped one by one since. Even the
        // tail just loaded can be behind head: the producer stores a slot's sequence before
        // tail, so front() may already have consumed a position tail does not count yet.
        std::uint64_t known = consumer_.cached_tail;
        if (known <= head || known - head < max_items) {
            known = producer_.tail.load(std::memory_order_acquire);
            consumer_.cached_tail = known;
        }
        std::uint64_t available = known > head ? known - head : 0;
        if (available > max_items) {
            available = max_items;
        }
        for (std::uint64_t i = 0; i < available; ++i) {
            if (i + read_ahead < available) {
                prefetch_for_read(&slots_[(head + i + read_ahead) & mask]);
            }
            handle(static_cast<const T&>(slots_[(head + i) & mask].value));
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
        sizeof(slot) >= prefetch_distance_bytes ? 1 : prefetch_distance_bytes / sizeof(slot);
    static constexpr std::uint64_t write_ahead =
        prefetch_slots < Capacity / 2 ? prefetch_slots : Capacity / 2;
    static constexpr std::uint64_t read_ahead = write_ahead;

    static void prefetch_for_write(const slot* s) noexcept {
#if defined(__PRFCHW__) || !(defined(__x86_64__) || defined(__i386__))
        __builtin_prefetch(s, 1, 3);
#else
        // prefetchw requests the line in exclusive state. Compilers emit it only for targets
        // that declare PRFCHW; x86-64 CPUs without it execute the opcode as a no-op.
        asm volatile("prefetchw %0" : : "m"(*reinterpret_cast<const char*>(s)));
#endif
    }
    static void prefetch_for_read(const slot* s) noexcept {
        __builtin_prefetch(s, 0, 3);
    }

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
    alignas(false_sharing_range) std::array<slot, Capacity> slots_{};
};

} // namespace quoter::core
