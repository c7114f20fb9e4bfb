// request_slots: a Binance gateway's requests awaiting an answer, found by request id.
//
// A request id's home slot is id % Capacity. A request whose home slot is taken by one still
// waiting goes to the next free slot after it, so a request that waits long (an answer the venue
// delays, a placement whose outcome is unknown) is never overwritten once ids wrap round the
// table. A lookup probes no further than the longest displacement of a waiting request (settle()
// recomputes it), which is 0 while no request had to move.
//
// A slot is free while its request's `active` is false: the owner clears the flag when the
// request is resolved, and sets it when the request goes out. claim() returns nullptr when every
// slot waits; the owner then does not send.
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
                return &slot;
            }
        }
        return nullptr;
    }

    /// Brings the lookup's reach back to what the waiting requests need, once the displaced
    /// ones are answered. Costs a pass over the table only while any request was displaced.
    void settle() noexcept {
        if (longest_probe_ == 0) {
            return;
        }
        std::size_t longest = 0;
        for (std::size_t index = 0; index < Capacity; ++index) {
            const Request& slot = slots_[index];
            if (slot.active) {
                longest =
                    std::max(longest, (index - static_cast<std::size_t>(slot.request_id)) & mask);
            }
        }
        longest_probe_ = longest;
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

    /// The farthest any request has been placed from its home slot.
    [[nodiscard]] std::size_t longest_probe() const noexcept { return longest_probe_; }

    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return Capacity; }

    [[nodiscard]] auto begin() noexcept { return slots_.begin(); }
    [[nodiscard]] auto end() noexcept { return slots_.end(); }

private:
    static constexpr std::size_t mask = Capacity - 1;
    std::array<Request, Capacity> slots_{};
    std::size_t longest_probe_ = 0;
};

} // namespace quoter::exec
