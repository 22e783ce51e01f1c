//! Reaching a running application from other threads: one [`Command`]
//! type that every driver carries to its loop (a channel, a queue and a
//! waker...) through its [`CommandSink`], and the [`Remote`] handle built on
//! it (`Clone + Send + Sync`).

use std::fmt;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use crate::server::{Broadcast, ConnId};
use crate::wire::sio::Args;

use super::context::{Io, Socket};
use super::ops::BroadcastAcks;

/// Why an acknowledgement did not arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AckError {
    /// The deadline passed first.
    Timeout,
    /// The socket disconnected first.
    Disconnected,
    /// The emit could not be sent (reserved name, socket gone, too many
    /// pending acks...): the reason.
    NotSent(String),
    /// The server stopped before an answer came.
    ServerStopped,
    /// A blocking wait was asked for on the thread that runs the handlers:
    /// it would wait for itself. Use the callback form there.
    WouldDeadlock,
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AckError::Timeout => f.write_str("no acknowledgement before the timeout"),
            AckError::Disconnected => f.write_str("the socket disconnected before acknowledging"),
            AckError::NotSent(why) => write!(f, "the event was not sent: {why}"),
            AckError::ServerStopped => f.write_str("the server stopped"),
            AckError::WouldDeadlock => f.write_str(
                "a blocking emit_with_ack cannot run on the handler thread; use the callback form",
            ),
        }
    }
}

impl std::error::Error for AckError {}

/// The outcome of an emit with acknowledgement.
pub type AckResult = Result<Args, AckError>;

/// A function to run on the handler thread with the application.
pub type RunFn<D> = Box<dyn FnOnce(&mut Io<'_, D>) + Send>;

/// Work for the application, sent from another thread.
pub enum Command<D> {
    /// Run this on the handler thread with the application.
    Run(RunFn<D>),
    /// Close every session and stop serving.
    Shutdown,
}

impl<D> fmt::Debug for Command<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Run(_) => f.write_str("Command::Run"),
            Command::Shutdown => f.write_str("Command::Shutdown"),
        }
    }
}

/// How a driver carries [`Command`]s to the thread that runs the
/// application.
pub trait CommandSink<D>: Send + Sync {
    /// Queues `command` and wakes the loop; `false` once the server stopped.
    fn send(&self, command: Command<D>) -> bool;

    /// True on the thread that runs the handlers (where a blocking wait for
    /// the loop would deadlock).
    fn on_loop_thread(&self) -> bool;
}

/// A handle on a running application for other threads: server-wide
/// operations, one socket's operations, shutdown. Commands apply in order.
pub struct Remote<D> {
    sink: Arc<dyn CommandSink<D>>,
}

impl<D> Clone for Remote<D> {
    fn clone(&self) -> Self {
        Remote {
            sink: self.sink.clone(),
        }
    }
}

impl<D> fmt::Debug for Remote<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Remote")
    }
}

