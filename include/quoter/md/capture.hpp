// Capture files: gzip text, one message per line as `<local receive ns> <json>`, the format
// `quoter record` writes and `quoter backtest` replays (REST snapshots appear as bare bodies).
//
// gzip_line_reader streams a file of any size through a fixed read buffer that grows only for a
// line longer than any before; every returned line is followed by at least message_padding
// readable bytes, so lines can be decoded in place. Concatenated gzip members (a file appended
// to after a restart) read as one stream. With inflate_mode::ahead a helper thread inflates a few
// chunks ahead and the reading thread only copies them and splits lines.
//
// gzip_line_writer is the recorder's file side: it appends lines to
// `<directory>/<prefix>-YYYYMMDD-HH.gz` (UTC hour of each line's timestamp), opening the next
// file when a line falls in a new hour. Not for the hot path: it is meant for a recorder thread.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/core/time.hpp"
#include "quoter/md/binance_decoder.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::md {

enum class capture_error : std::uint8_t {
    none,
    open_failed,  ///< File missing or not readable/writable.
    read_failed,  ///< zlib reported corrupt or truncated data.
    write_failed, ///< zlib or the file system refused the write.
    not_open,
    not_found,      ///< No file of that name.
    is_directory,   ///< A directory where a capture file was expected.
    no_market_data, ///< A replay in which no line decoded as market data of a registered symbol.
    time_backwards, ///< A line's timestamp is earlier than the line before it.
};

[[nodiscard]] std::string_view describe(capture_error error) noexcept;

/// Whether path names a capture file that can be opened: none, not_found, is_directory or
/// open_failed (not readable).
[[nodiscard]] capture_error check_capture_file(const std::string& path);

/// One capture line split into its parts.
struct capture_line {
    core::timestamp_ns local_ns = 0;
    std::string_view json;        ///< The message; message_padding readable bytes follow it.
    std::size_t capacity = 0;     ///< Readable bytes from json.data().

    [[nodiscard]] padded_view padded() const noexcept {
        return {json.data(), json.size(), capacity};
    }
};

/// Parses "<ns> <json>"; false when the line has no leading integer and space.
[[nodiscard]] bool split_capture_line(std::string_view line, capture_line& out) noexcept;

/// How a gzip_line_reader inflates.
enum class inflate_mode : std::uint8_t {
    /// On the reading thread, as lines are asked for.
    inline_,
    /// On a helper thread, a few chunks ahead of the reader: replays then pay for inflating on
    /// another core (what `quoter backtest --data` uses). The reader thread only copies chunks.
    ahead,
};

class gzip_line_reader {
public:
    /// read_chunk_bytes: bytes decompressed per refill.
    explicit gzip_line_reader(std::size_t read_chunk_bytes = 1U << 18U,
                              inflate_mode mode = inflate_mode::inline_);
    ~gzip_line_reader();
    gzip_line_reader(const gzip_line_reader&) = delete;
    gzip_line_reader& operator=(const gzip_line_reader&) = delete;

    /// Opens a gzip (or plain text) file; closes any previous one. A missing path or a
    /// directory fails with not_found or is_directory.
    [[nodiscard]] core::result<bool, capture_error> open(const std::string& path);
    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept { return file_ != nullptr; }

    /// Next line without its '\n' (a final line without one is returned too). Returns false at
    /// the end of the file or on error (see error()). The view and its padding stay valid until
    /// the next call.
    [[nodiscard]] bool next_line(std::string_view& line);
    /// Next line split as a capture line; lines that do not split are counted and skipped.
    [[nodiscard]] bool next(capture_line& out);

    [[nodiscard]] capture_error error() const noexcept { return error_; }
    [[nodiscard]] std::uint64_t lines() const noexcept { return lines_; }
    [[nodiscard]] std::uint64_t bad_lines() const noexcept { return bad_lines_; }

private:
    class inflater; ///< The helper thread of inflate_mode::ahead.

    bool refill();
    /// Up to chunk_ inflated bytes at out: > 0 bytes, 0 at the end, < 0 on a zlib error.
    int read_chunk(char* out);

    void* file_ = nullptr; ///< gzFile
    inflate_mode mode_;
    std::unique_ptr<inflater> ahead_;
    std::vector<char> buffer_; ///< data in [begin_, end_); message_padding spare bytes at the end
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t chunk_;
    bool eof_ = false;
    capture_error error_ = capture_error::none;
    std::uint64_t lines_ = 0;
    std::uint64_t bad_lines_ = 0;
};

struct capture_writer_config {
    std::string directory = ".";   ///< Existing folder for the files.
    std::string prefix = "capture"; ///< File name prefix, e.g. "spot-btcusdt".
    int compression_level = 6;     ///< zlib level 1 (fast) .. 9 (small).
    /// Length of one file, in seconds; files start at multiples of it (UTC).
    std::int64_t rotate_every_s = 3600;
};

class gzip_line_writer {
public:
    explicit gzip_line_writer(capture_writer_config config);
    ~gzip_line_writer();
    gzip_line_writer(const gzip_line_writer&) = delete;
    gzip_line_writer& operator=(const gzip_line_writer&) = delete;

    /// Appends "<local_ns> <json>\n", first rotating to the file of local_ns's period.
    [[nodiscard]] core::result<bool, capture_error> write(core::timestamp_ns local_ns,
                                                          std::string_view json);
    /// Flushes compressed data to the file (a full flush: readable up to here after a crash).
    [[nodiscard]] core::result<bool, capture_error> flush();
    void close() noexcept;

    /// Path of the file for a timestamp: <directory>/<prefix>-YYYYMMDD-HH.gz (minutes appended
    /// as -HHMM when rotate_every_s is not a whole number of hours).
    [[nodiscard]] std::string path_for(core::timestamp_ns local_ns) const;
    [[nodiscard]] const std::string& current_path() const noexcept { return current_path_; }
    /// Files opened so far.
    [[nodiscard]] const std::vector<std::string>& files() const noexcept { return files_; }

private:
    capture_writer_config config_;
    void* file_ = nullptr; ///< gzFile
    std::int64_t period_ = -1;
    std::string current_path_;
    std::vector<std::string> files_;
    std::string line_;
};

} // namespace quoter::md
