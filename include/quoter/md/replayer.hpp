// capture_replayer: replays capture files through the same decode and book-sync code as the live
// feed (feed_handler) and yields the md_events it publishes, in order. The events carry the
// capture's local timestamps, so a replayed book equals the book built live at every event.
//
// Several files replay as one stream merged by the lines' timestamps (ties: the file given
// first), so captures of several symbols over the same hours (one file per symbol, as `quoter
// record` writes them) replay together, each symbol routed to its own book; consecutive files of
// one symbol merge into their time order too.
//
// Snapshot lines carry no symbol; a snapshot line applies to the symbol of the most recent
// depthUpdate before it in its own file (the recorder writes a symbol's snapshot after its first
// diffs, which is Binance's procedure), or to the only registered symbol.
//
// A replay fails (next() returns false and error() says why) when a file cannot be opened
// (missing, a directory, unreadable) or read, when a line's timestamp is earlier than the line
// before it in its file, and, at the end, when no line decoded as a
// stream message (diff, bookTicker, trade) of a registered symbol: random bytes, or another
// symbol's capture, whose snapshot lines alone (they name no symbol) do not count. error_message()
// gives the one line to show the user.
//
// Thread ownership: one thread; files are inflated ahead on a helper thread the replayer owns
// (inflate_mode::ahead). Reading allocates only to grow the line buffer for a line longer than
// any before.
#pragma once

#include "quoter/md/capture.hpp"
#include "quoter/md/feed_handler.hpp"
#include "quoter/md/md_event.hpp"
#include "quoter/md/publisher.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace quoter::md {

/// What the lines of a replay were, for its summary.
struct replay_stats {
    std::uint64_t lines = 0;       ///< Capture lines fed to the feed.
    std::uint64_t bad_lines = 0;   ///< Lines that were not "<ns> <json>".
    std::uint64_t market_data = 0; ///< Diffs, tickers and trades of registered symbols.
    std::uint64_t snapshots = 0;   ///< Depth snapshot lines (applied to the fallback symbol).
    std::uint64_t malformed =
        0; ///< Rejected by the decoder (invalid, or not what its stream carries).
    std::uint64_t unrecognised =
        0; ///< Valid messages that are not market data (replies, other events).
    std::uint64_t unknown_symbol = 0; ///< Market data of symbols not registered.
    /// Malformed messages by decode_error.
    std::array<std::uint64_t, decode_error_count> malformed_by_error{};
};

class capture_replayer {
public:
    /// files are replayed in the given order as one stream. registry must outlive the replayer.
    capture_replayer(const symbol_registry& registry, std::vector<std::string> files,
                     feed_config config = {});

    /// Next event; false at the end of the last file or when a file cannot be read (error()).
    [[nodiscard]] bool next(md_event& out);
    /// Next event read in place, without a copy: valid until the next call of next(); nullptr
    /// at the end of the last file or when a file cannot be read (error()).
    [[nodiscard]] const md_event* next();
    /// Asks for the top-K levels of every event of a valid book (for a simulated exchange): such
    /// events come flagged md_flags::has_depth, their record read with depth(). Off by default.
    /// Call before the first next().
    void want_depth(bool on) noexcept { queue_.set_want_depth(on); }
    /// The depth record of the event the last next() returned, in place and valid until the
    /// next call of next(); nullptr when that event has none.
    [[nodiscard]] const md_depth* depth() const noexcept { return queue_.last_depth(); }

    [[nodiscard]] capture_error error() const noexcept { return error_; }
    /// Path of the file that failed, when error() is set.
    [[nodiscard]] const std::string& failed_file() const noexcept { return failed_file_; }
    /// Capture lines fed to the feed so far (all files, bad lines excluded): while next() hands
    /// out the events of a line, this is that line's number (1-based).
    [[nodiscard]] std::uint64_t lines() const noexcept { return lines_; }
    /// Lines that were not "<ns> <json>".
    [[nodiscard]] std::uint64_t bad_lines() const noexcept { return bad_lines_; }
    /// Counts of the lines so far by what they decoded to.
    [[nodiscard]] replay_stats stats() const noexcept;
    /// Why the replay failed, in one line naming the file (and line) where it applies; empty
    /// while error() is none.
    [[nodiscard]] std::string error_message() const;
    [[nodiscard]] const feed_handler& feed() const noexcept { return feed_; }
    [[nodiscard]] feed_handler& feed() noexcept { return feed_; }

private:
    /// Holds the few events one message can publish until next() hands them out.
    class event_queue final : public md_event_sink {
    public:
        void on_event(const md_event& event) noexcept override;
        void on_event_depth(const md_event& event, const md_depth& depth) noexcept override;
        void set_want_depth(bool on) noexcept { want_depth(on); }
        [[nodiscard]] bool pop(md_event& out) noexcept;
        /// The oldest event, left in its slot (valid until the next on_event); nullptr if none.
        [[nodiscard]] const md_event* pop() noexcept;
        /// The depth record of the event popped last (in its slot); nullptr if it has none.
        [[nodiscard]] const md_depth* last_depth() const noexcept { return last_depth_; }
        [[nodiscard]] std::uint64_t overflowed() const noexcept { return overflowed_; }

    private:
        static constexpr std::size_t capacity = 16;
        std::array<md_event, capacity> events_{};
        /// depths_[i] goes with events_[i] when that event has depth.
        std::array<md_depth, capacity> depths_{};
        const md_depth* last_depth_ = nullptr;
        std::size_t head_ = 0;
        std::size_t size_ = 0;
        std::uint64_t overflowed_ = 0;
    };

    /// One file of the merge: its reader and its next line, read ahead.
    struct source {
        std::string path;
        std::unique_ptr<gzip_line_reader> reader;
        capture_line line;     ///< Valid while has_line.
        bool has_line = false; ///< False once the file ended.
        symbol_id last_depth_symbol = invalid_symbol;
        std::uint64_t bad_lines = 0; ///< reader->bad_lines() already counted.
    };

    [[nodiscard]] bool feed_next_line();
    /// Opens every file and reads its first line; false on failure (error() set).
    [[nodiscard]] bool open_sources();
    /// Reads source i's next line; false on failure (error() set).
    [[nodiscard]] bool advance(std::size_t i);
    /// Stops the replay with error at source i's current line.
    void fail_at_line(std::size_t i, capture_error error) noexcept;

    const symbol_registry& registry_;
    std::vector<std::string> files_;
    std::vector<source> sources_;
    bool opened_ = false;
    event_queue queue_;
    feed_handler feed_;
    bool connected_ = false;
    capture_error error_ = capture_error::none;
    std::string failed_file_;
    std::uint64_t lines_ = 0;
    std::uint64_t bad_lines_ = 0;
    std::uint64_t failed_line_ = 0;       ///< Line in failed_file_ (1-based), 0: not a line error.
    core::timestamp_ns last_line_ns_ = 0; ///< Timestamp of the line before the failed one.
    core::timestamp_ns failed_line_ns_ = 0; ///< Timestamp of the line that ran backwards.
    bool finished_ = false;                 ///< The last file ended (or the replay failed).
};

} // namespace quoter::md
