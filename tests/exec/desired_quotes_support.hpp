// What the quote manager tests share: one level of desired quotes a side.
#pragma once

#include "quoter/exec/quote_manager.hpp"

#include <cstdint>

namespace quoter::exec::testing {

/// A bid and an ask of `size` lots at level 0, prices in ticks.
inline desired_quotes quotes(std::int64_t bid, std::int64_t ask, std::int64_t size = 5) {
    desired_quotes d;
    d.bids[0] = {core::price{bid}, core::qty{size}};
    d.asks[0] = {core::price{ask}, core::qty{size}};
    return d;
}

} // namespace quoter::exec::testing
