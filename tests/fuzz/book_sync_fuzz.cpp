// Fuzz target: a session of market data, one line per event, driving md::feed_handler (decoder,
// book_sync, order_book, publisher) on a spot and on a USD-M futures instrument set.
//
// Input format, the capture format of ../shared/data/binance plus transport events:
//   <ns> <json>     a message received at <ns> (ns since epoch), as recorded by a capture;
//   <json>          a message received 1 ms after the previous line;
//   !connect, !disconnect, !snapshot-failed (for the last depth symbol), !check-stale
//                   transport events at the previous line's time plus 1 ms (or at <ns>).
// A bare REST snapshot line ({"lastUpdateId":..}) belongs to the last symbol a diff named, as in
// md::capture_replayer.
//
// Beyond "no crash, no sanitizer report", after every line:
//   - when simdjson's DOM parser rejects the line's JSON, the decoder reports it malformed and
//     the line changes nothing: every book, state, update id, buffered diff and counter is as
//     before and nothing is published;
//   - every book keeps the order book's invariants and book_valid() means synced and uncrossed;
//   - every published event keeps md_event's invariants, and the last book event of each symbol
//     the line touched carries exactly that book's current top levels.
#include "fuzz_support.hpp"

#include "quoter/md/binance_decoder.hpp"
#include "quoter/md/feed_handler.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace {

using namespace quoter;

constexpr core::timestamp_ns start_ns = 1'723'161'253'000'000'000;
constexpr core::timestamp_ns line_step_ns = 1'000'000;

md::feed_config feed_config() {
    md::feed_config config;
    config.decoder.max_message_bytes = std::size_t{1} << 20U;
    config.decoder.max_levels_per_side = 256;
    config.sync = fuzz::small_sync_config();
    return config;
}

/// One line of the input, split into its receive time and its text.
struct session_line {
    core::timestamp_ns local_ns = 0;
    std::string_view text;
};

session_line parse_line(std::string_view line, core::timestamp_ns previous_ns) {
    session_line out{.local_ns = previous_ns + line_step_ns, .text = line};
    const auto space = line.find(' ');
    if (space == std::string_view::npos || space == 0) {
        return out;
    }
    std::uint64_t ns = 0;
    const auto [end, error] = std::from_chars(line.data(), line.data() + space, ns);
    if (error != std::errc{} || end != line.data() + space) {
        return out;
    }
    // Captured times are positive int64; larger ones saturate rather than wrap.
    constexpr auto max_ns =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 2);
    out.local_ns = static_cast<core::timestamp_ns>(std::min(ns, max_ns));
    out.text = line.substr(space + 1);
    return out;
}

class session {
public:
    explicit session(md::market venue)
        : registry_(fuzz::make_registry(venue)), feed_(registry_, sink_, feed_config()) {}

    /// Replays one input from a disconnected feed.
    void run(std::string_view input, fuzz::strict_json& oracle) {
        sink_.set_input(input);
        feed_.on_disconnected(start_ns);
        core::timestamp_ns now = start_ns;
        md::symbol_id last_depth_symbol = md::invalid_symbol;
        while (!input.empty()) {
            const auto newline = input.find('\n');
            const std::string_view raw = input.substr(0, newline);
            input =
                newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
            const session_line line = parse_line(raw, now);
            now = line.local_ns;
            sink_.set_input(raw);
            if (!line.text.empty() && line.text.front() == '!') {
                transport_event(line.text, now, last_depth_symbol);
            } else {
                const md::symbol_id fallback =
                    last_depth_symbol != md::invalid_symbol ? last_depth_symbol : md::symbol_id{0};
                const md::decoded_message& decoded = message(line.text, now, fallback, oracle);
                if (decoded.kind == md::message_kind::depth_update) {
                    last_depth_symbol = decoded.symbol;
                }
            }
            for (std::size_t id = 0; id < feed_.symbols(); ++id) {
                fuzz::check_sync(feed_.sync(static_cast<md::symbol_id>(id)), raw);
            }
            sink_.check_tops(feed_);
        }
    }

private:
    const md::decoded_message& message(std::string_view text, core::timestamp_ns now,
                                       md::symbol_id fallback, fuzz::strict_json& oracle) {
        if (oracle.accepts(text)) {
            return feed_.on_message_copy(text, now, fallback);
        }
        std::vector<fuzz::sync_view> before;
        for (std::size_t id = 0; id < feed_.symbols(); ++id) {
            before.push_back(fuzz::view_of(feed_.sync(static_cast<md::symbol_id>(id))));
        }
        const std::uint64_t events = sink_.events();
        const md::decoded_message& decoded = feed_.on_message_copy(text, now, fallback);
        for (std::size_t id = 0; id < feed_.symbols(); ++id) {
            fuzz::expect(fuzz::view_of(feed_.sync(static_cast<md::symbol_id>(id))) == before[id],
                         "a message that is not valid JSON leaves every book as it was", text);
        }
        fuzz::expect(sink_.events() == events, "a message that is not valid JSON publishes nothing",
                     text);
        fuzz::expect(!feed_.take_shutdown_notice(),
                     "a message that is not valid JSON is no shutdown notice", text);
        fuzz::expect(decoded.kind == md::message_kind::malformed,
                     "a message that is not valid JSON is reported malformed", text);
        return decoded;
    }

    void transport_event(std::string_view text, core::timestamp_ns now,
                         md::symbol_id last_depth_symbol) {
        if (text == "!connect") {
            feed_.on_connected(now);
        } else if (text == "!disconnect") {
            feed_.on_disconnected(now);
        } else if (text == "!snapshot-failed") {
            feed_.on_snapshot_failed(last_depth_symbol != md::invalid_symbol ? last_depth_symbol
                                                                             : md::symbol_id{0},
                                     now);
        } else if (text == "!check-stale") {
            feed_.check_stale(now);
        }
    }

    md::symbol_registry registry_;
    fuzz::checking_sink sink_;
    md::feed_handler feed_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::strict_json oracle;
    static session spot(md::market::spot);
    static session futures(md::market::usdm_futures);
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    spot.run(input, oracle);
    futures.run(input, oracle);
    return 0;
}
