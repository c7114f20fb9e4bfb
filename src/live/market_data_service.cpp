#include "quoter/live/market_data_service.hpp"

#include "feed_session.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/cpu.hpp"
#include "quoter/md/depth_handoff.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace quoter::live {

std::string_view describe(service_error error) noexcept {
    switch (error) {
    case service_error::none:
        return "none";
    case service_error::already_started:
        return "already started";
    case service_error::no_symbols:
        return "no symbols configured";
    case service_error::instruments:
        return "exchangeInfo unavailable: the REST request failed (connection, timeout or HTTP "
               "error) and there is no cache";
    case service_error::unknown_symbol:
        return "a configured symbol is not in exchangeInfo (or its filters are invalid)";
    case service_error::pinning:
        return "the md thread could not be pinned";
    case service_error::feed:
        return "a stream set could not be started";
    case service_error::stopped:
        return "stopped during start-up";
    }
    return "unknown";
}

namespace {

/// The ring's producer side: drops trade prints already published (the same trade delivered by
/// both connections of a rollover) and counts what a full ring refuses. It numbers the events
/// itself (from 1, like md_publisher, globally and per symbol) so that only ring overflows, never
/// de-duplication, leave a gap in the sequences the core checks. It stamps the md thread's hops
/// of the tick-to-order path (frame read, event built, pushed) on the process tsc clock and,
/// with a wake-up given, wakes a core thread that sleeps on it (the block wait policy).
class trade_dedup_sink final : public md::md_event_sink {
public:
    trade_dedup_sink(md_ring& ring, md_depth_ring* depth, std::size_t symbols, core::wakeup* wakeup)
        : ring_(ring), depth_(depth), wakeup_(wakeup), last_trade_(symbols, -1),
          symbol_sequence_(symbols, 0) {
        want_depth(depth_ != nullptr);
    }

    void on_event(const md::md_event& event) noexcept override { push(event, nullptr); }
    void on_event_depth(const md::md_event& event, const md::md_depth& depth) noexcept override {
        push(event, &depth);
    }

    [[nodiscard]] std::uint64_t published() const noexcept { return published_; }
    [[nodiscard]] std::uint64_t ring_full() const noexcept { return ring_full_; }
    [[nodiscard]] std::uint64_t duplicates() const noexcept { return duplicates_; }
    /// Where the feed session puts the stamps of the frame being handled (zeros otherwise).
    [[nodiscard]] detail::frame_stamps* frame() noexcept { return &frame_; }

private:
    /// depth: the event's record, when it has one (then the depth ring is set).
    void push(const md::md_event& event, const md::md_depth* depth) noexcept {
        const core::timestamp_ns decoded_ns = clock_.now();
        if (event.kind == md::md_event_kind::trade && event.symbol < last_trade_.size()) {
            std::int64_t& last = last_trade_[event.symbol];
            if (event.trade.trade_id <= last) {
                ++duplicates_;
                return;
            }
            last = event.trade.trade_id;
        }
        // Numbered whether or not the ring takes it: a refused event leaves a gap the core sees.
        const std::uint64_t sequence = ++sequence_;
        std::uint64_t symbol_sequence = event.symbol_sequence;
        if (event.symbol < symbol_sequence_.size()) {
            symbol_sequence = ++symbol_sequence_[event.symbol];
        }
        // Copied once, straight into the ring's slot, and numbered there (the depth record, when
        // one crosses, into its own ring's slot first: both or neither).
        const auto build = [&](md::md_event& slot) noexcept {
            slot.sequence = sequence;
            slot.symbol_sequence = symbol_sequence;
            slot.kernel_ns = frame_.kernel_ns;
            slot.received_ns = frame_.received_ns;
            slot.read_ns = frame_.read_ns;
            slot.decoded_ns = decoded_ns;
            slot.pushed_ns = clock_.now();
        };
        const bool pushed = depth != nullptr
                                ? depth_sender_.push(ring_, *depth_, event, *depth, build)
                                : ring_.try_emplace([&](md::md_event& slot) noexcept {
                                      slot = event;
                                      build(slot);
                                  });
        if (pushed) {
            ++published_;
            if (wakeup_ != nullptr) {
                wakeup_->notify();
            }
        } else {
            ++ring_full_;
        }
    }

