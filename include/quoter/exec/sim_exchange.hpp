// sim_exchange: an event-driven simulated exchange on simulated time, implementing
// order_gateway so that the same core code trades against it and against Binance.
//
// Time. Every call carries the caller's time in ns; the exchange keeps a queue of pending
// events (orders and cancels travelling to the exchange, reports travelling back) and processes
// those due at or before that time first, in (time, sequence) order, so equal times keep call
// order. Requests reach the exchange after an order-entry or cancel latency; reports reach the
// client after the market-data latency. Reports always arrive in the order the exchange sent
// them (one stream); requests too unless fifo_requests is false, in which case a fast cancel can
// overtake a slow order and is rejected as unknown.
//
// Order lifecycle: arrival → reject (post-only would cross, duplicate id, open-order limit,
// invalid fields, reduce-only) or ack → taker fills for a crossing order → rests (GTC) or expires
// (IOC/FOK remainder) → partial fills → fill / cancelled. A cancel that arrives after the order
// is done is answered with cancel_reject(unknown_order), after the fill reports that made it
// done.
//
// Market inputs (exchange time; see each function):
//  (a) top of book and book levels: a resting order the opposite best price reaches fills as
//      maker at its own price (cross_fill_rule);
//  (b) synthetic market orders: on_market_order() sweeps resting orders best first, hit_order()
//      fills the order of one side and quote level, for models that decide per quote whether
//      it is hit (intensity A*exp(-k*delta));
//  (c) trade prints with a queue-position model for paper trading and replay (below).
//
// Queue-position model. An order that starts resting at a price level queues behind the size
// displayed there (0 inside the spread; unknown when its price is deeper than the known
// depth, until a book update covers it; 0 when no book sizes were ever given). A trade print at
// its price consumes the queue ahead first and fills the order only with what is left; a trade
// print at a worse price fills it completely (the aggressor went through its level). A decrease
// of the displayed size that trades do not explain is taken as cancellations spread uniformly
// over the queue, so it removes the proportional share ahead:
//   ahead -= decrease * ahead / size_before   (rounded down),  and ahead <= displayed size.
// Assumptions, all documented biases: trade prints arrive before the book update that shows
// their effect (as on Binance, where depth is batched); otherwise the decrease is counted twice
// and fills come early. Several own orders at one price each queue only behind displayed size,
// independently. The simulated orders never change the displayed book, and taker fills do not
// consume it.
//
// Fees: fee = ceil(notional_units * fee_bps / 1e4) per fill, in notional units of the symbol
// (positive = paid, negative = rebate); the ceiling rounds every fee in the exchange's favour.
//
// Event queues. Reports leave in exchange order, so they wait in a FIFO ring; so do requests
// when fifo_requests holds (their arrival times never decrease). The next event is the earlier
// of the two ring fronts, O(1). Only independent request latencies need a binary heap.
//
// Capacity. Open orders, pending requests and reports and book depth have fixed maxima set at
// construction; nothing allocates after it. A full request queue makes submit/cancel fail with
// gateway_error::queue_full; a report that cannot be queued is counted in dropped_reports.
//
// Determinism: the same config (seed included) and the same sequence of calls give the same
// reports with the same timestamps.
//
// Threading: single-threaded; every call on the thread that owns the exchange (the core thread
// in backtests). The report sink may submit and cancel from inside on_exec_report, but must not
// call market inputs or poll().
#pragma once

#include "quoter/core/book_level.hpp"
#include "quoter/core/fixed_point.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/exec/latency_model.hpp"
#include "quoter/exec/order_gateway.hpp"
#include "quoter/exec/order_index.hpp"
#include "quoter/exec/order_types.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace quoter::exec {

/// When the opposite best price reaching a resting order fills it.
enum class cross_fill_rule : std::uint8_t {
    on_touch,   ///< A buy fills when best ask <= its price (a sell when best bid >= its price).
    on_through, ///< Only when strictly through: best ask < buy price, best bid > sell price.
    never,      ///< Book moves never fill; only trades and synthetic market orders do.
};

