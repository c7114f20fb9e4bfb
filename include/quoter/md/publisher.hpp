// md_publisher: turns book_sync results and decoded trades into md_events and hands them to a
// sink (normally the SPSC ring to the core thread).
//
// Invariants: every event carries the symbol's current feed state; `book_valid` is set only
// when book_sync::book_valid() holds (synced, not crossed); levels are copied only from a valid
// book, so a half-synced or resyncing book never reaches the core; sequence numbers increase by
// one per event handed to the sink, and symbol_sequence by one per event of that symbol.
//
// Events are built in two long-lived scratch events (book/state and trade) and one depth record
// rather than in fresh, zero-filled ones per message: only the header and the levels in use are
// written, and levels a previous event used beyond the current counts are cleared, so every
// record handed to the sink has the same contents as a freshly constructed one. When consecutive
// book events come from the same book, a side whose top levels did not change
// (order_book::top_version) is not copied again, and one whose levels kept their prices only
// re-reads their quantities: a bookTicker that confirms the top, or a diff that only touches deep
// levels, rebuilds nothing. The event's top and counts come from that record; the record itself
// goes to the sink only when it wants depth (md_event_sink::wants_depth), and only with events of
// a valid book (book events, and the state event of a book turning synced).
//
// Thread ownership: md thread only. No allocation after construction (a symbol id beyond the
// count given to the constructor grows the per-symbol counters once).
#pragma once

#include "quoter/core/book_level.hpp"
#include "quoter/core/spsc_ring.hpp"
#include "quoter/md/binance_decoder.hpp"
#include "quoter/md/book_sync.hpp"
#include "quoter/md/depth_handoff.hpp"
#include "quoter/md/md_event.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace quoter::md {

/// Receives published events. Implementations must not block.
///
/// Depth: a sink whose consumer needs the top-K levels below the top (a simulated exchange)
/// calls want_depth(true); the publisher then hands it each event of a valid book through
/// on_event_depth(), the event flagged md_flags::has_depth and its md_depth record carrying the
/// event's sequence. Every other event, and every event of a sink that did not ask, comes through
/// on_event() with no record.
class md_event_sink {
public:
    virtual ~md_event_sink() = default;
    virtual void on_event(const md_event& event) noexcept = 0;
    /// An event of a valid book and its depth, for a sink that wants depth. The default drops the
    /// record (and hands the event on with its has_depth flag cleared).
    virtual void on_event_depth(const md_event& event, const md_depth& depth) noexcept {
        (void)depth;
        md_event copy = event;
        copy.flags = static_cast<std::uint8_t>(copy.flags & ~md_flags::has_depth);
        on_event(copy);
    }
    /// Whether the consumer asked for depth (read by the publisher on every valid book).
    [[nodiscard]] bool wants_depth() const noexcept { return wants_depth_; }

protected:
    void want_depth(bool on) noexcept { wants_depth_ = on; }

private:
    bool wants_depth_ = false;
};

/// Pushes events into an SPSC ring; a full ring drops the event and counts it (the core then
/// sees a sequence gap and treats the book as unknown until the next event). Given a depth ring
/// too, the sink wants depth and sends it through a depth_sender: a valid book's record, when its
/// levels below the top changed, goes into the depth ring just before the event, and only when
/// both rings have room (a full one drops both, so the two rings never disagree); the consumer
/// reads the depth with a depth_receiver.
template <std::size_t Capacity, std::size_t DepthCapacity = Capacity>
class ring_event_sink final : public md_event_sink {
public:
    explicit ring_event_sink(core::spsc_ring<md_event, Capacity>& ring) noexcept : ring_(ring) {}
    ring_event_sink(core::spsc_ring<md_event, Capacity>& ring,
                    core::spsc_ring<md_depth, DepthCapacity>& depth) noexcept
        : ring_(ring), depth_(&depth) {
        want_depth(true);
    }
    void on_event(const md_event& event) noexcept override {
        if (!ring_.try_push(event)) {
            ++dropped_;
        }
    }
    void on_event_depth(const md_event& event, const md_depth& depth) noexcept override {
        if (!depth_sender_.push(ring_, *depth_, event, depth)) {
            ++dropped_;
        }
    }
    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }
    [[nodiscard]] const depth_sender& depth_sent() const noexcept { return depth_sender_; }

private:
    core::spsc_ring<md_event, Capacity>& ring_;
    core::spsc_ring<md_depth, DepthCapacity>* depth_ = nullptr;
    depth_sender depth_sender_;
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
    /// Numbers event (sequence and symbol_sequence).
    void number(md_event& event) noexcept;
    /// Numbers a trade event and hands it to the sink.
    void emit(md_event& event) noexcept;
    /// Numbers book_event_ and hands it to the sink, with depth_ when the sink wants it.
    void emit_book() noexcept;

    md_event_sink& sink_;
    std::uint64_t sequence_ = 0;
    /// Last symbol_sequence per symbol id.
    std::vector<std::uint64_t> symbol_sequences_;
    md_event book_event_{};  ///< Book and state events.
    md_event trade_event_{}; ///< Trade events; counts stay zero.
    /// The top-K levels of the book book_event_ was last built from: the source of the event's
    /// top and counts, and the record handed to a sink that wants depth.
    md_depth depth_{};
    /// A side's order_book::top_version() and top_layout_version() when its levels were read.
    struct side_versions {
        std::uint64_t all = 0;
        std::uint64_t layout = 0;
    };

    /// Brings one side of depth_ (count levels) up to date with book; returns its count.
    static std::size_t refresh_side(const order_book& book, core::side s, bool same_book,
                                    std::span<core::book_level> levels, std::size_t count,
                                    side_versions& versions) noexcept;

    /// order_book::instance_id() of the book whose levels depth_ holds; 0 for none.
    std::uint64_t levels_book_ = 0;
    side_versions bid_versions_;
    side_versions ask_versions_;
};

} // namespace quoter::md
