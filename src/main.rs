//! The stackgate binary: parse arguments, run, print, exit with the verdict's code.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use clap::Parser;

fn main() {
    let args = stackgate::cli::Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stackgate: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let (outcome, leftovers) = runtime.block_on(stackgate::cli::run_leaving(args));
    // Never freed: the process exits below, and the kernel takes it all back at once.
    std::mem::forget(leftovers);
    // Do not wait for the blocking pool: a killed command's reaping must not delay exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    let _ = std::io::stdout().write_all(outcome.stdout.as_bytes());
    let _ = std::io::stderr().write_all(outcome.stderr.as_bytes());
    let _ = std::io::stdout().flush();
    std::process::exit(outcome.exit_code);
}
