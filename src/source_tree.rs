//! For tests that check the source against a catalogue (every field a refusal names has a
//! label, every audited action a name): the text of every file under `src/`.

use std::path::PathBuf;

pub fn files() -> Vec<(PathBuf, String)> {
    let mut dirs = vec![PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    let mut out = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("the source tree") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let text = std::fs::read_to_string(&path).expect("a source file");
                out.push((path, text));
            }
        }
    }
    out
}