struct sim_exchange_config {
    /// Fee for resting (maker) fills in bps of notional; negative = rebate.
    double maker_fee_bps = 1.0;
    /// Fee for crossing (taker) fills in bps of notional.
    double taker_fee_bps = 1.0;
    /// Client → exchange delay of new orders.
    latency_config order_entry_latency{latency_distribution::constant, 1 * core::ns_per_ms, 0};
    /// Client → exchange delay of cancels and cancel-alls.
    latency_config cancel_latency{latency_distribution::constant, 1 * core::ns_per_ms, 0};
    /// Exchange → client delay of reports. Drivers that delay the book they show the strategy
    /// draw from the same model with sample_market_data_latency().
    latency_config market_data_latency{latency_distribution::constant, core::ns_per_ms / 2, 0};
    /// Requests reach the exchange in the order they were sent (one connection). False lets
    /// each request keep its own latency, so a cancel can overtake its order.
    bool fifo_requests = true;
    /// How book moves fill resting orders (input (a)).
    cross_fill_rule cross_fill = cross_fill_rule::on_touch;
    /// An arriving order that reaches the displayed opposite best is marketable: post-only is
    /// rejected, otherwise it takes. false: the displayed book never trades with an arriving
    /// order (it rests wherever it is priced; with cross_fill never only synthetic market orders
    /// and trade prints fill it), for model experiments where quotes may sit through the mid.
    bool match_book = true;
    /// Orders queue behind displayed size (input (c)); false: a trade at an order's price fills
    /// it at once, up to the trade's size.
    bool queue_model = true;
    /// Open orders over all symbols; more are rejected with too_many_open_orders.
    std::uint32_t max_open_orders = 256;
    /// Reports in flight to the client; requests in flight are limited to half of it (more
    /// make submit/cancel fail with queue_full), leaving room for the reports they cause.
    std::uint32_t max_pending_events = 8192;
    /// Seed of the latency generator.
    std::uint64_t seed = 1;
};

/// Best bid and ask. A price <= 0 means that side is empty; a quantity of 0 means its size is
/// unknown (a synthetic market that only moves prices).
struct top_of_book {
    core::price bid;
    core::qty bid_qty;
    core::price ask;
    core::qty ask_qty;
};

/// An order resting on the simulated exchange.
struct sim_order {
    order_request request;
    std::uint64_t exchange_id = 0;
    core::qty leaves;
    core::qty cum;
    /// Displayed quantity ahead of the order at its price (queue model).
    core::qty queue_ahead;
    /// Displayed quantity at the order's price as the order last saw it.
    core::qty level_seen;
    /// False while the order's price is deeper than the known book.
    bool queue_known = true;
    /// When the order started resting (exchange time, ns).
    core::timestamp_ns rest_ts = 0;
    /// Time priority among orders at one price.
    std::uint64_t rest_seq = 0;
};

/// Counters of everything the exchange did; for tests, reports and sanity checks.
struct sim_exchange_stats {
    std::uint64_t orders_received = 0;
    std::uint64_t acks = 0;
    std::uint64_t rejects = 0;
    std::uint64_t post_only_rejects = 0;
    std::uint64_t maker_fills = 0;
    std::uint64_t taker_fills = 0;
    std::uint64_t cancels_received = 0;
    std::uint64_t cancelled = 0;
    std::uint64_t expired = 0;
    std::uint64_t cancel_rejects = 0;
    std::uint64_t reports_delivered = 0;
    std::uint64_t dropped_reports = 0;
};

class sim_exchange final : public order_gateway {
public:
    /// Most book levels kept per side and symbol; deeper levels given to on_book_side are
    /// ignored (orders there have an unknown queue until the book covers them).
    static constexpr std::size_t max_book_levels = 64;

    /// symbols: one spec per symbol index, for fees in notional units. Empty: one symbol (index
    /// 0) with a default spec, where a notional unit is one tick times one lot.
    explicit sim_exchange(const sim_exchange_config& config,
                          std::span<const core::symbol_spec> symbols = {});

    sim_exchange(const sim_exchange&) = delete;
    sim_exchange& operator=(const sim_exchange&) = delete;

    // order_gateway. `now` earlier than the exchange's time is taken as the exchange's time.
    void set_report_sink(exec_report_sink* sink) noexcept override { sink_ = sink; }
    [[nodiscard]] gateway_error submit(const order_request& request,
                                       core::timestamp_ns now) noexcept override;
    [[nodiscard]] gateway_error cancel(std::uint32_t symbol, client_order_id id,
                                       core::timestamp_ns now) noexcept override;
    [[nodiscard]] gateway_error cancel_all(std::uint32_t symbol,
                                           core::timestamp_ns now) noexcept override;
    std::size_t poll(core::timestamp_ns now) noexcept override;
    /// Dry run of submit(): see order_gateway::rehearse_submit.
    [[nodiscard]] bool rehearse_submit(const order_request& request,
                                       core::timestamp_ns now) noexcept override;

