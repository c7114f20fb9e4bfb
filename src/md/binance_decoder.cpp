// One pass of simdjson On-Demand over each message. Fields are dispatched on their raw key bytes
// and in any order; scalar texts (prices of a bookTicker or trade) are kept as views into the
// input and converted once the whole object has been seen, while level arrays are converted as
// they stream past, which needs the symbol's spec at that point. Binance sends "s" before the
// levels, and a combined stream names the symbol first; only a message whose symbol is learned
// after its levels is walked a second time (document rewind).
#include "quoter/md/binance_decoder.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

namespace quoter::md {

static_assert(simdjson::SIMDJSON_PADDING <= message_padding, "receive buffers must satisfy simdjson");

namespace ondemand = simdjson::ondemand;

namespace {

constexpr std::uint64_t max_ms = static_cast<std::uint64_t>(
    std::numeric_limits<std::int64_t>::max() / core::ns_per_ms);

/// Raw key equality: raw points just past the opening quote, inside a padded buffer, so reading
/// N bytes is always safe.
template <std::size_t N> bool key_is(const char* raw, const char (&literal)[N]) noexcept {
    return std::memcmp(raw, literal, N - 1) == 0 && raw[N - 1] == '"';
}

/// Text of a JSON string without its quotes and without unescaping (numbers as text never
/// contain escapes; a backslash makes the later decimal parse fail, as it should).
std::string_view raw_text(ondemand::raw_json_string raw) noexcept {
    const char* begin = raw.raw();
    const char* end = begin;
    while (*end != '"') {
        ++end;
    }
    return {begin, static_cast<std::size_t>(end - begin)};
}

decode_error value_error(simdjson::error_code code) noexcept {
    switch (code) {
    case simdjson::INCORRECT_TYPE: return decode_error::wrong_type;
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE: return decode_error::bad_number;
    default: return decode_error::json;
    }
}

enum field_bit : std::uint32_t {
    has_event = 1U << 0,
    has_event_time = 1U << 1,
    has_transaction_time = 1U << 2,
    has_symbol = 1U << 3,
    has_first_id = 1U << 4,
    has_final_id = 1U << 5,
    has_prev_id = 1U << 6,
    has_bid_levels = 1U << 7,
    has_ask_levels = 1U << 8,
    has_bid_price = 1U << 9,
    has_bid_qty = 1U << 10,
    has_ask_price = 1U << 11,
    has_ask_qty = 1U << 12,
    has_price = 1U << 13,
    has_qty = 1U << 14,
    has_maker = 1U << 15,
    has_trade_id = 1U << 16,
    has_agg_id = 1U << 17,
    has_first_trade = 1U << 18,
    has_last_trade = 1U << 19,
    has_last_update_id = 1U << 20,
    has_code = 1U << 21,
    has_reply = 1U << 22,
};

/// Everything one walk over a message collects.
struct message_fields {
    std::uint32_t seen = 0;
    std::string_view event_type;
    std::uint64_t event_time_ms = 0;
    std::uint64_t transaction_time_ms = 0;
    std::uint64_t first_id = 0;
    std::uint64_t final_id = 0;
    std::uint64_t prev_id = 0;
    std::uint64_t last_update_id = 0;
    std::uint64_t trade_id = 0;
    std::uint64_t agg_id = 0;
    std::uint64_t first_trade = 0;
    std::uint64_t last_trade = 0;
    std::string_view bid_price, bid_qty, ask_price, ask_qty, price_text, qty_text;
    bool buyer_is_maker = false;
    std::size_t bid_count = 0;
    std::size_t ask_count = 0;
};

} // namespace

struct binance_decoder::impl {
    ondemand::parser parser;
    std::vector<book_level> bids;
    std::vector<book_level> asks;
};

namespace {

/// One decode: walks the document, fills fields and the level arrays.
class message_walker {
public:
    message_walker(const symbol_registry& registry, std::vector<book_level>& bids,
                   std::vector<book_level>& asks, std::size_t max_levels) noexcept
        : registry_(registry), bids_(bids), asks_(asks), max_levels_(max_levels) {}

