//! A Redis transport for the [`socketio_sansio::cluster`] protocol,
//! wire-compatible with Node's `@socket.io/redis-adapter` 8.x (the classic
//! pub/sub adapter) and `@socket.io/redis-emitter`: our nodes and Node.js
//! nodes form one cluster.
//!
//! [`RedisCluster::attach`] joins the application behind a driver's
//! [`Remote`] (both drivers hand one out: `server.remote()`) to the
//! cluster of one Redis server:
//!
//! * a **subscriber** thread with its own connection (the `redis` crate's
//!   synchronous client, RESP2 pub/sub): `PSUBSCRIBE KEY#NSP#*` and
//!   `SUBSCRIBE` to the request, response and node-specific response
//!   channels of each namespace; every message is decoded ([`codec`]) and
//!   fed to the application's loop with [`Remote::run`];
//! * a **publisher** thread with another connection: it publishes what the
//!   application's cluster produces (handed over through a channel) and
//!   asks `PUBSUB NUMSUB KEY-request#NSP#` every
//!   [`RedisOptions::node_count_interval`] for the node count.
//!
//! Both reconnect with exponential backoff (from
//! [`RedisOptions::backoff_min`] to [`RedisOptions::backoff_max`]); the
//! subscriber subscribes again. While Redis is away, outgoing messages are
//! buffered in order (at most [`RedisOptions::max_buffered`]; beyond that
//! the oldest are dropped, each drop logged at `warn` and counted by
//! [`RedisCluster::dropped`]) and published after reconnection; requests
//! waiting for other nodes complete at their timeout with what came
//! (`complete: false`), never silently. The node count keeps its last value
//! while it cannot be asked.
//!
//! ```no_run
//! use socketio_redis::{RedisCluster, RedisOptions};
//! # fn demo(remote: socketio_sansio::app::Remote<()>) -> Result<(), socketio_redis::RedisError> {
//! // `remote` from `socketio_mio::Server::remote()` or
//! // `socketio_blocking::Server::remote()`, for a running server.
//! let cluster = RedisCluster::attach("redis://127.0.0.1:6379", RedisOptions::default(), &remote)?;
//! println!("joined as {}", cluster.uid());
//! # Ok(()) }
//! ```

pub mod codec;

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socketio_sansio::app::Remote;
use socketio_sansio::cluster::{Cluster, ClusterMessage};

pub use codec::{Channels, CodecError};

/// How to join the cluster.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// The channel prefix (the Node adapter's `key`), `socket.io` by default.
    pub key: String,
    /// How long requests without a timeout of their own wait for the other
    /// nodes (the Node adapter's `requestsTimeout`), 5 s by default.
    pub request_timeout: Duration,
    /// The namespaces that take part, `["/"]` by default.
    pub namespaces: Vec<String>,
    /// How often the node count is asked for, 1 s by default.
    pub node_count_interval: Duration,
    /// The first reconnection delay, 100 ms by default (doubled up to
    /// `backoff_max`).
    pub backoff_min: Duration,
    /// The longest reconnection delay, 5 s by default.
    pub backoff_max: Duration,
    /// Outgoing messages kept while Redis is away, 10 000 by default.
    pub max_buffered: usize,
    /// This node's uid; drawn from the OS randomness when `None`.
    pub uid: Option<String>,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            key: "socket.io".into(),
            request_timeout: Duration::from_secs(5),
            namespaces: vec!["/".into()],
            node_count_interval: Duration::from_secs(1),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            max_buffered: 10_000,
            uid: None,
        }
    }
}

impl RedisOptions {
    /// Sets the channel prefix.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// Sets the namespaces that take part.
    pub fn namespaces<S: Into<String>>(mut self, namespaces: impl IntoIterator<Item = S>) -> Self {
        self.namespaces = namespaces.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the default request timeout.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

/// Why joining failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RedisError {
    /// The URL is invalid or Redis could not be reached or subscribed to.
    Redis(redis::RedisError),
    /// The subscriber did not confirm its subscriptions in time.
    SubscribeTimeout,
    /// The application's loop stopped.
    ServerStopped,
}

impl fmt::Display for RedisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedisError::Redis(e) => write!(f, "redis: {e}"),
            RedisError::SubscribeTimeout => f.write_str("redis: subscribing timed out"),
            RedisError::ServerStopped => f.write_str("the server stopped"),
        }
    }
}

impl std::error::Error for RedisError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RedisError::Redis(e) => Some(e),
            _ => None,
        }
    }
}

impl From<redis::RedisError> for RedisError {
    fn from(e: redis::RedisError) -> Self {
        RedisError::Redis(e)
    }
}

/// This node's membership of a Redis cluster: two threads, stopped when
/// this is dropped (or with [`RedisCluster::stop`]).
pub struct RedisCluster {
    uid: String,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
}

impl fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCluster")
            .field("uid", &self.uid)
            .finish()
    }
}

