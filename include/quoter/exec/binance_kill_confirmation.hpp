// kill_confirmation: the confirmation of each symbol's kill in a Binance gateway's I/O thread,
// the same on spot and USD-M futures.
//
// A kill is held from the moment the owner's cancel-all is taken (sent(), or held() when it could
// not go out: held back by the rate limiter, the connection down) until a query of the symbol's
// open orders finds none of this instance's orders resting (answered() says confirmed), or the
// owner quotes again (end(): it resumed, since only IOC flatten orders go out while killed). Each
// request of a kill carries the kill's epoch; end() moves it on, so the answers to an ended
// kill's requests change nothing.
//
// The gateway asks check_due() which symbols to query. After the cancel-all's answer (or once it
// is lost) and after every query, check_again() or answered() sets when the next query goes out:
// check_delay_ms later. While orders rest the cancel-all is sent again (answered() says
// send_again); past confirm_attempts of these, answered() says once that the kill has given up
// (the owner raises the alarm) and the checks go on, eight check delays apart, until the venue
// confirms. A new kill starts a new budget.
//
// I/O thread only, but for unconfirmed(), which the owner's thread reads to refuse a resume while
// a kill it asked for is not confirmed. No allocation after construction, no exceptions.
#pragma once

#include "quoter/exec/binance_answer.hpp"
#include "quoter/exec/binance_client_id.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace quoter::exec {

/// True while `listed` (a symbol's open orders) holds an order a kill must remove: every order
/// of this instance (this run's or an earlier run's, as `ids` tells), and everyone else's only
/// with cancel_foreign_orders (an operator working the position by hand after a kill keeps
/// theirs).
[[nodiscard]] bool kill_must_remove(std::span<const answered_order> listed,
                                    const client_id_factory& ids,
                                    bool cancel_foreign_orders) noexcept;

class kill_confirmation {
public:
    struct settings {
        std::int64_t check_delay_ms = 200;
        std::uint32_t confirm_attempts = 5;
    };
    /// Past the attempts a kill is still checked, this many check delays apart: a venue that
    /// lost the cancel-alls or a connection that is down may come back.
    static constexpr std::int64_t recheck_factor = 8;

    kill_confirmation(std::size_t symbols, settings config);

    /// The owner's cancel-all of `symbol` went out: held, with a new budget; its answer
    /// schedules the query (check_again). Returns the epoch its request carries.
    std::uint32_t sent(std::uint32_t symbol) noexcept;
    /// The owner's cancel-all of `symbol` could not go out: held, with a new budget, and queried
    /// from now_ms.
    void held(std::uint32_t symbol, std::int64_t now_ms) noexcept;
    /// A request of the kill of `symbol` sent under `epoch` was answered (a cancel-all), failed
    /// or was lost: the next query delay_ms after now_ms, recheck_factor times later once the
    /// budget is spent. Nothing when the kill ended since.
    void check_again(std::uint32_t symbol, std::uint32_t epoch, std::int64_t now_ms,
                     std::int64_t delay_ms) noexcept;
    /// Trading on `symbol` resumed: an unconfirmed kill is over.
    void end(std::uint32_t symbol) noexcept;

    /// Calls query(symbol, epoch) for every symbol whose query is due; query returns true when
    /// its request went out (its answer is awaited), false when it was held back (asked again a
    /// check delay later).
    template <class Query> void check_due(std::int64_t now_ms, Query&& query) {
        for (std::uint32_t symbol = 0; symbol < kills_.size(); ++symbol) {
            state& k = kills_[symbol];
            if (!k.active || k.checking || now_ms < k.check_at_ms) {
                continue;
            }
            k.checking = query(symbol, k.epoch);
            if (!k.checking) {
                k.check_at_ms = now_ms + config_.check_delay_ms;
            }
        }
    }