    /// locked: the symbol is final (second pass); stream names no longer override it.
    void start_pass(symbol_id symbol, bool locked) noexcept {
        fields_ = {};
        symbol_ = symbol;
        spec_symbol_ = invalid_symbol;
        symbol_from_s_ = locked;
        deferred_ = false;
        unknown_symbol_ = false;
    }

    decode_error walk(ondemand::object object, int depth) noexcept {
        for (auto field_result : object) {
            ondemand::field field;
            if (std::move(field_result).get(field) != simdjson::SUCCESS) {
                return decode_error::json;
            }
            const char* key = field.key().raw();
            ondemand::value value = field.value();
            const decode_error error = on_field(key, value, depth);
            if (error != decode_error::none) {
                return error;
            }
        }
        return decode_error::none;
    }

    [[nodiscard]] const message_fields& fields() const noexcept { return fields_; }
    [[nodiscard]] symbol_id symbol() const noexcept { return symbol_; }
    [[nodiscard]] bool deferred() const noexcept { return deferred_; }
    [[nodiscard]] bool unknown_symbol() const noexcept { return unknown_symbol_; }

private:
    decode_error on_field(const char* key, ondemand::value& value, int depth) noexcept {
        // Single-letter keys first: they are almost every field of a stream message.
        if (key[1] == '"') {
            switch (key[0]) {
            case 'e': return read_text(value, fields_.event_type, has_event);
            case 'E': return read_uint(value, fields_.event_time_ms, has_event_time);
            case 'T': return read_uint(value, fields_.transaction_time_ms, has_transaction_time);
            case 's': return on_symbol(value);
            case 'U': return read_uint(value, fields_.first_id, has_first_id);
            case 'u': return read_uint(value, fields_.final_id, has_final_id);
            case 'b': return on_side_field(value, core::side::buy);
            case 'a': return on_side_field(value, core::side::sell);
            case 'B': return read_text(value, fields_.bid_qty, has_bid_qty);
            case 'A': return read_text(value, fields_.ask_qty, has_ask_qty);
            case 'p': return read_text(value, fields_.price_text, has_price);
            case 'q': return read_text(value, fields_.qty_text, has_qty);
            case 'm': return read_bool(value, fields_.buyer_is_maker, has_maker);
            case 't': return read_uint(value, fields_.trade_id, has_trade_id);
            case 'f': return read_uint(value, fields_.first_trade, has_first_trade);
            case 'l': return read_uint(value, fields_.last_trade, has_last_trade);
            default: return decode_error::none;
            }
        }
        if (key_is(key, "pu")) {
            return read_uint(value, fields_.prev_id, has_prev_id);
        }
        if (depth == 0) {
            if (key_is(key, "stream")) {
                return on_stream(value);
            }
            if (key_is(key, "data") || key_is(key, "event")) {
                ondemand::object inner;
                if (const auto code = value.get_object().get(inner); code != simdjson::SUCCESS) {
                    return value_error(code);
                }
                return walk(inner, depth + 1);
            }
            if (key_is(key, "result") || key_is(key, "id")) {
                fields_.seen |= has_reply;
                return decode_error::none;
            }
            if (key_is(key, "code")) {
                fields_.seen |= has_code;
                return decode_error::none;
            }
        }
        if (key_is(key, "lastUpdateId")) {
            return read_uint(value, fields_.last_update_id, has_last_update_id);
        }
        if (key_is(key, "bids")) {
            return on_levels(value, core::side::buy);
        }
        if (key_is(key, "asks")) {
            return on_levels(value, core::side::sell);
        }
        return decode_error::none;
    }

    decode_error read_uint(ondemand::value& value, std::uint64_t& out, field_bit bit) noexcept {
        if (const auto code = value.get_uint64().get(out); code != simdjson::SUCCESS) {
            if (code == simdjson::INCORRECT_TYPE) {
                // A number that does not fit (negative, fractional, too big) is a bad number,
                // not a wrong type.
                const std::string_view token = value.raw_json_token();
                if (!token.empty() && (token[0] == '-' || (token[0] >= '0' && token[0] <= '9'))) {
                    return decode_error::bad_number;
                }
            }
            return value_error(code);
        }
        fields_.seen |= bit;
        return decode_error::none;
    }

