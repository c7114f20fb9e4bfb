#include "quoter/ops/journal.hpp"
#include "quoter/core/clock.hpp"

#include "quoter/core/quoted_string.hpp"
#include "quoter/core/utc_time.hpp"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <system_error>

#include <unistd.h>

namespace quoter::ops {

struct journal_buffer {
    fmt::memory_buffer text;
};

namespace {

constexpr int journal_format_version = 1;
constexpr std::size_t max_batch = 1024;

[[nodiscard]] std::int64_t steady_ms() noexcept {
    return core::monotonic_clock{}.now() / core::ns_per_ms;
}

[[nodiscard]] std::string_view side_name(core::side s) noexcept {
    return s == core::side::buy ? "buy" : "sell";
}

[[nodiscard]] std::string_view boolean(bool b) noexcept {
    return b ? "true" : "false";
}

/// Formats one record as a JSON line. Every value written is either a number, a boolean, null or
/// a string from a fixed vocabulary or a symbol name (escaped all the same).
class line_formatter {
public:
    line_formatter(fmt::memory_buffer& out, const std::vector<core::symbol_spec>& symbols)
        : out_(out), symbols_(symbols) {}

    void begin(std::uint64_t seq, core::timestamp_ns time, std::string_view type,
               core::timestamp_ns wall = 0) {
        if (wall != 0) {
            // The raw nanoseconds for programs, the same instant in UTC for people.
            fmt::format_to(fmt::appender(out_),
                           R"({{"seq":{},"ts":{},"wall_ns":{},"wall_utc":"{}","type":")", seq, time,
                           wall, core::format_utc(wall, core::utc_precision::nanos).view());
        } else {
            fmt::format_to(fmt::appender(out_), R"({{"seq":{},"ts":{},"type":")", seq, time);
        }
        out_.append(type);
        out_.push_back('"');
    }
    void end() { out_.append(std::string_view("}\n")); }

    void key(std::string_view name) {
        out_.push_back(',');
        out_.push_back('"');
        out_.append(name);
        out_.append(std::string_view("\":"));
    }
    void text(std::string_view name, std::string_view value) {
        key(name);
        quoted(value);
    }
    void integer(std::string_view name, std::int64_t value) {
        key(name);
        fmt::format_to(fmt::appender(out_), "{}", value);
    }
    void unsigned_integer(std::string_view name, std::uint64_t value) {
        key(name);
        fmt::format_to(fmt::appender(out_), "{}", value);
    }
    void flag(std::string_view name, bool value) {
        key(name);
        out_.append(boolean(value));
    }
    void number(std::string_view name, double value) {
        key(name);
        if (std::isfinite(value)) {
            fmt::format_to(fmt::appender(out_), "{}", value);
        } else {
            out_.append(std::string_view("null"));
        }
    }
    void symbol(std::uint16_t symbol_id) {
        if (const core::symbol_spec* spec = spec_for(symbol_id)) {
            text("symbol", spec->name().view());
        }
        integer("symbol_id", symbol_id);
    }
    /// Exact decimal when the symbol is known ("price":61737.63), ticks otherwise.
    void price(std::string_view name, std::uint16_t symbol_id, core::price value) {
        if (const core::symbol_spec* spec = spec_for(symbol_id)) {
            std::array<char, 48> digits{};
            key(name);
            out_.append(spec->format_price(value, digits));
        } else {
            key_with_suffix(name, "_ticks");
            fmt::format_to(fmt::appender(out_), "{}", value.ticks());
        }
    }
    void quantity(std::string_view name, std::uint16_t symbol_id, core::qty value) {
        if (const core::symbol_spec* spec = spec_for(symbol_id)) {
            std::array<char, 48> digits{};
            key(name);
            out_.append(spec->format_qty(value, digits));
        } else {
            key_with_suffix(name, "_lots");
            fmt::format_to(fmt::appender(out_), "{}", value.lots());
        }
    }

