#include "quoter/md/capture.hpp"

#include "quoter/core/decimal.hpp"
#include "quoter/core/spsc_ring.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <thread>

namespace quoter::md {
namespace {

gzFile as_gz(void* file) noexcept {
    return static_cast<gzFile>(file);
}

} // namespace

std::string_view describe(capture_error error) noexcept {
    switch (error) {
    case capture_error::none:
        return "no error";
    case capture_error::open_failed:
        return "cannot open the file";
    case capture_error::read_failed:
        return "corrupt or truncated gzip data";
    case capture_error::write_failed:
        return "write failed";
    case capture_error::not_open:
        return "no file open";
    case capture_error::not_found:
        return "no such file";
    case capture_error::is_directory:
        return "a directory, not a capture file";
    case capture_error::no_market_data:
        return "no line holds market data";
    case capture_error::time_backwards:
        return "timestamps run backwards";
    }
    return "unknown error";
}

capture_error check_capture_file(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
        return capture_error::not_found;
    }
    if (status.type() == std::filesystem::file_type::directory) {
        return capture_error::is_directory;
    }
    if (ec) {
        return capture_error::open_failed;
    }
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        return capture_error::open_failed;
    }
    std::fclose(file);
    return capture_error::none;
}

bool split_capture_line(std::string_view line, capture_line& out) noexcept {
    // Timestamps are 19 plain digits: read them in the same scan that finds the space; anything
    // else (a sign, leading zeros past 19 digits, a value beyond int64) goes to from_chars.
    constexpr std::size_t max_fast_digits = 19; // 10^19 - 1 fits a uint64
    std::uint64_t value = 0;
    std::size_t space = 0;
    if (line.size() > max_fast_digits && line[max_fast_digits] == ' ') {
        // Every line a recorder writes: 19 digits and the space, read as three overlapping words
        // (characters 0-7, 8-15 and 11-18) instead of one character at a time.
        using core::detail::eight_digits;
        using core::detail::load8;
        using core::detail::non_digit_bytes;
        const std::uint64_t first = load8(line.data());
        const std::uint64_t second = load8(line.data() + 8);
        const std::uint64_t third = load8(line.data() + 11);
        if ((non_digit_bytes(first) | non_digit_bytes(second) | non_digit_bytes(third)) == 0) {
            // third's low five bytes are second's last five: masked to zeros (leading zeros).
            value = eight_digits(first) * 100'000'000'000U + eight_digits(second) * 1'000U +
                    eight_digits(third & ~std::uint64_t{0xFF'FFFF'FFFF});
            space = max_fast_digits;
        }
    }
    while (space < line.size() && space < max_fast_digits) {
        const unsigned digit = static_cast<unsigned char>(line[space]) - unsigned{'0'};
        if (digit > 9) {
            break;
        }
        value = value * 10 + digit;
        ++space;
    }
    std::int64_t ns = static_cast<std::int64_t>(value);
    if (space == 0 || space == line.size() || line[space] != ' ' ||
        value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        space = line.find(' ');
        if (space == std::string_view::npos || space == 0) {
            return false;
        }
        const auto [end, ec] = std::from_chars(line.data(), line.data() + space, ns);
        if (ec != std::errc{} || end != line.data() + space) {
            return false;
        }
    }
    out.local_ns = ns;
    out.json = line.substr(space + 1);
    if (!out.json.empty() && out.json.back() == '\r') {
        out.json.remove_suffix(1);
    }
    return true;
}

// -- reader --------------------------------------------------------------------------------

/// Inflates a gzFile on its own thread into a few chunk-sized blocks, handed over through two
/// SPSC rings (blocks filled, blocks free again). The file belongs to the thread from
/// construction to destruction.
class gzip_line_reader::inflater {
public:
    static constexpr std::size_t block_count = 4;

    inflater(gzFile file, std::size_t chunk) : file_(file) {
        for (std::uint32_t i = 0; i < block_count; ++i) {
            blocks_[i].bytes.resize(chunk);
            (void)free_.try_push(i);
        }
        thread_ = std::thread([this] { run(); });
    }
    ~inflater() {
        stop_.store(true, std::memory_order_release);
        thread_.join();
    }
    inflater(const inflater&) = delete;
    inflater& operator=(const inflater&) = delete;

