// Market-data decode benchmark on the real captures in ../shared/data/binance.
//
// Per message, for depthUpdate and bookTicker, in capture order and on the same bytes:
// - quoter: feed_handler::on_message = decode straight to ticks/lots (the canonical-layout reader
//   for these two messages, simdjson On-Demand for anything else) + book sync (chain checks,
//   level apply, bookTicker refresh) + building the top-10 md_event;
// - the same with the canonical reader switched off (decoder_config::canonical_fast_path), so
//   that every message takes the general simdjson On-Demand path;
// - plain parse: simdjson On-Demand over the same bytes, visiting every field and value
//   (strings unescaped, numbers converted), with no book: the floor any simdjson decoder pays;
// - naive: nlohmann::json parse, std::stod prices, std::map<double, double> books: what a
//   typical bot does.
// Latencies are TSC-timed per message on the project's clock (core::tsc_clock; timer overhead
// shown, included in every column alike).
// Throughput: whole captures through decode + sync + publish, from memory and from the gzip file
// (capture_replayer), in messages per second on one core.
#include "quoter/bench/suite.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/md/feed_handler.hpp"
#include "quoter/md/replayer.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace quoter::bench {
namespace {

enum class hint : std::uint8_t { depth, ticker, trade, snapshot, other };

struct stored_message {
    std::size_t offset;
    std::size_t size;
    core::timestamp_ns local_ns;
    hint kind;
};

/// All lines of one capture, each followed by padding, in one arena.
struct capture_data {
    std::string path;
    std::string arena;
    std::vector<stored_message> messages;

    [[nodiscard]] md::padded_view view(const stored_message& m) const {
        return {arena.data() + m.offset, m.size, arena.size() - m.offset};
    }
    [[nodiscard]] std::string_view text(const stored_message& m) const {
        return {arena.data() + m.offset, m.size};
    }
};

hint classify(std::string_view json) {
    if (json.find("@depth") != std::string_view::npos) {
        return hint::depth;
    }
    if (json.find("@bookTicker") != std::string_view::npos) {
        return hint::ticker;
    }
    if (json.find("@trade") != std::string_view::npos ||
        json.find("@aggTrade") != std::string_view::npos) {
        return hint::trade;
    }
    if (json.find("\"lastUpdateId\"") != std::string_view::npos) {
        return hint::snapshot;
    }
    return hint::other;
}

bool load(const std::string& path, capture_data& out) {
    md::gzip_line_reader reader;
    if (!reader.open(path)) {
        return false;
    }
    out.path = path;
    md::capture_line line;
    while (reader.next(line)) {
        const std::size_t offset = out.arena.size();
        out.arena.append(line.json);
        out.arena.append(md::message_padding, ' ');
        out.messages.push_back({offset, line.json.size(), line.local_ns, classify(line.json)});
    }
    return !out.messages.empty();
}

md::symbol_registry make_registry() {
    md::symbol_registry registry;
    for (const char* name : {"BTCUSDT", "ETHUSDT"}) {
        const auto spec = md::make_book_spec(name, "0.01", 8);
        (void)registry.add({.book_spec = *spec, .trading_spec = *spec});
    }
    return registry;
}

// ---- timing ------------------------------------------------------------------------------

/// The project's TSC clock, calibrated once per process; every latency below is a difference of
/// its ticks() and every rate a difference of its now().
const core::tsc_clock& bench_clock() {
    return core::tsc_clock::process();
}

/// Seconds of bench_clock() since start.
double seconds_since(core::timestamp_ns start) {
    return static_cast<double>(bench_clock().now() - start) / static_cast<double>(core::ns_per_s);
}

struct latencies {
    std::vector<std::uint64_t> depth;
    std::vector<std::uint64_t> ticker;

