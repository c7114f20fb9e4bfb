#include "quoter/exec/binance_holdings.hpp"

#include <limits>
#include <string_view>

namespace quoter::exec {
namespace {

__extension__ using wide = __int128;

[[nodiscard]] const asset_balance* find_asset(std::span<const asset_balance> balances,
                                              std::string_view name) noexcept {
    for (const asset_balance& balance : balances) {
        if (!name.empty() && balance.asset.view() == name) {
            return &balance;
        }
    }
    return nullptr;
}

/// The listed asset that ends symbol (see the header); nullptr when none does.
[[nodiscard]] const asset_balance* quote_of(std::span<const asset_balance> balances,
                                            std::string_view symbol) noexcept {
    const asset_balance* longest = nullptr;
    for (const asset_balance& balance : balances) {
        const std::string_view asset = balance.asset.view();
        if (asset.empty() || asset.size() >= symbol.size() || !symbol.ends_with(asset)) {
            continue;
        }
        if (find_asset(balances, symbol.substr(0, symbol.size() - asset.size())) != nullptr) {
            return &balance;
        }
        if (longest == nullptr || asset.size() > longest->asset.view().size()) {
            longest = &balance;
        }
    }
    return longest;
}

[[nodiscard]] std::int64_t clamp_wide(wide value) noexcept {
    constexpr wide hi = std::numeric_limits<std::int64_t>::max();
    constexpr wide lo = std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(value > hi ? hi : value < lo ? lo : value);
}

[[nodiscard]] wide pow10(int exponent) noexcept {
    wide out = 1;
    for (int i = 0; i < exponent; ++i) {
        out *= 10;
    }
    return out;
}

} // namespace

fee_asset fee_asset_of(std::string_view asset, const core::symbol_spec& spec) noexcept {
    const std::string_view symbol = spec.name().view();
    if (asset.empty()) {
        return fee_asset::none;
    }
    if (asset.size() < symbol.size() && symbol.ends_with(asset)) {
        return fee_asset::quote;
    }
    if (asset.size() < symbol.size() && symbol.starts_with(asset)) {
        return fee_asset::base;
    }
    return fee_asset::other;
}

std::int64_t scale_e8(std::int64_t amount_e8, int decimals) noexcept {
    if (decimals >= 8) {
        return clamp_wide(wide{amount_e8} * pow10(decimals - 8));
    }
    return clamp_wide(wide{amount_e8} / pow10(8 - (decimals < 0 ? 0 : decimals)));
}

spot_holdings spot_holdings_of(std::span<const asset_balance> balances,
                               const core::symbol_spec& spec) noexcept {
    spot_holdings out;
    const std::string_view symbol = spec.name().view();
    const asset_balance* quote = quote_of(balances, symbol);
    if (quote == nullptr) {
        return out;
    }
    out.quote_listed = true;
    out.quote_asset = quote->asset;
    const std::string_view base_name = symbol.substr(0, symbol.size() - quote->asset.view().size());
    out.base_asset.assign(base_name);
    const auto held = [](const asset_balance& b) {
        const wide total = wide{b.free_e8} + wide{b.locked_e8};
        return total < 0 ? std::int64_t{0} : clamp_wide(total);
    };
    out.quote_units = scale_e8(held(*quote), spec.price_decimals() + spec.qty_decimals());
    out.as_of_ms = quote->update_time_ms;
    if (const asset_balance* base = find_asset(balances, base_name); base != nullptr) {
        out.base_listed = true;
        const std::int64_t step = spec.step_units() > 0 ? spec.step_units() : 1;
        out.base = core::qty{scale_e8(held(*base), spec.qty_decimals()) / step};
    }
    return out;
}

futures_wallet futures_wallet_of(std::span<const asset_balance> balances,
                                 const core::symbol_spec& spec) noexcept {
    futures_wallet out;
    const asset_balance* margin = quote_of(balances, spec.name().view());
    if (margin == nullptr) {
        return out;
    }
    out.listed = true;
    out.asset = margin->asset;
    out.wallet_units = scale_e8(margin->free_e8, spec.price_decimals() + spec.qty_decimals());
    out.as_of_ms = margin->update_time_ms;
    return out;
}

} // namespace quoter::exec
