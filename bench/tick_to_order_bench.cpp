// Benchmark suite "tick_to_order": the live path from a frame on the socket to an order, measured
// hop by hop on one clock (core/tick_latency.hpp), next to the floors of the same run.
//
// Live shape: quoter-venue replays a real capture (../shared/data/binance/*.gz) over loopback
// WebSocket (plain, then TLS with a throw-away certificate when tools/make-test-cert and openssl
// are at hand); run_paper_session runs the md thread (socket I/O, decode, book, ring push) pinned
// to one CPU and the core thread (ring pop, strategy, risk, order to the in-process simulated
// exchange) spinning on the other. Every tick's stamps land in the session's histograms; the
// table prints each hop's p50/p99/p99.9/max over all ticks and, next to it, over the ticks that
// sent an order alone (the end to end counts only those, and their hops differ: they are the
// ticks whose quotes moved), and the end to end (socket read complete to order taken), which is
// the internal part the goal speaks of (p50 <= 2 us, p99 <= 10 us, p99.9 <= 50 us).
//
// Floors, measured in the same run on the same CPUs:
// - hand-off: a bare cache-line ping-pong between the two CPUs (one way = half a round trip),
//   what the pushed -> popped hop cannot beat;
// - decode+book: the same capture's frames through feed_handler on one thread, timed per frame,
//   what the read -> decoded hop cannot beat.
//
// Kernel receive time: where the kernel gives SO_TIMESTAMPING receive stamps (loopback does), each
// event carries it (and when its recvmsg returned) to the core: kernel -> recv (wake-up and read)
// and recv -> frame (unframing, and the wait behind earlier frames of the same read) are rows of
// their own, outside the end to end; kernel -> read is printed per tick and per md message.
//
// --symbols N: quoter-venue --synthetic N instead of the capture, one process holding all N
// books (subscribed, synced, decoded and handed to the core), trading the first; printed next to
// the same run with one symbol, with the books' memory and whether all stayed synced.
//
// Hand-off: the paper session's simulated exchange asks for depth, so the pushed -> popped hop of
// a book event moves the compact md_event (two cache lines with its slot sequence) and, when the
// book's levels below the top changed, its md_depth record through the ring beside it; a live
// session moves the event alone (see docs/latency.md, "The md -> core hand-off").
//
// Not measured here: the order's bytes on the socket (the written hop belongs to the live order
// gateway's I/O thread).
#include "quoter/bench/suite.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/cpu.hpp"
#include "quoter/core/latency_histogram.hpp"
#include "quoter/core/tick_latency.hpp"
#include "quoter/engine/paper_session.hpp"
#include "quoter/live/market_data_service.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/md/feed_handler.hpp"
#include "quoter/md/order_book.hpp"
#include "quoter/net/endpoints.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT(readability-redundant-declaration): POSIX, for posix_spawn

namespace quoter::bench {
namespace {

namespace fs = std::filesystem;

// ---- the venue process ------------------------------------------------------------------------

/// quoter-venue next to this binary (build/<preset>/tools/venue), else on PATH.
std::string venue_binary() {
    if (const char* given = std::getenv("QUOTER_VENUE"); given != nullptr && *given != '\0') {
        return given;
    }
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        for (const fs::path& up :
             {self.parent_path().parent_path(), self.parent_path().parent_path().parent_path()}) {
            const fs::path candidate = up / "tools" / "venue" / "quoter-venue";
            if (fs::exists(candidate, ec)) {
                return candidate.string();
            }
        }
    }
    return "quoter-venue";
}

/// A quoter-venue child on 127.0.0.1; killed and reaped on destruction.
class venue_child {
public:
    venue_child(const venue_child&) = delete;
    venue_child& operator=(const venue_child&) = delete;
    ~venue_child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        if (out_ >= 0) {
            ::close(out_);
        }
    }

