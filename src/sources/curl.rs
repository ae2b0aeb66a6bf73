//! HTTP probes through curl: one GET, the response headers on stdout, the body thrown
//! away, no redirect followed (`curl -sS -o /dev/null -D - --max-time N URL`).
//!
//! The status line and headers are parsed with `httparse`, `Set-Cookie` values with the
//! `cookie` crate. A connection that could not be made is an answer about the cloud
//! (nothing listens there), decided by curl's exit status 7, CURLE_COULDNT_CONNECT
//! (R3), not by its message, which curl rewords between releases ("Connection refused"
//! in 7.81, "Couldn't connect to server" in 7.88); any other failure (timeout, DNS)
//! says the probe could not be made from here.

use super::{SourceError, excerpt};
use crate::runner::{CommandOutput, Invocation, display_argv};

/// Seconds curl may take for the whole request.
pub const MAX_TIME_SECS: u64 = 10;

/// `curl -sS --noproxy '*' -o /dev/null -D - --max-time 10 <url>`. `--noproxy` keeps
/// an operator's `http_proxy` from routing a probe of a cloud address elsewhere.
pub fn get_invocation(url: &str) -> Invocation {
    Invocation::new([
        "curl".to_string(),
        "-sS".to_string(),
        "--noproxy".to_string(),
        "*".to_string(),
        "-o".to_string(),
        "/dev/null".to_string(),
        "-D".to_string(),
        "-".to_string(),
        "--max-time".to_string(),
        MAX_TIME_SECS.to_string(),
        url.to_string(),
    ])
}

/// What one GET found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpProbe {
    Response(HttpResponse),
    /// curl exit 7: no connection could be made; nothing listens there.
    NoConnection {
        message: String,
    },
}

/// A response's status line and headers, in the order they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub code: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

impl HttpResponse {
    /// Every value of a header (names compare case-insensitively).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.header_values(name).next()
    }

    /// The `Set-Cookie` of a cookie by name, parsed.
    pub fn cookie(&self, name: &str) -> Option<cookie::Cookie<'static>> {
        self.header_values("set-cookie")
            .filter_map(|v| cookie::Cookie::parse(v.to_string()).ok())
            .find(|c| c.name() == name)
    }

    /// `302 Found`.
    pub fn status_line(&self) -> String {
        format!("{} {}", self.code, self.reason)
    }
}

/// Parses curl's header dump (stdout of `-D -`) or its failure.
pub fn parse_get(output: &CommandOutput) -> Result<HttpProbe, SourceError> {
    let argv = display_argv(&output.argv);
    if !output.success() {
        if output.exit_code == Some(7) {
            return Ok(HttpProbe::NoConnection {
                message: excerpt(&output.stderr_text()),
            });
        }
        return Err(SourceError::exit(output));
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let parse_error = |message: String| SourceError::Parse {
        argv: argv.clone(),
        path: "(response headers)".into(),
        message,
    };
    match response.parse(&output.stdout) {
        // `-o /dev/null -D -` without `-L`: one response's header block and nothing
        // after it; more is a second response or text that is not curl's.
        Ok(httparse::Status::Complete(n)) if n == output.stdout.len() => {}
        Ok(httparse::Status::Complete(n)) => {
            return Err(parse_error(format!(
                "{} byte(s) after the header block's closing blank line",
                output.stdout.len() - n
            )));
        }
        Ok(httparse::Status::Partial) => {
            return Err(parse_error(
                "the header dump ends before the blank line that closes it".into(),
            ));
        }
        Err(e) => return Err(parse_error(e.to_string())),
    }
    // A field that is not a list (RFC 9110 5.3) given twice, or one cookie set twice:
    // which one a reader takes is arbitrary (two `Location`s once passed P03-HORIZON).
    const LISTS: &[&str] = &[
        "set-cookie",
        "vary",
        "cache-control",
        "via",
        "link",
        "warning",
        "www-authenticate",
    ];
    let mut seen: Vec<String> = Vec::new();
    for h in response.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        let key = if name == "set-cookie" {
            let value = String::from_utf8_lossy(h.value);
            // RFC 6265 4.1: name=value. Without the `=` the header is no cookie, and its
            // text (a value) is never quoted.
            let Some((cookie, _)) = value.split_once('=') else {
                return Err(parse_error("a Set-Cookie without name=value".into()));
            };
            format!("set-cookie {}", cookie.trim())
        } else if LISTS.contains(&name.as_str()) {
            continue;
        } else {
            name
        };
        if seen.contains(&key) {
            return Err(parse_error(format!("the header field `{key}` twice")));
        }
        seen.push(key);
    }
    let code = response
        .code
        .ok_or_else(|| parse_error("no status code".into()))?;
    Ok(HttpProbe::Response(HttpResponse {
        code,
        reason: response.reason.unwrap_or("").to_string(),
        headers: response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {

    use super::*;

    fn output(exit: i32, stdout: &str, stderr: &str) -> CommandOutput {
        crate::sources::test_invocation_output(
            get_invocation("http://10.12.4.7:81/horizon/"),
            exit,
            stdout,
            stderr,
        )
    }

    #[test]
    fn a_redirect_and_its_cookie_attributes() {
        let dump = "HTTP/1.1 302 Found\r\nServer: nginx\r\nLocation: /horizon/auth/login/?next=/horizon/\r\nSet-Cookie: sessionid=x; Path=/\r\nSet-Cookie: csrftoken=abc; expires=Sat, 26 Jun 2027 18:02:11 GMT; Max-Age=31449600; Path=/; SameSite=Lax; Secure\r\n\r\n";
        let HttpProbe::Response(r) = parse_get(&output(0, dump, "")).unwrap() else {
            panic!("expected a response");
        };
        assert_eq!(r.status_line(), "302 Found");
        assert_eq!(
            r.header("location"),
            Some("/horizon/auth/login/?next=/horizon/")
        );
        let csrf = r.cookie("csrftoken").unwrap();
        assert_eq!(csrf.secure(), Some(true));
        assert_eq!(r.cookie("sessionid").unwrap().secure(), None);
    }

    #[test]
    fn refused_is_an_answer_other_failures_are_errors() {
        let refused = output(
            7,
            "",
            "curl: (7) Failed to connect to 10.12.4.7 port 81 after 0 ms: Connection refused\n",
        );
        assert!(matches!(
            parse_get(&refused),
            Ok(HttpProbe::NoConnection { .. })
        ));
        let timeout = output(
            28,
            "",
            "curl: (28) Connection timed out after 10001 milliseconds\n",
        );
        assert!(matches!(parse_get(&timeout), Err(SourceError::Exit { .. })));
    }

    #[test]
    fn a_truncated_dump_is_a_parse_error() {
        let err = parse_get(&output(0, "HTTP/1.1 302 Found\r\nLocation: /x\r\n", ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("blank line"), "{err}");
    }
}
