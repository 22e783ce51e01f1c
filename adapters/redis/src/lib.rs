//! socketio-redis (in progress)
pub mod codec;
