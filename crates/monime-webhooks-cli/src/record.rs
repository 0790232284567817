//! Deliveries kept on disk: `listen --record DIR` writes one file per delivery, and `replay`
//! reads them back. A file holds the raw body (text when it is UTF-8, else base64), the
//! request's headers, the receive time and the verdict, as JSON.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::cli::Failure;

/// One recorded delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// When `listen` received it (RFC 3339).
    pub received_at: String,
    /// The request path.
    pub path: String,
    /// The request headers, in order; values that are not visible ASCII are left out.
    pub headers: Vec<(String, String)>,
    /// The body exactly as received.
    pub body: Vec<u8>,
    /// Whether its signature verified, and why not.
    pub valid: bool,
    pub reason: Option<String>,
}

impl Recording {
    fn to_json(&self) -> Value {
        let mut file = json!({
            "receivedAt": self.received_at,
            "path": self.path,
            "headers": self.headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "verdict": { "valid": self.valid, "reason": self.reason },
        });
        match std::str::from_utf8(&self.body) {
            Ok(text) => file["body"] = Value::String(text.to_owned()),
            Err(_) => file["bodyBase64"] = Value::String(STANDARD.encode(&self.body)),
        }
        file
    }

    fn from_json(file: &Value) -> Option<Recording> {
        let body = match (file.get("body"), file.get("bodyBase64")) {
            (Some(Value::String(text)), _) => text.as_bytes().to_vec(),
            (_, Some(Value::String(encoded))) => STANDARD.decode(encoded).ok()?,
            _ => return None,
        };
        let headers = file["headers"]
            .as_array()?
            .iter()
            .map(|pair| Some((pair[0].as_str()?.to_owned(), pair[1].as_str()?.to_owned())))
            .collect::<Option<Vec<_>>>()?;
        Some(Recording {
            received_at: file["receivedAt"].as_str()?.to_owned(),
            path: file["path"].as_str().unwrap_or("/").to_owned(),
            headers,
            body,
            valid: file["verdict"]["valid"].as_bool().unwrap_or(false),
            reason: file["verdict"]["reason"].as_str().map(str::to_owned),
        })
    }
}

/// The most recordings one folder takes (at most 1 MiB each).
const MAX_RECORDINGS: u64 = 10_000;

/// Writes recordings into a folder, numbered in arrival order.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
    next: AtomicU64,
}

impl Recorder {
    /// Creates `dir` if needed; numbering goes on after the recordings already there.
    pub fn create(dir: &Path) -> Result<Recorder, Failure> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::Usage(format!("cannot create {}: {e}", dir.display())))?;
        let last = std::fs::read_dir(dir)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", dir.display())))?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name();
                name.to_str()?.split('-').next()?.parse::<u64>().ok()
            })
            .max()
            .unwrap_or(0);
        Ok(Recorder {
            dir: dir.to_owned(),
            next: AtomicU64::new(last + 1),
        })
    }

    /// Writes one recording as `<number>-<event id>.json`, readable by its owner only (its
    /// headers may carry the receiver's credentials). The event id comes from an unverified
    /// body, so only letters, digits, `-` and `_` of it reach the file name.
    pub fn write(&self, recording: &Recording, event_id: Option<&str>) -> std::io::Result<PathBuf> {
        let number = self.next.fetch_add(1, Ordering::SeqCst);
        // A flood of deliveries must not fill the disk.
        if number > MAX_RECORDINGS {
            return Err(std::io::Error::other(format!(
                "{MAX_RECORDINGS} recordings in one folder: not recording more"
            )));
        }
        let id: String = event_id
            .unwrap_or("unknown")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            .take(64)
            .collect();
        let path = self.dir.join(format!("{number:08}-{id}.json"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        let text = serde_json::to_string_pretty(&recording.to_json()).unwrap_or_default();
        file.write_all(text.as_bytes())?;
        Ok(path)
    }
}

/// The recordings in `dir`, in file-name order (arrival order for `listen --record`).
pub fn read_all(dir: &Path) -> Result<Vec<(PathBuf, Recording)>, Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    let mut recordings = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read(&path)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
        let recording = serde_json::from_slice(&text)
            .ok()
            .as_ref()
            .and_then(Recording::from_json)
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "{} is not a recording of `listen --record`",
                    path.display()
                ))
            })?;
        recordings.push((path, recording));
    }
    if recordings.is_empty() {
        return Err(Failure::Usage(format!(
            "{} holds no recordings",
            dir.display()
        )));
    }
    Ok(recordings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_reads_back_byte_for_byte_and_names_stay_in_the_folder() {
        let dir = std::env::temp_dir().join(format!("monime-record-{}", std::process::id()));
        let recorder = Recorder::create(&dir).unwrap();
        let text = Recording {
            received_at: "2026-12-06T10:00:00.000Z".into(),
            path: "/hooks".into(),
            headers: vec![("monime-signature".into(), "t=1,v1=AAAA".into())],
            body: br#"{"a":"\u00e9"}"#.to_vec(),
            valid: false,
            reason: Some("signature mismatch".into()),
        };
        let binary = Recording {
            body: vec![0xff, 0x00, 0x7b],
            ..text.clone()
        };
        recorder.write(&text, Some("../../etc/passwd")).unwrap();
        recorder.write(&binary, None).unwrap();
        let read = read_all(&dir).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].0.file_name().unwrap(), "00000001-etcpasswd.json");
        // A second session in the same folder goes on after the first.
        let again = Recorder::create(&dir).unwrap();
        let third = again.write(&text, Some("wkd-3")).unwrap();
        assert_eq!(third.file_name().unwrap(), "00000003-wkd-3.json");
        assert_eq!(read[0].1, text);
        assert_eq!(read[1].1, binary);
        assert_eq!(read_all(&dir).unwrap().len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
