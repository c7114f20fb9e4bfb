// md_event: the compact, fixed-size, trivially copyable message the market-data thread sends to
// the core thread through core::spsc_ring. It carries either a book update (the best bid and ask),
// a trade print, or a feed-state change, always with the feed state and book validity, so the
// core can never mistake a half-synced, stale or crossed book for a tradable one. The levels
// below the top travel apart, in an md_depth record, and only to a consumer that asked for them
// (see "Depth" below).
//
// Invariants: bid_count/ask_count <= md_top_levels count the levels the book has in its top K
// (0 on a side leaves that side's top empty); top.bid is the best bid and top.ask the best ask
// of a book or state event; the `book_valid` flag is set only when state == synced and the book
// is not crossed. Prices are ticks and quantities book lots of the symbol's book spec (see
// instrument.hpp).
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
// a kernel without receive stamps). They stay full 64-bit stamps: narrower deltas from read_ns
// would save bytes the layout below does not need.
//
// Layout: 120 bytes, no alignas(64): in core::spsc_ring the slot's 8-byte sequence word follows
// the event and a slot is exactly two cache lines (128 bytes, one aligned pair, which the
// adjacent-line prefetcher moves together). An event is one kind, so the trade print and the top
// of book share their 32 bytes (`top` for book and state events, `trade` for trade events; the
// other member is meaningless).
//
// Depth: the top-K levels of both sides (K = md_top_levels) of an event with a valid book (a book
// event, or the state event of a book turning synced) go in an md_depth record, and only when the
// consumer registered that it wants them (md_event_sink::wants_depth: a simulated exchange
// consumes the feed for its queue positions and fills). The event then has
// md_flags::has_depth set and its record carries the same `sequence`. Between threads the record
// travels in a second SPSC ring beside the event ring, pushed just before its event and dropped
// with it when either ring is full, so the consumer finds the record of an event flagged
// has_depth at the front of the depth ring; and only when the levels below the top changed since
// the symbol's last record: an event whose depth differs from that record only in the best levels
// crosses alone, flagged md_flags::depth_kept, and the consumer rebuilds its depth from the kept
// record and the event's top (see depth_handoff.hpp). A consumer that does not ask (a live
// session) gets and pays for none.
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

/// Levels per side carried by an md_depth record (compile-time: QUOTER_MD_TOP_LEVELS, default 10).
inline constexpr std::size_t md_top_levels = QUOTER_MD_TOP_LEVELS;

enum class md_event_kind : std::uint8_t {
    book,  ///< Top-of-book changed (diff, snapshot or bookTicker refresh).
    trade, ///< A trade print (trade or aggTrade).
    state, ///< The feed state changed; the top is the book's when it is valid, else empty.
};

/// Flags of an md_event (bit set).
struct md_flags {
    static constexpr std::uint8_t book_valid = 1U << 0;  ///< Synced, not crossed: tradable.
    static constexpr std::uint8_t crossed = 1U << 1;     ///< Best bid >= best ask.
    static constexpr std::uint8_t from_ticker = 1U << 2; ///< Top refreshed by a bookTicker.
    static constexpr std::uint8_t snapshot = 1U << 3;    ///< First book after a snapshot.
    /// An md_depth record with the same sequence goes with this event (see "Depth").
    static constexpr std::uint8_t has_depth = 1U << 4;
    /// Set by a ring hand-off instead of has_depth: the event has depth but no record crossed
    /// with it; its depth is its symbol's last record with the event's top as the best levels.
    static constexpr std::uint8_t depth_kept = 1U << 5;
};

/// One trade print.
struct md_trade {
    core::price px;
    core::qty qty;
    std::int64_t trade_id = 0;              ///< trade id ("t") or aggregate trade id ("a").
    std::uint32_t count = 0;                ///< Trades aggregated into this print (1 for a trade).
    core::side aggressor = core::side::buy; ///< Taker side: sell when the buyer was the maker.
};

/// The best level of each side.
struct md_top {
    core::book_level bid; ///< Best bid; empty when bid_count == 0.
    core::book_level ask; ///< Best ask; empty when ask_count == 0.
};

struct md_event {
    /// An empty state event (the top, the active member of the union below, zero).
    constexpr md_event() noexcept : top{} {}

    md_event_kind kind = md_event_kind::state;
    feed_state state = feed_state::connecting;
    market venue = market::spot;
    std::uint8_t flags = 0;
    symbol_id symbol = invalid_symbol;
    std::uint8_t bid_count = 0; ///< Bid levels in the book's top K (those an md_depth carries).
    std::uint8_t ask_count = 0; ///< Ask levels in the book's top K.
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
    union {
        md_top top;     ///< Book and state events.
        md_trade trade; ///< Trade events.
    };

    [[nodiscard]] constexpr bool book_valid() const noexcept {
        return (flags & md_flags::book_valid) != 0;
    }
    /// Synced, not crossed, both sides present: a top that quotes can be priced against.
    [[nodiscard]] constexpr bool tradable_top() const noexcept {
        return book_valid() && bid_count > 0 && ask_count > 0;
    }
    [[nodiscard]] constexpr bool has_depth() const noexcept {
        return (flags & md_flags::has_depth) != 0;
    }
    [[nodiscard]] constexpr bool depth_kept() const noexcept {
        return (flags & md_flags::depth_kept) != 0;
    }
    [[nodiscard]] constexpr core::book_level best_bid() const noexcept {
        return bid_count == 0 ? core::book_level{} : top.bid;
    }
    [[nodiscard]] constexpr core::book_level best_ask() const noexcept {
        return ask_count == 0 ? core::book_level{} : top.ask;
    }
};

/// The top-K levels of both sides of one event with a valid book (see "Depth" above). Invariants:
/// bid_count/ask_count equal the event's; bids[0..bid_count) best first (descending prices),
/// asks[0..ask_count) best first (ascending prices), the levels beyond the counts empty.
template <std::size_t K> struct basic_md_depth {
    static constexpr std::size_t top_levels = K;

    std::uint64_t sequence = 0; ///< The event's sequence: pairs the record with its event.
    symbol_id symbol = invalid_symbol;
    std::uint8_t bid_count = 0;
    std::uint8_t ask_count = 0;
    std::array<core::book_level, K> bids{};
    std::array<core::book_level, K> asks{};
};

using md_depth = basic_md_depth<md_top_levels>;

static_assert(std::is_trivially_copyable_v<md_event>, "md_event crosses threads by copy");
static_assert(std::is_trivially_copyable_v<md_depth>, "md_depth crosses threads by copy");
// The ring moves whole cache lines: the event and the ring's 8-byte slot sequence word fill two.
static_assert(sizeof(md_event) == 120, "md_event's layout changed: see the Layout note");
static_assert(sizeof(md_event) + sizeof(std::uint64_t) <= 2 * 64,
              "md_event and its ring sequence word grew past two cache lines");
static_assert(sizeof(md_trade) <= sizeof(md_top), "a trade print fits the top's storage");
static_assert(md_top_levels >= 1 && md_top_levels <= 255, "top levels must fit bid_count");

} // namespace quoter::md
