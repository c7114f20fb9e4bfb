// Capture replay.
#include "replay_market.hpp"

#include "quoter/core/time.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <optional>

namespace quoter::venue {

namespace {

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// Events processed per pass before yielding to the network.
constexpr std::size_t batch_events = 512;

} // namespace

replay_market::replay_market(net::io_loop& loop, market_state& market, market_sink& sink,
                             replay_options options)
    : loop_(loop), market_(market), sink_(sink), options_(std::move(options)), timer_(loop) {}

core::result<std::size_t, std::string> replay_market::load() {
    std::vector<bool> has_snapshot;
    for (const std::string& path : options_.files) {
        gzFile file = gzopen(path.c_str(), "rb");
        if (file == nullptr) {
            return core::unexpected{"cannot open " + path};
        }
        std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(file, gzclose);
        gzbuffer(file, 1 << 18);
        std::string line;
        std::vector<char> chunk(1 << 16);
        std::optional<std::size_t> file_symbol;
        bool eof = false;
        while (!eof) {
            line.clear();
            // Lines can be far longer than one chunk (1000-level snapshots).
            for (;;) {
                if (gzgets(file, chunk.data(), static_cast<int>(chunk.size())) == nullptr) {
                    eof = true;
                    break;
                }
                line += chunk.data();
                if (!line.empty() && line.back() == '\n') {
                    break;
                }
            }
            while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
                line.pop_back();
            }
            const std::size_t space = line.find(' ');
            if (space == std::string::npos) {
                continue;
            }
            event item;
            const auto [end, ec] =
                std::from_chars(line.data(), line.data() + space, item.capture_ns);
            if (ec != std::errc{} || end != line.data() + space) {
                continue;
            }
            const std::string_view json = std::string_view(line).substr(space + 1);
            constexpr std::string_view stream_key = "{\"stream\":\"";
            if (json.starts_with(stream_key)) {
                const std::size_t name_end = json.find('"', stream_key.size());
                const std::size_t data_at = json.find("\"data\":", name_end);
                const std::size_t data_end = json.rfind('}');
                if (name_end == std::string_view::npos || data_at == std::string_view::npos ||
                    data_end == std::string_view::npos || data_end <= data_at) {
                    continue;
                }
                const auto stream =
                    parse_stream(json.substr(stream_key.size(), name_end - stream_key.size()));
                if (!stream) {
                    continue;
                }
                item.symbol = market_.add_symbol(stream->first);
                item.kind = stream->second;
                item.data.assign(json.substr(data_at + 7, data_end - data_at - 7));
                file_symbol = item.symbol;
            } else if (json.find("\"lastUpdateId\"") != std::string_view::npos && file_symbol) {
                item.symbol = *file_symbol;
                item.snapshot = true;
                item.data.assign(json);
                if (has_snapshot.size() <= item.symbol) {
                    has_snapshot.resize(item.symbol + 1, false);
                }
                has_snapshot[item.symbol] = true;
            } else {
                continue;
            }
            events_.push_back(std::move(item));
        }
    }
    if (events_.empty()) {
        return core::unexpected{std::string("no replayable events in the capture files")};
    }
    std::stable_sort(events_.begin(), events_.end(),
                     [](const event& a, const event& b) { return a.capture_ns < b.capture_ns; });
    has_snapshot.resize(market_.size(), false);
    pending_.resize(market_.size());
    for (std::size_t i = 0; i < market_.size(); ++i) {
        market_.at(i).seeded = !has_snapshot[i];
    }
    progress_.events = events_.size();
    return events_.size();
}

void replay_market::start() {
    if (started_ || events_.empty()) {
        return;
    }
    started_ = true;
    start_steady_ns_ = steady_ns();
    loop_.post([this] { pump(); });
}

void replay_market::pump() {
    const std::int64_t base_ns = events_.front().capture_ns;
    std::size_t done = 0;
    while (progress_.replayed < events_.size() && done < batch_events) {
        const event& item = events_[progress_.replayed];
        if (options_.speed > 0.0) {
            const auto due_ns = static_cast<std::int64_t>(
                static_cast<double>(item.capture_ns - base_ns) / options_.speed);
            const std::int64_t elapsed_ns = steady_ns() - start_steady_ns_;
            if (due_ns > elapsed_ns) {
                const std::int64_t wait_ms = (due_ns - elapsed_ns) / core::ns_per_ms;
                timer_.start(std::chrono::milliseconds(wait_ms), [this] { pump(); });
                return;
            }
        }
        play(item);
        ++progress_.replayed;
        ++done;
    }
    if (progress_.replayed >= events_.size()) {
        progress_.finished = true;
        return;
    }
    timer_.start(std::chrono::milliseconds(0), [this] { pump(); });
}

void replay_market::play(const event& item) {
    symbol_state& symbol = market_.at(item.symbol);
    if (item.snapshot) {
        if (symbol.seeded) {
            return; // a later snapshot of an already synced symbol changes nothing
        }
        const auto last_update_id = find_int_field(item.data, "lastUpdateId");
        if (!last_update_id) {
            return;
        }
        symbol.book.bids.clear();
        symbol.book.asks.clear();
        symbol.book.apply(find_levels_field(item.data, "bids"),
                          find_levels_field(item.data, "asks"));
        symbol.last_update_id = *last_update_id;
        for (const std::size_t index : pending_[item.symbol]) {
            const std::string& diff = events_[index].data;
            const auto last = find_int_field(diff, "u");
            if (last && *last > symbol.last_update_id) {
                symbol.book.apply(find_levels_field(diff, "b"), find_levels_field(diff, "a"));
                symbol.last_update_id = *last;
            }
        }
        pending_[item.symbol].clear();
        symbol.seeded = true;
        return;
    }
    if (item.kind == channel::depth) {
        if (symbol.seeded) {
            const auto last = find_int_field(item.data, "u");
            if (last && *last > symbol.last_update_id) {
                symbol.book.apply(find_levels_field(item.data, "b"),
                                  find_levels_field(item.data, "a"));
                symbol.last_update_id = *last;
            }
        } else {
            pending_[item.symbol].push_back(progress_.replayed);
        }
        if (!market_.take_depth_send_permission(item.symbol)) {
            return;
        }
    }
    sink_.publish(item.symbol, item.kind, item.data);
}

} // namespace quoter::venue