    decode_error read_bool(ondemand::value& value, bool& out, field_bit bit) noexcept {
        if (const auto code = value.get_bool().get(out); code != simdjson::SUCCESS) {
            return value_error(code);
        }
        fields_.seen |= bit;
        return decode_error::none;
    }

    decode_error read_text(ondemand::value& value, std::string_view& out, field_bit bit) noexcept {
        ondemand::raw_json_string raw;
        if (const auto code = value.get_raw_json_string().get(raw); code != simdjson::SUCCESS) {
            return value_error(code);
        }
        out = raw_text(raw);
        fields_.seen |= bit;
        return decode_error::none;
    }

    decode_error on_symbol(ondemand::value& value) noexcept {
        std::string_view name;
        if (const auto error = read_text(value, name, has_symbol); error != decode_error::none) {
            return error;
        }
        const symbol_id id = registry_.find(name);
        if (id == invalid_symbol) {
            unknown_symbol_ = true;
            symbol_ = invalid_symbol;
            return decode_error::none;
        }
        if (spec_symbol_ != invalid_symbol && spec_symbol_ != id) {
            deferred_ = true; // levels were read with another symbol's spec
        }
        symbol_ = id;
        symbol_from_s_ = true;
        return decode_error::none;
    }

    decode_error on_stream(ondemand::value& value) noexcept {
        std::string_view stream;
        if (const auto error = read_text(value, stream, field_bit{}); error != decode_error::none) {
            return error;
        }
        if (symbol_from_s_) {
            return decode_error::none;
        }
        const auto at = stream.find('@');
        const symbol_id id = registry_.find_lower(stream.substr(0, at));
        if (id != invalid_symbol) {
            symbol_ = id;
        }
        return decode_error::none;
    }

    decode_error on_side_field(ondemand::value& value, core::side s) noexcept {
        ondemand::json_type type;
        if (value.type().get(type) != simdjson::SUCCESS) {
            return decode_error::json;
        }
        switch (type) {
        case ondemand::json_type::array: return on_levels(value, s);
        case ondemand::json_type::string:
            return s == core::side::buy ? read_text(value, fields_.bid_price, has_bid_price)
                                        : read_text(value, fields_.ask_price, has_ask_price);
        case ondemand::json_type::number:
            // "a" is the aggregate trade id of an aggTrade; "b" an order id in old trade events.
            return s == core::side::sell ? read_uint(value, fields_.agg_id, has_agg_id)
                                         : decode_error::none;
        default: return decode_error::wrong_type;
        }
    }

    decode_error on_levels(ondemand::value& value, core::side s) noexcept {
        const bool bid = s == core::side::buy;
        fields_.seen |= bid ? has_bid_levels : has_ask_levels;
        if (symbol_ == invalid_symbol) {
            // Symbol not known yet: read the levels on a second pass, once it is.
            deferred_ = true;
            return decode_error::none;
        }
        ondemand::array levels;
        if (const auto code = value.get_array().get(levels); code != simdjson::SUCCESS) {
            return value_error(code);
        }
        spec_symbol_ = symbol_;
        const core::symbol_spec& spec = registry_.at(symbol_).book_spec;
        std::vector<book_level>& out = bid ? bids_ : asks_;
        std::size_t count = 0;
        for (auto element : levels) {
            ondemand::array pair;
            if (const auto code = element.get_array().get(pair); code != simdjson::SUCCESS) {
                return value_error(code);
            }
            std::string_view texts[2];
            std::size_t index = 0;
            for (auto item : pair) {
                ondemand::value text_value;
                if (std::move(item).get(text_value) != simdjson::SUCCESS) {
                    return decode_error::json;
                }
                if (index < 2) {
                    if (const auto error = read_text(text_value, texts[index], field_bit{});
                        error != decode_error::none) {
                        return error;
                    }
                }
                ++index;
            }
            if (index < 2) {
                return decode_error::missing_field;
            }
            if (count == max_levels_) {
                return decode_error::too_many_levels;
            }
            const auto px = spec.parse_price(texts[0]);
            if (!px) {
                return decode_error::bad_price;
            }
            const auto quantity = spec.parse_qty(texts[1]);
            if (!quantity) {
                return decode_error::bad_qty;
            }
            out[count++] = {*px, *quantity};
        }
        (bid ? fields_.bid_count : fields_.ask_count) = count;
        return decode_error::none;
    }

