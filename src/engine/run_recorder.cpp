#include "quoter/engine/run_recorder.hpp"

#include "quoter/core/memory.hpp"
#include "quoter/engine/risk_gate.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace quoter::engine {

namespace {

// Makes room for count records and asks for huge pages on the buffer: a long run's records then
// take a page fault per 2 MB on first touch instead of one per 4 KB, which costs a synthetic
// step a few percent.
template <class Record> void reserve_records(std::vector<Record>& records, std::size_t count) {
    records.reserve(count);
    (void)core::advise_huge_pages(records.data(), records.capacity() * sizeof(Record));
}

// Appends to a record that grows over a run; when full it doubles, as push_back would, onto
// huge pages.
template <class Record> void append_record(std::vector<Record>& records, const Record& record) {
    if (records.size() == records.capacity()) [[unlikely]] {
        reserve_records(records, std::max<std::size_t>(64, 2 * records.capacity()));
    }
    records.push_back(record);
}

} // namespace

void alert_tally::raise(const risk::alert& a) noexcept {
    const auto kind = static_cast<std::size_t>(a.kind);
    if (kind < kind_count) {
        if (counts_[kind] < examples_per_kind) {
            examples_[kind][counts_[kind]] = a;
        }
        ++counts_[kind];
    }
    if (next_ != nullptr) {
        next_->raise(a);
    }
}

std::uint64_t alert_tally::total() const noexcept {
    std::uint64_t sum = 0;
    for (const std::uint64_t n : counts_) {
        sum += n;
    }
    return sum;
}

std::span<const risk::alert> alert_tally::examples(risk::alert_kind kind) const noexcept {
    const auto k = static_cast<std::size_t>(kind);
    if (k >= kind_count) {
        return {};
    }
    return std::span<const risk::alert>(examples_[k].data(),
                                        std::min<std::size_t>(counts_[k], examples_per_kind));
}

void alert_tally::merge(const alert_tally& other) noexcept {
    for (std::size_t k = 0; k < kind_count; ++k) {
        for (std::uint64_t i = 0; i < std::min<std::uint64_t>(other.counts_[k], examples_per_kind);
             ++i) {
            if (counts_[k] + i < examples_per_kind) {
                examples_[k][counts_[k] + i] = other.examples_[k][i];
            }
        }
        counts_[k] += other.counts_[k];
    }
}

void set_rate_holds(sim::run_metrics& metrics, const exec::quote_manager& quotes,
                    const run_recorder& recorder, core::timestamp_ns now) noexcept {
    const auto pnl = recorder.pnl();
    const core::timestamp_ns end = pnl.empty() ? now : pnl.back().time_ns;
    sim::set_rate_holds(metrics, quotes.counters().rate_holds,
                        static_cast<double>(quotes.held_ns(end)) / 1e9);
}

