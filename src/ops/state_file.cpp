// State file text format, atomic save, checked load, and the single-instance lock.
//
// Text fields that could hold spaces or control characters (kill_reason) are percent-encoded;
// identifiers (account, symbol, client ids) are restricted to characters that need no encoding,
// and anything else is refused when saving, so what is saved always loads back.
#include "quoter/ops/state_file.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace quoter::ops {
namespace {

constexpr std::string_view magic = "quoter-state 2";
constexpr std::string_view trailer_key = "crc32 ";
constexpr std::size_t trailer_size = trailer_key.size() + 8 + 1; // "crc32 " + 8 hex + '\n'

[[nodiscard]] std::uint32_t crc_of(std::string_view text) {
    uLong crc = crc32(0L, Z_NULL, 0);
    // zlib takes uInt lengths; state files are far below 4 GiB, but stay correct anyway.
    while (!text.empty()) {
        const auto chunk = static_cast<uInt>(std::min<std::size_t>(text.size(), 1U << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(text.data()), chunk);
        text.remove_prefix(chunk);
    }
    return static_cast<std::uint32_t>(crc);
}

[[nodiscard]] bool is_identifier(std::string_view text, std::string_view extra) noexcept {
    if (text.empty()) {
        return false;
    }
    for (const char c : text) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || extra.find(c) != std::string_view::npos;
        if (!plain) {
            return false;
        }
    }
    return true;
}

constexpr std::string_view id_chars = "._:/-";

std::string percent_encode(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f || c == '%') {
            fmt::format_to(std::back_inserter(out), "%{:02X}", byte);
        } else {
            out += c;
        }
    }
    return out;
}

[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        unsigned value = 0;
        if (i + 2 >= text.size()) {
            return std::nullopt;
        }
        const auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
        if (ec != std::errc{} || end != text.data() + i + 3) {
            return std::nullopt;
        }
        out += static_cast<char>(value);
        i += 2;
    }
    return out;
}

/// Splits on every single space, keeping empty words (an empty kill_reason is "key ").
std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t start = 0;
    for (;;) {
        const auto space = line.find(' ', start);
        words.push_back(line.substr(start, space - start));
        if (space == std::string_view::npos) {
            return words;
        }
        start = space + 1;
    }
}

template <class I> [[nodiscard]] bool parse_int(std::string_view text, I& out) noexcept {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

} // namespace

std::string serialize_state(const engine_state& s) {
    std::string out;
    const auto line = [&](std::string_view key, const auto& value) {
        fmt::format_to(std::back_inserter(out), "{} {}\n", key, value);
    };
    out += magic;
    out += '\n';
    line("account", s.account);
    line("symbol", s.symbol);
    if (!s.session.empty()) {
        line("session", percent_encode(s.session));
    }
    line("saved_ns", s.saved_ns);
    if (s.price_decimals >= 0 && s.qty_decimals >= 0) {
        line("price_decimals", s.price_decimals);
        line("qty_decimals", s.qty_decimals);
    }
    line("cash", s.cash);
    line("trading_day", s.trading_day);
    line("daily_pnl_base", s.daily_pnl_base);
    line("day_start_equity", s.day_start_equity);
    line("peak_equity", s.peak_equity);
    line("kill_latched", s.kill_latched ? 1 : 0);
    line("kill_reason", percent_encode(s.kill_reason));
    line("flatten_attempts", s.flatten_attempts);
    line("manual_pause", s.manual_pause ? 1 : 0);
    line("unsaved_activity_ms", s.unsaved_activity_ms);
    line("last_md_update_id", s.last_md_update_id);
    line("last_journal_seq", s.last_journal_seq);
    line("last_client_order_seq", s.last_client_order_seq);
    for (const auto& p : s.positions) {
        fmt::format_to(std::back_inserter(out), "position {} {} {}\n", p.symbol, p.qty_lots,
                       p.entry_notional);
    }
    for (const auto& o : s.open_orders) {
        fmt::format_to(std::back_inserter(out), "order {} {} {} {} {} {}\n", o.client_id, o.symbol,
                       o.buy ? "buy" : "sell", o.price_ticks, o.qty_lots, o.filled_lots);
    }
    for (const auto& r : s.rate_buckets) {
        fmt::format_to(std::back_inserter(out), "rate {} {} {}\n", r.window, r.start_ns,
                       r.events);
    }
    fmt::format_to(std::back_inserter(out), "end {} {}\n", s.positions.size(),
                   s.open_orders.size());
    fmt::format_to(std::back_inserter(out), "{}{:08x}\n", trailer_key, crc_of(out));
    return out;
}

