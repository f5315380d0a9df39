//! Nothing: the check is `tests/both_providers.rs`.
