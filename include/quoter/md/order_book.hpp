// order_book: one symbol's full-depth price-level book (aggregated quantity per price), as
// Binance's depth streams describe it, with exact integer prices and quantities.
//
// Keys. Bids keep their price and asks store its negation, so on both sides a larger key is a
// better level and one implementation serves both.
//
// Layout. Each side has two parts:
// - the window: a dense ladder of window_ticks() consecutive keys [base, base + window_ticks)
//   ending a little above the best level, one quantity slot per tick (zero in a free slot), with
//   a bitmap of the slots in use and a summary bitmap of the non-empty bitmap words. A change near
//   the top (almost every update of a liquid book) is one slot access and a few bit operations,
//   done without a branch on whether it inserts, updates or erases (Binance's diffs mix the four
//   outcomes at random); the next level below a price is found with count-leading-zeros over the
//   bitmap and its summary. Slots are addressed by key modulo the window size (a ring), so moving
//   the window copies only the levels that leave or enter it.
// - the deep part: every level below the window, in small sorted blocks (64 levels, keys and
//   quantities as struct of arrays) kept in a directory ordered by key, best at the END. A change
//   there moves at most one block's elements; the directory and block searches use conditional
//   adds instead of branches. All blocks come from a pool sized at construction.
// The window follows the top: a new level above it moves the window up so that the level sits
// at three quarters of it (levels falling out at the bottom are appended to the deep part, which
// is cheap: they are its best levels); when the best level falls into the bottom quarter of the
// window (or below it), the window moves down the same way and takes the deep part's best levels
// back. The hysteresis between the two keeps a price oscillating inside the window from moving it.
//
// Watching the top. The md publisher copies the top levels into every event; watch_top() copies
// them and records the worst copied key, and every later change at or above that key bumps
// top_version() (insertions and removals also top_layout_version()), so a publisher rebuilds
// only a side whose top changed, and only re-reads quantities when its prices stayed.
//
// Invariants: the window's base is a multiple of 64; every stored level with key >= base is in the
// window and every other one in the deep part; a window slot's quantity is non-zero exactly when
// its bitmap bit is set; when a side is not empty its best level is in the window (so best() is
// one load), and best is its key (lowest_key when the side is empty); every stored quantity is
// positive (a zero quantity erases the level); in the deep part keys are strictly ascending across
// the directory, no block is empty and any two adjacent blocks hold more than half a block
// together (so the pool always suffices); a side never holds more than its capacity (5,000 levels
// a side and more by default), and no member function allocates after construction. When a side
// is full, the worst level is dropped to make room for a better one (and a new level worse than
// every stored one is not stored); both count as truncated levels, which only a book deeper than
// its capacity sees.
//
// Thread ownership: single-threaded; owned by the market-data thread.
#pragma once

#include "quoter/core/book_level.hpp"
#include "quoter/core/fixed_point.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace quoter::md {

/// What a set() did to its side.
enum class level_change : std::uint8_t {
    none,      ///< Erase of a missing level, or the same quantity again.
    inserted,  ///< A new price level.
    updated,   ///< A new quantity at an existing price.
    erased,    ///< The level was removed (zero quantity).
    truncated, ///< The side was full and the level (or the worst level) was dropped.
};

class order_book {
public:
    /// Default capacity per side; Binance snapshots carry at most 5,000 levels a side.
    static constexpr std::size_t default_max_levels = 8192;
    /// A fixed width of the dense window at the top of each side, in ticks (512 KiB of quantities
    /// a side): about 90% of a BTCUSDT spot diff stream's updates at a 0.01 tick fall inside it.
    static constexpr std::size_t default_window_ticks = 65536;
    /// window_ticks of a book that sizes its window from the price of its first level: see
    /// window_ticks_for().
    static constexpr std::size_t auto_window = 0;
    /// The window the first level's price asks for: the power of two (within the bounds below)
    /// at or above 1/128 of the price in ticks, i.e. the window spans at least 0.78% of the price
    /// (the share the 65536-tick window covers at BTCUSDT's 0.01 tick around 60,000; a symbol
    /// priced at 1,000 ticks gets the minimum, 4096 ticks, 32 KiB a side).
    [[nodiscard]] static std::size_t window_ticks_for(std::int64_t price_ticks) noexcept;
    /// Bounds of the window width, in ticks; other widths round up to a power of two in range.
    static constexpr std::size_t min_window_ticks = 4096;
    static constexpr std::size_t max_window_ticks = std::size_t{1} << 20U;

