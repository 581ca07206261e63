//! Property tests: random batches of appends against a simple model of streams and log.

mod support;

use std::collections::HashMap;

use proptest::prelude::*;
use reception_store::{AppendError, ExpectedVersion, Store};
use serde_json::json;
use support::{event, req};

#[derive(Debug, Clone)]
struct Op {
    stream: usize,
    events: usize,
    /// 0: Any, 1: NoStream, 2: Exact(right), 3: Exact(wrong)
    expected: u8,
}

fn op() -> impl Strategy<Value = Op> {
    (0..4usize, 1..5usize, 0..4u8).prop_map(|(stream, events, expected)| Op {
        stream,
        events,
        expected,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn versions_order_and_contents_match_the_model(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut versions: HashMap<usize, u64> = HashMap::new();
        let mut written: Vec<(String, u64, serde_json::Value)> = Vec::new(); // global order
        for (n, op) in ops.iter().enumerate() {
            let stream = format!("visit-{}", op.stream);
            let current = versions.get(&op.stream).copied().unwrap_or(0);
            let expected = match op.expected {
                0 => ExpectedVersion::Any,
                1 => ExpectedVersion::NoStream,
                2 => ExpectedVersion::Exact(current),
                _ => ExpectedVersion::Exact(current + 1),
            };
            let should_pass = match expected {
                ExpectedVersion::Any => true,
                ExpectedVersion::NoStream => current == 0,
                ExpectedVersion::Exact(v) => v == current,
            };
            let datas: Vec<serde_json::Value> = (0..op.events).map(|i| json!({ "op": n, "i": i, "s": op.stream })).collect();
            let result = store.append_blocking(req(&stream, expected, datas.iter().map(|d| event("T", d.clone())).collect()));
            match result {
                Ok(a) => {
                    prop_assert!(should_pass);
                    prop_assert_eq!(a.version, current + op.events as u64);
                    for (i, (e, d)) in a.events.iter().zip(&datas).enumerate() {
                        prop_assert_eq!(e.seq, written.len() as u64 + 1);
                        prop_assert_eq!(e.version, current + 1 + i as u64);
                        written.push((stream.clone(), e.version, d.clone()));
                    }
                    versions.insert(op.stream, a.version);
                }
                Err(AppendError::Conflict { actual, .. }) => {
                    prop_assert!(!should_pass);
                    prop_assert_eq!(actual, current);
                }
                Err(e) => prop_assert!(false, "unexpected error {}", e),
            }
        }
        let all: Vec<_> = store.read_all(1, usize::MAX).map(Result::unwrap).collect();
        prop_assert_eq!(all.len(), written.len());
        for (env, (stream, version, data)) in all.iter().zip(&written) {
            prop_assert_eq!(&env.stream, stream);
            prop_assert_eq!(env.version, *version);
            prop_assert_eq!(&env.data, data);
        }
        for (s, v) in &versions {
            let stream = format!("visit-{s}");
            prop_assert_eq!(store.stream_version(&stream).unwrap(), *v);
            let read: Vec<_> = store.read_stream(&stream, 1, None).map(Result::unwrap).collect();
            let expect: Vec<_> = written.iter().filter(|w| w.0 == stream).collect();
            prop_assert_eq!(read.len(), expect.len());
            for (env, w) in read.iter().zip(expect) {
                prop_assert_eq!((env.version, &env.data), (w.1, &w.2));
            }
        }
        let report = store.verify().unwrap();
        prop_assert!(report.ok);
        prop_assert_eq!(report.events_checked, written.len() as u64);
    }
}
