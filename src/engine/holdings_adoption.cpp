#include "quoter/engine/holdings_adoption.hpp"

#include "quoter/portfolio/account.hpp"

namespace quoter::engine {

namespace {

/// units of the symbol's quote asset as a number of it.
[[nodiscard]] double quote_of(const core::symbol_spec& spec, std::int64_t units) {
    portfolio::account amount(spec, {});
    amount.restore(core::qty{0}, 0, units);
    return amount.cash();
}

} // namespace

holdings_adoption adopt_venue_holdings(core_loop& loop, const venue_holdings& venue) {
    const portfolio::account& account = loop.account();
    const core::symbol_spec& trading = account.spec();
    holdings_adoption out;
    const core::qty had = account.position();
    out.had = had;
    out.held = had;
    core::qty held = had;
    std::int64_t cash = account.cash_units();
    std::int64_t cost = account.cost_basis_units();
    if (!venue.futures) {
        if (!venue.quote_listed) {
            return out;
        }
        held = venue.base;
        cash = venue.quote_units;
        out.description = venue.base_asset + " " + std::to_string(trading.to_double(held)) + ", " +
                          venue.quote_asset + " " + std::to_string(quote_of(trading, cash));
        if (held != had) {
            // Inventory that arrived is valued at the mark (no gain), inventory that left takes
            // its share of the cost basis with it.
            portfolio::account added(trading, {});
            added.restore(held - had, 0, 0);
            added.mark(account.current_mark());
            cost = had.lots() > 0 && held < had
                       ? static_cast<std::int64_t>(static_cast<long double>(cost) *
                                                   static_cast<long double>(held.lots()) /
                                                   static_cast<long double>(had.lots()))
                   : held.lots() == 0 ? 0
                                      : cost + added.inventory_value_units();
        }
    } else {
        held = venue.position;
        if (held != had) {
            const std::int64_t venue_cost = trading.notional_units(venue.entry_price, held);
            cash += cost - venue_cost; // equity kept: the position moves, not money
            cost = venue_cost;
        }
        out.description = "position " + std::to_string(trading.to_double(held));
    }
    if (held == had && cash == account.cash_units()) {
        return out; // the account already holds what the venue holds
    }
    loop.restore(held, cost, cash, loop.quotes().last_sequence());
    out.adopted = true;
    out.held = held;
    return out;
}

} // namespace quoter::engine