    md_ring& ring_;
    md_depth_ring* depth_;
    /// Sends a depth record only when the levels below the top changed (md/depth_handoff.hpp).
    md::depth_sender depth_sender_;
    core::wakeup* wakeup_;
    core::tsc_clock clock_ = core::tsc_clock::process();
    detail::frame_stamps frame_;
    std::vector<std::int64_t> last_trade_;
    std::uint64_t published_ = 0;
    std::uint64_t ring_full_ = 0;
    std::uint64_t duplicates_ = 0;
    std::uint64_t sequence_ = 0;
    std::vector<std::uint64_t> symbol_sequence_;
};

} // namespace

struct market_data_service::impl {
    impl(service_config c, md_ring& r) : config(std::move(c)), ring(r) {}

    void run(std::promise<core::result<bool, service_error>>& started);
    core::result<bool, service_error> set_up();
    /// Publishes the counters; full: the kernel hop's percentiles too (they are otherwise
    /// refreshed every 100th call).
    void publish_stats(bool full = false);

    service_config config;
    md_ring& ring;
    net::io_loop loop;
    std::thread thread;
    std::atomic<bool> stop_flag{false};
    std::atomic<bool> running{false};
    md::symbol_registry registry;
    instruments_source origin = instruments_source::rest;

    // md thread only, between set_up() and the end of run().
    std::unique_ptr<trade_dedup_sink> sink;
    /// The kernel -> read hop of every stamped stream message (feed_session records it).
    core::latency_histogram kernel_to_read;
    /// publish_stats() calls since the kernel hop's percentiles were last computed.
    std::uint32_t publishes_since_kernel_summary = 0;
    core::latency_summary kernel_summary{};
    std::uint64_t book_memory_bytes = 0;
    std::unique_ptr<md::feed_handler> handler;
    std::unique_ptr<detail::feed_session> session;

    mutable std::mutex stats_mutex;
    service_stats published;
};

core::result<bool, service_error> market_data_service::impl::set_up() {
    if (config.cpu >= 0) {
        if (auto pinned = core::pin_current_thread(config.cpu); !pinned) {
            return core::unexpected{service_error::pinning};
        }
    }
    {
        net::rest_config rest_config;
        rest_config.base_url = rest_origin(config.subscription.venue, config.session.endpoints);
        rest_config.tls = config.session.tls;
        rest_config.request_timeout_ms = config.session.instruments.timeout_ms;
        net::rest_client rest(loop, rest_config);
        auto loaded = load_instruments(loop, rest, config.subscription, config.session.instruments,
                                       registry, &stop_flag);
        if (!loaded) {
            // Two different fixes: a connection to repair or a symbol name to correct.
            const instruments_error e = loaded.error();
            return core::unexpected{e == instruments_error::stopped ? service_error::stopped
                                    : e == instruments_error::unknown_symbol ||
                                            e == instruments_error::bad_filters
                                        ? service_error::unknown_symbol
                                        : service_error::instruments};
        }
        origin = *loaded;
    }
    md::feed_config feed = config.session.feed;
    feed.sync.stale_after_ms = config.session.stale_after_ms;
    sink = std::make_unique<trade_dedup_sink>(ring, config.depth, registry.size(), config.wakeup);
    handler = std::make_unique<md::feed_handler>(registry, *sink, feed);
    detail::session_hooks hooks;
    hooks.log = config.log;
    hooks.frame = sink->frame();
    hooks.kernel_to_read = &kernel_to_read;
    hooks.on_housekeeping = [this](core::timestamp_ns) { publish_stats(); };
    session = std::make_unique<detail::feed_session>(loop, registry, *handler, config.subscription,
                                                     config.session, std::move(hooks));
    if (auto started = session->start(); !started) {
        return core::unexpected{service_error::feed};
    }
    return true;
}

