//! The conformance server on the mio driver: the application and command
//! line of `socketio_apps::conformance`, served on one event-loop thread.
//!
//! `cargo run --release -p socketio-mio --example mio_conformance -- --port PORT [--ping-interval MS] [--ping-timeout MS] [--redis redis://HOST:PORT] [--node-name NAME]`
//!
//! With `--redis`, joins that Redis server's cluster
//! (`socketio_redis::RedisCluster`).

use socketio_apps::conformance::{self, Options};
use socketio_mio::MioServer;
use socketio_redis::{RedisCluster, RedisOptions};

fn main() {
    let options = Options::from_env_or_exit();
    let server = MioServer::builder()
        .config(|_| options.config())
        .bind(("127.0.0.1", options.port), conformance::app(&options))
        .unwrap_or_else(|e| {
            eprintln!(
                "conformance: cannot listen on 127.0.0.1:{}: {e}",
                options.port
            );
            std::process::exit(1)
        });
    let _cluster = options.redis.as_deref().map(|url| {
        RedisCluster::attach(url, RedisOptions::default(), &server.remote()).unwrap_or_else(|e| {
            eprintln!("conformance: cannot join the cluster at {url}: {e}");
            std::process::exit(1)
        })
    });
    eprintln!("conformance: listening on {}", server.local_addr());
    if let Err(e) = server.run() {
        eprintln!("conformance: {e}");
        std::process::exit(1);
    }
}
