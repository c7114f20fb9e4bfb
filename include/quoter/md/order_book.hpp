// order_book: one symbol's full-depth price-level book (aggregated quantity per price), as
// Binance's depth streams describe it, with exact integer prices and quantities.
//
// Layout. Each side is a sequence of small sorted blocks (64 levels, keys and quantities as
// struct of arrays) kept in a directory ordered by key, with the best level at the END: bids by
// ascending price, asks stored as negated prices, so one ascending-key implementation serves both
// sides. Top-of-book changes touch the last block only; a change deep in the book moves at most
// one block's elements instead of everything above it (Binance's depth streams update levels
// across the whole book); the directory of block maxima is a short contiguous array. A lookup
// first checks the best end (top-of-book updates), then binary-searches the directory and the
// block with conditional adds instead of branches: updates deep in the book would otherwise
// mispredict about half of the search's comparisons. All blocks come from a pool sized at
// construction.
//
// Invariants: keys strictly ascending across the directory; every stored quantity is positive (a
// zero quantity erases the level); no block is empty and any two adjacent blocks hold more than
// half a block together (so the pool always suffices); a side never holds more than its
// capacity, and no member function allocates after construction. When a side is full, the worst
// level is dropped to make room for a better one (and a new level worse than every stored one is
// not stored); both count as truncated levels, which only a book deeper than its capacity sees.
//
// Thread ownership: single-threaded; owned by the market-data thread.
#pragma once

#include "quoter/core/fixed_point.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace quoter::md {

/// One aggregated price level: a price and the total quantity displayed at it.
struct book_level {
    core::price px;
    core::qty qty;

    friend constexpr bool operator==(const book_level&, const book_level&) = default;
};

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

    /// Allocates both sides once; nothing allocates afterwards.
    explicit order_book(std::size_t max_levels_per_side = default_max_levels);

    /// Sets the quantity at a price; a zero (or negative) quantity erases the level.
    level_change set(core::side s, core::price px, core::qty q) noexcept;
    /// Removes the level at px; returns whether it existed.
    bool erase(core::side s, core::price px) noexcept;
    /// Removes every level whose price is strictly better than px (bids above, asks below).
    /// Returns how many levels were removed.
    std::size_t erase_better_than(core::side s, core::price px) noexcept;
    /// Replaces a side with the given levels (a snapshot). Levels in best-first order (as Binance
    /// sends them) load in one linear pass; any other order falls back to set() per level.
    /// Zero quantities are skipped; beyond the capacity the worst levels are dropped.
    void assign(core::side s, std::span<const book_level> levels) noexcept;
    /// Empties both sides; keeps the capacity.
    void clear() noexcept;

    /// Number of levels on a side.
    [[nodiscard]] std::size_t depth(core::side s) const noexcept { return side_of(s).size; }
    [[nodiscard]] bool empty(core::side s) const noexcept { return side_of(s).size == 0; }
    [[nodiscard]] std::size_t capacity() const noexcept { return bids_.capacity; }

    /// The i-th best level of a side (0 = best); i must be below depth(s).
    [[nodiscard]] book_level level(core::side s, std::size_t i) const noexcept;
    /// Best bid (s = buy) or best ask (s = sell); {price 0, qty 0} when the side is empty.
    [[nodiscard]] book_level best(core::side s) const noexcept {
        const auto& levels = side_of(s);
        return levels.size == 0 ? book_level{} : level(s, 0);
    }
    [[nodiscard]] book_level best_bid() const noexcept { return best(core::side::buy); }
    [[nodiscard]] book_level best_ask() const noexcept { return best(core::side::sell); }
    /// Quantity at a price; zero when there is no level.
    [[nodiscard]] core::qty qty_at(core::side s, core::price px) const noexcept;
    /// Copies up to out.size() best levels of a side, best first; returns how many.
    std::size_t top(core::side s, std::span<book_level> out) const noexcept;
    /// Both sides non-empty and best bid >= best ask.
    [[nodiscard]] bool crossed() const noexcept;
    /// Levels dropped because a side was full, since construction.
    [[nodiscard]] std::uint64_t truncated_levels() const noexcept { return truncated_; }

private:
    static constexpr std::size_t block_levels = 64;

    struct side_levels {
        std::vector<std::int64_t> keys;         ///< block_levels per physical block.
        std::vector<std::int64_t> lots;         ///< Quantity of keys[i], always positive.
        std::vector<std::uint32_t> block_size;  ///< Levels used in each physical block.
        std::vector<std::uint32_t> order;       ///< Physical block of each directory slot.
        std::vector<std::int64_t> block_max;    ///< Largest key of each directory slot.
        std::vector<std::uint32_t> free_blocks; ///< Stack of unused physical blocks.
        std::size_t blocks = 0;                 ///< Directory slots in use.
        std::size_t size = 0;
        std::size_t capacity = 0;
    };

    [[nodiscard]] const side_levels& side_of(core::side s) const noexcept {
        return s == core::side::buy ? bids_ : asks_;
    }
    [[nodiscard]] side_levels& side_of(core::side s) noexcept {
        return s == core::side::buy ? bids_ : asks_;
    }
    /// Bids keep their price, asks its negation: a larger key is always a better level.
    [[nodiscard]] static constexpr std::int64_t key_of(core::side s, core::price px) noexcept {
        return s == core::side::buy ? px.ticks() : -px.ticks();
    }
    [[nodiscard]] static constexpr core::price price_of(core::side s, std::int64_t key) noexcept {
        return core::price{s == core::side::buy ? key : -key};
    }
    /// Directory slot whose block should hold key (the first with max >= key, else the last).
    [[nodiscard]] static std::size_t find_slot(const side_levels& levels,
                                               std::int64_t key) noexcept;
    /// First index in the block whose key is >= key.
    [[nodiscard]] static std::size_t find_in_block(const side_levels& levels, std::uint32_t block,
                                                   std::int64_t key) noexcept;
    static void clear_side(side_levels& levels) noexcept;
    static void insert_at(side_levels& levels, std::size_t slot, std::size_t pos,
                          std::int64_t key, std::int64_t lots) noexcept;
    static void erase_at(side_levels& levels, std::size_t slot, std::size_t pos) noexcept;
    static void remove_slot(side_levels& levels, std::size_t slot) noexcept;
    static void merge_if_sparse(side_levels& levels, std::size_t slot) noexcept;

    side_levels bids_;
    side_levels asks_;
    std::uint64_t truncated_ = 0;
};

} // namespace quoter::md
