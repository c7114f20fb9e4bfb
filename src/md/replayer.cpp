#include "quoter/md/replayer.hpp"

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

bool capture_replayer::feed_next_line() {
    for (;;) {
        if (!reader_.is_open()) {
            if (next_file_ == files_.size()) {
                return false;
            }
            const std::string& path = files_[next_file_++];
            if (!reader_.open(path)) {
                error_ = capture_error::open_failed;
                failed_file_ = path;
                return false;
            }
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
                return false;
            }
            continue;
        }
        bad_lines_ += reader_.bad_lines() - bad_before;
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

bool capture_replayer::next(md_event& out) {
    while (!queue_.pop(out)) {
        if (!feed_next_line()) {
            return false;
        }
    }
    return true;
}

} // namespace quoter::md
