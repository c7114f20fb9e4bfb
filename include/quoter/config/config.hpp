// Configuration loading: TOML files, profile overlays, environment overrides, validation.
#pragma once
