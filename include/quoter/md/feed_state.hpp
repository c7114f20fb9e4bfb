// Feed state of one symbol's book, as the market-data thread publishes it to the core. Only
// `synced` means the book is complete and consistent; every other state means "do not quote
// off this book".
#pragma once

#include <cstdint>
#include <string_view>

namespace quoter::md {

enum class feed_state : std::uint8_t {
    connecting, ///< No stream yet (start-up or after a disconnect): no book.
    syncing,    ///< Stream live, buffering diffs and waiting for / applying a REST snapshot.
    synced,     ///< Snapshot applied and diffs continuous: the book is valid.
    resyncing,  ///< A gap was detected; the book was discarded and a new snapshot is due.
    stale,      ///< Synced, but nothing arrived for longer than the stale limit.
};

[[nodiscard]] constexpr std::string_view to_string(feed_state state) noexcept {
    switch (state) {
    case feed_state::connecting: return "connecting";
    case feed_state::syncing: return "syncing";
    case feed_state::synced: return "synced";
    case feed_state::resyncing: return "resyncing";
    case feed_state::stale: return "stale";
    }
    return "unknown";
}

} // namespace quoter::md