namespace {

/// value counted in units 10^shift times finer (a negative shift: coarser, toward zero); false
/// on overflow.
bool rescale(std::int64_t& value, std::int32_t shift) noexcept {
    for (; shift > 0; --shift) {
        if (__builtin_mul_overflow(value, std::int64_t{10}, &value)) {
            return false;
        }
    }
    for (; shift < 0; ++shift) {
        value /= 10;
    }
    return true;
}

} // namespace

std::string rescale_state(engine_state& state, std::int32_t price_decimals,
                          std::int32_t qty_decimals) {
    if (state.price_decimals < 0 || state.qty_decimals < 0 ||
        (state.price_decimals == price_decimals && state.qty_decimals == qty_decimals)) {
        return {};
    }
    const std::int32_t price_shift = price_decimals - state.price_decimals;
    const std::int32_t qty_shift = qty_decimals - state.qty_decimals;
    const std::int32_t money_shift = price_shift + qty_shift;
    const auto overflow = [](std::string_view what) {
        return fmt::format("{} overflows at the symbol's new decimals", what);
    };
    for (auto [value, name] :
         {std::pair{&state.cash, "cash"}, std::pair{&state.daily_pnl_base, "daily_pnl_base"},
          std::pair{&state.day_start_equity, "day_start_equity"},
          std::pair{&state.peak_equity, "peak_equity"}}) {
        if (!rescale(*value, money_shift)) {
            return overflow(name);
        }
    }
    for (state_position& p : state.positions) {
        if (!rescale(p.qty_lots, qty_shift) || !rescale(p.entry_notional, money_shift)) {
            return overflow("position " + p.symbol);
        }
    }
    for (state_order& o : state.open_orders) {
        if (!rescale(o.price_ticks, price_shift) || !rescale(o.qty_lots, qty_shift) ||
            !rescale(o.filled_lots, qty_shift)) {
            return overflow("order " + o.client_id);
        }
    }
    state.price_decimals = price_decimals;
    state.qty_decimals = qty_decimals;
    return {};
}

