//! The `berth` binary.

use berth::cli::{Cli, Command, run_admin};
use berth::startup;
use clap::Parser;

fn main() {
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
