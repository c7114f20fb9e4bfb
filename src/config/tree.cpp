#include "tree.hpp"

#include "text.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace quoter::config::detail {
namespace {

position to_position(const toml::source_region& region) noexcept {
    return {region.begin.line, region.begin.column};
}

template <class T> std::string streamed(const T& value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

node convert(const toml::node& source) {
    node out;
    out.where = to_position(source.source());
    switch (source.type()) {
    case toml::node_type::table:
        out.kind = node_kind::table;
        for (const auto& [key, value] : *source.as_table()) {
            out.members.push_back(
                member{std::string(key.str()), to_position(key.source()), convert(value)});
        }
        break;
    case toml::node_type::array:
        out.kind = node_kind::array;
        for (const auto& element : *source.as_array()) {
            out.elements.push_back(convert(element));
        }
        break;
    case toml::node_type::string:
        out.kind = node_kind::string;
        out.text = source.as_string()->get();
        break;
    case toml::node_type::integer:
        out.kind = node_kind::integer;
        out.integer = source.as_integer()->get();
        break;
    case toml::node_type::floating_point:
        out.kind = node_kind::floating;
        out.floating = source.as_floating_point()->get();
        break;
    case toml::node_type::boolean:
        out.kind = node_kind::boolean;
        out.boolean = source.as_boolean()->get();
        break;
    case toml::node_type::date:
        out.kind = node_kind::date_time;
        out.text = streamed(source.as_date()->get());
        break;
    case toml::node_type::time:
        out.kind = node_kind::date_time;
        out.text = streamed(source.as_time()->get());
        break;
    case toml::node_type::date_time:
        out.kind = node_kind::date_time;
        out.text = streamed(source.as_date_time()->get());
        break;
    case toml::node_type::none:
        break;
    }
    return out;
}

void mark_profile(node& target) {
    target.from_profile = true;
    for (auto& entry : target.members) {
        mark_profile(entry.value);
    }
    for (auto& element : target.elements) {
        mark_profile(element);
    }
}

} // namespace

const node* node::find(std::string_view key) const {
    for (const auto& entry : members) {
        if (entry.key == key) {
            return &entry.value;
        }
    }
    return nullptr;
}

node* node::find(std::string_view key) {
    for (auto& entry : members) {
        if (entry.key == key) {
            return &entry.value;
        }
    }
    return nullptr;
}

bool node::erase(std::string_view key) {
    for (auto it = members.begin(); it != members.end(); ++it) {
        if (it->key == key) {
            members.erase(it);
            return true;
        }
    }
    return false;
}

std::string_view kind_name(node_kind kind) noexcept {
    switch (kind) {
    case node_kind::table:
        return "table";
    case node_kind::array:
        return "array";
    case node_kind::string:
        return "string";
    case node_kind::integer:
        return "integer";
    case node_kind::floating:
        return "float";
    case node_kind::boolean:
        return "boolean";
    case node_kind::date_time:
        return "date-time";
    }
    return "value";
}

std::string describe_found(const node& value) {
    switch (value.kind) {
    case node_kind::string:
        return "string " + quote_short(value.text);
    case node_kind::integer:
        return fmt::format("integer {}", value.integer);
    case node_kind::floating:
        return "float " + float_literal(value.floating);
    case node_kind::boolean:
        return value.boolean ? "boolean true" : "boolean false";
    case node_kind::table:
        return "a table";
    case node_kind::array:
        return "an array";
    case node_kind::date_time:
        return "date-time " + value.text;
    }
    return "a value";
}

core::result<node, syntax_error> parse_toml(std::string_view text, const std::string& source_name) {
    try {
        const toml::table table = toml::parse(text, source_name);
        return convert(table);
    } catch (const toml::parse_error& failure) {
        return core::unexpected{
            syntax_error{to_position(failure.source()), std::string(failure.description())}};
    }
}

void merge_overlay(node& base, const node& overlay) {
    for (const auto& entry : overlay.members) {
        node* existing = base.find(entry.key);
        if (existing != nullptr && existing->kind == node_kind::table &&
            entry.value.kind == node_kind::table) {
            merge_overlay(*existing, entry.value);
            continue;
        }
        node replacement = entry.value;
        mark_profile(replacement);
        if (existing != nullptr) {
            *existing = std::move(replacement);
        } else {
            base.members.push_back(member{entry.key, entry.key_where, std::move(replacement)});
        }
    }
}

core::result<file_contents, std::string> read_file(const std::string& path,
                                                   unsigned forbidden_mode_bits) {
    // open + fstat on the same descriptor: the permissions checked are those of the file read.
    // O_NONBLOCK: a FIFO in place of the file must not hang the check (regular files ignore it).
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return core::unexpected{std::string(std::strerror(errno))};
    }
    file_contents contents;
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const std::string reason = std::strerror(errno);
        ::close(fd);
        return core::unexpected{reason};
    }
    contents.mode = static_cast<unsigned>(info.st_mode) & 07777U;
    contents.regular = S_ISREG(info.st_mode);
    contents.refused = (contents.mode & forbidden_mode_bits) != 0;
    if (!contents.regular || contents.refused) {
        ::close(fd);
        return contents;
    }
    char buffer[8192];
    for (;;) {
        const ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got == 0) {
            break;
        }
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            const std::string reason = std::strerror(errno);
            ::close(fd);
            return core::unexpected{reason};
        }
        contents.text.append(buffer, static_cast<std::size_t>(got));
    }
    ::close(fd);
    return contents;
}

} // namespace quoter::config::detail
