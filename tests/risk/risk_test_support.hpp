// Shared fixtures for the risk tests: a symbol on an integer grid (so that every threshold in a
// test is exact), recording sinks and order builders.
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/risk/alert.hpp"
#include "quoter/risk/kill_switch.hpp"
#include "quoter/risk/pre_trade.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

namespace quoter::risk::testing {

/// Tick 1, step 1, minimum notional 1000: a price of p ticks is p, a quantity of n lots is n.
inline core::symbol_spec integer_spec() {
    const auto spec = core::symbol_spec::from_text(
        {.name = "TESTUSDT", .tick_size = "1", .step_size = "1", .min_notional = "1000"});
    REQUIRE(spec.has_value());
    return *spec;
}

inline market_view book(std::int64_t bid, std::int64_t ask) {
    return {.best_bid = core::price{bid}, .best_ask = core::price{ask}};
}

/// bid 999 / ask 1001: mid exactly 1000.
inline market_view mid_1000() {
    return book(999, 1001);
}

inline account_view flat_account(double equity = 100'000.0) {
    account_view account;
    account.equity = equity;
    account.day_start_equity = equity;
    account.peak_equity = equity;
    return account;
}

inline account_view with_position(std::int64_t lots, double equity = 100'000.0) {
    account_view account = flat_account(equity);
    account.position = core::qty{lots};
    return account;
}

inline order_request order(core::side side, std::int64_t price, std::int64_t lots,
                           bool post_only = false) {
    order_request o;
    o.client_order_id = 42;
    o.side = side;
    o.price = core::price{price};
    o.qty = core::qty{lots};
    o.post_only = post_only;
    return o;
}

inline order_request buy(std::int64_t price, std::int64_t lots, bool post_only = false) {
    return order(core::side::buy, price, lots, post_only);
}
inline order_request sell(std::int64_t price, std::int64_t lots, bool post_only = false) {
    return order(core::side::sell, price, lots, post_only);
}

struct rejection_recorder final : rejection_sink {
    std::vector<rejection_record> records;
    void on_rejection(const rejection_record& record) noexcept override {
        records.push_back(record);
    }
};

struct alert_recorder final : alert_sink {
    std::vector<alert> alerts;
    void raise(const alert& a) noexcept override { alerts.push_back(a); }
    [[nodiscard]] std::size_t count(alert_kind kind) const {
        std::size_t n = 0;
        for (const auto& a : alerts) {
            n += a.kind == kind ? 1 : 0;
        }
        return n;
    }
};

/// Records every request of the kill switch, in order.
struct action_recorder final : engine_actions {
    enum class kind { cancel_all, flatten, enable, disable };
    std::vector<kind> actions;
    std::vector<state_change> changes;
    bool new_orders_enabled = true;

    void cancel_all_orders(halt_reason /*reason*/) noexcept override {
        actions.push_back(kind::cancel_all);
    }
    void flatten_positions(halt_reason /*reason*/) noexcept override {
        actions.push_back(kind::flatten);
    }
    void set_new_orders_enabled(bool enabled) noexcept override {
        new_orders_enabled = enabled;
        actions.push_back(enabled ? kind::enable : kind::disable);
    }
    void on_state_change(const state_change& change) noexcept override {
        changes.push_back(change);
    }
    [[nodiscard]] std::size_t count(kind k) const {
        std::size_t n = 0;
        for (const auto a : actions) {
            n += a == k ? 1 : 0;
        }
        return n;
    }
};

} // namespace quoter::risk::testing
