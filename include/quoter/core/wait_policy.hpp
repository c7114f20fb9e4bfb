// wait_policy: what the core thread does when a poll of its inputs found nothing.
//
//   spin  - busy-poll: one `pause` and back to polling. Lowest latency; burns its CPU.
//   yield - sched_yield(): gives the CPU to another runnable thread, else returns at once.
//   block - sleeps in the kernel (futex) until the producer publishes or a deadline passes.
//
// Blocking without slowing the producer: the consumer announces that it is going to sleep
// (sleeping_ = 1), re-checks its inputs, and only then waits on the epoch word it read before
// the announcement. The producer, after publishing, checks sleeping_ and makes the wake-up system
// call only when it is set, so while the consumer is awake a notify costs one atomic
// read-modify-write on a line the consumer writes only when it goes to sleep. Both sides use a
// read-modify-write of sleeping_ (so they are ordered in its modification order), so a publish
// the consumer's re-check missed is always seen by the producer's check: no lost wake-up.
// A producer whose consumer never blocks (spin, yield) skips notify(): its publish stays a store.
//
// Thread ownership: one producer thread calls notify(); one consumer thread calls wait_for() and
// idle_waiter::idle(). Linux only (futex); elsewhere block degrades to a bounded yield loop.
#pragma once

#include "quoter/core/cpu.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <thread>

#if defined(__linux__)
#include <cerrno>
#include <ctime>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace quoter::core {

enum class idle_policy : std::uint8_t { spin, yield, block };

/// "spin", "yield" or "block".
[[nodiscard]] constexpr std::string_view to_string(idle_policy policy) noexcept {
    switch (policy) {
    case idle_policy::spin:
        return "spin";
    case idle_policy::yield:
        return "yield";
    case idle_policy::block:
        return "block";
    }
    return "unknown";
}

/// The producer → consumer wake-up of the block policy; see the file comment.
class alignas(64) wakeup {
public:
    /// Producer thread, after publishing: wakes the consumer if it announced it is sleeping.
    void notify() noexcept {
        // A read-modify-write reads the latest value of sleeping_: either it sees the consumer's
        // announcement, or the announcement comes later and acquires this publish with it.
        if (sleeping_.fetch_or(0, std::memory_order_seq_cst) == 0) {
            return;
        }
        epoch_.fetch_add(1, std::memory_order_release);
        ++wakes_;
#if defined(__linux__)
        syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, 1,
                nullptr, nullptr, 0);
#endif
    }

    /// Consumer thread. Sleeps until notify() or until timeout_ns passed, unless ready() (the
    /// consumer's re-check of its inputs, e.g. the ring's front() != nullptr) holds after the
    /// announcement. Returns false only when the wait ran into its timeout. May also return early
    /// (a signal, a spurious wake-up): callers poll again either way.
    template <class Ready> bool wait_for(Ready&& ready, std::int64_t timeout_ns) noexcept {
        const std::uint32_t epoch = epoch_.load(std::memory_order_acquire);
        sleeping_.exchange(1, std::memory_order_seq_cst);
        bool woken = true;
        if (!ready()) {
            woken = sleep(epoch, timeout_ns);
        }
        sleeping_.store(0, std::memory_order_relaxed);
        return woken;
    }

    /// Wake-up system calls the producer made (producer thread; for tests and stats).
    [[nodiscard]] std::uint64_t wakes_sent() const noexcept {
        return wakes_;
    }

private:
    bool sleep(std::uint32_t epoch, std::int64_t timeout_ns) noexcept {
        if (timeout_ns <= 0) {
            return false;
        }
#if defined(__linux__)
        const timespec timeout{.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000),
                               .tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000)};
        const long rc = syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_),
                                FUTEX_WAIT_PRIVATE, epoch, &timeout, nullptr, 0);
        return !(rc != 0 && errno == ETIMEDOUT);
#else
        const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout_ns);
        while (epoch_.load(std::memory_order_acquire) == epoch) {
            if (std::chrono::steady_clock::now() >= until) {
                return false;
            }
            std::this_thread::yield();
        }
        return true;
#endif
    }

    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
                  "the futex word is the atomic's storage");
    std::atomic<std::uint32_t> epoch_{0};    ///< Bumped by the producer on each wake-up.
    std::atomic<std::uint32_t> sleeping_{0}; ///< 1 while the consumer is in wait_for.
    alignas(64) std::uint64_t wakes_ = 0;    ///< Producer thread only.
};

/// The consumer's side of a policy: call idle() after a poll that found nothing.
class idle_waiter {
public:
    /// signal is required for block (the producer must call its notify()), unused otherwise.
    explicit idle_waiter(idle_policy policy, wakeup* signal = nullptr) noexcept
        : policy_(signal == nullptr && policy == idle_policy::block ? idle_policy::yield : policy),
          signal_(signal) {}

    [[nodiscard]] idle_policy policy() const noexcept { return policy_; }

    /// Consumer thread. ready: re-checks the inputs (block only); max_wait_ns: the longest the
    /// thread may stay away, e.g. until its next timer (block only).
    template <class Ready> void idle(Ready&& ready, std::int64_t max_wait_ns) noexcept {
        switch (policy_) {
        case idle_policy::spin:
            cpu_relax();
            return;
        case idle_policy::yield:
#if defined(__linux__)
            sched_yield();
#else
            std::this_thread::yield();
#endif
            return;
        case idle_policy::block:
            (void)signal_->wait_for(ready, max_wait_ns);
            return;
        }
    }

private:
    idle_policy policy_;
    wakeup* signal_;
};

} // namespace quoter::core