    /// Allocates both sides; window_ticks is rounded up to a power of two within
    /// [min_window_ticks, max_window_ticks]. With auto_window (the default) the windows start at
    /// the minimum and are allocated once more, at the first set/apply/assign, to the width the
    /// first price asks for (window_ticks_for); nothing allocates after that.
    explicit order_book(std::size_t max_levels_per_side = default_max_levels,
                        std::size_t window_ticks = auto_window);

    /// Sets the quantity at a price; a zero (or negative) quantity erases the level.
    level_change set(core::side s, core::price px, core::qty q) noexcept;
    /// set(s, best price, q) for a side that is not empty and a positive q: a new quantity at
    /// the top (a bookTicker's usual change), without the general path's checks.
    level_change set_best_qty(core::side s, core::qty q) noexcept {
        side_levels& levels = side_of(s);
        std::int64_t& amount = levels.window_lots[slot_of(levels.best)];
        if (amount == q.lots()) {
            return level_change::none;
        }
        amount = q.lots();
        touch_quantity(levels, levels.best);
        return level_change::updated;
    }
    /// set() for each level of updates, in order (one side of a depth diff).
    void apply(core::side s, std::span<const core::book_level> updates) noexcept;
    /// Removes the level at px; returns whether it existed.
    bool erase(core::side s, core::price px) noexcept;
    /// Removes every level whose price is strictly better than px (bids above, asks below).
    /// Returns how many levels were removed.
    std::size_t erase_better_than(core::side s, core::price px) noexcept;
    /// Replaces a side with the given levels (a snapshot). Levels in best-first order (as Binance
    /// sends them) load in one linear pass; any other order falls back to set() per level.
    /// Zero quantities are skipped; beyond the capacity the worst levels are dropped.
    void assign(core::side s, std::span<const core::book_level> levels) noexcept;
    /// Empties both sides; keeps the capacity.
    void clear() noexcept;

    /// Number of levels on a side.
    [[nodiscard]] std::size_t depth(core::side s) const noexcept { return side_of(s).size; }
    [[nodiscard]] bool empty(core::side s) const noexcept { return side_of(s).size == 0; }
    [[nodiscard]] std::size_t capacity() const noexcept { return bids_.capacity; }
    /// Width of each side's dense window, in ticks.
    [[nodiscard]] std::size_t window_ticks() const noexcept { return window_ticks_; }
    /// Bytes the book's tables hold on the heap (windows, bitmaps and deep blocks, both sides).
    [[nodiscard]] std::size_t memory_bytes() const noexcept;
    /// Levels of a side held in its dense window (the rest are in its deep part).
    [[nodiscard]] std::size_t window_depth(core::side s) const noexcept {
        return window_count(side_of(s));
    }