void market_data_service::impl::publish_stats(bool full) {
    service_stats next;
    const detail::session_counters& counters = session->counters();
    const md::decode_stats& decoded = handler->decoder().stats();
    next.messages = counters.messages;
    next.malformed = decoded.malformed();
    next.reconnects = counters.reconnects;
    next.rollovers = session->rollovers();
    next.server_shutdowns = counters.server_shutdowns;
    next.duplicates = counters.duplicates;
    next.snapshots_requested = counters.snapshots_requested;
    next.snapshots_failed = counters.snapshots_failed;
    next.events_published = sink->published();
    next.ring_full = sink->ring_full();
    next.open_connections = session->open_connections();
    next.kernel_stamped = kernel_to_read.count();
    // The percentiles walk the whole histogram: about once a second (100 housekeeping periods
    // of 10 ms), and on the first and the final publication.
    if (full || publishes_since_kernel_summary >= 100) {
        kernel_summary = kernel_to_read.summary();
        book_memory_bytes = 0;
        for (std::size_t id = 0; id < handler->symbols(); ++id) {
            book_memory_bytes +=
                handler->sync(static_cast<md::symbol_id>(id)).book().memory_bytes();
        }
        publishes_since_kernel_summary = 0;
    }
    ++publishes_since_kernel_summary;
    next.kernel_to_read = kernel_summary;
    next.book_memory_bytes = book_memory_bytes;
    for (std::size_t id = 0; id < handler->symbols(); ++id) {
        const md::book_sync& sync = handler->sync(static_cast<md::symbol_id>(id));
        next.gaps += sync.stats().gaps;
        next.resyncs += sync.stats().resyncs;
        next.stale_transitions += sync.stats().stale_transitions;
        next.synced_symbols += sync.state() == md::feed_state::synced ? 1U : 0U;
    }
    // Never block the md thread on a reader: skip this round when one holds the lock.
    std::unique_lock lock(stats_mutex, std::try_to_lock);
    if (lock.owns_lock()) {
        published = next;
    }
}

void market_data_service::impl::run(std::promise<core::result<bool, service_error>>& started) {
    auto ready = set_up();
    const bool ok = ready.has_value();
    if (ok) {
        publish_stats(true);
    }
    started.set_value(ready);
    if (ok) {
        if (config.session.busy_poll) {
            // Never sleeps in epoll_wait: each pass polls the reactor without blocking and runs
            // what is ready, so a frame is read as soon as the kernel has it, on a warm CPU.
            while (!stop_flag.load(std::memory_order_acquire)) {
                loop.poll();
                if (loop.stopped()) {
                    loop.restart();
                }
            }
        }
        while (!stop_flag.load(std::memory_order_acquire)) {
            loop.run();
            if (stop_flag.load(std::memory_order_acquire)) {
                break;
            }
            loop.restart();
        }
        session->stop();
        // Let the close handshakes finish, bounded.
        loop.restart();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (session->open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
            loop.run_for(std::chrono::milliseconds(20));
            if (loop.stopped()) {
                loop.restart();
            }
        }
        publish_stats(true);
    }
    session.reset();
    handler.reset();
    // Handlers still queued (closed sockets, cancelled timers) run now, before the loop's owner
    // can go away.
    loop.restart();
    loop.poll();
}

market_data_service::market_data_service(service_config config, md_ring& ring)
    : impl_(std::make_unique<impl>(std::move(config), ring)) {}

market_data_service::~market_data_service() {
    stop();
}

core::result<bool, service_error> market_data_service::start() {
    if (impl_->thread.joinable()) {
        return core::unexpected{service_error::already_started};
    }
    if (impl_->config.subscription.symbols.empty()) {
        return core::unexpected{service_error::no_symbols};
    }
    impl_->stop_flag.store(false);
    std::promise<core::result<bool, service_error>> started;
    auto result = started.get_future();
    impl_->thread = std::thread([this, &started] { impl_->run(started); });
    auto outcome = result.get();
    if (!outcome) {
        impl_->thread.join();
        return outcome;
    }
    impl_->running.store(true, std::memory_order_release);
    return outcome;
}

void market_data_service::stop() {
    if (!impl_->thread.joinable()) {
        return;
    }
    impl_->stop_flag.store(true, std::memory_order_release);
    impl_->loop.stop();
    impl_->thread.join();
    impl_->running.store(false, std::memory_order_release);
}

bool market_data_service::running() const noexcept {
    return impl_->running.load(std::memory_order_acquire);
}

const md::symbol_registry& market_data_service::registry() const noexcept {
    return impl_->registry;
}

instruments_source market_data_service::instruments_origin() const noexcept {
    return impl_->origin;
}

service_stats market_data_service::stats() const noexcept {
    std::lock_guard lock(impl_->stats_mutex);
    return impl_->published;
}

bool market_data_service::inspect(const std::function<void(const md::feed_handler&)>& fn,
                                  std::int64_t timeout_ms) {
    if (!running()) {
        return false;
    }
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    auto call = std::make_shared<std::function<void(const md::feed_handler&)>>(fn);
    impl* state = impl_.get();
    impl_->loop.post([state, done, call] {
        if (state->handler) {
            (*call)(*state->handler);
        }
        done->set_value();
    });
    return future.wait_for(std::chrono::milliseconds(timeout_ms)) == std::future_status::ready;
}

} // namespace quoter::live
