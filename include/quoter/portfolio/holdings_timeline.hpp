// holdings_timeline: which fills a venue's reading of the account's holdings already holds, told
// apart by the venue's own clock.
//
// A reading (spot balances, a futures position or wallet) is as of a venue time S: every fill
// the venue stamped no later than S is in it, none stamped later. The account books fills as
// their reports arrive, which is in no fixed order relative to the reading's answer. So that
// adopting a reading neither undoes a fill booked before it that the venue made after S, nor
// books twice a fill the reading holds whose report comes after it:
//   - every fill the account books is recorded here with its venue time and what it moved
//     (position, cash, cost basis); the adopted holdings are the reading plus the recorded fills
//     stamped after S (after()), the last `capacity` of them;
//   - once adopted, a fill stamped no later than S is held (holds()): it moves no holdings
//     again.
// Equal milliseconds: a fill stamped S counts as in the reading. The reading's time is that of
// its latest change, which the fill stamped S most likely is; a second fill in the same
// millisecond after the reading was taken is then left out until the next reading shows it.
// A venue time of 0 is one the venue did not tell: such a fill is never held and never added,
// and a reading without a time is adopted as it is, holding nothing.
//
// Invariants: no allocation, trivially copyable. Core thread only.
#pragma once

#include "quoter/core/fixed_point.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace quoter::portfolio {

/// What fills moved in an account, notional units where money.
struct holdings_change {
    core::qty position;
    std::int64_t cash_units = 0;
    std::int64_t cost_units = 0; ///< Cost basis.
    /// Third fee asset (BNB) held, 10^-8 units: what fees charged in it took.
    std::int64_t fee_asset_e8 = 0;
};

class holdings_timeline {
public:
    /// Fills kept; far more than arrive between a reading and its adoption.
    static constexpr std::size_t capacity = 256;

    /// A fill the account booked, stamped venue_ms on the venue's clock (0: not told, not kept).
    void record(std::int64_t venue_ms, const holdings_change& change) noexcept;

    struct sum {
        holdings_change change;
        /// False when a fill stamped after the time asked for may have been dropped (more than
        /// capacity since): the sum is then short.
        bool complete = true;
    };
    /// The recorded fills stamped after venue_ms, summed.
    [[nodiscard]] sum after(std::int64_t venue_ms) const noexcept;

    /// The account adopted a reading as of venue_ms: from now on a fill stamped no later is
    /// held. Never moves back.
    void hold_through(std::int64_t venue_ms) noexcept;
    /// True for a fill the adopted holdings hold already (venue_ms known and no later than the
    /// latest adopted reading).
    [[nodiscard]] bool holds(std::int64_t venue_ms) const noexcept {
        return venue_ms != 0 && venue_ms <= held_through_ms_;
    }
    /// Venue time of the latest reading adopted (0: none).
    [[nodiscard]] std::int64_t held_through_ms() const noexcept { return held_through_ms_; }

private:
    struct entry {
        std::int64_t venue_ms = 0;
        holdings_change change;
    };
    std::array<entry, capacity> entries_{};
    std::size_t next_ = 0;  ///< Where the next record goes.
    std::size_t count_ = 0; ///< Entries in use (<= capacity).
    /// Latest venue time of a fill dropped to make room.
    std::int64_t dropped_latest_ms_ = 0;
    std::int64_t held_through_ms_ = 0;
};

} // namespace quoter::portfolio
