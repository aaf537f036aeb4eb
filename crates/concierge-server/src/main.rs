//! The `concierge` binary: the operator contract's CLI (`serve`, `instance`, `mailbox`).
//!
//! This is the only crate that reads flags, environment variables or files; everything it
//! reads is validated into one typed `Config` at start-up (STYLE §2.8).
#![forbid(unsafe_code)]

mod cli;
mod config;
mod serve;
mod smtp;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: the server allocates and frees small buffers on
/// every request from every worker thread, which glibc's arenas serve slower and fragment.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line naming what is wrong (operator contract: bad configuration exits non-zero).
            eprintln!("concierge: {err:#}");
            ExitCode::FAILURE
        }
    }
}