    /// The i-th best level of a side (0 = best); i must be below depth(s). Walks i levels: use
    /// top() to copy many.
    [[nodiscard]] core::book_level level(core::side s, std::size_t i) const noexcept;
    /// Best bid (s = buy) or best ask (s = sell); {price 0, qty 0} when the side is empty.
    [[nodiscard]] core::book_level best(core::side s) const noexcept {
        const side_levels& levels = side_of(s);
        if (levels.size == 0) {
            return {};
        }
        return {price_of(s, levels.best), core::qty{levels.window_lots[slot_of(levels.best)]}};
    }
    [[nodiscard]] core::book_level best_bid() const noexcept { return best(core::side::buy); }
    [[nodiscard]] core::book_level best_ask() const noexcept { return best(core::side::sell); }
    /// Quantity at a price; zero when there is no level.
    [[nodiscard]] core::qty qty_at(core::side s, core::price px) const noexcept;
    /// Copies up to out.size() best levels of a side, best first; returns how many.
    std::size_t top(core::side s, std::span<core::book_level> out) const noexcept;
    /// As top(), and watches the copied levels: from now on top_version(s) changes with every
    /// change that can alter them (and, conservatively, some that cannot). A book has one watcher
    /// (its md publisher); another call to watch_top() replaces the watch.
    std::size_t watch_top(core::side s, std::span<core::book_level> out) const noexcept;
    /// Change counter of the levels of a side's last watch_top(); see watch_top().
    [[nodiscard]] std::uint64_t top_version(core::side s) const noexcept {
        return side_of(s).top_version;
    }
    /// Like top_version(), counting only changes to the watched prices (insertions, removals):
    /// when top_version() moved and this did not, the watched levels kept their prices and only
    /// quantities changed, which refresh_quantities() brings up to date.
    [[nodiscard]] std::uint64_t top_layout_version(core::side s) const noexcept {
        return side_of(s).top_version >> layout_shift;
    }
    /// Rewrites the quantity of each of levels (prices of stored levels of side s) from the book.
    void refresh_quantities(core::side s, std::span<core::book_level> levels) const noexcept;
    /// Identifies this book object: unique per construction, copy and assignment, so a cached
    /// copy of its levels is never taken for another book's.
    [[nodiscard]] std::uint64_t instance_id() const noexcept { return instance_.id; }
    /// Both sides non-empty and best bid >= best ask.
    [[nodiscard]] bool crossed() const noexcept {
        return bids_.size != 0 && asks_.size != 0 && bids_.best >= -asks_.best;
    }
    /// Levels dropped because a side was full, since construction.
    [[nodiscard]] std::uint64_t truncated_levels() const noexcept { return truncated_; }

    /// Levels of side s worse than px may exist without being stored: a snapshot cut at its
    /// depth limit ends at px. Only a change of those levels would tell the book about them.
    void mark_incomplete_beyond(core::side s, core::price px) noexcept {
        side_levels& levels = side_of(s);
        levels.unknown_from = std::max(levels.unknown_from, key_of(s, px) - 1);
    }
    /// Whether the best level of side s is known to be the venue's: no level better than it can
    /// be missing. False once the side's top has moved past the levels a cut snapshot (see
    /// mark_incomplete_beyond) or a full side (see truncated_levels) left out.
    [[nodiscard]] bool top_complete(core::side s) const noexcept {
        const side_levels& levels = side_of(s);
        return levels.best >= levels.unknown_from; // an empty side's best is lowest_key
    }

private:
    static constexpr std::size_t block_levels = 64;
    static constexpr std::int64_t lowest_key = std::numeric_limits<std::int64_t>::min();
    static constexpr unsigned layout_shift = 32;
    /// top_version increment of an insertion or removal: one change, one layout change.
    static constexpr std::uint64_t layout_change = (std::uint64_t{1} << layout_shift) + 1;

    /// Levels below the window: sorted blocks, best at the end.
    struct deep_levels {
        std::vector<std::int64_t> keys;         ///< block_levels per physical block.
        std::vector<std::int64_t> lots;         ///< Quantity of keys[i], always positive.
        std::vector<std::uint32_t> block_size;  ///< Levels used in each physical block.
        std::vector<std::uint32_t> order;       ///< Physical block of each directory slot.
        std::vector<std::int64_t> block_max;    ///< Largest key of each directory slot.
        std::vector<std::uint32_t> free_blocks; ///< Stack of unused physical blocks.
        std::size_t blocks = 0;                 ///< Directory slots in use.
        std::size_t size = 0;
    };

