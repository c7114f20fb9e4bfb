// Quote lifecycle benchmark: quoter::exec::quote_manager and sim_exchange against a naive
// implementation of the same logic (std::string client ids, std::unordered_map / std::map order
// tracking, a std::multimap of std::function events), on the same pre-generated streams.
//
// - session: one step = market top-of-book update + desired-quote update (3 levels a side) +
//   sometimes a synthetic market order or a hit on one quote, with every request and report
//   that follows travelling through the simulated exchange; the per-step cost of quote manager
//   + simulated exchange together, as a backtest pays it.
// - steady update: desired quotes that keep every working order (the common case on a quiet
//   book): the cost of one quote_manager::update that sends nothing.
// - exchange only: order lifecycle on the simulated exchange without a quote manager: submit,
//   cancel an older order, top-of-book move, synthetic market order; cost per input event.
//
// Both implementations use constant latencies and identical rules, so they send the same orders
// and see the same fills; the table prints the counts to show it. Repetitions alternate between
// the implementations and the best run of each is reported. Times are the thread's CPU time.
//
// One piece (about 750 lines): most of it is the naive reference implementation, which has to
// sit beside the scenarios it runs so that both sides visibly do the same work.
#include "quoter/core/clock.hpp"
#include "quoter/bench/suite.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/exec/sim_exchange.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace quoter::bench {
namespace {

using core::price;
using core::qty;
using core::side;
using core::timestamp_ns;

constexpr int repetitions = 3;
constexpr std::size_t session_steps_at_scale_1 = 600'000;
constexpr std::size_t steady_updates_at_scale_1 = 4'000'000;
constexpr std::size_t exchange_steps_at_scale_1 = 600'000;
constexpr std::size_t quote_levels = 3;
constexpr std::int64_t start_mid = 100'000;

constexpr timestamp_ns entry_latency_ns = 1'000'000;
constexpr timestamp_ns cancel_latency_ns = 1'000'000;
constexpr timestamp_ns report_latency_ns = 500'000;

// ---------------------------------------------------------------------------------------------
// Input streams

struct session_step {
    std::int32_t dt_us = 0;
    std::int16_t mid_move = 0;
    std::int16_t half_spread = 0; ///< Quote distance from the mid in ticks, level 0.
    std::int16_t size = 0;
    std::uint8_t market = 0; ///< 0 none, 1 market sell, 2 market buy, 3 hit a bid, 4 hit an ask
    std::uint8_t market_qty = 0;
    std::uint8_t level = 0;
    bool pull_bids = false;
};

std::vector<session_step> make_session(std::size_t steps, std::uint64_t seed) {
    exec::sim_rng rng(seed);
    std::vector<session_step> out(steps);
    for (auto& step : out) {
        step.dt_us = static_cast<std::int32_t>(20 + rng.next() % 160); // 100 us on average
        step.mid_move = static_cast<std::int16_t>(static_cast<int>(rng.next() % 7) - 3);
        step.half_spread = static_cast<std::int16_t>(3 + rng.next() % 4);
        step.size = static_cast<std::int16_t>(rng.next() % 50 == 0 ? 8 : 5);
        const auto roll = rng.next() % 100;
        step.market = roll < 3 ? 1 : roll < 6 ? 2 : roll < 8 ? 3 : roll < 10 ? 4 : 0;
        step.market_qty = static_cast<std::uint8_t>(1 + rng.next() % 6);
        step.level = static_cast<std::uint8_t>(rng.next() % quote_levels);
        step.pull_bids = rng.next() % 200 == 0;
    }
    return out;
}

exec::desired_quotes desired_for(std::int64_t mid, const session_step& step) {
    exec::desired_quotes desired;
    for (std::size_t level = 0; level < quote_levels; ++level) {
        const std::int64_t offset = step.half_spread + 5 * static_cast<std::int64_t>(level);
        if (!step.pull_bids) {
            desired.bids[level] = {price{mid - offset}, qty{step.size}};
        }
        desired.asks[level] = {price{mid + offset}, qty{step.size}};
    }
    return desired;
}

/// calm: production-like throttling, most updates keep the orders. churn: every move of
/// half a bp re-quotes after 1 ms, so orders, cancels and reports flow constantly.
exec::quote_manager_config manager_config(bool churn = false) {
    exec::quote_manager_config config;
    config.levels = quote_levels;
    config.refresh_tolerance_bps = churn ? 0.5 : 1.0; // 5 or 10 ticks at the start mid
    config.size_tolerance_pct = 25.0;
    config.max_order_age_ms = 5'000;
    config.refresh_ms = churn ? 1 : 100;
    return config;
}

exec::sim_exchange_config exchange_config() {
    exec::sim_exchange_config config;
    config.order_entry_latency = {exec::latency_distribution::constant, entry_latency_ns, 0};
    config.cancel_latency = {exec::latency_distribution::constant, cancel_latency_ns, 0};
    config.market_data_latency = {exec::latency_distribution::constant, report_latency_ns, 0};
    config.maker_fee_bps = -0.5;
    config.taker_fee_bps = 4.0;
    config.max_open_orders = 1024;
    return config;
}

// ---------------------------------------------------------------------------------------------
// Naive baseline: the same rules with string ids, node-based maps and type-erased events.

struct naive_report {
    std::string client_id;
    exec::exec_kind kind = exec::exec_kind::ack;
    side order_side = side::buy;
    int level = 0;
    std::int64_t price = 0;
    std::int64_t fill_qty = 0;
    std::int64_t cum_qty = 0;
    std::int64_t leaves_qty = 0;
    double fee = 0;
    timestamp_ns local_ts = 0;
};

struct naive_order {
    std::string id;
    side order_side = side::buy;
    int level = 0;
    std::int64_t price = 0;
    std::int64_t qty = 0;
    std::int64_t cum = 0;
    std::uint64_t seq = 0;
};

class naive_exchange {
public:
    std::function<void(const naive_report&)> sink;

