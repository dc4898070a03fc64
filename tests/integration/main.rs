//! The integration tests of Rongtook: one binary, one module per area.

mod architecture;
mod browser;
mod cli;
mod common;
mod contract;
mod faults;
mod fixtures;
mod fuzz_corpora;
mod http;
mod live_year;
mod postgres;
mod properties;
mod read_path;
mod schemas;
mod selections;
mod servers;
mod snapshots;
mod store;
mod traffy;
mod traffy_sync;
