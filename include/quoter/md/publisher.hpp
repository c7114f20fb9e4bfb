// md_publisher: turns book_sync results and decoded trades into md_events and hands them to a
// sink (normally the SPSC ring to the core thread).
//
// Invariants: every event carries the symbol's current feed state; `book_valid` is set only
// when book_sync::book_valid() holds (synced, not crossed); levels are copied only from a valid
// book, so a half-synced or resyncing book never reaches the core; sequence numbers increase by
// one per event handed to the sink, and symbol_sequence by one per event of that symbol.
//
// Events are built in two long-lived scratch events (book/state and trade) rather than in a fresh,
// zero-filled one per message: only the header and the levels in use are written, and levels a
// previous event used beyond the current counts are cleared, so every event handed to the sink
// has the same contents as a freshly constructed one. When consecutive book events come from the
// same book, a side whose top levels did not change (order_book::top_version) is not copied
// again, and one whose levels kept their prices only re-reads their quantities: a bookTicker that
// confirms the top, or a diff that only touches deep levels, rebuilds nothing.
//
// Thread ownership: md thread only. No allocation after construction (a symbol id beyond the
// count given to the constructor grows the per-symbol counters once).
#pragma once

#include "quoter/core/book_level.hpp"
#include "quoter/core/spsc_ring.hpp"
#include "quoter/md/binance_decoder.hpp"
#include "quoter/md/book_sync.hpp"
#include "quoter/md/md_event.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace quoter::md {

/// Receives published events. Implementations must not block.
class md_event_sink {
public:
    virtual ~md_event_sink() = default;
    virtual void on_event(const md_event& event) noexcept = 0;
};

/// Pushes events into an SPSC ring; a full ring drops the event and counts it (the core then
/// sees a sequence gap and treats the book as unknown until the next event).
template <std::size_t Capacity> class ring_event_sink final : public md_event_sink {
public:
    explicit ring_event_sink(core::spsc_ring<md_event, Capacity>& ring) noexcept : ring_(ring) {}
    void on_event(const md_event& event) noexcept override {
        if (!ring_.try_push(event)) {
            ++dropped_;
        }
    }
    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

private:
    core::spsc_ring<md_event, Capacity>& ring_;
    std::uint64_t dropped_ = 0;
};

class md_publisher {
public:
    /// symbols: symbol ids in use (0..symbols), for the per-symbol sequence counters.
    explicit md_publisher(md_event_sink& sink, std::size_t symbols = 1)
        : sink_(sink), symbol_sequences_(symbols, 0) {}

    /// Publishes what a sync call changed: a state event when the state changed (with the
    /// levels when the new state is a valid book), else a book event when the book changed.
    void publish(const book_sync& sync, const sync_outcome& outcome,
                 core::timestamp_ns local_ns) noexcept;
    /// Publishes a state event with the current book (if valid).
    void publish_state(const book_sync& sync, core::timestamp_ns local_ns) noexcept;
    /// Publishes a trade print.
    void publish_trade(const book_sync& sync, const decoded_trade& trade,
                       core::timestamp_ns local_ns) noexcept;

    /// Events handed to the sink so far.
    [[nodiscard]] std::uint64_t published() const noexcept { return sequence_; }
    /// Events of one symbol handed to the sink so far.
    [[nodiscard]] std::uint64_t published(symbol_id symbol) const noexcept {
        return symbol < symbol_sequences_.size() ? symbol_sequences_[symbol] : 0;
    }

private:
    /// Fills book_event_ for sync with the given kind and flags.
    void fill_book(const book_sync& sync, md_event_kind kind, std::uint8_t flags,
                   core::timestamp_ns local_ns) noexcept;
    void emit(md_event& event) noexcept;

    md_event_sink& sink_;
    std::uint64_t sequence_ = 0;
    /// Last symbol_sequence per symbol id.
    std::vector<std::uint64_t> symbol_sequences_;
    md_event book_event_{};  ///< Book and state events; trade stays zero.
    md_event trade_event_{}; ///< Trade events; levels and counts stay zero.
    /// A side's order_book::top_version() and top_layout_version() when its levels were read.
    struct side_versions {
        std::uint64_t all = 0;
        std::uint64_t layout = 0;
    };

    /// Brings one side of book_event_ (count levels) up to date with book; returns its count.
    static std::size_t refresh_side(const order_book& book, core::side s, bool same_book,
                                    std::span<core::book_level> levels, std::size_t count,
                                    side_versions& versions) noexcept;

    /// order_book::instance_id() of the book whose levels book_event_ holds; 0 for none.
    std::uint64_t levels_book_ = 0;
    side_versions bid_versions_;
    side_versions ask_versions_;
};

} // namespace quoter::md
