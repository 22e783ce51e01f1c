//! Settings of the legacy 0.9 protocol, held in [`crate::Config::legacy`].

use std::time::Duration;

use crate::wire::legacy::Handshake as HandshakeLine;

/// A 0.9 transport this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LegacyTransport {
    /// `websocket`: one packet per text frame.
    WebSocket,
    /// `xhr-polling`: GET receives (held until data), POST sends.
    XhrPolling,
}

impl LegacyTransport {
    /// The name used in URLs and in the handshake line.
    pub fn name(self) -> &'static str {
        match self {
            LegacyTransport::WebSocket => "websocket",
            LegacyTransport::XhrPolling => "xhr-polling",
        }
    }

    /// The transport called `name`, if implemented.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "websocket" => Some(LegacyTransport::WebSocket),
            "xhr-polling" => Some(LegacyTransport::XhrPolling),
            _ => None,
        }
    }
}

/// Timers and transports of 0.9 sessions (socket.io-spec, *Handshake*; the
/// interval and polling duration are the socket.io 0.9 server's settings).
/// Defaults are that reference server's, restricted to the transports this
/// crate implements.
///
/// The handshake advertises the two timeouts in whole seconds, rounded up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyConfig {
    /// Time between server heartbeats `2::` (reference `heartbeat interval`,
    /// 25 s; not advertised).
    pub heartbeat_interval: Duration,
    /// Time the client has to answer a heartbeat (reference `heartbeat
    /// timeout`, 60 s; advertised).
    pub heartbeat_timeout: Duration,
    /// Time a session survives without a transport: before the first
    /// transport request, after a polling response, after a WebSocket
    /// dropped (reference `close timeout`, 60 s; advertised).
    pub close_timeout: Duration,
    /// Time a polling GET is held when there is nothing to send; it is then
    /// answered `8::` (reference `polling duration`, 20 s).
    pub polling_duration: Duration,
    /// The transports offered, in the order advertised.
    pub transports: Vec<LegacyTransport>,
}

impl Default for LegacyConfig {
    fn default() -> Self {
        LegacyConfig {
            heartbeat_interval: Duration::from_secs(25),
            heartbeat_timeout: Duration::from_secs(60),
            close_timeout: Duration::from_secs(60),
            polling_duration: Duration::from_secs(20),
            transports: vec![LegacyTransport::WebSocket, LegacyTransport::XhrPolling],
        }
    }
}

impl LegacyConfig {
    /// True if `transport` is offered.
    pub fn allows(&self, transport: LegacyTransport) -> bool {
        self.transports.contains(&transport)
    }

    /// The handshake line for a new session `sid`.
    pub fn handshake_line(&self, sid: &str) -> HandshakeLine {
        HandshakeLine {
            sid: sid.to_owned(),
            heartbeat_timeout: Some(ceil_secs(self.heartbeat_timeout)),
            close_timeout: ceil_secs(self.close_timeout),
            transports: self
                .transports
                .iter()
                .map(|t| t.name().to_owned())
                .collect(),
        }
    }

    /// Checks the values: every duration positive, the heartbeat interval
    /// shorter than the heartbeat timeout (or clients would time out between
    /// two heartbeats), at least one transport.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.heartbeat_interval.is_zero()
            || self.heartbeat_timeout.is_zero()
            || self.close_timeout.is_zero()
            || self.polling_duration.is_zero()
        {
            return Err("legacy timers must be greater than zero".into());
        }
        if self.heartbeat_interval >= self.heartbeat_timeout {
            return Err("legacy heartbeat_interval must be shorter than heartbeat_timeout".into());
        }
        if self.transports.is_empty() {
            return Err("legacy transports must not be empty".into());
        }
        Ok(())
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_line_rounds_up_and_lists_transports() {
        let config = LegacyConfig {
            heartbeat_timeout: Duration::from_millis(1500),
            close_timeout: Duration::from_secs(3),
            ..LegacyConfig::default()
        };
        let mut out = String::new();
        config.handshake_line("abc").encode(&mut out);
        assert_eq!(out, "abc:2:3:websocket,xhr-polling");
    }

    #[test]
    fn validation() {
        assert!(LegacyConfig::default().validate().is_ok());
        let bad = LegacyConfig {
            heartbeat_interval: Duration::from_secs(60),
            ..LegacyConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = LegacyConfig {
            transports: vec![],
            ..LegacyConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
