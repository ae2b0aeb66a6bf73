//! The amphora pipeline's download (seed 004 `phase-05-amphora-pipeline.sh`, D-056):
//! fetch the published `SHA256SUMS`, stream the base image to a temp file beside its
//! destination while hashing it, and move it into place only when its sha256 is the one
//! published for its file name. A mismatch removes the partial file and is an error
//! naming both digests (digests are not secrets), so nothing unverified can be uploaded.
//!
//! `SHA256SUMS` is GNU coreutils `sha256sum` output (coreutils src/digest.c
//! `output_file`): `<64 hex>` then two characters, `"  "` in text mode or `" *"` in
//! binary mode, then the file name; a line for a name holding a backslash or newline
//! starts with `\` and escapes them. Ubuntu's cloud-images lists are binary mode
//! (`*name`).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// Why a verified download failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DownloadError {
    #[error("GET {url}: {why}")]
    Http { url: String, why: String },
    #[error("{url}: no line for {name} in the published SHA256SUMS")]
    NotListed { url: String, name: String },
    #[error("{url} line {line}: not `<64 hex digits>  <name>` (GNU sha256sum output)")]
    BadSums { url: String, line: usize },
    #[error("{url}: the file name cannot be taken from the URL's path")]
    NoName { url: String },
    #[error(
        "{url}: sha256 {actual} is not the published {expected}: the download was removed, nothing is uploaded"
    )]
    Mismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: {why}")]
    Io { path: String, why: String },
}

/// A download whose digest matched the published one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
}

/// The file name a URL's last path segment names (`.../jammy-server-cloudimg-amd64.img`).
pub fn file_name(url: &str) -> Result<String, DownloadError> {
    let parsed = url::Url::parse(url).map_err(|e| DownloadError::Http {
        url: url.to_string(),
        why: e.to_string(),
    })?;
    parsed
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .ok_or_else(|| DownloadError::NoName {
            url: url.to_string(),
        })
}

/// The published digest of `name` in a `SHA256SUMS` document.
pub fn published_digest(sums: &str, sums_url: &str, name: &str) -> Result<String, DownloadError> {
    for (n, line) in sums.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || DownloadError::BadSums {
            url: sums_url.to_string(),
            line: n + 1,
        };
        // An escaped line (a name with `\` or a newline) is never the image's name.
        let body = line.strip_prefix('\\').unwrap_or(line);
        let (hex, rest) = body.split_at_checked(64).ok_or_else(bad)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let listed = rest
            .strip_prefix("  ")
            .or_else(|| rest.strip_prefix(" *"))
            .ok_or_else(bad)?;
        if listed == name && !line.starts_with('\\') {
            return Ok(hex.to_ascii_lowercase());
        }
    }
    Err(DownloadError::NotListed {
        url: sums_url.to_string(),
        name: name.to_string(),
    })
}

/// HTTP(S) GET with a bound on the whole exchange.
fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .into()
}

fn http_error(url: &str, e: impl std::fmt::Display) -> DownloadError {
    DownloadError::Http {
        url: url.to_string(),
        why: e.to_string(),
    }
}

/// The published `SHA256SUMS` (at most 1 MiB).
fn fetch_sums(agent: &ureq::Agent, sums_url: &str) -> Result<String, DownloadError> {
    agent
        .get(sums_url)
        .call()
        .map_err(|e| http_error(sums_url, e))?
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_string()
        .map_err(|e| http_error(sums_url, e))
}

/// Downloads `image_url` into `dest_dir`, verified against `sums_url`. At most
/// `max_bytes` are read (a base image is a few hundred MiB; more is refused).
pub fn fetch_verified(
    image_url: &str,
    sums_url: &str,
    dest_dir: &Path,
    max_bytes: u64,
    timeout: Duration,
) -> Result<Verified, DownloadError> {
    let name = file_name(image_url)?;
    let agent = agent(timeout);
    let sums = fetch_sums(&agent, sums_url)?;
    let expected = published_digest(&sums, sums_url, &name)?;
    let io = |path: &Path, e: std::io::Error| DownloadError::Io {
        path: path.display().to_string(),
        why: e.to_string(),
    };
    let partial = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(dest_dir)
        .map_err(|e| io(dest_dir, e))?;
    let mut response = agent
        .get(image_url)
        .call()
        .map_err(|e| http_error(image_url, e))?;
    let mut reader = response.body_mut().with_config().limit(max_bytes).reader();
    let mut hasher = Sha256::new();
    let mut out = BufWriter::new(partial.as_file());
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| http_error(image_url, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| io(partial.path(), e))?;
        bytes += n as u64;
    }
    out.flush().map_err(|e| io(partial.path(), e))?;
    drop(out);
    let actual = format!("{:x}", hasher.finalize());
    if actual != expected {
        // Dropping the temp file removes it.
        return Err(DownloadError::Mismatch {
            url: image_url.to_string(),
            expected,
            actual,
        });
    }
    partial
        .as_file()
        .sync_all()
        .map_err(|e| io(partial.path(), e))?;
    let path = dest_dir.join(&name);
    partial.persist(&path).map_err(|e| io(&path, e.error))?;
    Ok(Verified {
        path,
        sha256: actual,
        bytes,
    })
}

