// How the loaded configuration maps onto what the live-data commands run: the market's stream
// and REST endpoints, [market_data] onto a feed's subscription and session, the core loop of a
// replay or a session (strategy, quotes and simulated exchange as configured), and the settings
// a paper and a live session share.
#pragma once

#include "quoter/app/app_config.hpp"
#include "quoter/engine/core_loop.hpp"
#include "quoter/live/market_data_service.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/net/endpoints.hpp"

#include <cstdio>
#include <string_view>

namespace quoter::app {

[[nodiscard]] md::market to_md_market(market_kind market) noexcept;

/// The stream and REST URLs of the configured market. Binance's futures mainnet routes streams
/// under "/public" (depth, bookTicker) and "/market" (trades) below the one configured ws_url
/// (routed_streams); the testnet serves them all at ws_url.
[[nodiscard]] net::binance_endpoints market_endpoints(const engine_config& config);

/// [market_data] onto a feed's subscription and session settings (symbols and endpoints are
/// the caller's).
void apply_market_data(const engine_config& config, live::subscription_config& subscription,
                       live::session_config& session);

/// The core loop of a replay or session as the configuration describes it.
[[nodiscard]] engine::core_loop_config make_core_loop_config(const engine_config& config);

/// The settings paper and live sessions share (engine::paper_session_config and
/// engine::live_session_config have the same names for them): the core loop, the feed of
/// engine.symbol on the configured endpoints with md lines on stderr, a status callback five
/// times a second, [ops], session lines on stderr and the core thread's wait policy.
template <class Session> void configure_session(const engine_config& config, Session& session) {
    session.engine = make_core_loop_config(config);
    session.engine.warm_order_path_us = config.engine.warm_order_path_us; // not in replays
    apply_market_data(config, session.market_data.subscription, session.market_data.session);
    session.market_data.subscription.symbols = {config.engine.symbol};
    session.market_data.session.endpoints = market_endpoints(config);
    session.market_data.cpu = config.threads.md_cpu;
    session.market_data.log = [](std::string_view line) {
        std::fprintf(stderr, "md: %.*s\n", static_cast<int>(line.size()), line.data());
    };
    session.status_interval_ms = 200;
    session.ops = config.ops;
    session.log = [](std::string_view line) {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
        std::fflush(stderr);
    };
    session.idle = config.threads.wait;
}

} // namespace quoter::app
