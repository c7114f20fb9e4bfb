// quoted_string: a string as a double-quoted literal that is valid both in JSON and as a TOML
// basic string: quote and backslash escaped, \n \r \t by name, every other control character
// (and DEL) as \uXXXX. One implementation for the journal, the reports and configuration
// messages.
#pragma once

#include <string_view>

namespace quoter::core {

/// Appends text as a quoted literal to out, any container with push_back(char) (std::string,
/// fmt::memory_buffer).
template <class Out> void append_quoted(Out& out, std::string_view text) {
    constexpr std::string_view hex = "0123456789abcdef";
    out.push_back('"');
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
        case '\\':
            out.push_back('\\');
            out.push_back(c);
            break;
        case '\n':
            out.push_back('\\');
            out.push_back('n');
            break;
        case '\r':
            out.push_back('\\');
            out.push_back('r');
            break;
        case '\t':
            out.push_back('\\');
            out.push_back('t');
            break;
        default:
            if (byte < 0x20 || byte == 0x7f) {
                for (const char part : {'\\', 'u', '0', '0'}) {
                    out.push_back(part);
                }
                out.push_back(hex[byte >> 4U]);
                out.push_back(hex[byte & 0xfU]);
            } else {
                out.push_back(c);
            }
        }
    }
    out.push_back('"');
}

} // namespace quoter::core