    void submit(const naive_order& order, timestamp_ns now) {
        now = std::max(now, now_);
        events_.emplace(now + entry_latency_ns, [this, order]() mutable { arrive(order); });
    }
    void cancel(const std::string& id, timestamp_ns now) {
        now = std::max(now, now_);
        events_.emplace(now + cancel_latency_ns, [this, id] { cancel_arrive(id); });
    }
    void advance(timestamp_ns t) {
        while (!events_.empty() && events_.begin()->first <= t) {
            auto node = events_.extract(events_.begin());
            now_ = std::max(now_, node.key());
            node.mapped()();
        }
        now_ = std::max(now_, t);
    }
    void on_top_of_book(std::int64_t bid, std::int64_t ask, timestamp_ns t) {
        advance(t);
        best_bid_ = bid;
        best_ask_ = ask;
        for (const side s : {side::buy, side::sell}) {
            std::vector<std::string> crossed;
            for (const auto& [id, order] : orders_) {
                if (order.order_side == s &&
                    (s == side::buy ? order.price >= ask : order.price <= bid)) {
                    crossed.push_back(id);
                }
            }
            for (const auto& id : sorted(crossed)) {
                fill(id, orders_[id].qty - orders_[id].cum);
            }
        }
    }
    std::int64_t on_market_order(side aggressor, std::int64_t quantity, timestamp_ns t) {
        advance(t);
        std::vector<std::string> candidates;
        for (const auto& [id, order] : orders_) {
            if (order.order_side != aggressor) {
                candidates.push_back(id);
            }
        }
        std::int64_t filled = 0;
        for (const auto& id : sorted(candidates)) {
            const auto& order = orders_[id];
            const std::int64_t traded = std::min(quantity - filled, order.qty - order.cum);
            fill(id, traded);
            filled += traded;
            if (filled >= quantity) {
                break;
            }
        }
        return filled;
    }
    std::int64_t hit_order(side order_side, int level, std::int64_t quantity, timestamp_ns t) {
        advance(t);
        std::vector<std::string> candidates;
        for (const auto& [id, order] : orders_) {
            if (order.order_side == order_side && order.level == level) {
                candidates.push_back(id);
            }
        }
        if (candidates.empty()) {
            return 0;
        }
        const std::string id = sorted(candidates).front();
        const std::int64_t traded = std::min(quantity, orders_[id].qty - orders_[id].cum);
        fill(id, traded);
        return traded;
    }
    [[nodiscard]] std::size_t open_orders() const { return orders_.size(); }

private:
    /// Best price first, then time priority.
    std::vector<std::string> sorted(std::vector<std::string> ids) {
        std::sort(ids.begin(), ids.end(), [this](const std::string& a, const std::string& b) {
            const auto& x = orders_[a];
            const auto& y = orders_[b];
            if (x.price != y.price) {
                return x.order_side == side::buy ? x.price > y.price : x.price < y.price;
            }
            return x.seq < y.seq;
        });
        return ids;
    }
    void report(naive_report r) {
        const timestamp_ns at = std::max(now_ + report_latency_ns, last_report_);
        last_report_ = at;
        r.local_ts = at;
        events_.emplace(at, [this, r] { sink(r); });
    }
    void arrive(naive_order order) {
        naive_report r;
        r.client_id = order.id;
        r.order_side = order.order_side;
        r.level = order.level;
        r.price = order.price;
        const bool crosses = order.order_side == side::buy ? order.price >= best_ask_
                                                           : order.price <= best_bid_;
        if (crosses || orders_.count(order.id) != 0) {
            r.kind = exec::exec_kind::reject;
            report(r);
            return;
        }
        r.kind = exec::exec_kind::ack;
        r.leaves_qty = order.qty;
        order.seq = next_seq_++;
        orders_[order.id] = order;
        report(r);
    }
    void cancel_arrive(const std::string& id) {
        naive_report r;
        r.client_id = id;
        const auto it = orders_.find(id);
        if (it == orders_.end()) {
            r.kind = exec::exec_kind::cancel_reject;
            report(r);
            return;
        }
        r.kind = exec::exec_kind::cancelled;
        r.order_side = it->second.order_side;
        r.level = it->second.level;
        r.price = it->second.price;
        r.cum_qty = it->second.cum;
        r.leaves_qty = it->second.qty - it->second.cum;
        orders_.erase(it);
        report(r);
    }
    void fill(const std::string& id, std::int64_t quantity) {
        auto& order = orders_[id];
        order.cum += quantity;
        naive_report r;
        r.client_id = id;
        r.order_side = order.order_side;
        r.level = order.level;
        r.price = order.price;
        r.fill_qty = quantity;
        r.cum_qty = order.cum;
        r.leaves_qty = order.qty - order.cum;
        r.fee = static_cast<double>(order.price * quantity) * -0.5 / 1e4;
        r.kind = r.leaves_qty == 0 ? exec::exec_kind::fill : exec::exec_kind::partial_fill;
        if (r.leaves_qty == 0) {
            orders_.erase(id);
        }
        report(r);
    }

