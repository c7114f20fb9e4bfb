// sim_exchange's implementation (the contract is in sim_exchange.hpp). One piece, about 850
// lines: the request queue, matching, queue positions and reports share one order table and one
// event clock, and their invariants (report order, queue position) span all of them.
#include "quoter/exec/sim_exchange.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <new>

namespace quoter::exec {
namespace {

__extension__ typedef __int128 int128; // exact notional * fee-rate products

constexpr std::int64_t fee_rate_denominator = 10'000'000'000; // rate_e10 of 1e10 = 100%

/// True when a is a better price than b for resting orders of side s.
constexpr bool better(core::side s, core::price a, core::price b) noexcept {
    return s == core::side::buy ? a > b : a < b;
}

constexpr core::qty min_qty(core::qty a, core::qty b) noexcept {
    return a < b ? a : b;
}

/// Every price on the other side at or beyond `limit` trades with an order of side s.
constexpr bool reaches(core::side s, core::price limit, core::price opposite) noexcept {
    return s == core::side::buy ? limit >= opposite : limit <= opposite;
}

bool later(const auto& a, const auto& b) noexcept {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
}

} // namespace

sim_exchange::sim_exchange(const sim_exchange_config& config,
                           std::span<const core::symbol_spec> symbols)
    : config_(config), maker_rate_e10_(std::llround(config.maker_fee_bps * 1e6)),
      taker_rate_e10_(std::llround(config.taker_fee_bps * 1e6)), rng_(config.seed),
      order_entry_latency_(config.order_entry_latency), cancel_latency_(config.cancel_latency),
      market_data_latency_(config.market_data_latency),
      index_(std::max<std::uint32_t>(config.max_open_orders, 1)) {
    config_.max_open_orders = std::max<std::uint32_t>(config_.max_open_orders, 1);
    config_.max_pending_events = std::max<std::uint32_t>(config_.max_pending_events, 4);

    symbols_.resize(symbols.empty() ? 1 : symbols.size());
    symbol_count_ = static_cast<std::uint32_t>(symbols_.size());
    for (std::size_t i = 0; i < symbols.size(); ++i) {
        symbols_[i].spec = symbols[i];
    }
    for (auto& state : symbols_) {
        for (auto& list : state.resting) {
            list.reserve(config_.max_open_orders);
        }
    }

    orders_.resize(config_.max_open_orders);
    free_orders_.reserve(config_.max_open_orders);
    for (std::uint32_t i = config_.max_open_orders; i > 0; --i) {
        free_orders_.push_back(i - 1);
    }
    report_capacity_ = config_.max_pending_events;
    request_capacity_ = config_.max_pending_events / 2;
    report_ring_.resize(std::bit_ceil(report_capacity_));
    report_mask_ = report_ring_.size() - 1;
    if (config_.fifo_requests) {
        request_ring_.resize(std::bit_ceil(request_capacity_));
        request_mask_ = request_ring_.size() - 1;
    } else {
        request_heap_.reserve(request_capacity_);
    }
    scratch_.reserve(config_.max_open_orders);
}

// ---------------------------------------------------------------------------------------------
// Event queue

gateway_error sim_exchange::push_request(request_event request) noexcept {
    if (pending_requests() >= request_capacity_) {
        return gateway_error::queue_full;
    }
    request.seq = next_seq_++;
    if (config_.fifo_requests) {
        request.time = std::max(request.time, last_request_arrival_);
        last_request_arrival_ = request.time;
        request_ring_[request_tail_++ & request_mask_] = request;
    } else {
        request_heap_.push_back(request);
        std::push_heap(request_heap_.begin(), request_heap_.end(),
                       [](const request_event& a, const request_event& b) { return later(a, b); });
    }
    next_due_ = std::min(next_due_, request.time);
    return gateway_error::none;
}

void sim_exchange::pop_request() noexcept {
    if (config_.fifo_requests) {
        ++request_head_;
    } else {
        pop_request_heap();
    }
}

void sim_exchange::pop_request_heap() noexcept {
    std::pop_heap(request_heap_.begin(), request_heap_.end(),
                  [](const request_event& a, const request_event& b) { return later(a, b); });
    request_heap_.pop_back();
}

void sim_exchange::catch_up(core::timestamp_ns now) noexcept {
    if (due(now)) [[unlikely]] {
        (void)process_due(now);
    }
    now_ = std::max(now_, now);
}

std::size_t sim_exchange::poll(core::timestamp_ns now) noexcept {
    // Most calls find nothing due: answered without the merge loop below.
    if (!due(now)) {
        now_ = std::max(now_, now);
        return 0;
    }
    return process_due(now);
}

std::size_t sim_exchange::process_due(core::timestamp_ns now) noexcept {
    const std::uint64_t delivered_before = stats_.reports_delivered;
    // The earliest event by (time, sequence) while it is due: the report front unless a request
    // was queued before it. The loop reads the fronts themselves, so next_due_ is set once, at
    // the end: what it calls only queues events (lowering next_due_) and never reads it.
    for (;;) {
        const request_event* request = next_request();
        const report_event* report =
            report_head_ == report_tail_ ? nullptr : &report_ring_[report_head_ & report_mask_];
        if (report != nullptr && (request == nullptr || later(*request, *report))) {
            if (report->time > now) {
                break; // and so is the request after it
            }
            now_ = std::max(now_, report->time);
            ++stats_.reports_delivered;
            if (sink_ != nullptr) {
                // Delivered in place: the sink can only add requests, never reports, so the
                // slot stays put until it is released below.
                sink_->on_exec_report(report->report);
            }
            ++report_head_;
            continue;
        }
        if (request == nullptr || request->time > now) {
            break;
        }
        now_ = std::max(now_, request->time);
        if (config_.fifo_requests) {
            // Processed in place: processing queues reports, never requests, so the slot stays
            // put until it is released below.
            process_request(*request);
            pop_request();
        } else {
            const request_event due = *request; // the heap reorders as it pops
            pop_request();
            process_request(due);
        }
    }
    next_due_ = earliest_pending();
    now_ = std::max(now_, now);
    return static_cast<std::size_t>(stats_.reports_delivered - delivered_before);
}

void sim_exchange::process_request(const request_event& request) noexcept {
    switch (request.kind) {
    case request_kind::order:
        handle_order_arrival(request.order, now_);
        break;
    case request_kind::cancel:
        handle_cancel_arrival(request.symbol, request.cancel_id, now_);
        break;
    case request_kind::cancel_all:
        handle_cancel_all_arrival(request.symbol, now_);
        break;
    }
}

// ---------------------------------------------------------------------------------------------
// order_gateway

gateway_error sim_exchange::submit(const order_request& request, core::timestamp_ns now) noexcept {
    request_event event;
    event.time = std::max(now, now_) + order_entry_latency_.draw(rng_);
    event.kind = request_kind::order;
    event.symbol = request.symbol;
    event.order = request;
    return push_request(event);
}

gateway_error sim_exchange::cancel(std::uint32_t symbol, client_order_id id,
                                   core::timestamp_ns now) noexcept {
    request_event event;
    event.time = std::max(now, now_) + cancel_latency_.draw(rng_);
    event.kind = request_kind::cancel;
    event.symbol = symbol;
    event.cancel_id = id;
    return push_request(event);
}

gateway_error sim_exchange::cancel_all(std::uint32_t symbol, core::timestamp_ns now) noexcept {
    request_event event;
    event.time = std::max(now, now_) + cancel_latency_.draw(rng_);
    event.kind = request_kind::cancel_all;
    event.symbol = symbol;
    return push_request(event);
}

// Dry run (engine::order_path_warmer): the checks an order's arrival makes that can be made now,
// without drawing a latency, queueing a request or counting anything.
bool sim_exchange::rehearse_submit(const order_request& request,
                                   core::timestamp_ns /*now*/) noexcept {
    if (pending_requests() >= request_capacity_ || request.symbol >= symbol_count_ ||
        !request.id.valid() || request.qty.lots() <= 0 || request.price.ticks() <= 0 ||
        index_.find(request.id) != order_index::npos || free_orders_.empty()) {
        return false;
    }
    const symbol_state& state = symbols_[request.symbol];
    return !(request.post_only && crosses(state, request.side, request.price));
}

// ---------------------------------------------------------------------------------------------
// Exchange side: requests arriving

template <class Write>
void sim_exchange::queue_report(core::timestamp_ns time, Write write) noexcept {
    if (report_tail_ - report_head_ >= report_capacity_) {
        ++stats_.dropped_reports;
        return;
    }
    core::timestamp_ns arrival = time + market_data_latency_.draw(rng_);
    arrival = std::max(arrival, last_report_arrival_);
    last_report_arrival_ = arrival;
    next_due_ = std::min(next_due_, arrival);
    report_event& slot = report_ring_[report_tail_++ & report_mask_];
    slot.time = arrival;
    slot.seq = next_seq_++;
    // Constructed where it lies, member by member: assigning exec_report{} would clear a
    // temporary and copy it, and a report built by the caller would be copied too.
    exec_report& report = *::new (static_cast<void*>(&slot.report)) exec_report;
    write(report);
    report.exchange_ts = time;
    report.local_ts = arrival;
}

void sim_exchange::send_report(const exec_report& report, core::timestamp_ns time) noexcept {
    queue_report(time, [&](exec_report& out) { out = report; });
}

void sim_exchange::reject(const order_request& request, reject_reason reason,
                          core::timestamp_ns time) noexcept {
    ++stats_.rejects;
    exec_report report;
    report.kind = exec_kind::reject;
    report.reason = reason;
    report.client_id = request.id;
    report.symbol = request.symbol;
    report.side = request.side;
    report.level = request.level;
    report.price = request.price;
    send_report(report, time);
}

bool sim_exchange::crosses(const symbol_state& state, core::side side,
                           core::price price) const noexcept {
    const core::price opposite = side == core::side::buy ? state.best_ask : state.best_bid;
    return config_.match_book && opposite.ticks() > 0 && reaches(side, price, opposite);
}

void sim_exchange::handle_order_arrival(const order_request& request,
                                        core::timestamp_ns time) noexcept {
    ++stats_.orders_received;
    if (request.symbol >= symbol_count_) {
        reject(request, reject_reason::unknown_symbol, time);
        return;
    }
    if (!request.id.valid()) {
        reject(request, reject_reason::invalid_client_id, time);
        return;
    }
    if (request.qty.lots() <= 0) {
        reject(request, reject_reason::invalid_qty, time);
        return;
    }
    if (request.price.ticks() <= 0) {
        reject(request, reject_reason::invalid_price, time);
        return;
    }
    if (index_.find(request.id) != order_index::npos) {
        reject(request, reject_reason::duplicate_client_id, time);
        return;
    }
    if (free_orders_.empty()) {
        reject(request, reject_reason::too_many_open_orders, time);
        return;
    }
    symbol_state& state = symbols_[request.symbol];
    if (request.reduce_only) {
        const std::int64_t position = state.position.lots();
        const std::int64_t reducible = request.side == core::side::buy ? -position : position;
        if (request.qty.lots() > reducible) {
            reject(request, reject_reason::reduce_only_would_increase, time);
            return;
        }
    }
    const bool marketable = crosses(state, request.side, request.price);
    if (request.post_only && marketable) {
        ++stats_.post_only_rejects;
        reject(request, reject_reason::post_only_would_cross, time);
        return;
    }

    const std::uint64_t exchange_id = next_exchange_id_++;
    ++stats_.acks;
    const auto describe_order = [&](exec_report& report) {
        report.client_id = request.id;
        report.exchange_id = exchange_id;
        report.symbol = request.symbol;
        report.side = request.side;
        report.level = request.level;
        report.price = request.price;
        report.leaves_qty = request.qty;
    };
    queue_report(time, [&](exec_report& ack) {
        ack.kind = exec_kind::ack;
        describe_order(ack);
    });

    core::qty cum{0};
    if (marketable) {
        const core::side other = core::opposite(request.side);
        const book_side_levels& book = state.book[side_index(other)];
        const core::price best = other == core::side::buy ? state.best_bid : state.best_ask;
        // Sizes are used only when the stored levels start at the best price; otherwise the
        // side's depth is unknown and the best price is taken to have unlimited size.
        const bool sized = book.sized && book.count > 0 && book.levels[0].px == best;
        if (request.tif == time_in_force::fok && sized) {
            std::int64_t available = 0;
            for (std::size_t i = 0; i < book.count; ++i) {
                if (!reaches(request.side, request.price, book.levels[i].px)) {
                    break;
                }
                available += book.levels[i].qty.lots();
            }
            if (available < request.qty.lots()) {
                ++stats_.expired;
                queue_report(time, [&](exec_report& expired) {
                    describe_order(expired);
                    expired.kind = exec_kind::cancelled;
                    expired.reason = reject_reason::expired;
                });
                return;
            }
        }
        if (sized) {
            for (std::size_t i = 0; i < book.count && cum < request.qty; ++i) {
                const core::book_level& level = book.levels[i];
                if (!reaches(request.side, request.price, level.px)) {
                    break;
                }
                const core::qty traded = min_qty(request.qty - cum, level.qty);
                taker_fill(request, exchange_id, level.px, traded, cum, time);
            }
        } else {
            taker_fill(request, exchange_id, best, request.qty, cum, time);
        }
    }
    if (cum >= request.qty) {
        return;
    }
    if (request.tif == time_in_force::gtc) {
        rest(request, exchange_id, cum, time);
        return;
    }
    ++stats_.expired;
    queue_report(time, [&](exec_report& expired) {
        describe_order(expired);
        expired.kind = exec_kind::cancelled;
        expired.reason = reject_reason::expired;
        expired.cum_qty = cum;
        expired.leaves_qty = request.qty - cum;
    });
}

void sim_exchange::handle_cancel_arrival(std::uint32_t symbol, client_order_id id,
                                         core::timestamp_ns time) noexcept {
    ++stats_.cancels_received;
    const order_index::entry found = index_.locate(id);
    const std::uint32_t slot = found.slot;
    if (!found.found() || orders_[slot].request.symbol != symbol) {
        ++stats_.cancel_rejects;
        exec_report report;
        report.kind = exec_kind::cancel_reject;
        report.reason = reject_reason::unknown_order;
        report.client_id = id;
        report.symbol = symbol;
        send_report(report, time);
        return;
    }
    const sim_order& order = orders_[slot];
    ++stats_.cancelled;
    // Written before the order leaves the book (removing it draws nothing and queues nothing).
    queue_report(time, [&](exec_report& report) {
        report.kind = exec_kind::cancelled;
        report.reason = reject_reason::user_cancel;
        report.client_id = id;
        report.exchange_id = order.exchange_id;
        report.symbol = symbol;
        report.side = order.request.side;
        report.level = order.request.level;
        report.price = order.request.price;
        report.cum_qty = order.cum;
        report.leaves_qty = order.leaves;
    });
    remove_resting(slot, found);
}

void sim_exchange::handle_cancel_all_arrival(std::uint32_t symbol,
                                             core::timestamp_ns time) noexcept {
    ++stats_.cancels_received;
    if (symbol == all_symbols) {
        for (std::uint32_t s = 0; s < symbol_count_; ++s) {
            cancel_symbol(s, time);
        }
    } else if (symbol < symbol_count_) {
        cancel_symbol(symbol, time);
    }
}

void sim_exchange::cancel_symbol(std::uint32_t symbol, core::timestamp_ns time) noexcept {
    for (const core::side side : {core::side::buy, core::side::sell}) {
        for (const std::uint32_t slot : snapshot_resting(symbol, side)) {
            const sim_order& order = orders_[slot];
            exec_report report;
            report.kind = exec_kind::cancelled;
            report.reason = reject_reason::user_cancel;
            report.client_id = order.request.id;
            report.exchange_id = order.exchange_id;
            report.symbol = symbol;
            report.side = side;
            report.level = order.request.level;
            report.price = order.request.price;
            report.cum_qty = order.cum;
            report.leaves_qty = order.leaves;
            ++stats_.cancelled;
            remove_resting(slot);
            send_report(report, time);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resting orders and fills

std::span<const std::uint32_t> sim_exchange::snapshot_resting(std::uint32_t symbol,
                                                              core::side side) noexcept {
    const auto& list = symbols_[symbol].resting[side_index(side)];
    scratch_.assign(list.begin(), list.end()); // within reserved capacity: no allocation
    return scratch_;
}

void sim_exchange::rest(const order_request& request, std::uint64_t exchange_id, core::qty cum,
                        core::timestamp_ns time) noexcept {
    ++resting_version_;
    const std::uint32_t slot = free_orders_.back();
    free_orders_.pop_back();
    sim_order& order = orders_[slot];
    // Every field written once (no clearing first); the queue starts known and empty.
    order = sim_order{.request = request,
                      .exchange_id = exchange_id,
                      .leaves = request.qty - cum,
                      .cum = cum,
                      .queue_ahead = core::qty{0},
                      .level_seen = core::qty{0},
                      .queue_known = true,
                      .rest_ts = time,
                      .rest_seq = next_seq_++};
    if (config_.queue_model) {
        init_queue(request.symbol, order);
    }
    (void)index_.insert(request.id, slot);

    // Behind every order at a price at least as good (time priority), shifting the rest back
    // by hand: a side holds a few orders, for which std::vector::insert's general moves cost
    // more than the loop. Within reserved capacity: no allocation.
    auto& list = symbols_[request.symbol].resting[side_index(request.side)];
    std::size_t position = 0;
    while (position < list.size() &&
           !better(request.side, request.price, orders_[list[position]].request.price)) {
        ++position;
    }
    list.push_back(slot);
    for (std::size_t i = list.size() - 1; i > position; --i) {
        list[i] = list[i - 1];
    }
    list[position] = slot;
    note_front(symbols_[request.symbol], request.side);
}

void sim_exchange::remove_resting(std::uint32_t slot) noexcept {
    remove_resting(slot, index_.locate(orders_[slot].request.id));
}

void sim_exchange::remove_resting(std::uint32_t slot, const order_index::entry& indexed) noexcept {
    ++resting_version_;
    const sim_order& order = orders_[slot];
    // By hand, as rest() inserts.
    auto& list = symbols_[order.request.symbol].resting[side_index(order.request.side)];
    std::size_t position = 0;
    while (position < list.size() && list[position] != slot) {
        ++position;
    }
    if (position < list.size()) {
        for (std::size_t i = position + 1; i < list.size(); ++i) {
            list[i - 1] = list[i];
        }
        list.pop_back();
    }
    note_front(symbols_[order.request.symbol], order.request.side);
    index_.erase(indexed);
    free_orders_.push_back(slot);
}

std::int64_t sim_exchange::fee_units(std::uint32_t symbol, core::price at, core::qty qty,
                                     liquidity_role role) const noexcept {
    const std::int64_t notional = symbols_[symbol].spec.notional_units(at, qty);
    const std::int64_t rate = role == liquidity_role::maker ? maker_rate_e10_ : taker_rate_e10_;
    const int128 product = static_cast<int128>(notional) * rate;
    int128 fee = product / fee_rate_denominator; // truncates toward zero: the ceiling if < 0
    if (product > 0 && product % fee_rate_denominator != 0) {
        ++fee;
    }
    return static_cast<std::int64_t>(fee);
}

void sim_exchange::taker_fill(const order_request& request, std::uint64_t exchange_id,
                              core::price at, core::qty qty, core::qty& cum,
                              core::timestamp_ns time) noexcept {
    if (qty.lots() <= 0) {
        return;
    }
    cum += qty;
    ++stats_.taker_fills;
    exec_report report;
    report.kind = cum >= request.qty ? exec_kind::fill : exec_kind::partial_fill;
    report.client_id = request.id;
    report.exchange_id = exchange_id;
    report.symbol = request.symbol;
    report.side = request.side;
    report.level = request.level;
    report.price = at;
    report.fill_qty = qty;
    report.cum_qty = cum;
    report.leaves_qty = request.qty - cum;
    report.liquidity = liquidity_role::taker;
    report.fee_units = fee_units(request.symbol, at, qty, liquidity_role::taker);
    symbols_[request.symbol].position += core::qty{core::sign(request.side) * qty.lots()};
    send_report(report, time);
}

void sim_exchange::fill(std::uint32_t slot, core::price at, core::qty qty, liquidity_role role,
                        core::timestamp_ns time) noexcept {
    sim_order& order = orders_[slot];
    qty = min_qty(qty, order.leaves);
    if (qty.lots() <= 0) {
        return;
    }
    ++resting_version_;
    order.leaves -= qty;
    order.cum += qty;
    ++(role == liquidity_role::maker ? stats_.maker_fills : stats_.taker_fills);
    symbols_[order.request.symbol].position +=
        core::qty{core::sign(order.request.side) * qty.lots()};
    // Written before a filled order leaves the book (removing it draws nothing and queues
    // nothing).
    queue_report(time, [&](exec_report& report) {
        report.kind = order.leaves.is_zero() ? exec_kind::fill : exec_kind::partial_fill;
        report.client_id = order.request.id;
        report.exchange_id = order.exchange_id;
        report.symbol = order.request.symbol;
        report.side = order.request.side;
        report.level = order.request.level;
        report.price = at;
        report.fill_qty = qty;
        report.cum_qty = order.cum;
        report.leaves_qty = order.leaves;
        report.liquidity = role;
        report.fee_units = fee_units(order.request.symbol, at, qty, role);
    });
    if (order.leaves.is_zero()) {
        remove_resting(slot);
    }
}

const sim_order* sim_exchange::find_order(client_order_id id) const noexcept {
    const std::uint32_t slot = index_.find(id);
    return slot == order_index::npos ? nullptr : &orders_[slot];
}

// ---------------------------------------------------------------------------------------------
// Queue-position model

void sim_exchange::init_queue(std::uint32_t symbol, sim_order& order) const noexcept {
    order.queue_ahead = core::qty{0};
    order.level_seen = core::qty{0};
    order.queue_known = true;
    const core::side side = order.request.side;
    const book_side_levels& book = symbols_[symbol].book[side_index(side)];
    if (!config_.queue_model || !book.sized || book.count == 0) {
        return;
    }
    const core::price price = order.request.price;
    if (better(side, price, book.levels[0].px)) {
        return; // a new level inside the spread: first in line
    }
    if (better(side, book.levels[book.count - 1].px, price)) {
        order.queue_known = false; // deeper than the known book
        return;
    }
    for (std::size_t i = 0; i < book.count; ++i) {
        if (book.levels[i].px == price) {
            order.queue_ahead = book.levels[i].qty;
            order.level_seen = book.levels[i].qty;
            return;
        }
    }
}

void sim_exchange::apply_level_size(sim_order& order, core::qty qty) const noexcept {
    if (!config_.queue_model) {
        return;
    }
    if (!order.queue_known) {
        order.queue_known = true;
        order.queue_ahead = qty;
        order.level_seen = qty;
        return;
    }
    if (qty < order.level_seen) {
        // Cancellations spread uniformly over the level: the share ahead of us leaves too.
        const std::int64_t decrease = (order.level_seen - qty).lots();
        const int128 share =
            static_cast<int128>(decrease) * order.queue_ahead.lots() / order.level_seen.lots();
        order.queue_ahead -= core::qty{static_cast<std::int64_t>(share)};
    }
    order.level_seen = qty;
    if (order.queue_ahead > qty) {
        order.queue_ahead = qty;
    }
}

void sim_exchange::apply_level_size(std::uint32_t symbol, core::side side, core::price price,
                                    core::qty qty) noexcept {
    for (const std::uint32_t slot : symbols_[symbol].resting[side_index(side)]) {
        sim_order& order = orders_[slot];
        if (order.request.price == price) {
            apply_level_size(order, qty);
        }
    }
}

void sim_exchange::set_level(book_side_levels& book, core::side side, core::price price,
                             core::qty qty) noexcept {
    std::size_t i = 0;
    while (i < book.count && better(side, book.levels[i].px, price)) {
        ++i;
    }
    if (i < book.count && book.levels[i].px == price) {
        if (qty.lots() > 0) {
            book.levels[i].qty = qty;
        } else {
            std::copy(book.levels.begin() + static_cast<std::ptrdiff_t>(i + 1),
                      book.levels.begin() + static_cast<std::ptrdiff_t>(book.count),
                      book.levels.begin() + static_cast<std::ptrdiff_t>(i));
            --book.count;
        }
        return;
    }
    if (qty.lots() <= 0 || i >= max_book_levels) {
        return;
    }
    const std::size_t last = std::min(book.count, max_book_levels - 1);
    std::copy_backward(book.levels.begin() + static_cast<std::ptrdiff_t>(i),
                       book.levels.begin() + static_cast<std::ptrdiff_t>(last),
                       book.levels.begin() + static_cast<std::ptrdiff_t>(last + 1));
    book.levels[i] = {price, qty};
    book.count = last + 1;
}

void sim_exchange::trim_better_than(std::uint32_t symbol, core::side side,
                                    core::price best) noexcept {
    book_side_levels& book = symbols_[symbol].book[side_index(side)];
    std::size_t removed = 0;
    while (removed < book.count && better(side, book.levels[removed].px, best)) {
        ++removed;
    }
    if (removed > 0) {
        std::copy(book.levels.begin() + static_cast<std::ptrdiff_t>(removed),
                  book.levels.begin() + static_cast<std::ptrdiff_t>(book.count),
                  book.levels.begin());
        book.count -= removed;
    }
    if (!book.sized) {
        return;
    }
    for (const std::uint32_t slot : symbols_[symbol].resting[side_index(side)]) {
        sim_order& order = orders_[slot];
        if (!better(side, order.request.price, best)) {
            break; // best first: the rest are at or behind the new best
        }
        apply_level_size(order, core::qty{0});
    }
}

bool sim_exchange::crossed(const symbol_state& state, core::side side,
                           std::uint32_t slot) const noexcept {
    return reached(state, side, orders_[slot].request.price);
}

void sim_exchange::note_front(symbol_state& state, core::side side) const noexcept {
    const auto& list = state.resting[side_index(side)];
    const bool reachable = config_.cross_fill != cross_fill_rule::never && !list.empty();
    const bool touch = config_.cross_fill == cross_fill_rule::on_touch;
    // Resting prices are positive (arrival rejects the others), so neither limit goes below 0.
    const std::int64_t front = reachable ? orders_[list.front()].request.price.ticks() : 0;
    if (side == core::side::buy) {
        // Touch: asks 1..front reach it; through: asks 1..front - 1.
        state.bid_reach = !reachable ? 0 : static_cast<std::uint64_t>(touch ? front : front - 1);
    } else {
        // Touch: bids >= front reach it; through: bids > front.
        state.ask_reach =
            !reachable ? std::numeric_limits<std::int64_t>::max() : (touch ? front - 1 : front);
    }
}

bool sim_exchange::any_crossed(std::uint32_t symbol) const noexcept {
    const symbol_state& state = symbols_[symbol];
    return front_reached(state, core::side::buy) || front_reached(state, core::side::sell);
}

void sim_exchange::fill_crossed(std::uint32_t symbol, core::timestamp_ns time) noexcept {
    const symbol_state& state = symbols_[symbol];
    for (const core::side side : {core::side::buy, core::side::sell}) {
        // The common case, no order reached, is checked here; the fills are out of line.
        if (front_reached(state, side)) [[unlikely]] {
            fill_crossed_side(symbol, side, time);
        }
    }
}

void sim_exchange::fill_crossed_side(std::uint32_t symbol, core::side side,
                                     core::timestamp_ns time) noexcept {
    for (const std::uint32_t slot : snapshot_resting(symbol, side)) {
        if (!crossed(symbols_[symbol], side, slot)) {
            break;
        }
        fill(slot, orders_[slot].request.price, orders_[slot].leaves, liquidity_role::maker, time);
    }
}

// ---------------------------------------------------------------------------------------------
// Market inputs

void sim_exchange::on_top_of_book(std::uint32_t symbol, const top_of_book& book,
                                  core::timestamp_ns now) noexcept {
    catch_up(now);
    if (symbol >= symbol_count_) {
        return;
    }
    symbol_state& state = symbols_[symbol];
    const auto update_side = [&](core::side side, core::price best, core::qty size) {
        book_side_levels& levels = state.book[side_index(side)];
        if (best.ticks() <= 0) {
            // Empty side: every level is gone.
            levels.count = 0;
            if (levels.sized) {
                for (const std::uint32_t slot : state.resting[side_index(side)]) {
                    apply_level_size(orders_[slot], core::qty{0});
                }
            }
            (side == core::side::buy ? state.best_bid : state.best_ask) = core::price{0};
            return;
        }
        trim_better_than(symbol, side, best);
        if (size.lots() > 0) {
            levels.sized = true;
            set_level(levels, side, best, size);
            apply_level_size(symbol, side, best, size);
        }
        (side == core::side::buy ? state.best_bid : state.best_ask) = best;
    };
    update_side(core::side::buy, book.bid, book.bid_qty);
    update_side(core::side::sell, book.ask, book.ask_qty);
    fill_crossed(symbol, now_);
}

void sim_exchange::on_book_side(std::uint32_t symbol, core::side side,
                                std::span<const core::book_level> levels,
                                core::timestamp_ns now) noexcept {
    catch_up(now);
    if (symbol >= symbol_count_) {
        return;
    }
    set_book_side(symbol, side, levels);
    fill_crossed(symbol, now_);
}

void sim_exchange::on_book_top(std::uint32_t symbol, const core::book_level& top_bid,
                               const core::book_level& top_ask, core::timestamp_ns now) noexcept {
    catch_up(now);
    if (symbol >= symbol_count_) {
        return;
    }
    symbol_state& state = symbols_[symbol];
    // any_crossed() and fill_crossed() written out for the two sides (best order first).
    const auto fill_reached = [&] {
        if (front_reached(state, core::side::buy)) {
            fill_crossed_side(symbol, core::side::buy, now_);
        }
        if (front_reached(state, core::side::sell)) {
            fill_crossed_side(symbol, core::side::sell, now_);
        }
    };
    set_top(state, core::side::buy, top_bid);
    if (front_reached(state, core::side::buy) || front_reached(state, core::side::sell)) {
        fill_reached();
        catch_up(now);
        set_top(state, core::side::sell, top_ask);
        fill_reached();
        return;
    }
    set_top(state, core::side::sell, top_ask);
    // Nothing filled above: the resting asks were just found clear of this best bid, and only
    // the new best ask can reach a resting bid.
    if (front_reached(state, core::side::buy)) {
        fill_crossed_side(symbol, core::side::buy, now_);
    }
}

void sim_exchange::on_book_levels(std::uint32_t symbol, std::span<const core::book_level> bids,
                                  std::span<const core::book_level> asks,
                                  core::timestamp_ns now) noexcept {
    catch_up(now);
    if (symbol >= symbol_count_) {
        return;
    }
    set_book_side(symbol, core::side::buy, bids);
    // As on_book_side(buy) then on_book_side(sell). Between the two only a fill can change
    // anything (its reports may be due at once with zero latency), and none happens unless an
    // order is crossed: without one, the fill check and the catch-up of the second call are
    // no-ops and are skipped.
    if (any_crossed(symbol)) [[unlikely]] {
        fill_crossed(symbol, now_);
        catch_up(now);
    }
    set_book_side(symbol, core::side::sell, asks);
    fill_crossed(symbol, now_);
}

void sim_exchange::set_book_side(std::uint32_t symbol, core::side side,
                                 std::span<const core::book_level> levels) noexcept {
    symbol_state& state = symbols_[symbol];
    book_side_levels& book = state.book[side_index(side)];
    book.sized = true;
    book.count = std::min(levels.size(), max_book_levels);
    std::copy_n(levels.begin(), book.count, book.levels.begin());
    (side == core::side::buy ? state.best_bid : state.best_ask) =
        book.count > 0 ? book.levels[0].px : core::price{0};
    if (!config_.queue_model) {
        return; // the level sizes only move queue positions
    }

    for (const std::uint32_t slot : state.resting[side_index(side)]) {
        sim_order& order = orders_[slot];
        const core::price price = order.request.price;
        if (book.count == 0 || better(side, price, book.levels[0].px)) {
            apply_level_size(order, core::qty{0});
            continue;
        }
        if (better(side, book.levels[book.count - 1].px, price)) {
            continue; // deeper than the levels given: nothing learnt
        }
        core::qty size{0};
        for (std::size_t i = 0; i < book.count; ++i) {
            if (book.levels[i].px == price) {
                size = book.levels[i].qty;
                break;
            }
        }
        apply_level_size(order, size);
    }
}

void sim_exchange::on_book_level(std::uint32_t symbol, core::side side, core::price price,
                                 core::qty qty, core::timestamp_ns now) noexcept {
    catch_up(now);
    if (symbol >= symbol_count_) {
        return;
    }
    symbol_state& state = symbols_[symbol];
    book_side_levels& book = state.book[side_index(side)];
    book.sized = true;
    set_level(book, side, price, qty);
    apply_level_size(symbol, side, price, qty);
    (side == core::side::buy ? state.best_bid : state.best_ask) =
        book.count > 0 ? book.levels[0].px : core::price{0};
    fill_crossed(symbol, now_);
}

void sim_exchange::on_trade(std::uint32_t symbol, core::price price, core::qty qty,
                            core::side aggressor, core::timestamp_ns now) noexcept {
    catch_up(now);
    if (symbol >= symbol_count_ || qty.lots() <= 0) {
        return;
    }
    const core::side resting_side = core::opposite(aggressor);
    for (const std::uint32_t slot : snapshot_resting(symbol, resting_side)) {
        sim_order& order = orders_[slot];
        const core::price order_price = order.request.price;
        if (better(resting_side, order_price, price)) {
            // The aggressor traded beyond this order's price, so it went through the level.
            fill(slot, order_price, order.leaves, liquidity_role::maker, now_);
            continue;
        }
        if (order_price != price) {
            break; // best first: the rest are behind the trade price
        }
        if (!config_.queue_model) {
            fill(slot, order_price, qty, liquidity_role::maker, now_);
            continue;
        }
        if (!order.queue_known) {
            continue;
        }
        const core::qty reach = qty - order.queue_ahead;
        order.queue_ahead = order.queue_ahead > qty ? order.queue_ahead - qty : core::qty{0};
        order.level_seen = order.level_seen > qty ? order.level_seen - qty : core::qty{0};
        if (reach.lots() > 0) {
            fill(slot, order_price, reach, liquidity_role::maker, now_);
        }
    }
}

core::qty sim_exchange::on_market_order(std::uint32_t symbol, core::side aggressor, core::qty qty,
                                        core::timestamp_ns now) noexcept {
    catch_up(now);
    if (symbol >= symbol_count_ || qty.lots() <= 0) {
        return core::qty{0};
    }
    core::qty filled{0};
    for (const std::uint32_t slot : snapshot_resting(symbol, core::opposite(aggressor))) {
        const sim_order& order = orders_[slot];
        const core::qty traded =
            qty == fill_all ? order.leaves : min_qty(qty - filled, order.leaves);
        fill(slot, order.request.price, traded, liquidity_role::maker, now_);
        filled += traded;
        if (qty == fill_all || filled >= qty) {
            break;
        }
    }
    return filled;
}

core::qty sim_exchange::hit_order(std::uint32_t symbol, core::side order_side, std::uint8_t level,
                                  core::qty qty, core::timestamp_ns now) noexcept {
    catch_up(now);
    if (symbol >= symbol_count_ || qty.lots() <= 0) {
        return core::qty{0};
    }
    for (const std::uint32_t slot : symbols_[symbol].resting[side_index(order_side)]) {
        const sim_order& order = orders_[slot];
        if (order.request.level != level) {
            continue;
        }
        const core::qty traded = qty == fill_all ? order.leaves : min_qty(qty, order.leaves);
        fill(slot, order.request.price, traded, liquidity_role::maker, now_);
        return traded;
    }
    return core::qty{0};
}

} // namespace quoter::exec