    void body(const order_intent_entry& e) {
        symbol(e.symbol_id);
        unsigned_integer("client_order_id", e.client_order_id);
        text("side", side_name(e.side));
        price("price", e.symbol_id, e.price);
        quantity("qty", e.symbol_id, e.qty);
        flag("post_only", e.post_only);
        flag("reduce_only", e.reduce_only);
        text("intent", risk::to_string(e.intent));
        key("inputs");
        out_.push_back('{');
        out_.append(std::string_view("\"mid\":"));
        bare_number(e.mid);
        price("best_bid", e.symbol_id, e.best_bid);
        price("best_ask", e.symbol_id, e.best_ask);
        quantity("inventory", e.symbol_id, e.inventory);
        if (e.intent == risk::order_intent::flatten) {
            out_.push_back('}'); // no model decided a flatten order
            return;
        }
        number("volatility", e.volatility);
        out_.push_back('}');
        key("model");
        out_.push_back('{');
        out_.append(std::string_view("\"reservation_price\":"));
        bare_number(e.reservation_price);
        number("half_spread", e.half_spread);
        number("skew", e.skew);
        out_.push_back('}');
    }
    void body(const risk::rejection_record& r) {
        symbol(r.symbol_id);
        text("reason", risk::to_string(r.reason));
        text("unit", risk::value_unit(r.reason));
        number("limit", r.limit_value);
        number("actual", r.actual_value);
        unsigned_integer("client_order_id", r.client_order_id);
        text("side", side_name(r.side));
        price("price", r.symbol_id, r.price);
        quantity("qty", r.symbol_id, r.qty);
        flag("post_only", r.post_only);
        flag("reduce_only", r.reduce_only);
        text("intent", risk::to_string(r.intent));
    }
    void body(const ack_entry& a) {
        symbol(a.symbol_id);
        unsigned_integer("client_order_id", a.client_order_id);
        unsigned_integer("exchange_order_id", a.exchange_order_id);
        integer("latency_ns", a.latency);
    }
    void body(const fill_entry& f) {
        symbol(f.symbol_id);
        unsigned_integer("client_order_id", f.client_order_id);
        text("side", side_name(f.side));
        price("price", f.symbol_id, f.price);
        quantity("qty", f.symbol_id, f.qty);
        quantity("position", f.symbol_id, f.position_after);
        number("fee", f.fee);
        flag("maker", f.maker);
    }
    void body(const cancel_entry& c) {
        symbol(c.symbol_id);
        unsigned_integer("client_order_id", c.client_order_id);
        text("cause", to_string(c.cause));
        text("stage", to_string(c.stage));
    }
    void body(const risk::state_change& s) {
        text("event", risk::to_string(s.event));
        text("from", risk::to_string(s.from));
        text("to", risk::to_string(s.to));
        text("reason", risk::to_string(s.reason));
    }
    void body(const risk::alert& a) {
        text("kind", risk::to_string(a.kind));
        text("severity", risk::to_string(a.severity));
        text("reason", risk::to_string(a.reason));
        if (a.kind == risk::alert_kind::slippage || a.kind == risk::alert_kind::delayed_fill ||
            a.kind == risk::alert_kind::flatten_gave_up ||
            a.kind == risk::alert_kind::cancel_gave_up) {
            symbol(a.symbol_id); // these alerts are about one symbol
        }
        number("value", a.value);
        number("threshold", a.threshold);
    }
    void body(const command_entry& c) {
        text("command", to_string(c.command));
        text("source", to_string(c.source));
    }

private:
    [[nodiscard]] const core::symbol_spec* spec_for(std::uint16_t symbol_id) const {
        return symbol_id < symbols_.size() ? &symbols_[symbol_id] : nullptr;
    }
    void key_with_suffix(std::string_view name, std::string_view suffix) {
        out_.push_back(',');
        out_.push_back('"');
        out_.append(name);
        out_.append(suffix);
        out_.append(std::string_view("\":"));
    }
    void bare_number(double value) {
        if (std::isfinite(value)) {
            fmt::format_to(fmt::appender(out_), "{}", value);
        } else {
            out_.append(std::string_view("null"));
        }
    }
    void quoted(std::string_view value) { core::append_quoted(out_, value); }

    fmt::memory_buffer& out_;
    const std::vector<core::symbol_spec>& symbols_;
};

[[nodiscard]] std::string_view type_name(const journal_payload& payload) noexcept {
    struct namer {
        std::string_view operator()(const order_intent_entry&) const { return "order_intent"; }
        std::string_view operator()(const risk::rejection_record&) const { return "risk_reject"; }
        std::string_view operator()(const ack_entry&) const { return "ack"; }
        std::string_view operator()(const fill_entry&) const { return "fill"; }
        std::string_view operator()(const cancel_entry&) const { return "cancel"; }
        std::string_view operator()(const risk::state_change&) const { return "state"; }
        std::string_view operator()(const risk::alert&) const { return "alert"; }
        std::string_view operator()(const command_entry&) const { return "command"; }
    };
    return std::visit(namer{}, payload);
}

} // namespace

std::string_view to_string(cancel_cause cause) noexcept {
    switch (cause) {
    case cancel_cause::strategy:
        return "strategy";
    case cancel_cause::kill:
        return "kill";
    case cancel_cause::pause:
        return "pause";
    case cancel_cause::shutdown:
        return "shutdown";
    case cancel_cause::exchange:
        return "exchange";
    case cancel_cause::expired:
        return "expired";
    }
    return "unknown";
}