core::result<engine_state, std::string> parse_state(std::string_view text) {
    if (text.size() < trailer_size || text.back() != '\n') {
        return core::unexpected(std::string("truncated: no checksum trailer at the end"));
    }
    const std::string_view body = text.substr(0, text.size() - trailer_size);
    const std::string_view trailer = text.substr(text.size() - trailer_size);
    if (!trailer.starts_with(trailer_key) || (!body.empty() && body.back() != '\n')) {
        return core::unexpected(std::string("truncated: no checksum trailer at the end"));
    }
    std::uint32_t stored = 0;
    const std::string_view hex = trailer.substr(trailer_key.size(), 8);
    const auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), stored, 16);
    if (ec != std::errc{} || end != hex.data() + hex.size()) {
        return core::unexpected(std::string("truncated: malformed checksum trailer"));
    }
    const std::uint32_t actual = crc_of(body);
    if (stored != actual) {
        return core::unexpected(fmt::format(
            "checksum mismatch (file says {:08x}, content gives {:08x}): torn or edited", stored,
            actual));
    }

    engine_state s;
    std::map<std::string, std::string_view, std::less<>> fields;
    bool ended = false;
    std::size_t line_number = 0;
    std::string_view rest = body;
    const auto fail = [&](std::string_view why) {
        return core::unexpected(fmt::format("line {}: {}", line_number, why));
    };
    while (!rest.empty()) {
        const auto newline = rest.find('\n');
        const std::string_view line = rest.substr(0, newline);
        rest.remove_prefix(newline + 1);
        ++line_number;
        if (line_number == 1) {
            if (line == "quoter-state 1") {
                return fail("written by an older quoter (format 1, without the paper cash and "
                            "the day's equity)");
            }
            if (line != magic) {
                return fail(fmt::format("expected \"{}\"", magic));
            }
            continue;
        }
        if (ended) {
            return fail("content after the end line");
        }
        const auto words = split_words(line);
        if (words.empty() || words[0].empty()) {
            return fail("empty line");
        }
        if (words[0] == "position") {
            state_position p;
            if (words.size() != 4 || !is_identifier(words[1], id_chars) ||
                !parse_int(words[2], p.qty_lots) || !parse_int(words[3], p.entry_notional)) {
                return fail("expected: position <symbol> <qty_lots> <entry_notional>");
            }
            p.symbol = std::string(words[1]);
            s.positions.push_back(std::move(p));
        } else if (words[0] == "order") {
            state_order o;
            if (words.size() != 7 || !is_identifier(words[1], id_chars) ||
                !is_identifier(words[2], id_chars) || (words[3] != "buy" && words[3] != "sell") ||
                !parse_int(words[4], o.price_ticks) || !parse_int(words[5], o.qty_lots) ||
                !parse_int(words[6], o.filled_lots)) {
                return fail("expected: order <client_id> <symbol> buy|sell <price_ticks> "
                            "<qty_lots> <filled_lots>");
            }
            o.client_id = std::string(words[1]);
            o.symbol = std::string(words[2]);
            o.buy = words[3] == "buy";
            s.open_orders.push_back(std::move(o));
        } else if (words[0] == "rate") {
            state_rate_bucket r;
            if (words.size() != 4 || !is_identifier(words[1], id_chars) ||
                !parse_int(words[2], r.start_ns) || !parse_int(words[3], r.events) ||
                r.events == 0) {
                return fail("expected: rate <window> <start_ns> <events>");
            }
            r.window = std::string(words[1]);
            s.rate_buckets.push_back(std::move(r));
        } else if (words[0] == "end") {
            std::size_t positions = 0;
            std::size_t orders = 0;
            if (words.size() != 3 || !parse_int(words[1], positions) ||
                !parse_int(words[2], orders) || positions != s.positions.size() ||
                orders != s.open_orders.size()) {
                return fail("end line does not match the positions and orders read");
            }
            ended = true;
        } else {
            if (words.size() != 2) {
                return fail(fmt::format("expected: {} <value>", words[0]));
            }
            if (!fields.emplace(std::string(words[0]), words[1]).second) {
                return fail(fmt::format("{} given twice", words[0]));
            }
        }
    }
    if (!ended) {
        return core::unexpected(std::string("truncated: no end line"));
    }
    const auto need = [&](std::string_view key) -> core::result<std::string_view, std::string> {
        const auto found = fields.find(key);
        if (found == fields.end()) {
            return core::unexpected(fmt::format("missing {}", key));
        }
        return found->second;
    };
    const auto integer = [&](std::string_view key, auto& out) -> std::string {
        const auto text_value = need(key);
        if (!text_value) {
            return text_value.error();
        }
        return parse_int(*text_value, out) ? std::string() : fmt::format("bad {}", key);
    };
    int latched = 0;
    for (const std::string& problem :
         {integer("saved_ns", s.saved_ns), integer("cash", s.cash),
          integer("trading_day", s.trading_day), integer("daily_pnl_base", s.daily_pnl_base),
          integer("day_start_equity", s.day_start_equity), integer("kill_latched", latched),
          integer("last_md_update_id", s.last_md_update_id),
          integer("last_journal_seq", s.last_journal_seq),
          integer("last_client_order_seq", s.last_client_order_seq)}) {
        if (!problem.empty()) {
            return core::unexpected(problem);
        }
    }
    if (latched != 0 && latched != 1) {
        return core::unexpected(std::string("bad kill_latched"));
    }
    s.kill_latched = latched == 1;
    const auto account = need("account");
    const auto symbol = need("symbol");
    const auto reason = need("kill_reason");
    if (!account || !symbol || !reason) {
        return core::unexpected(std::string("missing account, symbol or kill_reason"));
    }
    s.account = std::string(*account);
    s.symbol = std::string(*symbol);
    auto decoded = percent_decode(*reason);
    if (!decoded) {
        return core::unexpected(std::string("bad kill_reason encoding"));
    }
    s.kill_reason = std::move(*decoded);
    // Optional: files written before it was kept load without it.
    std::size_t optional_fields = 0;
    if (fields.contains("peak_equity")) {
        if (const std::string problem = integer("peak_equity", s.peak_equity); !problem.empty()) {
            return core::unexpected(problem);
        }
        ++optional_fields;
    }
    if (fields.contains("session")) {
        auto session = percent_decode(fields.at("session"));
        if (!session || session->empty()) {
            return core::unexpected(std::string("bad session encoding"));
        }
        s.session = std::move(*session);
        ++optional_fields;
    }
    if (fields.contains("flatten_attempts")) {
        if (const std::string problem = integer("flatten_attempts", s.flatten_attempts);
            !problem.empty()) {
            return core::unexpected(problem);
        }
        ++optional_fields;
    }
    if (fields.contains("manual_pause")) {
        int paused = 0;
        if (const std::string problem = integer("manual_pause", paused); !problem.empty()) {
            return core::unexpected(problem);
        }
        if (paused != 0 && paused != 1) {
            return core::unexpected(std::string("bad manual_pause"));
        }
        s.manual_pause = paused == 1;
        ++optional_fields;
    }
    if (fields.contains("price_decimals") || fields.contains("qty_decimals")) {
        for (const auto& [name, value] : {std::pair{"price_decimals", &s.price_decimals},
                                          std::pair{"qty_decimals", &s.qty_decimals}}) {
            if (const std::string problem = integer(name, *value);
                !problem.empty() || *value < 0 || *value > 18) {
                return core::unexpected("bad " + std::string(name));
            }
        }
        optional_fields += 2;
    }
    if (fields.contains("unsaved_activity_ms")) {
        if (const std::string problem = integer("unsaved_activity_ms", s.unsaved_activity_ms);
            !problem.empty() || s.unsaved_activity_ms < 0) {
            return core::unexpected(std::string("bad unsaved_activity_ms"));
        }
        ++optional_fields;
    }
    if (fields.size() != 12 + optional_fields) {
        return core::unexpected(std::string("unknown keys present"));
    }
    return s;
}