    const symbol_registry& registry_;
    std::vector<book_level>& bids_;
    std::vector<book_level>& asks_;
    std::size_t max_levels_;
    message_fields fields_;
    symbol_id symbol_ = invalid_symbol;
    symbol_id spec_symbol_ = invalid_symbol; ///< Symbol whose spec read the levels so far.
    bool symbol_from_s_ = false;
    bool deferred_ = false;
    bool unknown_symbol_ = false;
};

bool all_of(std::uint32_t seen, std::uint32_t required) noexcept {
    return (seen & required) == required;
}

core::timestamp_ns ms_to_ns(std::uint64_t ms) noexcept {
    return static_cast<core::timestamp_ns>(ms) * core::ns_per_ms;
}

} // namespace

std::string_view to_string(message_kind kind) noexcept {
    switch (kind) {
    case message_kind::none: return "none";
    case message_kind::depth_update: return "depth_update";
    case message_kind::book_ticker: return "book_ticker";
    case message_kind::trade: return "trade";
    case message_kind::agg_trade: return "agg_trade";
    case message_kind::depth_snapshot: return "depth_snapshot";
    case message_kind::server_shutdown: return "server_shutdown";
    case message_kind::ignored: return "ignored";
    case message_kind::unknown_symbol: return "unknown_symbol";
    case message_kind::malformed: return "malformed";
    }
    return "unknown";
}

std::string_view describe(decode_error error) noexcept {
    switch (error) {
    case decode_error::none: return "no error";
    case decode_error::too_large: return "message larger than the configured maximum";
    case decode_error::json: return "invalid or truncated JSON";
    case decode_error::wrong_type: return "field of the wrong JSON type";
    case decode_error::missing_field: return "required field missing";
    case decode_error::bad_number: return "integer out of range";
    case decode_error::bad_price: return "price not a decimal on the tick grid";
    case decode_error::bad_qty: return "quantity not a decimal on the lot grid";
    case decode_error::too_many_levels: return "more levels than configured";
    case decode_error::no_symbol: return "symbol unknown when prices must be read";
    case decode_error::rest_error: return "REST error response";
    }
    return "unknown error";
}

void receive_buffer::assign(std::string_view text) noexcept {
    const std::size_t size = std::min(text.size(), writable().size());
    std::memcpy(storage_.data(), text.data(), size);
    commit(size);
}

binance_decoder::binance_decoder(const symbol_registry& registry, decoder_config config)
    : registry_(registry), config_(config), impl_(std::make_unique<impl>()),
      report_limiter_(config.reports_burst, config.report_interval_ms * core::ns_per_ms),
      copy_buffer_(config.max_message_bytes + message_padding, '\0') {
    // Allocate the parser once for the largest message, so that no decode allocates.
    // On failure the parser allocates on first use instead; decoding still works.
    if (impl_->parser.allocate(config_.max_message_bytes) != simdjson::SUCCESS) {
        config_.max_message_bytes = std::min<std::size_t>(config_.max_message_bytes, 1U << 16U);
    }
    impl_->bids.resize(config_.max_levels_per_side);
    impl_->asks.resize(config_.max_levels_per_side);
}

binance_decoder::~binance_decoder() = default;

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
    if (message.capacity < message.size + simdjson::SIMDJSON_PADDING) {
        return fail(decode_error::json);
    }

