//! Re-embeds the fixture worlds when any file under `fixtures/` changes: `include_dir!`
//! alone does not see a new world directory.

fn main() {
    println!("cargo:rerun-if-changed=fixtures");
    println!("cargo:rerun-if-changed=profiles");
}
