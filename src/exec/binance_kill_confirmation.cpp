#include "quoter/exec/binance_kill_confirmation.hpp"

#include <algorithm>

namespace quoter::exec {

bool kill_must_remove(std::span<const answered_order> listed, const client_id_factory& ids,
                      bool cancel_foreign_orders) noexcept {
    return std::any_of(listed.begin(), listed.end(), [&](const answered_order& o) {
        return cancel_foreign_orders || ids.owner(o.client_id.view()) != client_id_owner::foreign;
    });
}

kill_confirmation::kill_confirmation(std::size_t symbols, settings config)
    : config_(config), kills_(symbols), published_(symbols) {}

void kill_confirmation::start(std::uint32_t symbol, bool checking,
                              std::int64_t check_at_ms) noexcept {
    if (symbol >= kills_.size()) {
        return;
    }
    state& k = kills_[symbol];
    k.active = true;
    k.checking = checking;
    k.check_at_ms = check_at_ms;
    k.resent = 0; // a new kill: a new budget
    k.gave_up = false;
    published& p = published_[symbol];
    p.unconfirmed.store(true, std::memory_order_relaxed);
    p.taken.fetch_add(1, std::memory_order_release);
}

void kill_confirmation::finish(std::uint32_t symbol, std::uint32_t epoch) noexcept {
    kills_[symbol] = state{.epoch = epoch};
    published_[symbol].unconfirmed.store(false, std::memory_order_release);
}

std::uint32_t kill_confirmation::sent(std::uint32_t symbol) noexcept {
    start(symbol, true, 0);
    return epoch(symbol);
}

void kill_confirmation::held(std::uint32_t symbol, std::int64_t now_ms) noexcept {
    start(symbol, false, now_ms);
}

void kill_confirmation::check_again(std::uint32_t symbol, std::uint32_t epoch, std::int64_t now_ms,
                                    std::int64_t delay_ms) noexcept {
    if (symbol >= kills_.size() || kills_[symbol].epoch != epoch) {
        return; // trading resumed since it was sent
    }
    state& k = kills_[symbol];
    k.active = true;
    k.checking = false;
    k.check_at_ms = now_ms + (k.gave_up ? delay_ms * recheck_factor : delay_ms);
}

void kill_confirmation::end(std::uint32_t symbol) noexcept {
    if (symbol < kills_.size()) {
        finish(symbol, kills_[symbol].epoch + 1);
    }
}

kill_confirmation::verdict kill_confirmation::answered(std::uint32_t symbol, std::uint32_t epoch,
                                                       bool ok, bool orders_rest,
                                                       std::int64_t now_ms,
                                                       bool placement_pending) noexcept {
    verdict out;
    if (symbol >= kills_.size() || kills_[symbol].epoch != epoch) {
        return out; // trading resumed since it was sent
    }
    state& k = kills_[symbol];
    k.checking = false;
    if (ok && !orders_rest && placement_pending) {
        // Its ack brings the owner's cancel; a later check sees it rest or gone.
        k.check_at_ms = now_ms + config_.check_delay_ms;
        out.what = outcome::ask_again;
        return out;
    }
    if (ok && !orders_rest) {
        finish(symbol, k.epoch);
        out.what = outcome::confirmed;
        return out;
    }
    // Never given up: past the attempts the owner raises the alarm once and the checks go on at
    // a slower pace until the venue confirms.
    std::int64_t delay = config_.check_delay_ms;
    if (k.resent >= config_.confirm_attempts) {
        out.gave_up_now = !k.gave_up;
        k.gave_up = true;
        delay *= recheck_factor;
    } else {
        ++k.resent; // a failed query counts as an attempt too
    }
    k.check_at_ms = now_ms + delay;
    out.what = ok ? outcome::send_again : outcome::ask_again;
    return out;
}

void kill_confirmation::resent(std::uint32_t symbol, bool in_flight) noexcept {
    if (symbol < kills_.size()) {
        kills_[symbol].active = true;
        kills_[symbol].checking = in_flight;
    }
}

} // namespace quoter::exec