    /// The next inflated block copied to out (at most one block, which is at most a chunk):
    /// bytes copied, 0 at the end, < 0 on a zlib error; the last two repeat once reached.
    int read(char* out) {
        if (finished_) {
            return result_;
        }
        std::uint32_t index = 0;
        while (!filled_.try_pop(index)) {
            std::this_thread::yield(); // the inflater is a chunk behind: rare once started
        }
        const int size = blocks_[index].size;
        if (size <= 0) {
            finished_ = true;
            result_ = size;
            return size;
        }
        std::memcpy(out, blocks_[index].bytes.data(), static_cast<std::size_t>(size));
        (void)free_.try_push(index); // never full: it holds at most block_count indices
        return size;
    }

private:
    struct block {
        std::vector<char> bytes;
        int size = 0; ///< > 0: inflated bytes; 0: end of file; < 0: zlib error.
    };

    void run() noexcept {
        for (;;) {
            std::uint32_t index = 0;
            while (!free_.try_pop(index)) {
                if (stop_.load(std::memory_order_acquire)) {
                    return;
                }
                std::this_thread::sleep_for(std::chrono::microseconds(50));
            }
            block& b = blocks_[index];
            b.size = gzread(file_, b.bytes.data(), static_cast<unsigned>(b.bytes.size()));
            if (b.size == 0) {
                int code = Z_OK;
                gzerror(file_, &code);
                b.size = code != Z_OK && code != Z_STREAM_END ? -1 : 0;
            }
            const bool last = b.size <= 0;
            (void)filled_.try_push(index); // never full: at most block_count indices
            if (last) {
                return;
            }
        }
    }

    gzFile file_;
    std::array<block, block_count> blocks_;
    core::spsc_ring<std::uint32_t, 8> filled_;
    core::spsc_ring<std::uint32_t, 8> free_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    // Reader side.
    bool finished_ = false;
    int result_ = 0;
};

gzip_line_reader::gzip_line_reader(std::size_t read_chunk_bytes, inflate_mode mode)
    : mode_(mode), buffer_(std::max<std::size_t>(read_chunk_bytes, 4096) * 2 + message_padding),
      chunk_(std::max<std::size_t>(read_chunk_bytes, 4096)) {}

gzip_line_reader::~gzip_line_reader() {
    close();
}

core::result<bool, capture_error> gzip_line_reader::open(const std::string& path) {
    close();
    if (const capture_error problem = check_capture_file(path); problem != capture_error::none) {
        return core::unexpected{problem};
    }
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) {
        return core::unexpected{capture_error::open_failed};
    }
    // zlib inflates straight into our buffer when a read asks for at least twice its own
    // buffer size, which read_chunk_bytes (256 KiB by default) does: no intermediate copy.
    gzbuffer(file, static_cast<unsigned>(std::min<std::size_t>(chunk_ / 2, 1U << 20U)));
    file_ = file;
    begin_ = end_ = 0;
    eof_ = false;
    error_ = capture_error::none;
    if (mode_ == inflate_mode::ahead) {
        ahead_ = std::make_unique<inflater>(file, chunk_);
    }
    return true;
}

void gzip_line_reader::close() noexcept {
    ahead_.reset(); // joins the inflater before the file goes
    if (file_ != nullptr) {
        gzclose(as_gz(file_));
        file_ = nullptr;
    }
}

int gzip_line_reader::read_chunk(char* out) {
    if (ahead_) {
        return ahead_->read(out);
    }
    const int read = gzread(as_gz(file_), out, static_cast<unsigned>(chunk_));
    if (read == 0) {
        int code = Z_OK;
        gzerror(as_gz(file_), &code);
        if (code != Z_OK && code != Z_STREAM_END) {
            return -1;
        }
    }
    return read;
}

bool gzip_line_reader::refill() {
    if (eof_ || file_ == nullptr) {
        return false;
    }
    // Keep the partial line, move it to the front, and make room for a chunk after it.
    const std::size_t pending = end_ - begin_;
    if (begin_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, pending);
        begin_ = 0;
        end_ = pending;
    }
    if (buffer_.size() < end_ + chunk_ + message_padding) {
        buffer_.resize((end_ + chunk_) * 2 + message_padding); // a line longer than any before
    }
    const int read = read_chunk(buffer_.data() + end_);
    if (read <= 0) {
        if (read < 0) {
            error_ = capture_error::read_failed;
        }
        eof_ = true;
        return false;
    }
    end_ += static_cast<std::size_t>(read);
    return true;
}

