//! The machine set up for a run: the server under test and the load generator on separate cores,
//! so neither takes the other's CPU time, and a file descriptor budget for tens of thousands of
//! sockets on each side.

use std::ffi::OsStr;
use std::sync::OnceLock;

use anyhow::Context;
use nix::sched::{CpuSet, sched_setaffinity};
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::unistd::Pid;
use tokio::process::Command;

/// Open files each process may hold: 50,000 sockets on each side, and room to spare. Without
/// the privilege to raise the hard limit, the soft limit goes up to the hard one.
const FILE_DESCRIPTORS: u64 = 200_000;

/// The machine's cores, counted before this process was pinned to one.
static MACHINE_CORES: OnceLock<usize> = OnceLock::new();

/// The cores servers run on (`taskset --cpu-list` syntax), when pinned.
static SERVER_CORES: OnceLock<String> = OnceLock::new();

/// Raises the open-file limit, and, when `pin` holds and the machine has two cores or more, pins
/// this process (the load generator) to core 0 and every server it starts to the others. Called
/// before the async runtime starts, so its worker threads inherit the pinning.
pub fn setup(pin: bool) -> anyhow::Result<()> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if setrlimit(
        Resource::RLIMIT_NOFILE,
        FILE_DESCRIPTORS,
        FILE_DESCRIPTORS.max(hard),
    )
    .is_err()
    {
        setrlimit(
            Resource::RLIMIT_NOFILE,
            soft.max(hard.min(FILE_DESCRIPTORS)),
            hard,
        )?;
    }
    let cores = machine_cores();
    if !pin || cores < 2 {
        return Ok(());
    }
    let mut generator = CpuSet::new();
    generator.set(0)?;
    sched_setaffinity(Pid::from_raw(0), &generator).context("pinning the load generator")?;
    let servers = if cores == 2 {
        "1".to_owned()
    } else {
        format!("1-{}", cores - 1)
    };
    eprintln!("load generator on core 0, servers on cores {servers}");
    let _ = SERVER_CORES.set(servers);
    Ok(())
}

/// Open files this process (and every server it starts) may hold.
pub fn open_file_limit() -> u64 {
    getrlimit(Resource::RLIMIT_NOFILE).map_or(0, |(soft, _)| soft)
}

/// A command for a server process: under `taskset` on the servers' cores when pinned. `taskset`
/// executes the program in its own process, so the child's pid (and memory) is the server's.
pub fn server_command(program: impl AsRef<OsStr>) -> Command {
    match SERVER_CORES.get() {
        Some(cores) => {
            let mut command = Command::new("taskset");
            command.args(["--cpu-list", cores]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Whether servers are pinned, for the reports.
pub fn describe() -> String {
    match SERVER_CORES.get() {
        Some(cores) => format!("load generator pinned to core 0, servers to cores {cores}"),
        None => "not pinned: server and load generator share every core".to_owned(),
    }
}

/// The machine's cores (all of them, whatever this process is pinned to).
pub fn machine_cores() -> usize {
    *MACHINE_CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}
