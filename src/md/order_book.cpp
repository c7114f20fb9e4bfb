// order_book's implementation (the layout is described in order_book.hpp). One piece, about 1,000
// lines: the dense window and the deep blocks hand levels to each other on every window move, so
// both halves keep one invariant (each key in exactly one part) and are read together.
#include "quoter/md/order_book.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>

namespace quoter::md {
namespace {

template <class T>
void move_elements(T* data, std::size_t from, std::size_t to, std::size_t count) {
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

/// Bits 0..bit of a word.
constexpr std::uint64_t bits_up_to(unsigned bit) noexcept {
    return ~std::uint64_t{0} >> (63U - bit);
}
/// Bits bit..63 of a word.
constexpr std::uint64_t bits_from(unsigned bit) noexcept {
    return ~std::uint64_t{0} << bit;
}

/// Highest set bit index in words [lo, hi) of a bitmap (lo < hi), or -1.
std::ptrdiff_t highest_in(const std::uint64_t* bitmap, std::size_t lo, std::size_t hi) noexcept {
    std::size_t word = (hi - 1) >> 6U;
    const std::size_t lo_word = lo >> 6U;
    std::uint64_t bits = bitmap[word] & bits_up_to(static_cast<unsigned>((hi - 1) & 63U));
    for (;;) {
        if (word == lo_word) {
            bits &= bits_from(static_cast<unsigned>(lo & 63U));
        }
        if (bits != 0) {
            return static_cast<std::ptrdiff_t>(word * 64 + 63 -
                                               static_cast<unsigned>(std::countl_zero(bits)));
        }
        if (word == lo_word) {
            return -1;
        }
        --word;
        bits = bitmap[word];
    }
}

/// Lowest set bit index in words [lo, hi) of a bitmap (lo < hi), or -1.
std::ptrdiff_t lowest_in(const std::uint64_t* bitmap, std::size_t lo, std::size_t hi) noexcept {
    std::size_t word = lo >> 6U;
    const std::size_t hi_word = (hi - 1) >> 6U;
    std::uint64_t bits = bitmap[word] & bits_from(static_cast<unsigned>(lo & 63U));
    for (;;) {
        if (word == hi_word) {
            bits &= bits_up_to(static_cast<unsigned>((hi - 1) & 63U));
        }
        if (bits != 0) {
            return static_cast<std::ptrdiff_t>(word * 64 +
                                               static_cast<unsigned>(std::countr_zero(bits)));
        }
        if (word == hi_word) {
            return -1;
        }
        ++word;
        bits = bitmap[word];
    }
}

constexpr std::uint64_t reverse_bits(std::uint64_t x) noexcept {
    x = ((x >> 1U) & 0x5555555555555555ULL) | ((x & 0x5555555555555555ULL) << 1U);
    x = ((x >> 2U) & 0x3333333333333333ULL) | ((x & 0x3333333333333333ULL) << 2U);
    x = ((x >> 4U) & 0x0F0F0F0F0F0F0F0FULL) | ((x & 0x0F0F0F0F0F0F0F0FULL) << 4U);
    return __builtin_bswap64(x);
}

/// key - base as an unsigned distance; meaningful when key >= base.
constexpr std::uint64_t offset_of(std::int64_t key, std::int64_t base) noexcept {
    return static_cast<std::uint64_t>(key) - static_cast<std::uint64_t>(base);
}

constexpr std::int64_t key_at(std::int64_t base, std::uint64_t offset) noexcept {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(base) + offset);
}

} // namespace

std::uint64_t order_book::instance_tag::next() noexcept {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

std::size_t order_book::window_ticks_for(std::int64_t price_ticks) noexcept {
    const auto ticks = static_cast<std::size_t>(price_ticks < 0 ? -price_ticks : price_ticks);
    return std::bit_ceil(std::clamp(ticks / 128, min_window_ticks, max_window_ticks));
}

void order_book::size_window(std::int64_t price_ticks) {
    window_pending_ = false;
    const std::size_t ticks = window_ticks_for(price_ticks);
    if (ticks == window_ticks_) {
        return;
    }
    // Both sides are empty (this runs before the first level): only the tables change.
    window_ticks_ = ticks;
    window_mask_ = ticks - 1;
    window_words_ = ticks / 64;
    for (side_levels* levels : {&bids_, &asks_}) {
        levels->window_lots.assign(window_ticks_, 0);
        levels->window_bits.assign(window_words_, 0);
        levels->window_summary.assign(window_words_ / 64, 0);
        levels->window_lots.shrink_to_fit();
        levels->window_bits.shrink_to_fit();
        levels->window_summary.shrink_to_fit();
        levels->base = lowest_key;
    }
}

std::size_t order_book::memory_bytes() const noexcept {
    std::size_t bytes = 0;
    for (const side_levels* levels : {&bids_, &asks_}) {
        bytes += levels->window_lots.capacity() * sizeof(std::int64_t) +
                 levels->window_bits.capacity() * sizeof(std::uint64_t) +
                 levels->window_summary.capacity() * sizeof(std::uint64_t);
        const deep_levels& deep = levels->deep;
        bytes += deep.keys.capacity() * sizeof(std::int64_t) +
                 deep.lots.capacity() * sizeof(std::int64_t) +
                 deep.block_size.capacity() * sizeof(std::uint32_t) +
                 deep.order.capacity() * sizeof(std::uint32_t) +
                 deep.block_max.capacity() * sizeof(std::int64_t) +
                 deep.free_blocks.capacity() * sizeof(std::uint32_t);
    }
    return bytes;
}

order_book::order_book(std::size_t max_levels_per_side, std::size_t window_ticks)
    : window_pending_(window_ticks == auto_window),
      window_ticks_(std::bit_ceil(std::clamp(window_ticks, min_window_ticks, max_window_ticks))),
      window_mask_(window_ticks_ - 1), window_words_(window_ticks_ / 64) {
    const std::size_t capacity = max_levels_per_side == 0 ? 1 : max_levels_per_side;
    // Adjacent blocks hold more than block_levels / 2 together, so n levels never need more than
    // 4n / block_levels + 1 blocks.
    const std::size_t pool = 4 * capacity / block_levels + 4;
    for (side_levels* levels : {&bids_, &asks_}) {
        levels->window_lots.assign(window_ticks_, 0);
        levels->window_bits.assign(window_words_, 0);
        levels->window_summary.assign(window_words_ / 64, 0);
        deep_levels& deep = levels->deep;
        deep.keys.assign(pool * block_levels, 0);
        deep.lots.assign(pool * block_levels, 0);
        deep.block_size.assign(pool, 0);
        deep.order.assign(pool, 0);
        deep.block_max.assign(pool, 0);
        deep.free_blocks.resize(pool);
        levels->capacity = capacity;
        clear_side(*levels);
    }
}

// -- window ---------------------------------------------------------------------------------

std::size_t order_book::physical_word(const side_levels& levels, std::size_t lw) const noexcept {
    const std::size_t base_word =
        static_cast<std::size_t>(static_cast<std::uint64_t>(levels.base) >> 6U);
    return (base_word + lw) & (window_words_ - 1);
}

std::ptrdiff_t order_book::highest_word_below(const side_levels& levels,
                                              std::size_t lw_end) const noexcept {
    if (lw_end == 0) {
        return -1;
    }
    const std::uint64_t* summary = levels.window_summary.data();
    const std::size_t first = physical_word(levels, 0);
    const std::size_t end = first + lw_end; // physical, may run past the last word
    const auto logical = [&](std::ptrdiff_t physical) -> std::ptrdiff_t {
        return physical < 0
                   ? -1
                   : static_cast<std::ptrdiff_t>((static_cast<std::size_t>(physical) - first) &
                                                 (window_words_ - 1));
    };
    if (end <= window_words_) {
        return logical(highest_in(summary, first, end));
    }
    // Logical words past the physical end wrap to the start; they are the higher ones.
    if (const std::ptrdiff_t wrapped = highest_in(summary, 0, end - window_words_); wrapped >= 0) {
        return logical(wrapped);
    }
    return logical(highest_in(summary, first, window_words_));
}

std::ptrdiff_t order_book::lowest_word_from(const side_levels& levels,
                                            std::size_t lw_begin) const noexcept {
    if (lw_begin >= window_words_) {
        return -1;
    }
    const std::uint64_t* summary = levels.window_summary.data();
    const std::size_t first = physical_word(levels, 0);
    const std::size_t start = first + lw_begin;
    const auto logical = [&](std::ptrdiff_t physical) -> std::ptrdiff_t {
        return physical < 0
                   ? -1
                   : static_cast<std::ptrdiff_t>((static_cast<std::size_t>(physical) - first) &
                                                 (window_words_ - 1));
    };
    if (start >= window_words_) {
        return logical(lowest_in(summary, start - window_words_, first));
    }
    if (const std::ptrdiff_t low = lowest_in(summary, start, window_words_); low >= 0) {
        return logical(low);
    }
    return first == 0 ? -1 : logical(lowest_in(summary, 0, first));
}

std::ptrdiff_t order_book::next_word_below(const side_levels& levels, std::size_t lw,
                                           std::size_t word) const noexcept {
    // Most often the next non-empty word shares the summary word of this one.
    const std::uint64_t lower =
        levels.window_summary[word >> 6U] & ((std::uint64_t{1} << (word & 63U)) - 1);
    if (lower != 0) {
        const std::size_t distance =
            (word & 63U) - (63U - static_cast<unsigned>(std::countl_zero(lower)));
        if (distance <= lw) { // not past the window's lowest word
            return static_cast<std::ptrdiff_t>(lw - distance);
        }
    }
    return highest_word_below(levels, lw);
}

bool order_book::window_find_le(const side_levels& levels, std::int64_t key,
                                std::int64_t& found) const noexcept {
    const std::uint64_t offset = offset_of(key, levels.base);
    std::size_t lw = static_cast<std::size_t>(offset >> 6U);
    std::uint64_t bits = levels.window_bits[physical_word(levels, lw)] &
                         bits_up_to(static_cast<unsigned>(offset & 63U));
    if (bits == 0) {
        const std::ptrdiff_t below = next_word_below(levels, lw, physical_word(levels, lw));
        if (below < 0) {
            return false;
        }
        lw = static_cast<std::size_t>(below);
        bits = levels.window_bits[physical_word(levels, lw)];
    }
    found = key_at(levels.base,
                   std::uint64_t{lw} * 64 + 63 - static_cast<unsigned>(std::countl_zero(bits)));
    return true;
}

void order_book::window_insert(side_levels& levels, std::int64_t key, std::int64_t lots) noexcept {
    const std::size_t slot = slot_of(key);
    std::uint64_t& word = levels.window_bits[slot >> 6U];
    if (word == 0) {
        levels.window_summary[slot >> 12U] |= std::uint64_t{1} << ((slot >> 6U) & 63U);
    }
    word |= std::uint64_t{1} << (slot & 63U);
    levels.window_lots[slot] = lots;
    if (levels.size == 0 || key > levels.best) {
        levels.best = key;
    }
    ++levels.size;
}

void order_book::window_clear_slot(side_levels& levels, std::size_t slot) noexcept {
    levels.window_lots[slot] = 0;
    std::uint64_t& word = levels.window_bits[slot >> 6U];
    word &= ~(std::uint64_t{1} << (slot & 63U));
    if (word == 0) {
        levels.window_summary[slot >> 12U] &= ~(std::uint64_t{1} << ((slot >> 6U) & 63U));
    }
}

void order_book::clear_window(side_levels& levels) noexcept {
    for (std::size_t s = 0; s < levels.window_summary.size(); ++s) {
        for (std::uint64_t words = levels.window_summary[s]; words != 0; words &= words - 1) {
            const std::size_t word = s * 64 + static_cast<unsigned>(std::countr_zero(words));
            for (std::uint64_t bits = levels.window_bits[word]; bits != 0; bits &= bits - 1) {
                levels.window_lots[word * 64 + static_cast<unsigned>(std::countr_zero(bits))] = 0;
            }
            levels.window_bits[word] = 0;
        }
        levels.window_summary[s] = 0;
    }
}

std::int64_t order_book::base_for(std::int64_t key) const noexcept {
    const auto offset = static_cast<std::int64_t>(window_ticks_ - window_ticks_ / 4);
    if (key < lowest_key + offset) {
        return lowest_key;
    }
    return (key - offset) & ~std::int64_t{63};
}

void order_book::recenter(side_levels& levels, std::int64_t new_base) noexcept {
    if (new_base == levels.base) {
        return;
    }
    if (new_base > levels.base) {
        // Levels below the new base leave at the bottom, lowest first: each is larger than every
        // deep key, so it is appended to the deep part.
        const std::uint64_t shift_words = offset_of(new_base, levels.base) >> 6U;
        const std::size_t leaving =
            static_cast<std::size_t>(std::min<std::uint64_t>(shift_words, window_words_));
        for (std::ptrdiff_t lw = lowest_word_from(levels, 0);
             lw >= 0 && static_cast<std::size_t>(lw) < leaving;
             lw = lowest_word_from(levels, static_cast<std::size_t>(lw) + 1)) {
            const std::size_t word = physical_word(levels, static_cast<std::size_t>(lw));
            for (std::uint64_t bits = levels.window_bits[word]; bits != 0; bits &= bits - 1) {
                const unsigned bit = static_cast<unsigned>(std::countr_zero(bits));
                deep_append(levels.deep,
                            key_at(levels.base, static_cast<std::uint64_t>(lw) * 64 + bit),
                            levels.window_lots[word * 64 + bit]);
                levels.window_lots[word * 64 + bit] = 0;
            }
            levels.window_bits[word] = 0;
            levels.window_summary[word >> 6U] &= ~(std::uint64_t{1} << (word & 63U));
        }
        levels.base = new_base;
        return;
    }
    // Down: the slots of the keys entering at the bottom held keys above new_base + window,
    // and there are none. The deep part's best levels from new_base up move in.
    levels.base = new_base;
    deep_levels& deep = levels.deep;
    while (deep.blocks > 0 && deep.block_max[deep.blocks - 1] >= new_base) {
        const std::size_t slot = deep.blocks - 1;
        const std::uint32_t block = deep.order[slot];
        const std::int64_t* keys = deep.keys.data() + std::size_t{block} * block_levels;
        const std::int64_t* amounts = deep.lots.data() + std::size_t{block} * block_levels;
        std::uint32_t size = deep.block_size[block];
        while (size > 0 && keys[size - 1] >= new_base) {
            --size;
            const std::size_t window_slot = slot_of(keys[size]);
            std::uint64_t& word = levels.window_bits[window_slot >> 6U];
            if (word == 0) {
                levels.window_summary[window_slot >> 12U] |= std::uint64_t{1}
                                                             << ((window_slot >> 6U) & 63U);
            }
            word |= std::uint64_t{1} << (window_slot & 63U);
            levels.window_lots[window_slot] = amounts[size];
            --deep.size;
        }
        deep.block_size[block] = size;
        if (size == 0) {
            remove_slot(deep, slot);
            continue;
        }
        deep.block_max[slot] = keys[size - 1];
        merge_if_sparse(deep, slot);
        break;
    }
}

void order_book::after_best_removed(side_levels& levels, std::int64_t below_or_at) noexcept {
    if (levels.size == 0) {
        levels.base = lowest_key; // the next level places the window
        levels.best = lowest_key;
        return;
    }
    std::int64_t best = 0;
    if (window_count(levels) == 0 || below_or_at < levels.base ||
        !window_find_le(levels, below_or_at, best)) {
        best = levels.deep.block_max[levels.deep.blocks - 1];
    }
    levels.best = best;
    if (best < levels.base || offset_of(best, levels.base) < window_ticks_ / 4) {
        recenter(levels, base_for(best));
    }
}

// -- whole side -----------------------------------------------------------------------------

void order_book::insert_new(side_levels& levels, std::int64_t key, std::int64_t lots) noexcept {
    touch_insertion(levels, key);
    if (key >= levels.base) {
        if (offset_of(key, levels.base) >= window_ticks_) {
            recenter(levels, base_for(key));
        }
        window_insert(levels, key, lots);
        return;
    }
    if (levels.size == 0) {
        levels.base = base_for(key);
        window_insert(levels, key, lots);
        return;
    }
    deep_insert(levels.deep, key, lots);
    ++levels.size;
}

level_change order_book::insert_full(side_levels& levels, std::int64_t key,
                                     std::int64_t lots) noexcept {
    ++truncated_;
    touch_all(levels);
    deep_levels& deep = levels.deep;
    if (deep.blocks > 0) {
        const std::int64_t worst = deep.keys[std::size_t{deep.order[0]} * block_levels];
        if (key < worst) {
            levels.unknown_from = std::max(levels.unknown_from, key);
            return level_change::truncated; // worse than every stored level
        }
        levels.unknown_from = std::max(levels.unknown_from, worst);
        erase_at(deep, 0, 0);
        --levels.size;
    } else {
        const std::ptrdiff_t lw = lowest_word_from(levels, 0);
        const std::size_t word = physical_word(levels, static_cast<std::size_t>(lw));
        const unsigned bit = static_cast<unsigned>(std::countr_zero(levels.window_bits[word]));
        const std::int64_t worst = key_at(levels.base, static_cast<std::uint64_t>(lw) * 64 + bit);
        if (key < worst) {
            levels.unknown_from = std::max(levels.unknown_from, key);
            return level_change::truncated;
        }
        levels.unknown_from = std::max(levels.unknown_from, worst);
        window_clear_slot(levels, word * 64 + bit);
        --levels.size;
        if (levels.size == 0) {
            levels.base = lowest_key;
            levels.best = lowest_key;
        }
    }
    insert_new(levels, key, lots);
    return level_change::truncated;
}

level_change order_book::deep_set(side_levels& levels, std::int64_t key,
                                  std::int64_t lots) noexcept {
    deep_levels& deep = levels.deep;
    if (deep.blocks > 0) {
        const std::size_t slot = find_slot(deep, key);
        const std::uint32_t block = deep.order[slot];
        const std::size_t pos = find_in_block(deep, block, key);
        const std::size_t index = std::size_t{block} * block_levels + pos;
        if (pos < deep.block_size[block] && deep.keys[index] == key) {
            if (lots <= 0) {
                touch_removal(levels, key);
                erase_at(deep, slot, pos);
                --levels.size; // the best level is in the window: unchanged
                return level_change::erased;
            }
            if (deep.lots[index] == lots) {
                return level_change::none;
            }
            touch_quantity(levels, key);
            deep.lots[index] = lots;
            return level_change::updated;
        }
        if (lots <= 0) {
            return level_change::none;
        }
        if (levels.size == levels.capacity) {
            return insert_full(levels, key, lots);
        }
        touch_insertion(levels, key);
        insert_at(deep, slot, pos, key, lots);
        ++levels.size;
        return level_change::inserted;
    }
    return insert_level(levels, key, lots);
}

level_change order_book::insert_level(side_levels& levels, std::int64_t key,
                                      std::int64_t lots) noexcept {
    if (lots <= 0) {
        return level_change::none;
    }
    if (levels.size == levels.capacity) {
        return insert_full(levels, key, lots);
    }
    insert_new(levels, key, lots);
    return level_change::inserted;
}

void order_book::clear_side(side_levels& levels) noexcept {
    touch_all(levels);
    clear_window(levels);
    clear_deep(levels.deep);
    levels.base = lowest_key;
    levels.best = lowest_key;
    levels.size = 0;
    levels.unknown_from = lowest_key;
}

/// A side's scalar state, held in registers while a diff is applied: stores to the bitmaps
/// (uint64_t, like most of these) would otherwise force a reload of each after every level.
struct order_book::side_cursor {
    std::int64_t base;
    std::int64_t best;
    std::int64_t watch_floor;
    std::size_t size;
    std::size_t capacity;
    std::uint64_t top_version;

    explicit side_cursor(const side_levels& levels) noexcept
        : base(levels.base), best(levels.best), watch_floor(levels.watch_floor), size(levels.size),
          capacity(levels.capacity), top_version(levels.top_version) {}
    void store(side_levels& levels) const noexcept {
        levels.best = best;
        levels.watch_floor = watch_floor;
        levels.size = size;
        levels.top_version = top_version;
    }
};

bool order_book::window_set(side_levels& levels, side_cursor& cursor, std::int64_t key,
                            std::int64_t lots, level_change& change) noexcept {
    if (key < cursor.base || offset_of(key, cursor.base) >= window_ticks_) [[unlikely]] {
        return false;
    }
    // In the window: insert, update, erase or nothing without a branch on which of them it is
    // (Binance's diffs mix all four at random, which no branch predictor follows); only the rare
    // cases leave: erasing the best level, and inserting into a full side. Presence comes from
    // the quantity itself (zero exactly in free slots): the slot's line is loaded anyway, and
    // the decisions need not wait for the bitmap word too.
    const std::size_t slot = slot_of(key);
    std::int64_t& amount = levels.window_lots[slot];
    const std::int64_t before = amount;
    const unsigned stored = before != 0 ? 1U : 0U;
    const unsigned keep = lots > 0 ? 1U : 0U;
    const unsigned removal = stored & (keep ^ 1U);
    const unsigned insertion = keep & (stored ^ 1U);
    if (((removal & (key == cursor.best ? 1U : 0U)) |
         (insertion & (cursor.size == cursor.capacity ? 1U : 0U))) != 0) [[unlikely]] {
        return false;
    }
    const std::uint64_t keep_mask = std::uint64_t{0} - keep;
    amount = lots & static_cast<std::int64_t>(keep_mask);
    std::uint64_t& word = levels.window_bits[slot >> 6U];
    const std::uint64_t bit = std::uint64_t{1} << (slot & 63U);
    const std::uint64_t new_word = (word & ~bit) | (bit & keep_mask);
    word = new_word;
    std::uint64_t& summary = levels.window_summary[slot >> 12U];
    const std::uint64_t summary_bit = std::uint64_t{1} << ((slot >> 6U) & 63U);
    const std::uint64_t nonempty_mask = std::uint64_t{0} - (new_word != 0 ? 1U : 0U);
    summary = (summary & ~summary_bit) | (summary_bit & nonempty_mask);
    cursor.size = cursor.size + insertion - removal;
    // best is lowest_key when the side is empty, so a first level always becomes it.
    cursor.best = (keep & (key > cursor.best ? 1U : 0U)) != 0 ? key : cursor.best;
    const unsigned changed = removal | insertion | (keep & stored & (before != lots ? 1U : 0U));
    const unsigned watched = key >= cursor.watch_floor ? 1U : 0U;
    cursor.top_version +=
        (std::uint64_t{changed} | std::uint64_t{removal | insertion} << layout_shift) &
        (std::uint64_t{0} - watched);
    cursor.watch_floor = (removal & watched) != 0 ? lowest_key : cursor.watch_floor;
    constexpr level_change outcome[4] = {level_change::none, level_change::inserted,
                                         level_change::erased, level_change::updated};
    change = changed != 0 ? outcome[stored * 2 + keep] : level_change::none;
    return true;
}

level_change order_book::set(core::side s, core::price px, core::qty q) noexcept {
    if (window_pending_) [[unlikely]] {
        size_window(px.ticks());
    }
    side_levels& levels = side_of(s);
    const std::int64_t key = key_of(s, px);
    side_cursor cursor(levels);
    level_change change = level_change::none;
    if (window_set(levels, cursor, key, q.lots(), change)) [[likely]] {
        cursor.store(levels);
        return change;
    }
    return set_other(levels, key, q.lots());
}

void order_book::apply(core::side s, std::span<const core::book_level> updates) noexcept {
    if (window_pending_ && !updates.empty()) [[unlikely]] {
        size_window(updates.front().px.ticks());
    }
    side_levels& levels = side_of(s);
    side_cursor cursor(levels);
    for (const core::book_level& level : updates) {
        const std::int64_t key = key_of(s, level.px);
        level_change change = level_change::none;
        if (!window_set(levels, cursor, key, level.qty.lots(), change)) [[unlikely]] {
            cursor.store(levels);
            (void)set_other(levels, key, level.qty.lots());
            cursor = side_cursor(levels);
        }
    }
    cursor.store(levels);
}

level_change order_book::set_other(side_levels& levels, std::int64_t key,
                                   std::int64_t lots) noexcept {
    if (key < levels.base) {
        return deep_set(levels, key, lots);
    }
    const bool in_window = offset_of(key, levels.base) < window_ticks_;
    if (in_window && lots <= 0) {
        const std::size_t slot = slot_of(key);
        if (levels.window_lots[slot] == 0) {
            return level_change::none;
        }
        touch_removal(levels, key);
        window_clear_slot(levels, slot);
        --levels.size;
        if (key == levels.best) {
            after_best_removed(levels, key - 1);
        }
        return level_change::erased;
    }
    if (in_window && levels.window_lots[slot_of(key)] != 0) {
        // An update (the fast path takes these; kept for completeness).
        std::int64_t& stored = levels.window_lots[slot_of(key)];
        if (stored == lots) {
            return level_change::none;
        }
        touch_quantity(levels, key);
        stored = lots;
        return level_change::updated;
    }
    // A new level: in a free window slot, or above the window (where nothing is).
    return insert_level(levels, key, lots);
}

bool order_book::erase(core::side s, core::price px) noexcept {
    return set(s, px, core::qty{0}) == level_change::erased;
}

std::size_t order_book::erase_better_than(core::side s, core::price px) noexcept {
    side_levels& levels = side_of(s);
    const std::int64_t key = key_of(s, px);
    if (levels.size == 0 || key >= levels.best) {
        return 0;
    }
    std::size_t removed = 0;
    if (key >= levels.base) {
        // Window keys in (key, best]: best is in the window, so is key.
        const std::uint64_t from = offset_of(key, levels.base) + 1;
        const std::uint64_t to = offset_of(levels.best, levels.base);
        for (std::uint64_t lw = from >> 6U; lw <= to >> 6U; ++lw) {
            const std::size_t word = physical_word(levels, static_cast<std::size_t>(lw));
            std::uint64_t mask = ~std::uint64_t{0};
            if (lw == from >> 6U) {
                mask &= bits_from(static_cast<unsigned>(from & 63U));
            }
            const std::uint64_t gone = levels.window_bits[word] & mask;
            if (gone == 0) {
                continue;
            }
            removed += static_cast<std::size_t>(std::popcount(gone));
            for (std::uint64_t bits = gone; bits != 0; bits &= bits - 1) {
                levels.window_lots[word * 64 + static_cast<unsigned>(std::countr_zero(bits))] = 0;
            }
            levels.window_bits[word] &= ~gone;
            if (levels.window_bits[word] == 0) {
                levels.window_summary[word >> 6U] &= ~(std::uint64_t{1} << (word & 63U));
            }
        }
    } else {
        removed = window_count(levels);
        clear_window(levels);
        deep_levels& deep = levels.deep;
        while (deep.blocks > 0) {
            const std::size_t slot = deep.blocks - 1;
            const std::uint32_t block = deep.order[slot];
            const std::int64_t* keys = deep.keys.data() + std::size_t{block} * block_levels;
            std::uint32_t size = deep.block_size[block];
            const std::uint32_t before = size;
            while (size > 0 && keys[size - 1] > key) {
                --size;
            }
            removed += before - size;
            deep.size -= before - size;
            deep.block_size[block] = size;
            if (size == 0) {
                remove_slot(deep, slot);
                continue;
            }
            deep.block_max[slot] = keys[size - 1];
            if (size != before) {
                merge_if_sparse(deep, slot);
            }
            break;
        }
    }
    levels.size -= removed;
    touch_all(levels);
    after_best_removed(levels, key);
    return removed;
}

void order_book::assign(core::side s, std::span<const core::book_level> levels) noexcept {
    if (window_pending_ && !levels.empty()) [[unlikely]] {
        size_window(levels.front().px.ticks());
    }
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
        for (const core::book_level& level : levels) {
            set(s, level.px, level.qty);
        }
        return;
    }
    const std::size_t count = std::min(positive, side.capacity);
    truncated_ += positive - count;
    if (count < positive) {
        side.unknown_from = key_of(s, levels[count].px);
    }
    if (count == 0) {
        return;
    }
    side.base = base_for(key_of(s, levels[0].px));
    std::size_t in_window = 0;
    while (in_window < count && key_of(s, levels[in_window].px) >= side.base) {
        window_insert(side, key_of(s, levels[in_window].px), levels[in_window].qty.lots());
        ++in_window;
    }
    // The rest fills deep blocks three quarters full, worst level first, so that updates rarely
    // split at once.
    deep_levels& deep = side.deep;
    constexpr std::size_t fill = block_levels * 3 / 4;
    std::size_t next = count; // levels[next - 1] is the worst level not yet stored
    while (next > in_window) {
        const std::uint32_t block = deep.free_blocks.back();
        deep.free_blocks.pop_back();
        const std::size_t take = std::min(fill, next - in_window);
        std::int64_t* keys = deep.keys.data() + std::size_t{block} * block_levels;
        std::int64_t* amounts = deep.lots.data() + std::size_t{block} * block_levels;
        for (std::size_t i = 0; i < take; ++i) {
            const core::book_level& level = levels[next - 1 - i];
            keys[i] = key_of(s, level.px);
            amounts[i] = level.qty.lots();
        }
        next -= take;
        deep.block_size[block] = static_cast<std::uint32_t>(take);
        deep.order[deep.blocks] = block;
        deep.block_max[deep.blocks] = keys[take - 1];
        ++deep.blocks;
    }
    deep.size = count - in_window;
    side.size = count;
}

void order_book::clear() noexcept {
    clear_side(bids_);
    clear_side(asks_);
}

core::book_level order_book::level(core::side s, std::size_t i) const noexcept {
    const side_levels& levels = side_of(s);
    if (i < window_count(levels)) {
        std::int64_t key = levels.best;
        for (std::size_t step = 0; step < i; ++step) {
            std::int64_t next = 0;
            (void)window_find_le(levels, key - 1, next);
            key = next;
        }
        return {price_of(s, key), core::qty{levels.window_lots[slot_of(key)]}};
    }
    i -= window_count(levels);
    const deep_levels& deep = levels.deep;
    std::size_t slot = deep.blocks - 1;
    for (;;) {
        const std::uint32_t block = deep.order[slot];
        const std::uint32_t size = deep.block_size[block];
        if (i < size) {
            const std::size_t index = std::size_t{block} * block_levels + size - 1 - i;
            return {price_of(s, deep.keys[index]), core::qty{deep.lots[index]}};
        }
        i -= size;
        --slot;
    }
}

core::qty order_book::qty_at(core::side s, core::price px) const noexcept {
    const side_levels& levels = side_of(s);
    const std::int64_t key = key_of(s, px);
    if (key >= levels.base) {
        if (offset_of(key, levels.base) >= window_ticks_) {
            return core::qty{0};
        }
        const std::size_t slot = slot_of(key);
        const bool stored = (levels.window_bits[slot >> 6U] >> (slot & 63U) & 1U) != 0;
        return core::qty{stored ? levels.window_lots[slot] : 0};
    }
    const deep_levels& deep = levels.deep;
    if (deep.blocks == 0) {
        return core::qty{0};
    }
    const std::uint32_t block = deep.order[find_slot(deep, key)];
    const std::size_t pos = find_in_block(deep, block, key);
    const std::size_t index = std::size_t{block} * block_levels + pos;
    if (pos == deep.block_size[block] || deep.keys[index] != key) {
        return core::qty{0};
    }
    return core::qty{deep.lots[index]};
}

std::size_t order_book::top(core::side s, std::span<core::book_level> out) const noexcept {
    const side_levels& levels = side_of(s);
    const std::size_t wanted = std::min(out.size(), levels.size);
    const std::int64_t sign = s == core::side::buy ? 1 : -1; // keys are negated ask prices
    std::size_t written = 0;
    if (wanted == 0) {
        return 0;
    }
    // The window, from the best level down.
    const std::uint64_t best_offset = offset_of(levels.best, levels.base);
    auto lw = static_cast<std::size_t>(best_offset >> 6U);
    std::size_t word = physical_word(levels, lw);
    std::uint64_t bits =
        levels.window_bits[word] & bits_up_to(static_cast<unsigned>(best_offset & 63U));
    const std::size_t from_window = std::min(wanted, window_count(levels));
    for (;;) {
        // Highest bit first: on the reversed word that is lowest first, where clearing the bit
        // (x & (x - 1)) does not wait for the bit's index, so the levels of a word are copied
        // without a serial dependency through count-leading-zeros.
        const std::int64_t top_key = key_at(levels.base, std::uint64_t{lw} * 64 + 63);
        const std::int64_t* amounts = levels.window_lots.data() + word * 64 + 63;
        for (std::uint64_t reversed = reverse_bits(bits); reversed != 0 && written < from_window;
             reversed &= reversed - 1) {
            const auto down = static_cast<unsigned>(std::countr_zero(reversed));
            out[written++] = {core::price{sign * (top_key - down)},
                              core::qty{amounts[-static_cast<std::ptrdiff_t>(down)]}};
        }
        if (written == from_window) {
            break;
        }
        lw = static_cast<std::size_t>(next_word_below(levels, lw, word));
        word = physical_word(levels, lw);
        bits = levels.window_bits[word];
    }
    // Then the deep part, from its best block down.
    const deep_levels& deep = levels.deep;
    for (std::size_t slot = deep.blocks; written < wanted; --slot) {
        const std::uint32_t block = deep.order[slot - 1];
        const std::uint32_t size = deep.block_size[block];
        const std::int64_t* keys = deep.keys.data() + std::size_t{block} * block_levels + size;
        const std::int64_t* amounts = deep.lots.data() + std::size_t{block} * block_levels + size;
        const std::size_t count = std::min<std::size_t>(size, wanted - written);
        for (std::size_t i = 1; i <= count; ++i) {
            out[written++] = {core::price{sign * keys[-static_cast<std::ptrdiff_t>(i)]},
                              core::qty{amounts[-static_cast<std::ptrdiff_t>(i)]}};
        }
    }
    return written;
}

void order_book::refresh_quantities(core::side s,
                                    std::span<core::book_level> levels) const noexcept {
    const side_levels& side = side_of(s);
    for (core::book_level& level : levels) {
        const std::int64_t key = key_of(s, level.px);
        level.qty = key >= side.base && offset_of(key, side.base) < window_ticks_
                        ? core::qty{side.window_lots[slot_of(key)]}
                        : qty_at(s, level.px);
    }
}

std::size_t order_book::watch_top(core::side s, std::span<core::book_level> out) const noexcept {
    const std::size_t written = top(s, out);
    const side_levels& levels = side_of(s);
    levels.watch_floor = written == out.size() && written > 0
                             ? key_of(s, out[written - 1].px)
                             : lowest_key; // fewer levels than watched: any new one counts
    return written;
}

// -- deep part ------------------------------------------------------------------------------

void order_book::clear_deep(deep_levels& levels) noexcept {
    const std::size_t pool = levels.block_size.size();
    levels.free_blocks.resize(pool); // within the reserved capacity
    // Lowest block numbers on top of the stack: a small book stays in the first blocks.
    for (std::size_t i = 0; i < pool; ++i) {
        levels.free_blocks[i] = static_cast<std::uint32_t>(pool - 1 - i);
    }
    levels.blocks = 0;
    levels.size = 0;
}

std::size_t order_book::find_slot(const deep_levels& levels, std::int64_t key) noexcept {
    const std::size_t last = levels.blocks - 1;
    // Levels just below the window land in the last block: one comparison settles them.
    if (last == 0 || levels.block_max[last - 1] < key) {
        return last;
    }
    return lower_bound_branchless(levels.block_max.data(), last, key);
}

std::size_t order_book::find_in_block(const deep_levels& levels, std::uint32_t block,
                                      std::int64_t key) noexcept {
    const std::int64_t* keys = levels.keys.data() + std::size_t{block} * block_levels;
    const std::uint32_t size = levels.block_size[block];
    // A new best level goes past the end; anything else is found without data-dependent branches.
    if (size == 0 || keys[size - 1] < key) {
        return size;
    }
    return lower_bound_branchless(keys, size - 1, key);
}

void order_book::remove_slot(deep_levels& levels, std::size_t slot) noexcept {
    levels.free_blocks.push_back(levels.order[slot]); // capacity reserved: never allocates
    const std::size_t after = levels.blocks - slot - 1;
    move_elements(levels.order.data(), slot + 1, slot, after);
    move_elements(levels.block_max.data(), slot + 1, slot, after);
    --levels.blocks;
}

void order_book::merge_if_sparse(deep_levels& levels, std::size_t slot) noexcept {
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
        std::memcpy(keys + std::size_t{a} * block_levels + size_a,
                    keys + std::size_t{b} * block_levels, size_b * sizeof(std::int64_t));
        std::memcpy(lots + std::size_t{a} * block_levels + size_a,
                    lots + std::size_t{b} * block_levels, size_b * sizeof(std::int64_t));
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

void order_book::insert_at(deep_levels& levels, std::size_t slot, std::size_t pos, std::int64_t key,
                           std::int64_t lots) noexcept {
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
                    amounts + std::size_t{block} * block_levels + half,
                    half * sizeof(std::int64_t));
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

void order_book::deep_insert(deep_levels& levels, std::int64_t key, std::int64_t lots) noexcept {
    if (levels.blocks == 0) {
        deep_append(levels, key, lots);
        return;
    }
    const std::size_t slot = find_slot(levels, key);
    insert_at(levels, slot, find_in_block(levels, levels.order[slot], key), key, lots);
}

void order_book::deep_append(deep_levels& levels, std::int64_t key, std::int64_t lots) noexcept {
    if (levels.blocks == 0 || levels.block_size[levels.order[levels.blocks - 1]] == block_levels) {
        // A fresh block after a full one keeps adjacent blocks more than half full together.
        const std::uint32_t fresh = levels.free_blocks.back();
        levels.free_blocks.pop_back();
        levels.block_size[fresh] = 0;
        levels.order[levels.blocks] = fresh;
        ++levels.blocks;
    }
    const std::size_t slot = levels.blocks - 1;
    const std::uint32_t block = levels.order[slot];
    const std::uint32_t size = levels.block_size[block];
    levels.keys[std::size_t{block} * block_levels + size] = key;
    levels.lots[std::size_t{block} * block_levels + size] = lots;
    levels.block_size[block] = size + 1;
    levels.block_max[slot] = key;
    ++levels.size;
}

void order_book::erase_at(deep_levels& levels, std::size_t slot, std::size_t pos) noexcept {
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

} // namespace quoter::md