    enum class outcome : std::uint8_t {
        stale,      ///< The kill ended since the query was sent: nothing to do.
        confirmed,  ///< Nothing of this instance rests: the kill is done.
        ask_again,  ///< The query failed: asked again later.
        send_again, ///< Orders rest: send the cancel-all again, then call resent().
    };
    struct verdict {
        outcome what = outcome::stale;
        bool gave_up_now = false; ///< The budget ran out with this answer: raise the alarm once.
    };
    /// The answer to the query of `symbol` sent under `epoch`: ok (the venue listed the open
    /// orders) and whether any of them is this instance's to remove. placement_pending: a
    /// placement on the symbol still waits for its answer, or for the queries resolving its
    /// unknown outcome; the venue may take it yet, so a listing with nothing resting does not
    /// confirm the kill (asked again a check delay later, no attempt spent).
    verdict answered(std::uint32_t symbol, std::uint32_t epoch, bool ok, bool orders_rest,
                     std::int64_t now_ms, bool placement_pending = false) noexcept;
    /// answered(), counted in a gateway's counters (kills_confirmed, kill_gave_up once per kill,
    /// kill_resends).
    template <class Counters>
    outcome answered(std::uint32_t symbol, std::uint32_t epoch, bool ok, bool orders_rest,
                     std::int64_t now_ms, Counters& counters,
                     bool placement_pending = false) noexcept {
        const verdict v = answered(symbol, epoch, ok, orders_rest, now_ms, placement_pending);
        if (v.gave_up_now) {
            counters.kill_gave_up.fetch_add(1, std::memory_order_relaxed);
        }
        if (v.what == outcome::confirmed) {
            counters.kills_confirmed.fetch_add(1, std::memory_order_relaxed);
        } else if (v.what == outcome::send_again) {
            counters.kill_resends.fetch_add(1, std::memory_order_relaxed);
        }
        return v.what;
    }
    /// Nothing may go out (no connection, a 429 or 418 lasting): every query due now is missed,
    /// and each counts as a failed attempt, so that a venue out of reach raises the alarm
    /// (kill_gave_up, once per kill) as surely as one that keeps losing the cancel-alls. The
    /// checks go on when the venue is back.
    template <class Counters> void missed_checks(std::int64_t now_ms, Counters& counters) noexcept {
        for (std::uint32_t symbol = 0; symbol < kills_.size(); ++symbol) {
            const state& k = kills_[symbol];
            if (k.active && !k.checking && now_ms >= k.check_at_ms &&
                answered(symbol, k.epoch, false, false, now_ms).gave_up_now) {
                counters.kill_gave_up.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }
    /// After send_again: the cancel-all is in flight (its answer schedules the next query) or
    /// was not sent (the query at check time decides again).
    void resent(std::uint32_t symbol, bool in_flight) noexcept;

    [[nodiscard]] std::uint32_t epoch(std::uint32_t symbol) const noexcept {
        return symbol < kills_.size() ? kills_[symbol].epoch : 0;
    }
    /// True while the kill of `symbol` is unconfirmed.
    [[nodiscard]] bool active(std::uint32_t symbol) const noexcept {
        return symbol < kills_.size() && kills_[symbol].active;
    }

    /// Any thread: true while the venue has not confirmed the kill of `symbol`, counting
    /// `requested` cancel-alls the owner handed over so far (those not yet taken by sent() or
    /// held() are unconfirmed too: they wait in the queue to the I/O thread).
    [[nodiscard]] bool unconfirmed(std::uint32_t symbol, std::uint64_t requested) const noexcept {
        if (symbol >= kills_.size()) {
            return false;
        }
        const published& p = published_[symbol];
        // taken is released after unconfirmed is set: equal counts see that kill's state.
        return p.taken.load(std::memory_order_acquire) != requested ||
               p.unconfirmed.load(std::memory_order_acquire);
    }

private:
    struct state {
        bool active = false;      ///< Not confirmed yet.
        bool checking = false;    ///< A cancel-all or its confirming query is in flight.
        bool gave_up = false;     ///< The budget ran out (said once; the checks go on).
        std::uint32_t resent = 0; ///< Cancel-alls sent again because orders still rested.
        std::int64_t check_at_ms = 0;
        std::uint32_t epoch = 0;
    };

    /// What unconfirmed() reads, written by the I/O thread.
    struct published {
        std::atomic<std::uint64_t> taken{0}; ///< Cancel-alls taken by sent() or held().
        std::atomic<bool> unconfirmed{false};
    };

    /// Held from now on with a new budget; checking: a request of it is in flight.
    void start(std::uint32_t symbol, bool checking, std::int64_t check_at_ms) noexcept;
    /// Over, confirmed or ended: the state reset, a new epoch unless confirmed.
    void finish(std::uint32_t symbol, std::uint32_t epoch) noexcept;

    settings config_;
    std::vector<state> kills_;
    std::vector<published> published_;
};

} // namespace quoter::exec