/// A file already on disk checked against the published digest, fetched fresh: the
/// download step's post-condition.
pub fn verify_on_disk(
    path: &Path,
    image_url: &str,
    sums_url: &str,
    timeout: Duration,
) -> Result<Verified, DownloadError> {
    let name = file_name(image_url)?;
    let sums = fetch_sums(&agent(timeout), sums_url)?;
    let expected = published_digest(&sums, sums_url, &name)?;
    let actual = file_digest(path)?;
    if actual != expected {
        return Err(DownloadError::Io {
            path: path.display().to_string(),
            why: format!("sha256 {actual} is not the published {expected}"),
        });
    }
    let bytes = std::fs::metadata(path)
        .map_err(|e| DownloadError::Io {
            path: path.display().to_string(),
            why: e.to_string(),
        })?
        .len();
    Ok(Verified {
        path: path.to_path_buf(),
        sha256: actual,
        bytes,
    })
}

/// The sha256 of a file already on disk (a base image kept from an earlier run).
pub fn file_digest(path: &Path) -> Result<String, DownloadError> {
    let mut file = File::open(path).map_err(|e| DownloadError::Io {
        path: path.display().to_string(),
        why: e.to_string(),
    })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| DownloadError::Io {
        path: path.display().to_string(),
        why: e.to_string(),
    })?;
    Ok(format!("{:x}", hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    /// A loopback HTTP/1.1 server answering `requests` GETs from `files` (path ->
    /// body), 404 for others, then stopping.
    fn serve(files: Vec<(&'static str, Vec<u8>)>, requests: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(requests) {
                let mut stream = stream.unwrap();
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                reader.read_line(&mut line).unwrap();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h == "\r\n" || h.is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let (status, body) = match files.iter().find(|(p, _)| *p == path) {
                    Some((_, b)) => ("200 OK", b.clone()),
                    None => ("404 Not Found", b"not found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                // A client that stopped reading (the size bound) closes early.
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        format!("http://{addr}")
    }

    fn digest(bytes: &[u8]) -> String {
        format!("{:x}", Sha256::digest(bytes))
    }

    const NAME: &str = "jammy-server-cloudimg-amd64.img";

    fn image() -> Vec<u8> {
        (0..300_000u32).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn a_published_digest_is_found_in_text_and_binary_mode_lines() {
        let sums = format!(
            "{}  other.img\n{} *{NAME}\n",
            "a".repeat(64),
            "B".repeat(64)
        );
        assert_eq!(published_digest(&sums, "u", NAME).unwrap(), "b".repeat(64));
        assert_eq!(
            published_digest(&sums, "u", "other.img").unwrap(),
            "a".repeat(64)
        );
        assert!(matches!(
            published_digest(&sums, "u", "missing.img"),
            Err(DownloadError::NotListed { .. })
        ));
        assert_eq!(
            published_digest("zz  x\n", "u", "x"),
            Err(DownloadError::BadSums {
                url: "u".into(),
                line: 1
            })
        );
        let escaped = format!("\\{} *{NAME}\n", "c".repeat(64));
        assert!(published_digest(&escaped, "u", NAME).is_err());
    }

    #[test]
    fn a_matching_download_is_moved_into_place() {
        let body = image();
        let sums = format!("{} *{NAME}\n", digest(&body));
        let base = serve(
            vec![
                ("/SHA256SUMS", sums.into_bytes()),
                ("/img/jammy-server-cloudimg-amd64.img", body.clone()),
            ],
            2,
        );
        let dir = tempfile::tempdir().unwrap();
        let v = fetch_verified(
            &format!("{base}/img/{NAME}"),
            &format!("{base}/SHA256SUMS"),
            dir.path(),
            10 << 20,
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(v.bytes, body.len() as u64);
        assert_eq!(v.sha256, digest(&body));
        assert_eq!(std::fs::read(&v.path).unwrap(), body);
        assert_eq!(file_digest(&v.path).unwrap(), digest(&body));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no partial file left"
        );
    }

    #[test]
    fn a_mismatch_removes_the_download_and_names_both_digests() {
        let body = image();
        let published = digest(b"what was published");
        let sums = format!("{published} *{NAME}\n");
        let base = serve(
            vec![
                ("/SHA256SUMS", sums.into_bytes()),
                ("/jammy-server-cloudimg-amd64.img", body.clone()),
            ],
            2,
        );
        let dir = tempfile::tempdir().unwrap();
        let err = fetch_verified(
            &format!("{base}/{NAME}"),
            &format!("{base}/SHA256SUMS"),
            dir.path(),
            10 << 20,
            Duration::from_secs(10),
        )
        .unwrap_err();
        assert_eq!(
            err,
            DownloadError::Mismatch {
                url: format!("{base}/{NAME}"),
                expected: published,
                actual: digest(&body),
            }
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing left behind"
        );
    }

    #[test]
    fn an_oversized_or_missing_image_is_an_error_and_leaves_nothing() {
        let body = image();
        let sums = format!("{} *{NAME}\n", digest(&body));
        let base = serve(
            vec![
                ("/SHA256SUMS", sums.into_bytes()),
                ("/jammy-server-cloudimg-amd64.img", body),
            ],
            3,
        );
        let dir = tempfile::tempdir().unwrap();
        let url = format!("{base}/{NAME}");
        let sums_url = format!("{base}/SHA256SUMS");
        let big = fetch_verified(&url, &sums_url, dir.path(), 1000, Duration::from_secs(10));
        assert!(matches!(big, Err(DownloadError::Http { .. })), "{big:?}");
        let gone = fetch_verified(
            &format!("{base}/SHA256SUMS"),
            &format!("{base}/nowhere"),
            dir.path(),
            1000,
            Duration::from_secs(10),
        );
        assert!(matches!(gone, Err(DownloadError::Http { .. })), "{gone:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