/// How long a blocking read waits before looking at the stop flag.
const POLL: Duration = Duration::from_millis(100);

fn fresh_uid() -> String {
    let mut rng = socketio_sansio::OsRandom;
    socketio_sansio::generate_id(&mut rng)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect()
}

impl RedisCluster {
    /// Connects to `url` (`redis://HOST:PORT[/DB]`), subscribes, attaches a
    /// [`Cluster`] to the application behind `remote` and starts the two
    /// threads. Fails when Redis cannot be reached at first; later outages
    /// are survived (see the [crate docs](crate)).
    pub fn attach<D: 'static>(
        url: &str,
        options: RedisOptions,
        remote: &Remote<D>,
    ) -> Result<RedisCluster, RedisError> {
        let client = redis::Client::open(url)?;
        let uid = options.uid.clone().unwrap_or_else(fresh_uid);
        let channels = Channels::new(options.key.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));

        // Subscribed before anything is published: the node count includes
        // this node from the first request on.
        let first = client.get_connection_with_timeout(Duration::from_secs(5))?;
        let (ready_tx, ready_rx) = mpsc::channel();
        let subscriber = Subscriber {
            client: client.clone(),
            channels: channels.clone(),
            options: options.clone(),
            uid: uid.clone(),
            remote: remote.clone(),
            stop: stop.clone(),
        };
        let sub = thread::Builder::new()
            .name("socketio-redis-sub".into())
            .spawn(move || subscriber.run(first, ready_tx))
            .map_err(|e| RedisError::Redis(e.into()))?;
        match ready_rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                stop.store(true, Ordering::Relaxed);
                return Err(RedisError::Redis(e));
            }
            Err(_) => {
                stop.store(true, Ordering::Relaxed);
                return Err(RedisError::SubscribeTimeout);
            }
        }

        let (tx, rx) = mpsc::channel::<ClusterMessage>();
        let cluster = Cluster::new(uid.clone(), options.request_timeout);
        let attached = remote.run(move |io| {
            io.attach_cluster(
                cluster,
                Some(Box::new(move |message| {
                    // The publisher is gone only once we stopped.
                    let _ = tx.send(message);
                })),
            )
        });
        if !attached {
            stop.store(true, Ordering::Relaxed);
            return Err(RedisError::ServerStopped);
        }
        let publisher = Publisher {
            client,
            channels,
            options,
            remote: remote.clone(),
            stop: stop.clone(),
            dropped: dropped.clone(),
        };
        let publ = thread::Builder::new()
            .name("socketio-redis-pub".into())
            .spawn(move || publisher.run(rx))
            .map_err(|e| RedisError::Redis(e.into()))?;
        log::info!("redis: joined the cluster as {uid}");
        Ok(RedisCluster {
            uid,
            stop,
            dropped,
            threads: vec![sub, publ],
        })
    }

    /// This node's uid in the cluster.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// Outgoing messages dropped because the buffer was full while Redis
    /// was away.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stops both threads and waits for them.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    fn new(options: &RedisOptions) -> Self {
        Backoff {
            min: options.backoff_min,
            max: options.backoff_max,
            next: options.backoff_min,
        }
    }

    fn reset(&mut self) {
        self.next = self.min;
    }

    fn step(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(self.max);
        now
    }
}

fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) {
    let end = Instant::now() + total;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= end {
            return;
        }
        thread::sleep((end - now).min(POLL));
    }
}

struct Subscriber<D> {
    client: redis::Client,
    channels: Channels,
    options: RedisOptions,
    uid: String,
    remote: Remote<D>,
    stop: Arc<AtomicBool>,
}

