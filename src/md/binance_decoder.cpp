// binance_decoder: one Binance market-data message (stream event or REST depth snapshot) in, one
// decoded_message out. Two decoders stand behind it, each in its own file:
//  - binance_canonical_decoder.cpp: a strict single-pass reader of the fixed compact layouts in
//    which depthUpdate, bookTicker and spot trades (nearly every message of a feed) arrive;
//  - binance_json_decoder.cpp: simdjson On-Demand, for every message the reader does not accept
//    in full; it alone decides errors, so both give identical results.
// This file holds what is neither: the dispatch between them, the statistics, and the
// rate-limited reports of malformed messages.
#include "quoter/md/binance_decoder.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace quoter::md {

std::string_view to_string(message_kind kind) noexcept {
    switch (kind) {
    case message_kind::none:
        return "none";
    case message_kind::depth_update:
        return "depth_update";
    case message_kind::book_ticker:
        return "book_ticker";
    case message_kind::trade:
        return "trade";
    case message_kind::agg_trade:
        return "agg_trade";
    case message_kind::depth_snapshot:
        return "depth_snapshot";
    case message_kind::server_shutdown:
        return "server_shutdown";
    case message_kind::ignored:
        return "ignored";
    case message_kind::unknown_symbol:
        return "unknown_symbol";
    case message_kind::malformed:
        return "malformed";
    }
    return "unknown";
}

std::string_view describe(decode_error error) noexcept {
    switch (error) {
    case decode_error::none:
        return "no error";
    case decode_error::too_large:
        return "message larger than the configured maximum";
    case decode_error::json:
        return "invalid or truncated JSON";
    case decode_error::wrong_type:
        return "field of the wrong JSON type";
    case decode_error::missing_field:
        return "required field missing";
    case decode_error::bad_number:
        return "integer out of range";
    case decode_error::bad_price:
        return "price not a decimal on the tick grid";
    case decode_error::bad_qty:
        return "quantity not a decimal on the lot grid";
    case decode_error::too_many_levels:
        return "more levels than configured";
    case decode_error::no_symbol:
        return "symbol unknown when prices must be read";
    case decode_error::rest_error:
        return "REST error response";
    case decode_error::wrong_stream:
        return "body not what its market-data stream carries";
    }
    return "unknown error";
}

void receive_buffer::assign(std::string_view text) noexcept {
    const std::size_t size = std::min(text.size(), writable().size());
    std::memcpy(storage_.data(), text.data(), size);
    commit(size);
}

const decoded_message& binance_decoder::decode_copy(std::string_view message,
                                                    core::timestamp_ns local_ns,
                                                    symbol_id default_symbol) noexcept {
    const std::size_t size = std::min(message.size(), config_.max_message_bytes + 1);
    if (size <= config_.max_message_bytes) {
        std::memcpy(copy_buffer_.data(), message.data(), size);
        std::memset(copy_buffer_.data() + size, 0, message_padding);
        return decode({copy_buffer_.data(), size, copy_buffer_.size()}, local_ns, default_symbol);
    }
    // Too large to copy: decode() rejects it on size alone, without reading past the view.
    return decode({message.data(), message.size(), message.size() + message_padding}, local_ns,
                  default_symbol);
}

const decoded_message& binance_decoder::decode(padded_view message, core::timestamp_ns local_ns,
                                               symbol_id default_symbol) noexcept {
    message_ = decoded_message{};
    message_.local_ns = local_ns;
    ++stats_.messages;

    const auto fail = [&](decode_error error) -> const decoded_message& {
        message_.kind = message_kind::malformed;
        message_.error = error;
        finish(local_ns, message);
        return message_;
    };

    if (message.size > config_.max_message_bytes) {
        return fail(decode_error::too_large);
    }
    if (message.capacity < message.size + message_padding) {
        return fail(decode_error::json);
    }

    if (config_.canonical_fast_path) {
        if (decode_canonical(message)) {
            ++stats_.canonical;
            finish(local_ns, message);
            return message_;
        }
        message_ = decoded_message{};
        message_.local_ns = local_ns;
    }

    return decode_json(message, local_ns, default_symbol);
}

void binance_decoder::finish(core::timestamp_ns local_ns, padded_view message) noexcept {
    ++stats_.by_kind[static_cast<std::size_t>(message_.kind)];
    if (message_.kind != message_kind::malformed) {
        return;
    }
    ++stats_.by_error[static_cast<std::size_t>(message_.error)];
    if (!report_limiter_.allow(local_ns)) {
        return; // the limiter counts it; added to unreported_ when it next admits one
    }
    unreported_ += report_limiter_.take_suppressed();
    if (report_count_ == reports_.size()) {
        ++unreported_; // nobody took the queued reports yet: the next one counts this
        return;
    }
    malformed_report& report = reports_[(report_head_ + report_count_) % reports_.size()];
    ++report_count_;
    report.error = message_.error;
    report.local_ns = local_ns;
    report.suppressed = unreported_;
    unreported_ = 0;
    report.message_bytes = static_cast<std::uint32_t>(
        std::min<std::size_t>(message.size, std::numeric_limits<std::uint32_t>::max()));
    const std::size_t excerpt = std::min(message.size, malformed_report::excerpt_capacity);
    if (excerpt > 0) {
        std::memcpy(report.excerpt.data(), message.data, excerpt);
    }
    report.excerpt_size = static_cast<std::uint8_t>(excerpt);
}

bool binance_decoder::take_report(malformed_report& out) noexcept {
    if (report_count_ == 0) {
        return false;
    }
    out = reports_[report_head_];
    report_head_ = (report_head_ + 1) % reports_.size();
    --report_count_;
    return true;
}

} // namespace quoter::md
