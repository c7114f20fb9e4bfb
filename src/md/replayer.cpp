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

void capture_replayer::event_queue::on_event_depth(const md_event& event,
                                                   const md_depth& depth) noexcept {
    if (size_ == capacity) {
        ++overflowed_;
        return;
    }
    const std::size_t slot = (head_ + size_) % capacity;
    events_[slot] = event;
    depths_[slot] = depth;
    ++size_;
}

bool capture_replayer::event_queue::pop(md_event& out) noexcept {
    if (size_ == 0) {
        return false;
    }
    out = events_[head_];
    last_depth_ = out.has_depth() ? &depths_[head_] : nullptr;
    head_ = (head_ + 1) % capacity;
    --size_;
    return true;
}

const md_event* capture_replayer::event_queue::pop() noexcept {
    if (size_ == 0) {
        return nullptr;
    }
    const md_event* event = &events_[head_];
    last_depth_ = event->has_depth() ? &depths_[head_] : nullptr;
    head_ = (head_ + 1) % capacity;
    --size_;
    return event;
}

capture_replayer::capture_replayer(const symbol_registry& registry, std::vector<std::string> files,
                                   feed_config config)
    : registry_(registry), files_(std::move(files)), feed_(registry, queue_, config) {}

void capture_replayer::fail_at_line(std::size_t i, capture_error error) noexcept {
    error_ = error;
    failed_file_ = sources_[i].path;
    failed_line_ = sources_[i].reader->lines();
    for (source& s : sources_) {
        s.reader->close();
        s.has_line = false;
    }
    finished_ = true;
}

bool capture_replayer::open_sources() {
    opened_ = true;
    // A helper thread per file inflates ahead; past a few files, inflate on this thread.
    constexpr std::size_t max_ahead = 4;
    const inflate_mode mode =
        files_.size() <= max_ahead ? inflate_mode::ahead : inflate_mode::inline_;
    sources_.reserve(files_.size());
    for (const std::string& path : files_) {
        source& s = sources_.emplace_back();
        s.path = path;
        s.reader = std::make_unique<gzip_line_reader>(std::size_t{1} << 18U, mode);
        if (const auto opened = s.reader->open(path); !opened) {
            error_ = opened.error();
            failed_file_ = path;
            finished_ = true;
            return false;
        }
    }
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        if (!advance(i)) {
            return false;
        }
    }
    return true;
}

bool capture_replayer::advance(std::size_t i) {
    source& s = sources_[i];
    const bool had_line = s.has_line;
    const core::timestamp_ns before = s.line.local_ns;
    s.has_line = s.reader->next(s.line);
    bad_lines_ += s.reader->bad_lines() - s.bad_lines;
    s.bad_lines = s.reader->bad_lines();
    if (!s.has_line) {
        const capture_error failure = s.reader->error();
        s.reader->close();
        if (failure != capture_error::none) {
            error_ = failure;
            failed_file_ = s.path;
            finished_ = true;
            return false;
        }
        return true;
    }
    if (had_line && s.line.local_ns < before) {
        last_line_ns_ = before;
        failed_line_ns_ = s.line.local_ns;
        fail_at_line(i, capture_error::time_backwards);
        return false;
    }
    return true;
}

bool capture_replayer::feed_next_line() {
    if (finished_ || (!opened_ && !open_sources())) {
        return false;
    }
    // The earliest next line of every file; the first file given wins a tie.
    std::size_t next = sources_.size();
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        if (sources_[i].has_line &&
            (next == sources_.size() || sources_[i].line.local_ns < sources_[next].line.local_ns)) {
            next = i;
        }
    }
    if (next == sources_.size()) {
        finished_ = true;
        if (stats().market_data == 0) {
            error_ = capture_error::no_market_data;
        }
        return false;
    }
    source& s = sources_[next];
    ++lines_;
    if (!connected_) {
        feed_.on_connected(s.line.local_ns);
        connected_ = true;
    }
    const symbol_id fallback = s.last_depth_symbol != invalid_symbol ? s.last_depth_symbol
                               : registry_.size() == 1               ? symbol_id{0}
                                                                     : invalid_symbol;
    const decoded_message& decoded = feed_.on_message(s.line.padded(), s.line.local_ns, fallback);
    if (decoded.kind == message_kind::depth_update) {
        s.last_depth_symbol = decoded.symbol;
    }
    // The line is fed: its view may go now. A failure here stops the replay after this line.
    (void)advance(next);
    return true;
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

const md_event* capture_replayer::next() {
    for (;;) {
        if (const md_event* event = queue_.pop()) {
            return event;
        }
        if (!feed_next_line()) {
            return nullptr;
        }
    }
}

} // namespace quoter::md
