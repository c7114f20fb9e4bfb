// window_counter: how many events happened within a sliding time window, in O(1) time and fixed
// memory, on injected time (no clock reads).
//
// The window is cut into Buckets buckets of width ceil(window / Buckets), aligned to multiples of
// the width, and Buckets + 1 of them are kept. The count is conservative: every event newer than
// `now - window` is counted, and an event is forgotten between `window` and `window + width`
// after it happened, never earlier. A limiter built on it can therefore never let more than its
// limit through in any window of the configured length.
//
// Invariants: total_ equals the sum of slots_; slots_[head_] is the bucket that ends at
// next_start_. Time that goes backwards is treated as the current bucket.
#pragma once

#include "quoter/core/time.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace quoter::core {

template <std::size_t Buckets> class window_counter {
    static_assert(Buckets >= 1);

public:
    static constexpr std::size_t slot_count = Buckets + 1;

    constexpr window_counter() noexcept = default;
    /// window: length of the sliding window in nanoseconds (at least 1).
    constexpr explicit window_counter(core::duration_ns window) noexcept
        : width_(window >= static_cast<core::duration_ns>(Buckets)
                     ? (window + static_cast<core::duration_ns>(Buckets) - 1) /
                           static_cast<core::duration_ns>(Buckets)
                     : 1) {}

    /// Events counted in the window that ends at now.
    [[nodiscard]] constexpr std::uint64_t count(core::timestamp_ns now) noexcept {
        advance(now);
        return total_;
    }

    /// Records n events at now.
    constexpr void add(core::timestamp_ns now, std::uint32_t n = 1) noexcept {
        advance(now);
        slots_[head_] += n;
        total_ += n;
    }

    /// Records n events in the current bucket, the one the latest count() or add() moved to:
    /// add(now, n) right after count(now) at the same now, which would find the counter there
    /// already (after advance(now), now < next_start_ always holds), without looking again.
    constexpr void add_counted(std::uint32_t n = 1) noexcept {
        slots_[head_] += n;
        total_ += n;
    }

    /// count(now) right after count() or add() at the same now, without looking at the time
    /// again (see add_counted).
    [[nodiscard]] constexpr std::uint64_t counted() const noexcept { return total_; }

    /// Records one event at now if that keeps the count at or below limit; returns whether it did.
    [[nodiscard]] constexpr bool try_add(core::timestamp_ns now, std::uint64_t limit) noexcept {
        advance(now);
        if (total_ >= limit) {
            return false;
        }
        ++slots_[head_];
        ++total_;
        return true;
    }

    constexpr void reset() noexcept {
        slots_ = {};
        total_ = 0;
    }

    /// Earliest time at which count() may differ from its value now without an add(): when the
    /// oldest bucket leaves the window. Never, while nothing is counted.
    [[nodiscard]] constexpr core::timestamp_ns next_drop() const noexcept {
        return total_ == 0 ? std::numeric_limits<core::timestamp_ns>::max() : next_start_;
    }

    /// Earliest time at which count() is at most n without an add(): now's state, its oldest
    /// buckets leaving the window in turn. The count never rises without an add(), so before
    /// this time it stays above n. The minimum timestamp when it is at most n already.
    [[nodiscard]] constexpr core::timestamp_ns
    earliest_count_at_most(std::uint64_t n) const noexcept {
        if (total_ <= n) {
            return std::numeric_limits<core::timestamp_ns>::min();
        }
        std::uint64_t left = total_;
        // advance() drops the slot after head_ at next_start_, the one after it a width later,
        // and so on around the ring; head_'s own slot goes last.
        for (std::size_t k = 0; k < slot_count; ++k) {
            left -= slots_[(head_ + 1 + k) % slot_count];
            if (left <= n) {
                return next_start_ + static_cast<core::duration_ns>(k) * width_;
            }
        }
        return next_start_ + static_cast<core::duration_ns>(slot_count - 1) * width_;
    }

    /// Calls f(bucket_start, events) for every bucket holding events, oldest first: what a
    /// restart must remember. add(bucket_start, events) for each, in this order, on a fresh
    /// counter of the same window puts every event back in its bucket (buckets are aligned to
    /// multiples of the width), so it is forgotten when it would have been.
    template <class F> constexpr void for_each_bucket(F&& f) const {
        for (std::size_t age = slot_count; age-- > 0;) {
            const std::size_t slot = (head_ + slot_count - age) % slot_count;
            if (slots_[slot] != 0) {
                const core::timestamp_ns end =
                    next_start_ - static_cast<core::duration_ns>(age) * width_;
                f(end - width_, slots_[slot]);
            }
        }
    }

    /// Counts other's events too, each in its own bucket: afterwards this counter counts as one
    /// that had recorded both histories would (the same window: buckets are aligned to multiples
    /// of the width, so equal starts are the same bucket). Both bucket lists are put back oldest
    /// first, as for_each_bucket() describes.
    constexpr void absorb(const window_counter& other) noexcept {
        std::array<bucket, slot_count> mine{};
        std::array<bucket, slot_count> theirs{};
        const std::size_t mine_count = buckets(mine);
        const std::size_t their_count = other.buckets(theirs);
        const core::duration_ns width = width_;
        *this = window_counter{};
        width_ = width;
        std::size_t i = 0;
        std::size_t j = 0;
        while (i < mine_count || j < their_count) {
            const bool take_mine =
                j == their_count || (i < mine_count && mine[i].start <= theirs[j].start);
            const bucket& next = take_mine ? mine[i++] : theirs[j++];
            add(next.start, next.events);
        }
    }

    /// Bucket width in nanoseconds.
    [[nodiscard]] constexpr core::duration_ns bucket_width() const noexcept { return width_; }

private:
    struct bucket {
        core::timestamp_ns start = 0;
        std::uint32_t events = 0;
    };
    /// The buckets holding events, oldest first; returns how many.
    constexpr std::size_t buckets(std::array<bucket, slot_count>& out) const noexcept {
        std::size_t n = 0;
        for_each_bucket([&](core::timestamp_ns start, std::uint32_t events) {
            out[n++] = {start, events};
        });
        return n;
    }

    constexpr void advance(core::timestamp_ns now) noexcept {
        if (now < next_start_) {
            return; // the common case: still inside the current bucket
        }
        const core::duration_ns late = now - next_start_;
        if (late >= width_ * static_cast<core::duration_ns>(slot_count - 1)) {
            // Every slot is out of the window: clear them, one division to realign.
            slots_ = {};
            total_ = 0;
            next_start_ = now - late % width_ + width_;
            return;
        }
        // At most slot_count - 1 steps, with no division on this path.
        do {
            head_ = head_ + 1 == slot_count ? 0 : head_ + 1;
            total_ -= slots_[head_];
            slots_[head_] = 0;
            next_start_ += width_;
        } while (now >= next_start_);
    }

    std::array<std::uint32_t, slot_count> slots_{};
    std::uint64_t total_ = 0;
    core::timestamp_ns next_start_ = 0;
    core::duration_ns width_ = 1;
    std::size_t head_ = 0;
};

} // namespace quoter::core