    void add(hint kind, std::uint64_t ticks) {
        if (kind == hint::depth) {
            depth.push_back(ticks);
        } else if (kind == hint::ticker) {
            ticker.push_back(ticks);
        }
    }
};

double percentile_ns(std::vector<std::uint64_t>& ticks, double p, double ns_per_tick) {
    if (ticks.empty()) {
        return 0;
    }
    const auto index = static_cast<std::size_t>(p * static_cast<double>(ticks.size() - 1));
    std::nth_element(ticks.begin(), ticks.begin() + static_cast<std::ptrdiff_t>(index),
                     ticks.end());
    return static_cast<double>(ticks[index]) * ns_per_tick;
}

// ---- quoter ------------------------------------------------------------------------------

struct counting_sink final : md::md_event_sink {
    std::uint64_t events = 0;
    std::int64_t checksum = 0;
    void on_event(const md::md_event& event) noexcept override {
        ++events;
        checksum += event.top.bid.px.ticks();
    }
};

/// canonical: the specialised reader for the two hot messages (the default); false: every
/// message through the general simdjson On-Demand path.
void time_quoter(const capture_data& data, latencies& out, std::uint64_t& checksum,
                 bool canonical = true) {
    const core::tsc_clock clock = bench_clock(); // a copy: the loop reads no shared state
    const auto registry = make_registry();
    counting_sink sink;
    md::feed_config config;
    config.decoder.canonical_fast_path = canonical;
    md::feed_handler feed(registry, sink, config);
    md::symbol_id last_depth = md::invalid_symbol;
    for (const auto& m : data.messages) {
        const std::uint64_t t0 = clock.ticks();
        const auto& decoded = feed.on_message(data.view(m), m.local_ns, last_depth);
        const std::uint64_t t1 = clock.ticks();
        if (decoded.kind == md::message_kind::depth_update) {
            last_depth = decoded.symbol;
        }
        out.add(m.kind, t1 - t0);
    }
    checksum += static_cast<std::uint64_t>(sink.checksum);
}

void time_decode_only(const capture_data& data, latencies& out, std::uint64_t& checksum) {
    const core::tsc_clock clock = bench_clock(); // a copy: the loop reads no shared state
    const auto registry = make_registry();
    md::binance_decoder decoder(registry);
    md::symbol_id last_depth = md::invalid_symbol;
    for (const auto& m : data.messages) {
        const std::uint64_t t0 = clock.ticks();
        const auto& decoded = decoder.decode(data.view(m), m.local_ns, last_depth);
        const std::uint64_t t1 = clock.ticks();
        if (decoded.kind == md::message_kind::depth_update) {
            last_depth = decoded.symbol;
        }
        checksum += decoded.ticker.bid.px.ticks() > 0 ? 1 : 0;
        out.add(m.kind, t1 - t0);
    }
}

// ---- plain simdjson ----------------------------------------------------------------------

std::uint64_t visit(simdjson::ondemand::value value);

std::uint64_t visit_object(simdjson::ondemand::object object) {
    std::uint64_t sum = 0;
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
            return sum;
        }
        sum += key.size();
        sum += visit(field.value());
    }
    return sum;
}

std::uint64_t visit(simdjson::ondemand::value value) {
    simdjson::ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) {
        return 0;
    }
    switch (type) {
    case simdjson::ondemand::json_type::object: {
        simdjson::ondemand::object object;
        return value.get_object().get(object) == simdjson::SUCCESS ? visit_object(object) : 0;
    }
    case simdjson::ondemand::json_type::array: {
        std::uint64_t sum = 0;
        simdjson::ondemand::array array;
        if (value.get_array().get(array) != simdjson::SUCCESS) {
            return 0;
        }
        for (auto element : array) {
            simdjson::ondemand::value inner;
            if (std::move(element).get(inner) == simdjson::SUCCESS) {
                sum += visit(inner);
            }
        }
        return sum;
    }
    case simdjson::ondemand::json_type::string: {
        std::string_view text;
        return value.get_string().get(text) == simdjson::SUCCESS ? text.size() : 0;
    }
    case simdjson::ondemand::json_type::number: {
        std::uint64_t number = 0;
        return value.get_uint64().get(number) == simdjson::SUCCESS ? number : 1;
    }
    case simdjson::ondemand::json_type::boolean: {
        bool flag = false;
        return value.get_bool().get(flag) == simdjson::SUCCESS && flag ? 1 : 0;
    }
    default:
        return 0;
    }
}

void time_plain(const capture_data& data, latencies& out, std::uint64_t& checksum) {
    const core::tsc_clock clock = bench_clock(); // a copy: the loop reads no shared state
    simdjson::ondemand::parser parser;
    if (parser.allocate(1U << 20U) != simdjson::SUCCESS) {
        return; // allocates on first use instead
    }
    for (const auto& m : data.messages) {
        if (m.kind != hint::depth && m.kind != hint::ticker) {
            continue;
        }
        const auto view = data.view(m);
        const std::uint64_t t0 = clock.ticks();
        simdjson::ondemand::document document;
        std::uint64_t sum = 0;
        if (parser.iterate(view.data, view.size, view.capacity).get(document) ==
            simdjson::SUCCESS) {
            simdjson::ondemand::object root;
            if (document.get_object().get(root) == simdjson::SUCCESS) {
                sum = visit_object(root);
            }
        }
        const std::uint64_t t1 = clock.ticks();
        checksum += sum;
        out.add(m.kind, t1 - t0);
    }
}

// ---- naive -------------------------------------------------------------------------------

struct naive_book {
    std::map<double, double, std::greater<>> bids;
    std::map<double, double> asks;
    std::uint64_t last_u = 0;
    bool synced = false;
    std::vector<nlohmann::json> buffered;

