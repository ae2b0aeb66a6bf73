//! The amphora pipeline's download on the simulator: the base image and its
//! SHA256SUMS come from a loopback server (127.0.0.1 only, stopped when the scenario
//! ends) that logs every request, so a scenario proves what was and was not fetched;
//! and the commands the simulated cloud answered, by their first words.

use cucumber::{given, then};
use stackgate::sim::images::loopback_profile;

use crate::GateWorld;

fn serve(w: &mut GateWorld, wrong_digest: bool) -> Result<(), String> {
    let profile = w
        .profile
        .as_ref()
        .ok_or("no site profile: a `Given the simulated cloud` step must come first")?;
    let (profile, server, dir) = loopback_profile(profile, wrong_digest)?;
    w.profile = Some(profile);
    w.acting.images = Some((server, dir));
    Ok(())
}

#[given("the amphora base image is published on a loopback server")]
fn published(w: &mut GateWorld) -> Result<(), String> {
    serve(w, false)
}

#[given("the amphora base image is published on a loopback server with a wrong digest")]
fn published_wrong(w: &mut GateWorld) -> Result<(), String> {
    serve(w, true)
}

fn requests(w: &GateWorld) -> Result<Vec<String>, String> {
    let (server, _) = w
        .acting
        .images
        .as_ref()
        .ok_or("no loopback image server: a `Given the amphora base image is published` step must come first")?;
    Ok(server.requests())
}

#[then("the loopback server served the SHA256SUMS and the base image")]
fn served(w: &mut GateWorld) -> Result<(), String> {
    let seen = requests(w)?;
    let sums = seen.iter().any(|p| p.ends_with("/SHA256SUMS"));
    let image = seen.iter().any(|p| p.ends_with(".img"));
    if sums && image {
        Ok(())
    } else {
        Err(format!("the server saw only {seen:?}"))
    }
}

#[then("no request reached the loopback server")]
fn nothing_served(w: &mut GateWorld) -> Result<(), String> {
    match requests(w)?.as_slice() {
        [] => Ok(()),
        seen => Err(format!("the server was asked for {seen:?}")),
    }
}

#[then("the download directory holds nothing")]
fn directory_empty(w: &mut GateWorld) -> Result<(), String> {
    let (_, dir) = w.acting.images.as_ref().ok_or("no download directory")?;
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if left.is_empty() {
        Ok(())
    } else {
        Err(format!("left behind: {left:?}"))
    }
}

/// How many commands the simulated cloud answered that start with these words.
fn count(w: &GateWorld, words: &str) -> Result<usize, String> {
    let sim = w.acting.sim.as_ref().ok_or("no simulated cloud")?;
    let want: Vec<&str> = words.split_whitespace().collect();
    Ok(sim
        .history()
        .iter()
        .filter(|argv| argv.len() >= want.len() && argv.iter().zip(&want).all(|(a, b)| a == b))
        .count())
}

#[then(expr = "the simulated cloud answered no {string}")]
fn ran_none(w: &mut GateWorld, words: String) -> Result<(), String> {
    match count(w, &words)? {
        0 => Ok(()),
        n => Err(format!("`{words}` ran {n} time(s)")),
    }
}

#[then(expr = "the simulated cloud answered {string} once")]
fn ran_once(w: &mut GateWorld, words: String) -> Result<(), String> {
    match count(w, &words)? {
        1 => Ok(()),
        n => Err(format!("`{words}` ran {n} time(s), not once")),
    }
}
