#include "quoter/exec/order_index.hpp"

#include <bit>

namespace quoter::exec {

order_index::order_index(std::size_t max_entries) : max_entries_(max_entries) {
    const std::size_t table = std::bit_ceil(max_entries < 4 ? std::size_t{8} : max_entries * 2);
    cells_.resize(table);
    mask_ = table - 1;
    shift_ = 64U - static_cast<unsigned>(std::countr_zero(table));
}

bool order_index::insert(client_order_id id, std::uint32_t slot) noexcept {
    if (!id.valid() || size_ >= max_entries_) {
        return false;
    }
    std::size_t i = home(id.value);
    while (cells_[i].key != 0) {
        if (cells_[i].key == id.value) {
            return false;
        }
        i = (i + 1) & mask_;
    }
    cells_[i] = {id.value, slot};
    ++size_;
    return true;
}

order_index::entry order_index::locate(client_order_id id) const noexcept {
    if (!id.valid()) {
        return {};
    }
    std::size_t i = home(id.value);
    while (cells_[i].key != 0) {
        if (cells_[i].key == id.value) {
            return {.slot = cells_[i].slot, .cell = i};
        }
        i = (i + 1) & mask_;
    }
    return {};
}

bool order_index::erase(client_order_id id) noexcept {
    return erase(locate(id));
}

bool order_index::erase(const entry& found) noexcept {
    if (!found.found()) {
        return false;
    }
    std::size_t hole = found.cell;
    // Backward-shift deletion: pull later members of the probe run into the hole unless their
    // home lies cyclically after the hole (they would become unreachable from their home).
    std::size_t next = hole;
    for (;;) {
        next = (next + 1) & mask_;
        if (cells_[next].key == 0) {
            break;
        }
        const std::size_t want = home(cells_[next].key);
        const bool stays = hole <= next ? (hole < want && want <= next)
                                        : (hole < want || want <= next);
        if (!stays) {
            cells_[hole] = cells_[next];
            hole = next;
        }
    }
    cells_[hole] = cell{};
    --size_;
    return true;
}

} // namespace quoter::exec