    ondemand::document document;
    if (impl_->parser.iterate(message.data, message.size, message.capacity).get(document) !=
        simdjson::SUCCESS) {
        return fail(decode_error::json);
    }
    message_walker walker(registry_, impl_->bids, impl_->asks, config_.max_levels_per_side);
    const symbol_id fallback = registry_.contains(default_symbol) ? default_symbol : invalid_symbol;
    walker.start_pass(fallback, false);
    {
        ondemand::object root;
        if (document.get_object().get(root) != simdjson::SUCCESS) {
            return fail(decode_error::json);
        }
        if (const auto error = walker.walk(root, 0); error != decode_error::none) {
            return fail(error);
        }
    }
    if (walker.deferred() && walker.symbol() != invalid_symbol) {
        // The symbol was learned after the levels: read again knowing it.
        const symbol_id symbol = walker.symbol();
        document.rewind();
        walker.start_pass(symbol, true);
        ondemand::object root;
        if (document.get_object().get(root) != simdjson::SUCCESS) {
            return fail(decode_error::json);
        }
        if (const auto error = walker.walk(root, 0); error != decode_error::none) {
            return fail(error);
        }
    }

    const message_fields& f = walker.fields();
    const std::uint32_t seen = f.seen;
    const auto symbol = walker.symbol();
    message_.symbol = symbol;

    if ((seen & (has_event_time | has_transaction_time)) != 0 &&
        (f.event_time_ms > max_ms || f.transaction_time_ms > max_ms)) {
        return fail(decode_error::bad_number);
    }

    // What kind of message is it?
    message_kind kind = message_kind::ignored;
    if ((seen & has_event) != 0) {
        const std::string_view type = f.event_type;
        if (type == "depthUpdate") {
            kind = message_kind::depth_update;
        } else if (type == "bookTicker") {
            kind = message_kind::book_ticker;
        } else if (type == "trade") {
            kind = message_kind::trade;
        } else if (type == "aggTrade") {
            kind = message_kind::agg_trade;
        } else if (type == "serverShutdown") {
            kind = message_kind::server_shutdown;
        }
    } else if ((seen & has_last_update_id) != 0) {
        kind = message_kind::depth_snapshot;
    } else if ((seen & has_code) != 0) {
        return fail(decode_error::rest_error);
    } else if ((seen & has_final_id) != 0) {
        kind = message_kind::book_ticker; // spot bookTicker carries no "e"
    }

    if (kind == message_kind::ignored || kind == message_kind::server_shutdown) {
        message_.kind = kind;
        finish(local_ns, message);
        return message_;
    }
    if (walker.unknown_symbol()) {
        message_.kind = message_kind::unknown_symbol;
        finish(local_ns, message);
        return message_;
    }
    if (symbol == invalid_symbol) {
        return fail(decode_error::no_symbol);
    }
    const core::symbol_spec& spec = registry_.at(symbol).book_spec;

