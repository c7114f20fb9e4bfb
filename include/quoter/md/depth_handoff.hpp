// depth_handoff: the depth of valid books between the md thread and the core thread, through an
// md_depth ring beside the event ring, sending a record only when the levels below the top
// changed.
//
// Most book events move only the best level of a side (a bookTicker refresh, a diff that touches
// the best quantity), and the event already carries the best levels (md_event::top). So each side
// keeps, per symbol, the last record that crossed: the producer (depth_sender) sends a new record
// only when the depth it is handed differs from that record anywhere but in the best levels, and
// otherwise flags the event md_flags::depth_kept and sends no record; the consumer
// (depth_receiver) takes the record of an event flagged has_depth into its copy, and for an event
// flagged depth_kept writes the event's top into the copy's best levels. Either way the consumer
// ends up with exactly the record the producer was handed, numbered with the event's sequence.
// A record is six cache lines to move between cores, an event two: on the captures, about five
// book events in six need no record.
//
// Invariants:
// - both sides keep the same table: depth_handoff_symbols records, one per symbol id modulo the
//   size (a record names its symbol, so two symbols in one entry only cost records, never mix);
// - the sender updates its table only when the event ring took the event (and the depth ring its
//   record), so a dropped event never leaves the two tables apart;
// - the receiver sees every event the ring delivers, in order, and is asked for the depth of each
//   one (depth_receiver::take) before the next, whether or not the consumer uses it: skipping an
//   event with a record would leave the record in the depth ring and the tables apart.
//
// Thread ownership: depth_sender on the producer thread, depth_receiver on the consumer thread.
// No allocation.
#pragma once

#include "quoter/core/spsc_ring.hpp"
#include "quoter/md/md_event.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace quoter::md {

/// Entries of the per-symbol tables both sides of a depth hand-off keep (a symbol's entry is its
/// id modulo this). The same number on both sides is part of the protocol.
inline constexpr std::size_t depth_handoff_symbols = 16;

/// Producer side of an event and its depth record: claims a slot in both rings, fills them
/// (build(md_event&) may adjust the event in its slot, e.g. number and stamp it, after the
/// copy), commits the record, then the event. Returns false, committing neither, when either
/// ring is full. The record is published before its event, so a consumer that sees the event
/// finds the record at the front of the depth ring. The record always crosses: depth_sender is
/// the form that sends only changed depths.
template <std::size_t Capacity, std::size_t DepthCapacity, class Build>
[[nodiscard]] bool push_with_depth(core::spsc_ring<md_event, Capacity>& events,
                                   core::spsc_ring<md_depth, DepthCapacity>& depths,
                                   const md_event& event, const md_depth& depth,
                                   Build&& build) noexcept {
    md_depth* depth_slot = depths.try_claim();
    if (depth_slot == nullptr) {
        return false;
    }
    md_event* event_slot = events.try_claim();
    if (event_slot == nullptr) {
        return false; // the claimed depth slot stays unpublished and is claimed again next time
    }
    *depth_slot = depth;
    *event_slot = event;
    build(*event_slot);
    event_slot->flags = static_cast<std::uint8_t>((event_slot->flags | md_flags::has_depth) &
                                                  ~md_flags::depth_kept);
    depth_slot->sequence = event_slot->sequence;
    depths.commit();
    events.commit();
    return true;
}

template <std::size_t Capacity, std::size_t DepthCapacity>
[[nodiscard]] bool push_with_depth(core::spsc_ring<md_event, Capacity>& events,
                                   core::spsc_ring<md_depth, DepthCapacity>& depths,
                                   const md_event& event, const md_depth& depth) noexcept {
    return push_with_depth(events, depths, event, depth, [](md_event&) noexcept {});
}

