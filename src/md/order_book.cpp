#include "quoter/md/order_book.hpp"

#include <algorithm>
#include <cstring>

namespace quoter::md {
namespace {

template <class T> void move_elements(T* data, std::size_t from, std::size_t to, std::size_t count) {
    std::memmove(data + to, data + from, count * sizeof(T));
}

/// First index i in [0, size) with keys[i] >= key, or size. Binance's diffs touch levels at
/// every depth, so the comparisons of a classic binary search are coin flips for the branch
/// predictor; here each step is a conditional add instead of a branch.
std::size_t lower_bound_branchless(const std::int64_t* keys, std::size_t size,
                                   std::int64_t key) noexcept {
    if (size == 0) {
        return 0;
    }
    const std::int64_t* base = keys;
    while (size > 1) {
        const std::size_t half = size / 2;
        base += static_cast<std::size_t>(base[half - 1] < key) * half;
        size -= half;
    }
    return static_cast<std::size_t>(base - keys) + static_cast<std::size_t>(*base < key);
}

} // namespace

order_book::order_book(std::size_t max_levels_per_side) {
    const std::size_t capacity = max_levels_per_side == 0 ? 1 : max_levels_per_side;
    // Adjacent blocks hold more than block_levels / 2 together, so n levels never need more than
    // 4n / block_levels + 1 blocks.
    const std::size_t pool = 4 * capacity / block_levels + 4;
    for (side_levels* levels : {&bids_, &asks_}) {
        levels->keys.assign(pool * block_levels, 0);
        levels->lots.assign(pool * block_levels, 0);
        levels->block_size.assign(pool, 0);
        levels->order.assign(pool, 0);
        levels->block_max.assign(pool, 0);
        levels->free_blocks.resize(pool);
        levels->capacity = capacity;
        clear_side(*levels);
    }
}

void order_book::clear_side(side_levels& levels) noexcept {
    const std::size_t pool = levels.block_size.size();
    levels.free_blocks.resize(pool); // within the reserved capacity
    // Lowest block numbers on top of the stack: a small book stays in the first blocks.
    for (std::size_t i = 0; i < pool; ++i) {
        levels.free_blocks[i] = static_cast<std::uint32_t>(pool - 1 - i);
    }
    levels.blocks = 0;
    levels.size = 0;
}

std::size_t order_book::find_slot(const side_levels& levels, std::int64_t key) noexcept {
    const std::size_t last = levels.blocks - 1;
    // Updates at the top of the book land in the last block: one comparison settles them.
    if (last == 0 || levels.block_max[last - 1] < key) {
        return last;
    }
    return lower_bound_branchless(levels.block_max.data(), last, key);
}

std::size_t order_book::find_in_block(const side_levels& levels, std::uint32_t block,
                                      std::int64_t key) noexcept {
    const std::int64_t* keys = levels.keys.data() + std::size_t{block} * block_levels;
    const std::uint32_t size = levels.block_size[block];
    // A new best level goes past the end; anything else is found without data-dependent branches.
    if (size == 0 || keys[size - 1] < key) {
        return size;
    }
    return lower_bound_branchless(keys, size - 1, key);
}

void order_book::remove_slot(side_levels& levels, std::size_t slot) noexcept {
    levels.free_blocks.push_back(levels.order[slot]); // capacity reserved: never allocates
    const std::size_t after = levels.blocks - slot - 1;
    move_elements(levels.order.data(), slot + 1, slot, after);
    move_elements(levels.block_max.data(), slot + 1, slot, after);
    --levels.blocks;
}

void order_book::merge_if_sparse(side_levels& levels, std::size_t slot) noexcept {
    // Keeps "two adjacent blocks hold more than half a block" after a removal.
    const auto try_merge = [&](std::size_t left) {
        const std::uint32_t a = levels.order[left];
        const std::uint32_t b = levels.order[left + 1];
        const std::uint32_t size_a = levels.block_size[a];
        const std::uint32_t size_b = levels.block_size[b];
        if (size_a + size_b > block_levels / 2) {
            return false;
        }
        std::int64_t* keys = levels.keys.data();
        std::int64_t* lots = levels.lots.data();
        std::memcpy(keys + std::size_t{a} * block_levels + size_a, keys + std::size_t{b} * block_levels,
                    size_b * sizeof(std::int64_t));
        std::memcpy(lots + std::size_t{a} * block_levels + size_a, lots + std::size_t{b} * block_levels,
                    size_b * sizeof(std::int64_t));
        levels.block_size[a] = size_a + size_b;
        levels.block_max[left] = levels.block_max[left + 1];
        remove_slot(levels, left + 1);
        return true;
    };
    if (slot > 0 && try_merge(slot - 1)) {
        return;
    }
    if (slot + 1 < levels.blocks) {
        (void)try_merge(slot);
    }
}

void order_book::insert_at(side_levels& levels, std::size_t slot, std::size_t pos,
                           std::int64_t key, std::int64_t lots) noexcept {
    std::uint32_t block = levels.order[slot];
    if (levels.block_size[block] == block_levels) {
        // Split: the upper half moves to a fresh block placed right after this one.
        const std::uint32_t fresh = levels.free_blocks.back();
        levels.free_blocks.pop_back();
        constexpr std::size_t half = block_levels / 2;
        std::int64_t* keys = levels.keys.data();
        std::int64_t* amounts = levels.lots.data();
        std::memcpy(keys + std::size_t{fresh} * block_levels,
                    keys + std::size_t{block} * block_levels + half, half * sizeof(std::int64_t));
        std::memcpy(amounts + std::size_t{fresh} * block_levels,
                    amounts + std::size_t{block} * block_levels + half, half * sizeof(std::int64_t));
        levels.block_size[block] = half;
        levels.block_size[fresh] = half;
        const std::size_t after = levels.blocks - slot - 1;
        move_elements(levels.order.data(), slot + 1, slot + 2, after);
        move_elements(levels.block_max.data(), slot + 1, slot + 2, after);
        levels.order[slot + 1] = fresh;
        levels.block_max[slot + 1] = levels.block_max[slot];
        levels.block_max[slot] = keys[std::size_t{block} * block_levels + half - 1];
        ++levels.blocks;
        if (pos > half) {
            ++slot;
            block = fresh;
            pos -= half;
        }
    }
    std::int64_t* keys = levels.keys.data() + std::size_t{block} * block_levels;
    std::int64_t* amounts = levels.lots.data() + std::size_t{block} * block_levels;
    const std::uint32_t size = levels.block_size[block];
    move_elements(keys, pos, pos + 1, size - pos);
    move_elements(amounts, pos, pos + 1, size - pos);
    keys[pos] = key;
    amounts[pos] = lots;
    levels.block_size[block] = size + 1;
    if (pos == size) {
        levels.block_max[slot] = key;
    }
    ++levels.size;
}

void order_book::erase_at(side_levels& levels, std::size_t slot, std::size_t pos) noexcept {
    const std::uint32_t block = levels.order[slot];
    std::int64_t* keys = levels.keys.data() + std::size_t{block} * block_levels;
    std::int64_t* amounts = levels.lots.data() + std::size_t{block} * block_levels;
    const std::uint32_t size = levels.block_size[block] - 1;
    move_elements(keys, pos + 1, pos, size - pos);
    move_elements(amounts, pos + 1, pos, size - pos);
    levels.block_size[block] = size;
    --levels.size;
    if (size == 0) {
        remove_slot(levels, slot);
        return;
    }
    levels.block_max[slot] = keys[size - 1];
    merge_if_sparse(levels, slot);
}

level_change order_book::set(core::side s, core::price px, core::qty q) noexcept {
    side_levels& levels = side_of(s);
    const std::int64_t key = key_of(s, px);
    if (levels.blocks == 0) {
        if (q.lots() <= 0) {
            return level_change::none;
        }
        const std::uint32_t block = levels.free_blocks.back();
        levels.free_blocks.pop_back();
        levels.order[0] = block;
        levels.block_size[block] = 0;
        levels.blocks = 1;
        insert_at(levels, 0, 0, key, q.lots());
        return level_change::inserted;
    }
    const std::size_t slot = find_slot(levels, key);
    const std::uint32_t block = levels.order[slot];
    const std::size_t pos = find_in_block(levels, block, key);
    const std::size_t index = std::size_t{block} * block_levels + pos;
    const bool exists = pos < levels.block_size[block] && levels.keys[index] == key;
    if (exists) {
        if (q.lots() <= 0) {
            erase_at(levels, slot, pos);
            return level_change::erased;
        }
        if (levels.lots[index] == q.lots()) {
            return level_change::none;
        }
        levels.lots[index] = q.lots();
        return level_change::updated;
    }
    if (q.lots() <= 0) {
        return level_change::none;
    }
    if (levels.size == levels.capacity) {
        ++truncated_;
        const std::uint32_t worst_block = levels.order[0];
        if (key < levels.keys[std::size_t{worst_block} * block_levels]) {
            return level_change::truncated; // worse than every stored level
        }
        erase_at(levels, 0, 0);
        // The erase may have merged blocks: locate the position again.
        const std::size_t again = find_slot(levels, key);
        insert_at(levels, again, find_in_block(levels, levels.order[again], key), key, q.lots());
        return level_change::truncated;
    }
    insert_at(levels, slot, pos, key, q.lots());
    return level_change::inserted;
}

bool order_book::erase(core::side s, core::price px) noexcept {
    return set(s, px, core::qty{0}) == level_change::erased;
}

std::size_t order_book::erase_better_than(core::side s, core::price px) noexcept {
    side_levels& levels = side_of(s);
    const std::int64_t key = key_of(s, px);
    std::size_t removed = 0;
    while (levels.blocks > 0) {
        const std::size_t slot = levels.blocks - 1;
        const std::uint32_t block = levels.order[slot];
        const std::int64_t* keys = levels.keys.data() + std::size_t{block} * block_levels;
        std::uint32_t size = levels.block_size[block];
        const std::uint32_t before = size;
        while (size > 0 && keys[size - 1] > key) {
            --size;
        }
        removed += before - size;
        levels.size -= before - size;
        levels.block_size[block] = size;
        if (size == 0) {
            remove_slot(levels, slot);
            continue;
        }
        levels.block_max[slot] = keys[size - 1];
        if (size != before) {
            merge_if_sparse(levels, slot);
        }
        break;
    }
    return removed;
}

void order_book::assign(core::side s, std::span<const book_level> levels) noexcept {
    side_levels& side = side_of(s);
    clear_side(side);
    bool best_first = true;
    std::size_t positive = 0;
    for (std::size_t i = 0; i < levels.size(); ++i) {
        if (levels[i].qty.lots() <= 0 ||
            (i > 0 && key_of(s, levels[i].px) >= key_of(s, levels[i - 1].px))) {
            best_first = false;
            break;
        }
        ++positive;
    }
    if (!best_first) {
        for (const book_level& level : levels) {
            set(s, level.px, level.qty);
        }
        return;
    }
    const std::size_t count = std::min(positive, side.capacity);
    truncated_ += positive - count;
    // Fill blocks three quarters full, worst level first, so that updates rarely split at once.
    constexpr std::size_t fill = block_levels * 3 / 4;
    std::size_t next = count; // levels[next - 1] is the worst level not yet stored
    while (next > 0) {
        const std::uint32_t block = side.free_blocks.back();
        side.free_blocks.pop_back();
        const std::size_t take = std::min(fill, next);
        std::int64_t* keys = side.keys.data() + std::size_t{block} * block_levels;
        std::int64_t* amounts = side.lots.data() + std::size_t{block} * block_levels;
        for (std::size_t i = 0; i < take; ++i) {
            const book_level& level = levels[next - 1 - i];
            keys[i] = key_of(s, level.px);
            amounts[i] = level.qty.lots();
        }
        next -= take;
        side.block_size[block] = static_cast<std::uint32_t>(take);
        side.order[side.blocks] = block;
        side.block_max[side.blocks] = keys[take - 1];
        ++side.blocks;
    }
    side.size = count;
}

void order_book::clear() noexcept {
    clear_side(bids_);
    clear_side(asks_);
}

book_level order_book::level(core::side s, std::size_t i) const noexcept {
    const side_levels& levels = side_of(s);
    std::size_t slot = levels.blocks - 1;
    for (;;) {
        const std::uint32_t block = levels.order[slot];
        const std::uint32_t size = levels.block_size[block];
        if (i < size) {
            const std::size_t index = std::size_t{block} * block_levels + size - 1 - i;
            return {price_of(s, levels.keys[index]), core::qty{levels.lots[index]}};
        }
        i -= size;
        --slot;
    }
}

core::qty order_book::qty_at(core::side s, core::price px) const noexcept {
    const side_levels& levels = side_of(s);
    if (levels.blocks == 0) {
        return core::qty{0};
    }
    const std::int64_t key = key_of(s, px);
    const std::uint32_t block = levels.order[find_slot(levels, key)];
    const std::size_t pos = find_in_block(levels, block, key);
    const std::size_t index = std::size_t{block} * block_levels + pos;
    if (pos == levels.block_size[block] || levels.keys[index] != key) {
        return core::qty{0};
    }
    return core::qty{levels.lots[index]};
}

std::size_t order_book::top(core::side s, std::span<book_level> out) const noexcept {
    const side_levels& levels = side_of(s);
    const std::size_t wanted = std::min(out.size(), levels.size);
    const std::int64_t sign = s == core::side::buy ? 1 : -1; // keys are negated ask prices
    std::size_t written = 0;
    for (std::size_t slot = levels.blocks; written < wanted; --slot) {
        const std::uint32_t block = levels.order[slot - 1];
        const std::uint32_t size = levels.block_size[block];
        const std::int64_t* keys = levels.keys.data() + std::size_t{block} * block_levels + size;
        const std::int64_t* amounts = levels.lots.data() + std::size_t{block} * block_levels + size;
        const std::size_t count = std::min<std::size_t>(size, wanted - written);
        for (std::size_t i = 1; i <= count; ++i) {
            out[written++] = {core::price{sign * keys[-static_cast<std::ptrdiff_t>(i)]},
                              core::qty{amounts[-static_cast<std::ptrdiff_t>(i)]}};
        }
    }
    return written;
}

bool order_book::crossed() const noexcept {
    if (bids_.blocks == 0 || asks_.blocks == 0) {
        return false;
    }
    return bids_.block_max[bids_.blocks - 1] >= -asks_.block_max[asks_.blocks - 1];
}

} // namespace quoter::md