    /// Starts the venue and waits (at most 10 s) for its "listening 127.0.0.1:PORT" line.
    static std::unique_ptr<venue_child> start(const std::vector<std::string>& args) {
        auto child = std::unique_ptr<venue_child>(new venue_child());
        int pipe_fds[2] = {-1, -1};
        if (::pipe(pipe_fds) != 0) {
            return nullptr;
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
        const std::string binary = venue_binary();
        std::vector<std::string> all{binary};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (std::string& a : all) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        const int spawned =
            ::posix_spawnp(&child->pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(pipe_fds[1]);
        child->out_ = pipe_fds[0];
        if (spawned != 0) {
            child->pid_ = -1;
            return nullptr;
        }
        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline &&
               line.find('\n') == std::string::npos) {
            pollfd p{child->out_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) {
                continue;
            }
            char c = 0;
            if (::read(child->out_, &c, 1) != 1) {
                break;
            }
            line.push_back(c);
        }
        const auto colon = line.rfind(':');
        if (line.rfind("listening ", 0) != 0 || colon == std::string::npos) {
            return nullptr;
        }
        child->port_ = std::atoi(line.c_str() + colon + 1);
        return child->port_ > 0 ? std::move(child) : nullptr;
    }

    [[nodiscard]] int port() const noexcept { return port_; }

private:
    venue_child() = default;
    pid_t pid_ = -1;
    int out_ = -1;
    int port_ = 0;
};

// ---- floors -----------------------------------------------------------------------------------

/// Round trips of one cache line between two pinned threads, in ns.
std::unique_ptr<core::latency_histogram> ping_pong(int cpu_a, int cpu_b, std::uint64_t rounds) {
    struct alignas(128) line {
        std::atomic<std::uint64_t> value{0};
    };
    auto ping = std::make_unique<line>();
    auto pong = std::make_unique<line>();
    auto out = std::make_unique<core::latency_histogram>();
    const core::tsc_clock& clock = core::tsc_clock::process();
    std::thread echo([&] {
        if (cpu_b >= 0) {
            (void)core::pin_current_thread(cpu_b);
        }
        for (std::uint64_t i = 1; i <= rounds; ++i) {
            while (ping->value.load(std::memory_order_acquire) != i) {
                core::cpu_relax();
            }
            pong->value.store(i, std::memory_order_release);
        }
    });
    std::thread first([&] {
        if (cpu_a >= 0) {
            (void)core::pin_current_thread(cpu_a);
        }
        for (std::uint64_t i = 1; i <= rounds; ++i) {
            const std::uint64_t begin = clock.ticks();
            ping->value.store(i, std::memory_order_release);
            while (pong->value.load(std::memory_order_acquire) != i) {
                core::cpu_relax();
            }
            out->record(clock.elapsed_ns(begin, clock.ticks()));
        }
    });
    first.join();
    echo.join();
    return out;
}

struct null_sink final : md::md_event_sink {
    std::uint64_t events = 0;
    void on_event(const md::md_event& /*event*/) noexcept override { ++events; }
};

/// Decode + book sync + event of every frame of the capture on one thread, per frame in ns.
std::unique_ptr<core::latency_histogram> decode_floor(const std::string& path,
                                                      const std::string& symbol, int cpu) {
    md::gzip_line_reader reader;
    if (!reader.open(path)) {
        return nullptr;
    }
    struct stored {
        std::size_t offset;
        std::size_t size;
        core::timestamp_ns local_ns;
    };
    std::string arena;
    std::vector<stored> lines;
    md::capture_line line;
    while (reader.next(line)) {
        lines.push_back({arena.size(), line.json.size(), line.local_ns});
        arena.append(line.json);
        arena.append(md::message_padding, ' ');
    }
    md::symbol_registry registry;
    const auto book = md::make_book_spec(symbol, "0.01", 8);
    if (!book) {
        return nullptr;
    }
    (void)registry.add({.book_spec = *book, .trading_spec = *book});
    null_sink sink;
    md::feed_handler feed(registry, sink);
    feed.on_connected(0);
    auto out = std::make_unique<core::latency_histogram>();
    const core::tsc_clock& clock = core::tsc_clock::process();
    std::thread worker([&] {
        if (cpu >= 0) {
            (void)core::pin_current_thread(cpu);
        }
        md::symbol_id last_depth = md::invalid_symbol;
        for (const stored& l : lines) {
            const md::padded_view view{arena.data() + l.offset, l.size, arena.size() - l.offset};
            const std::uint64_t begin = clock.ticks();
            const auto& decoded = feed.on_message(view, l.local_ns, last_depth);
            out->record(clock.elapsed_ns(begin, clock.ticks()));
            if (decoded.kind == md::message_kind::depth_update) {
                last_depth = decoded.symbol;
            }
        }
    });
    worker.join();
    return out;
}

// ---- the live shape ---------------------------------------------------------------------------

struct live_run {
    bool ok = false;
    std::string error;
    core::tick_latency_summary ticks;
    std::uint64_t messages = 0;
    std::uint64_t orders = 0;
    std::size_t symbols = 0;
    std::uint64_t synced = 0;     ///< Books synced at the end.
    std::uint64_t ring_full = 0;  ///< Events the md -> core ring refused.
    std::uint64_t gaps = 0;       ///< Update-id chain breaks.
    std::uint64_t book_bytes = 0; ///< All books' tables.
    std::uint64_t kernel_stamped = 0;
    /// kernel -> read of every stamped message, kept by the md thread.
    core::latency_summary kernel_per_message{};
};

/// What the venue serves and the session subscribes.
struct live_setup {
    std::vector<std::string> venue_args;
    std::vector<std::string> symbols;
    live::trade_stream trades = live::trade_stream::trade;
    /// The md thread busy-polls its io_context instead of sleeping in epoll_wait.
    bool busy_poll = false;
};

/// A capture replay of one symbol at x10.
live_setup replay_setup(const std::string& capture, const std::string& symbol) {
    return {{"--replay", capture, "--speed", "10"}, {symbol}, live::trade_stream::trade};
}

/// count synthetic symbols (SYN000USDT...), each updated rate_hz times a second.
live_setup synthetic_setup(int count, int rate_hz) {
    live_setup out{{"--synthetic", std::to_string(count), "--rate-hz", std::to_string(rate_hz)},
                   {},
                   live::trade_stream::trade};
    for (int i = 0; i < count; ++i) {
        out.symbols.push_back(fmt::format("SYN{:03}USDT", i));
    }
    return out;
}

/// Test certificates from tools/make-test-cert in a fresh folder; nullopt when unavailable.
std::optional<fs::path> make_certificates(const fs::path& dir) {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    std::vector<fs::path> scripts;
    for (fs::path up = self.parent_path(); !ec && !up.empty() && up != up.root_path();
         up = up.parent_path()) {
        scripts.push_back(up / "tools" / "make-test-cert");
    }
    for (const fs::path& script : scripts) {
        if (fs::exists(script, ec)) {
            const std::string command =
                fmt::format("'{}' '{}' >/dev/null 2>&1", script.string(), (dir / "certs").string());
            if (std::system(command.c_str()) == 0) {
                return dir / "certs";
            }
            return std::nullopt;
        }
    }
    return std::nullopt;
}

live_run run_live(const bench_options& options, const live_setup& setup, const fs::path& work,
                  bool tls, double seconds) {
    live_run out;
    std::vector<std::string> args = setup.venue_args;
    std::optional<fs::path> certs;
    if (tls) {
        certs = make_certificates(work);
        if (!certs) {
            out.error = "no test certificate (tools/make-test-cert, openssl)";
            return out;
        }
        args.insert(args.end(), {"--tls-cert", (*certs / "server.pem").string(), "--tls-key",
                                 (*certs / "server.key").string()});
    }
    auto venue = venue_child::start(args);
    if (!venue) {
        out.error = "cannot start quoter-venue (build it, or set QUOTER_VENUE)";
        return out;
    }

    engine::paper_session_config config;
    config.market_data.subscription.symbols = setup.symbols;
    config.market_data.subscription.trades = setup.trades;
    live::session_config& session = config.market_data.session;
    session.endpoints =
        net::local_venue_endpoints("127.0.0.1", static_cast<std::uint16_t>(venue->port()), tls);
    if (tls) {
        session.tls.use_system_ca = false;
        session.tls.extra_ca_file = (*certs / "ca.pem").string();
    }
    session.instruments.cache_path =
        (work / fmt::format("exchangeInfo-{}-{}.json", tls ? "tls" : "plain", setup.symbols.size()))
            .string();
    session.instruments.timeout_ms = 5'000;
    session.rest_timeout_ms = 5'000;
    session.feed.sync.snapshot_backoff_initial_ms = 50;
    session.feed.sync.snapshot_backoff_max_ms = 500;
    session.busy_poll = setup.busy_poll;
    // What `run` gets by default ([market_data] book sizes 0): twice the snapshot's levels a
    // side, the window sized from the first price.
    session.feed.sync.max_levels_per_side = 2 * config.market_data.subscription.snapshot_limit;
    session.feed.sync.window_ticks = md::order_book::auto_window;
    config.market_data.cpu = options.producer_cpu;
    config.engine.core_cpu = options.consumer_cpu;
    config.engine.warm_order_path_us = options.warm_order_path_us;
    config.engine.symbol = 0;
    config.engine.account.initial_cash = 1'000'000.0;
    // Quote tight and replace on every change of the desired price, so that most book ticks
    // that move the touch send an order (each one an end-to-end sample).
    config.engine.strategy.linear.spread_bps = 0.5;
    config.engine.quotes.refresh_tolerance_bps = 0.0;
    config.engine.quotes.refresh_ms = 0;
    config.engine.risk.triggers.stale_market_data_ms = 10'000;
    config.idle = core::idle_policy::spin;
    config.status_interval_ms = 1'000;

    std::atomic<bool> stop{false};
    engine::paper_summary summary;
    std::thread core_thread([&] { summary = engine::run_paper_session(config, stop); });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    core_thread.join();
    if (!summary.ok) {
        out.error = summary.error;
        return out;
    }
    out.ok = true;
    out.ticks = summary.last.tick_to_order;
    out.messages = summary.last.market_data.messages;
    out.orders = summary.last.orders_sent;
    const live::service_stats& md = summary.last.market_data;
    out.symbols = setup.symbols.size();
    out.synced = md.synced_symbols;
    out.ring_full = md.ring_full;
    out.gaps = md.gaps;
    out.book_bytes = md.book_memory_bytes;
    out.kernel_stamped = md.kernel_stamped;
    out.kernel_per_message = md.kernel_to_read;
    return out;
}

// ---- printing ---------------------------------------------------------------------------------

double us(core::duration_ns ns) {
    return static_cast<double>(ns) * 1e-3;
}

/// One hop: every tick (count, p50, p99, p99.9, max), then, when given, the ticks that sent an
/// order alone (count, p50, p99, max).
/// What crosses the md -> core rings per event in these runs (a paper session: its simulated
/// exchange asks for depth, so a valid book's event whose levels below the top changed goes with
/// a depth record).
void print_hand_off() {
    fmt::print("  hand-off: md_event {} B ({} B ring slot), with a valid book whose levels below "
               "the top changed a depth record of {} B ({} B slot); a live session passes the "
               "event alone\n",
               sizeof(md::md_event), live::md_ring::slot_bytes, sizeof(md::md_depth),
               live::md_depth_ring::slot_bytes);
}

void row(std::string_view name, const core::latency_summary& h, double divide = 1.0,
         const core::latency_summary* order = nullptr) {
    fmt::print("  {:<34} {:>9} {:>9.2f} {:>9.2f} {:>9.2f} {:>10.2f}", name, h.count,
               us(h.p50) / divide, us(h.p99) / divide, us(h.p999) / divide, us(h.max) / divide);
    if (order != nullptr) {
        fmt::print(" | {:>6} {:>9.2f} {:>9.2f} {:>10.2f}", order->count, us(order->p50),
                   us(order->p99), us(order->max));
    }
    fmt::print("\n");
}

void header() {
    fmt::print("  {:<34} {:>9} {:>9} {:>9} {:>9} {:>10} | {:>6} {:>9} {:>9} {:>10}\n",
               "hop (us): all ticks | order ticks", "count", "p50", "p99", "p99.9", "max", "count",
               "p50", "p99", "max");
}

void print_live(std::string_view title, const live_run& run) {
    if (!run.ok) {
        fmt::print("  {}: not run: {}\n", title, run.error);
        return;
    }
    fmt::print("  {} ({} ticks, {} messages, {} orders)\n", title, run.ticks.ticks, run.messages,
               run.orders);
    for (std::size_t i = 1; i < core::tick_point_count; ++i) {
        const auto point = static_cast<core::tick_point>(i);
        if (run.ticks.hops[i].count != 0) {
            row(fmt::format("  {}", core::hop_label(point)), run.ticks.hops[i], 1.0,
                &run.ticks.order_hops[i]);
        }
    }
    if (run.ticks.kernel_to_read.count != 0) {
        row("  kernel -> read, per tick", run.ticks.kernel_to_read);
    }
    if (run.kernel_per_message.count != 0) {
        row("  kernel -> read, every message (md)", run.kernel_per_message);
    }
    row("  end to end (read -> order taken)", run.ticks.end_to_end);
}

void verdict(std::string_view title, const live_run& run) {
    if (!run.ok || run.ticks.end_to_end.count == 0) {
        return;
    }
    const core::latency_summary& e = run.ticks.end_to_end;
    const auto met = [](core::duration_ns v, core::duration_ns goal) {
        return v <= goal ? "met" : "missed";
    };
    fmt::print("  goal, internal part ({}): p50 {:.2f} us (<= 2: {}), p99 {:.2f} us (<= 10: {}), "
               "p99.9 {:.2f} us (<= 50: {})\n",
               title, us(e.p50), met(e.p50, 2'000), us(e.p99), met(e.p99, 10'000), us(e.p999),
               met(e.p999, 50'000));
}

} // namespace

void print_books(const live_run& run) {
    if (!run.ok) {
        return;
    }
    fmt::print("  {} symbols: {} synced at the end, {} ring drops, {} gaps, books {:.1f} KiB each "
               "({:.1f} MiB in all)\n",
               run.symbols, run.synced, run.ring_full, run.gaps,
               run.symbols == 0 ? 0.0
                                : static_cast<double>(run.book_bytes) /
                                      static_cast<double>(run.symbols) / 1024.0,
               static_cast<double>(run.book_bytes) / (1024.0 * 1024.0));
}

/// --symbols N: one process holding N synthetic symbols next to the same run with one symbol,
/// at the same rate per symbol; the traded symbol is SYN000USDT in both.
int run_many_symbols(const bench_options& options, const fs::path& work, double seconds) {
    constexpr int rate_hz = 20;
    const live_run one = run_live(options, synthetic_setup(1, rate_hz), work, false, seconds);
    const live_run many =
        run_live(options, synthetic_setup(options.symbols, rate_hz), work, false, seconds);
    fmt::print("  CPUs {} (md) / {} (core), core spinning; quoter-venue --synthetic, {} diffs a "
               "second per symbol (plus bookTicker and trades), {:.0f} s per run\n",
               options.producer_cpu, options.consumer_cpu, rate_hz, seconds);
    print_hand_off();
    header();
    print_live("1 symbol, loopback WebSocket, plain", one);
    print_books(one);
    print_live(fmt::format("{} symbols, loopback WebSocket, plain", options.symbols), many);
    print_books(many);
    if (one.ok && many.ok && one.ticks.end_to_end.count != 0 && many.ticks.end_to_end.count != 0) {
        const double ratio =
            static_cast<double>(many.ticks.end_to_end.p99) /
            static_cast<double>(std::max<core::duration_ns>(one.ticks.end_to_end.p99, 1));
        fmt::print("  goal, many symbols: end-to-end p99 {:.2f} us against {:.2f} us: {:.2f}x "
                   "(<= 2x: {})\n",
                   us(many.ticks.end_to_end.p99), us(one.ticks.end_to_end.p99), ratio,
                   ratio <= 2.0 ? "met" : "missed");
    }
    return one.ok && many.ok ? 0 : 1;
}

int run_tick_to_order_bench(const bench_options& options) {
    const std::string symbol = "BTCUSDT";
    const std::string capture = options.data_dir + "/spot-btcusdt-20240808.gz";
    (void)core::tsc_clock::process(); // calibrated before anything is timed
    const double seconds = std::max(2.0, 20.0 * options.scale);
    std::error_code ec;
    const fs::path work = fs::temp_directory_path() / fmt::format("quoter-t2o-{}", ::getpid());
    fs::create_directories(work, ec);

    if (options.symbols > 0) {
        const int status = run_many_symbols(options, work, seconds);
        fs::remove_all(work, ec);
        return status;
    }
    if (!fs::exists(capture)) {
        fmt::print("  capture {} not found (--data)\n", capture);
        fs::remove_all(work, ec);
        return 1;
    }
    const live_run plain = run_live(options, replay_setup(capture, symbol), work, false, seconds);
    live_setup polled = replay_setup(capture, symbol);
    polled.busy_poll = true;
    const live_run plain_polled = run_live(options, polled, work, false, seconds);
    const live_run tls = run_live(options, replay_setup(capture, symbol), work, true, seconds);

    const auto rounds = static_cast<std::uint64_t>(std::max(1'000.0, 200'000.0 * options.scale));
    const auto floor_rtt = ping_pong(options.producer_cpu, options.consumer_cpu, rounds);
    const auto floor_decode = decode_floor(capture, symbol, options.producer_cpu);
    fs::remove_all(work, ec);

    fmt::print("  CPUs {} (md) / {} (core), core spinning; replay of {} at x10, {:.0f} s per run\n",
               options.producer_cpu, options.consumer_cpu, fs::path(capture).filename().string(),
               seconds);
    print_hand_off();
    fmt::print("  order path warm-up: {}\n",
               options.warm_order_path_us > 0
                   ? fmt::format("every {} us idle", options.warm_order_path_us)
                   : std::string("off"));
    header();
    print_live("loopback WebSocket, plain", plain);
    print_live("loopback WebSocket, plain, md thread busy-polling", plain_polled);
    print_live("loopback WebSocket, TLS", tls);
    fmt::print("  floors, same run\n");
    const core::latency_summary rtt = floor_rtt->summary();
    row("  cache-line ping-pong, one way", rtt, 2.0);
    if (floor_decode) {
        row("  decode+book of the same frames", floor_decode->summary());
    }
    verdict("plain", plain);
    verdict("plain, md busy-polling", plain_polled);
    verdict("TLS", tls);
    return plain.ok ? 0 : 1;
}

} // namespace quoter::bench