std::string save_state(const std::string& path, const engine_state& state) {
    if (!is_identifier(state.account, id_chars) || !is_identifier(state.symbol, id_chars)) {
        return "account and symbol must be non-empty and hold only [A-Za-z0-9._:/-]";
    }
    for (const auto& p : state.positions) {
        if (!is_identifier(p.symbol, id_chars)) {
            return fmt::format("position symbol \"{}\" has characters outside [A-Za-z0-9._:/-]",
                               p.symbol);
        }
    }
    for (const auto& o : state.open_orders) {
        if (!is_identifier(o.client_id, id_chars) || !is_identifier(o.symbol, id_chars)) {
            return fmt::format("order \"{}\" has an id or symbol outside [A-Za-z0-9._:/-]",
                               o.client_id);
        }
    }
    for (const auto& r : state.rate_buckets) {
        if (!is_identifier(r.window, id_chars) || r.events == 0) {
            return fmt::format("rate window \"{}\" has characters outside [A-Za-z0-9._:/-] or "
                               "no events",
                               r.window);
        }
    }
    const std::string text = serialize_state(state);
    const std::filesystem::path target(path);
    const std::filesystem::path directory =
        target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    const std::string temp = fmt::format("{}.tmp.{}", path, ::getpid());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return fmt::format("cannot create {}: {}", temp, std::strerror(errno));
    }
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int saved = errno;
            ::close(fd);
            ::unlink(temp.c_str());
            return fmt::format("cannot write {}: {}", temp, std::strerror(saved));
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        const int saved = errno;
        ::close(fd);
        ::unlink(temp.c_str());
        return fmt::format("cannot fsync {}: {}", temp, std::strerror(saved));
    }
    ::close(fd);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        ::unlink(temp.c_str());
        return fmt::format("cannot rename {} to {}: {}", temp, path, std::strerror(saved));
    }
    // The rename is durable only once the directory entry is.
    const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        return fmt::format("cannot open directory {} to fsync it: {}", directory.string(),
                           std::strerror(errno));
    }
    const int synced = ::fsync(dir_fd);
    const int saved = errno;
    ::close(dir_fd);
    if (synced != 0) {
        return fmt::format("cannot fsync directory {}: {}", directory.string(),
                           std::strerror(saved));
    }
    return {};
}

