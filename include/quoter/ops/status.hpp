// status: the engine's state at a glance, as the core publishes it for readers on other threads
// (the HTTP server's /status and /ready, a Telegram /status).
//
// The core fills a status_snapshot (a fixed-size POD) and publishes it to a status_board at a
// low rate; readers take a consistent copy at any time. The board is a sequence lock: the one
// writer never waits (two counter stores around a copy of the words), a reader retries while a
// write is in progress. Every word is an atomic stored with release and loaded with acquire
// (plain moves on x86), which orders the words with the sequence counter without standalone
// fences, so no access is a data race and ThreadSanitizer can follow it.
#pragma once

#include "quoter/core/time.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace quoter::ops {

/// A fixed-capacity, zero-padded text field for PODs.
template <std::size_t N> struct fixed_text {
    std::array<char, N> chars{};

    void assign(std::string_view text) noexcept {
        const std::size_t n = text.size() < N - 1 ? text.size() : N - 1;
        std::memcpy(chars.data(), text.data(), n);
        std::memset(chars.data() + n, 0, N - n);
    }
    [[nodiscard]] std::string_view view() const noexcept {
        return {chars.data(), ::strnlen(chars.data(), N)};
    }
};

/// Risk state as /status reports it.
enum class trading_state : std::uint8_t { starting, running, paused, killed, stopped };
[[nodiscard]] std::string_view to_string(trading_state state) noexcept;

/// One traded symbol of a session as /status lists it.
struct symbol_status {
    fixed_text<24> symbol; ///< "ETHUSDT".
    trading_state state = trading_state::starting;
    bool book_synced = false;
    std::uint8_t padding_[6] = {};
    fixed_text<32> halt_reason; ///< The latched kill's reason; empty when none.
    double mid = 0.0;
    double quoted_bid = 0.0; ///< Our best working bid; 0 when none.
    double quoted_ask = 0.0; ///< Our best working ask; 0 when none.
    double inventory_base = 0.0;
    double pnl_total_quote = 0.0;
    double pnl_realized_quote = 0.0;
    std::uint64_t fills = 0;
    std::uint64_t orders_sent = 0;
};

/// The symbols /status lists at most (a session's portfolio holds as many).
inline constexpr std::size_t max_status_symbols = 64;

/// Everything /status and /ready report. Prices and quantities are doubles here (already
/// converted from ticks and lots by the core): this is for people and dashboards, not trading.
/// The top-level market, quotes, position and counts are the first (or only) symbol's;
/// `symbols` has every symbol of the session, the first one first.
struct status_snapshot {
    core::timestamp_ns published_ns = 0; ///< Wall clock when the core published it; 0: never.
    core::timestamp_ns started_ns = 0;   ///< Wall clock when the engine started.
    fixed_text<16> mode;                 ///< "sim", "paper_exchange", "live".
    fixed_text<24> symbol;               ///< "BTCUSDT".
    trading_state state = trading_state::starting;
    bool book_synced = false;
    bool gateway_connected = false;
    std::uint8_t padding_[5] = {};
    fixed_text<32> halt_reason; ///< Last halt reason ("daily_loss"); empty when none.
    double best_bid = 0.0;
    double best_ask = 0.0;
    double mid = 0.0;
    double spread_bps = 0.0;     ///< Market spread in basis points of the mid.
    double quoted_bid = 0.0;     ///< Our best working bid; 0 when none.
    double quoted_ask = 0.0;     ///< Our best working ask; 0 when none.
    double inventory_base = 0.0; ///< Net position, base asset.
    double pnl_total_quote = 0.0;
    double pnl_realized_quote = 0.0;
    std::uint32_t working_orders = 0;
    std::uint32_t working_bids = 0; ///< Every symbol's orders sent and not yet ended, bids.
    std::uint32_t working_asks = 0; ///< The same, asks.
    std::uint64_t fills = 0;
    std::uint64_t orders_sent = 0;
    core::duration_ns tick_to_order_p50_ns = 0;
    core::duration_ns tick_to_order_p99_ns = 0;
    core::duration_ns round_trip_p50_ns = 0;
    core::duration_ns round_trip_p99_ns = 0;
    std::uint32_t symbol_count = 0; ///< Entries of symbols in use.
    std::array<symbol_status, max_status_symbols> symbols{};