    switch (kind) {
    case message_kind::depth_update:
    case message_kind::depth_snapshot: {
        const bool snapshot = kind == message_kind::depth_snapshot;
        const std::uint32_t required =
            snapshot ? (has_last_update_id | has_bid_levels | has_ask_levels)
                     : (has_first_id | has_final_id | has_bid_levels | has_ask_levels);
        if (!all_of(seen, required)) {
            return fail(decode_error::missing_field);
        }
        decoded_depth& depth = message_.depth;
        depth.first_update_id = snapshot ? f.last_update_id : f.first_id;
        depth.final_update_id = snapshot ? f.last_update_id : f.final_id;
        if (!snapshot && depth.first_update_id > depth.final_update_id) {
            return fail(decode_error::bad_number);
        }
        depth.has_prev_final_update_id = (seen & has_prev_id) != 0;
        depth.prev_final_update_id = f.prev_id;
        depth.exchange_ns = ms_to_ns(f.event_time_ms);
        depth.transaction_ns = ms_to_ns(f.transaction_time_ms);
        depth.bids = {impl_->bids.data(), f.bid_count};
        depth.asks = {impl_->asks.data(), f.ask_count};
        break;
    }
    case message_kind::book_ticker: {
        if (!all_of(seen, has_final_id | has_bid_price | has_bid_qty | has_ask_price |
                              has_ask_qty)) {
            return fail(decode_error::missing_field);
        }
        decoded_book_ticker& ticker = message_.ticker;
        ticker.update_id = f.final_id;
        const auto bid_px = spec.parse_price(f.bid_price);
        const auto ask_px = spec.parse_price(f.ask_price);
        if (!bid_px || !ask_px) {
            return fail(decode_error::bad_price);
        }
        const auto bid_qty = spec.parse_qty(f.bid_qty);
        const auto ask_qty = spec.parse_qty(f.ask_qty);
        if (!bid_qty || !ask_qty) {
            return fail(decode_error::bad_qty);
        }
        ticker.bid = {*bid_px, *bid_qty};
        ticker.ask = {*ask_px, *ask_qty};
        ticker.exchange_ns = ms_to_ns(f.event_time_ms);
        ticker.transaction_ns = ms_to_ns(f.transaction_time_ms);
        break;
    }
    case message_kind::trade:
    case message_kind::agg_trade: {
        const bool aggregated = kind == message_kind::agg_trade;
        const std::uint32_t required =
            has_price | has_qty | has_maker | (aggregated ? has_agg_id : has_trade_id);
        if (!all_of(seen, required)) {
            return fail(decode_error::missing_field);
        }
        decoded_trade& trade = message_.trade;
        const std::uint64_t id = aggregated ? f.agg_id : f.trade_id;
        if (id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return fail(decode_error::bad_number);
        }
        trade.trade_id = static_cast<std::int64_t>(id);
        const auto px = spec.parse_price(f.price_text);
        if (!px) {
            return fail(decode_error::bad_price);
        }
        const auto quantity = spec.parse_qty(f.qty_text);
        if (!quantity) {
            return fail(decode_error::bad_qty);
        }
        trade.px = *px;
        trade.qty = *quantity;
        trade.aggressor = f.buyer_is_maker ? core::side::sell : core::side::buy;
        trade.count = 1;
        if (aggregated && all_of(seen, has_first_trade | has_last_trade)) {
            if (f.last_trade < f.first_trade ||
                f.last_trade - f.first_trade >= std::numeric_limits<std::uint32_t>::max()) {
                return fail(decode_error::bad_number);
            }
            trade.count = static_cast<std::uint32_t>(f.last_trade - f.first_trade + 1);
        }
        trade.trade_ns = ms_to_ns((seen & has_transaction_time) != 0 ? f.transaction_time_ms
                                                                      : f.event_time_ms);
        trade.exchange_ns = ms_to_ns(f.event_time_ms);
        break;
    }
    default: break;
    }
    message_.kind = kind;
    finish(local_ns, message);
    return message_;
}

void binance_decoder::finish(core::timestamp_ns local_ns, padded_view message) noexcept {
    ++stats_.by_kind[static_cast<std::size_t>(message_.kind)];
    if (message_.kind != message_kind::malformed) {
        return;
    }
    ++stats_.by_error[static_cast<std::size_t>(message_.error)];
    if (!report_limiter_.allow(local_ns)) {
        return;
    }
    report_.error = message_.error;
    report_.local_ns = local_ns;
    report_.suppressed = report_limiter_.take_suppressed();
    report_.message_bytes = static_cast<std::uint32_t>(
        std::min<std::size_t>(message.size, std::numeric_limits<std::uint32_t>::max()));
    const std::size_t excerpt = std::min(message.size, malformed_report::excerpt_capacity);
    if (excerpt > 0) {
        std::memcpy(report_.excerpt.data(), message.data, excerpt);
    }
    report_.excerpt_size = static_cast<std::uint8_t>(excerpt);
    report_pending_ = true;
}

bool binance_decoder::take_report(malformed_report& out) noexcept {
    if (!report_pending_) {
        return false;
    }
    out = report_;
    report_pending_ = false;
    return true;
}

} // namespace quoter::md