core::result<loaded_state, std::string> load_state(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return loaded_state{};
        }
        return core::unexpected(
            fmt::format("cannot read state file {}: {}", path, std::strerror(errno)));
    }
    std::string text;
    std::array<char, 8192> chunk{};
    for (;;) {
        const ssize_t n = ::read(fd, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const int saved = errno;
            ::close(fd);
            return core::unexpected(
                fmt::format("cannot read state file {}: {}", path, std::strerror(saved)));
        }
        if (n == 0) {
            break;
        }
        text.append(chunk.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    auto parsed = parse_state(text);
    if (!parsed) {
        return core::unexpected(fmt::format(
            "state file {} refused: {}. Nothing was loaded; move the file aside to start "
            "without it: positions and open orders are then taken from the venue, but a latched "
            "kill, the day's loss, the equity peak and the order-rate windows start afresh",
            path, parsed.error()));
    }
    return loaded_state{.found = true, .state = std::move(*parsed)};
}

instance_lock::~instance_lock() {
    release();
}

instance_lock::instance_lock(instance_lock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

instance_lock& instance_lock::operator=(instance_lock&& other) noexcept {
    if (this != &other) {
        release();
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
    }
    return *this;
}

void instance_lock::release() noexcept {
    if (fd_ >= 0) {
        ::close(fd_); // closing the description drops the flock
        fd_ = -1;
    }
}

core::result<instance_lock, std::string> instance_lock::acquire(const std::string& directory,
                                                                std::string_view account,
                                                                std::string_view symbol) {
    if (!is_identifier(account, "._-") || !is_identifier(symbol, "._-")) {
        return core::unexpected(fmt::format(
            "account \"{}\" and symbol \"{}\" must be non-empty and hold only [A-Za-z0-9._-] "
            "(they name the lock file)",
            account, symbol));
    }
    instance_lock lock;
    lock.path_ =
        (std::filesystem::path(directory) / fmt::format("quoter-{}-{}.lock", account, symbol))
            .string();
    const int fd = ::open(lock.path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return core::unexpected(
            fmt::format("cannot open lock file {}: {}", lock.path_, std::strerror(errno)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int saved = errno;
        std::array<char, 32> pid{};
        const ssize_t n = ::pread(fd, pid.data(), pid.size() - 1, 0);
        ::close(fd);
        if (saved == EWOULDBLOCK) {
            std::string holder(pid.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
            while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
                holder.pop_back();
            }
            return core::unexpected(fmt::format(
                "another quoter engine is running on account {} symbol {} (pid {}, lock {}); "
                "stop it first, two engines would trade against each other's state",
                account, symbol, holder.empty() ? std::string("unknown") : holder, lock.path_));
        }
        return core::unexpected(
            fmt::format("cannot lock {}: {}", lock.path_, std::strerror(saved)));
    }
    lock.fd_ = fd;
    const std::string pid = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        // The lock itself is held; the pid is only for the message of the next engine.
    }
    return lock;
}

} // namespace quoter::ops