    void apply(const nlohmann::json& b, const nlohmann::json& a) {
        for (const auto& level : b) {
            const double px = std::stod(level[0].get<std::string>());
            const double q = std::stod(level[1].get<std::string>());
            q == 0.0 ? (void)bids.erase(px) : (void)(bids[px] = q);
        }
        for (const auto& level : a) {
            const double px = std::stod(level[0].get<std::string>());
            const double q = std::stod(level[1].get<std::string>());
            q == 0.0 ? (void)asks.erase(px) : (void)(asks[px] = q);
        }
    }
    void diff(const nlohmann::json& data) {
        const auto first = data["U"].get<std::uint64_t>();
        const auto last = data["u"].get<std::uint64_t>();
        if (!synced) {
            buffered.push_back(data);
            return;
        }
        if (last <= last_u) {
            return;
        }
        if (first != last_u + 1) {
            synced = false;
            return;
        }
        apply(data["b"], data["a"]);
        last_u = last;
    }
    void snapshot(const nlohmann::json& body) {
        bids.clear();
        asks.clear();
        apply(body["bids"], body["asks"]);
        last_u = body["lastUpdateId"].get<std::uint64_t>();
        for (const auto& data : buffered) {
            if (data["u"].get<std::uint64_t>() > last_u) {
                apply(data["b"], data["a"]);
                last_u = data["u"].get<std::uint64_t>();
            }
        }
        buffered.clear();
        synced = true;
    }
    void ticker(const nlohmann::json& data) {
        if (!synced || data["u"].get<std::uint64_t>() <= last_u) {
            return;
        }
        const double bid = std::stod(data["b"].get<std::string>());
        const double ask = std::stod(data["a"].get<std::string>());
        while (!bids.empty() && bids.begin()->first > bid) {
            bids.erase(bids.begin());
        }
        while (!asks.empty() && asks.begin()->first < ask) {
            asks.erase(asks.begin());
        }
        bids[bid] = std::stod(data["B"].get<std::string>());
        asks[ask] = std::stod(data["A"].get<std::string>());
    }
};

void time_naive(const capture_data& data, latencies& out, std::uint64_t& checksum) {
    const core::tsc_clock clock = bench_clock(); // a copy: the loop reads no shared state
    naive_book book;
    for (const auto& m : data.messages) {
        const std::string_view text = data.text(m);
        const std::uint64_t t0 = clock.ticks();
        try {
            const auto json = nlohmann::json::parse(text.begin(), text.end());
            if (m.kind == hint::snapshot) {
                book.snapshot(json);
            } else if (m.kind == hint::depth) {
                book.diff(json["data"]);
            } else if (m.kind == hint::ticker) {
                book.ticker(json["data"]);
            }
        } catch (const std::exception&) {
            // counted below as an empty book; the captures are well-formed
        }
        const std::uint64_t t1 = clock.ticks();
        out.add(m.kind, t1 - t0);
    }
    checksum += book.bids.size() + book.asks.size();
}

// ---- throughput --------------------------------------------------------------------------

double replay_memory_per_s(const capture_data& data, int repetitions) {
    const auto registry = make_registry();
    std::uint64_t messages = 0;
    const core::timestamp_ns start = bench_clock().now();
    for (int rep = 0; rep < repetitions; ++rep) {
        counting_sink sink;
        md::feed_handler feed(registry, sink);
        md::symbol_id last_depth = md::invalid_symbol;
        for (const auto& m : data.messages) {
            const auto& decoded = feed.on_message(data.view(m), m.local_ns, last_depth);
            if (decoded.kind == md::message_kind::depth_update) {
                last_depth = decoded.symbol;
            }
        }
        messages += data.messages.size();
    }
    const double seconds = seconds_since(start);
    return static_cast<double>(messages) / seconds;
}

double replay_file_per_s(const std::string& path, int repetitions, std::uint64_t& gaps) {
    const auto registry = make_registry();
    std::uint64_t messages = 0;
    const core::timestamp_ns start = bench_clock().now();
    for (int rep = 0; rep < repetitions; ++rep) {
        md::capture_replayer replayer(registry, {path});
        md::md_event event;
        while (replayer.next(event)) {
        }
        messages += replayer.lines();
        for (std::size_t s = 0; s < replayer.feed().symbols(); ++s) {
            gaps += replayer.feed().sync(static_cast<md::symbol_id>(s)).stats().gaps;
        }
    }
    const double seconds = seconds_since(start);
    return static_cast<double>(messages) / seconds;
}

} // namespace

