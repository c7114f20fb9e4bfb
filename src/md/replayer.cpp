#include "quoter/md/replayer.hpp"

#include <cinttypes>
#include <cstdio>

namespace quoter::md {

void capture_replayer::event_queue::on_event(const md_event& event) noexcept {
    if (size_ == capacity) {
        ++overflowed_;
        return;
    }
    events_[(head_ + size_) % capacity] = event;
    ++size_;
}

bool capture_replayer::event_queue::pop(md_event& out) noexcept {
    if (size_ == 0) {
        return false;
    }
    out = events_[head_];
    head_ = (head_ + 1) % capacity;
    --size_;
    return true;
}

capture_replayer::capture_replayer(const symbol_registry& registry, std::vector<std::string> files,
                                   feed_config config)
    : registry_(registry), files_(std::move(files)), feed_(registry, queue_, config),
      reader_(std::size_t{1} << 18U, inflate_mode::ahead) {}

void capture_replayer::fail_at_line(capture_error error) noexcept {
    error_ = error;
    failed_file_ = files_[next_file_ - 1];
    failed_line_ = reader_.lines() - file_start_lines_;
    reader_.close();
    finished_ = true;
}

bool capture_replayer::feed_next_line() {
    for (;;) {
        if (finished_) {
            return false;
        }
        if (!reader_.is_open()) {
            if (next_file_ == files_.size()) {
                finished_ = true;
                if (stats().market_data == 0) {
                    error_ = capture_error::no_market_data;
                }
                return false;
            }
            const std::string& path = files_[next_file_++];
            if (const auto opened = reader_.open(path); !opened) {
                error_ = opened.error();
                failed_file_ = path;
                finished_ = true;
                return false;
            }
            file_start_lines_ = reader_.lines();
        }
        capture_line line;
        const std::uint64_t bad_before = reader_.bad_lines();
        if (!reader_.next(line)) {
            bad_lines_ += reader_.bad_lines() - bad_before;
            const capture_error failure = reader_.error();
            reader_.close();
            if (failure != capture_error::none) {
                error_ = failure;
                failed_file_ = files_[next_file_ - 1];
                finished_ = true;
                return false;
            }
            continue;
        }
        bad_lines_ += reader_.bad_lines() - bad_before;
        if (have_time_ && line.local_ns < last_line_ns_) {
            failed_line_ns_ = line.local_ns;
            fail_at_line(capture_error::time_backwards);
            return false;
        }
        have_time_ = true;
        last_line_ns_ = line.local_ns;
        ++lines_;
        if (!connected_) {
            feed_.on_connected(line.local_ns);
            connected_ = true;
        }
        const symbol_id fallback =
            last_depth_symbol_ != invalid_symbol ? last_depth_symbol_
            : registry_.size() == 1              ? symbol_id{0}
                                                 : invalid_symbol;
        const decoded_message& decoded = feed_.on_message(line.padded(), line.local_ns, fallback);
        if (decoded.kind == message_kind::depth_update) {
            last_depth_symbol_ = decoded.symbol;
        }
        return true;
    }
}

replay_stats capture_replayer::stats() const noexcept {
    const decode_stats& decoded = feed_.decoder().stats();
    replay_stats out;
    out.lines = lines_;
    out.bad_lines = bad_lines_;
    out.market_data = decoded.count(message_kind::depth_update) +
                      decoded.count(message_kind::book_ticker) +
                      decoded.count(message_kind::trade) + decoded.count(message_kind::agg_trade);
    out.snapshots = decoded.count(message_kind::depth_snapshot);
    out.malformed = decoded.malformed();
    out.unrecognised = decoded.count(message_kind::ignored);
    out.unknown_symbol = decoded.count(message_kind::unknown_symbol);
    out.malformed_by_error = decoded.by_error;
    return out;
}

std::string capture_replayer::error_message() const {
    char text[512];
    switch (error_) {
    case capture_error::none:
        return {};
    case capture_error::no_market_data: {
        const replay_stats s = stats();
        std::snprintf(text, sizeof(text),
                      "no market data for the registered symbols in %" PRIu64 " lines (%" PRIu64
                      " not \"<ns> <json>\", %" PRIu64 " malformed, %" PRIu64
                      " unrecognised, %" PRIu64 " for other symbols)",
                      s.lines, s.bad_lines, s.malformed, s.unrecognised, s.unknown_symbol);
        return text;
    }
    case capture_error::time_backwards:
        std::snprintf(text, sizeof(text),
                      "%s line %" PRIu64 ": time runs backwards by %.3f s (%" PRId64
                      " ns after %" PRId64 " ns); give the files in time order",
                      failed_file_.c_str(), failed_line_,
                      static_cast<double>(last_line_ns_ - failed_line_ns_) * 1e-9, failed_line_ns_,
                      last_line_ns_);
        return text;
    default:
        return failed_file_ + ": " + std::string(describe(error_));
    }
}

bool capture_replayer::next(md_event& out) {
    while (!queue_.pop(out)) {
        if (!feed_next_line()) {
            return false;
        }
    }
    return true;
}

} // namespace quoter::md
