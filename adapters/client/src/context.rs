//! What a handler gets: [`Socket`], the namespace it runs for, with the
//! client's commands; and [`Ack`], the server's request for an answer.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use socketio_sansio::client::{Client as Machine, EmitStatus};
use socketio_sansio::{AckId, Args};

use crate::error::{AckError, Error};

/// What runs with an acknowledgement (or why none came).
pub(crate) type AckCallback = Box<dyn FnOnce(&mut Socket<'_>, Result<Args, AckError>) + Send>;

/// The state machine and the callbacks waiting for acknowledgements: the
/// I/O thread's, lent to handlers through [`Socket`].
pub(crate) struct Core {
    pub(crate) machine: Machine,
    pub(crate) acks: HashMap<(String, AckId), AckCallback>,
}

/// The namespace a handler runs for, on the I/O thread: the server
/// application's `Socket` for the client side. Commands act at once (no
/// round trip through a channel).
pub struct Socket<'a> {
    pub(crate) core: &'a mut Core,
    pub(crate) nsp: String,
}

impl std::fmt::Debug for Socket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("nsp", &self.nsp)
            .field("id", &self.id())
            .finish()
    }
}

impl<'a> Socket<'a> {
    pub(crate) fn new(core: &'a mut Core, nsp: &str) -> Self {
        Socket {
            core,
            nsp: nsp.to_owned(),
        }
    }

    /// The namespace.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The socket id the server gave, while connected.
    pub fn id(&self) -> Option<&str> {
        self.core.machine.socket_id(&self.nsp)
    }

    /// Whether the namespace is connected.
    pub fn is_connected(&self) -> bool {
        self.core.machine.is_connected(&self.nsp)
    }

    /// Whether the last connection restored the earlier session
    /// (connection state recovery; socket.io-client's `socket.recovered`).
    pub fn recovered(&self) -> bool {
        self.core.machine.recovered(&self.nsp)
    }

    /// Whether the transport is a WebSocket (after the upgrade, if any).
    pub fn is_websocket(&self) -> bool {
        self.core.machine.is_websocket()
    }

    /// Another namespace of the same connection (to emit there).
    pub fn of(&mut self, nsp: &str) -> Socket<'_> {
        Socket::new(self.core, nsp)
    }

    /// Emits `event`: sent now when connected, else buffered until the
    /// namespace (re)connects.
    pub fn emit(&mut self, event: &str, args: impl Into<Args>) -> Result<EmitStatus, Error> {
        Ok(self
            .core
            .machine
            .emit(Instant::now(), &self.nsp, event, args.into())?)
    }

    /// Emits `event` only if the transport can take it now
    /// ([`EmitStatus::Dropped`] otherwise).
    pub fn emit_volatile(
        &mut self,
        event: &str,
        args: impl Into<Args>,
    ) -> Result<EmitStatus, Error> {
        Ok(self
            .core
            .machine
            .emit_volatile(Instant::now(), &self.nsp, event, args.into())?)
    }

    /// Emits `event` asking for an acknowledgement; `then` runs exactly
    /// once on the I/O thread: with the answer, [`AckError::Timeout`] after
    /// `timeout` (`None`: no limit unless the options set an ack timeout),
    /// [`AckError::Disconnected`], or at once [`AckError::NotSent`].
    pub fn emit_with_ack(
        &mut self,
        event: &str,
        args: impl Into<Args>,
        timeout: Option<Duration>,
        then: impl FnOnce(&mut Socket<'_>, Result<Args, AckError>) + Send + 'static,
    ) {
        self.emit_with_ack_boxed(event, args.into(), timeout, Box::new(then));
    }

    pub(crate) fn emit_with_ack_boxed(
        &mut self,
        event: &str,
        args: Args,
        timeout: Option<Duration>,
        then: AckCallback,
    ) {
        match self
            .core
            .machine
            .emit_with_ack(Instant::now(), &self.nsp, event, args, timeout)
        {
            Ok(id) => {
                self.core.acks.insert((self.nsp.clone(), id), then);
            }
            Err(e) => then(self, Err(AckError::NotSent(e))),
        }
    }

    /// Leaves the namespace ("io client disconnect"): no reconnection of it.
    pub fn disconnect(&mut self) -> Result<(), Error> {
        Ok(self
            .core
            .machine
            .disconnect_namespace(Instant::now(), &self.nsp)?)
    }
}

/// The server asked for an acknowledgement of an event: answer with
/// [`Ack::send`] (at most once; dropping it answers nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub(crate) nsp: String,
    pub(crate) id: AckId,
}

impl Ack {
    /// Sends the acknowledgement with `args`.
    pub fn send(self, socket: &mut Socket<'_>, args: impl Into<Args>) -> Result<(), Error> {
        Ok(socket
            .core
            .machine
            .ack(Instant::now(), &self.nsp, self.id, args.into())?)
    }

    /// The id the server gave the request.
    pub fn id(&self) -> AckId {
        self.id
    }
}
