//! One node of a chat cluster through Redis (the README's "Scaling out"):
//!
//! ```text
//! cargo run -p socketio-redis --example scale_out -- 127.0.0.1:3000 redis://127.0.0.1:6379
//! cargo run -p socketio-redis --example scale_out -- 127.0.0.1:3001 redis://127.0.0.1:6379
//! ```
//!
//! A `chat` event sent to either node reaches the clients of both.

use socketio_mio::MioServer;
use socketio_redis::{RedisCluster, RedisOptions};
use socketio_sansio::app::{App, Namespace};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3000".into());
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let app: App = App::new().ns(
        "/",
        Namespace::new().on_connection(|socket| {
            // Reaches the clients of every node.
            socket.on("chat", |socket, args, _| socket.of("/").emit("chat", args));
        }),
    );
    let server = MioServer::builder().bind(&addr, app)?;
    let cluster = RedisCluster::attach(&url, RedisOptions::default(), &server.remote())?;
    println!("{addr}: node {} of the cluster at {url}", cluster.uid());
    server.run()?;
    Ok(())
}
