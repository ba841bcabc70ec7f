//! echo-server as a whole: the command line, separate `serve` processes in a scaled topology on
//! PostgreSQL and Redis, and the deployment files.

mod cli;
mod deploy;
mod scaled;
mod topology;
