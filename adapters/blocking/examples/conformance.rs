//! The conformance server used by external test suites (and our interop
//! tests): the application of [`socketio_apps::conformance`] (where the
//! contract is written down), served by this driver.
//!
//! `cargo run --release -p socketio-blocking --example conformance -- --port PORT [--ping-interval MS] [--ping-timeout MS] [--redis redis://HOST:PORT] [--node-name NAME]`
//!
//! Binds 127.0.0.1:PORT; with `--redis`, joins that Redis server's
//! cluster (`socketio_redis::RedisCluster`); stops on SIGTERM; prints one
//! line at start and nothing per message.

use socketio_apps::conformance::{self, Options};
use socketio_blocking::SocketIo;
use socketio_redis::{RedisCluster, RedisOptions};

fn main() {
    let options = Options::from_env_or_exit();
    let port = options.port;
    let server = SocketIo::builder()
        .config(|_| options.config())
        .bind(("127.0.0.1", port), conformance::app(&options))
        .unwrap_or_else(|e| {
            eprintln!("conformance: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1)
        });
    let _cluster = options.redis.as_deref().map(|url| {
        RedisCluster::attach(url, RedisOptions::default(), &server.remote()).unwrap_or_else(|e| {
            eprintln!("conformance: cannot join the cluster at {url}: {e}");
            std::process::exit(1)
        })
    });
    eprintln!("conformance: listening on {}", server.local_addr());
    server.wait();
}