    // Market inputs, in exchange time. Each first processes the events due by `now`.

    /// (a) New best bid and ask. Levels better than the new best are gone (orders queued there
    /// move to the front), sizes given refresh their level, then resting orders the opposite
    /// best reaches fill as maker at their price.
    void on_top_of_book(std::uint32_t symbol, const top_of_book& book,
                        core::timestamp_ns now) noexcept;
    /// (a)+(c) A whole book side, best first, non-empty levels only (top-K of a depth book).
    /// Orders at prices the levels cover but do not list see their level empty.
    void on_book_side(std::uint32_t symbol, core::side side,
                      std::span<const core::book_level> levels, core::timestamp_ns now) noexcept;
    /// Both sides of a book at once: the same as on_book_side(buy, bids) then
    /// on_book_side(sell, asks), in one call. Inline: a feed calls it on every book event.
    void on_book(std::uint32_t symbol, std::span<const core::book_level> bids,
                 std::span<const core::book_level> asks, core::timestamp_ns now) noexcept {
        if (bids.size() != 1 || asks.size() != 1 || config_.queue_model) {
            on_book_levels(symbol, bids, asks, now);
            return;
        }
        // A top-of-book feed without queue positions (every synthetic and bookTicker step).
        // Most steps have nothing due and move the book clear of every resting order: the new
        // best bid and ask reach neither side's first order (nor does the old ask the first
        // bid, which on_book_top() checks in between); then the update is only its stores.
        if (symbol < symbol_count_ && !due(now)) [[likely]] {
            symbol_state& state = symbols_[symbol];
            if (!bids_reached(state, state.best_ask) && !asks_reached(state, bids[0].px) &&
                !bids_reached(state, asks[0].px)) [[likely]] {
                now_ = std::max(now_, now);
                set_top(state, core::side::buy, bids[0]);
                set_top(state, core::side::sell, asks[0]);
                return;
            }
        }
        on_book_top(symbol, bids[0], asks[0], now);
    }
    /// (a)+(c) One level's new displayed size (a depth diff); 0 removes the level.
    void on_book_level(std::uint32_t symbol, core::side side, core::price price, core::qty qty,
                       core::timestamp_ns now) noexcept;
    /// (c) A trade print; aggressor is the taker's side (sell = hit the bids).
    void on_trade(std::uint32_t symbol, core::price price, core::qty qty, core::side aggressor,
                  core::timestamp_ns now) noexcept;
    /// (b) A synthetic market order of side `aggressor` that trades with resting orders of the
    /// other side, best price first, each as maker at its own price, ignoring queues. fill_all
    /// fills the best resting order completely. Returns the quantity filled.
    core::qty on_market_order(std::uint32_t symbol, core::side aggressor, core::qty qty,
                              core::timestamp_ns now) noexcept;
    /// (b) The resting order of `order_side` and quote `level` (the first by priority if
    /// several) was hit for qty (fill_all: completely), as maker at its price. Returns the
    /// quantity filled; 0 when no such order rests.
    core::qty hit_order(std::uint32_t symbol, core::side order_side, std::uint8_t level,
                        core::qty qty, core::timestamp_ns now) noexcept;

    /// Processes the events due by `now` without delivering anything else; same as poll().
    void advance_to(core::timestamp_ns now) noexcept { (void)poll(now); }
    /// Exchange time: the latest time processed (ns).
    [[nodiscard]] core::timestamp_ns now() const noexcept { return now_; }
    /// Time of the next pending event, or the largest timestamp when none is pending.
    /// Inline: the loop asks on every step.
    [[nodiscard]] core::timestamp_ns next_event_time() const noexcept { return next_due_; }
    [[nodiscard]] std::size_t pending_events() const noexcept {
        return pending_requests() + static_cast<std::size_t>(report_tail_ - report_head_);
    }
    /// One draw of the market-data latency (ns), for drivers that delay the strategy's book.
    [[nodiscard]] core::duration_ns sample_market_data_latency() noexcept {
        return market_data_latency_.draw(rng_);
    }

