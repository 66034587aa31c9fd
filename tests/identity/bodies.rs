//! Request bodies are bounded while they are read (`crates/shopnow-spin/src/entry.rs`): a declared
//! length over the component's limit is answered 413 before the body is sent, and an undeclared
//! (chunked) body is refused as soon as it passes the limit, without the instance holding it.
//! Raw HTTP/1.1 over TCP, because an HTTP client would insist on sending the body first.

use std::time::{Duration, Instant};

use shopnow_testkit::{TestApp, api_test};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Reads the response head (status line and headers) from `stream`.
async fn response_head(stream: &mut TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).await.unwrap();
        assert!(
            n == 1,
            "connection closed before a response: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase())
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.addr()).await.unwrap()
}

api_test!(async fn a_declared_gigabyte_is_refused_at_once_without_being_sent(app) {
    for path in ["/v1/users", "/v1/auth/token", "/v1/products", "/v1/orders"] {
        let mut stream = connect(&app).await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let (status, head) = tokio::time::timeout(Duration::from_secs(1), response_head(&mut stream))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer within 1 s of the headers"));
        assert_eq!(status, 413, "{path}: {head}");
        assert!(head.contains("content-type: application/problem+json"), "{path}: {head}");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
});

api_test!(async fn a_chunked_body_is_refused_once_it_passes_the_limit(app) {
    // A small malformed body first: the instance's memory without any large body.
    let resp = app.post("/v1/auth/token").header("content-type", "application/json").body("{").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let before = app.peak_linear_memory("identity");

    let mut stream = connect(&app).await;
    stream
        .write_all(b"POST /v1/auth/token HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // 8 MiB in 64 KiB chunks; the server may stop reading (and close) long before the end.
    let sender = tokio::spawn(async move {
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0usize;
        for _ in 0..128 {
            let framed = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk.clone(), b"\r\n".to_vec()].concat();
            if writer.write_all(&framed).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        let _ = writer.write_all(b"0\r\n\r\n").await;
        sent
    });
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(Duration::from_secs(20), async {
        while !head.ends_with(b"\r\n\r\n") {
            if reader.read(&mut byte).await.unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
    })
    .await
    .expect("no answer to the chunked body within 20 s");
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 413"), "{head}");
    drop(reader);
    let sent = sender.await.unwrap();
    eprintln!("chunked body: the client had sent {sent} bytes when it was refused");

    // The test host sees what Spin hides: the instance never held the body (8 KiB limit).
    if let (Some(before), Some(after)) = (before, app.peak_linear_memory("identity")) {
        eprintln!("identity peak linear memory: {before} bytes before, {after} after the 8 MiB body");
        assert!(after < before + (1 << 20), "{before} -> {after}: the body was buffered");
    }
});
