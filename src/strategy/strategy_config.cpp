#include "quoter/strategy/strategy_config.hpp"

namespace quoter::strategy {

std::string_view to_string(model_kind kind) noexcept {
    switch (kind) {
    case model_kind::linear:
        return "linear";
    case model_kind::avellaneda_stoikov:
        return "avellaneda_stoikov";
    case model_kind::glft:
        return "glft";
    }
    return "unknown";
}

std::string_view to_string(horizon_kind kind) noexcept {
    switch (kind) {
    case horizon_kind::finite:
        return "finite";
    case horizon_kind::rolling:
        return "rolling";
    }
    return "unknown";
}

std::string_view to_string(spacing_kind kind) noexcept {
    switch (kind) {
    case spacing_kind::ticks:
        return "ticks";
    case spacing_kind::bps:
        return "bps";
    }
    return "unknown";
}

std::string_view to_string(volatility_kind kind) noexcept {
    switch (kind) {
    case volatility_kind::realized:
        return "realized";
    case volatility_kind::ewma:
        return "ewma";
    }
    return "unknown";
}

std::optional<model_kind> parse_model_kind(std::string_view text) noexcept {
    for (const auto kind : {model_kind::linear, model_kind::avellaneda_stoikov, model_kind::glft}) {
        if (text == to_string(kind)) {
            return kind;
        }
    }
    return std::nullopt;
}

std::optional<horizon_kind> parse_horizon_kind(std::string_view text) noexcept {
    for (const auto kind : {horizon_kind::finite, horizon_kind::rolling}) {
        if (text == to_string(kind)) {
            return kind;
        }
    }
    return std::nullopt;
}

std::optional<spacing_kind> parse_spacing_kind(std::string_view text) noexcept {
    for (const auto kind : {spacing_kind::ticks, spacing_kind::bps}) {
        if (text == to_string(kind)) {
            return kind;
        }
    }
    return std::nullopt;
}

std::optional<volatility_kind> parse_volatility_kind(std::string_view text) noexcept {
    for (const auto kind : {volatility_kind::realized, volatility_kind::ewma}) {
        if (text == to_string(kind)) {
            return kind;
        }
    }
    return std::nullopt;
}

} // namespace quoter::strategy
