//! monime-inbox: the in-memory inbox, and the PostgreSQL inbox against a real PostgreSQL 15
//! server the tests start themselves (see `server.rs`).

mod acceptor;
mod drivers;
mod example;
mod memory;
mod postgres;
mod queue;
mod server;