    std::multimap<timestamp_ns, std::function<void()>> events_;
    std::map<std::string, naive_order> orders_;
    std::int64_t best_bid_ = 0;
    std::int64_t best_ask_ = 0;
    timestamp_ns now_ = 0;
    timestamp_ns last_report_ = 0;
    std::uint64_t next_seq_ = 1;
};

class naive_quote_manager {
public:
    struct counters {
        std::uint64_t orders_sent = 0;
        std::uint64_t cancels_sent = 0;
        std::uint64_t fills = 0;
        std::uint64_t rejects = 0;
    };

    naive_quote_manager(naive_exchange& exchange, const exec::quote_manager_config& config)
        : exchange_(exchange) {
        exchange_.sink = [this](const naive_report& r) { on_report(r); };
        refresh_ns_ = config.refresh_ms * core::ns_per_ms;
        max_age_ns_ = config.max_order_age_ms * core::ns_per_ms;
        tolerance_bps_ = config.refresh_tolerance_bps;
        size_tolerance_pct_ = config.size_tolerance_pct;
    }

    void update(const exec::desired_quotes& desired, timestamp_ns now) {
        for (std::size_t level = 0; level < quote_levels; ++level) {
            desired_[{side::buy, static_cast<int>(level)}] = desired.bids[level];
            desired_[{side::sell, static_cast<int>(level)}] = desired.asks[level];
        }
        for (std::size_t level = 0; level < quote_levels; ++level) {
            manage({side::buy, static_cast<int>(level)}, now);
            manage({side::sell, static_cast<int>(level)}, now);
        }
    }
    [[nodiscard]] const counters& stats() const { return counters_; }

private:
    using slot_key = std::pair<side, int>;
    struct tracked {
        std::string id;
        slot_key slot;
        std::int64_t price = 0;
        std::int64_t qty = 0;
        timestamp_ns sent_ts = 0;
        bool cancel_pending = false;
        std::string status = "pending_new";
    };