impl<D: 'static> Remote<D> {
    /// A handle sending through `sink` (drivers call this).
    pub fn new(sink: Arc<dyn CommandSink<D>>) -> Self {
        Remote { sink }
    }

    /// Runs `f` on the handler thread; `false` once the server stopped.
    pub fn run(&self, f: impl FnOnce(&mut Io<'_, D>) + Send + 'static) -> bool {
        self.sink.send(Command::Run(Box::new(f)))
    }

    /// Closes every session and stops the server.
    pub fn shutdown(&self) {
        self.sink.send(Command::Shutdown);
    }

    /// The sockets of `nsp`.
    pub fn of(&self, nsp: impl Into<String>) -> RemoteOperator<D> {
        RemoteOperator {
            remote: self.clone(),
            op: Broadcast::to(nsp),
            local: false,
            timeout: None,
        }
    }

    /// The sockets of `/` in `room`.
    pub fn to(&self, room: impl Into<String>) -> RemoteOperator<D> {
        self.of("/").to(room)
    }

    /// Emits to every socket of `/`.
    pub fn emit(&self, event: impl Into<String>, args: impl Into<Args>) {
        self.of("/").emit(event, args)
    }

    /// One socket.
    pub fn socket(&self, conn: ConnId, nsp: &str) -> RemoteSocket<D> {
        RemoteSocket {
            remote: self.clone(),
            conn,
            nsp: Arc::from(nsp),
        }
    }

    /// Runs `f` with the socket, if it still exists.
    fn with_socket(
        &self,
        conn: ConnId,
        nsp: &Arc<str>,
        f: impl FnOnce(&mut Socket<'_, D>) + Send + 'static,
    ) -> bool {
        let nsp = nsp.clone();
        self.run(move |io| {
            if let Some(mut socket) = io.socket(conn, &nsp) {
                f(&mut socket);
            }
        })
    }
}

/// A selection of sockets, from another thread.
pub struct RemoteOperator<D> {
    remote: Remote<D>,
    op: Broadcast,
    local: bool,
    timeout: Option<Duration>,
}

impl<D: 'static> RemoteOperator<D> {
    /// Adds the members of `room`.
    pub fn to(mut self, room: impl Into<String>) -> Self {
        self.op = self.op.room(room);
        self
    }

    /// Leaves out the members of `room`.
    pub fn except(mut self, room: impl Into<String>) -> Self {
        self.op = self.op.except(room);
        self
    }

    /// Drops the packet for recipients that cannot take it right now.
    pub fn volatile(mut self) -> Self {
        self.op = self.op.volatile();
        self
    }

    /// Keeps the operation on this node.
    pub fn local(mut self) -> Self {
        self.local = true;
        self
    }

    /// The acknowledgement timeout of [`RemoteOperator::emit_with_ack`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    fn apply(self, f: impl FnOnce(super::Operator<'_, D>) + Send + 'static) -> bool {
        let RemoteOperator {
            remote,
            op,
            local,
            timeout,
        } = self;
        remote.run(move |io| {
            let mut operator = io.of(op.nsp.clone());
            operator.sel.broadcast = op;
            operator.sel.local = local;
            operator.timeout = timeout;
            f(operator)
        })
    }

    /// Emits `event` to every selected socket.
    pub fn emit(self, event: impl Into<String>, args: impl Into<Args>) {
        let (event, args) = (event.into(), args.into());
        self.apply(move |o| o.emit(event, args));
    }

    /// Emits with acknowledgements and blocks until every answer arrived
    /// or the timeout passed. Not on the handler thread
    /// ([`AckError::WouldDeadlock`]).
    pub fn emit_with_ack(
        self,
        event: impl Into<String>,
        args: impl Into<Args>,
    ) -> Result<BroadcastAcks, AckError> {
        if self.remote.sink.on_loop_thread() {
            return Err(AckError::WouldDeadlock);
        }
        let (event, args) = (event.into(), args.into());
        let (tx, rx) = mpsc::channel();
        self.apply(move |o| {
            o.emit_with_ack(event, args, move |_, acks| {
                let _ = tx.send(acks);
            })
        });
        rx.recv().map_err(|_| AckError::ServerStopped)
    }

    /// Makes every selected socket join `rooms`.
    pub fn sockets_join(self, rooms: Vec<String>) {
        self.apply(move |o| o.sockets_join(rooms));
    }

    /// Makes every selected socket leave `rooms`.
    pub fn sockets_leave(self, rooms: Vec<String>) {
        self.apply(move |o| o.sockets_leave(rooms));
    }

    /// Disconnects (or with `close`, closes the connections of) every selected socket.
    pub fn disconnect_sockets(self, close: bool) {
        self.apply(move |o| o.disconnect_sockets(close));
    }
}

/// One socket, from another thread. Operations on a socket that has gone
/// do nothing (a blocking emit with ack then answers
/// [`AckError::Disconnected`]).
pub struct RemoteSocket<D> {
    remote: Remote<D>,
    conn: ConnId,
    nsp: Arc<str>,
}

impl<D> Clone for RemoteSocket<D> {
    fn clone(&self) -> Self {
        RemoteSocket {
            remote: self.remote.clone(),
            conn: self.conn,
            nsp: self.nsp.clone(),
        }
    }
}

impl<D> fmt::Debug for RemoteSocket<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteSocket")
            .field("conn", &self.conn)
            .field("nsp", &self.nsp)
            .finish()
    }
}

impl<D: 'static> RemoteSocket<D> {
    /// The connection.
    pub fn conn(&self) -> ConnId {
        self.conn
    }

    /// The namespace.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// Runs `f` with the socket on the handler thread, if it still exists.
    pub fn run(&self, f: impl FnOnce(&mut Socket<'_, D>) + Send + 'static) -> bool {
        self.remote.with_socket(self.conn, &self.nsp, f)
    }

    /// Emits `event` to the client.
    pub fn emit(&self, event: impl Into<String>, args: impl Into<Args>) {
        let (event, args) = (event.into(), args.into());
        self.run(move |s| s.emit(&event, args));
    }

    /// Emits `event` and blocks until the client acknowledges or `timeout`
    /// passes. Not on the handler thread ([`AckError::WouldDeadlock`]):
    /// use [`Socket::emit_with_ack`] there.
    pub fn emit_with_ack(
        &self,
        event: impl Into<String>,
        args: impl Into<Args>,
        timeout: Duration,
    ) -> AckResult {
        if self.remote.sink.on_loop_thread() {
            return Err(AckError::WouldDeadlock);
        }
        let (event, args) = (event.into(), args.into());
        let (tx, rx) = mpsc::channel();
        let gone = tx.clone();
        let queued = self.run(move |s| {
            s.emit_with_ack(&event, args, Some(timeout), move |_, result| {
                let _ = tx.send(result);
            })
        });
        if !queued {
            return Err(AckError::ServerStopped);
        }
        // Dropped unanswered when the socket was already gone.
        drop(gone);
        rx.recv().unwrap_or(Err(AckError::Disconnected))
    }

    /// Joins `room`.
    pub fn join(&self, room: impl Into<String>) {
        let room = room.into();
        self.run(move |s| s.join(&room));
    }

    /// Leaves `room`.
    pub fn leave(&self, room: impl Into<String>) {
        let room = room.into();
        self.run(move |s| s.leave(&room));
    }

    /// Disconnects the socket from its namespace.
    pub fn disconnect(&self) {
        self.run(|s| s.disconnect());
    }

    /// Closes the client's whole connection.
    pub fn close(&self) {
        self.run(|s| s.close());
    }
}
