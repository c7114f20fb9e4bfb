// order_index: a fixed-capacity hash map from client order id to a slot number, for finding an
// order from a report or a cancel in O(1) without allocating.
//
// Open addressing with linear probing over a power-of-two table at least twice the maximum
// entry count, so probe sequences stay short; erase shifts later entries back instead of
// leaving tombstones, so lookups never slow down as orders come and go. Id 0 marks an empty
// cell, which is why 0 is never a valid client order id.
#pragma once

#include "quoter/exec/order_types.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace quoter::exec {

class order_index {
public:
    static constexpr std::uint32_t npos = 0xffffffffU;

    /// Allocates once, here; no call below allocates.
    explicit order_index(std::size_t max_entries);

    /// False (and no change) when the id is invalid, already present, or the index is full.
    [[nodiscard]] bool insert(client_order_id id, std::uint32_t slot) noexcept;
    /// An id found in the index: its slot and the cell it sits in, so that erasing it needs no
    /// second search. Valid until the next insert or erase.
    struct entry {
        static constexpr std::size_t no_cell = ~std::size_t{0};

        std::uint32_t slot = npos;
        std::size_t cell = no_cell; ///< no_cell: the id is not in the index.

        [[nodiscard]] bool found() const noexcept { return cell != no_cell; }
    };

    /// The slot of id, or npos.
    [[nodiscard]] std::uint32_t find(client_order_id id) const noexcept { return locate(id).slot; }
    /// The entry of id (not found(): absent).
    [[nodiscard]] entry locate(client_order_id id) const noexcept;
    /// False when id was not present.
    bool erase(client_order_id id) noexcept;
    /// Erases what locate() found, with no insert or erase in between; false when it found
    /// nothing.
    bool erase(const entry& found) noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t max_entries() const noexcept { return max_entries_; }

private:
    struct cell {
        std::uint64_t key = 0;
        std::uint32_t slot = 0;
    };

    [[nodiscard]] std::size_t home(std::uint64_t key) const noexcept {
        // Fibonacci hashing: sequential ids spread over the table via the high product bits.
        return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ULL) >> shift_);
    }

    std::vector<cell> cells_;
    std::size_t mask_ = 0;
    unsigned shift_ = 0;
    std::size_t size_ = 0;
    std::size_t max_entries_ = 0;
};

} // namespace quoter::exec