std::string_view to_string(cancel_stage stage) noexcept {
    switch (stage) {
    case cancel_stage::requested:
        return "requested";
    case cancel_stage::confirmed:
        return "confirmed";
    case cancel_stage::rejected:
        return "rejected";
    }
    return "unknown";
}

core::result<std::unique_ptr<journal>, journal_open_error> journal::open(journal_config config) {
    std::FILE* file = std::fopen(config.path.c_str(), "ae");
    if (file == nullptr) {
        return core::unexpected{journal_open_error{errno}};
    }
    std::unique_ptr<journal> opened(new journal(std::move(config), file));
    return opened;
}

journal::journal(journal_config config, std::FILE* file)
    : stamp_wall_clock_(config.stamp_wall_clock), config_(std::move(config)), file_(file),
      buffer_(std::make_unique<journal_buffer>()) {
    std::setvbuf(file_, nullptr, _IOFBF, std::size_t{1} << 16);
    last_sync_wall_ = steady_ms();
    const core::timestamp_ns wall = core::wall_clock{}.now();
    line_formatter line(buffer_->text, config_.symbols);
    line.begin(++seq_, wall, "journal_open");
    line.integer("version", journal_format_version);
    line.integer("pid", ::getpid());
    line.integer("wall_ns", wall);
    line.end();
    buffer_->text.reserve(std::size_t{1} << 19); // a full batch of the longest lines
    write_buffer(config_.fdatasync_interval_ms >= 0);
}

journal::~journal() {
    stop();
    std::fclose(file_);
}

bool journal::start() {
    if (writer_.joinable() || closed_) {
        return false;
    }
    stop_requested_.store(false, std::memory_order_relaxed);
    try {
        writer_ = std::thread([this] { run(); });
    } catch (const std::system_error&) {
        return false;
    }
    return true;
}

void journal::stop() noexcept {
    if (closed_) {
        return;
    }
    if (writer_.joinable()) {
        stop_requested_.store(true, std::memory_order_release);
        writer_.join();
    } else {
        drain();
    }
    closed_ = true;
    line_formatter line(buffer_->text, config_.symbols);
    line.begin(++seq_, last_time_, "journal_close");
    line.unsigned_integer("lines", seq_);
    line.unsigned_integer("dropped", drops_reported_);
    line.end();
    write_buffer(config_.fdatasync_interval_ms >= 0);
}

std::size_t journal::drain() noexcept {
    if (writer_.joinable() || closed_) {
        return 0;
    }
    std::size_t lines = 0;
    for (std::size_t n = write_batch(); n != 0; n = write_batch()) {
        lines += n;
    }
    return lines;
}

void journal::run() noexcept {
    const auto idle =
        std::chrono::microseconds(config_.idle_sleep_us > 0 ? config_.idle_sleep_us : 1);
    while (!stop_requested_.load(std::memory_order_acquire)) {
        if (write_batch() == 0) {
            std::this_thread::sleep_for(idle);
        }
    }
    while (write_batch() != 0) {
    }
}

std::size_t journal::write_batch() noexcept {
    fmt::memory_buffer& text = buffer_->text;
    // Formatting allocates only while the buffer grows to its working size; running out of
    // memory there ends the process (noexcept), which is the right call for an audit trail.
    line_formatter line(text, config_.symbols);
    std::size_t lines = ring_.pop_batch(
        [&](const journal_record& record) {
            line.begin(++seq_, record.time, type_name(record.payload), record.wall);
            std::visit([&](const auto& entry) { line.body(entry); }, record.payload);
            line.end();
            last_time_ = record.time;
        },
        max_batch);
    const std::uint64_t dropped = dropped_.load(std::memory_order_acquire);
    if (dropped != drops_reported_) {
        write_drop_line();
        ++lines;
    }
    if (lines != 0) {
        write_buffer(false);
    }
    return lines;
}

void journal::write_drop_line() noexcept {
    const std::uint64_t dropped = dropped_.load(std::memory_order_acquire);
    line_formatter line(buffer_->text, config_.symbols);
    line.begin(++seq_, last_time_, "dropped");
    line.unsigned_integer("count", dropped - drops_reported_);
    line.unsigned_integer("total", dropped);
    line.end();
    drops_reported_ = dropped;
}

void journal::write_buffer(bool force_sync) noexcept {
    fmt::memory_buffer& text = buffer_->text;
    if (text.size() != 0) {
        std::fwrite(text.data(), 1, text.size(), file_);
        text.clear();
    }
    std::fflush(file_);
    lines_flushed_.store(seq_, std::memory_order_release);
    const std::int64_t interval = config_.fdatasync_interval_ms;
    const std::int64_t now = steady_ms();
    if (force_sync || (interval >= 0 && now - last_sync_wall_ >= interval)) {
        ::fdatasync(::fileno(file_));
        last_sync_wall_ = now;
    }
}

} // namespace quoter::ops