    void manage(const slot_key& slot, timestamp_ns now) {
        const auto& want = desired_[slot];
        const auto current = slot_order_.find(slot);
        if (current == slot_order_.end()) {
            place(slot, now);
            return;
        }
        auto& order = orders_[current->second];
        if (order.cancel_pending) {
            return;
        }
        if (!want.active()) {
            send_cancel(order, now);
            return;
        }
        const auto gap = static_cast<double>(std::llabs(want.price.ticks() - order.price));
        const auto size_gap = static_cast<double>(std::llabs(want.qty.lots() - order.qty));
        const bool replace = (max_age_ns_ > 0 && now - order.sent_ts >= max_age_ns_) ||
                             gap * 1e4 > tolerance_bps_ * static_cast<double>(order.price) ||
                             size_gap * 100.0 > size_tolerance_pct_ * static_cast<double>(order.qty);
        if (replace && may_send(slot, now)) {
            send_cancel(order, now);
        }
    }
    bool may_send(const slot_key& slot, timestamp_ns now) {
        const auto it = last_sent_.find(slot);
        return it == last_sent_.end() || now - it->second >= refresh_ns_;
    }
    void place(const slot_key& slot, timestamp_ns now) {
        const auto& want = desired_[slot];
        if (!want.active() || !may_send(slot, now)) {
            return;
        }
        last_sent_[slot] = now;
        tracked order;
        order.id = "qtr-" + std::to_string(next_seq_++);
        order.slot = slot;
        order.price = want.price.ticks();
        order.qty = want.qty.lots();
        order.sent_ts = now;
        naive_order request;
        request.id = order.id;
        request.order_side = slot.first;
        request.level = slot.second;
        request.price = order.price;
        request.qty = order.qty;
        exchange_.submit(request, now);
        slot_order_[slot] = order.id;
        orders_[order.id] = order;
        ++counters_.orders_sent;
    }
    void send_cancel(tracked& order, timestamp_ns now) {
        exchange_.cancel(order.id, now);
        order.cancel_pending = true;
        ++counters_.cancels_sent;
    }
    void release(const std::string& id, timestamp_ns now) {
        const slot_key slot = orders_[id].slot;
        orders_.erase(id);
        slot_order_.erase(slot);
        place(slot, now);
    }
    void on_report(const naive_report& r) {
        const auto it = orders_.find(r.client_id);
        if (it == orders_.end()) {
            return;
        }
        auto& order = it->second;
        switch (r.kind) {
        case exec::exec_kind::ack: order.status = "acked"; break;
        case exec::exec_kind::reject: {
            ++counters_.rejects;
            const slot_key slot = order.slot;
            orders_.erase(it);
            slot_order_.erase(slot);
            break;
        }
        case exec::exec_kind::partial_fill:
            ++counters_.fills;
            order.status = "partially_filled";
            break;
        case exec::exec_kind::fill:
            ++counters_.fills;
            release(r.client_id, r.local_ts);
            break;
        case exec::exec_kind::cancelled: release(r.client_id, r.local_ts); break;
        case exec::exec_kind::cancel_reject: order.cancel_pending = false; break;
        case exec::exec_kind::unknown: break;
        }
    }

