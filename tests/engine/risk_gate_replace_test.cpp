// risk_gate with a venue gateway that replaces in one request: the new order passes the checks
// first, with the order it replaces still counted as working, and both stay working until the
// old order's terminal report; a refused replacement cancels the old order alone.
#include "quoter/engine/risk_gate.hpp"

#include "engine_test_support.hpp"
#include "risk/risk_test_support.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace quoter::engine {
namespace {

using core::ns_per_s;
using namespace risk::testing;
using testing::replacing_venue;

constexpr core::timestamp_ns t0 = 1'000 * ns_per_s;

struct report_log final : exec::exec_report_sink {
    void on_exec_report(const exec::exec_report& report) noexcept override {
        reports.push_back(report);
    }
    std::vector<exec::exec_report> reports;
};

struct fixture {
    /// Net exposure limited to two lots at mid 1000 (2.5% of 100,000).
    fixture() : engine(config(), actions, alerts, rejections), gate(venue, engine, spec, 0, 0) {
        gate.set_report_sink(&log);
        gate.set_views(mid_1000(), flat_account());
    }
    static risk::risk_config config() {
        risk::risk_config c;
        c.limits.order_notional_pct = 100.0;
        c.limits.max_new_orders_per_s = 1'000;
        c.limits.max_new_orders_per_min = 100'000;
        c.limits.symbol_net_notional_pct = 2.5;
        return c;
    }
    exec::order_request bid(std::int64_t price, std::int64_t lots) {
        exec::order_request r;
        r.id = exec::client_order_id{++next_id};
        r.side = core::side::buy;
        r.price = core::price{price};
        r.qty = core::qty{lots};
        return r;
    }

    core::symbol_spec spec = integer_spec();
    replacing_venue venue;
    report_log log;
    action_recorder actions;
    alert_recorder alerts;
    rejection_recorder rejections;
    risk::risk_engine engine;
    risk_gate gate;
    std::uint64_t next_id = 0;
};

} // namespace

TEST_CASE("a replacement in one request counts with the order it replaces until that one is "
          "done",
          "[risk_gate][replace]") {
    fixture f;
    REQUIRE(f.gate.replaces_in_one_request());
    const exec::order_request old_bid = f.bid(1000, 1);
    REQUIRE(f.gate.submit(old_bid, t0) == exec::gateway_error::none);
    const exec::order_request new_bid = f.bid(1000, 1);
    REQUIRE(f.gate.replace(0, old_bid.id, new_bid, t0) == exec::gateway_error::none);
    REQUIRE(f.venue.replaced.size() == 1);
    CHECK(f.venue.replaced[0] == old_bid.id);
    CHECK(f.gate.working_orders() == 2);
    CHECK(f.gate.working_qty(core::side::buy) == core::qty{2});
    CHECK(f.gate.orders_passed() == 2);
    // While the old order's cancel is unconfirmed a third bid would make three lots: refused.
    CHECK(f.gate.submit(f.bid(1000, 1), t0) == exec::gateway_error::none);
    CHECK(f.gate.risk_rejects(risk::reject_reason::symbol_net_notional) == 1);
    CHECK(f.venue.submitted.size() == 2);
    // The old order is cancelled: one lot left working, and the next bid passes.
    f.venue.answer(old_bid.id, core::side::buy, exec::exec_kind::cancelled);
    (void)f.gate.poll(t0);
    CHECK(f.gate.working_orders() == 1);
    CHECK(f.gate.working_qty(core::side::buy) == core::qty{1});
    CHECK(f.gate.submit(f.bid(1000, 1), t0) == exec::gateway_error::none);
    CHECK(f.venue.submitted.size() == 3);
}

TEST_CASE("a replacement the checks refuse is not sent; the old order is cancelled alone",
          "[risk_gate][replace]") {
    fixture f;
    const exec::order_request old_bid = f.bid(999, 2); // two lots: the limit
    REQUIRE(f.gate.submit(old_bid, t0) == exec::gateway_error::none);
    // Counted with the old order's two lots the new one would make three.
    const exec::order_request new_bid = f.bid(1000, 1);
    REQUIRE(f.gate.replace(0, old_bid.id, new_bid, t0) == exec::gateway_error::none);
    CHECK(f.venue.replaced.empty());
    REQUIRE(f.venue.cancelled.size() == 1);
    CHECK(f.venue.cancelled[0] == old_bid.id);
    CHECK(f.gate.risk_rejects(risk::reject_reason::symbol_net_notional) == 1);
    (void)f.gate.poll(t0);
    REQUIRE(f.log.reports.size() == 1);
    CHECK(f.log.reports[0].client_id == new_bid.id);
    CHECK(f.log.reports[0].kind == exec::exec_kind::reject);
    CHECK(f.log.reports[0].reason == exec::reject_reason::risk_refused);
    CHECK(f.gate.working_orders() == 1); // the old one, until its cancel is confirmed
}

} // namespace quoter::engine