bool gzip_line_reader::next_line(std::string_view& line) {
    std::size_t scanned = begin_;
    for (;;) {
        const char* start = buffer_.data() + scanned;
        const void* newline = std::memchr(start, '\n', end_ - scanned);
        if (newline != nullptr) {
            const auto at =
                static_cast<std::size_t>(static_cast<const char*>(newline) - buffer_.data());
            line = {buffer_.data() + begin_, at - begin_};
            begin_ = at + 1;
            ++lines_;
            return true;
        }
        const std::size_t offset = end_ - begin_;
        if (!refill()) {
            if (error_ == capture_error::none && end_ > begin_) {
                line = {buffer_.data() + begin_, end_ - begin_};
                std::memset(buffer_.data() + end_, 0, message_padding);
                begin_ = end_;
                ++lines_;
                return true;
            }
            return false;
        }
        scanned = begin_ + offset;
    }
}

bool gzip_line_reader::next(capture_line& out) {
    std::string_view line;
    while (next_line(line)) {
        if (line.empty()) {
            continue;
        }
        if (split_capture_line(line, out)) {
            // The buffer always keeps message_padding spare bytes past its data.
            out.capacity =
                static_cast<std::size_t>(buffer_.data() + buffer_.size() - out.json.data());
            return true;
        }
        ++bad_lines_;
    }
    return false;
}

// -- writer --------------------------------------------------------------------------------

gzip_line_writer::gzip_line_writer(capture_writer_config config) : config_(std::move(config)) {
    config_.rotate_every_s = std::max<std::int64_t>(config_.rotate_every_s, 1);
    config_.compression_level = std::clamp(config_.compression_level, 1, 9);
}

gzip_line_writer::~gzip_line_writer() {
    close();
}

std::string gzip_line_writer::path_for(core::timestamp_ns local_ns) const {
    const std::int64_t period_ns = config_.rotate_every_s * core::ns_per_s;
    std::int64_t period = local_ns / period_ns;
    if (local_ns < 0 && local_ns % period_ns != 0) {
        --period;
    }
    const std::int64_t start_s = period * config_.rotate_every_s;
    const auto day = std::chrono::floor<std::chrono::days>(
        std::chrono::sys_seconds{std::chrono::seconds{start_s}});
    const std::chrono::year_month_day date{day};
    const std::int64_t second_of_day = start_s - day.time_since_epoch().count() * 86400;
    const auto hour = static_cast<int>(second_of_day / 3600);
    const auto minute = static_cast<int>(second_of_day % 3600 / 60);
    char name[64];
    if (config_.rotate_every_s % 3600 == 0) {
        std::snprintf(name, sizeof name, "-%04d%02u%02u-%02d.gz", static_cast<int>(date.year()),
                      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), hour);
    } else {
        std::snprintf(name, sizeof name, "-%04d%02u%02u-%02d%02d.gz", static_cast<int>(date.year()),
                      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), hour,
                      minute);
    }
    return config_.directory + "/" + config_.prefix + name;
}

core::result<bool, capture_error> gzip_line_writer::write(core::timestamp_ns local_ns,
                                                          std::string_view json) {
    const std::int64_t period_ns = config_.rotate_every_s * core::ns_per_s;
    std::int64_t period = local_ns / period_ns;
    if (local_ns < 0 && local_ns % period_ns != 0) {
        --period;
    }
    if (file_ == nullptr || period != period_) {
        close();
        current_path_ = path_for(local_ns);
        const std::string mode = "ab" + std::to_string(config_.compression_level);
        gzFile file = gzopen(current_path_.c_str(), mode.c_str());
        if (file == nullptr) {
            return core::unexpected{capture_error::open_failed};
        }
        gzbuffer(file, 1U << 17U);
        file_ = file;
        period_ = period;
        files_.push_back(current_path_);
    }
    line_.clear();
    line_ += std::to_string(local_ns);
    line_ += ' ';
    line_ += json;
    line_ += '\n';
    const int written = gzwrite(as_gz(file_), line_.data(), static_cast<unsigned>(line_.size()));
    if (written != static_cast<int>(line_.size())) {
        return core::unexpected{capture_error::write_failed};
    }
    return true;
}

core::result<bool, capture_error> gzip_line_writer::flush() {
    if (file_ == nullptr) {
        return core::unexpected{capture_error::not_open};
    }
    if (gzflush(as_gz(file_), Z_FULL_FLUSH) != Z_OK) {
        return core::unexpected{capture_error::write_failed};
    }
    return true;
}

void gzip_line_writer::close() noexcept {
    if (file_ != nullptr) {
        gzclose(as_gz(file_));
        file_ = nullptr;
        period_ = -1;
    }
}

} // namespace quoter::md