    // Inspection (tests, reports).
    [[nodiscard]] std::size_t open_order_count() const noexcept { return index_.size(); }
    /// The open order with this id, or nullptr. Valid until the next call that changes state.
    [[nodiscard]] const sim_order* find_order(client_order_id id) const noexcept;
    /// Calls visit(const sim_order&) for every open order of a symbol and side, best first.
    template <class Visitor>
    void for_each_open_order(std::uint32_t symbol, core::side side, Visitor&& visit) const {
        for (const std::uint32_t slot : symbols_[symbol].resting[side_index(side)]) {
            visit(static_cast<const sim_order&>(orders_[slot]));
        }
    }
    /// Net filled position of a symbol in lots (buys minus sells).
    [[nodiscard]] core::qty position(std::uint32_t symbol) const noexcept {
        return symbols_[symbol].position;
    }
    /// Sets a symbol's position, as a session restored from its state file holds it: the
    /// exchange went down with the process, the position did not, and reduce-only orders (a
    /// kill's flatten) are judged against it. Before the symbol's first order.
    void restore_position(std::uint32_t symbol, core::qty position) noexcept {
        symbols_[symbol].position = position;
    }
    [[nodiscard]] std::size_t symbol_count() const noexcept { return symbols_.size(); }
    [[nodiscard]] const sim_exchange_stats& stats() const noexcept { return stats_; }
    /// Changes whenever a resting order starts resting, fills or leaves the book: order-flow
    /// models that sample hits against the resting orders re-read them only when it moved.
    [[nodiscard]] std::uint64_t resting_version() const noexcept { return resting_version_; }
    [[nodiscard]] const sim_exchange_config& config() const noexcept { return config_; }

private:
    enum class request_kind : std::uint8_t { order, cancel, cancel_all };

    /// A request travelling to the exchange.
    struct request_event {
        core::timestamp_ns time = 0;
        std::uint64_t seq = 0;
        request_kind kind = request_kind::order;
        std::uint32_t symbol = 0;
        client_order_id cancel_id;
        order_request order;
    };

    /// A report travelling to the client.
    struct report_event {
        core::timestamp_ns time = 0;
        std::uint64_t seq = 0;
        exec_report report;
    };

    struct book_side_levels {
        std::array<core::book_level, max_book_levels> levels{};
        std::size_t count = 0;
        /// True once any size for this side was given; without it queues start empty.
        bool sized = false;
    };

    struct symbol_state {
        core::symbol_spec spec;
        core::price best_bid;
        core::price best_ask;
        std::array<book_side_levels, 2> book{};
        /// Open order slots per side, best price first, then time priority.
        std::array<std::vector<std::uint32_t>, 2> resting;
        /// Which opposite best prices reach each side's first resting order under the
        /// cross-fill rule (kept by note_front; see bids_reached and asks_reached). Best first:
        /// when the first order is not reached, none is. With no order, or cross_fill never,
        /// no price reaches.
        /// Bids: an ask reaches the first bid when 1 <= ask <= bid_reach (ask - 1 < bid_reach,
        /// unsigned, also rejects an empty side's ask <= 0).
        std::uint64_t bid_reach = 0;
        /// Asks: a bid reaches the first ask when bid > ask_reach (always >= 0, so such a bid
        /// is a price).
        std::int64_t ask_reach = std::numeric_limits<std::int64_t>::max();
        core::qty position;
    };

    static constexpr std::size_t side_index(core::side s) noexcept {
        return s == core::side::buy ? 0 : 1;
    }

    [[nodiscard]] std::size_t pending_requests() const noexcept {
        return config_.fifo_requests ? static_cast<std::size_t>(request_tail_ - request_head_)
                                     : request_heap_.size();
    }
    [[nodiscard]] gateway_error push_request(request_event request) noexcept;
    /// The next request due (nullptr when none is pending).
    [[nodiscard]] const request_event* next_request() const noexcept {
        if (config_.fifo_requests) {
            return request_head_ == request_tail_ ? nullptr
                                                  : &request_ring_[request_head_ & request_mask_];
        }
        return request_heap_.empty() ? nullptr : &request_heap_.front();
    }
    void pop_request() noexcept;
    /// pop_request() of the heap, out of line: the FIFO ring's pop is an increment.
    [[gnu::noinline]] void pop_request_heap() noexcept;
    void process_request(const request_event& request) noexcept;
    /// Whether a report or request is due by `now` (poll() would process something).
    [[nodiscard]] bool due(core::timestamp_ns now) const noexcept { return next_due_ <= now; }
    /// The earlier of the two queue fronts' times (the largest timestamp when both are empty),
    /// read from the queues; next_due_ caches it.
    [[nodiscard]] core::timestamp_ns earliest_pending() const noexcept {
        core::timestamp_ns next = std::numeric_limits<core::timestamp_ns>::max();
        if (const request_event* request = next_request()) {
            next = request->time;
        }
        if (report_head_ != report_tail_) {
            next = std::min(next, report_ring_[report_head_ & report_mask_].time);
        }
        return next;
    }
    /// poll() without its count: processes what is due by `now`, then moves the clock to it.
    void catch_up(core::timestamp_ns now) noexcept;
    /// poll()'s work once something is due.
    std::size_t process_due(core::timestamp_ns now) noexcept;
    void handle_order_arrival(const order_request& request, core::timestamp_ns time) noexcept;
    void handle_cancel_arrival(std::uint32_t symbol, client_order_id id,
                               core::timestamp_ns time) noexcept;
    void handle_cancel_all_arrival(std::uint32_t symbol, core::timestamp_ns time) noexcept;
    void cancel_symbol(std::uint32_t symbol, core::timestamp_ns time) noexcept;

