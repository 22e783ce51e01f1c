//! HTTP request heads (socketio-http): parsing and routing any bytes never
//! panics, and a complete head never claims more bytes than it was given.
#![no_main]
use libfuzzer_sys::fuzz_target;
use socketio_http::{parse_head, Parsed, Router, MAX_HEAD};
use socketio_sansio::{Config, Cors};

fuzz_target!(|data: &[u8]| {
    match parse_head(data) {
        Parsed::Complete(head, used) => {
            assert!(used <= data.len() && used <= MAX_HEAD);
            let _ = head.body_length(1000);
            let _ = head.keep_alive();
            let config = Config::builder()
                .engine_path("/engine.io/")
                .build()
                .expect("config");
            let router = Router::new(config).with_cors(Some(Cors::any_origin()));
            let _ = router.route(head);
        }
        Parsed::Partial => assert!(data.len() < MAX_HEAD),
        Parsed::TooLarge | Parsed::Malformed => {}
    }
});