impl<D: 'static> Subscriber<D> {
    fn run(self, first: redis::Connection, ready: mpsc::Sender<redis::RedisResult<()>>) {
        let mut backoff = Backoff::new(&self.options);
        let mut conn = Some(first);
        let mut ready = Some(ready);
        while !self.stop.load(Ordering::Relaxed) {
            let mut con = match conn.take() {
                Some(c) => c,
                None => match self
                    .client
                    .get_connection_with_timeout(Duration::from_secs(2))
                {
                    Ok(c) => c,
                    Err(e) => {
                        log::warn!("redis subscriber: {e}; retrying");
                        sleep_unless_stopped(&self.stop, backoff.step());
                        continue;
                    }
                },
            };
            match self.listen(&mut con, &mut ready, &mut backoff) {
                Ok(()) => return,
                Err(e) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Err(e));
                        return;
                    }
                    log::warn!("redis subscriber: {e}; reconnecting");
                    sleep_unless_stopped(&self.stop, backoff.step());
                }
            }
        }
    }

    /// Subscribes and feeds messages until the stop flag (`Ok`) or an error.
    fn listen(
        &self,
        con: &mut redis::Connection,
        ready: &mut Option<mpsc::Sender<redis::RedisResult<()>>>,
        backoff: &mut Backoff,
    ) -> redis::RedisResult<()> {
        let mut pubsub = con.as_pubsub();
        for nsp in &self.options.namespaces {
            pubsub.psubscribe(format!("{}*", self.channels.broadcast(nsp)))?;
            pubsub.subscribe(&[
                self.channels.request(nsp),
                self.channels.response(nsp),
                self.channels.specific_response(nsp, &self.uid),
            ])?;
        }
        pubsub.set_read_timeout(Some(POLL))?;
        if let Some(ready) = ready.take() {
            let _ = ready.send(Ok(()));
        } else {
            log::info!("redis subscriber: subscribed again");
        }
        backoff.reset();
        while !self.stop.load(Ordering::Relaxed) {
            let message = match pubsub.get_message() {
                Ok(m) => m,
                Err(e) if e.is_timeout() => continue,
                Err(e) => return Err(e),
            };
            match self
                .channels
                .decode(message.get_channel_name(), message.get_payload_bytes())
            {
                Ok(Some(message)) => {
                    if !self
                        .remote
                        .run(move |io| io.handle_cluster_message(message))
                    {
                        self.stop.store(true, Ordering::Relaxed);
                    }
                }
                Ok(None) => {}
                Err(e) => log::debug!("redis: {} {e}", message.get_channel_name()),
            }
        }
        Ok(())
    }
}

struct Publisher<D> {
    client: redis::Client,
    channels: Channels,
    options: RedisOptions,
    remote: Remote<D>,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
}

impl<D: 'static> Publisher<D> {
    fn run(self, rx: mpsc::Receiver<ClusterMessage>) {
        let mut backoff = Backoff::new(&self.options);
        let mut con: Option<redis::Connection> = None;
        let mut retry_at = Instant::now();
        let mut next_count = Instant::now();
        let mut buffer: VecDeque<ClusterMessage> = VecDeque::new();
        let mut counts: Vec<Option<usize>> = vec![None; self.options.namespaces.len()];
        while !self.stop.load(Ordering::Relaxed) {
            match rx.recv_timeout(POLL) {
                Ok(m) => buffer.push_back(m),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            buffer.extend(rx.try_iter());
            while buffer.len() > self.options.max_buffered {
                buffer.pop_front();
                self.dropped.fetch_add(1, Ordering::Relaxed);
                log::warn!("redis publisher: buffer full while Redis is away, a message dropped");
            }
            let now = Instant::now();
            if con.is_none() && now >= retry_at {
                match self
                    .client
                    .get_connection_with_timeout(Duration::from_secs(2))
                {
                    Ok(c) => {
                        if c.set_write_timeout(Some(Duration::from_secs(2))).is_ok()
                            && c.set_read_timeout(Some(Duration::from_secs(2))).is_ok()
                        {
                            con = Some(c);
                            backoff.reset();
                        }
                    }
                    Err(e) => {
                        log::warn!("redis publisher: {e}; {} message(s) waiting", buffer.len());
                        retry_at = now + backoff.step();
                    }
                }
            }
            let Some(c) = con.as_mut() else {
                continue;
            };
            if let Err(e) = self.publish(c, &mut buffer) {
                log::warn!("redis publisher: {e}; reconnecting");
                con = None;
                retry_at = Instant::now() + backoff.step();
                continue;
            }
            if now >= next_count {
                next_count = now + self.options.node_count_interval;
                for (i, nsp) in self.options.namespaces.iter().enumerate() {
                    let channel = self.channels.request(nsp);
                    let result: redis::RedisResult<(String, usize)> =
                        redis::cmd("PUBSUB").arg("NUMSUB").arg(&channel).query(c);
                    match result {
                        Ok((_, count)) => {
                            if counts[i] != Some(count) {
                                counts[i] = Some(count);
                                log::debug!("redis: {count} node(s) serve {nsp}");
                            }
                            let nsp = nsp.clone();
                            if !self
                                .remote
                                .run(move |io| io.set_cluster_node_count(&nsp, count))
                            {
                                return;
                            }
                        }
                        Err(e) => {
                            log::warn!("redis publisher: PUBSUB NUMSUB: {e}; reconnecting");
                            con = None;
                            retry_at = Instant::now() + backoff.step();
                            break;
                        }
                    }
                }
            }
        }
    }

    /// Publishes the buffer in order; a message leaves it only once Redis
    /// took it.
    fn publish(
        &self,
        con: &mut redis::Connection,
        buffer: &mut VecDeque<ClusterMessage>,
    ) -> redis::RedisResult<()> {
        while let Some(message) = buffer.front() {
            let (channel, bytes) = self.channels.encode(message);
            let _: i64 = redis::cmd("PUBLISH").arg(channel).arg(bytes).query(con)?;
            buffer.pop_front();
        }
        Ok(())
    }
}
