// state_file: the per-instance state that must survive a crash (positions, open orders by
// client id, the daily PnL base, the kill latch and its reason, last sequence numbers), and the
// single-instance lock that keeps two engines off one account and symbol.
//
// Format: a line-based text file, readable with `cat`, ending in a CRC-32 trailer over every
// byte before it:
//   quoter-state 2
//   account main
//   ...
//   crc32 1a2b3c4d
// Saving is atomic: the text goes to a temporary file in the same directory, which is fsynced,
// renamed over the old file, and the directory fsynced, so a crash leaves either the old or the
// new file. Loading checks the trailer before parsing and parses into a fresh object, so a torn
// or corrupt file is refused as a whole, never half-loaded.
//
// Threading: blocking file I/O; call from a background thread, never the core's.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/core/time.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::ops {

/// One symbol's position, in lots.
struct state_position {
    std::string symbol;
    std::int64_t qty_lots = 0;       ///< Signed: positive long, negative short.
    std::int64_t entry_notional = 0; ///< Cost basis in quote units of ticks * lots.

    friend bool operator==(const state_position&, const state_position&) = default;
};

/// One working order, identified by its client order id.
struct state_order {
    std::string client_id; ///< Venue client order id ([A-Za-z0-9._:/-], at most 36 chars).
    std::string symbol;
    bool buy = true;
    std::int64_t price_ticks = 0;
    std::int64_t qty_lots = 0;
    std::int64_t filled_lots = 0;

    friend bool operator==(const state_order&, const state_order&) = default;
};

/// One bucket of a risk rate window (risk::rate_memory): events counted from start_ns on, in
/// the window named (risk::to_string(rate_window)), so that a restart keeps the order and cancel
/// counts the rate limits and the cancel/trade ratio see.
struct state_rate_bucket {
    std::string window;
    std::int64_t start_ns = 0;
    std::uint32_t events = 0;

    friend bool operator==(const state_rate_bucket&, const state_rate_bucket&) = default;
};

struct engine_state {
    std::string account; ///< Account label (not a key).
    std::string symbol;
    /// What kind of session wrote it: "sim", "paper_exchange", or "live:<spot|futures>:<host>"
    /// (the venue's host: testnet and mainnet apart). Empty in earlier files.
    std::string session;
    core::timestamp_ns saved_ns = 0; ///< Wall clock of the save.
    /// The symbol's price and quantity decimals the file's ticks, lots and notional units
    /// (10^-(price + quantity decimals) of the quote asset) are counted in; -1 in earlier
    /// files. A tick or step size changed since means the file must be rescaled before use.
    std::int32_t price_decimals = -1;
    std::int32_t qty_decimals = -1;
    std::vector<state_position> positions;
    std::vector<state_order> open_orders;
    /// Paper account cash, notional units of the symbol (portfolio::account); 0 live.
    std::int64_t cash = 0;
    /// Trading day the PnL base belongs to: risk_engine::trading_day(), days since the epoch
    /// shifted by risk.limits.daily_reset_utc_minute; 0 when none.
    std::int32_t trading_day = 0;
    std::int64_t daily_pnl_base = 0;   ///< Realized + unrealized PnL at the day's start, units.
    std::int64_t day_start_equity = 0; ///< Equity at the day's start, notional units.
    /// Highest equity so far, notional units (the drawdown limits' reference); 0: not saved (an
    /// earlier file).
    std::int64_t peak_equity = 0;
    bool kill_latched = false;               ///< A kill engaged and not yet resumed.
    std::string kill_reason;                 ///< halt_reason name; free text allowed.
    std::uint64_t last_md_update_id = 0;     ///< Last applied depth update id.
    std::uint64_t last_journal_seq = 0;      ///< Last journal sequence number written.
    std::uint64_t last_client_order_seq = 0; ///< Client order ids are issued above this.
    /// The risk rate windows' buckets, oldest first per window (none in older files).
    std::vector<state_rate_bucket> rate_buckets;
    /// Flatten orders the latched kill's flattening has sent (risk.triggers.flatten_max_attempts
    /// counts them across a restart); 0 without a latched kill and in earlier files.
    std::uint32_t flatten_attempts = 0;
    /// An operator's pause held (key `p`, SIGUSR2, a pause command) and not yet resumed; false
    /// in earlier files.
    bool manual_pause = false;
    /// How long before the save the orders and cancels the rate windows hold may go back: what
    /// the engine sent after the state the save holds (its core publishes the state every status
    /// interval, the saver writes it every save interval). 0 in the last save of a session that
    /// stopped, and in earlier files.
    std::int64_t unsaved_activity_ms = 0;

    friend bool operator==(const engine_state&, const engine_state&) = default;
};

/// Counts a state written at other decimals (state.price_decimals, state.qty_decimals) in
/// price_decimals and qty_decimals: ticks, lots and notional units, multiplied or divided by
/// the powers of ten between them (a division rounds toward zero: a finer grid then shows
/// less). Nothing when the state names no decimals or the same. The error names a value that
/// would overflow.
[[nodiscard]] std::string rescale_state(engine_state& state, std::int32_t price_decimals,
                                        std::int32_t qty_decimals);

/// The file's text, trailer included.
[[nodiscard]] std::string serialize_state(const engine_state& state);

/// Parses a whole file's text; the error says what is wrong ("checksum mismatch", "truncated
/// ...", "line 7: ...").
[[nodiscard]] core::result<engine_state, std::string> parse_state(std::string_view text);

/// Writes state to path atomically (temp file, fsync, rename, fsync of the directory). Returns
/// an empty string on success, else the reason.
[[nodiscard]] std::string save_state(const std::string& path, const engine_state& state);

/// Reads and checks path. A missing file is `std::nullopt`-like: has_value() with
/// found == false. Any other failure is an error naming the file and saying to move it aside.
struct loaded_state {
    bool found = false;
    engine_state state;
};
[[nodiscard]] core::result<loaded_state, std::string> load_state(const std::string& path);

/// An exclusive flock on "<dir>/quoter-<account>-<symbol>.lock", held for the object's life.
/// The file holds the owner's pid for the refusal message. flock belongs to the open file
/// description, so a second acquire in the same process is refused too.
class instance_lock {
public:
    instance_lock() = default;
    ~instance_lock();
    instance_lock(instance_lock&& other) noexcept;
    instance_lock& operator=(instance_lock&& other) noexcept;
    instance_lock(const instance_lock&) = delete;
    instance_lock& operator=(const instance_lock&) = delete;

    /// Takes the lock or explains who holds it. account and symbol may only hold
    /// [A-Za-z0-9._-] characters (they name the file).
    [[nodiscard]] static core::result<instance_lock, std::string>
    acquire(const std::string& directory, std::string_view account, std::string_view symbol);

    [[nodiscard]] bool held() const noexcept { return fd_ >= 0; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    /// Releases the lock (the file stays).
    void release() noexcept;

private:
    int fd_ = -1;
    std::string path_;
};

} // namespace quoter::ops