    void send_report(const exec_report& report, core::timestamp_ns time) noexcept;
    /// send_report() of the report `write(exec_report&)` fills in, written straight into its
    /// queue slot (default-constructed first; the timestamps are set after write). A full
    /// queue drops it without calling write.
    template <class Write> void queue_report(core::timestamp_ns time, Write write) noexcept;
    void reject(const order_request& request, reject_reason reason,
                core::timestamp_ns time) noexcept;
    void fill(std::uint32_t slot, core::price at, core::qty qty, liquidity_role role,
              core::timestamp_ns time) noexcept;
    void taker_fill(const order_request& request, std::uint64_t exchange_id, core::price at,
                    core::qty qty, core::qty& cum, core::timestamp_ns time) noexcept;
    void rest(const order_request& request, std::uint64_t exchange_id, core::qty cum,
              core::timestamp_ns time) noexcept;
    void remove_resting(std::uint32_t slot) noexcept;
    /// remove_resting() of an order just looked up in the index (indexed: its entry there).
    void remove_resting(std::uint32_t slot, const order_index::entry& indexed) noexcept;
    [[nodiscard]] std::int64_t fee_units(std::uint32_t symbol, core::price at, core::qty qty,
                                         liquidity_role role) const noexcept;

    [[nodiscard]] bool crosses(const symbol_state& state, core::side side,
                               core::price price) const noexcept;
    /// Whether an order of `side` resting at `price` is reached by the opposite best price.
    [[nodiscard]] bool reached_by(core::side side, core::price price,
                                  core::price opposite) const noexcept {
        const bool touch = config_.cross_fill == cross_fill_rule::on_touch;
        if (side == core::side::buy) {
            return opposite.ticks() > 0 && (touch ? price >= opposite : price > opposite);
        }
        return opposite.ticks() > 0 && (touch ? price <= opposite : price < opposite);
    }
    /// Whether an order of `side` resting at `price` is reached by the symbol's opposite best.
    [[nodiscard]] bool reached(const symbol_state& state, core::side side,
                               core::price price) const noexcept {
        return reached_by(side, price, side == core::side::buy ? state.best_ask : state.best_bid);
    }
    /// Whether the resting order in `slot` (of `side`) is reached by the opposite best.
    [[nodiscard]] bool crossed(const symbol_state& state, core::side side,
                               std::uint32_t slot) const noexcept;
    /// Whether the opposite best `ask` reaches the symbol's first resting bid.
    [[nodiscard]] static bool bids_reached(const symbol_state& state, core::price ask) noexcept {
        return static_cast<std::uint64_t>(ask.ticks()) - 1 < state.bid_reach;
    }
    /// Whether the opposite best `bid` reaches the symbol's first resting ask.
    [[nodiscard]] static bool asks_reached(const symbol_state& state, core::price bid) noexcept {
        return bid.ticks() > state.ask_reach;
    }
    /// Whether the opposite best reaches the first resting order of `side`.
    [[nodiscard]] static bool front_reached(const symbol_state& state, core::side side) noexcept {
        return side == core::side::buy ? bids_reached(state, state.best_ask)
                                       : asks_reached(state, state.best_bid);
    }
    /// A side's resting list changed: keeps symbol_state::bid_reach or ask_reach.
    void note_front(symbol_state& state, core::side side) const noexcept;
    /// A top-of-book feed's new best level of one side: the side's whole known book.
    static void set_top(symbol_state& state, core::side side,
                        const core::book_level& level) noexcept {
        book_side_levels& book = state.book[side_index(side)];
        book.sized = true;
        book.count = 1;
        book.levels[0] = level;
        (side == core::side::buy ? state.best_bid : state.best_ask) = level.px;
    }
    /// Whether a resting order of either side is reached by the opposite best.
    [[nodiscard]] bool any_crossed(std::uint32_t symbol) const noexcept;
    void fill_crossed(std::uint32_t symbol, core::timestamp_ns time) noexcept;
    /// on_book() with one level a side and no queue model, when something is due or a resting
    /// order may be reached.
    [[gnu::noinline]] void on_book_top(std::uint32_t symbol, const core::book_level& top_bid,
                                       const core::book_level& top_ask,
                                       core::timestamp_ns now) noexcept;
    /// on_book() with more than one level a side, or with the queue model.
    [[gnu::noinline]] void on_book_levels(std::uint32_t symbol,
                                          std::span<const core::book_level> bids,
                                          std::span<const core::book_level> asks,
                                          core::timestamp_ns now) noexcept;
    /// on_book_side()'s update of the book and of the resting orders' queues, without the
    /// catch-up before and the fill check after.
    void set_book_side(std::uint32_t symbol, core::side side,
                       std::span<const core::book_level> levels) noexcept;
    void fill_crossed_side(std::uint32_t symbol, core::side side, core::timestamp_ns time) noexcept;
    void set_level(book_side_levels& book, core::side side, core::price price,
                   core::qty qty) noexcept;
    void trim_better_than(std::uint32_t symbol, core::side side, core::price best) noexcept;
    void apply_level_size(std::uint32_t symbol, core::side side, core::price price,
                          core::qty qty) noexcept;
    void apply_level_size(sim_order& order, core::qty qty) const noexcept;
    void init_queue(std::uint32_t symbol, sim_order& order) const noexcept;
    /// Copies the symbol's open slots of one side into scratch_ (fills reorder the live list).
    std::span<const std::uint32_t> snapshot_resting(std::uint32_t symbol, core::side side) noexcept;

