// journal: the append-only audit trail, one JSON object per line (JSONL).
//
// The core thread hands fixed-size records to append(), which copies them into an SPSC ring and
// returns: no formatting, no allocation, no syscall, never blocking. A background writer thread
// formats them, writes each batch with fflush, and calls fdatasync at a configurable interval, so
// the file holds every line up to the last flushed batch even if the process is killed (and, up
// to the last fdatasync, even if the machine loses power). When the ring is full, append()
// counts a drop instead of waiting; the writer journals the number of records lost in a `dropped`
// line right after the batch during which it noticed them.
//
// Every line starts with "seq" (1, 2, 3, ... per opened journal, with no gaps: a missing number
// means lost lines) and "ts" (the record's timestamp in ns from the engine clock), optionally
// "wall_ns" (journal_config::stamp_wall_clock), then "type".
// docs/operations.md lists every record type and field.
//
// Thread ownership: append() and the record helpers from the one producer thread (the core);
// open/start/stop/drain from the owner thread. drain() is for running without the writer thread
// (backtests run the core inline and drain at their own pace).
#pragma once

#include "quoter/core/clock.hpp"
#include "quoter/core/fixed_point.hpp"
#include "quoter/core/result.hpp"
#include "quoter/core/spsc_ring.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/risk/alert.hpp"
#include "quoter/risk/kill_switch.hpp"
#include "quoter/risk/pre_trade.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

namespace quoter::ops {

/// An order the strategy decided to send, with the inputs that produced it.
struct order_intent_entry {
    std::uint64_t client_order_id = 0;
    std::uint16_t symbol_id = 0;
    core::side side = core::side::buy;
    bool post_only = false;
    bool reduce_only = false;
    risk::order_intent intent = risk::order_intent::quote;
    core::price price;
    core::qty qty;
    // Strategy inputs.
    core::price best_bid;
    core::price best_ask;
    core::qty inventory;     ///< Position when the quote was computed.
    double mid = 0.0;        ///< Quote asset.
    double volatility = 0.0; ///< The strategy's volatility estimate, in its own units.
    // Model outputs.
    double reservation_price = 0.0; ///< Quote asset.
    double half_spread = 0.0;       ///< Quote asset.
    double skew = 0.0;              ///< Quote asset, added to the reservation price.
};

/// The exchange acknowledged an order.
struct ack_entry {
    std::uint64_t client_order_id = 0;
    std::uint64_t exchange_order_id = 0;
    core::duration_ns latency = 0; ///< Acknowledgement time minus send time.
    std::uint16_t symbol_id = 0;
};

/// An order (partially) filled.
struct fill_entry {
    std::uint64_t client_order_id = 0;
    core::price price;
    core::qty qty;
    core::qty position_after; ///< Net position once this fill is applied.
    double fee = 0.0;         ///< Quote asset; negative for a rebate.
    std::uint16_t symbol_id = 0;
    core::side side = core::side::buy;
    bool maker = true;
};

enum class cancel_cause : std::uint8_t { strategy, kill, pause, shutdown, exchange, expired };
enum class cancel_stage : std::uint8_t { requested, confirmed, rejected };

[[nodiscard]] std::string_view to_string(cancel_cause cause) noexcept;
[[nodiscard]] std::string_view to_string(cancel_stage stage) noexcept;

/// A cancel requested, confirmed by the exchange, or refused by it.
struct cancel_entry {
    std::uint64_t client_order_id = 0;
    std::uint16_t symbol_id = 0;
    cancel_cause cause = cancel_cause::strategy;
    cancel_stage stage = cancel_stage::requested;
};

/// A manual command as the core received it.
struct command_entry {
    control_command command = control_command::kill;
    command_source source = command_source::terminal;
};

using journal_payload =
    std::variant<order_intent_entry, risk::rejection_record, ack_entry, fill_entry, cancel_entry,
                 risk::state_change, risk::alert, command_entry>;

struct journal_record {
    core::timestamp_ns time = 0;
    /// Wall-clock time of the append (ns since the epoch), when journal_config::stamp_wall_clock
    /// is set; 0 otherwise.
    core::timestamp_ns wall = 0;
    journal_payload payload;
};

struct journal_buffer; // formatting state, private to the writer

struct journal_config {
    std::string path;
    /// fdatasync after a flushed batch when this long has passed since the last one
    /// (0: after every batch; negative: never, leaving it to the OS).
    std::int64_t fdatasync_interval_ms = 1'000;
    /// Writer sleep when the ring is empty.
    std::int64_t idle_sleep_us = 1'000;
    /// Also stamp every record with the wall clock when it is appended ("wall_ns" after "ts"):
    /// for runs whose engine clock is simulated or replayed time, so that how long things took
    /// in real time can be read from the journal too. One vDSO clock read per record.
    bool stamp_wall_clock = false;
    /// Specs indexed by symbol_id: prices and quantities of those symbols are written as exact
    /// decimals ("price":61737.63); others as raw ticks and lots ("price_ticks", "qty_lots").
    std::vector<core::symbol_spec> symbols;
};

struct journal_open_error {
    int error_number = 0; ///< errno from fopen.
};

class journal {
public:
    static constexpr std::size_t ring_capacity = 8192;

