//! The `berth` binary.

use berth::cli::{Cli, Command, run_admin, run_restore};
use berth::startup;
use clap::Parser;

fn main() {
    return_large_blocks_to_the_system();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => match startup::serve(&cli.data, &args).await {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("berth: {e:#}");
                    1
                }
            },
            Command::Restore { from } => match run_restore(&cli.data, &from, cli.json).await {
                Ok(()) => 0,
                Err(f) => {
                    eprintln!("berth: {}", f.message);
                    f.code
                }
            },
            command => {
                let services = match startup::open(&cli.data).await {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("berth: {e:#}");
                        return 1;
                    }
                };
                let result = run_admin(&services, command, cli.json).await;
                services.db.clone().close().await;
                match result {
                    Ok(()) => 0,
                    Err(f) => {
                        eprintln!("berth: {}", f.message);
                        f.code
                    }
                }
            }
        }
    });
    std::process::exit(code);
}

/// Checking a password (argon2) takes a 19 MiB block on whichever blocking thread runs
/// it. glibc would keep such freed blocks in that thread's heap, so every thread that
/// ever checked a password would hold 19 MiB more. Blocks of 8 MiB and up are mapped
/// and unmapped instead; the 1 MiB I/O buffers stay on the heap.
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; it runs before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 8 << 20);
    }
}
