// account_balances: the venue account's balances per asset in 10^-8 units, shared by the spot
// API (free balances) and the futures API (the wallet): their starting amounts (--balance, else
// 0 of a base asset and 100,000 of a quote asset), their text form and the parsing of
// --balance ASSET=AMOUNT.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quoter::venue {

/// Amount in 10^-8 units as Binance writes it: "-0.50000000".
[[nodiscard]] std::string format_e8(std::int64_t amount_e8);

/// "BTC=2.5" -> ("BTC", 250000000); nullopt when malformed (no '=', an empty asset, more than
/// 8 decimals, not a number).
[[nodiscard]] std::optional<std::pair<std::string, std::int64_t>>
parse_balance(std::string_view text);

/// Balances by asset, in the order first touched.
class account_balances {
public:
    account_balances() = default;
    /// seeds: starting amounts of named assets (10^-8 units).
    explicit account_balances(std::vector<std::pair<std::string, std::int64_t>> seeds)
        : seeds_(std::move(seeds)) {}

    /// The balance of asset; created at its starting amount on first use.
    std::int64_t& of(const std::string& asset);
    /// Every asset touched so far (and every seeded one).
    [[nodiscard]] const std::vector<std::pair<std::string, std::int64_t>>& all();
    /// {"BTC":<10^-8 units>,...}: the assets touched so far.
    [[nodiscard]] std::string json() const;

private:
    std::vector<std::pair<std::string, std::int64_t>> seeds_;
    std::vector<std::pair<std::string, std::int64_t>> amounts_;
};

} // namespace quoter::venue