    struct side_levels {
        std::vector<std::int64_t> window_lots;     ///< Quantity per slot (key mod window).
        std::vector<std::uint64_t> window_bits;    ///< Slots in use.
        std::vector<std::uint64_t> window_summary; ///< Non-zero words of window_bits.
        std::int64_t base = lowest_key;            ///< Lowest key of the window.
        std::int64_t best = lowest_key;            ///< Best key; lowest_key when empty.
        std::size_t size = 0;
        std::size_t capacity = 0;
        /// Changes at keys >= watch_floor bump top_version; lowest_key after a removal at or
        /// above it (the watched levels then extend below any known key).
        mutable std::int64_t watch_floor = lowest_key;
        /// Watched changes in the low 32 bits, watched insertions and removals in the high 32
        /// (a carry out of the low half only adds a spurious layout change).
        std::uint64_t top_version = 0;
        /// The best key a level missing from the side may have (lowest_key: none can be
        /// missing); a stored level there is known.
        std::int64_t unknown_from = lowest_key;
        deep_levels deep;
    };

    /// A fresh identity for every construction, copy and assignment.
    struct instance_tag {
        std::uint64_t id = next();
        instance_tag() noexcept = default;
        instance_tag(const instance_tag& /*other*/) noexcept : id(next()) {}
        instance_tag& operator=(const instance_tag& /*other*/) noexcept {
            id = next();
            return *this;
        }
        ~instance_tag() = default;
        [[nodiscard]] static std::uint64_t next() noexcept;
    };

    /// A new quantity at an existing key: the watched prices stay, a quantity may change.
    static void touch_quantity(side_levels& levels, std::int64_t key) noexcept {
        levels.top_version += key >= levels.watch_floor ? 1U : 0U;
    }
    /// A new level at key: it may join the watched levels.
    static void touch_insertion(side_levels& levels, std::int64_t key) noexcept {
        levels.top_version += key >= levels.watch_floor ? layout_change : 0U;
    }
    /// A level at key was removed: levels below the watched ones may move up into them.
    static void touch_removal(side_levels& levels, std::int64_t key) noexcept {
        if (key >= levels.watch_floor) {
            levels.top_version += layout_change;
            levels.watch_floor = lowest_key;
        }
    }
    static void touch_all(side_levels& levels) noexcept {
        levels.top_version += layout_change;
        levels.watch_floor = lowest_key;
    }

    /// Levels of a side in its window.
    [[nodiscard]] static std::size_t window_count(const side_levels& levels) noexcept {
        return levels.size - levels.deep.size;
    }
    [[nodiscard]] const side_levels& side_of(core::side s) const noexcept {
        return s == core::side::buy ? bids_ : asks_;
    }
    [[nodiscard]] side_levels& side_of(core::side s) noexcept {
        return s == core::side::buy ? bids_ : asks_;
    }
    [[nodiscard]] static constexpr std::int64_t key_of(core::side s, core::price px) noexcept {
        return s == core::side::buy ? px.ticks() : -px.ticks();
    }
    [[nodiscard]] static constexpr core::price price_of(core::side s, std::int64_t key) noexcept {
        return core::price{s == core::side::buy ? key : -key};
    }
    /// Window slot of a key.
    [[nodiscard]] std::size_t slot_of(std::int64_t key) const noexcept {
        return static_cast<std::size_t>(static_cast<std::uint64_t>(key) & window_mask_);
    }