int run_md_decode_bench(const bench_options& options) {
    std::vector<capture_data> captures;
    for (const char* name : {"spot-btcusdt-20240808.gz", "spot-ethusdt-20240808.gz"}) {
        const std::string path = options.data_dir + "/" + name;
        if (!std::filesystem::exists(path)) {
            continue;
        }
        capture_data data;
        if (load(path, data)) {
            captures.push_back(std::move(data));
        }
    }
    if (captures.empty()) {
        fmt::print("md_decode: capture folder {} not found or empty: suite skipped\n",
                   options.data_dir);
        return 0;
    }
    const double scale = std::max(options.scale, 0.01);
    const int repetitions = std::max(1, static_cast<int>(15 * scale));
    const int naive_repetitions = std::max(1, static_cast<int>(3 * scale));
    const core::tsc_clock clock = bench_clock();
    const double ns_per_tick = 1e9 / clock.ticks_per_second();

    std::vector<std::uint64_t> overhead;
    for (int i = 0; i < 100000; ++i) {
        const std::uint64_t t0 = clock.ticks();
        const std::uint64_t t1 = clock.ticks();
        overhead.push_back(t1 - t0);
    }

    latencies quoter_lat;
    latencies simdjson_lat;
    latencies decode_lat;
    latencies plain_lat;
    latencies naive_lat;
    std::uint64_t checksum = 0;
    // Interleave the implementations so that machine noise hits all of them.
    for (int rep = 0; rep < repetitions; ++rep) {
        for (const auto& data : captures) {
            time_quoter(data, quoter_lat, checksum);
            time_quoter(data, simdjson_lat, checksum, false);
            time_decode_only(data, decode_lat, checksum);
            time_plain(data, plain_lat, checksum);
            if (rep < naive_repetitions) {
                time_naive(data, naive_lat, checksum);
            }
        }
    }

    std::size_t messages = 0;
    for (const auto& data : captures) {
        messages += data.messages.size();
    }
    fmt::print("{} capture(s), {} messages; {} repetitions ({} for naive); TSC {:.3f} ns/tick, "
               "timer overhead p50 {:.0f} ns (included everywhere)\n",
               captures.size(), messages, repetitions, naive_repetitions, ns_per_tick,
               percentile_ns(overhead, 0.5, ns_per_tick));
    fmt::print("\n  {:<12} {:<40} {:>9} {:>9} {:>14} {:>12}\n", "message", "implementation",
               "p50 ns", "p99 ns", "p50 vs plain", "naive / this");
    const auto rows =
        [&](const char* label, std::vector<std::uint64_t>& quoter_ticks,
            std::vector<std::uint64_t>& simdjson_ticks, std::vector<std::uint64_t>& decode_ticks,
            std::vector<std::uint64_t>& plain_ticks, std::vector<std::uint64_t>& naive_ticks) {
            const double plain50 = percentile_ns(plain_ticks, 0.5, ns_per_tick);
            const double naive50 = percentile_ns(naive_ticks, 0.5, ns_per_tick);
            const auto row = [&](const char* name, std::vector<std::uint64_t>& ticks) {
                const double p50 = percentile_ns(ticks, 0.5, ns_per_tick);
                const double p99 = percentile_ns(ticks, 0.99, ns_per_tick);
                fmt::print("  {:<12} {:<40} {:>9.0f} {:>9.0f} {:>13.2f}x {:>11.1f}x\n", label, name,
                           p50, p99, p50 / plain50, naive50 / p50);
            };
            row("quoter decode + sync + apply + event", quoter_ticks);
            row("  of which decode to ticks/lots only", decode_ticks);
            row("quoter, simdjson path for every message", simdjson_ticks);
            row("plain simdjson On-Demand (no book)", plain_ticks);
            row("naive nlohmann::json + std::map", naive_ticks);
        };
    rows("depthUpdate", quoter_lat.depth, simdjson_lat.depth, decode_lat.depth, plain_lat.depth,
         naive_lat.depth);
    rows("bookTicker", quoter_lat.ticker, simdjson_lat.ticker, decode_lat.ticker, plain_lat.ticker,
         naive_lat.ticker);

    fmt::print("\n  {:<52} {:>16}\n", "replay throughput (decode + sync + publish, 1 core)",
               "messages/s");
    for (const auto& data : captures) {
        const std::string name = std::filesystem::path(data.path).filename().string();
        const double memory = replay_memory_per_s(data, repetitions);
        std::uint64_t gaps = 0;
        const double file = replay_file_per_s(data.path, std::max(1, repetitions / 3), gaps);
        fmt::print("  {:<52} {:>16.0f}\n", name + " from memory", memory);
        fmt::print("  {:<52} {:>16.0f}\n", name + " from gzip (capture_replayer)", file);
        if (gaps != 0) {
            fmt::print("  {} gaps while replaying {}\n", gaps, name);
        }
    }
    fmt::print("  (checksum {})\n", checksum % 1000);
    return 0;
}

} // namespace quoter::bench