    /// Opens (creating or appending to) config.path and writes a journal_open line. Does not
    /// start the writer thread.
    [[nodiscard]] static core::result<std::unique_ptr<journal>, journal_open_error>
    open(journal_config config);

    ~journal();
    journal(const journal&) = delete;
    journal& operator=(const journal&) = delete;

    // Producer (core thread).
    /// Queues a record; false when the ring was full and the record was counted as dropped.
    bool append(const journal_record& record) noexcept {
        if (stamp_wall_clock_ ? ring_.try_push(stamped(record)) : ring_.try_push(record)) {
            return true;
        }
        dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        return false;
    }
    bool append(core::timestamp_ns time, const journal_payload& payload) noexcept {
        return append(journal_record{.time = time, .wall = 0, .payload = payload});
    }
    /// Records that carry their own timestamp.
    bool append(const risk::rejection_record& r) noexcept { return append(r.time, r); }
    bool append(const risk::state_change& c) noexcept { return append(c.time, c); }
    bool append(const risk::alert& a) noexcept { return append(a.time, a); }

    /// Records dropped because the ring was full (producer's count).
    [[nodiscard]] std::uint64_t dropped() const noexcept {
        return dropped_.load(std::memory_order_acquire);
    }

    // Owner thread.
    /// Starts the background writer; false if it is already running or could not start.
    bool start();
    /// Writes everything queued, a journal_close line, flushes, syncs and stops the writer.
    /// Idempotent; the destructor calls it.
    void stop() noexcept;
    /// Without the writer thread: formats and writes everything queued now, then flushes.
    /// Returns the number of lines written.
    std::size_t drain() noexcept;

    /// Lines written and flushed to the OS so far (any thread).
    [[nodiscard]] std::uint64_t lines_flushed() const noexcept {
        return lines_flushed_.load(std::memory_order_acquire);
    }
    [[nodiscard]] const std::string& path() const noexcept { return config_.path; }

private:
    journal(journal_config config, std::FILE* file);

    [[nodiscard]] static journal_record stamped(journal_record record) noexcept {
        record.wall = core::wall_clock{}.now();
        return record;
    }

    void run() noexcept;
    /// Pops and writes one batch; returns how many records it wrote.
    std::size_t write_batch() noexcept;
    void write_drop_line() noexcept;
    void write_buffer(bool force_sync) noexcept;

    core::spsc_ring<journal_record, ring_capacity> ring_;
    bool stamp_wall_clock_ = false;
    alignas(core::false_sharing_range) std::atomic<std::uint64_t> dropped_{0};
    alignas(core::false_sharing_range) std::atomic<std::uint64_t> lines_flushed_{0};
    std::atomic<bool> stop_requested_{false};

    // Writer side.
    journal_config config_;
    std::FILE* file_;
    std::uint64_t seq_ = 0;
    std::uint64_t drops_reported_ = 0;
    std::uint64_t lines_written_ = 0;
    core::timestamp_ns last_time_ = 0;
    core::timestamp_ns last_sync_wall_ = 0;
    bool closed_ = false;
    std::unique_ptr<journal_buffer> buffer_;
    std::thread writer_;
};

} // namespace quoter::ops
