#include "quoter/risk/kill_switch.hpp"

#include "risk/risk_test_support.hpp"

#include <catch2/catch.hpp>

using namespace quoter;
using namespace quoter::risk;
using namespace quoter::risk::testing;
using kind = action_recorder::kind;

namespace {

struct fixture {
    explicit fixture(bool flatten_on_kill = false) : ks(actions, alerts, flatten_on_kill) {}
    action_recorder actions;
    alert_recorder alerts;
    kill_switch ks;
};

} // namespace

TEST_CASE("a kill disables new orders, cancels everything, alerts and journals", "[kill_switch]") {
    fixture f;
    CHECK(f.ks.state() == trading_state::running);
    CHECK(f.ks.trigger_kill_switch(halt_reason::manual_kill, 100));
    CHECK(f.ks.state() == trading_state::killed);
    CHECK(f.ks.kill_reason() == halt_reason::manual_kill);
    CHECK_FALSE(f.ks.new_orders_allowed());
    CHECK(f.ks.gate() == order_gate::killed);
    CHECK(f.actions.actions == std::vector<kind>{kind::disable, kind::cancel_all});
    REQUIRE(f.actions.changes.size() == 1);
    CHECK(f.actions.changes[0].event == state_event::kill);
    CHECK(f.actions.changes[0].from == trading_state::running);
    CHECK(f.actions.changes[0].to == trading_state::killed);
    CHECK(f.actions.changes[0].reason == halt_reason::manual_kill);
    CHECK(f.actions.changes[0].time == 100);
    REQUIRE(f.alerts.alerts.size() == 1);
    CHECK(f.alerts.alerts[0].kind == alert_kind::kill);
    CHECK(f.alerts.alerts[0].severity == alert_severity::critical);
}

TEST_CASE("flatten_on_kill asks the engine to flatten", "[kill_switch]") {
    fixture f(true);
    f.ks.trigger_kill_switch(halt_reason::daily_loss, 1);
    CHECK(f.actions.actions == std::vector<kind>{kind::disable, kind::cancel_all, kind::flatten});
}

TEST_CASE("the kill switch is idempotent and latches its first reason", "[kill_switch]") {
    fixture f;
    CHECK(f.ks.trigger_kill_switch(halt_reason::slippage, 1));
    CHECK_FALSE(f.ks.trigger_kill_switch(halt_reason::slippage, 2));
    CHECK_FALSE(f.ks.trigger_kill_switch(halt_reason::manual_kill, 3));
    f.ks.set_condition(halt_reason::daily_loss, true, 4);
    CHECK(f.ks.kill_reason() == halt_reason::slippage);
    CHECK(f.ks.kill_count() == 1);
    CHECK(f.actions.count(kind::cancel_all) == 1);
    CHECK(f.actions.changes.size() == 1);
    CHECK(f.alerts.count(alert_kind::kill) == 1);
    // Latched: nothing but resume leaves the state, however long it waits.
    f.ks.set_condition(halt_reason::daily_loss, false, 5);
    CHECK(f.ks.state() == trading_state::killed);
}

TEST_CASE("resume is refused while the cause persists", "[kill_switch]") {
    fixture f;
    f.ks.set_condition(halt_reason::daily_loss, true, 10);
    REQUIRE(f.ks.state() == trading_state::killed);
    CHECK(f.ks.kill_reason() == halt_reason::daily_loss);

    const resume_result refused = f.ks.resume(20);
    CHECK(refused.outcome == resume_outcome::refused);
    CHECK(refused.blocking == halt_reason::daily_loss);
    CHECK(f.ks.state() == trading_state::killed);
    CHECK(f.actions.changes.back().event == state_event::resume_refused);
    CHECK(f.alerts.count(alert_kind::resume_refused) == 1);
    CHECK_FALSE(f.actions.new_orders_enabled);

    f.ks.set_condition(halt_reason::daily_loss, false, 30);
    CHECK(f.ks.state() == trading_state::killed); // a kill never lifts by itself
    const resume_result resumed = f.ks.resume(40);
    CHECK(resumed.outcome == resume_outcome::resumed);
    CHECK(resumed.state == trading_state::running);
    CHECK(f.ks.state() == trading_state::running);
    CHECK(f.ks.kill_reason() == halt_reason::none);
    CHECK(f.actions.new_orders_enabled);
    CHECK(f.actions.changes.back().event == state_event::resume);
    CHECK(f.actions.changes.back().reason == halt_reason::daily_loss);
}

TEST_CASE("a resume is refused while any kill condition persists, not only the first",
          "[kill_switch]") {
    fixture f;
    f.ks.trigger_kill_switch(halt_reason::manual_kill, 1);
    f.ks.set_condition(halt_reason::api_error_storm, true, 2);
    CHECK(f.ks.resume(3).blocking == halt_reason::api_error_storm);
    f.ks.set_condition(halt_reason::api_error_storm, false, 4);
    CHECK(f.ks.resume(5).outcome == resume_outcome::resumed);
}

TEST_CASE("an active kill condition kills again after a resume", "[kill_switch]") {
    fixture f;
    f.ks.trigger_kill_switch(halt_reason::slippage, 1);
    REQUIRE(f.ks.resume(2).outcome == resume_outcome::resumed);
    f.ks.set_condition(halt_reason::drawdown_hard, true, 3);
    CHECK(f.ks.state() == trading_state::killed);
    CHECK(f.ks.kill_reason() == halt_reason::drawdown_hard);
    CHECK(f.ks.kill_count() == 2);
}

