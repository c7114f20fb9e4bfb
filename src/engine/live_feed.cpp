#include "quoter/engine/live_feed.hpp"

#include "quoter/core/cpu.hpp"

namespace quoter::engine {

namespace {

/// The md thread wakes a blocked core through wakeup (block policy only: a notify costs the
/// producer a read-modify-write per event), and writes depth records only into a depth ring the
/// core asked for.
live::service_config with_wakeup(live::service_config config, core::idle_policy idle,
                                 core::wakeup* wakeup, live::md_depth_ring* depth) {
    config.wakeup = idle == core::idle_policy::block ? wakeup : nullptr;
    config.depth = depth;
    return config;
}

} // namespace

live_feed::live_feed(const live::service_config& config, core::idle_policy idle,
                     std::uint32_t symbol, bool with_depth)
    : ring_(std::make_unique<live::md_ring>()),
      depth_(with_depth ? std::make_unique<live::md_depth_ring>() : nullptr),
      wakeup_(std::make_unique<core::wakeup>()),
      service_(with_wakeup(config, idle, wakeup_.get(), depth_.get()), *ring_),
      waiter_(idle, wakeup_.get()), symbol_(symbol) {}

live_feed::~live_feed() {
    stop();
}

core::result<std::unique_ptr<live_feed>, std::string>
live_feed::start(const live::service_config& config, core::idle_policy idle, std::uint32_t symbol,
                 bool with_depth) {
    std::unique_ptr<live_feed> feed(new live_feed(config, idle, symbol, with_depth));
    const auto started = feed->service_.start();
    if (!started.has_value()) {
        return core::unexpected(std::string("market data: ") +
                                std::string(live::describe(started.error())));
    }
    if (!feed->service_.registry().contains(symbol)) {
        return core::unexpected(std::string("engine.symbol is not one of the subscribed symbols"));
    }
    return feed;
}

const md::instrument& live_feed::instrument() const noexcept {
    return service_.registry().at(symbol_);
}

void live_feed::idle(std::int64_t max_block_ns) {
    waiter_.idle([&] { return ring_->front() != nullptr; }, max_block_ns);
}

feed_view live_feed::view() const noexcept {
    const live::service_stats md = service_.stats();
    return {.messages = md.messages,
            .gaps = md.gaps,
            .resyncs = md.resyncs,
            .synced_symbols = md.synced_symbols,
            .last_update_id = last_update_id_};
}

void live_feed::stop() {
    service_.stop();
}

std::string pin_core_thread(int cpu) {
    if (cpu < 0) {
        return {};
    }
    const auto pinned = core::pin_current_thread(cpu);
    if (!pinned.has_value()) {
        return "cannot pin the core thread: " + std::string(core::describe(pinned.error()));
    }
    return {};
}

} // namespace quoter::engine