std::vector<sim::report_alert> report_alerts(const alert_tally& tally) {
    std::vector<sim::report_alert> out;
    for (std::size_t k = 0; k < alert_tally::kind_count; ++k) {
        const auto kind = static_cast<risk::alert_kind>(k);
        if (tally.count(kind) == 0) {
            continue;
        }
        sim::report_alert entry{
            .kind = std::string(risk::to_string(kind)), .count = tally.count(kind), .examples = {}};
        for (const risk::alert& a : tally.examples(kind)) {
            // Simulated runs start at 0; captures and paper sessions carry UTC epoch times.
            const core::timestamp_ns ms = a.time / core::ns_per_ms;
            constexpr core::timestamp_ns year_2000_ms = 946'684'800'000;
            const bool utc = ms >= year_2000_ms;
            std::string text = fmt::format(
                "at {:02}:{:02}:{:02}.{:03}{}", utc ? ms / 3'600'000 % 24 : ms / 3'600'000,
                ms / 60'000 % 60, ms / 1000 % 60, ms % 1000, utc ? " UTC" : "");
            if (a.reason != risk::halt_reason::none) {
                text += fmt::format(" ({})", risk::to_string(a.reason));
            }
            text += fmt::format(": value {:.6g}, threshold {:.6g}", a.value, a.threshold);
            entry.examples.push_back(std::move(text));
        }
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<sim::report_counter> report_counters(const gate_counts& counts) {
    std::vector<sim::report_counter> out;
    out.push_back({"orders_sent", "Orders sent", counts.quote_orders_sent});
    out.push_back({"flatten_orders_sent", "Flatten orders sent", counts.flatten_orders_sent});
    out.push_back({"risk_refusals", "Risk refusals", counts.risk_refusals});
    // Reason 0 is `none`: an order that passed.
    for (std::size_t r = 1; r < counts.refusals_by_reason.size(); ++r) {
        const std::string reason(risk::to_string(static_cast<risk::reject_reason>(r)));
        out.push_back(
            {"risk_refusals_" + reason, "Risk refusals: " + reason, counts.refusals_by_reason[r]});
    }
    return out;
}

run_recorder::run_recorder(exec::order_gateway& venue, const core::symbol_spec& spec,
                           record_options keep)
    : venue_(venue), spec_(spec), keep_(keep) {}

run_recorder::run_recorder(exec::sim_exchange& venue, const core::symbol_spec& spec,
                           record_options keep)
    : venue_(venue), simulated_(&venue), spec_(spec), keep_(keep) {}

void run_recorder::set_report_sink(exec::exec_report_sink* sink) noexcept {
    downstream_ = sink;
    venue_.set_report_sink(this);
}

exec::gateway_error run_recorder::submit(const exec::order_request& request,
                                         core::timestamp_ns now) noexcept {
    const exec::gateway_error sent =
        simulated_ != nullptr ? simulated_->submit(request, now) : venue_.submit(request, now);
    if (sent != exec::gateway_error::none) {
        return sent;
    }
    ++activity_.orders_submitted;
    tracked_order& order = tracked_[request.id.value & (slot_count - 1)];
    order = tracked_order{.id = request.id,
                          .side = request.side,
                          .level = request.level,
                          .price = request.price,
                          .qty = request.qty,
                          .cum = core::qty{0},
                          .live = true,
                          .filled = false};
    record_order(now, order, sim::order_event::submitted, core::qty{0});
    return sent;
}

exec::gateway_error run_recorder::cancel(std::uint32_t symbol, exec::client_order_id id,
                                         core::timestamp_ns now) noexcept {
    const exec::gateway_error sent = simulated_ != nullptr ? simulated_->cancel(symbol, id, now)
                                                           : venue_.cancel(symbol, id, now);
    const tracked_order& order = tracked_[id.value & (slot_count - 1)];
    if (sent == exec::gateway_error::none && order.id == id && order.live) {
        record_order(now, order, sim::order_event::cancel_requested, order.cum);
    }
    return sent;
}

exec::gateway_error run_recorder::cancel_all(std::uint32_t symbol,
                                             core::timestamp_ns now) noexcept {
    const exec::gateway_error sent = venue_.cancel_all(symbol, now);
    if (sent == exec::gateway_error::none && keep_.orders) {
        for (const tracked_order& order : tracked_) {
            if (order.live) {
                record_order(now, order, sim::order_event::cancel_requested, order.cum);
            }
        }
    }
    return sent;
}

void run_recorder::on_exec_report(const exec::exec_report& report) noexcept {
    deliver(report, [this](const exec::exec_report& tracked) {
        if (downstream_ != nullptr) {
            downstream_->on_exec_report(tracked);
        }
    });
}

void run_recorder::record_events(const exec::exec_report& report) noexcept {
    tracked_order& order = tracked_[report.client_id.value & (slot_count - 1)];
    if (order.id != report.client_id) {
        return;
    }
    const core::timestamp_ns at = report.local_ts;
    // Order events are recorded before the loop sees the report: its handlers may send the
    // slot's next order, which must come after this one's end in the log.
    switch (report.kind) {
    case exec::exec_kind::ack:
        append_order(at, order, sim::order_event::acknowledged, report.cum_qty);
        break;
    case exec::exec_kind::reject:
        order.live = false;
        append_order(at, order, sim::order_event::rejected, core::qty{0});
        break;
    case exec::exec_kind::partial_fill:
    case exec::exec_kind::fill: {
        order.cum = report.cum_qty;
        const bool done = report.kind == exec::exec_kind::fill;
        order.live = !done;
        append_order(at, order,
                     done ? sim::order_event::filled : sim::order_event::partially_filled,
                     report.cum_qty);
        break;
    }
    case exec::exec_kind::cancelled:
        order.live = false;
        append_order(at, order, sim::order_event::cancelled, report.cum_qty);
        break;
    case exec::exec_kind::cancel_reject:
    case exec::exec_kind::unknown: // the order stays live until a later report resolves it
        break;
    }
}

run_recorder::account_before_fill run_recorder::account_now() const noexcept {
    if (account_ == nullptr) {
        return {};
    }
    return {.realized = account_->realized_pnl(),
            .fees = account_->fees(),
            .mid = account_->current_mark()};
}

void run_recorder::record_fill(const exec::exec_report& report,
                               const account_before_fill& before) noexcept {
    const core::timestamp_ns at = report.local_ts;
    const double fill_mid = 0.5 * static_cast<double>(before.mid.half_ticks) * spec_.tick_size();
    if (before.mid.half_ticks > 0) {
        markouts_.on_fill(at, report.side, spec_.to_double(report.fill_qty), fill_mid);
    }
    append_record(
        fills_,
        sim::fill_record{
            .time_ns = at,
            .order_id = report.client_id.value,
            .side = report.side,
            .level = report.level,
            .role = report.liquidity == exec::liquidity_role::taker ? sim::liquidity::taker
                                                                    : sim::liquidity::maker,
            .price = spec_.to_double(report.price),
            .quantity = spec_.to_double(report.fill_qty),
            .fee = account_ != nullptr ? account_->fees() - before.fees : 0.0,
            .mid = fill_mid,
            .realized_pnl = account_ != nullptr ? account_->realized_pnl() - before.realized : 0.0,
            .inventory_after = account_ != nullptr ? account_->position_base() : 0.0});
}

void run_recorder::append_order(core::timestamp_ns time, const tracked_order& order,
                                sim::order_event event, core::qty cum) noexcept {
    append_record(orders_, sim::order_record{.time_ns = time,
                                             .order_id = order.id.value,
                                             .event = event,
                                             .side = order.side,
                                             .level = order.level,
                                             .price = spec_.to_double(order.price),
                                             .quantity = spec_.to_double(order.qty),
                                             .filled_quantity = spec_.to_double(cum)});
}

void run_recorder::reserve_samples(std::size_t count) {
    reserve_records(pnl_, count);
}

void run_recorder::sample(core::timestamp_ns time, core::price working_bid,
                          core::price working_ask) {
    if (!keep_.pnl || account_ == nullptr) {
        return;
    }
    const portfolio::account& a = *account_;
    append_record(
        pnl_,
        sim::pnl_sample{
            .time_ns = time,
            .mid = a.mark_value(),
            .bid_quote = working_bid.ticks() > 0 ? spec_.to_double(working_bid) : sim::no_quote,
            .ask_quote = working_ask.ticks() > 0 ? spec_.to_double(working_ask) : sim::no_quote,
            .inventory = a.position_base(),
            .cash = a.cash(),
            .equity = a.equity(),
            .realized_pnl = a.realized_pnl(),
            .unrealized_pnl = a.unrealized_pnl(),
            .fees = a.fees()});
}

} // namespace quoter::engine