    naive_exchange& exchange_;
    std::map<slot_key, exec::side_quote> desired_;
    std::map<slot_key, std::string> slot_order_;
    std::map<slot_key, timestamp_ns> last_sent_;
    std::unordered_map<std::string, tracked> orders_;
    std::uint64_t next_seq_ = 1;
    timestamp_ns refresh_ns_ = 0;
    timestamp_ns max_age_ns_ = 0;
    double tolerance_bps_ = 0;
    double size_tolerance_pct_ = 0;
    counters counters_;
};

// ---------------------------------------------------------------------------------------------
// Runs

struct run_result {
    double seconds = 0;
    std::uint64_t orders = 0;
    std::uint64_t cancels = 0;
    std::uint64_t fills = 0;
    std::uint64_t rejects = 0;
};

/// CPU seconds of the calling thread spent in body, so that time other processes take on a
/// shared machine is not charged to the code under test.
template <class Body> double timed(Body&& body) {
    const core::thread_cpu_clock cpu;
    const timestamp_ns start = cpu.now();
    body();
    return static_cast<double>(cpu.now() - start) * 1e-9;
}

/// Drives a market (top of book around a random-walk mid) and a quoting loop.
template <class Exchange, class Manager>
void drive_session(const std::vector<session_step>& steps, Exchange& exchange, Manager& manager) {
    timestamp_ns t = 0;
    std::int64_t mid = start_mid;
    for (const session_step& step : steps) {
        t += step.dt_us * core::ns_per_us;
        mid += step.mid_move;
        exchange.on_top_of_book(mid - 2, mid + 2, t);
        manager.update(desired_for(mid, step), t);
        switch (step.market) {
        case 1: exchange.on_market_order(side::sell, step.market_qty, t); break;
        case 2: exchange.on_market_order(side::buy, step.market_qty, t); break;
        case 3: exchange.hit_order(side::buy, step.level, step.market_qty, t); break;
        case 4: exchange.hit_order(side::sell, step.level, step.market_qty, t); break;
        default: break;
        }
    }
}

/// Adapts sim_exchange to the call shapes drive_session uses.
struct sim_driver {
    exec::sim_exchange& exchange;
    void on_top_of_book(std::int64_t bid, std::int64_t ask, timestamp_ns t) {
        exchange.on_top_of_book(0, {price{bid}, qty{0}, price{ask}, qty{0}}, t);
    }
    void on_market_order(side aggressor, std::int64_t quantity, timestamp_ns t) {
        (void)exchange.on_market_order(0, aggressor, qty{quantity}, t);
    }
    void hit_order(side order_side, int level, std::int64_t quantity, timestamp_ns t) {
        (void)exchange.hit_order(0, order_side, static_cast<std::uint8_t>(level), qty{quantity},
                                 t);
    }
};

run_result run_quoter_session(const std::vector<session_step>& steps, bool churn) {
    exec::sim_exchange exchange(exchange_config());
    exec::quote_manager manager(manager_config(churn), exchange);
    exchange.set_report_sink(&manager);
    sim_driver driver{exchange};
    run_result result;
    result.seconds = timed([&] { drive_session(steps, driver, manager); });
    const auto& c = manager.counters();
    result.orders = c.orders_sent;
    result.cancels = c.cancels_sent;
    result.fills = c.fills;
    result.rejects = c.rejects;
    return result;
}

run_result run_naive_session(const std::vector<session_step>& steps, bool churn) {
    naive_exchange exchange;
    naive_quote_manager manager(exchange, manager_config(churn));
    run_result result;
    result.seconds = timed([&] { drive_session(steps, exchange, manager); });
    const auto& c = manager.stats();
    result.orders = c.orders_sent;
    result.cancels = c.cancels_sent;
    result.fills = c.fills;
    result.rejects = c.rejects;
    return result;
}

/// Quotes once, lets every order rest, then re-sends the same quotes `updates` times.
template <class Exchange, class Manager>
double steady_updates(std::size_t updates, Exchange& exchange, Manager& manager) {
    session_step step;
    step.half_spread = 5;
    step.size = 5;
    const exec::desired_quotes desired = desired_for(start_mid, step);
    exchange.on_top_of_book(start_mid - 2, start_mid + 2, 0);
    manager.update(desired, 0);
    exchange.on_top_of_book(start_mid - 2, start_mid + 2, 10 * core::ns_per_ms);
    timestamp_ns t = 10 * core::ns_per_ms;
    return timed([&] {
        for (std::size_t i = 0; i < updates; ++i) {
            t += 1000; // 1 us apart: far below the order age limit over the whole run
            manager.update(desired, t);
        }
    });
}

/// Order lifecycle straight on the exchange: per step a submit, a cancel of the order sent 16
/// steps earlier, a top-of-book move and every 4th step a market order.
template <class Submit, class Cancel, class Book, class Market>
void drive_exchange(std::size_t steps, Submit&& submit, Cancel&& cancel, Book&& book,
                    Market&& market) {
    exec::sim_rng rng(7);
    timestamp_ns t = 0;
    std::int64_t mid = start_mid;
    for (std::size_t i = 1; i <= steps; ++i) {
        t += 100 * core::ns_per_us;
        mid += static_cast<std::int64_t>(rng.next() % 5) - 2;
        const side s = (i & 1U) != 0 ? side::buy : side::sell;
        const std::int64_t offset = 3 + static_cast<std::int64_t>(rng.next() % 8);
        submit(i, s, s == side::buy ? mid - offset : mid + offset, t);
        if (i > 16) {
            cancel(i - 16, t);
        }
        book(mid - 2, mid + 2, t);
        if (i % 4 == 0) {
            market((i & 4U) != 0 ? side::buy : side::sell, t);
        }
    }
}

struct exchange_result {
    double seconds = 0;
    std::uint64_t reports = 0;
    std::uint64_t fills = 0;
};

exchange_result run_quoter_exchange(std::size_t steps) {
    exec::sim_exchange exchange(exchange_config());
    struct counting_sink final : exec::exec_report_sink {
        std::uint64_t reports = 0;
        std::uint64_t fills = 0;
        void on_exec_report(const exec::exec_report& r) noexcept override {
            ++reports;
            fills += r.kind == exec::exec_kind::fill || r.kind == exec::exec_kind::partial_fill;
        }
    } sink;
    exchange.set_report_sink(&sink);
    exchange_result result;
    result.seconds = timed([&] {
        drive_exchange(
            steps,
            [&](std::uint64_t id, side s, std::int64_t px, timestamp_ns t) {
                exec::order_request request;
                request.id = exec::client_order_id{id};
                request.side = s;
                request.price = price{px};
                request.qty = qty{5};
                (void)exchange.submit(request, t);
            },
            [&](std::uint64_t id, timestamp_ns t) {
                (void)exchange.cancel(0, exec::client_order_id{id}, t);
            },
            [&](std::int64_t bid, std::int64_t ask, timestamp_ns t) {
                exchange.on_top_of_book(0, {price{bid}, qty{0}, price{ask}, qty{0}}, t);
            },
            [&](side aggressor, timestamp_ns t) {
                (void)exchange.on_market_order(0, aggressor, qty{3}, t);
            });
    });
    result.reports = sink.reports;
    result.fills = sink.fills;
    return result;
}

exchange_result run_naive_exchange(std::size_t steps) {
    naive_exchange exchange;
    exchange_result result;
    exchange.sink = [&](const naive_report& r) {
        ++result.reports;
        result.fills += r.kind == exec::exec_kind::fill || r.kind == exec::exec_kind::partial_fill;
    };
    result.seconds = timed([&] {
        drive_exchange(
            steps,
            [&](std::uint64_t id, side s, std::int64_t px, timestamp_ns t) {
                naive_order order;
                order.id = "qtr-" + std::to_string(id);
                order.order_side = s;
                order.price = px;
                order.qty = 5;
                exchange.submit(order, t);
            },
            [&](std::uint64_t id, timestamp_ns t) {
                exchange.cancel("qtr-" + std::to_string(id), t);
            },
            [&](std::int64_t bid, std::int64_t ask, timestamp_ns t) {
                exchange.on_top_of_book(bid, ask, t);
            },
            [&](side aggressor, timestamp_ns t) { exchange.on_market_order(aggressor, 3, t); });
    });
    return result;
}

double per_ns(double seconds, std::size_t count) {
    return seconds * 1e9 / static_cast<double>(count);
}

} // namespace