    // -- window -------------------------------------------------------------------------------
    /// Physical bitmap word of the window's logical word lw (0 = the base's word).
    [[nodiscard]] std::size_t physical_word(const side_levels& levels,
                                            std::size_t lw) const noexcept;
    /// Highest non-empty logical word below lw_end, or -1.
    [[nodiscard]] std::ptrdiff_t highest_word_below(const side_levels& levels,
                                                    std::size_t lw_end) const noexcept;
    /// highest_word_below(lw), for the logical word lw at physical word `word`, with a shortcut
    /// through the summary word they share.
    [[nodiscard]] std::ptrdiff_t next_word_below(const side_levels& levels, std::size_t lw,
                                                 std::size_t word) const noexcept;
    /// Lowest non-empty logical word at or above lw_begin, or -1.
    [[nodiscard]] std::ptrdiff_t lowest_word_from(const side_levels& levels,
                                                  std::size_t lw_begin) const noexcept;
    /// Highest stored window key <= key (key inside the window); false when there is none.
    [[nodiscard]] bool window_find_le(const side_levels& levels, std::int64_t key,
                                      std::int64_t& found) const noexcept;
    void window_insert(side_levels& levels, std::int64_t key, std::int64_t lots) noexcept;
    void window_clear_slot(side_levels& levels, std::size_t slot) noexcept;
    void clear_window(side_levels& levels) noexcept;
    /// Base that puts key at three quarters of the window.
    [[nodiscard]] std::int64_t base_for(std::int64_t key) const noexcept;
    /// Moves the window to new_base. Moving down requires every window level below
    /// new_base + window_ticks (true when the best level is).
    void recenter(side_levels& levels, std::int64_t new_base) noexcept;
    /// Recomputes best after the best level (or more) was removed, and moves the window down
    /// when the best level left its upper three quarters.
    void after_best_removed(side_levels& levels, std::int64_t below_or_at) noexcept;

    struct side_cursor;
    /// The common case of set() on a side's key, a change inside the window other than erasing
    /// the best level or inserting into a full side, on the side's state in cursor; false (and
    /// nothing changed) for every other case.
    [[gnu::always_inline]] inline bool window_set(side_levels& levels, side_cursor& cursor,
                                                  std::int64_t key, std::int64_t lots,
                                                  level_change& change) noexcept;
    /// set() for the cases window_set() leaves.
    level_change set_other(side_levels& levels, std::int64_t key, std::int64_t lots) noexcept;

    // -- whole side ---------------------------------------------------------------------------
    /// Inserts a key that is not stored, into a side that is not full.
    void insert_new(side_levels& levels, std::int64_t key, std::int64_t lots) noexcept;
    /// Inserts a key that is not stored into a full side: drops the worst level or the new one.
    level_change insert_full(side_levels& levels, std::int64_t key, std::int64_t lots) noexcept;
    /// A level not stored yet: nothing for a zero quantity, else insert_new or insert_full.
    level_change insert_level(side_levels& levels, std::int64_t key, std::int64_t lots) noexcept;
    level_change deep_set(side_levels& levels, std::int64_t key, std::int64_t lots) noexcept;
    void clear_side(side_levels& levels) noexcept;

    // -- deep part ----------------------------------------------------------------------------
    /// Directory slot whose block should hold key (the first with max >= key, else the last).
    [[nodiscard]] static std::size_t find_slot(const deep_levels& levels,
                                               std::int64_t key) noexcept;
    /// First index in the block whose key is >= key.
    [[nodiscard]] static std::size_t find_in_block(const deep_levels& levels, std::uint32_t block,
                                                   std::int64_t key) noexcept;
    static void clear_deep(deep_levels& levels) noexcept;
    static void insert_at(deep_levels& levels, std::size_t slot, std::size_t pos, std::int64_t key,
                          std::int64_t lots) noexcept;
    /// Inserts key into a directory that may be empty.
    static void deep_insert(deep_levels& levels, std::int64_t key, std::int64_t lots) noexcept;
    /// Appends a key larger than every stored one.
    static void deep_append(deep_levels& levels, std::int64_t key, std::int64_t lots) noexcept;
    static void erase_at(deep_levels& levels, std::size_t slot, std::size_t pos) noexcept;
    static void remove_slot(deep_levels& levels, std::size_t slot) noexcept;
    static void merge_if_sparse(deep_levels& levels, std::size_t slot) noexcept;

    /// An auto_window book before its first level: the window is sized at the first one.
    void size_window(std::int64_t price_ticks);

    bool window_pending_;
    std::size_t window_ticks_;
    std::uint64_t window_mask_;
    std::size_t window_words_; ///< window_ticks_ / 64.
    side_levels bids_;
    side_levels asks_;
    std::uint64_t truncated_ = 0;
    instance_tag instance_;
};

} // namespace quoter::md
