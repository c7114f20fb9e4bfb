#include "quoter/live/recorder.hpp"

#include "quoter/live/market_data_service.hpp"

#include "feed_session.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/md/feed_handler.hpp"

#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

namespace quoter::live {

std::string_view describe(record_error error) noexcept {
    switch (error) {
    case record_error::none:
        return "none";
    case record_error::no_symbols:
        return "no symbols";
    case record_error::bad_directory:
        return "output directory missing and not creatable";
    // The same words as a session's start-up (market_data_service): one message per cause.
    case record_error::instruments:
        return describe(service_error::instruments);
    case record_error::unknown_symbol:
        return describe(service_error::unknown_symbol);
    case record_error::feed:
        return "stream connections could not be started";
    case record_error::write_failed:
        return "capture file could not be written";
    }
    return "unknown";
}

namespace {

/// The recorder publishes nowhere; its books are read at the end.
class discard_sink final : public md::md_event_sink {
public:
    void on_event(const md::md_event& /*event*/) noexcept override {}
};

std::vector<core::book_level> full_side(const md::order_book& book, core::side side) {
    std::vector<core::book_level> levels;
    const std::size_t depth = book.depth(side);
    levels.reserve(depth);
    for (std::size_t i = 0; i < depth; ++i) {
        levels.push_back(book.level(side, i));
    }
    return levels;
}

/// A snapshot body goes on one line; JSON needs no line breaks, so any are dropped.
std::string_view one_line(const std::string& body, std::string& scratch) {
    if (body.find_first_of("\r\n") == std::string::npos) {
        return body;
    }
    scratch.clear();
    for (const char c : body) {
        if (c != '\n' && c != '\r') {
            scratch.push_back(c);
        }
    }
    return scratch;
}

} // namespace

core::result<record_summary, record_error> run_recorder(const std::vector<std::string>& symbols,
                                                        const std::string& out_dir,
                                                        std::chrono::milliseconds duration,
                                                        const net::binance_endpoints& endpoints,
                                                        const recorder_config& config) {
    if (symbols.empty()) {
        return core::unexpected{record_error::no_symbols};
    }
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (!std::filesystem::is_directory(out_dir, ec)) {
        return core::unexpected{record_error::bad_directory};
    }
    subscription_config subscription = config.subscription;
    subscription.symbols = symbols;
    session_config session = config.session;
    session.endpoints = endpoints;
    const std::string market_name = subscription.venue == md::market::spot ? "spot" : "futures";
    if (session.instruments.cache_path.empty()) {
        session.instruments.cache_path =
            (std::filesystem::path(out_dir) / (market_name + "-exchangeInfo.json")).string();
    }

    net::io_loop loop;
    md::symbol_registry registry;
    {
        net::rest_config rest_config;
        rest_config.base_url = rest_origin(subscription.venue, endpoints);
        rest_config.tls = session.tls;
        rest_config.request_timeout_ms = session.instruments.timeout_ms;
        net::rest_client rest(loop, rest_config);
        auto loaded = load_instruments(loop, rest, subscription, session.instruments, registry,
                                       config.stop_flag);
        if (!loaded) {
            const instruments_error e = loaded.error();
            return core::unexpected{e == instruments_error::unknown_symbol ||
                                            e == instruments_error::bad_filters
                                        ? record_error::unknown_symbol
                                        : record_error::instruments};
        }
    }

    std::vector<std::unique_ptr<md::gzip_line_writer>> writers;
    std::vector<recorded_symbol> recorded(registry.size());
    for (std::size_t id = 0; id < registry.size(); ++id) {
        md::capture_writer_config writer;
        writer.directory = out_dir;
        writer.prefix =
            market_name + "-" +
            lower_symbol(registry.at(static_cast<md::symbol_id>(id)).book_spec.name().view());
        writer.compression_level = config.compression_level;
        writer.rotate_every_s = config.rotate_every_s;
        writers.push_back(std::make_unique<md::gzip_line_writer>(writer));
        recorded[id].name =
            std::string(registry.at(static_cast<md::symbol_id>(id)).book_spec.name().view());
    }

    md::feed_config feed = session.feed;
    feed.sync.stale_after_ms = session.stale_after_ms;
    discard_sink sink;
    md::feed_handler handler(registry, sink, feed);
    bool write_failed = false;
    std::string scratch;
    core::timestamp_ns last_flush = core::wall_clock{}.now();

    detail::session_hooks hooks;
    hooks.log = config.log;
    hooks.on_message = [&](const net::ws_message& message, const md::decoded_message& decoded,
                           bool duplicate) {
        if (decoded.symbol >= writers.size()) {
            return; // subscription replies, serverShutdown, malformed: not market data of a book
        }
        if (duplicate) {
            ++recorded[decoded.symbol].duplicates;
            return;
        }
        if (!writers[decoded.symbol]->write(message.local_ns, message.payload)) {
            write_failed = true;
            return;
        }
        ++recorded[decoded.symbol].lines;
    };
    hooks.on_snapshot = [&](md::symbol_id symbol, const net::rest_response& response,
                            core::timestamp_ns at) {
        if (!writers[symbol]->write(at, one_line(response.body, scratch))) {
            write_failed = true;
            return;
        }
        ++recorded[symbol].lines;
        ++recorded[symbol].snapshots;
    };
    hooks.on_housekeeping = [&](core::timestamp_ns now) {
        if (now - last_flush >= config.flush_interval_ms * core::ns_per_ms) {
            last_flush = now;
            for (auto& writer : writers) {
                if (!writer->current_path().empty() && !writer->flush()) {
                    write_failed = true;
                }
            }
        }
    };

    detail::feed_session feed_session(loop, registry, handler, subscription, session,
                                      std::move(hooks));
    if (auto started = feed_session.start(); !started) {
        return core::unexpected{record_error::feed};
    }
    const auto deadline = std::chrono::steady_clock::now() + duration;
    const auto done = [&] {
        if (write_failed) {
            return true;
        }
        if (config.stop_flag != nullptr && config.stop_flag->load(std::memory_order_relaxed)) {
            return true;
        }
        return duration.count() > 0 && std::chrono::steady_clock::now() >= deadline;
    };
    while (!done()) {
        loop.run_for(std::chrono::milliseconds(20));
        if (loop.stopped()) {
            loop.restart();
        }
    }
    // No message is processed after this point, so the books below match the files.
    feed_session.stop();
    const auto close_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (feed_session.open_connections() > 0 &&
           std::chrono::steady_clock::now() < close_deadline) {
        loop.run_for(std::chrono::milliseconds(20));
        if (loop.stopped()) {
            loop.restart();
        }
    }

    record_summary summary;
    summary.exchange_info_path = session.instruments.cache_path;
    summary.messages = feed_session.counters().messages;
    summary.malformed = handler.decoder().stats().malformed();
    summary.reconnects = feed_session.counters().reconnects;
    summary.rollovers = feed_session.rollovers();
    for (std::size_t id = 0; id < writers.size(); ++id) {
        if (!writers[id]->current_path().empty() && !writers[id]->flush()) {
            write_failed = true;
        }
        writers[id]->close();
        const md::book_sync& sync = handler.sync(static_cast<md::symbol_id>(id));
        recorded_symbol& out = recorded[id];
        out.files = writers[id]->files();
        out.gaps = sync.stats().gaps;
        out.final_state = sync.state();
        out.final_update_id = sync.update_id();
        out.final_bids = full_side(sync.book(), core::side::buy);
        out.final_asks = full_side(sync.book(), core::side::sell);
    }
    if (write_failed) {
        return core::unexpected{record_error::write_failed};
    }
    summary.symbols = std::move(recorded);
    return summary;
}

} // namespace quoter::live