TEST_CASE("a pause cancels and resumes by itself when its condition clears", "[kill_switch]") {
    fixture f;
    f.ks.set_condition(halt_reason::stale_market_data, true, 1);
    CHECK(f.ks.state() == trading_state::paused);
    CHECK(f.ks.pause_reason() == halt_reason::stale_market_data);
    CHECK(f.ks.gate() == order_gate::paused);
    CHECK(f.actions.actions == std::vector<kind>{kind::disable, kind::cancel_all});
    f.ks.set_condition(halt_reason::stale_market_data, true, 2); // repeated: nothing new
    CHECK(f.actions.actions.size() == 2);

    f.ks.set_condition(halt_reason::stale_market_data, false, 3);
    CHECK(f.ks.state() == trading_state::running);
    CHECK(f.actions.actions.back() == kind::enable);
    CHECK(f.actions.changes.back().event == state_event::auto_resume);
    CHECK(f.actions.changes.back().reason == halt_reason::stale_market_data);
}

TEST_CASE("a pause holds until every pause condition clears", "[kill_switch]") {
    fixture f;
    f.ks.set_condition(halt_reason::stale_market_data, true, 1);
    f.ks.set_condition(halt_reason::resync, true, 2);
    f.ks.set_condition(halt_reason::stale_market_data, false, 3);
    CHECK(f.ks.state() == trading_state::paused);
    CHECK(f.ks.pause_reason() == halt_reason::resync);
    f.ks.set_condition(halt_reason::resync, false, 4);
    CHECK(f.ks.state() == trading_state::running);
}

TEST_CASE("a manual pause waits for resume; resume waits for automatic causes", "[kill_switch]") {
    fixture f;
    f.ks.pause(1);
    CHECK(f.ks.state() == trading_state::paused);
    CHECK(f.ks.pause_reason() == halt_reason::manual_pause);
    f.ks.set_condition(halt_reason::stale_market_data, true, 2);
    f.ks.set_condition(halt_reason::stale_market_data, false, 3);
    CHECK(f.ks.state() == trading_state::paused); // the manual pause still holds

    f.ks.set_condition(halt_reason::resync, true, 4);
    const resume_result r = f.ks.resume(5);
    CHECK(r.outcome == resume_outcome::refused);
    CHECK(r.blocking == halt_reason::resync);
    CHECK(f.ks.state() == trading_state::paused);
    // The operator asked to resume: clearing the automatic cause is enough now.
    f.ks.set_condition(halt_reason::resync, false, 6);
    CHECK(f.ks.state() == trading_state::running);
}

TEST_CASE("a kill dominates a pause and a resume from it lands in the pause", "[kill_switch]") {
    fixture f;
    f.ks.set_condition(halt_reason::resync, true, 1);
    f.ks.trigger_kill_switch(halt_reason::manual_kill, 2);
    CHECK(f.ks.state() == trading_state::killed);
    CHECK(f.actions.changes.back().from == trading_state::paused);

    f.ks.set_condition(halt_reason::stale_market_data, true, 3);
    f.ks.set_condition(halt_reason::stale_market_data, false, 4);
    CHECK(f.ks.state() == trading_state::killed);

    const resume_result r = f.ks.resume(5);
    CHECK(r.outcome == resume_outcome::resumed);
    CHECK(r.state == trading_state::paused);
    CHECK(r.blocking == halt_reason::resync);
    CHECK(f.ks.state() == trading_state::paused);
    CHECK_FALSE(f.actions.new_orders_enabled);
    f.ks.set_condition(halt_reason::resync, false, 6);
    CHECK(f.ks.state() == trading_state::running);
    CHECK(f.actions.new_orders_enabled);
}

TEST_CASE("resume when running does nothing", "[kill_switch]") {
    fixture f;
    CHECK(f.ks.resume(1).outcome == resume_outcome::not_halted);
    CHECK(f.actions.actions.empty());
    CHECK(f.actions.changes.empty());
}

TEST_CASE("a pause reason given to trigger_kill_switch kills as manual", "[kill_switch]") {
    fixture f;
    f.ks.trigger_kill_switch(halt_reason::stale_market_data, 1);
    CHECK(f.ks.kill_reason() == halt_reason::manual_kill);
}

namespace {

/// Sends an order from inside the kill's actions, as a real engine's flatten does.
struct gate_probe final : engine_actions {
    pre_trade_checker* checker = nullptr;
    std::vector<order_gate> seen;
    void cancel_all_orders(halt_reason /*reason*/) noexcept override {
        seen.push_back(checker->gate());
    }
    void flatten_positions(halt_reason /*reason*/) noexcept override {
        seen.push_back(checker->gate());
    }
    void set_new_orders_enabled(bool /*enabled*/) noexcept override {
        seen.push_back(checker->gate());
    }
    void on_state_change(const state_change& /*change*/) noexcept override {}
};

} // namespace

TEST_CASE("the checker's gate closes before any kill action runs", "[kill_switch]") {
    rejection_recorder rejections;
    pre_trade_checker checker(risk_limits{}, rejections);
    gate_probe probe;
    probe.checker = &checker;
    null_alert_sink alerts;
    kill_switch ks(probe, alerts, true, &checker);
    ks.trigger_kill_switch(halt_reason::manual_kill, 1);
    CHECK(probe.seen == std::vector<order_gate>(3, order_gate::killed));
    REQUIRE(ks.resume(2).outcome == resume_outcome::resumed);
    CHECK(checker.gate() == order_gate::open);
}
