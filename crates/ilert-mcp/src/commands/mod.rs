//! The binary's commands besides the servers themselves: the command line, the demo, the
//! stdio-to-HTTP bridge, client configurations and the tools listing.

pub mod cli;
pub mod config;
pub mod connect;
pub mod demo;
pub mod listing;
