//! `echo-server`: see `echo-server --help`.

fn main() -> std::process::ExitCode {
    echo_server::cli::main()
}