    sim_exchange_config config_;
    std::int64_t maker_rate_e10_ = 0; // fee rate * 1e10 (1 bps = 1e6)
    std::int64_t taker_rate_e10_ = 0;
    exec_report_sink* sink_ = nullptr;
    sim_rng rng_;
    latency_sampler order_entry_latency_; // config_.order_entry_latency
    latency_sampler cancel_latency_;      // config_.cancel_latency
    latency_sampler market_data_latency_; // config_.market_data_latency

    core::timestamp_ns now_ = 0;
    core::timestamp_ns last_request_arrival_ = std::numeric_limits<core::timestamp_ns>::min();
    core::timestamp_ns last_report_arrival_ = std::numeric_limits<core::timestamp_ns>::min();
    std::uint64_t next_seq_ = 1;
    std::uint64_t next_exchange_id_ = 1;

    std::vector<symbol_state> symbols_;
    std::uint32_t symbol_count_ = 0; ///< symbols_.size(), fixed at construction.
    std::vector<sim_order> orders_;
    std::vector<std::uint32_t> free_orders_;
    order_index index_;
    std::size_t request_capacity_ = 0;
    std::size_t report_capacity_ = 0;
    // Rings: power-of-two buffers indexed by ever-growing head/tail counters.
    std::vector<request_event> request_ring_; // fifo_requests
    std::size_t request_mask_ = 0;            // request_ring_.size() - 1
    std::uint64_t request_head_ = 0;
    std::uint64_t request_tail_ = 0;
    std::vector<request_event> request_heap_; // !fifo_requests: min-heap by (time, seq)
    std::vector<report_event> report_ring_;
    std::size_t report_mask_ = 0; // report_ring_.size() - 1
    std::uint64_t report_head_ = 0;
    std::uint64_t report_tail_ = 0;
    /// earliest_pending(), lowered on every push and recomputed when process_due() is done:
    /// most calls find nothing due, and answer that with one comparison.
    core::timestamp_ns next_due_ = std::numeric_limits<core::timestamp_ns>::max();
    std::vector<std::uint32_t> scratch_;
    sim_exchange_stats stats_;
    std::uint64_t resting_version_ = 0;
};

} // namespace quoter::exec
