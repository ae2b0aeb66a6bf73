//! Where the amphora pipeline's base image comes from on the simulator: a loopback
//! HTTP/1.1 server (127.0.0.1 only) publishing a small image and its `SHA256SUMS`, as
//! cloud-images.ubuntu.com publishes `jammy-server-cloudimg-amd64.img` beside
//! `SHA256SUMS` (GNU sha256sum binary-mode lines, `<hex> *<name>`). It records every
//! request path, so a test can prove a run downloaded nothing, and stops when dropped.
//! [`loopback_profile`] points a profile's `[phase05.amphora_base]` at it, with a
//! fresh download directory: no simulated run reaches the internet.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::profile::Profile;

/// The directory the server publishes under, as the cloud-images site does.
const DIR: &str = "/jammy/current";

/// A loopback server publishing one image and its `SHA256SUMS`.
pub struct ImageServer {
    addr: SocketAddr,
    name: String,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ImageServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageServer")
            .field("addr", &self.addr)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// 64 KiB that `qemu-img` would call a qcow2 v3 image of 2.2 GiB (the header's magic,
/// version and size; the rest zero): small enough to serve, shaped like the real one.
pub fn simulated_image() -> Vec<u8> {
    let mut image = vec![0u8; 64 * 1024];
    image[..4].copy_from_slice(b"QFI\xfb");
    image[4..8].copy_from_slice(&3u32.to_be_bytes());
    image[20..24].copy_from_slice(&16u32.to_be_bytes());
    image[24..32].copy_from_slice(&2_361_393_152u64.to_be_bytes());
    image
}

impl ImageServer {
    /// Publishes `image` as `name`; `SHA256SUMS` lists `published` for it, or the
    /// image's own digest when `None`.
    pub fn start(name: &str, image: Vec<u8>, published: Option<String>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let digest = published.unwrap_or_else(|| format!("{:x}", Sha256::digest(&image)));
        let sums = format!(
            "{} *other-cloudimg-amd64.img\n{digest} *{name}\n",
            "0".repeat(64)
        );
        let files = vec![
            (format!("{DIR}/SHA256SUMS"), sums.into_bytes()),
            (format!("{DIR}/{name}"), image),
        ];
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopping) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    answer(stream, &files, &seen);
                }
            }
        });
        Ok(ImageServer {
            addr,
            name: name.to_string(),
            requests,
            stop,
            thread: Some(thread),
        })
    }

    pub fn image_url(&self) -> String {
        format!("http://{}{DIR}/{}", self.addr, self.name)
    }

    pub fn sums_url(&self) -> String {
        format!("http://{}{DIR}/SHA256SUMS", self.addr)
    }

    /// The path of every request served so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("request log").clone()
    }
}

impl Drop for ImageServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One GET: the file at its path, 404 for others; the connection closes after it.
fn answer(stream: TcpStream, files: &[(String, Vec<u8>)], seen: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    seen.lock().expect("request log").push(path.clone());
    let (status, body): (&str, &[u8]) = match files.iter().find(|(p, _)| *p == path) {
        Some((_, b)) => ("200 OK", b),
        None => ("404 Not Found", b"not found\n"),
    };
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // A client that stopped reading closes early; nothing to do about it here.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// A profile whose base image comes from a fresh loopback server (publishing a wrong
/// digest when `wrong_digest`) into a fresh download directory; the server and the
/// directory live as long as the returned values.
pub fn loopback_profile(
    profile: &Profile,
    wrong_digest: bool,
) -> Result<(Profile, ImageServer, tempfile::TempDir), String> {
    let mut profile = profile.clone();
    let base = profile
        .phase05
        .as_mut()
        .and_then(|p| p.amphora_base.as_mut())
        .ok_or_else(|| format!("profile {} has no [phase05.amphora_base]", profile.name))?;
    let name = crate::actions::download::file_name(&base.url).map_err(|e| e.to_string())?;
    let published = wrong_digest.then(|| format!("{:x}", Sha256::digest(b"not this image")));
    let server = ImageServer::start(&name, simulated_image(), published)
        .map_err(|e| format!("cannot start the loopback image server: {e}"))?;
    let dir = tempfile::Builder::new()
        .prefix("stackgate-amphora-")
        .tempdir()
        .map_err(|e| format!("cannot make a download directory: {e}"))?;
    base.url = server.image_url();
    base.sums_url = server.sums_url();
    base.download_dir = dir.path().display().to_string();
    Ok((profile, server, dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::download::{DownloadError, fetch_verified};

    #[test]
    fn it_publishes_the_image_and_its_digest_and_logs_each_request() {
        let server = ImageServer::start("a.img", simulated_image(), None).unwrap();
        assert!(server.image_url().starts_with("http://127.0.0.1:"));
        let dir = tempfile::tempdir().unwrap();
        let v = fetch_verified(
            &server.image_url(),
            &server.sums_url(),
            dir.path(),
            1 << 20,
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(v.bytes, 64 * 1024);
        assert_eq!(
            server.requests(),
            ["/jammy/current/SHA256SUMS", "/jammy/current/a.img"]
        );
    }

    #[test]
    fn a_wrong_published_digest_is_a_mismatch() {
        let (profile, server, dir) = loopback_profile(&Profile::testcloud(), true).unwrap();
        let base = profile.phase05.unwrap().amphora_base.unwrap();
        let err = fetch_verified(
            &base.url,
            &base.sums_url,
            dir.path(),
            1 << 20,
            Duration::from_secs(10),
        )
        .unwrap_err();
        assert!(matches!(err, DownloadError::Mismatch { .. }), "{err:?}");
        assert_eq!(server.requests().len(), 2);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
