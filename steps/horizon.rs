//! P03-HORIZON steps: a Horizon stand-in (CPython's http.server, writing its cookie with
//! the same `http.cookies` Morsel that Django uses) and a real proxy in front of it
//! (haproxy in http mode standing for the nginx :81 vhost), both on loopback.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use cucumber::given;

use crate::GateWorld;
use crate::loopback::{Program, STARTUP, closed_port, wait_for_port};

/// The stand-in: `/horizon/` redirects to the login page (or answers 200), the login
/// page sets csrftoken (with or without Secure). It binds port 0 and prints the port.
const STAND_IN: &str = r#"import email.utils, http.cookies, http.server, sys, time
mode = sys.argv[1]

class Horizon(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, headers, body=b""):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/horizon/" and mode != "200":
            self.answer(302, [("Location", "/horizon/auth/login/?next=/horizon/"), ("Vary", "Cookie")])
        elif self.path == "/horizon/":
            self.answer(200, [("Content-Type", "text/html")], b"<html>not horizon</html>")
        elif self.path == "/horizon/auth/login/":
            jar = http.cookies.SimpleCookie()
            jar["csrftoken"] = "a" * 64
            morsel = jar["csrftoken"]
            morsel["expires"] = email.utils.formatdate(time.time() + 31449600, usegmt=True)
            morsel["max-age"] = 31449600
            morsel["path"] = "/"
            morsel["samesite"] = "Lax"
            if mode == "secure":
                morsel["secure"] = True
            self.answer(200, [("Content-Type", "text/html; charset=utf-8"), ("Set-Cookie", morsel.OutputString())], b"<form></form>")
        else:
            self.answer(404, [("Content-Type", "text/plain")], b"not found")

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Horizon)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

fn loopback(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
}

#[given(expr = "a Horizon stand-in on loopback that {word}")]
async fn horizon_stand_in(w: &mut GateWorld, mode: String) -> Result<(), String> {
    let mode = match mode.as_str() {
        // redirects, and sets csrftoken without Secure
        "redirects" => "redirect",
        "sets-a-secure-cookie" => "secure",
        "answers-200" => "200",
        other => return Err(format!("unknown stand-in mode {other:?}")),
    };
    let dir = w.loopback.dir()?;
    let script = dir.join("horizon_stand_in.py");
    std::fs::write(&script, STAND_IN).map_err(|e| e.to_string())?;
    let log = dir.join("horizon.log");
    let script_arg = script.display().to_string();
    let mut program = Program::start(
        "the Horizon stand-in",
        &["python3", "-u", &script_arg, mode],
        &dir,
        &log,
    )?;
    // The first line of its output is the port it bound.
    let started = Instant::now();
    let port = loop {
        let first = std::fs::File::open(&log)
            .ok()
            .and_then(|f| BufReader::new(f).lines().next())
            .and_then(Result::ok)
            .and_then(|l| l.trim().parse::<u16>().ok());
        if let Some(port) = first {
            break port;
        }
        program.check_running()?;
        if started.elapsed() > STARTUP {
            return Err(format!(
                "the Horizon stand-in printed no port within {STARTUP:?}:\n{}",
                program.log_text()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    wait_for_port(&mut program, port).await?;
    w.loopback.keep(program);
    w.loopback.dashboard = Some(loopback(port));
    Ok(())
}

/// A proxy (haproxy, http mode) on a free loopback port forwarding to `upstream`.
async fn start_proxy(w: &mut GateWorld, upstream: SocketAddrV4) -> Result<(), String> {
    let dir = w.loopback.dir()?;
    let mut last = String::new();
    // A freed port can be taken again before haproxy binds it: try a few.
    for attempt in 0..3 {
        let port = closed_port()?;
        let cfg = format!(
            "global\n    maxconn 256\n\ndefaults\n    mode http\n    timeout connect 1000\n    timeout client 5000\n    timeout server 5000\n\n\
             frontend horizon_proxy\n    bind 127.0.0.1:{port}\n    default_backend dashboard_vip\n\n\
             backend dashboard_vip\n    server vip {upstream}\n"
        );
        let cfg_path = dir.join(format!("proxy-{attempt}.cfg"));
        std::fs::write(&cfg_path, cfg).map_err(|e| e.to_string())?;
        let cfg_arg = cfg_path.display().to_string();
        let mut program = Program::start(
            "the proxy",
            &["haproxy", "-db", "-f", &cfg_arg],
            &dir,
            &dir.join(format!("proxy-{attempt}.log")),
        )?;
        match wait_for_port(&mut program, port).await {
            Ok(()) => {
                w.loopback.keep(program);
                w.loopback.proxy = Some(loopback(port));
                return Ok(());
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[given("a proxy on loopback forwarding to the stand-in")]
async fn proxy_to_stand_in(w: &mut GateWorld) -> Result<(), String> {
    let upstream = w
        .loopback
        .dashboard
        .ok_or("no Horizon stand-in: start it before its proxy")?;
    start_proxy(w, upstream).await
}

#[given("a proxy on loopback forwarding to a closed port")]
async fn proxy_to_closed_port(w: &mut GateWorld) -> Result<(), String> {
    let upstream = loopback(closed_port()?);
    start_proxy(w, upstream).await
}

#[given("nothing listening on the proxy's loopback port")]
fn no_proxy(w: &mut GateWorld) -> Result<(), String> {
    w.loopback.proxy = Some(loopback(closed_port()?));
    Ok(())
}
