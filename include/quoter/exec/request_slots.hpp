// request_slots: a Binance gateway's requests awaiting an answer, found by request id.
//
// A request id's home slot is id % Capacity. A request whose home slot is taken by one still
// waiting goes to the next free slot after it, so a request that waits long (an answer the venue
// delays, a placement whose outcome is unknown) is never overwritten once ids wrap round the
// table. A lookup probes no further than the longest displacement of a waiting request, which is
// 0 while no request had to move.
//
// A slot is free while its request's `active` is false: the owner clears the flag when the
// request is resolved, and sets it when the request goes out. claim() returns nullptr when every
// slot waits; the owner then does not send. Since the owner clears flags itself, the table knows
// how many requests wait only as of its last recount() (which also brings the lookup's reach
// back down), plus every claim since: has_room() keeps slots for the owner's own requests.
//
// One thread only. No allocation after construction, no exceptions.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace quoter::exec {

template <class Request, std::size_t Capacity> class request_slots {
    static_assert(Capacity > 0 && (Capacity & (Capacity - 1)) == 0,
                  "a power of two, so the home slot is a mask");

public:
    /// The waiting request with this id, or nullptr (answered, given up, or never sent).
    [[nodiscard]] Request* find(std::uint64_t id) noexcept {
        for (std::size_t probe = 0; probe <= longest_probe_; ++probe) {
            Request& slot = slots_[(id + probe) & mask];
            if (slot.active && slot.request_id == id) {
                return &slot;
            }
        }
        return nullptr;
    }

    /// A cleared slot for request `id`, not yet active; nullptr when every slot is waiting.
    [[nodiscard]] Request* claim(std::uint64_t id) noexcept {
        for (std::size_t probe = 0; probe < Capacity; ++probe) {
            Request& slot = slots_[(id + probe) & mask];
            if (!slot.active) {
                slot = Request{};
                slot.request_id = id;
                longest_probe_ = std::max(longest_probe_, probe);
                ++claimed_since_count_;
                return &slot;
            }
        }
        return nullptr;
    }

    /// Counts the waiting requests afresh, and brings the lookup's reach back to what they need
    /// once displaced ones are answered. One pass over the table.
    void recount() noexcept {
        std::size_t waiting = 0;
        std::size_t longest = 0;
        for (std::size_t index = 0; index < Capacity; ++index) {
            const Request& slot = slots_[index];
            if (slot.active) {
                ++waiting;
                longest =
                    std::max(longest, (index - static_cast<std::size_t>(slot.request_id)) & mask);
            }
        }
        waiting_at_count_ = waiting;
        claimed_since_count_ = 0;
        longest_probe_ = longest;
    }

    /// True while a claim leaves at least `reserve` slots free: at most the requests waiting at
    /// the last recount() plus every one claimed since are waiting.
    [[nodiscard]] bool has_room(std::size_t reserve) const noexcept {
        return waiting_at_count_ + claimed_since_count_ + reserve < Capacity;
    }

    /// True when at least `count` slots are free.
    [[nodiscard]] bool has_free(std::size_t count) const noexcept {
        std::size_t free = 0;
        for (const Request& slot : slots_) {
            if (!slot.active && ++free >= count) {
                return true;
            }
        }
        return count == 0;
    }

    /// The farthest a waiting request may be from its home slot.
    [[nodiscard]] std::size_t longest_probe() const noexcept { return longest_probe_; }

    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return Capacity; }

    [[nodiscard]] auto begin() noexcept { return slots_.begin(); }
    [[nodiscard]] auto end() noexcept { return slots_.end(); }
    [[nodiscard]] auto begin() const noexcept { return slots_.begin(); }
    [[nodiscard]] auto end() const noexcept { return slots_.end(); }

private:
    static constexpr std::size_t mask = Capacity - 1;
    std::array<Request, Capacity> slots_{};
    std::size_t longest_probe_ = 0;
    std::size_t waiting_at_count_ = 0;
    std::size_t claimed_since_count_ = 0;
};

} // namespace quoter::exec