    /// The listed symbols (at most the table).
    [[nodiscard]] std::size_t listed_symbols() const noexcept {
        return symbol_count < symbols.size() ? symbol_count : symbols.size();
    }
    /// The first symbol's book and every listed symbol's synced.
    [[nodiscard]] bool books_synced() const noexcept {
        for (std::size_t i = 0; i < listed_symbols(); ++i) {
            if (!symbols[i].book_synced) {
                return false;
            }
        }
        return book_synced;
    }
    /// The first symbol or any listed symbol killed.
    [[nodiscard]] bool any_killed() const noexcept {
        for (std::size_t i = 0; i < listed_symbols(); ++i) {
            if (symbols[i].state == trading_state::killed) {
                return true;
            }
        }
        return state == trading_state::killed;
    }
    /// /ready: every symbol's book synced, gateway connected, no symbol killed, not stopped,
    /// published at least once.
    [[nodiscard]] bool ready() const noexcept {
        return published_ns != 0 && books_synced() && gateway_connected && !any_killed() &&
               state != trading_state::stopped;
    }
    /// The leading bytes that hold everything but the unlisted entries of `symbols`: what a
    /// publication needs to copy (a session lists a few of the table's 64 entries).
    [[nodiscard]] std::size_t listed_bytes() const noexcept;
};

static_assert(std::is_trivially_copyable_v<status_snapshot>);
static_assert(std::is_standard_layout_v<status_snapshot>); // for offsetof below

inline std::size_t status_snapshot::listed_bytes() const noexcept {
    return offsetof(status_snapshot, symbols) + listed_symbols() * sizeof(symbol_status);
}

/// Single-writer, multi-reader publication of a trivially copyable T.
template <class T> class seqlock_board {
    static_assert(std::is_trivially_copyable_v<T>);
    static constexpr std::size_t word_count = (sizeof(T) + 7) / 8;

public:
    seqlock_board() noexcept { publish(T{}); }

    /// Writer thread only. Wait-free. Copies the first `bytes` of value (rounded up to whole
    /// words; all of it by default): the words past them keep what the last publication that
    /// covered them wrote (zero if none did), for a T whose tail is unused while a count in
    /// its head says so.
    void publish(const T& value, std::size_t bytes = sizeof(T)) noexcept {
        const std::size_t words = (std::min(bytes, sizeof(T)) + 7) / 8;
        const auto* source = reinterpret_cast<const unsigned char*>(&value);
        const std::uint64_t seq = sequence_.load(std::memory_order_relaxed);
        sequence_.store(seq + 1, std::memory_order_relaxed);
        // Release on every word keeps the odd sequence store above before it: a reader that
        // sees any new word also sees the sequence move.
        for (std::size_t i = 0; i < words; ++i) {
            std::uint64_t word = 0;
            if (sizeof(T) % 8 == 0 || i + 1 < word_count) {
                std::memcpy(&word, source + i * 8, 8);
            } else {
                std::memcpy(&word, source + i * 8, sizeof(T) % 8); // T's last, partial word
            }
            words_[i].store(word, std::memory_order_release);
        }
        sequence_.store(seq + 2, std::memory_order_release);
    }

    /// Any thread. Retries while a publish is in progress (a few hundred ns at most).
    [[nodiscard]] T read() const noexcept {
        std::array<std::uint64_t, word_count> words{};
        for (;;) {
            const std::uint64_t before = sequence_.load(std::memory_order_acquire);
            if ((before & 1U) != 0) {
                continue;
            }
            // Acquire on every word keeps the second sequence load below after them.
            for (std::size_t i = 0; i < word_count; ++i) {
                words[i] = words_[i].load(std::memory_order_acquire);
            }
            if (sequence_.load(std::memory_order_relaxed) == before) {
                break;
            }
        }
        T value;
        std::memcpy(static_cast<void*>(&value), words.data(), sizeof(T));
        return value;
    }

    /// Publications so far (for tests and staleness checks).
    [[nodiscard]] std::uint64_t versions() const noexcept {
        return sequence_.load(std::memory_order_acquire) / 2;
    }

private:
    alignas(64) std::atomic<std::uint64_t> sequence_{0};
    std::array<std::atomic<std::uint64_t>, word_count> words_{};
};

using status_board = seqlock_board<status_snapshot>;

/// The /status JSON document of a snapshot.
[[nodiscard]] std::string status_json(const status_snapshot& status);

} // namespace quoter::ops