/// Whether depth is kept with only its best levels replaced by event's top: same symbol, same
/// counts, same levels below the best, and the best levels those of the event.
[[nodiscard]] inline bool same_below_top(const md_depth& kept, const md_event& event,
                                         const md_depth& depth) noexcept {
    static_assert(std::is_trivially_copyable_v<core::book_level> &&
                      sizeof(core::book_level) == 2 * sizeof(std::int64_t),
                  "levels compare as bytes: no padding");
    constexpr std::size_t below_top = (md_depth::top_levels - 1) * sizeof(core::book_level);
    return kept.symbol == depth.symbol && kept.bid_count == depth.bid_count &&
           kept.ask_count == depth.ask_count && depth.bids[0] == event.top.bid &&
           depth.asks[0] == event.top.ask &&
           std::memcmp(&kept.bids[1], &depth.bids[1], below_top) == 0 &&
           std::memcmp(&kept.asks[1], &depth.asks[1], below_top) == 0;
}

/// The producer's side of the hand-off (see the file comment). Producer thread only.
class depth_sender {
public:
    /// Pushes event with its depth: with a record when the depth below the top changed since the
    /// symbol's last record (flagged has_depth), else alone (flagged depth_kept). build(md_event&)
    /// runs on the event in its slot, as in push_with_depth. Returns false, pushing nothing and
    /// keeping the table, when a ring is full.
    template <std::size_t Capacity, std::size_t DepthCapacity, class Build>
    [[nodiscard]] bool push(core::spsc_ring<md_event, Capacity>& events,
                            core::spsc_ring<md_depth, DepthCapacity>& depths, const md_event& event,
                            const md_depth& depth, Build&& build) noexcept {
        md_depth& kept = kept_[event.symbol % depth_handoff_symbols];
        if (same_below_top(kept, event, depth)) {
            md_event* slot = events.try_claim();
            if (slot == nullptr) {
                return false;
            }
            *slot = event;
            build(*slot);
            slot->flags = static_cast<std::uint8_t>((slot->flags | md_flags::depth_kept) &
                                                    ~md_flags::has_depth);
            events.commit();
            ++kept_events_;
            return true;
        }
        if (!push_with_depth(events, depths, event, depth, build)) {
            return false;
        }
        kept = depth;
        ++records_;
        return true;
    }

    template <std::size_t Capacity, std::size_t DepthCapacity>
    [[nodiscard]] bool push(core::spsc_ring<md_event, Capacity>& events,
                            core::spsc_ring<md_depth, DepthCapacity>& depths, const md_event& event,
                            const md_depth& depth) noexcept {
        return push(events, depths, event, depth, [](md_event&) noexcept {});
    }

    /// Events pushed with a record.
    [[nodiscard]] std::uint64_t records() const noexcept { return records_; }
    /// Events pushed flagged depth_kept, without one.
    [[nodiscard]] std::uint64_t kept_events() const noexcept { return kept_events_; }

private:
    /// The last record each entry's symbol sent (symbol invalid_symbol: none yet).
    std::array<md_depth, depth_handoff_symbols> kept_{};
    std::uint64_t records_ = 0;
    std::uint64_t kept_events_ = 0;
};

/// The consumer's side of the hand-off (see the file comment). Consumer thread only.
class depth_receiver {
public:
    /// The depth of event, which the consumer just read at the front of the event ring: its
    /// record, taken from the front of depths into the symbol's entry (has_depth), or the
    /// symbol's entry with the event's top (depth_kept); nullptr for an event without depth.
    /// Call once for every event the ring delivers, in order. The record stays valid until the
    /// next call.
    template <std::size_t DepthCapacity>
    [[nodiscard]] const md_depth* take(const md_event& event,
                                       core::spsc_ring<md_depth, DepthCapacity>& depths) noexcept {
        if (event.has_depth()) {
            const md_depth* record = depths.front();
            if (record == nullptr) [[unlikely]] {
                return nullptr; // never with a depth_sender or push_with_depth producer
            }
            md_depth& kept = kept_[event.symbol % depth_handoff_symbols];
            kept = *record;
            depths.pop();
            return &kept;
        }
        if (event.depth_kept()) {
            md_depth& kept = kept_[event.symbol % depth_handoff_symbols];
            kept.sequence = event.sequence;
            kept.bids[0] = event.top.bid;
            kept.asks[0] = event.top.ask;
            return &kept;
        }
        return nullptr;
    }

private:
    std::array<md_depth, depth_handoff_symbols> kept_{};
};

} // namespace quoter::md
