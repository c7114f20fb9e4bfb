// md_event: the fixed-size, trivially copyable message the market-data thread sends to the core
// thread through core::spsc_ring. It carries either a book update (top-K levels per side), a
// trade print, or a feed-state change, always with the feed state and book validity, so the
// core can never mistake a half-synced, stale or crossed book for a tradable one.
//
// Invariants: bid_count/ask_count <= top_levels; bids[0..bid_count) best first (descending
// prices), asks[0..ask_count) best first (ascending prices); the `book_valid` flag is set only
// when state == synced and the book is not crossed. Prices are ticks and quantities book lots of
// the symbol's book spec (see instrument.hpp).
//
// Sequence numbers: `symbol_sequence` counts the events of one symbol (book, state and trade)
// from 1, set by the publisher; the consumer treats a hole as lost events of that symbol (a
// dropped resyncing or stale state among them, possibly), i.e. stale data until the next
// consistent book. 0 means "not numbered" (hand-made events). `sequence` counts every event of
// the publisher (or of the sink that renumbers them) across symbols.
//
// Clocks: local_ns is wall-clock time (it compares with exchange_ns and dates captures); the
// latency stamps kernel_ns, received_ns, read_ns, decoded_ns and pushed_ns are on
// core::tsc_clock::process(), the one clock every hop of the tick-to-order path is stamped on
// (see core/tick_latency.hpp), 0 where the producer does not stamp (replays, hand-made events,
// a kernel without receive stamps).
//
// Layout: no alignas(64), so that in core::spsc_ring the slot's sequence word fits in the padding
// after the levels and a slot is exactly seven cache lines (440 bytes and the 8-byte word at the
// default depth: the seven lines are full). The stamps sit in the first two lines.
#pragma once

#include "quoter/core/book_level.hpp"
#include "quoter/core/fixed_point.hpp"
#include "quoter/core/time.hpp"
#include "quoter/md/feed_state.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/md/order_book.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#ifndef QUOTER_MD_TOP_LEVELS
#define QUOTER_MD_TOP_LEVELS 10
#endif

namespace quoter::md {

/// Levels per side carried by an md_event (compile-time: QUOTER_MD_TOP_LEVELS, default 10).
inline constexpr std::size_t md_top_levels = QUOTER_MD_TOP_LEVELS;

enum class md_event_kind : std::uint8_t {
    book,  ///< Top-of-book changed (diff, snapshot or bookTicker refresh).
    trade, ///< A trade print (trade or aggTrade).
    state, ///< The feed state changed; the levels are empty.
};

/// Flags of an md_event (bit set).
struct md_flags {
    static constexpr std::uint8_t book_valid = 1U << 0;  ///< Synced, not crossed: tradable.
    static constexpr std::uint8_t crossed = 1U << 1;     ///< Best bid >= best ask.
    static constexpr std::uint8_t from_ticker = 1U << 2; ///< Top refreshed by a bookTicker.
    static constexpr std::uint8_t snapshot = 1U << 3;    ///< First book after a snapshot.
};

/// One trade print.
struct md_trade {
    core::price px;
    core::qty qty;
    std::int64_t trade_id = 0;              ///< trade id ("t") or aggregate trade id ("a").
    std::uint32_t count = 0;                ///< Trades aggregated into this print (1 for a trade).
    core::side aggressor = core::side::buy; ///< Taker side: sell when the buyer was the maker.
};

template <std::size_t K> struct basic_md_event {
    static constexpr std::size_t top_levels = K;

    md_event_kind kind = md_event_kind::state;
    feed_state state = feed_state::connecting;
    market venue = market::spot;
    std::uint8_t flags = 0;
    symbol_id symbol = invalid_symbol;
    std::uint8_t bid_count = 0;
    std::uint8_t ask_count = 0;
    /// Book: the book's last applied update id (diff u or bookTicker u). Trade: trade time id.
    std::uint64_t update_id = 0;
    core::timestamp_ns exchange_ns = 0; ///< Exchange event time (E, or T for trades); 0 if none.
    core::timestamp_ns local_ns = 0;    ///< Local receive time of the message.
    std::uint64_t sequence = 0;         ///< Per-publisher counter, to detect drops.
    std::uint64_t symbol_sequence = 0;  ///< Per-symbol counter from 1 (0: not numbered).
    core::timestamp_ns kernel_ns = 0;   ///< The kernel received the frame's last bytes (tsc).
    core::timestamp_ns received_ns = 0; ///< The socket read of those bytes returned (tsc).
    core::timestamp_ns read_ns = 0;     ///< The frame's socket read completed (tsc clock).
    core::timestamp_ns decoded_ns = 0;  ///< Decoded, applied to the book, event built.
    core::timestamp_ns pushed_ns = 0;   ///< Committed to the md -> core ring.
    md_trade trade{};
    std::array<core::book_level, K> bids{};
    std::array<core::book_level, K> asks{};

    [[nodiscard]] constexpr bool book_valid() const noexcept {
        return (flags & md_flags::book_valid) != 0;
    }
    [[nodiscard]] constexpr core::book_level best_bid() const noexcept {
        return bid_count == 0 ? core::book_level{} : bids[0];
    }
    [[nodiscard]] constexpr core::book_level best_ask() const noexcept {
        return ask_count == 0 ? core::book_level{} : asks[0];
    }
};

using md_event = basic_md_event<md_top_levels>;

static_assert(std::is_trivially_copyable_v<md_event>, "md_event crosses threads by copy");
// The ring moves whole cache lines: an event at the default depth and the ring's 8-byte slot
// sequence word fill seven of them.
static_assert(sizeof(basic_md_event<10>) + sizeof(std::uint64_t) <= 7 * 64,
              "md_event and its ring sequence word grew past seven cache lines");
static_assert(md_top_levels >= 1 && md_top_levels <= 255, "top levels must fit bid_count");

} // namespace quoter::md