int run_quote_manager_bench(const bench_options& options) {
    const auto scaled = [&](std::size_t n) {
        return std::max<std::size_t>(1000, static_cast<std::size_t>(static_cast<double>(n) *
                                                                    options.scale));
    };
    const std::size_t session_steps = scaled(session_steps_at_scale_1);
    const std::size_t steady = scaled(steady_updates_at_scale_1);
    const std::size_t exchange_steps = scaled(exchange_steps_at_scale_1);
    const auto steps = make_session(session_steps, 42);

    std::array<run_result, 2> quoter_session{run_result{1e300}, run_result{1e300}};
    std::array<run_result, 2> naive_session{run_result{1e300}, run_result{1e300}};
    double quoter_steady = 1e300;
    double naive_steady = 1e300;
    exchange_result quoter_exchange{1e300};
    exchange_result naive_exchange_run{1e300};
    for (int rep = 0; rep < repetitions; ++rep) {
        for (const bool churn : {false, true}) {
            const auto q = run_quoter_session(steps, churn);
            const auto n = run_naive_session(steps, churn);
            if (q.seconds < quoter_session[churn].seconds) {
                quoter_session[churn] = q;
            }
            if (n.seconds < naive_session[churn].seconds) {
                naive_session[churn] = n;
            }
        }
        {
            exec::sim_exchange exchange(exchange_config());
            exec::quote_manager manager(manager_config(), exchange);
            exchange.set_report_sink(&manager);
            sim_driver driver{exchange};
            quoter_steady = std::min(quoter_steady, steady_updates(steady, driver, manager));
        }
        {
            naive_exchange exchange;
            naive_quote_manager manager(exchange, manager_config());
            naive_steady = std::min(naive_steady, steady_updates(steady, exchange, manager));
        }
        const auto qe = run_quoter_exchange(exchange_steps);
        const auto ne = run_naive_exchange(exchange_steps);
        if (qe.seconds < quoter_exchange.seconds) {
            quoter_exchange = qe;
        }
        if (ne.seconds < naive_exchange_run.seconds) {
            naive_exchange_run = ne;
        }
    }

    fmt::print("{:<44} {:>8} {:>10} {:>10} {:>9}   {}\n", "case (best of 3)", "impl", "ns/event",
               "Mevents/s", "speedup", "work done (same for both)");
    const auto row = [](const char* name, const char* impl, double ns, double baseline_ns,
                        const std::string& work) {
        fmt::print("{:<44} {:>8} {:>10.1f} {:>10.2f} {:>8.1f}x   {}\n", name, impl, ns, 1e3 / ns,
                   baseline_ns / ns, work);
    };
    const auto session_work = [](const run_result& r) {
        return fmt::format("orders {} cancels {} fills {} rejects {}", r.orders, r.cancels,
                           r.fills, r.rejects);
    };
    for (const bool churn : {false, true}) {
        const double q = per_ns(quoter_session[churn].seconds, session_steps);
        const double n = per_ns(naive_session[churn].seconds, session_steps);
        row(churn ? "session step, churn (refresh 1 ms, 0.5 bps)"
                  : "session step, calm (refresh 100 ms, 1 bps)",
            "quoter", q, n, session_work(quoter_session[churn]));
        row("", "naive", n, n, session_work(naive_session[churn]));
    }
    const double qu = per_ns(quoter_steady, steady);
    const double nu = per_ns(naive_steady, steady);
    row("quote_manager::update, orders kept", "quoter", qu, nu, fmt::format("{} updates", steady));
    row("", "naive", nu, nu, fmt::format("{} updates", steady));
    // Input events: submit + book + (cancel) + 1/4 market order per step.
    const double inputs = static_cast<double>(exchange_steps) * 3.25;
    const double qe = quoter_exchange.seconds * 1e9 / inputs;
    const double ne = naive_exchange_run.seconds * 1e9 / inputs;
    const auto exchange_work = [](const exchange_result& r) {
        return fmt::format("reports {} fills {}", r.reports, r.fills);
    };
    row("sim_exchange input event (with its reports)", "quoter", qe, ne,
        exchange_work(quoter_exchange));
    row("", "naive", ne, ne, exchange_work(naive_exchange_run));
    fmt::print("session: {} steps (top-of-book update + desired quotes, {} levels a side, 100 us "
               "apart on average, a market order or quote hit on 10 % of steps); ns/event is per "
               "step, requests and reports included.\n",
               session_steps, quote_levels);
    fmt::print("sim_exchange: {} steps of submit + cancel + top of book (+ market order every 4th); "
               "ns/event is per input event.\n",
               exchange_steps);
    return 0;
}

} // namespace quoter::bench
